//! iPXE scripts and `grub.cfg` files for network boot: one boot model
//! ([`model::Menu`]) written as an iPXE script ([`ipxe`]) or a GRUB
//! configuration ([`grub`]), the per-host file names each loader requests
//! ([`names`]), and a lint for such files, generated or hand-written
//! ([`lint`]), reporting [`pxelinux::Finding`]s.
//!
//! ```
//! use bootcfg::model::{Action, Entry, Menu, Source};
//!
//! let menu = Menu {
//!     title: None,
//!     timeout_tenths: 50,
//!     default: Some("deb".into()),
//!     entries: vec![Entry {
//!         id: "deb".into(),
//!         label: "^Debian".into(),
//!         action: Action::Linux {
//!             kernel: "deb/linux".into(),
//!             initrd: vec!["deb/initrd.gz".into()],
//!             args: "quiet".into(),
//!             bootif: false,
//!         },
//!     }],
//!     serial: None,
//! };
//! let src = Source::parse(None, "").unwrap();
//! let g = bootcfg::grub::write(&menu, &src, "header", None, false).unwrap();
//! assert!(g.contains("set timeout=5\n"));
//! assert!(g.contains("\tlinux /deb/linux quiet\n"));
//! let i = bootcfg::ipxe::write(&menu, &src, "header", None, bootcfg::ipxe::Shape::Menu).unwrap();
//! assert!(i.starts_with("#!ipxe\n# header\n"));
//! assert!(i.contains("choose --default deb --timeout 5000 target"));
//! ```
#![warn(missing_docs)]

pub mod commands;
pub mod grub;
pub mod ipxe;
pub mod lint;
pub mod model;
pub mod names;
pub mod words;
