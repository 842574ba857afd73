//! The PXELINUX lookup order.

use pxelinux::{Client, Tree};

#[test]
fn pxelinux_604_wire_sequence() {
    let mut c = Client::new("52:54:00:12:34:56".parse().unwrap());
    c.ip = Some("192.0.2.157".parse().unwrap());
    let want = [
        "01-52-54-00-12-34-56",
        "C000029D",
        "C000029",
        "C00002",
        "C0000",
        "C000",
        "C00",
        "C0",
        "C",
        "default",
    ];
    let got = c.candidates();
    assert_eq!(
        got,
        want.iter()
            .map(|n| format!("pxelinux.cfg/{n}"))
            .collect::<Vec<_>>()
    );
}

#[test]
fn explain_uses_first_existing_file_under_the_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("bios/pxelinux.cfg")).unwrap();
    std::fs::write(
        root.join("bios/pxelinux.cfg/default"),
        "DEFAULT x\nLABEL x\n KERNEL /k\n",
    )
    .unwrap();
    std::fs::write(
        root.join("bios/pxelinux.cfg/C0"),
        "DEFAULT y\nLABEL y\n KERNEL ::/k\n",
    )
    .unwrap();
    let mut c = Client::new("52:54:00:12:34:56".parse().unwrap());
    c.ip = Some("192.0.2.157".parse().unwrap());
    let ex = pxelinux::explain::explain(&Tree::new(root, "bios/"), &c);
    assert_eq!(ex.loaded.as_deref(), Some("bios/pxelinux.cfg/C0"));
    assert_eq!(ex.attempts.len(), 8);
    assert_eq!(ex.default.unwrap().1, "BOOT_IMAGE=::/k ");
}
