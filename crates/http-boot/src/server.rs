//! The tokio/hyper side: listeners, the connection limit, and one request's
//! trip through the remap rules and the [`FileSource`].
//!
//! The decision is made by [`crate::decision`] (no I/O); the source is
//! called on the blocking pool (a cache fill reads the whole file).

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tftp::remap::{Direction, Remap};
use tftp::source::{FileSource, RequestContext};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

use crate::body::{Access, FileBody};
use crate::content_type;
use crate::decision::{decide, Refusal, RequestHead, Wanted};
use crate::timeouts::{InFlight, Timed};

/// Limits and rules of the HTTP server.
#[derive(Clone)]
pub struct HttpConfig {
    /// Connections served at once over all listeners; more wait in the
    /// kernel's accept backlog.
    pub max_connections: usize,
    /// Time for a complete request header, counted from when the server is
    /// ready for it (connection accepted, or the previous reply sent).
    pub header_timeout: Duration,
    /// A connection on which no byte moves for this long while the server
    /// waits for a request is closed (keep-alive idle).
    pub idle_timeout: Duration,
    /// A reply the client does not read from for this long is abandoned.
    pub send_timeout: Duration,
    /// File-name remapping (`-m`), applied as for a TFTP read request.
    pub remap: Option<Arc<dyn Remap>>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_connections: 256,
            header_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(15),
            send_timeout: Duration::from_secs(30),
            remap: None,
        }
    }
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("max_connections", &self.max_connections)
            .field("header_timeout", &self.header_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("send_timeout", &self.send_timeout)
            .field("remap", &self.remap.is_some())
            .finish()
    }
}

/// Bound listening sockets, not yet serving: bind before dropping
/// privileges (port 80), serve once the file source exists.
#[derive(Debug)]
pub struct Listeners {
    sockets: Vec<TcpListener>,
}

impl Listeners {
    /// Binds every address (on the current tokio runtime).
    pub async fn bind(addrs: &[SocketAddr]) -> io::Result<Self> {
        let mut sockets = Vec::with_capacity(addrs.len());
        for addr in addrs {
            let sock = TcpListener::bind(addr)
                .await
                .map_err(|e| io::Error::new(e.kind(), format!("cannot bind http {addr}: {e}")))?;
            sockets.push(sock);
        }
        Ok(Self { sockets })
    }

    /// The bound addresses (with the real port where 0 was asked for).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.sockets
            .iter()
            .filter_map(|s| s.local_addr().ok())
            .collect()
    }

    /// Serves `source` on every listener, on tasks of the current tokio
    /// runtime, until the runtime stops.
    pub fn serve(self, source: Arc<dyn FileSource>, config: HttpConfig) {
        let shared = Arc::new(Shared {
            source,
            slots: Arc::new(Semaphore::new(config.max_connections.max(1))),
            config,
        });
        for sock in self.sockets {
            if let Ok(addr) = sock.local_addr() {
                info!(%addr, "serving http");
            }
            tokio::spawn(accept_loop(sock, shared.clone()));
        }
    }
}

struct Shared {
    source: Arc<dyn FileSource>,
    slots: Arc<Semaphore>,
    config: HttpConfig,
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok(permit) = shared.slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // EMFILE and the like: wait a moment instead of spinning.
                warn!(error = %e, "http: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            connection(stream, peer, shared).await;
            drop(permit);
        });
    }
}

async fn connection(stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let local = stream.local_addr().ok();
    let c = &shared.config;
    let busy = Arc::new(AtomicUsize::new(0));
    let io = Timed::new(stream, busy.clone(), c.idle_timeout, c.send_timeout);
    let service_state = shared.clone();
    let service = hyper::service::service_fn(move |req| {
        let shared = service_state.clone();
        let in_flight = InFlight::new(&busy);
        async move { Ok::<_, Infallible>(answer(req, peer, local, &shared, in_flight).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(c.header_timeout)
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service);
    if let Err(e) = conn.await {
        debug!(%peer, error = %e, "http connection ended");
    }
}

/// One request: decide, remap, open, reply.
async fn answer(
    req: Request<Incoming>,
    peer: SocketAddr,
    local: Option<SocketAddr>,
    shared: &Shared,
    in_flight: InFlight,
) -> Response<FileBody> {
    let started = Instant::now();
    let headers = req.headers();
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let head = RequestHead {
        method: req.method(),
        target,
        range: headers.get(header::RANGE).map(HeaderValue::as_bytes),
        if_range: headers.contains_key(header::IF_RANGE),
    };
    let mut access = Access {
        peer,
        kind: req.method().to_string(),
        file: target.as_bytes().to_vec(),
        requested: None,
        status: 0,
        range: None,
        reason: None,
        started,
        _in_flight: in_flight,
    };
    let wanted = match decide(head) {
        Ok(w) => w,
        Err(refusal) => return refused(&refusal, access, head.method == hyper::Method::HEAD),
    };
    access.file.clone_from(&wanted.name);
    let name = match &shared.config.remap {
        Some(rules) => match rules.remap(&wanted.name, peer.ip(), Direction::Read) {
            Ok(name) => name,
            Err(r) => return refused(&Refusal::Forbidden(r.message), access, wanted.head),
        },
        None => wanted.name.clone(),
    };
    if name != wanted.name {
        access.requested = Some(std::mem::replace(&mut access.file, name.clone()));
    }
    let source = shared.source.clone();
    let ctx = RequestContext {
        peer,
        local: local.map(|l| l.ip()),
        size_hint: None,
    };
    let opened = tokio::task::spawn_blocking(move || source.open_read(&name, &ctx)).await;
    match opened {
        Ok(Ok(data)) => reply(data, &wanted, access),
        Ok(Err(err)) => refused(&Refusal::from_source(&err), access, wanted.head),
        Err(join) => refused(&Refusal::Internal(join.to_string()), access, wanted.head),
    }
}

fn reply(data: tftp::source::FileData, wanted: &Wanted, mut access: Access) -> Response<FileBody> {
    let plan = wanted.reply(data.len());
    access.status = plan.status.as_u16();
    access.range.clone_from(&plan.content_range);
    if plan.status == StatusCode::RANGE_NOT_SATISFIABLE {
        access.reason = Some("range not satisfiable".to_owned());
    }
    let content_type = match plan.status {
        StatusCode::RANGE_NOT_SATISFIABLE => content_type::DEFAULT,
        _ => content_type::for_name(&access.file),
    };
    let content_range = plan
        .content_range
        .as_deref()
        .and_then(|r| HeaderValue::from_str(r).ok());
    let body = match wanted.head || plan.status == StatusCode::RANGE_NOT_SATISFIABLE {
        true => FileBody::fixed(Bytes::new(), access),
        false => FileBody::file(data, plan.start, plan.end, access),
    };
    let mut resp = response(plan.status, body, plan.content_length(), content_type);
    let h = resp.headers_mut();
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(range) = content_range {
        h.insert(header::CONTENT_RANGE, range);
    }
    resp
}

/// A refusal: status, a one-line text body (none for `HEAD`, but its length
/// in `Content-Length`), `Allow` for 405.
fn refused(refusal: &Refusal, mut access: Access, head: bool) -> Response<FileBody> {
    let status = refusal.status();
    access.status = status.as_u16();
    access.reason = Some(refusal.to_string());
    let text = format!(
        "{} {}\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    let length = text.len() as u64;
    let body = match head {
        true => Bytes::new(),
        false => Bytes::from(text),
    };
    let body = FileBody::fixed(body, access);
    let mut resp = response(status, body, length, "text/plain; charset=utf-8");
    if status == StatusCode::METHOD_NOT_ALLOWED {
        let h = resp.headers_mut();
        h.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    resp
}

/// A reply with its status, `Content-Length` (the body's length, or for
/// `HEAD` the length a `GET` would get) and `Content-Type`.
fn response(
    status: StatusCode,
    body: FileBody,
    length: u64,
    content_type: &'static str,
) -> Response<FileBody> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}
