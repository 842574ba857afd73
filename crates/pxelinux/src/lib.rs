//! pxelinux.cfg: a lossless syntax tree, a typed model, a validator that checks a
//! configuration against the TFTP tree, a canonical formatter, a builder, and the
//! order in which PXELINUX looks for its configuration file.
//!
//! Parsing never fails and printing gives back the exact input:
//!
//! ```
//! use pxelinux::{lint_bytes, Code, Config, Document};
//!
//! let text = "DEFAULT menu.c32\r\nLABEL CentOS 7\n\tkernel vmlinuz # note \n";
//! let doc = Document::parse(text.as_bytes());
//! assert_eq!(doc.to_bytes(), text.as_bytes());
//!
//! let cfg = Config::from_document(&doc);
//! assert_eq!(cfg.labels[0].cli_name, "CentOS");
//! assert_eq!(cfg.labels[0].menu_name, "CentOS 7");
//!
//! let findings = lint_bytes("default", text.as_bytes());
//! assert!(findings.iter().any(|f| f.code == Code::HashInArgument));
//! assert!(findings.iter().any(|f| f.code == Code::LabelWithSpace));
//! ```
#![warn(missing_docs)]

pub mod builder;
pub mod cmdline;
pub mod confine;
pub mod directive;
pub mod error;
pub mod explain;
pub mod finding;
pub mod format;
pub mod include;
pub mod keyword;
pub mod lookup;
pub mod model;
pub mod resolve;
pub mod syntax;
pub mod validate;

pub use builder::{ConfigBuilder, LabelBuilder};
pub use error::Error;
pub use finding::{Code, Finding, Location, Severity};
pub use format::format;
pub use include::{SourceFile, SourceSet};
pub use lookup::{Client, Mac, Uuid};
pub use model::{Config, Label, Menu, Pos};
pub use resolve::{Status, Target, Tree};
pub use syntax::{Document, Line, LineKind};
pub use validate::{lint, lint_bytes, LintOptions};
