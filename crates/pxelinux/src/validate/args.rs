//! Checks on kernel command lines: length, `initrd=` twice, installer arguments
//! that Anaconda no longer reads without the `inst.` prefix.

use super::Ctx;
use crate::cmdline::{
    effective_append, kernel_command_line, label_command, SysAppend, COMMAND_LINE_MAX,
};
use crate::directive::Keyword;
use crate::finding::{Code, Finding};
use crate::model::Pos;

/// Anaconda arguments replaced by `inst.*` (removed in RHEL 9) and what to write instead.
const INSTALLER_ARGS: &[(&str, bool, &str)] = &[
    ("ks", true, "inst.ks="),
    ("ks", false, "inst.ks"),
    ("ksdevice", true, "ip=<iface>:dhcp or IPAPPEND 2 (BOOTIF=)"),
    ("kssendmac", false, "inst.ks.sendmac"),
    ("repo", true, "inst.repo="),
    ("method", true, "inst.repo="),
    ("stage2", true, "inst.stage2="),
    ("askmethod", false, "inst.repo= (askmethod was removed)"),
    ("dd", true, "inst.dd="),
];

pub(super) fn check(ctx: &mut Ctx<'_>) {
    let order = ctx.set.order.clone();
    for pos in order {
        let line = ctx.set.line(pos);
        let Some(d) = line.directive() else { continue };
        let (skip_first, is_arg_line) = match d.keyword {
            Keyword::Append => (false, true),
            Keyword::Kernel(_) => (true, true),
            _ => (false, false),
        };
        if !is_arg_line {
            continue;
        }
        let start = d.arg_span.start;
        let arg = line.arg();
        for (offset, word) in words(&arg).skip(usize::from(skip_first)) {
            deprecated(ctx, pos, start + offset, word);
        }
    }
    let sys = SysAppend::default();
    let labels = ctx.cfg.labels.clone();
    for label in &labels {
        let append = effective_append(label, &ctx.cfg.globals);
        let append_pos: Pos = label
            .append
            .as_ref()
            .or_else(|| ctx.cfg.globals.last(Keyword::Append))
            .map_or(label.pos, |s| s.pos);
        if let Some(initrd) = &label.initrd {
            if let Some((off, w)) = words(append).find(|(_, w)| w.starts_with("initrd=")) {
                let col = ctx
                    .set
                    .line(append_pos)
                    .directive()
                    .map_or(0, |d| d.arg_span.start)
                    + off;
                let at = ctx.loc(append_pos, col);
                let first_at = ctx.arg_loc(initrd.pos);
                ctx.push(Finding::new(
                    Code::InitrdTwice,
                    at,
                    format!("`{w}` in APPEND and `INITRD {}` at {first_at}: the kernel gets two initrd= arguments", initrd.value.trim_end()),
                    "keep one: either INITRD a,b or initrd=a,b in APPEND",
                ));
            }
        }
        let cmd = kernel_command_line(label, &ctx.cfg.globals, &sys)
            .unwrap_or_else(|| label_command(label, &ctx.cfg.globals, &sys));
        if cmd.len() >= COMMAND_LINE_MAX {
            let at = ctx.arg_loc(append_pos);
            ctx.push(Finding::new(
                Code::CommandLineTooLong,
                at,
                format!("label `{}`: the command line is {} bytes; it must stay under {COMMAND_LINE_MAX}", label.cli_name, cmd.len()),
                "shorten APPEND (move settings into a kickstart/preseed file or the initrd)",
            ));
        }
    }
}

fn deprecated(ctx: &mut Ctx<'_>, pos: Pos, col: usize, word: &str) {
    let (key, has_value) = match word.split_once('=') {
        Some((k, _)) => (k, true),
        None => (word, false),
    };
    let Some((_, _, instead)) = INSTALLER_ARGS
        .iter()
        .find(|(k, v, _)| *k == key && *v == has_value)
    else {
        return;
    };
    let at = ctx.loc(pos, col);
    let shown = if has_value {
        format!("{key}=")
    } else {
        key.to_string()
    };
    ctx.push(Finding::new(
        Code::DeprecatedInstallerArg,
        at,
        format!("`{shown}` is deprecated since RHEL 7 and not read by the RHEL 9 installer"),
        format!("write `{instead}`"),
    ));
}

/// Whitespace-separated words with their byte offsets.
fn words(s: &str) -> impl Iterator<Item = (usize, &str)> {
    s.split(|c: char| c <= ' ')
        .scan(0usize, |off, w| {
            let start = *off;
            *off += w.len() + 1;
            Some((start, w))
        })
        .filter(|(_, w)| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use crate::finding::Code;
    use crate::validate::lint_bytes;

    #[test]
    fn installer_arguments() {
        let f = lint_bytes(
            "t",
            b"LABEL a\n append ksdevice=link initrd=i ks=nfs:h:/ks.cfg repo=ftp://x inst.ks=x\n",
        );
        let d: Vec<_> = f
            .iter()
            .filter(|f| f.code == Code::DeprecatedInstallerArg)
            .collect();
        assert_eq!(d.len(), 3, "{d:#?}");
        assert_eq!(d[0].location.column, 9);
        assert!(d[1].hint.contains("inst.ks="));
    }

    #[test]
    fn initrd_twice_and_length() {
        let f = lint_bytes("t", b"LABEL a\n KERNEL k\n INITRD i\n APPEND initrd=j\n");
        assert!(f.iter().any(|f| f.code == Code::InitrdTwice));
        let long = format!("LABEL a\n KERNEL k\n APPEND {}\n", "x".repeat(2040));
        assert!(lint_bytes("t", long.as_bytes())
            .iter()
            .any(|f| f.code == Code::CommandLineTooLong));
        let ok = format!("LABEL a\n KERNEL k\n APPEND {}\n", "x".repeat(2000));
        assert!(!lint_bytes("t", ok.as_bytes())
            .iter()
            .any(|f| f.code == Code::CommandLineTooLong));
    }
}
