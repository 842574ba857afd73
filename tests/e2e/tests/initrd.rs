//! The initrd build step alone (no qemu): it is made from the static busybox
//! scripts/install-e2e-peers unpacks, and a dynamic busybox is refused with
//! the cause named instead of a boot that ends without its marker.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use netboot_e2e::busybox;
use netboot_e2e::machine::{require_tool, skip};
use netboot_e2e::tree::make_initrd;

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("netboot-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn cpio(initrd: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("sh")
        .arg("-c")
        .arg("gzip -dc \"$0\" | cpio --quiet \"$@\"")
        .arg(initrd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn initrd_is_built_from_a_static_busybox() {
    let name = "initrd_is_built_from_a_static_busybox";
    let found = busybox::find().and_then(|b| {
        require_tool("cpio")?;
        require_tool("gzip")?;
        Ok(b)
    });
    let bb = match found {
        Ok(b) => b,
        Err(unmet) => return skip(name, &unmet.0),
    };
    let scratch = Scratch::new("initrd");
    let initrd = scratch.0.join("initrd.gz");
    make_initrd(&bb, &initrd, &scratch.0.join("src")).unwrap();

    let listing = String::from_utf8(cpio(&initrd, &["-t"])).unwrap();
    for entry in ["init", "bin/busybox", "proc", "dev"] {
        assert!(
            listing.lines().any(|l| l == entry),
            "no {entry} in {listing}"
        );
    }
    let inside = cpio(&initrd, &["-i", "--to-stdout", "bin/busybox"]);
    assert_eq!(inside, std::fs::read(&bb).unwrap());
    assert_eq!(busybox::interpreter(&inside).unwrap(), None);
}

#[test]
fn a_dynamic_busybox_is_refused_with_the_cause() {
    let scratch = Scratch::new("initrd-dynamic");
    let initrd = scratch.0.join("initrd.gz");
    // Debian's /bin/sh (dash) is dynamically linked, as the busybox package's binary is.
    let err = make_initrd(Path::new("/bin/sh"), &initrd, &scratch.0.join("src")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("busybox is dynamic: /bin/sh needs the ELF interpreter /"),
        "{err}"
    );
    assert!(!initrd.exists());
}
