//! The seed configurations get the findings their README lists.

use pxelinux::{lint_bytes, Code, Document, Severity};

use crate::support::{codes, fixtures, lint_in_tree, touch};

fn seed(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("seed").join(name)).unwrap()
}

#[test]
fn seeds_round_trip_byte_identical() {
    for name in [
        "pxelinux-menu-centos7.cfg",
        "pxelinux-auto-install.cfg",
        "pxelinux-fedora5-kickstart.cfg",
    ] {
        let bytes = seed(name);
        assert_eq!(Document::parse(&bytes).to_bytes(), bytes, "{name}");
    }
}

#[test]
fn centos7_menu_duplicate_label_space_and_absolute_paths() {
    let f = lint_bytes("default", &seed("pxelinux-menu-centos7.cfg"));
    let dup: Vec<_> = f
        .iter()
        .filter(|f| f.code == Code::DuplicateLabel)
        .collect();
    assert_eq!(dup.len(), 1);
    assert_eq!(dup[0].location.to_string(), "default:13:7");
    assert_eq!(dup[0].severity, Severity::Error);
    let spaced: Vec<_> = f
        .iter()
        .filter(|f| f.code == Code::LabelWithSpace)
        .collect();
    assert_eq!(spaced.len(), 2);
    assert!(
        spaced[0].message.contains("`CentOS`"),
        "{}",
        spaced[0].message
    );
    let abs = f.iter().filter(|f| f.code == Code::AbsolutePath).count();
    assert_eq!(
        abs, 4,
        "KERNEL /centos/vmlinuz and initrd=/centos/initrd.img, twice each"
    );
    assert!(codes(&f).contains(&Code::ModuleDependencies));
    assert!(codes(&f).contains(&Code::DefaultMenuModule));
    assert!(!codes(&f).contains(&Code::DefaultWithoutUi));
}

#[test]
fn centos7_menu_missing_libraries_next_to_menu_c32() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("pxelinux.cfg")).unwrap();
    std::fs::write(
        root.join("pxelinux.cfg/default"),
        seed("pxelinux-menu-centos7.cfg"),
    )
    .unwrap();
    for f in [
        "pxelinux.0",
        "menu.c32",
        "centos/vmlinuz",
        "centos/initrd.img",
    ] {
        touch(root, f);
    }
    let f = lint_in_tree(root, "pxelinux.cfg/default");
    let libs: Vec<_> = f
        .iter()
        .filter(|f| f.code == Code::MissingLibrary)
        .map(|f| f.message.clone())
        .collect();
    assert_eq!(libs.len(), 2, "{libs:#?}");
    assert!(libs[0].contains("ldlinux.c32"));
    assert!(libs[1].contains("libutil.c32"));
    assert!(!codes(&f).contains(&Code::MissingKernel), "{f:#?}");
    touch(root, "ldlinux.c32");
    touch(root, "libutil.c32");
    let f = lint_in_tree(root, "pxelinux.cfg/default");
    assert!(!codes(&f).contains(&Code::MissingLibrary));
    std::fs::remove_file(root.join("centos/initrd.img")).unwrap();
    let f = lint_in_tree(root, "pxelinux.cfg/default");
    assert!(codes(&f).contains(&Code::MissingInitrd));
}

#[test]
fn auto_install_hash_becomes_kernel_argument() {
    let f = lint_bytes("auto", &seed("pxelinux-auto-install.cfg"));
    let hash: Vec<_> = f
        .iter()
        .filter(|f| f.code == Code::HashInArgument)
        .collect();
    assert_eq!(hash.len(), 1, "{f:#?}");
    assert_eq!((hash[0].location.line, hash[0].location.column), (3, 17));
    assert!(hash[0].message.contains("kernel"));
}

#[test]
fn fedora5_deprecated_installer_arguments() {
    let f = lint_bytes("ks", &seed("pxelinux-fedora5-kickstart.cfg"));
    let dep: Vec<_> = f
        .iter()
        .filter(|f| f.code == Code::DeprecatedInstallerArg)
        .map(|f| f.message.clone())
        .collect();
    assert_eq!(dep.len(), 2, "{dep:#?}");
    assert!(dep[0].contains("ksdevice="));
    assert!(dep[1].contains("ks="));
    assert!(codes(&f).contains(&Code::DefaultWithoutUi));
}

#[test]
fn default_naming_a_missing_file_is_an_error_with_a_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("pxelinux.cfg")).unwrap();
    std::fs::write(
        root.join("pxelinux.cfg/default"),
        "DEFAULT vmlinuz.efi quiet\nONTIMEOUT reboot.c32\n",
    )
    .unwrap();
    touch(root, "ldlinux.c32");
    let f = lint_in_tree(root, "pxelinux.cfg/default");
    assert!(codes(&f).contains(&Code::DefaultTargetMissing), "{f:#?}");
    assert!(codes(&f).contains(&Code::MissingModule), "{f:#?}");
    touch(root, "vmlinuz.efi");
    touch(root, "reboot.c32");
    assert!(lint_in_tree(root, "pxelinux.cfg/default").is_empty());
}

#[test]
fn fkey_files_and_backgrounds_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("pxelinux.cfg")).unwrap();
    let cfg = "UI vesamenu.c32\nF1 help/f1.txt help/bg.png\nMENU BACKGROUND splash.png\nDEFAULT l\nLABEL l\n  LOCALBOOT 0\n";
    std::fs::write(root.join("pxelinux.cfg/default"), cfg).unwrap();
    for f in [
        "ldlinux.c32",
        "vesamenu.c32",
        "libutil.c32",
        "libcom32.c32",
        "help/f1.txt",
    ] {
        touch(root, f);
    }
    let f = lint_in_tree(root, "pxelinux.cfg/default");
    let missing: Vec<_> = f
        .iter()
        .filter(|f| f.code == Code::MissingFile)
        .map(|f| f.location.to_string())
        .collect();
    assert_eq!(
        missing,
        ["pxelinux.cfg/default:2:16", "pxelinux.cfg/default:3:17"],
        "{f:#?}"
    );
    touch(root, "help/bg.png");
    touch(root, "splash.png");
    assert!(lint_in_tree(root, "pxelinux.cfg/default").is_empty());
}

#[test]
fn names_relative_to_pxelinux_cfg_get_a_pointed_hint() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("pxelinux.cfg")).unwrap();
    std::fs::write(
        root.join("pxelinux.cfg/default"),
        "DEFAULT a\nLABEL a\n  KERNEL vmlinuz\n",
    )
    .unwrap();
    touch(root, "ldlinux.c32");
    touch(root, "pxelinux.cfg/vmlinuz");
    let f = lint_in_tree(root, "pxelinux.cfg/default");
    let k = f
        .iter()
        .find(|f| f.code == Code::MissingKernel)
        .expect("missing kernel");
    assert!(
        k.hint.contains("write `pxelinux.cfg/vmlinuz`"),
        "{}",
        k.hint
    );
}
