//! `-m` through the binary: `--map-test`, a bad rule file at start, SIGHUP
//! reloading the rules of a running server.

#[path = "support/client.rs"]
mod client;
#[path = "../../../crates/tftp/tests/interop/peers.rs"]
mod peers;

use std::fs;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use client::Outcome;
use peers::{start_server, Fixture};

#[test]
fn map_test_prints_what_names_map_to() {
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("map");
    fs::write(
        &map,
        "rg \\\\ /\nrG ^/?boot/(.*) \\1\nrP ^up/ incoming/\na ^secret refused\\ \\0\nr ^me$ \\x\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tftpd"))
        .args(["-m", map.to_str().unwrap(), "--map-test"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a\\b\\c\nboot/pxelinux.0\nP boot/x\nP up/file\nsecret.txt\nG 192.0.2.1 me\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "a/b/c\npxelinux.0\nboot/x\nincoming/file\nrefused: refused secret\nC0000201\n"
    );
}

#[test]
fn a_bad_rule_file_is_rejected_at_start_with_its_line() {
    let fx = Fixture::new();
    let map = fx.tmp.path().join("map");
    fs::write(&map, "# fine\nr a b\nrq x y\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tftpd"))
        .args(["-L", "-a", "127.0.0.1:6", "-m", map.to_str().unwrap(), "-s"])
        .arg(&fx.root)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(
        err.contains(&format!(
            "{}:3: invalid operation flag \"q\"",
            map.display()
        )),
        "{err}"
    );
    fs::write(&map, "r (unclosed x\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tftpd"))
        .args(["-m", map.to_str().unwrap(), "--map-test"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(err.contains(":1: bad regex"), "{err}");
}

#[test]
fn sighup_reloads_the_rules() {
    let fx = Fixture::new();
    fx.put("one.txt", b"one\n");
    fx.put("two.txt", b"two\n");
    let map = fx.tmp.path().join("map");
    fs::write(&map, "r ^/?alias$ one.txt\n").unwrap();
    let server = start_server("tftpd", fx.tmp.path(), |port| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
        cmd.args(["-L", "-v", "-a", &format!("127.0.0.1:{port}")])
            .args([
                "-u",
                &peers::current_user(),
                "-m",
                map.to_str().unwrap(),
                "-s",
            ])
            .arg(&fx.root);
        cmd
    });
    let get = || match client::get(server.addr, b"alias", &[]).outcome {
        Outcome::Done { bytes, .. } => bytes,
        other => panic!("{other:?}"),
    };
    assert_eq!(get(), b"one\n");
    // A bad file on SIGHUP keeps the old rules.
    fs::write(&map, "rq broken\n").unwrap();
    let hup = |pid: u32| {
        let ok = Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    };
    hup(server.child.pid());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(get(), b"one\n");
    fs::write(&map, "r ^/?alias$ two.txt\n").unwrap();
    hup(server.child.pid());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if get() == b"two\n" {
            break;
        }
        assert!(Instant::now() < deadline, "rules not reloaded");
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = fs::read_to_string(fx.tmp.path().join("tftpd.log")).unwrap();
    assert!(
        log.contains("RRQ from 127.0.0.1 filename alias remapped to two.txt"),
        "{log}"
    );
    assert!(log.contains("remap rules not reloaded"), "{log}");
}
