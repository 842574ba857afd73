//! Checks on what loading a configuration found: INCLUDEs that are missing,
//! refused, unreadable, looping or beyond the limits, and the finding every
//! name the TFTP server refuses gets.

use super::Ctx;
use crate::confine::Refusal;
use crate::finding::{Code, Finding, Location};
use crate::include::{LoadEvent, MAX_DEPTH, MAX_LINES};

pub(super) fn check(ctx: &mut Ctx<'_>) {
    for e in ctx.set.events.clone() {
        match e {
            LoadEvent::Missing { at, name, path } => {
                let loc = ctx.arg_loc(at);
                ctx.push(Finding::new(
                    Code::MissingInclude,
                    loc,
                    format!("include `{name}` (TFTP path `{path}`) does not exist; syslinux skips it silently"),
                    "fix the name (it is relative to the PXELINUX prefix, not to pxelinux.cfg/), or add the file",
                ));
            }
            LoadEvent::Refused { at, name, reason } => {
                let loc = ctx.arg_loc(at);
                ctx.push(refused(loc, "include", &name, reason));
            }
            LoadEvent::Loop { at, name, cycle } => {
                let loc = ctx.arg_loc(at);
                ctx.push(Finding::new(
                    Code::IncludeLoop,
                    loc,
                    format!(
                        "`{name}` is already being read ({}): this INCLUDE never ends",
                        cycle.join(" → ")
                    ),
                    "remove the INCLUDE that leads back to a file being read",
                ));
            }
            LoadEvent::Limit { at, lines } => {
                let (loc, what) = if lines {
                    let loc = ctx.loc(at, 0);
                    (loc, format!("more than {MAX_LINES} lines in all (a file included twice counts twice): reading stopped here"))
                } else {
                    let loc = ctx.arg_loc(at);
                    (
                        loc,
                        format!(
                            "INCLUDEs nested more than {MAX_DEPTH} deep: this one is not followed"
                        ),
                    )
                };
                ctx.push(Finding::new(
                    Code::IncludeLimit,
                    loc,
                    what,
                    "the rest is not checked; flatten the INCLUDE chain",
                ));
            }
            LoadEvent::Unreadable { at, path, reason } => {
                let loc = ctx.arg_loc(at);
                ctx.push(Finding::new(
                    Code::Unreadable,
                    loc,
                    format!("include `{path}` cannot be read: {reason}"),
                    "check the file's permissions",
                ));
            }
        }
    }
}

/// A finding for a name the TFTP server refuses.
pub(super) fn refused(loc: Location, what: &str, name: &str, reason: Refusal) -> Finding {
    let (code, hint) = if reason.is_outside() {
        (
            Code::OutsideRoot,
            "name a file under the TFTP root; PXELINUX can fetch nothing else from this server",
        )
    } else {
        (
            Code::RefusedName,
            "remove the control character (or give a file name)",
        )
    };
    Finding::new(
        code,
        loc,
        format!("{what} `{name}` is refused and not read: {reason}"),
        hint,
    )
}
