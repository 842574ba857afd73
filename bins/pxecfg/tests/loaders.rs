//! `pxecfg generate` for iPXE and GRUB, and `pxecfg lint` of their files:
//! the three loaders' files boot the same kernels with the same initrds and
//! arguments, GRUB's own parser accepts what is written, stale per-host files
//! go away, and hand-written scripts get `file:line:col` findings.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use bootcfg::words;

fn pxecfg(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pxecfg"))
        .args(args)
        .output()
        .expect("run pxecfg")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn write(dir: &Path, rel: &str, body: &str) -> String {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, body).unwrap();
    p.to_string_lossy().into_owned()
}

const INVENTORY: &str = r#"
[menu]
title = "Lab"
timeout = 50
default = "local"
serial = { port = 0, baud = 115200 }

[output]
formats = ["pxelinux", "ipxe", "grub"]

[profiles.local]
label = "Local disk"
localboot = 0

[profiles.debian12]
label = "^Debian 12"
kernel = "d12/linux"
initrd = ["d12/initrd.gz", "d12/firmware.cpio.gz"]
append = "auto=true url=http://192.0.2.1/p?a=1;b=2 console=ttyS0,115200 quiet"
ipappend = 2

[profiles.rescue]
kernel = "rescue/vmlinuz"

[[hosts]]
name = "web1"
mac = "52:54:00:12:34:56"
profile = "debian12"

[[hosts]]
name = "db1"
mac = "52:54:00:ab:cd:ef"
ip = "192.0.2.157"
by = "ip"
entries = ["rescue", "debian12"]
default = "rescue"
"#;

/// Kernel, initrds and arguments of each entry, by entry id.
type Boots = BTreeMap<String, (String, Vec<String>, Vec<String>)>;

fn from_pxelinux(bytes: &[u8], mac: Option<&str>) -> Boots {
    let cfg = pxelinux::Config::from_document(&pxelinux::Document::parse(bytes));
    let mut out = Boots::new();
    for l in &cfg.labels {
        let Some(k) = l.kernel_file() else { continue };
        let initrd = l
            .initrd
            .as_ref()
            .map_or(vec![], |s| s.value.split(',').map(str::to_string).collect());
        let mut args: Vec<String> = l.append.as_ref().map_or(vec![], |s| {
            s.value.split_whitespace().map(str::to_string).collect()
        });
        if l.ipappend.as_ref().is_some_and(|s| s.value == "2") {
            args.push(mac.map_or("BOOTIF".into(), |m| format!("BOOTIF=01-{m}")));
        }
        out.insert(l.cli_name.clone(), (k.to_string(), initrd, args));
    }
    out
}

fn unbootif(w: &str, literal: bool) -> String {
    if w.starts_with("BOOTIF=") && !literal {
        "BOOTIF".into()
    } else {
        w.to_string()
    }
}

fn from_ipxe(script: &str, only: &str, literal: bool) -> Boots {
    let s = words::ipxe(script);
    let mut out = Boots::new();
    let mut id = only.to_string();
    let mut names_given: std::collections::HashMap<String, Vec<String>> = Default::default();
    let mut lines: Vec<(usize, Option<&str>)> = s
        .labels
        .iter()
        .map(|(l, n)| (*n, l.strip_prefix("boot-")))
        .collect();
    lines.sort();
    for c in &s.commands {
        if let Some((_, Some(label))) = lines.iter().rev().find(|(n, _)| *n < c[0].line) {
            id = label.to_string();
        }
        let path = |w: &str| {
            w.strip_prefix("tftp://${next-server}/")
                .expect("TFTP source")
                .to_string()
        };
        match c[0].text.as_str() {
            "kernel" => {
                // `initrd=NAME` words are iPXE's own (checked against the
                // initrd lines below), not the inventory's arguments.
                let (names, args): (Vec<_>, Vec<_>) = c[2..]
                    .iter()
                    .map(|w| unbootif(&w.text, literal))
                    .partition(|w| w.starts_with("initrd="));
                names_given.insert(id.clone(), names);
                out.insert(id.clone(), (path(&c[1].text), vec![], args));
            }
            "initrd" => {
                let p = path(&c[1].text);
                let name = format!("initrd={}", p.rsplit('/').next().unwrap());
                assert!(
                    names_given[&id].contains(&name),
                    "{id}: no {name} on the kernel line"
                );
                out.get_mut(&id).unwrap().1.push(p);
            }
            _ => {}
        }
    }
    out
}

fn from_grub(cfg: &str, literal: bool) -> Boots {
    let s = words::grub(cfg);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let mut out = Boots::new();
    let mut id = String::new();
    for c in &s.commands {
        let rest: Vec<String> = c[1..].iter().map(|w| w.text.clone()).collect();
        match c[0].text.as_str() {
            "menuentry" => {
                let i = rest.iter().position(|w| w == "--id").unwrap();
                id = rest[i + 1].clone();
            }
            "linux" => {
                let args = rest[1..].iter().map(|w| unbootif(w, literal)).collect();
                out.insert(id.clone(), (rest[0][1..].to_string(), vec![], args));
            }
            "initrd" => {
                let list = rest.iter().map(|p| p[1..].to_string()).collect();
                out.get_mut(&id).unwrap().1 = list;
            }
            _ => {}
        }
    }
    out
}

#[test]
fn every_loader_boots_the_same_kernel_initrds_and_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let inv = write(dir.path(), "lab.toml", INVENTORY);
    let out = dir.path().join("tftp");
    let o = pxecfg(&["generate", &inv, "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let read = |rel: &str| std::fs::read_to_string(out.join(rel)).unwrap();

    // The default menus: every profile with a kernel, BOOTIF= computed at boot.
    let pxl = from_pxelinux(read("pxelinux.cfg/default").as_bytes(), None);
    assert_eq!(pxl.len(), 2, "{pxl:?}");
    assert_eq!(pxl["debian12"].1.len(), 2);
    assert_eq!(from_ipxe(&read("ipxe/boot.ipxe"), "", false), pxl);
    assert_eq!(from_grub(&read("grub/grub.cfg"), false), pxl);

    // Per host by MAC: BOOTIF= written out, identical in all three.
    let mac = "52-54-00-12-34-56";
    let pxl = from_pxelinux(
        read(&format!("pxelinux.cfg/01-{mac}")).as_bytes(),
        Some(mac),
    );
    assert_eq!(pxl.len(), 1);
    assert_eq!(
        from_ipxe(&read(&format!("ipxe/{mac}.ipxe")), "debian12", true),
        pxl
    );
    assert_eq!(
        from_grub(&read(&format!("grub/grub.cfg-01-{mac}")), true),
        pxl
    );

    // Per host by IP, a menu of two.
    let mac = "52-54-00-ab-cd-ef";
    let pxl = from_pxelinux(read("pxelinux.cfg/C000029D").as_bytes(), Some(mac));
    assert_eq!(pxl.len(), 2);
    assert_eq!(from_ipxe(&read("ipxe/192.0.2.157.ipxe"), "", true), pxl);
    assert_eq!(from_grub(&read("grub/grub.cfg-C000029D"), true), pxl);

    // Menus mean the same: default, timeout (1/10 s, s, ms), serial console.
    let g = read("grub/grub.cfg");
    assert!(g.contains("serial --unit=0 --speed=115200\n"), "{g}");
    assert!(g.contains("set default=local\nset timeout=5\n"), "{g}");
    let i = read("ipxe/boot.ipxe");
    assert!(
        i.contains("choose --default local --timeout 5000 target"),
        "{i}"
    );
    let p = read("pxelinux.cfg/default");
    assert!(
        p.contains("SERIAL 0 115200\n")
            && p.contains("TIMEOUT 50\n")
            && p.contains("DEFAULT local\n"),
        "{p}"
    );

    // Every file lints clean, by the same rules as hand-written ones.
    let mut files: Vec<String> = Vec::new();
    for d in ["ipxe", "grub", "pxelinux.cfg"] {
        for e in std::fs::read_dir(out.join(d)).unwrap() {
            files.push(e.unwrap().path().to_string_lossy().into_owned());
        }
    }
    assert_eq!(files.len(), 9, "{files:?}");
    let mut args = vec!["lint", "--deny-warnings"];
    args.extend(files.iter().map(String::as_str));
    let o = pxecfg(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// `grub-script-check` (grub-common), or why the test cannot run.
fn grub_script_check(test: &str) -> Option<&'static str> {
    let ok = Command::new("grub-script-check")
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some("grub-script-check");
    }
    let why = "grub-script-check is not installed (grub-common; scripts/install-tftp-peers)";
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: {why}"
    );
    println!("SKIPPED: {test}: {why}");
    None
}

#[test]
#[ignore = "needs grub-script-check: run by scripts/test"]
fn grubs_own_parser_accepts_every_generated_grub_cfg() {
    let Some(check) = grub_script_check("grubs_own_parser_accepts_every_generated_grub_cfg") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The checker does reject a broken file (so this test can fail).
    let broken = write(dir.path(), "broken.cfg", "menuentry 'x' {\n\tlinux /k 'a\n");
    assert!(!Command::new(check)
        .arg(&broken)
        .output()
        .unwrap()
        .status
        .success());
    for base in ["", "base_url = \"http://192.0.2.1/boot/\"\n"] {
        let inv = write(
            dir.path(),
            "lab.toml",
            &INVENTORY.replace("[output]\n", &format!("[output]\n{base}")),
        );
        let out = dir.path().join(format!("tftp{}", base.len()));
        let o = pxecfg(&[
            "generate",
            &inv,
            "--format",
            "grub",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(!out.join("pxelinux.cfg").exists() && !out.join("ipxe").exists());
        let mut n = 0;
        for e in std::fs::read_dir(out.join("grub")).unwrap() {
            let p = e.unwrap().path();
            let o = Command::new(check).arg(&p).output().unwrap();
            assert!(o.status.success(), "{}: {}", p.display(), text(&o));
            n += 1;
        }
        assert_eq!(n, 3);
        if !base.is_empty() {
            let g = std::fs::read_to_string(out.join("grub/grub.cfg")).unwrap();
            assert!(
                g.contains("\tlinux (http,192.0.2.1)/boot/d12/linux "),
                "{g}"
            );
        }
    }
}

#[test]
fn removed_and_renumbered_hosts_lose_their_files_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tftp");
    let out_s = out.to_str().unwrap();
    let inv = write(dir.path(), "lab.toml", INVENTORY);
    assert_eq!(
        pxecfg(&["generate", &inv, "--out", out_s]).status.code(),
        Some(0)
    );
    let hand = write(&out, "ipxe/52-54-00-99-99-99.ipxe", "#!ipxe\nexit\n");
    // web1 removed, db1 renumbered.
    let i = INVENTORY.find("[[hosts]]\nname = \"web1\"").unwrap();
    let j = INVENTORY.find("[[hosts]]\nname = \"db1\"").unwrap();
    let next =
        format!("{}{}", &INVENTORY[..i], &INVENTORY[j..]).replace("192.0.2.157", "192.0.2.158");
    let inv = write(dir.path(), "lab.toml", &next);
    let gone = [
        "pxelinux.cfg/01-52-54-00-12-34-56",
        "pxelinux.cfg/C000029D",
        "ipxe/52-54-00-12-34-56.ipxe",
        "ipxe/192.0.2.157.ipxe",
        "grub/grub.cfg-01-52-54-00-12-34-56",
        "grub/grub.cfg-C000029D",
    ];
    let o = pxecfg(&["generate", &inv, "--out", out_s, "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let said = text(&o);
    for g in gone {
        assert!(
            said.contains(&format!("would remove {}", out.join(g).display())),
            "{g}: {said}"
        );
        assert!(out.join(g).exists(), "--dry-run removed {g}");
    }
    assert!(
        said.contains(&format!(
            "would write {}",
            out.join("grub/grub.cfg-C000029E").display()
        )),
        "{said}"
    );
    // No host is named by MAC any more: grub.cfg loses its `configfile` of
    // the per-host file (the iPXE default chains by every name, unchanged).
    assert!(
        said.contains(&format!(
            "would replace {}",
            out.join("grub/grub.cfg").display()
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!(
            "unchanged {}",
            out.join("ipxe/boot.ipxe").display()
        )),
        "{said}"
    );
    assert!(!out.join("grub/grub.cfg-C000029E").exists());

    let o = pxecfg(&["generate", &inv, "--out", out_s]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for g in gone {
        assert!(!out.join(g).exists(), "{g} left behind: {}", text(&o));
    }
    for new in [
        "pxelinux.cfg/C000029E",
        "ipxe/192.0.2.158.ipxe",
        "grub/grub.cfg-C000029E",
    ] {
        assert!(out.join(new).is_file(), "{new}");
    }
    // A file without the generated header is never touched.
    assert_eq!(std::fs::read_to_string(hand).unwrap(), "#!ipxe\nexit\n");
}

#[test]
fn what_ipxe_or_grub_cannot_express_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tftp");
    let bad = INVENTORY.replace(
        "[profiles.rescue]\n",
        "[profiles.hdt]\ncom32 = \"hdt.c32\"\n\n[profiles.rescue]\n",
    );
    let inv = write(dir.path(), "lab.toml", &bad);
    let o = pxecfg(&["generate", &inv, "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("lab.toml:22:1: profile `hdt`: `com32` modules run only under PXELINUX"),
        "{}",
        text(&o)
    );
    assert!(!out.exists());
    // The same inventory is fine for PXELINUX alone.
    let o = pxecfg(&[
        "generate",
        &inv,
        "--format",
        "pxelinux",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!out.join("grub").exists());
    let args = INVENTORY.replace("quiet", "x=${evil}");
    let inv = write(dir.path(), "args.toml", &args);
    let o = pxecfg(&[
        "generate",
        &inv,
        "--format",
        "ipxe",
        "--out",
        dir.path().join("o2").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("cannot be written in an iPXE script unchanged"),
        "{}",
        text(&o)
    );
}

#[test]
fn lint_reports_hand_written_ipxe_and_grub_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "k/linux", "k");
    write(root, "ipxe/i.gz", "i");
    let ipxe = write(
        root,
        "ipxe/52:54:00:12:34:56.ipxe",
        "#!ipxe\nkernel tftp://${next-server}/k/linux quiet\ninitrd i.gz\ninitrd missing.gz\nchian x.ipxe\ngoto nowhere\nkernel http://192.0.2.9/remote\n",
    );
    let grub = write(
        root,
        "grub/grub.cfg-01-52-54-00-12-34-5G",
        "set default=web\nmenuentry 'A' --id a {\n\tlinux /k/linux\n\tinitrd /k/none.gz\n}\n",
    );
    let r = root.to_str().unwrap();
    let o = pxecfg(&["lint", "--root", r, "--format", "json", &ipxe, &grub]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let got: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = f["file"].as_str().unwrap();
            let base = file.rsplit('/').next().unwrap();
            format!(
                "{base}:{}:{} {}",
                f["line"],
                f["column"],
                f["code"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            "52:54:00:12:34:56.ipxe:1:1 BCF034",
            "52:54:00:12:34:56.ipxe:4:8 PXL041",
            "52:54:00:12:34:56.ipxe:5:1 BCF001",
            "52:54:00:12:34:56.ipxe:6:6 BCF012",
            "grub.cfg-01-52-54-00-12-34-5G:1:1 BCF034",
            "grub.cfg-01-52-54-00-12-34-5G:1:5 BCF012",
            "grub.cfg-01-52-54-00-12-34-5G:4:9 PXL041",
        ]
    );
    // Text output: file:line:col, severity, code and name.
    let o = pxecfg(&["lint", "--root", r, &grub]);
    assert!(text(&o).contains("grub.cfg-01-52-54-00-12-34-5G:4:9: error[PXL041 missing-initrd]: `k/none.gz` does not exist under the root"), "{}", text(&o));
    // `fmt` leaves them alone (it formats pxelinux.cfg only).
    let before = std::fs::read(&grub).unwrap();
    let o = pxecfg(&["fmt", &grub]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(std::fs::read(&grub).unwrap(), before);
    // A clean hand-written script passes.
    let ok = write(
        root,
        "ipxe/menu.ipxe",
        "#!ipxe\n:start\nkernel /k/linux\ninitrd i.gz\nboot || goto start\n",
    );
    let o = pxecfg(&["lint", "--deny-warnings", "--root", r, &ok]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}
