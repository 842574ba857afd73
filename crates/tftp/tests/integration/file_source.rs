//! A `DirectoryRoot` behind a server transfer, with the file changing under
//! it: cached files are sent whole in the version the transfer started
//! with, as slices of one shared buffer; streamed files (larger than the
//! cache) that change end the transfer with an ERROR sent to the client.

use std::fs::{self, OpenOptions};
use std::net::SocketAddr;
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::Path;
use std::time::Instant;

use tftp::packet::{self, Opcode};
use tftp::source::{DirectoryConfig, DirectoryRoot, FileSource, RequestContext};
use tftp::{ErrorCode, Limits, Mode, Outcome, Packet, RetryPolicy, Transfer};

const LEN: usize = 100_000;

fn client() -> SocketAddr {
    "192.0.2.10:40000".parse().unwrap()
}

/// `<tmp>/f` of `LEN` bytes (text, so netascii grows it), served by a root
/// whose cache holds `cache_size` bytes.
fn setup(cache_size: u64) -> (tempfile::TempDir, DirectoryRoot, Vec<u8>) {
    let tmp = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..LEN).map(|i| b"abc\ndef\r"[i % 8]).collect();
    fs::write(tmp.path().join("f"), &data).unwrap();
    fs::set_permissions(tmp.path().join("f"), fs::Permissions::from_mode(0o644)).unwrap();
    let mut config = DirectoryConfig::new(tmp.path());
    config.cache_size = cache_size;
    (tmp, DirectoryRoot::new(config).unwrap(), data)
}

fn start(root: &DirectoryRoot, mode: Mode, opts: &[(&str, &str)]) -> Transfer {
    let data = root
        .open_read(b"f", &RequestContext::new(client()))
        .unwrap();
    let mut buf = [0u8; 512];
    let n = packet::encode_with_options(
        &mut buf,
        Opcode::Rrq,
        Some((b"f", mode)),
        opts.iter().copied(),
    )
    .unwrap();
    let Ok(Packet::Rrq(r)) = Packet::parse(&buf[..n]) else {
        unreachable!()
    };
    Transfer::server_read(
        Instant::now(),
        client(),
        &r,
        data,
        &Limits::default(),
        RetryPolicy::default(),
    )
}

fn ack(t: &mut Transfer, block: u16) {
    let mut b = [0u8; 4];
    Packet::Ack { block }.encode(&mut b).unwrap();
    t.handle(Instant::now(), client(), &b);
}

/// What a transfer sent.
#[derive(Debug, PartialEq)]
enum Sent {
    Data(u16, Vec<u8>),
    Error(ErrorCode, String),
    /// An OACK or an ACK.
    Control,
}

/// Everything the transfer sends now.
fn drain(t: &mut Transfer) -> Vec<Sent> {
    let mut buf = [0u8; 1024];
    let mut out = Vec::new();
    while let Some(tx) = t.poll_transmit(Instant::now(), &mut buf) {
        let mut d = buf[..tx.len].to_vec();
        d.extend_from_slice(&tx.payload);
        out.push(match Packet::parse(&d).unwrap() {
            Packet::Data { block, payload } => Sent::Data(block, payload.to_vec()),
            Packet::Error { code, message } => {
                Sent::Error(code, String::from_utf8_lossy(message).into_owned())
            }
            _ => Sent::Control,
        });
    }
    out
}

/// Runs a lockstep transfer to its end, calling `between` after block 1.
fn receive(t: &mut Transfer, between: impl FnOnce()) -> Result<Vec<u8>, (ErrorCode, String)> {
    let mut got = Vec::new();
    let mut between = Some(between);
    for _ in 0..LEN * 3 {
        let mut last = None;
        for sent in drain(t) {
            match sent {
                Sent::Data(block, payload) => {
                    got.extend_from_slice(&payload);
                    last = Some(block);
                }
                Sent::Error(code, message) => return Err((code, message)),
                Sent::Control => {}
            }
        }
        let Some(block) = last else { break };
        if let Some(f) = between.take() {
            f();
        }
        ack(t, block);
        if t.is_finished() {
            break;
        }
    }
    Ok(got)
}

fn truncate(path: &Path) {
    OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(1000)
        .unwrap();
}

fn rewrite_in_place(path: &Path) {
    OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .write_all_at(b"XYZ", 500)
        .unwrap();
}

#[test]
fn cached_data_blocks_are_slices_of_one_shared_buffer() {
    let (_tmp, root, _) = setup(1 << 20);
    let ctx = RequestContext::new(client());
    let first = root.open_read(b"f", &ctx).unwrap();
    let shared = first.shared().unwrap().clone();
    let mut t = start(&root, Mode::Octet, &[]);
    let mut buf = [0u8; 1024];
    for block in 1..=3u16 {
        let tx = t.poll_transmit(Instant::now(), &mut buf).unwrap();
        assert_eq!(tx.len, 4, "a DATA transmit is the header plus a slice");
        let offset = (usize::from(block) - 1) * 512;
        assert_eq!(
            tx.payload.as_ptr(),
            shared[offset..].as_ptr(),
            "block {block} was copied"
        );
        ack(&mut t, block);
    }
}

#[test]
fn a_cached_file_that_changes_is_sent_whole_in_the_version_it_had() {
    for (mode, change) in [
        (Mode::Octet, truncate as fn(&Path)),
        (Mode::Netascii, truncate),
        (Mode::Octet, rewrite_in_place),
        (Mode::Netascii, rewrite_in_place),
    ] {
        let (tmp, root, data) = setup(1 << 20);
        let mut t = start(&root, mode, &[]);
        let got = receive(&mut t, || change(&tmp.path().join("f"))).unwrap();
        let want = match mode {
            Mode::Netascii => tftp::netascii::encode(&data).to_vec(),
            _ => data,
        };
        assert!(got == want, "{mode:?}: not the old version");
        assert_eq!(t.outcome(), Some(&Outcome::Complete));
        // The next request reads the new version.
        let now = root
            .open_read(b"f", &RequestContext::new(client()))
            .unwrap();
        assert_eq!(
            now.shared().unwrap(),
            &fs::read(tmp.path().join("f")).unwrap()[..]
        );
    }
}

#[test]
fn a_streamed_file_that_changes_ends_the_transfer_with_error_0() {
    for (mode, change) in [
        (Mode::Octet, truncate as fn(&Path)),
        (Mode::Netascii, truncate),
        (Mode::Octet, rewrite_in_place),
        (Mode::Netascii, rewrite_in_place),
    ] {
        let (tmp, root, _) = setup(0);
        let mut t = start(&root, mode, &[]);
        let err = receive(&mut t, || change(&tmp.path().join("f"))).unwrap_err();
        assert_eq!(
            err,
            (
                ErrorCode::Undefined,
                "File changed while being read".to_owned()
            ),
            "{mode:?}"
        );
        assert!(matches!(t.outcome(), Some(Outcome::Refused { .. })));
        assert!(t.is_finished() || drain(&mut t).is_empty());
    }
}

#[test]
fn a_streamed_window_is_refused_through_the_batch_path_too() {
    let (tmp, root, _) = setup(0);
    let mut t = start(
        &root,
        Mode::Octet,
        &[("windowsize", "4"), ("blksize", "1024")],
    );
    // OACK, then ACK 0 opens the data phase.
    assert_eq!(drain(&mut t), vec![Sent::Control]);
    ack(&mut t, 0);
    let mut batch = tftp::DataBatch::new();
    assert_eq!(t.poll_transmit_batch(Instant::now(), 16, &mut batch), 4);
    truncate(&tmp.path().join("f"));
    ack(&mut t, 4);
    assert_eq!(t.poll_transmit_batch(Instant::now(), 16, &mut batch), 0);
    assert_eq!(
        drain(&mut t),
        vec![Sent::Error(
            ErrorCode::Undefined,
            "File changed while being read".to_owned()
        )]
    );
}
