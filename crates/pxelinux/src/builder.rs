//! A builder for configurations; the result is canonically formatted.
//!
//! ```
//! use pxelinux::{ConfigBuilder, LabelBuilder};
//!
//! let doc = ConfigBuilder::new()
//!     .comment("generated")
//!     .ui("menu.c32")
//!     .default_label("debian")
//!     .timeout_tenths(50)
//!     .label(
//!         LabelBuilder::new("debian")
//!             .menu_label("^Debian 12 install")
//!             .kernel("debian/linux")
//!             .initrd("debian/initrd.gz")
//!             .append("auto=true priority=critical"),
//!     )
//!     .build()
//!     .unwrap();
//! let text = String::from_utf8(doc.to_bytes()).unwrap();
//! assert!(text.starts_with("# generated\nUI menu.c32\nDEFAULT debian\nTIMEOUT 50\n"));
//! assert!(text.contains("    INITRD debian/initrd.gz\n"));
//! ```

use crate::error::Error;
use crate::format::format;
use crate::syntax::Document;

/// Builds one `LABEL` block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelBuilder {
    name: String,
    lines: Vec<(String, String)>,
}

impl LabelBuilder {
    /// A label; the name must be one word.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            lines: Vec::new(),
        }
    }

    fn with(mut self, kw: &str, value: impl Into<String>) -> Self {
        self.lines.push((kw.to_string(), value.into()));
        self
    }

    /// `MENU LABEL` (`^` marks the hotkey).
    pub fn menu_label(self, text: impl Into<String>) -> Self {
        self.with("MENU LABEL", text)
    }

    /// `KERNEL file`.
    pub fn kernel(self, file: impl Into<String>) -> Self {
        self.with("KERNEL", file)
    }

    /// `LINUX file`.
    pub fn linux(self, file: impl Into<String>) -> Self {
        self.with("LINUX", file)
    }

    /// `COM32 module`.
    pub fn com32(self, module: impl Into<String>) -> Self {
        self.with("COM32", module)
    }

    /// `LOCALBOOT n`.
    pub fn localboot(self, n: i32) -> Self {
        self.with("LOCALBOOT", n.to_string())
    }

    /// `INITRD a,b` (several files separated by commas).
    pub fn initrd(self, files: impl Into<String>) -> Self {
        self.with("INITRD", files)
    }

    /// `APPEND arguments`.
    pub fn append(self, args: impl Into<String>) -> Self {
        self.with("APPEND", args)
    }

    /// `IPAPPEND mask`.
    pub fn ipappend(self, mask: u32) -> Self {
        self.with("IPAPPEND", mask.to_string())
    }

    /// `MENU DEFAULT`.
    pub fn menu_default(self) -> Self {
        self.with("MENU DEFAULT", "")
    }

    /// `MENU HIDE`.
    pub fn hide(self) -> Self {
        self.with("MENU HIDE", "")
    }
}

/// Builds a whole configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigBuilder {
    lines: Vec<(String, String)>,
    labels: Vec<LabelBuilder>,
}

impl ConfigBuilder {
    /// An empty configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// A global directive, e.g. `directive("SERIAL", "0 115200")`.
    pub fn directive(mut self, keyword: impl Into<String>, value: impl Into<String>) -> Self {
        self.lines.push((keyword.into(), value.into()));
        self
    }

    /// A comment line (`# text`); several lines allowed.
    pub fn comment(self, text: impl Into<String>) -> Self {
        let text = text.into();
        text.lines().fold(self, |b, l| b.directive("#", l))
    }

    /// `UI module`.
    pub fn ui(self, module: impl Into<String>) -> Self {
        self.directive("UI", module)
    }

    /// `DEFAULT label`.
    pub fn default_label(self, label: impl Into<String>) -> Self {
        self.directive("DEFAULT", label)
    }

    /// `TIMEOUT n` in tenths of a second.
    pub fn timeout_tenths(self, tenths: u32) -> Self {
        self.directive("TIMEOUT", tenths.to_string())
    }

    /// `PROMPT 0|1`.
    pub fn prompt(self, on: bool) -> Self {
        self.directive("PROMPT", if on { "1" } else { "0" })
    }

    /// `MENU TITLE text`.
    pub fn menu_title(self, title: impl Into<String>) -> Self {
        self.directive("MENU TITLE", title)
    }

    /// Add a label block (labels follow the global lines).
    pub fn label(mut self, label: LabelBuilder) -> Self {
        self.labels.push(label);
        self
    }

    /// Check every value and produce the formatted document.
    pub fn build(self) -> Result<Document, Error> {
        let mut text = Vec::new();
        for (kw, v) in &self.lines {
            check_value(kw, v)?;
            text.push(join(kw, v));
        }
        for l in &self.labels {
            if l.name.is_empty() || l.name.contains(|c: char| c <= ' ') {
                return Err(Error::Unrepresentable {
                    what: format!("LABEL `{}`", l.name),
                    reason: "a label must be one word (ldlinux only reads the first word)".into(),
                });
            }
            check_value("LABEL", &l.name)?;
            text.push(format!("LABEL {}", l.name));
            for (kw, v) in &l.lines {
                check_value(kw, v)?;
                text.push(join(kw, v));
            }
        }
        Ok(Document::parse(&format(&Document::from_text_lines(text))))
    }
}

fn join(kw: &str, v: &str) -> String {
    if v.is_empty() {
        kw.to_string()
    } else {
        format!("{kw} {v}")
    }
}

fn check_value(kw: &str, v: &str) -> Result<(), Error> {
    let bad = |reason: &str| Error::Unrepresentable {
        what: format!("{kw} `{v}`"),
        reason: reason.into(),
    };
    if v.contains(['\n', '\r']) {
        return Err(bad("values cannot contain line breaks"));
    }
    if kw != "#" && v.starts_with(|c: char| c <= ' ') {
        return Err(bad("leading whitespace is dropped by syslinux"));
    }
    if kw != "#"
        && v.split_whitespace().any(|w| w.starts_with('#'))
        && kw != "MENU LABEL"
        && kw != "MENU TITLE"
    {
        return Err(bad("`#` is not a comment mid-line; it would be passed on"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_cannot_be_written() {
        assert!(ConfigBuilder::new()
            .label(LabelBuilder::new("a b"))
            .build()
            .is_err());
        assert!(ConfigBuilder::new().default_label("a\nb").build().is_err());
        assert!(ConfigBuilder::new()
            .label(LabelBuilder::new("a").append("x # y"))
            .build()
            .is_err());
    }

    #[test]
    fn output_lints_clean() {
        let doc = ConfigBuilder::new()
            .default_label("local")
            .label(LabelBuilder::new("local").localboot(0))
            .build()
            .unwrap();
        assert_eq!(
            doc.to_bytes(),
            b"DEFAULT local\nLABEL local\n    LOCALBOOT 0\n"
        );
        assert!(crate::lint_bytes("x", &doc.to_bytes()).is_empty());
    }
}
