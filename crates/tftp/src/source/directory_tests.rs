//! Tests of [`DirectoryRoot`] on real trees (tempfile + symlinks).

use super::*;
use std::os::unix::fs::{symlink, PermissionsExt};

struct Tree {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
}

/// `<tmp>/root` is served; `<tmp>/outside/secret` must never be read.
fn tree() -> Tree {
    let tmp = tempfile::tempdir().unwrap();
    let base = fs::canonicalize(tmp.path()).unwrap();
    let root = base.join("root");
    let outside = base.join("outside");
    fs::create_dir_all(root.join("sub")).unwrap();
    fs::create_dir(&outside).unwrap();
    write_mode(&outside.join("secret"), b"SECRET", 0o666);
    write_mode(&root.join("hello.txt"), b"hello\n", 0o644);
    write_mode(&root.join("sub/data.bin"), &[7u8; 5000], 0o644);
    write_mode(&root.join("empty"), b"", 0o644);
    write_mode(&root.join("private"), b"p", 0o640);
    write_mode(&root.join("upload"), b"old contents", 0o666);
    write_mode(&root.join("readonly"), b"ro", 0o644);
    symlink(outside.join("secret"), root.join("abs-out")).unwrap();
    symlink("../outside/secret", root.join("rel-out")).unwrap();
    symlink(&outside, root.join("dir-out")).unwrap();
    symlink("hello.txt", root.join("link-in")).unwrap();
    Tree {
        _tmp: tmp,
        root,
        outside,
    }
}

fn write_mode(path: &Path, data: &[u8], mode: u32) {
    fs::write(path, data).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn ctx() -> RequestContext {
    RequestContext::new("127.0.0.1:5000".parse().unwrap())
}

fn source(t: &Tree, edit: impl FnOnce(&mut DirectoryConfig)) -> DirectoryRoot {
    let mut config = DirectoryConfig::new(&t.root);
    edit(&mut config);
    DirectoryRoot::new(config).unwrap()
}

fn read_code(src: &DirectoryRoot, name: &[u8]) -> u16 {
    match src.open_read(name, &ctx()) {
        Ok(data) => panic!("{:?} was served: {data:?}", String::from_utf8_lossy(name)),
        Err(err) => err.tftp_code(),
    }
}

fn write_code(src: &DirectoryRoot, name: &[u8]) -> u16 {
    match src.open_write(name, &ctx()) {
        Ok(_) => panic!("{:?} was opened for writing", String::from_utf8_lossy(name)),
        Err(err) => err.tftp_code(),
    }
}

fn upload(src: &DirectoryRoot, name: &[u8], chunks: &[&[u8]]) {
    let mut sink = src.open_write(name, &ctx()).unwrap();
    for chunk in chunks {
        sink.write(chunk).unwrap();
    }
    sink.finish().unwrap();
}

fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tftp-upload"))
        .collect()
}

/// The whole file, read block by block as a sender would (works for shared
/// and streamed files alike).
fn read(src: &DirectoryRoot, name: &[u8]) -> Vec<u8> {
    let mut data = src.open_read(name, &ctx()).unwrap();
    let len = data.len();
    let mut out = Vec::new();
    for start in (0..len).step_by(512) {
        let end = (start + 512).min(len);
        out.extend_from_slice(&data.block(start, end, len, start).unwrap());
    }
    out
}

#[test]
fn reads_regular_and_empty_files() {
    let t = tree();
    for cache_size in [DEFAULT_CACHE_SIZE, 0] {
        let src = source(&t, |c| c.cache_size = cache_size);
        assert_eq!(read(&src, b"hello.txt"), b"hello\n");
        assert_eq!(read(&src, b"/hello.txt"), b"hello\n");
        assert_eq!(read(&src, b"sub//data.bin"), &[7u8; 5000][..]);
        assert!(src.open_read(b"empty", &ctx()).unwrap().is_empty());
        assert_eq!(read(&src, b"link-in"), b"hello\n");
    }
}

#[test]
fn transfers_of_a_file_share_one_buffer_until_it_changes() {
    let t = tree();
    let src = source(&t, |_| {});
    let a = src.open_read(b"sub/data.bin", &ctx()).unwrap();
    let b = src.open_read(b"/sub/data.bin", &ctx()).unwrap();
    let (a, b) = (a.shared().unwrap(), b.shared().unwrap());
    assert_eq!(a.as_ptr(), b.as_ptr());
    // Rewritten in place (same size): a new version, read again; the bytes
    // a running transfer holds do not change.
    fs::write(t.root.join("sub/data.bin"), [8u8; 5000]).unwrap();
    let c = src.open_read(b"sub/data.bin", &ctx()).unwrap();
    assert_ne!(c.shared().unwrap().as_ptr(), a.as_ptr());
    assert_eq!(&c.shared().unwrap()[..], &[8u8; 5000][..]);
    assert_eq!(&a[..], &[7u8; 5000][..]);
    // Truncated: the next request sees the short file.
    OpenOptions::new()
        .write(true)
        .open(t.root.join("sub/data.bin"))
        .unwrap()
        .set_len(100)
        .unwrap();
    assert_eq!(read(&src, b"sub/data.bin"), &[8u8; 100][..]);
    assert_eq!(&b[..], &[7u8; 5000][..]);
}

#[test]
fn files_larger_than_the_cache_are_streamed() {
    let t = tree();
    let src = source(&t, |c| c.cache_size = 4096);
    let data = src.open_read(b"sub/data.bin", &ctx()).unwrap();
    assert!(data.shared().is_none());
    assert_eq!(data.len(), 5000);
    assert_eq!(read(&src, b"sub/data.bin"), &[7u8; 5000][..]);
    assert!(src
        .open_read(b"hello.txt", &ctx())
        .unwrap()
        .shared()
        .is_some());
}

#[test]
fn read_needs_world_readable_unless_permissive() {
    let t = tree();
    assert_eq!(read_code(&source(&t, |_| {}), b"private"), 2);
    let permissive = source(&t, |c| c.permissive = true);
    assert_eq!(read(&permissive, b"private"), b"p");
}

#[test]
fn missing_files_are_code_1_and_directories_code_0() {
    let t = tree();
    let src = source(&t, |_| {});
    assert_eq!(read_code(&src, b"nope"), 1);
    assert_eq!(read_code(&src, b"nodir/nope"), 1);
    assert_eq!(read_code(&src, b"hello.txt/x"), 1); // ENOTDIR
    let err = src.open_read(b"sub", &ctx()).unwrap_err();
    assert_eq!(
        (err.tftp_code(), err.message().as_str()),
        (0, "Is a directory")
    );
}

#[test]
fn fifos_are_refused_without_blocking() {
    let t = tree();
    let status = std::process::Command::new("mkfifo")
        .arg(t.root.join("fifo"))
        .status()
        .expect("mkfifo (coreutils) must exist");
    assert!(status.success());
    fs::set_permissions(t.root.join("fifo"), fs::Permissions::from_mode(0o666)).unwrap();
    assert_eq!(read_code(&source(&t, |_| {}), b"fifo"), 2);
}

#[test]
fn traversal_is_refused_and_nothing_outside_is_read() {
    let t = tree();
    let src = source(&t, |c| c.permissive = true);
    let secret_abs = t.outside.join("secret");
    let abs = secret_abs.as_os_str().as_encoded_bytes();
    for name in [
        &b"../outside/secret"[..],
        b"sub/../../outside/secret",
        b"/../outside/secret",
        b"abs-out",
        b"rel-out",
        b"dir-out/secret",
        b"dir-out/missing",
        b"hello.txt\0",
        b"hello\n.txt",
    ] {
        assert_eq!(
            read_code(&src, name),
            2,
            "{}",
            String::from_utf8_lossy(name)
        );
    }
    // Absolute names are relative to the root, like tftp-hpa's chroot: the
    // real outside path does not exist below the root.
    assert_eq!(read_code(&src, abs), 1);
    assert_eq!(read_code(&src, b"/etc/passwd"), 1);
    // Backslashes are ordinary bytes, not separators.
    assert_eq!(read_code(&src, b"..\\outside\\secret"), 1);
}

#[test]
fn upload_replaces_world_writable_file_atomically_and_keeps_mode() {
    let t = tree();
    let src = source(&t, |_| {});
    upload(&src, b"upload", &[b"new ", b"contents"]);
    assert_eq!(fs::read(t.root.join("upload")).unwrap(), b"new contents");
    let mode = fs::metadata(t.root.join("upload")).unwrap().mode() & 0o777;
    assert_eq!(mode, 0o666);
    assert!(leftovers(&t.root).is_empty());
}

#[test]
fn upload_needs_world_writable_unless_permissive() {
    let t = tree();
    assert_eq!(write_code(&source(&t, |_| {}), b"readonly"), 2);
    upload(&source(&t, |c| c.permissive = true), b"readonly", &[b"x"]);
    assert_eq!(fs::read(t.root.join("readonly")).unwrap(), b"x");
}

#[test]
fn new_files_need_create_and_get_umasked_mode() {
    let t = tree();
    assert_eq!(write_code(&source(&t, |_| {}), b"fresh"), 1);
    let src = source(&t, |c| {
        c.allow_create = true;
        c.umask = 0o027;
    });
    upload(&src, b"sub/fresh", &[b"abc"]);
    let meta = fs::metadata(t.root.join("sub/fresh")).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o640);
    assert_eq!(fs::read(t.root.join("sub/fresh")).unwrap(), b"abc");
    assert_eq!(write_code(&src, b"nodir/fresh"), 1);
    assert!(leftovers(&t.root.join("sub")).is_empty());
}

#[test]
fn aborted_upload_leaves_no_file_and_keeps_the_old_one() {
    let t = tree();
    let src = source(&t, |c| c.allow_create = true);
    let mut sink = src.open_write(b"partial", &ctx()).unwrap();
    sink.write(b"half").unwrap();
    assert_eq!(leftovers(&t.root).len(), 1);
    drop(sink);
    assert!(!t.root.join("partial").exists());
    assert!(leftovers(&t.root).is_empty());

    let mut sink = src.open_write(b"upload", &ctx()).unwrap();
    sink.write(b"torn").unwrap();
    drop(sink);
    assert_eq!(fs::read(t.root.join("upload")).unwrap(), b"old contents");
    assert!(leftovers(&t.root).is_empty());
}

#[test]
fn uploads_over_the_limit_are_disk_full() {
    let t = tree();
    let src = source(&t, |c| c.max_write_size = Some(4));
    let mut big = ctx();
    big.size_hint = Some(5);
    let err = src.open_write(b"upload", &big).unwrap_err();
    assert_eq!(err.tftp_code(), 3);

    let mut sink = src.open_write(b"upload", &ctx()).unwrap();
    sink.write(b"1234").unwrap();
    let err = sink.write(b"5").unwrap_err();
    assert_eq!(SourceError::from_io(err).tftp_code(), 3);
    drop(sink);
    assert_eq!(fs::read(t.root.join("upload")).unwrap(), b"old contents");
}

#[test]
fn uploads_may_not_leave_the_root() {
    let t = tree();
    let src = source(&t, |c| {
        c.allow_create = true;
        c.permissive = true;
    });
    for name in [
        &b"../outside/new"[..],
        b"abs-out",
        b"rel-out",
        b"dir-out/secret",
        b"dir-out/new",
        b"a\x01b",
    ] {
        assert_eq!(
            write_code(&src, name),
            2,
            "{}",
            String::from_utf8_lossy(name)
        );
    }
    assert_eq!(fs::read(t.outside.join("secret")).unwrap(), b"SECRET");
    assert_eq!(fs::read_dir(&t.outside).unwrap().count(), 1);
    let err = src.open_write(b"sub", &ctx()).unwrap_err();
    assert_eq!(err.tftp_code(), 0);
}

#[test]
fn upload_through_inside_symlink_replaces_its_target() {
    let t = tree();
    let src = source(&t, |c| c.permissive = true);
    upload(&src, b"link-in", &[b"via link"]);
    assert_eq!(fs::read(t.root.join("hello.txt")).unwrap(), b"via link");
    assert!(fs::symlink_metadata(t.root.join("link-in"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn root_must_be_an_existing_directory() {
    let t = tree();
    assert!(DirectoryRoot::new(DirectoryConfig::new(t.root.join("nope"))).is_err());
    assert!(DirectoryRoot::new(DirectoryConfig::new(t.root.join("hello.txt"))).is_err());
    let src = source(&t, |_| {});
    assert_eq!(src.root(), t.root);
    assert!(!src.config().allow_create);
}
