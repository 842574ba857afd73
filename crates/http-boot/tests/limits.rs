//! The limits against a real socket: the idle timeout (before the first
//! request and between keep-alive requests), the send timeout for a client
//! that stops reading, and the connection limit. The server runs on its own
//! tokio runtime with short limits; the client is a plain blocking socket.
//! Every wait is bounded; the assertions are on what the client sees (the
//! server closed, the body was cut), not on how long it took.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use http_boot::{HttpConfig, Listeners};
use tftp::source::MemorySource;

const BIG: usize = 64 << 20;

fn server(config: HttpConfig) -> (tokio::runtime::Runtime, SocketAddr) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let source = MemorySource::new()
        .with("small", b"hello\n".to_vec())
        .with("big", vec![7u8; BIG]);
    let addr = rt.block_on(async {
        let listeners = Listeners::bind(&["127.0.0.1:0".parse().unwrap()])
            .await
            .unwrap();
        let addr = listeners.local_addrs()[0];
        listeners.serve(Arc::new(source), config);
        addr
    });
    (rt, addr)
}

fn short(idle_ms: u64, max_connections: usize) -> HttpConfig {
    HttpConfig {
        max_connections,
        // Longer than the client's read timeout: only the idle timer can
        // close a silent connection within it.
        header_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_millis(idle_ms),
        send_timeout: Duration::from_millis(300),
        remap: None,
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    conn
}

/// Reads one reply to `GET /small` (headers and its 6-byte body).
fn small_reply(conn: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.ends_with(b"hello\n") {
        let n = conn.read(&mut buf).unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(got).unwrap()
}

/// Reads until the server closes (bounded by the read timeout).
fn until_closed(conn: &mut TcpStream) -> usize {
    let mut total = 0;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return total,
            Ok(n) => total += n,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return total,
            Err(e) => panic!("the server did not close the connection: {e}"),
        }
    }
}

#[test]
fn a_silent_connection_is_closed_when_idle() {
    let (_rt, addr) = server(short(200, 8));
    let mut conn = connect(addr);
    assert_eq!(until_closed(&mut conn), 0);
}

#[test]
fn a_kept_alive_connection_is_closed_when_idle() {
    let (_rt, addr) = server(short(200, 8));
    let mut conn = connect(addr);
    conn.write_all(b"GET /small HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let reply = small_reply(&mut conn);
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    // Kept alive: a second request on the same connection is answered.
    conn.write_all(b"GET /small HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    assert!(small_reply(&mut conn).starts_with("HTTP/1.1 200 OK\r\n"));
    // Then nothing: the idle timeout closes it.
    assert_eq!(until_closed(&mut conn), 0);
}

#[test]
fn a_client_that_stops_reading_is_cut_off() {
    let (_rt, addr) = server(short(5000, 8));
    let mut conn = connect(addr);
    conn.write_all(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    // Read nothing for well past the send timeout.
    std::thread::sleep(Duration::from_secs(2));
    let got = until_closed(&mut conn);
    assert!(got < BIG, "the whole body arrived ({got} bytes)");
}

#[test]
fn connections_beyond_the_limit_wait() {
    let (_rt, addr) = server(short(10_000, 1));
    let mut first = connect(addr);
    first
        .write_all(b"GET /small HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    small_reply(&mut first);
    // The first connection is kept alive and holds the only slot.
    let mut second = connect(addr);
    second
        .write_all(b"GET /small HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    second
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 64];
    let waited = second.read(&mut buf);
    assert!(
        matches!(&waited, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "answered beyond the limit: {waited:?}"
    );
    drop(first);
    second
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert!(small_reply(&mut second).starts_with("HTTP/1.1 200 OK\r\n"));
}
