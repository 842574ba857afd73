//! Findings: what the validator reports, with a stable code, a severity,
//! a file:line:column location and a fix hint.

use std::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Probably a mistake.
    Warning,
    /// The machine will not boot as intended.
    Error,
}

impl Severity {
    /// Lower-case name (`error`, `warning`, `info`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

macro_rules! codes {
    ($($variant:ident = $code:literal, $name:literal, $sev:ident, $doc:literal;)*) => {
        /// A stable finding code. The numbers never change meaning.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $(#[doc = $doc] $variant,)*
        }

        impl Code {
            /// Every code, in numeric order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable identifier, e.g. `PXL010`.
            pub fn id(self) -> &'static str {
                match self { $(Self::$variant => $code,)* }
            }

            /// A short kebab-case name, e.g. `duplicate-label`.
            pub fn name(self) -> &'static str {
                match self { $(Self::$variant => $name,)* }
            }

            /// The severity findings with this code have.
            pub fn severity(self) -> Severity {
                match self { $(Self::$variant => Severity::$sev,)* }
            }

            /// One sentence saying what the code means.
            pub fn description(self) -> &'static str {
                match self { $(Self::$variant => $doc,)* }
            }
        }
    };
}

codes! {
    UnknownKeyword = "PXL001", "unknown-keyword", Warning, "A line starts with a word neither parser knows; syslinux ignores it silently.";
    UnknownMenuKeyword = "PXL002", "unknown-menu-keyword", Warning, "MENU followed by a word neither parser knows; ignored silently.";
    MenuOnlyKeyword = "PXL003", "menu-only-keyword", Info, "A keyword only menu.c32 reads, in a configuration that runs no menu module.";
    DuplicateLabel = "PXL010", "duplicate-label", Error, "Two labels share a name; only the first can be chosen by name.";
    LabelWithSpace = "PXL011", "label-with-space", Warning, "LABEL with a space: ldlinux takes the first word, menu.c32 the whole line.";
    DefaultTargetMissing = "PXL012", "default-target-missing", Error, "DEFAULT names no label (and is not a file that exists).";
    OnTimeoutTargetMissing = "PXL013", "ontimeout-target-missing", Error, "ONTIMEOUT names no label.";
    GotoTargetMissing = "PXL014", "goto-target-missing", Error, "MENU GOTO / MENU EXIT names no MENU BEGIN tag; the entry is disabled.";
    MultipleDefault = "PXL015", "multiple-default", Warning, "Several DEFAULT lines; the last one wins.";
    DefaultWithoutUi = "PXL016", "default-without-ui", Warning, "MENU directives and DEFAULT without UI: the menu is never shown.";
    DefaultMenuModule = "PXL017", "default-menu-module", Info, "DEFAULT menu.c32 is the pre-4.x way to start a menu; UI is meant.";
    MultipleMenuDefault = "PXL018", "multiple-menu-default", Warning, "Several labels in one menu carry MENU DEFAULT; the last one wins.";
    TimeoutSeconds = "PXL020", "timeout-seconds", Warning, "TIMEOUT / TOTALTIMEOUT count tenths of a second; the value looks like seconds.";
    HashInArgument = "PXL021", "hash-in-argument", Warning, "`#` mid-line is not a comment: it and the rest of the line are passed on.";
    CommandLineTooLong = "PXL022", "command-line-too-long", Error, "The kernel command line is 2048 bytes or more.";
    InitrdTwice = "PXL023", "initrd-twice", Warning, "initrd= in APPEND together with an INITRD line.";
    BadColor = "PXL024", "bad-color", Warning, "MENU COLOR with an unknown name or a malformed colour.";
    NoHaltBug = "PXL025", "nohalt-bug", Warning, "NOHALT's value is read two bytes too far: `NOHALT 1` reads 0.";
    F0Bug = "PXL026", "f0-bug", Warning, "F0 is stored as F11 (and F10 is a different key).";
    RemovedImageType = "PXL027", "removed-image-type", Error, "COMBOOT and FDIMAGE images were removed in syslinux 5.";
    DeprecatedInstallerArg = "PXL028", "deprecated-installer-arg", Warning, "Installer argument without `inst.` (ks=, ksdevice, repo=, …) that RHEL 9 no longer reads.";
    KernelOutsideLabel = "PXL029", "kernel-outside-label", Warning, "A KERNEL / INITRD line before any LABEL is ignored.";
    UnterminatedText = "PXL030", "unterminated-text", Warning, "TEXT without ENDTEXT swallows the rest of the file.";
    UnbalancedMenu = "PXL031", "unbalanced-menu", Error, "MENU BEGIN without MENU END, or MENU END without MENU BEGIN.";
    LineTooLong = "PXL032", "line-too-long", Warning, "Lines over 4095 bytes are split by syslinux; the rest is read as a new line.";
    AbsolutePath = "PXL033", "absolute-path", Info, "A leading `/` does not escape the PXELINUX prefix; only `::path` or a URL does.";
    ConfigFileName = "PXL034", "config-file-name", Warning, "A pxelinux.cfg file name PXELINUX never requests (upper-case MAC, bad hex IP).";
    ModuleDependencies = "PXL035", "module-dependencies", Info, "The menu module needs library modules next to it (checked with a TFTP root).";
    MissingKernel = "PXL040", "missing-kernel", Error, "The kernel file does not exist under the TFTP root.";
    MissingInitrd = "PXL041", "missing-initrd", Error, "An initrd file does not exist under the TFTP root.";
    MissingInclude = "PXL042", "missing-include", Warning, "An included file does not exist; syslinux skips it silently.";
    MissingFile = "PXL043", "missing-file", Warning, "A help, background, display, font or keymap file does not exist.";
    MissingModule = "PXL044", "missing-module", Error, "A .c32 module (UI, COM32, DEFAULT) does not exist.";
    MissingLibrary = "PXL045", "missing-library", Error, "ldlinux.c32, libutil.c32 or libcom32.c32 is missing next to the modules that need it.";
    IncludeLoop = "PXL046", "include-loop", Error, "INCLUDE loop; syslinux does not detect it and never finishes reading.";
    Unreadable = "PXL047", "unreadable", Error, "The file could not be read.";
    OutsideRoot = "PXL048", "outside-root", Error, "A file name that leads outside the TFTP root (`..`, or a symlink out of it); the TFTP server refuses it and it is not read.";
    RefusedName = "PXL049", "refused-name", Error, "A file name the TFTP server refuses: a control character, or no name left; it is not read.";
    IncludeLimit = "PXL050", "include-limit", Warning, "INCLUDEs nested too deep, or too many lines in all: the rest is not read or checked.";
    UnknownCommand = "BCF001", "unknown-command", Warning, "An iPXE script or grub.cfg runs a command neither loader knows (a typo, or a command not built in).";
    ScriptSyntax = "BCF002", "script-syntax", Error, "An iPXE script without `#!ipxe` on line 1, or a grub.cfg with an unclosed quote or brace: the loader rejects the file.";
    EntryTargetMissing = "BCF012", "entry-target-missing", Error, "iPXE `goto` or `choose --default`, or GRUB `set default=`, names no label, item or menu entry.";
    LoaderFileName = "BCF034", "loader-file-name", Warning, "A per-host file name the loader never requests (`grub.cfg-01-` with a malformed MAC, lower-case hex IP; an iPXE script named by MAC in another form).";
    MissingChained = "BCF043", "missing-chained", Error, "A script, configuration or image that iPXE `chain` or GRUB `configfile` / `source` / `chainloader` loads does not exist under the root.";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id(), self.name())
    }
}

/// Text from a configuration as it goes into a message: control characters
/// written as `\xNN` (nothing can move the cursor or forge a line), and cut
/// after [`SHOWN_MAX`] characters.
pub fn shown(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == SHOWN_MAX {
            out.push('…');
            break;
        }
        push_char(&mut out, c);
    }
    out
}

/// A message with configuration text in it: control characters escaped
/// everywhere and every `` `quoted` `` part passed through [`shown`].
pub fn tidy(message: &str) -> String {
    message
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                shown(part)
            } else {
                shown_whole(part)
            }
        })
        .collect::<Vec<_>>()
        .join("`")
}

fn shown_whole(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_char(&mut out, c);
    }
    out
}

fn push_char(out: &mut String, c: char) {
    // `is_control`: C0, DEL and C1, all below 0x100.
    if c.is_control() {
        out.push_str(&format!("\\x{:02x}", u32::from(c)));
    } else {
        out.push(c);
    }
}

/// Characters of configuration text shown in a message.
pub const SHOWN_MAX: usize = 200;

/// A position in a file: 1-based line and column (column counts bytes).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// The file as given or as resolved.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One validator finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The code.
    pub code: Code,
    /// The severity (normally `code.severity()`).
    pub severity: Severity,
    /// Where.
    pub location: Location,
    /// What is wrong, specific to this occurrence.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl Finding {
    /// A finding with the code's default severity.
    pub fn new(
        code: Code,
        location: Location,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self {
            code,
            severity: code.severity(),
            location,
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// Override the severity.
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}[{}]: {}\n  hint: {}",
            self.location,
            self.severity.as_str(),
            self.code,
            self.message,
            self.hint
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_formatted() {
        let mut ids: Vec<_> = Code::ALL.iter().map(|c| c.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Code::ALL.len());
        assert_eq!(Code::DuplicateLabel.to_string(), "PXL010 duplicate-label");
        let f = Finding::new(
            Code::MissingKernel,
            Location {
                file: "default".into(),
                line: 3,
                column: 9,
            },
            "m",
            "h",
        );
        assert_eq!(
            f.to_string(),
            "default:3:9: error[PXL040 missing-kernel]: m\n  hint: h"
        );
    }
}
