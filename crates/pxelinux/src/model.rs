//! The typed model: globals, labels and menus, as ldlinux and menu.c32 build them.
//!
//! The model is built from a sequence of lines that may come from several files
//! (INCLUDE reads another file as if it were pasted in place).

use crate::directive::{KernelType, Keyword, MenuKeyword};
use crate::include::SourceSet;
use crate::syntax::{Document, Line, LineKind};

/// Submenu marks for one line (from `MENU INCLUDE file tag`).
#[derive(Debug, Clone, Default)]
struct Marks {
    open: Option<String>,
    close: usize,
}

/// Where a line is: index of the file in the source set and 0-based line index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pos {
    /// Index of the file.
    pub file: usize,
    /// 0-based line index in that file.
    pub line: usize,
}

/// A directive's value and where it was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The argument text (trailing whitespace kept).
    pub value: String,
    /// Where.
    pub pos: Pos,
}

/// A `LABEL` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The name ldlinux (the CLI) uses: the first word after LABEL.
    pub cli_name: String,
    /// The name menu.c32 uses: the whole rest of the line.
    pub menu_name: String,
    /// The LABEL line.
    pub pos: Pos,
    /// The kernel line (type and file with arguments), if any.
    pub kernel: Option<(KernelType, Setting)>,
    /// APPEND of this label.
    pub append: Option<Setting>,
    /// INITRD of this label.
    pub initrd: Option<Setting>,
    /// IPAPPEND / SYSAPPEND of this label.
    pub ipappend: Option<Setting>,
    /// MENU LABEL.
    pub menu_label: Option<Setting>,
    /// MENU DEFAULT was given.
    pub menu_default: Option<Pos>,
    /// MENU HIDE was given.
    pub hidden: bool,
    /// MENU DISABLE or MENU SEPARATOR: shown, not selectable, no name (syslinux drops it).
    pub disabled: bool,
    /// MENU GOTO / MENU EXIT target.
    pub goto: Option<Setting>,
    /// TEXT HELP body lines.
    pub help: Vec<String>,
    /// Index of the menu (in [`Config::menus`]) the label belongs to.
    pub menu: usize,
}

impl Label {
    fn new(arg: &str, pos: Pos, menu: usize) -> Self {
        let cli_name = arg
            .split(|c: char| c <= ' ')
            .next()
            .unwrap_or("")
            .to_string();
        Self {
            cli_name,
            menu_name: arg.to_string(),
            pos,
            kernel: None,
            append: None,
            initrd: None,
            ipappend: None,
            menu_label: None,
            menu_default: None,
            hidden: false,
            disabled: false,
            goto: None,
            help: Vec::new(),
            menu,
        }
    }

    /// The kernel file: the KERNEL-type argument's first word, else the label name
    /// (syslinux boots a file named like the label when there is no KERNEL line).
    pub fn kernel_file(&self) -> Option<&str> {
        match &self.kernel {
            Some((KernelType::LocalBoot | KernelType::None, _)) => None,
            Some((_, s)) => s.value.split_whitespace().next(),
            None if self.goto.is_some() => None,
            None => Some(self.cli_name.as_str()),
        }
    }

    /// The text shown in the menu.
    pub fn display(&self) -> String {
        match &self.menu_label {
            Some(s) => s.value.replace('^', ""),
            None => self.menu_name.clone(),
        }
    }
}

/// A menu: the top level or a `MENU BEGIN` … `MENU END` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Menu {
    /// The tag after MENU BEGIN (empty for the top level).
    pub tag: String,
    /// MENU TITLE.
    pub title: Option<Setting>,
    /// The MENU BEGIN line (None for the top level).
    pub begin: Option<Pos>,
    /// The MENU END line.
    pub end: Option<Pos>,
    /// Parent menu index.
    pub parent: Option<usize>,
}

/// Everything outside labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Globals {
    /// Each global directive in order of appearance.
    pub settings: Vec<(Keyword, Setting)>,
}

impl Globals {
    /// All settings of one keyword, in order.
    pub fn all(&self, kw: Keyword) -> impl Iterator<Item = &Setting> {
        self.settings
            .iter()
            .filter(move |(k, _)| *k == kw)
            .map(|(_, s)| s)
    }

    /// The setting that wins (the last one).
    pub fn last(&self, kw: Keyword) -> Option<&Setting> {
        self.all(kw).last()
    }
}

/// The typed view of one configuration (a file plus everything it includes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// Global directives.
    pub globals: Globals,
    /// Labels in order.
    pub labels: Vec<Label>,
    /// Menus; index 0 is the top level.
    pub menus: Vec<Menu>,
    /// Kernel-type lines met outside any label (syslinux ignores them).
    pub orphans: Vec<Pos>,
    /// MENU END lines without a MENU BEGIN.
    pub stray_ends: Vec<Pos>,
}

impl Config {
    /// Build the model of a single document.
    pub fn from_document(doc: &Document) -> Self {
        Self::from_lines(
            doc.lines
                .iter()
                .enumerate()
                .map(|(i, l)| (Pos { file: 0, line: i }, l)),
        )
    }

    /// Build the model from lines in reading order (several files possible).
    pub fn from_lines<'a>(lines: impl IntoIterator<Item = (Pos, &'a Line)>) -> Self {
        Self::build(lines.into_iter().map(|(p, l)| (p, l, Marks::default())))
    }

    /// Build the model of a loaded configuration; a `MENU INCLUDE file tag` whose
    /// file was read becomes a submenu around the included lines, as in menu.c32.
    pub fn from_set(set: &SourceSet) -> Self {
        let mut marks: Vec<Marks> = vec![Marks::default(); set.order.len()];
        for sub in &set.submenus {
            marks[sub.start].open = Some(sub.tag.clone());
            marks[sub.end].close += 1;
        }
        Self::build(
            set.order
                .iter()
                .zip(marks)
                .map(|(&p, m)| (p, set.line(p), m)),
        )
    }

    fn build<'a>(lines: impl Iterator<Item = (Pos, &'a Line, Marks)>) -> Self {
        let mut cfg = Self {
            menus: vec![Menu {
                tag: String::new(),
                title: None,
                begin: None,
                end: None,
                parent: None,
            }],
            ..Self::default()
        };
        let mut current_menu = 0usize;
        let mut open: Option<Label> = None;
        let mut help_open = false;
        for (pos, line, marks) in lines {
            if let Some(tag) = marks.open {
                cfg.labels.extend(open.take());
                cfg.begin_menu(tag, pos, &mut current_menu);
            } else if let LineKind::Text = line.kind {
                if help_open {
                    if let Some(l) = open.as_mut() {
                        l.help.push(line.text().trim_end_matches('\r').to_string());
                    }
                }
            } else if let Some(d) = line.directive() {
                let arg = line.arg();
                let setting = Setting {
                    value: arg.clone(),
                    pos,
                };
                match d.keyword {
                    Keyword::Label => {
                        cfg.labels.extend(open.take());
                        open = Some(Label::new(&arg, pos, current_menu));
                    }
                    Keyword::Menu(MenuKeyword::Begin) => {
                        cfg.labels.extend(open.take());
                        let tag = arg.split_whitespace().next().unwrap_or("").to_string();
                        cfg.begin_menu(tag, pos, &mut current_menu);
                    }
                    Keyword::Menu(MenuKeyword::End) => {
                        cfg.labels.extend(open.take());
                        cfg.end_menu(pos, &mut current_menu);
                    }
                    Keyword::Menu(MenuKeyword::Title) => {
                        cfg.menus[current_menu].title = Some(setting);
                    }
                    Keyword::Text => help_open = arg.to_ascii_lowercase().starts_with("help"),
                    Keyword::EndText => help_open = false,
                    kw if kw.is_label_scoped() && open.is_some() => {
                        apply_to_label(open.as_mut().expect("checked"), kw, setting);
                    }
                    Keyword::Kernel(_) | Keyword::Initrd => cfg.orphans.push(pos),
                    kw => cfg.globals.settings.push((kw, setting)),
                }
            }
            for _ in 0..marks.close {
                cfg.labels.extend(open.take());
                cfg.end_menu(pos, &mut current_menu);
            }
        }
        cfg.labels.extend(open.take());
        cfg
    }

    fn begin_menu(&mut self, tag: String, pos: Pos, current: &mut usize) {
        self.menus.push(Menu {
            tag,
            title: None,
            begin: Some(pos),
            end: None,
            parent: Some(*current),
        });
        *current = self.menus.len() - 1;
    }

    fn end_menu(&mut self, pos: Pos, current: &mut usize) {
        match self.menus[*current].parent {
            Some(p) => {
                self.menus[*current].end = Some(pos);
                *current = p;
            }
            None => self.stray_ends.push(pos),
        }
    }

    /// Whether a `UI` line exists.
    pub fn has_ui(&self) -> bool {
        self.globals.last(Keyword::Ui).is_some()
    }

    /// The menu module that will run, if any: `UI x`, or (without UI) a DEFAULT
    /// whose first word ends in `menu.c32`.
    pub fn menu_module(&self) -> Option<String> {
        let from = |s: &Setting| s.value.split_whitespace().next().map(str::to_string);
        if let Some(ui) = self.globals.last(Keyword::Ui) {
            return from(ui);
        }
        self.globals
            .last(Keyword::Default)
            .and_then(from)
            .filter(|m| m.to_ascii_lowercase().ends_with("menu.c32"))
    }

    /// Whether menu.c32 / vesamenu.c32 reads this configuration.
    pub fn uses_menu(&self) -> bool {
        self.menu_module()
            .is_some_and(|m| m.to_ascii_lowercase().ends_with("menu.c32"))
    }

    /// Find a label by the name the given parser uses.
    pub fn find_label(&self, name: &str, menu_parser: bool) -> Option<&Label> {
        self.labels.iter().find(|l| {
            if menu_parser {
                l.menu_name == name
            } else {
                l.cli_name == name
            }
        })
    }

    /// The label the machine boots by default, if DEFAULT (or MENU DEFAULT) names one.
    pub fn default_label(&self) -> Option<&Label> {
        if self.uses_menu() {
            if let Some(l) = self
                .labels
                .iter()
                .find(|l| l.menu_default.is_some() && l.menu == 0)
            {
                return Some(l);
            }
        }
        let by_default = self.globals.last(Keyword::Default).and_then(|d| {
            let word = d.value.split_whitespace().next()?;
            self.find_label(d.value.trim_end(), self.uses_menu())
                .or_else(|| self.find_label(word, false))
        });
        if by_default.is_some() || !self.uses_menu() {
            return by_default;
        }
        // menu.c32 preselects the first entry of the top-level menu.
        self.labels
            .iter()
            .find(|l| l.menu == 0 && !l.hidden && l.goto.is_none())
    }
}

fn apply_to_label(label: &mut Label, kw: Keyword, setting: Setting) {
    match kw {
        Keyword::Kernel(t) => label.kernel = Some((t, setting)),
        Keyword::Append => label.append = Some(setting),
        Keyword::Initrd => label.initrd = Some(setting),
        Keyword::IpAppend | Keyword::SysAppend => label.ipappend = Some(setting),
        Keyword::Menu(MenuKeyword::Label) => label.menu_label = Some(setting),
        Keyword::Menu(MenuKeyword::Default) => label.menu_default = Some(setting.pos),
        Keyword::Menu(MenuKeyword::Hide) => label.hidden = true,
        Keyword::Menu(MenuKeyword::Disable | MenuKeyword::Separator) => label.disabled = true,
        Keyword::Menu(MenuKeyword::Goto | MenuKeyword::Exit) => label.goto = Some(setting),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: &str = "DEFAULT vesamenu.c32\nTIMEOUT 50\nAPPEND quiet\nLABEL CentOS 7\n  MENU LABEL ^Install\n  KERNEL vmlinuz\n  APPEND initrd=i.img\nMENU BEGIN tools\n MENU TITLE Tools\n LABEL mem\n  KERNEL memtest\nMENU END\nLABEL local\n  LOCALBOOT 0\n";

    #[test]
    fn builds_labels_menus_and_globals() {
        let cfg = Config::from_document(&Document::parse_str(CFG));
        assert_eq!(cfg.labels.len(), 3);
        assert_eq!(cfg.labels[0].cli_name, "CentOS");
        assert_eq!(cfg.labels[0].menu_name, "CentOS 7");
        assert_eq!(cfg.labels[0].display(), "Install");
        assert_eq!(cfg.labels[1].menu, 1);
        assert_eq!(cfg.labels[2].menu, 0);
        assert_eq!(cfg.menus[1].title.as_ref().unwrap().value, "Tools");
        assert_eq!(cfg.globals.last(Keyword::Append).unwrap().value, "quiet");
        assert!(cfg.uses_menu());
        assert_eq!(cfg.labels[2].kernel_file(), None);
        assert_eq!(cfg.labels[1].kernel_file(), Some("memtest"));
    }

    #[test]
    fn menu_include_with_a_tag_is_a_submenu() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tools.cfg"), "LABEL mem\n KERNEL memtest\n").unwrap();
        let main = crate::SourceFile {
            name: "default".into(),
            doc: Document::parse_str(
                "UI menu.c32\nMENU INCLUDE tools.cfg Tools\nLABEL local\n LOCALBOOT 0\n",
            ),
        };
        let set = SourceSet::load(main, Some(&crate::Tree::new(dir.path(), "")));
        let cfg = Config::from_set(&set);
        assert_eq!(cfg.menus.len(), 2);
        assert_eq!(cfg.menus[1].tag, "Tools");
        assert_eq!(cfg.labels[0].menu, 1);
        assert_eq!(cfg.labels[1].menu, 0);
        assert!(cfg.stray_ends.is_empty());
    }

    #[test]
    fn kernel_outside_label_is_orphan() {
        let cfg = Config::from_document(&Document::parse_str("KERNEL x\nLABEL a\n"));
        assert_eq!(cfg.orphans.len(), 1);
        assert_eq!(cfg.labels[0].kernel_file(), Some("a"));
    }
}
