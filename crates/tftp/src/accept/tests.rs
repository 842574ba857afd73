use std::sync::Mutex;

use bytes::Bytes;

use super::*;
use crate::remap::{RemapRules, SharedRules};
use crate::source::{FileData, MemorySource, WriteSink};

const PEER: &str = "192.0.2.7:4000";

/// One call to the source: direction, name, size hint.
type Call = (Direction, Vec<u8>, Option<u64>);

/// A source that records what it was asked and serves `ok.txt`.
#[derive(Debug, Default)]
struct Recorder {
    calls: Mutex<Vec<Call>>,
}

#[derive(Debug)]
struct NullSink;

impl WriteSink for NullSink {
    fn write(&mut self, _: &[u8]) -> std::io::Result<()> {
        Ok(())
    }
    fn finish(self: Box<Self>) -> std::io::Result<()> {
        Ok(())
    }
}

impl FileSource for Recorder {
    fn open_read(&self, path: &[u8], ctx: &RequestContext) -> Result<FileData, SourceError> {
        self.calls
            .lock()
            .unwrap()
            .push((Direction::Read, path.to_vec(), ctx.size_hint));
        match path {
            b"ok.txt" | b"ok.txt/" | b"ok.txt//" | b"ok.txt/." | b"ok.txt/./" => {
                Ok(Bytes::from_static(b"hello\n").into())
            }
            b"dir" | b"dir/" => Err(SourceError::Io(std::io::Error::from_raw_os_error(
                libc::EISDIR,
            ))),
            b"secret" => Err(SourceError::AccessViolation("nope".into())),
            _ => Err(SourceError::NotFound),
        }
    }

    fn open_write(
        &self,
        path: &[u8],
        ctx: &RequestContext,
    ) -> Result<Box<dyn WriteSink>, SourceError> {
        self.calls
            .lock()
            .unwrap()
            .push((Direction::Write, path.to_vec(), ctx.size_hint));
        match path {
            b"full" => Err(SourceError::DiskFull),
            _ => Ok(Box::new(NullSink)),
        }
    }
}

fn rrq(name: &[u8], mode: &str, opts: &[(&str, &str)]) -> Vec<u8> {
    request(1, name, mode, opts)
}

fn request(op: u8, name: &[u8], mode: &str, opts: &[(&str, &str)]) -> Vec<u8> {
    let mut p = vec![0, op];
    p.extend_from_slice(name);
    p.push(0);
    p.extend_from_slice(mode.as_bytes());
    p.push(0);
    for (k, v) in opts {
        p.extend_from_slice(k.as_bytes());
        p.push(0);
        p.extend_from_slice(v.as_bytes());
        p.push(0);
    }
    p
}

fn run(
    datagram: &[u8],
    config: &AcceptConfig,
    source: &dyn FileSource,
) -> Result<Accepted, Ignored> {
    accept(
        datagram,
        PEER.parse().unwrap(),
        None,
        Instant::now(),
        config,
        source,
    )
}

/// The code of the refusal, checked against the ERROR the transfer sends.
fn code_of(a: &mut Accepted) -> Option<u16> {
    let mut buf = [0u8; 600];
    let tx = a.transfer.poll_transmit(Instant::now(), &mut buf).unwrap();
    assert_eq!(tx.destination, PEER.parse().unwrap());
    let sent = match Packet::parse(&buf[..tx.len]).unwrap() {
        Packet::Error { code, .. } => Some(code.to_u16()),
        _ => None,
    };
    assert_eq!(sent, a.refusal.as_ref().map(|r| r.code.to_u16()));
    sent
}

#[test]
fn datagrams_that_are_not_requests_are_never_answered() {
    let src = Recorder::default();
    let cfg = AcceptConfig::default();
    for d in [
        &b""[..],
        b"\x00",
        b"\x00\x05\x00\x00Server busy\x00",
        b"\x00\x04\x00\x01",
        b"\x00\x03\x00\x01data",
        b"\x00\x06blksize\x00512\x00",
        b"\x00\x09xx",
        b"\x01\x01ok.txt\x00octet\x00",
    ] {
        assert!(run(d, &cfg, &src).is_err(), "{d:?}");
    }
    assert_eq!(
        run(b"\x00\x05\x00\x00", &cfg, &src).unwrap_err().opcode,
        Some(5)
    );
    assert!(src.calls.lock().unwrap().is_empty());
}

#[test]
fn malformed_requests_get_error_4_as_in_tftpd() {
    let src = Recorder::default();
    let cfg = AcceptConfig::default();
    for (d, msg) in [
        (&b"\x00\x01ok.txt\x00"[..], "Missing mode"),
        (b"\x00\x01ok.txt", "Missing mode"),
        (b"\x00\x01ok.txt\x00\x00", "Missing mode"),
        (b"\x00\x01ok.txt\x00binary\x00", "Unknown mode"),
        (b"\x00\x02ok.txt\x00binary\x00", "Unknown mode"),
        (b"\x00\x01ok.txt\x00octet", "Request not null-terminated"),
        (
            b"\x00\x01ok.txt\x00octet\x00blksize\x00512",
            "Request not null-terminated",
        ),
        (b"\x00\x01ok.txt\x00mail\x00", "Unknown mode"),
        (b"\x00\x01\x00octet\x00", "Illegal operation"),
    ] {
        let mut a = run(d, &cfg, &src).unwrap();
        assert_eq!(code_of(&mut a), Some(4), "{d:?}");
        let r = a.refusal.unwrap();
        assert_eq!((r.message.as_str(), r.malformed), (msg, true), "{d:?}");
    }
    assert!(src.calls.lock().unwrap().is_empty());
}

#[test]
fn option_values_tftp_hpa_refuses_get_error_8() {
    let src = Recorder::default();
    let cfg = AcceptConfig::default();
    let mut a = run(&rrq(b"ok.txt", "octet", &[("blksize", "0")]), &cfg, &src).unwrap();
    assert_eq!(code_of(&mut a), Some(8));
    let mut a = run(&rrq(b"ok.txt", "octet", &[("blksize", "8")]), &cfg, &src).unwrap();
    assert_eq!(code_of(&mut a), None);
}

#[test]
fn names_with_control_characters_or_a_trailing_slash_are_not_found() {
    let src = Recorder::default();
    let cfg = AcceptConfig::default();
    for name in [
        &b"ok\x01.txt"[..],
        b"ok.txt\nfoo",
        b"ok\t.txt",
        b"ok\x7f.txt",
    ] {
        let mut a = run(&rrq(name, "octet", &[]), &cfg, &src).unwrap();
        assert_eq!(code_of(&mut a), Some(1), "{name:?}");
        assert_eq!(a.filename, name);
    }
    assert!(
        src.calls.lock().unwrap().is_empty(),
        "source asked for a name with a control character"
    );
    for name in [&b"ok.txt/"[..], b"ok.txt//", b"ok.txt/.", b"ok.txt/./"] {
        let mut a = run(&rrq(name, "octet", &[]), &cfg, &src).unwrap();
        assert_eq!(code_of(&mut a), Some(1), "{name:?}");
    }
    // A directory keeps the source's answer (EISDIR: code 0), as in.tftpd.
    let mut a = run(&rrq(b"dir/", "octet", &[]), &cfg, &src).unwrap();
    assert_eq!(code_of(&mut a), Some(0));
    // A WRQ to `name/` never opens a sink.
    src.calls.lock().unwrap().clear();
    let mut a = run(&request(2, b"new/", "octet", &[]), &cfg, &src).unwrap();
    assert_eq!(code_of(&mut a), Some(1));
    assert!(src.calls.lock().unwrap().is_empty());
}

#[test]
fn source_errors_become_tftp_codes() {
    let src = Recorder::default();
    let cfg = AcceptConfig::default();
    for (name, code) in [(&b"missing"[..], 1), (b"secret", 2), (b"dir", 0)] {
        let mut a = run(&rrq(name, "octet", &[]), &cfg, &src).unwrap();
        assert_eq!(code_of(&mut a), Some(code), "{name:?}");
        assert!(!a.refusal.unwrap().malformed);
    }
    let mut a = run(&request(2, b"full", "octet", &[]), &cfg, &src).unwrap();
    assert_eq!(code_of(&mut a), Some(3));
}

#[test]
fn reads_start_and_writes_get_the_tsize_hint() {
    let src = Recorder::default();
    let cfg = AcceptConfig::default();
    let mut a = run(&rrq(b"ok.txt", "netascii", &[("tsize", "0")]), &cfg, &src).unwrap();
    assert!(a.refusal.is_none());
    assert_eq!(a.direction, Direction::Read);
    let mut buf = [0u8; 600];
    let tx = a.transfer.poll_transmit(Instant::now(), &mut buf).unwrap();
    // netascii: "hello\n" is 7 bytes on the wire.
    assert_eq!(
        Packet::parse(&buf[..tx.len]).unwrap(),
        Packet::parse(b"\x00\x06tsize\x007\x00").unwrap()
    );
    let a = run(
        &request(2, b"up.bin", "octet", &[("tsize", "1234")]),
        &cfg,
        &src,
    )
    .unwrap();
    assert!(a.refusal.is_none());
    let calls = src.calls.lock().unwrap();
    assert_eq!(
        calls.last().unwrap(),
        &(Direction::Write, b"up.bin".to_vec(), Some(1234))
    );
}

#[test]
fn writes_can_be_refused_outright() {
    let src = Recorder::default();
    let cfg = AcceptConfig {
        allow_write: false,
        ..AcceptConfig::default()
    };
    let mut a = run(&request(2, b"up.bin", "octet", &[]), &cfg, &src).unwrap();
    assert_eq!(code_of(&mut a), Some(2));
    assert!(src.calls.lock().unwrap().is_empty());
}

#[test]
fn remap_rules_run_before_the_source_and_the_name_checks() {
    let rules = RemapRules::parse(
        b"rg \\\\ /\nr ^/?boot/(.*) \\1\na ^/?private no\\ private\nr ^/?nl$ a\\nb\n",
    )
    .unwrap();
    let cfg = AcceptConfig {
        remap: Some(Arc::new(SharedRules::new(rules))),
        ..AcceptConfig::default()
    };
    let src = MemorySource::new().with("dir/ok.txt", Bytes::from_static(b"x"));
    let a = run(&rrq(b"boot\\dir\\ok.txt", "octet", &[]), &cfg, &src).unwrap();
    assert!(a.refusal.is_none());
    assert_eq!(a.remapped.as_deref(), Some(&b"dir/ok.txt"[..]));
    assert_eq!(a.served_name(), b"dir/ok.txt");
    let mut a = run(&rrq(b"private-x", "octet", &[]), &cfg, &src).unwrap();
    assert_eq!(code_of(&mut a), Some(2));
    assert_eq!(a.refusal.unwrap().message, "no private");
    // A rule that produces a control character: the checks see the result.
    let mut a = run(&rrq(b"nl", "octet", &[]), &cfg, &src).unwrap();
    assert_eq!(code_of(&mut a), Some(1));
    // Unchanged names are not reported as remapped.
    let a = run(&rrq(b"dir/ok.txt", "octet", &[]), &cfg, &src).unwrap();
    assert_eq!(a.remapped, None);
}

#[test]
fn any_datagram_is_ignored_or_answered_without_panicking() {
    use proptest::prelude::*;
    let src = Recorder::default();
    let cfg = AcceptConfig::default();
    proptest!(|(body in proptest::collection::vec(any::<u8>(), 0..600), op in 0u8..8)| {
        let mut d = vec![0, op];
        d.extend_from_slice(&body);
        match run(&d, &cfg, &src) {
            Ok(mut a) => {
                prop_assert!(matches!(op, 1 | 2));
                let mut buf = [0u8; 600];
                prop_assert!(a.transfer.poll_transmit(Instant::now(), &mut buf).is_some());
            }
            Err(_) => prop_assert!(!matches!(op, 1 | 2)),
        }
    });
}
