//! The directive table: every keyword syslinux 6.x accepts, and which of its
//! two parsers (ldlinux.c32's CLI parser, menu.c32's parser) reads it.
//!
//! Recognition follows syslinux's `looking_at()`: ASCII case-insensitive, and a
//! keyword must be followed by a byte `<= 0x20` or the end of the line.

/// The image type a label's kernel line selects (`kernel_types[]` in readconfig.c).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KernelType {
    /// `KERNEL`: type chosen at boot time from the file name suffix.
    Kernel,
    /// `LINUX`: a Linux kernel.
    Linux,
    /// `BOOT`: a boot sector.
    Boot,
    /// `BSS`: a boot sector with the DOS superblock patched in.
    Bss,
    /// `PXE`: a PXE network bootstrap program.
    Pxe,
    /// `FDIMAGE`: a floppy image (removed in syslinux 5).
    FdImage,
    /// `COMBOOT`: a 16-bit COMBOOT image (removed in syslinux 5).
    ComBoot,
    /// `COM32`: a COM32 module.
    Com32,
    /// `CONFIG`: restart with another configuration file.
    Config,
    /// `LOCALBOOT`: boot from the local disk or the next boot device.
    LocalBoot,
}

impl KernelType {
    /// The keyword as syslinux spells it in lower case.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Kernel => "kernel",
            Self::Linux => "linux",
            Self::Boot => "boot",
            Self::Bss => "bss",
            Self::Pxe => "pxe",
            Self::FdImage => "fdimage",
            Self::ComBoot => "comboot",
            Self::Com32 => "com32",
            Self::Config => "config",
            Self::LocalBoot => "localboot",
        }
    }
}

/// The `MENU` sub-keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MenuKeyword {
    /// `MENU LABEL`: the text shown for an entry (`^` marks the hotkey).
    Label,
    /// `MENU TITLE`.
    Title,
    /// `MENU DEFAULT`: preselect this entry.
    Default,
    /// `MENU HIDE`.
    Hide,
    /// `MENU PASSWD`.
    Passwd,
    /// `MENU MASTER PASSWD`.
    MasterPasswd,
    /// `MENU SHIFTKEY`.
    ShiftKey,
    /// `MENU SAVE`.
    Save,
    /// `MENU NOSAVE`.
    NoSave,
    /// `MENU IMMEDIATE` (menu.c32 only).
    Immediate,
    /// `MENU NOIMMEDIATE` (menu.c32 only).
    NoImmediate,
    /// `MENU ONERROR`.
    OnError,
    /// `MENU INCLUDE file [title]`.
    Include,
    /// `MENU BACKGROUND file`.
    Background,
    /// `MENU HIDDEN`.
    Hidden,
    /// `MENU HIDDENKEY` (menu.c32 only).
    HiddenKey,
    /// `MENU CLEAR` (menu.c32 only).
    Clear,
    /// `MENU AUTOBOOT`, `MENU TABMSG`, `MENU NOTABMSG`, `MENU PASSPROMPT`.
    Message,
    /// `MENU COLOR` / `MENU COLOUR`.
    Color,
    /// `MENU MSGCOLOR` / `MENU MSGCOLOUR`.
    MsgColor,
    /// `MENU SEPARATOR`.
    Separator,
    /// `MENU DISABLE` / `MENU DISABLED`.
    Disable,
    /// `MENU INDENT`.
    Indent,
    /// `MENU BEGIN [tag]`.
    Begin,
    /// `MENU END`.
    End,
    /// `MENU QUIT`.
    Quit,
    /// `MENU GOTO tag`.
    Goto,
    /// `MENU EXIT [tag]`.
    Exit,
    /// `MENU START`.
    Start,
    /// `MENU HELP file [background]` (menu.c32 only).
    Help,
    /// `MENU RESOLUTION x y` (menu.c32 only).
    Resolution,
    /// Layout integers: `MENU WIDTH`, `MENU MARGIN`, `MENU ROWS`, …
    Layout,
    /// `MENU` followed by a word neither parser knows (silently ignored).
    Unknown,
}

/// A recognized first word (or words) of a configuration line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keyword {
    /// `DEFAULT`.
    Default,
    /// `UI`.
    Ui,
    /// `PROMPT`.
    Prompt,
    /// `TIMEOUT` (tenths of a second).
    Timeout,
    /// `TOTALTIMEOUT` (tenths of a second).
    TotalTimeout,
    /// `ONTIMEOUT`.
    OnTimeout,
    /// `ONERROR`.
    OnError,
    /// `NOESCAPE`.
    NoEscape,
    /// `NOCOMPLETE`.
    NoComplete,
    /// `NOHALT`.
    NoHalt,
    /// `IMPLICIT`.
    Implicit,
    /// `ALLOWOPTIONS`.
    AllowOptions,
    /// `SERIAL port [baud [flow]]`.
    Serial,
    /// `CONSOLE`.
    Console,
    /// `FONT`.
    Font,
    /// `KBDMAP`.
    KbdMap,
    /// `DISPLAY`.
    Display,
    /// `SAY`.
    Say,
    /// `F0`…`F12`; the number as written.
    FKey(u8),
    /// `INCLUDE`.
    Include,
    /// `PATH`.
    Path,
    /// `APPEND`.
    Append,
    /// `IPAPPEND`.
    IpAppend,
    /// `SYSAPPEND`.
    SysAppend,
    /// `PXERETRY` (undocumented).
    PxeRetry,
    /// `SENDCOOKIES` (undocumented, lpxelinux).
    SendCookies,
    /// `LABEL`.
    Label,
    /// A kernel-type line (`KERNEL`, `LINUX`, `COM32`, `LOCALBOOT`, …).
    Kernel(KernelType),
    /// `INITRD`.
    Initrd,
    /// `TEXT` (starts a block that runs to `ENDTEXT`).
    Text,
    /// `ENDTEXT`.
    EndText,
    /// `MENU …`.
    Menu(MenuKeyword),
}

/// Which of the two syslinux parsers reads a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readers {
    /// Read by ldlinux.c32 (always runs).
    pub ldlinux: bool,
    /// Read by menu.c32 / vesamenu.c32 (runs when `UI menu.c32` is used).
    pub menu: bool,
}

const BOTH: Readers = Readers {
    ldlinux: true,
    menu: true,
};
const LDLINUX: Readers = Readers {
    ldlinux: true,
    menu: false,
};
const MENU: Readers = Readers {
    ldlinux: false,
    menu: true,
};

/// Top-level words, in the order syslinux tries them.
const TOP: &[(&str, Keyword)] = &[
    ("include", Keyword::Include),
    ("append", Keyword::Append),
    ("initrd", Keyword::Initrd),
    ("label", Keyword::Label),
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

impl Keyword {
    /// Which parsers read this keyword.
    pub fn readers(self) -> Readers {
        match self {
            Self::Prompt
            | Self::Display
            | Self::Font
            | Self::KbdMap
            | Self::Implicit
            | Self::Console
            | Self::NoEscape
            | Self::NoComplete
            | Self::NoHalt
            | Self::OnError
            | Self::PxeRetry
            | Self::Serial
            | Self::Say
            | Self::Path
            | Self::SendCookies => LDLINUX,
            Self::Menu(
                MenuKeyword::Immediate
                | MenuKeyword::NoImmediate
                | MenuKeyword::HiddenKey
                | MenuKeyword::Clear
                | MenuKeyword::Help
                | MenuKeyword::Resolution,
            ) => MENU,
            Self::Menu(MenuKeyword::Unknown) => Readers {
                ldlinux: false,
                menu: false,
            },
            _ => BOTH,
        }
    }

    /// The canonical upper-case spelling used by the formatter (`None` for
    /// keywords whose spelling carries information, like `F1` or `MENU COLOUR`).
    pub fn canonical(self) -> Option<&'static str> {
        Some(match self {
            Self::Default => "DEFAULT",
            Self::Ui => "UI",
            Self::Prompt => "PROMPT",
            Self::Timeout => "TIMEOUT",
            Self::TotalTimeout => "TOTALTIMEOUT",
            Self::OnTimeout => "ONTIMEOUT",
            Self::OnError => "ONERROR",
            Self::NoEscape => "NOESCAPE",
            Self::NoComplete => "NOCOMPLETE",
            Self::NoHalt => "NOHALT",
            Self::Implicit => "IMPLICIT",
            Self::AllowOptions => "ALLOWOPTIONS",
            Self::Serial => "SERIAL",
            Self::Console => "CONSOLE",
            Self::Font => "FONT",
            Self::KbdMap => "KBDMAP",
            Self::Display => "DISPLAY",
            Self::Say => "SAY",
            Self::Include => "INCLUDE",
            Self::Path => "PATH",
            Self::Append => "APPEND",
            Self::IpAppend => "IPAPPEND",
            Self::SysAppend => "SYSAPPEND",
            Self::PxeRetry => "PXERETRY",
            Self::SendCookies => "SENDCOOKIES",
            Self::Label => "LABEL",
            Self::Initrd => "INITRD",
            Self::Text => "TEXT",
            Self::EndText => "ENDTEXT",
            Self::Kernel(_) | Self::FKey(_) | Self::Menu(_) => return None,
        })
    }

    /// True for keywords that belong to the current label when one is open.
    pub fn is_label_scoped(self) -> bool {
        matches!(
            self,
            Self::Kernel(_)
                | Self::Append
                | Self::Initrd
                | Self::IpAppend
                | Self::SysAppend
                | Self::Text
                | Self::Menu(
                    MenuKeyword::Label
                        | MenuKeyword::Default
                        | MenuKeyword::Hide
                        | MenuKeyword::Passwd
                        | MenuKeyword::Separator
                        | MenuKeyword::Disable
                        | MenuKeyword::Indent
                        | MenuKeyword::Goto
                        | MenuKeyword::Exit
                        | MenuKeyword::Quit
                        | MenuKeyword::Help
                )
        )
    }
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
        assert_eq!(Keyword::Label.readers(), BOTH);
    }
}
