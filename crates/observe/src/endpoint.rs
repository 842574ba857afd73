//! The opt-in metrics endpoint (`--metrics ADDR`): plain HTTP/1.1, `GET
//! /metrics` answers the Prometheus text exposition, anything else 404 (or
//! 405 for another method). Small and bounded: at most
//! [`MAX_CONNECTIONS`] at once (more wait in the kernel's backlog), headers
//! within [`HEADER_TIMEOUT`], a whole connection within
//! [`CONNECTION_TIMEOUT`], no request body read.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

use crate::metrics::Metrics;

/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 16;
/// Time for a client to send its request headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// Time a connection may stay open, keep-alive included.
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// The content type of the OpenMetrics text format.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Where a daemon's metrics come from at the time of a scrape.
pub trait Source: Send + Sync + 'static {
    /// The current values.
    fn collect(&self) -> impl Future<Output = Metrics> + Send;
}

/// Binds `addr` and serves the endpoint on a task of the current tokio
/// runtime, until the runtime stops. Returns the bound address (with the
/// real port when 0 was asked for).
pub async fn serve<S: Source>(addr: SocketAddr, source: Arc<S>) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("metrics endpoint {addr}: {e}")))?;
    let local = listener.local_addr()?;
    info!(addr = %local, "serving metrics (GET /metrics)");
    tokio::spawn(accept_loop(listener, source));
    Ok(local)
}

async fn accept_loop<S: Source>(listener: TcpListener, source: Arc<S>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // EMFILE and the like: wait a moment instead of spinning.
                warn!(error = %e, "metrics endpoint: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let source = source.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let source = source.clone();
                async move { Ok::<_, Infallible>(answer(&req, &*source).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            match tokio::time::timeout(CONNECTION_TIMEOUT, conn).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => debug!(%peer, error = %e, "metrics endpoint: connection error"),
                Err(_) => debug!(%peer, "metrics endpoint: connection timed out"),
            }
            drop(permit);
        });
    }
}

async fn answer<S: Source>(req: &Request<Incoming>, source: &S) -> Response<Full<Bytes>> {
    let status = match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, "/metrics") => {
            let body = source.collect().await.prometheus();
            return Response::builder()
                .header(hyper::header::CONTENT_TYPE, CONTENT_TYPE)
                .body(Full::new(Bytes::from(body)))
                .unwrap_or_default();
        }
        (_, "/metrics") => StatusCode::METHOD_NOT_ALLOWED,
        _ => StatusCode::NOT_FOUND,
    };
    let mut resp = Response::new(Full::new(Bytes::from(format!("{status}\n"))));
    *resp.status_mut() = status;
    resp
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Counts its scrapes.
    #[derive(Debug, Default)]
    struct Scrapes(AtomicU64);

    impl Source for Scrapes {
        async fn collect(&self) -> Metrics {
            let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            let mut m = Metrics::new("test");
            m.counter("scrapes", "Scrapes so far", n);
            m
        }
    }

    async fn exchange(addr: SocketAddr, request: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn get_metrics_is_served_and_anything_else_refused() {
        let addr = serve("127.0.0.1:0".parse().unwrap(), Arc::new(Scrapes::default()))
            .await
            .unwrap();
        let close = "Connection: close\r\n\r\n";
        for n in 1..=2 {
            let r = exchange(
                addr,
                &format!("GET /metrics HTTP/1.1\r\nHost: x\r\n{close}"),
            )
            .await;
            assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
            assert!(
                r.contains("content-type: application/openmetrics-text"),
                "{r}"
            );
            assert!(r.contains(&format!("test_scrapes_total {n}\n")), "{r}");
        }
        let r = exchange(
            addr,
            &format!("POST /metrics HTTP/1.1\r\nHost: x\r\n{close}"),
        )
        .await;
        assert!(r.starts_with("HTTP/1.1 405"), "{r}");
        let r = exchange(addr, &format!("GET /other HTTP/1.1\r\nHost: x\r\n{close}")).await;
        assert!(r.starts_with("HTTP/1.1 404"), "{r}");
        // Not HTTP at all: an error answer or a closed connection, and the
        // endpoint keeps serving.
        let _ = exchange(addr, "\x16\x03\x01 garbage\r\n\r\n").await;
        let r = exchange(
            addr,
            &format!("GET /metrics HTTP/1.1\r\nHost: x\r\n{close}"),
        )
        .await;
        assert!(r.contains("test_scrapes_total 3\n"), "{r}");
    }
}
