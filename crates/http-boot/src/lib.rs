//! HTTP/1.1 serving of a boot tree, for UEFI HTTP boot, iPXE and GRUB.
//!
//! The server reads through a [`tftp::source::FileSource`], so it applies
//! the same path rules as TFTP (nothing outside the root, no symlink out,
//! the world-readable rule unless permissive, absolute names below the
//! directories without `-s`) and, given the same source instance, shares
//! its file cache. The `-m` remap rules apply as to a TFTP read request.
//!
//! What firmware and boot loaders need: `GET` and `HEAD`; an exact
//! `Content-Length` on every reply and never a chunked body; one byte range
//! per request (`206`, `416`); keep-alive; no redirect, ever; a
//! `Content-Type` by extension ([`content_type`]).
//!
//! Layers: [`name`], [`range`], [`decision`] and [`content_type`] are pure
//! functions of the request (sans-IO, unit-tested); `server` (hyper 1 and
//! tokio), `body` and `timeouts` do the I/O.
//!
//! ```no_run
//! # async fn run(source: std::sync::Arc<dyn tftp::source::FileSource>) -> std::io::Result<()> {
//! use http_boot::{HttpConfig, Listeners};
//! let listeners = Listeners::bind(&["127.0.0.1:8080".parse().unwrap()]).await?;
//! listeners.serve(source, HttpConfig::default());
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod body;
pub mod content_type;
pub mod decision;
pub mod name;
pub mod range;
mod server;
mod timeouts;

pub use body::FileBody;
pub use decision::{decide, Refusal, Reply, RequestHead, Wanted};
pub use range::RangeRequest;
pub use server::{HttpConfig, Listeners};
