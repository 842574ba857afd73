//! The directive table: every keyword syslinux 6.x accepts, and which of its
//! two parsers (ldlinux.c32's CLI parser, menu.c32's parser) reads it.
//!
//! Recognition follows syslinux's `looking_at()`: ASCII case-insensitive, and a
//! keyword must be followed by a byte `<= 0x20` or the end of the line.

pub use crate::keyword::{KernelType, Keyword, MenuKeyword, Readers};

/// Top-level words, in the order syslinux tries them.
const TOP: &[(&str, Keyword)] = &[
    ("include", Keyword::Include),
    ("append", Keyword::Append),
    ("initrd", Keyword::Initrd),
    ("label", Keyword::Label),
    ("none", Keyword::Kernel(KernelType::None)),
    ("localboot", Keyword::Kernel(KernelType::LocalBoot)),
    ("kernel", Keyword::Kernel(KernelType::Kernel)),
    ("linux", Keyword::Kernel(KernelType::Linux)),
    ("boot", Keyword::Kernel(KernelType::Boot)),
    ("bss", Keyword::Kernel(KernelType::Bss)),
    ("pxe", Keyword::Kernel(KernelType::Pxe)),
    ("fdimage", Keyword::Kernel(KernelType::FdImage)),
    ("comboot", Keyword::Kernel(KernelType::ComBoot)),
    ("com32", Keyword::Kernel(KernelType::Com32)),
    ("config", Keyword::Kernel(KernelType::Config)),
    ("timeout", Keyword::Timeout),
    ("totaltimeout", Keyword::TotalTimeout),
    ("ontimeout", Keyword::OnTimeout),
    ("allowoptions", Keyword::AllowOptions),
    ("ipappend", Keyword::IpAppend),
    ("sysappend", Keyword::SysAppend),
    ("default", Keyword::Default),
    ("ui", Keyword::Ui),
    ("display", Keyword::Display),
    ("font", Keyword::Font),
    ("kbdmap", Keyword::KbdMap),
    ("implicit", Keyword::Implicit),
    ("prompt", Keyword::Prompt),
    ("console", Keyword::Console),
    ("noescape", Keyword::NoEscape),
    ("nocomplete", Keyword::NoComplete),
    ("nohalt", Keyword::NoHalt),
    ("onerror", Keyword::OnError),
    ("pxeretry", Keyword::PxeRetry),
    ("serial", Keyword::Serial),
    ("say", Keyword::Say),
    ("path", Keyword::Path),
    ("sendcookies", Keyword::SendCookies),
    ("text", Keyword::Text),
    ("endtext", Keyword::EndText),
];

/// `MENU` sub-words. `master` is handled separately (it needs `passwd`).
const MENU_WORDS: &[(&str, MenuKeyword)] = &[
    ("label", MenuKeyword::Label),
    ("title", MenuKeyword::Title),
    ("default", MenuKeyword::Default),
    ("hide", MenuKeyword::Hide),
    ("passwd", MenuKeyword::Passwd),
    ("shiftkey", MenuKeyword::ShiftKey),
    ("save", MenuKeyword::Save),
    ("nosave", MenuKeyword::NoSave),
    ("immediate", MenuKeyword::Immediate),
    ("noimmediate", MenuKeyword::NoImmediate),
    ("onerror", MenuKeyword::OnError),
    ("include", MenuKeyword::Include),
    ("background", MenuKeyword::Background),
    ("hidden", MenuKeyword::Hidden),
    ("hiddenkey", MenuKeyword::HiddenKey),
    ("clear", MenuKeyword::Clear),
    ("autoboot", MenuKeyword::Message),
    ("tabmsg", MenuKeyword::Message),
    ("notabmsg", MenuKeyword::Message),
    ("passprompt", MenuKeyword::Message),
    ("color", MenuKeyword::Color),
    ("colour", MenuKeyword::Color),
    ("msgcolor", MenuKeyword::MsgColor),
    ("msgcolour", MenuKeyword::MsgColor),
    ("separator", MenuKeyword::Separator),
    ("disable", MenuKeyword::Disable),
    ("disabled", MenuKeyword::Disable),
    ("indent", MenuKeyword::Indent),
    ("begin", MenuKeyword::Begin),
    ("end", MenuKeyword::End),
    ("quit", MenuKeyword::Quit),
    ("goto", MenuKeyword::Goto),
    ("exit", MenuKeyword::Exit),
    ("start", MenuKeyword::Start),
    ("help", MenuKeyword::Help),
    ("resolution", MenuKeyword::Resolution),
    ("width", MenuKeyword::Layout),
    ("margin", MenuKeyword::Layout),
    ("passwordmargin", MenuKeyword::Layout),
    ("rows", MenuKeyword::Layout),
    ("tabmsgrow", MenuKeyword::Layout),
    ("cmdlinerow", MenuKeyword::Layout),
    ("endrow", MenuKeyword::Layout),
    ("passwordrow", MenuKeyword::Layout),
    ("timeoutrow", MenuKeyword::Layout),
    ("helpmsgrow", MenuKeyword::Layout),
    ("helpmsgendrow", MenuKeyword::Layout),
    ("hshift", MenuKeyword::Layout),
    ("vshift", MenuKeyword::Layout),
    ("hiddenrow", MenuKeyword::Layout),
];

/// The colour table names `MENU COLOR` accepts (com32/menu/colors.c).
pub const COLOR_NAMES: &[&str] = &[
    "screen",
    "border",
    "title",
    "unsel",
    "hotkey",
    "sel",
    "hotsel",
    "scrollbar",
    "tabmsg",
    "cmdmark",
    "cmdline",
    "pwdborder",
    "pwdheader",
    "pwdentry",
    "timeout_msg",
    "timeout",
    "help",
    "disabled",
];

/// Every top-level word, for spelling suggestions.
pub fn top_level_words() -> impl Iterator<Item = &'static str> {
    TOP.iter().map(|(w, _)| *w).chain(["menu"])
}

/// Every `MENU` sub-word, for spelling suggestions.
pub fn menu_words() -> impl Iterator<Item = &'static str> {
    MENU_WORDS.iter().map(|(w, _)| *w).chain(["master"])
}

/// `looking_at()`: if `line` starts with `word` (ASCII case-insensitive) followed by
/// a byte `<= 0x20` or the end, the offset just past the word.
pub fn looking_at(line: &[u8], word: &str) -> Option<usize> {
    let w = word.as_bytes();
    if line.len() < w.len() || !line[..w.len()].eq_ignore_ascii_case(w) {
        return None;
    }
    match line.get(w.len()) {
        None => Some(w.len()),
        Some(&b) if b <= b' ' => Some(w.len()),
        Some(_) => None,
    }
}

/// Offset of the first byte after `from` that is not `<= 0x20` (syslinux `skipspace`).
pub fn skip_space(line: &[u8], mut from: usize) -> usize {
    while from < line.len() && line[from] <= b' ' {
        from += 1;
    }
    from
}

/// A recognized keyword with the byte offset where its words end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recognized {
    /// The keyword.
    pub keyword: Keyword,
    /// Offset (in the slice given to [`recognize`]) just past the keyword's last word.
    pub end: usize,
}

/// Recognize the keyword at the start of `text` (leading whitespace already skipped).
pub fn recognize(text: &[u8]) -> Option<Recognized> {
    if let Some(end) = looking_at(text, "menu") {
        let sub = skip_space(text, end);
        let rest = &text[sub..];
        if let Some(e) = looking_at(rest, "master") {
            let p = skip_space(rest, e);
            if let Some(e2) = looking_at(&rest[p..], "passwd") {
                return Some(Recognized {
                    keyword: Keyword::Menu(MenuKeyword::MasterPasswd),
                    end: sub + p + e2,
                });
            }
        }
        for (word, kw) in MENU_WORDS {
            if let Some(e) = looking_at(rest, word) {
                return Some(Recognized {
                    keyword: Keyword::Menu(*kw),
                    end: sub + e,
                });
            }
        }
        return Some(Recognized {
            keyword: Keyword::Menu(MenuKeyword::Unknown),
            end,
        });
    }
    if let Some(n) = fkey(text) {
        return Some(n);
    }
    TOP.iter()
        .find_map(|(word, kw)| looking_at(text, word).map(|end| Recognized { keyword: *kw, end }))
}

/// `is_fkey()`: `F` followed by decimal digits and whitespace; 0..=12 accepted.
fn fkey(text: &[u8]) -> Option<Recognized> {
    if text.first().map(|b| b | 0x20) != Some(b'f') {
        return None;
    }
    let digits = text[1..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let end = 1 + digits;
    if text.get(end).is_some_and(|&b| b > b' ') {
        return None;
    }
    let n: u32 = std::str::from_utf8(&text[1..end]).ok()?.parse().ok()?;
    (n <= 12).then_some(Recognized {
        keyword: Keyword::FKey(n as u8),
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_need_whitespace_after() {
        assert_eq!(looking_at(b"kernel vmlinuz", "kernel"), Some(6));
        assert_eq!(looking_at(b"KERNEL", "kernel"), Some(6));
        assert_eq!(looking_at(b"kernelx", "kernel"), None);
        assert_eq!(looking_at(b"kern", "kernel"), None);
    }

    #[test]
    fn menu_words_and_master_passwd() {
        let r = recognize(b"MENU  master   PASSWD x").unwrap();
        assert_eq!(r.keyword, Keyword::Menu(MenuKeyword::MasterPasswd));
        assert_eq!(r.end, 21);
        let r = recognize(b"menu lable x").unwrap();
        assert_eq!(r.keyword, Keyword::Menu(MenuKeyword::Unknown));
        assert_eq!(r.end, 4);
        let r = recognize(b"menu colour sel 0").unwrap();
        assert_eq!(r.keyword, Keyword::Menu(MenuKeyword::Color));
    }

    #[test]
    fn fkeys_and_kernel_types() {
        assert_eq!(recognize(b"F0 a").unwrap().keyword, Keyword::FKey(0));
        assert_eq!(recognize(b"f12 a").unwrap().keyword, Keyword::FKey(12));
        assert!(recognize(b"F13 a").is_none());
        assert!(recognize(b"F1x a").is_none());
        assert_eq!(
            recognize(b"COM32 menu.c32").unwrap().keyword,
            Keyword::Kernel(KernelType::Com32)
        );
        assert!(recognize(b"# comment").is_none());
    }

    #[test]
    fn readers_model_the_two_parsers() {
        assert!(!Keyword::Menu(MenuKeyword::Resolution).readers().ldlinux);
        assert!(!Keyword::Say.readers().menu);
        assert_eq!(
            Keyword::Label.readers(),
            Readers {
                ldlinux: true,
                menu: true
            }
        );
    }
}
