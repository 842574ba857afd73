//! The keywords syslinux 6.x knows, and which of its two parsers (ldlinux.c32's
//! CLI parser, menu.c32's parser) reads each of them.

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
    /// `NONE`: the first entry of syslinux's kernel-type table; accepted as a
    /// keyword but boots nothing useful (undocumented).
    None,
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
            Self::None => "none",
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
