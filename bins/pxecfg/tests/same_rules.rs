//! The names `pxecfg` refuses are the names the TFTP server refuses: the same
//! hostile names go through `pxelinux::confine` and through `tftpd`'s file
//! source (`tftp::source::DirectoryRoot`), and both must agree.

use std::net::SocketAddr;
use std::os::unix::fs::symlink;
use std::path::Path;

use pxelinux::confine::{locate, Located};
use tftp::source::{DirectoryConfig, DirectoryRoot, FileSource, RequestContext};

/// What the TFTP server does with a name, in `Located` terms.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Served,
    NotFound,
    Refused,
    Directory,
}

fn tftpd(root: &DirectoryRoot, name: &[u8]) -> Verdict {
    let peer: SocketAddr = "127.0.0.1:69".parse().unwrap();
    match root.open_read(name, &RequestContext::new(peer)) {
        Ok(_) => Verdict::Served,
        Err(e) => match e.tftp_code() {
            1 => Verdict::NotFound,
            2 => Verdict::Refused,
            _ => Verdict::Directory,
        },
    }
}

fn pxecfg(root: &Path, name: &[u8]) -> Verdict {
    match locate(root, root, name) {
        Located::File(_) => Verdict::Served,
        Located::Missing => Verdict::NotFound,
        Located::Refused(_) => Verdict::Refused,
        Located::Dir(_) => Verdict::Directory,
        other => panic!("{name:?}: {other:?}"),
    }
}

fn file(p: &Path) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, "x").unwrap();
}

#[test]
fn pxecfg_refuses_exactly_what_tftpd_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().canonicalize().unwrap();
    let root = base.join("root");
    for f in [
        "pxelinux.0",
        "sub/in.cfg",
        "..a",
        "b..",
        "a\\b",
        "sub/deep/k",
    ] {
        file(&root.join(f));
    }
    file(&base.join("outside/secret"));
    let links: &[(&str, &Path)] = &[
        ("rel-in", Path::new("sub/in.cfg")),
        ("dir-in", Path::new("sub")),
        ("up-in", Path::new("sub/../pxelinux.0")),
        ("sub/deep/back", Path::new("../../pxelinux.0")),
        ("chain", Path::new("rel-in")),
        ("rel-out", Path::new("../outside/secret")),
        ("abs-out", Path::new("/etc/passwd")),
        ("dir-out", Path::new("../outside")),
        ("chain-out", Path::new("rel-out")),
        ("sub/up-out", Path::new("../../outside/secret")),
    ];
    for (link, target) in links {
        symlink(target, root.join(link)).unwrap();
    }
    symlink(root.join("sub/in.cfg"), root.join("abs-in")).unwrap();
    let server = DirectoryRoot::new(DirectoryConfig::new(&root)).unwrap();

    let names: &[&[u8]] = &[
        b"pxelinux.0",
        b"/pxelinux.0",
        b"//pxelinux.0",
        b"./pxelinux.0",
        b"/./pxelinux.0",
        b"sub/in.cfg",
        b"sub//in.cfg",
        b"sub/./in.cfg",
        b"sub/in.cfg/",
        b"..a",
        b"b..",
        b"a\\b",
        b"..",
        b"../",
        b"/..",
        b"../outside/secret",
        b"../../../../etc/passwd",
        b"/../../etc/passwd",
        b"sub/../pxelinux.0",
        b"sub/..",
        b"sub/deep/../../pxelinux.0",
        b".",
        b"/",
        b"",
        b"//",
        b"./.",
        b"rel-in",
        b"abs-in",
        b"dir-in/in.cfg",
        b"up-in",
        b"sub/deep/back",
        b"chain",
        b"rel-out",
        b"abs-out",
        b"dir-out/secret",
        b"dir-out/nope",
        b"dir-out",
        b"chain-out",
        b"sub/up-out",
        b"dir-in/up-out",
        b"nope",
        b"sub/nope",
        b"nope/deeper",
        b"pxelinux.0/x",
        b"a\0b",
        b"pxelinux.0\0.cfg",
        b"a\nb",
        b"\x1b[2J",
        b"a\x7f",
        b"sub\x01/in.cfg",
        b"%2e%2e/outside/secret",
        b"..\\..\\etc\\passwd",
        b"...",
        b".../x",
        b"sub",
        b"dir-in",
        b"\xff\xfe",
    ];
    let mut differ = Vec::new();
    for name in names {
        let (ours, theirs) = (pxecfg(&root, name), tftpd(&server, name));
        if ours != theirs {
            differ.push(format!(
                "{:?}: pxecfg {ours:?}, tftpd {theirs:?}",
                String::from_utf8_lossy(name)
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    assert!(names.len() >= 50);
    // Every verdict occurs, so agreement is not an accident of the set-up.
    for (name, verdict) in [
        (&b"up-in"[..], Verdict::Served),
        (b"sub/nope", Verdict::NotFound),
        (b"chain-out", Verdict::Refused),
        (b"dir-in", Verdict::Directory),
    ] {
        assert_eq!(tftpd(&server, name), verdict);
    }
}

/// The one documented difference: a dangling link pointing out of the root is
/// "not found" to tftpd (it canonicalizes first) and refused by pxecfg, which
/// never looks outside the root and so cannot tell dangling from live.
#[test]
fn a_dangling_link_out_is_refused_by_pxecfg_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    symlink("/nonexistent-netboot-test/x", root.join("dangling")).unwrap();
    let server = DirectoryRoot::new(DirectoryConfig::new(&root)).unwrap();
    assert_eq!(tftpd(&server, b"dangling"), Verdict::NotFound);
    assert_eq!(pxecfg(&root, b"dangling"), Verdict::Refused);
}
