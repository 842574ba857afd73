//! Loading a configuration with everything it INCLUDEs, in time linear in the
//! input.
//!
//! syslinux reads an included file in place, every time it is included, and
//! does not notice loops (it never finishes). Loading here has three passes:
//! 1. read: every file reachable through `INCLUDE` / `MENU INCLUDE` is read and
//!    parsed once, keyed by its real path (so a symlink or `a//b` is the same
//!    file), every name resolved by the TFTP server's rules ([`crate::confine`]);
//! 2. loops: one depth-first walk over the include graph; an INCLUDE that
//!    re-enters a file being read closes a loop and is reported once, naming the
//!    cycle, and never followed;
//! 3. reading order: the lines in the order syslinux reads them. A file included
//!    twice is read twice, as syslinux does, except a file on a loop, which is
//!    read once. Nesting is cut at [`MAX_DEPTH`] and the total at [`MAX_LINES`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use crate::confine::{Located, Refusal};
use crate::directive::{Keyword, MenuKeyword};
use crate::model::Pos;
use crate::resolve::{Target, Tree};
use crate::syntax::Document;

/// INCLUDE nesting followed (the main file is level 0).
pub const MAX_DEPTH: usize = 16;
/// Lines read in total, a file included twice counting twice.
pub const MAX_LINES: usize = 100_000;
/// Files named in a loop's description before the middle is elided.
const CYCLE_SHOWN: usize = 8;

/// One file of a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The name used in findings (as given, or the TFTP path).
    pub name: String,
    /// The parsed document.
    pub doc: Document,
}

/// Something that happened while following INCLUDEs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadEvent {
    /// The included file does not exist.
    Missing {
        /// The INCLUDE line.
        at: Pos,
        /// The name as written.
        name: String,
        /// The TFTP path it resolved to.
        path: String,
    },
    /// The TFTP server refuses the name (outside the root, control characters…);
    /// nothing was read.
    Refused {
        /// The INCLUDE line.
        at: Pos,
        /// The name as written.
        name: String,
        /// Why.
        reason: Refusal,
    },
    /// The include re-enters a file being read.
    Loop {
        /// The INCLUDE line.
        at: Pos,
        /// The name as written.
        name: String,
        /// The files of the loop, from the re-entered one back to it.
        cycle: Vec<String>,
    },
    /// The included file exists but could not be read.
    Unreadable {
        /// The INCLUDE line.
        at: Pos,
        /// The TFTP path.
        path: String,
        /// The reason.
        reason: String,
    },
    /// Reading stopped: nesting deeper than [`MAX_DEPTH`] (at the INCLUDE not
    /// followed) or more than [`MAX_LINES`] lines (at the first line not read).
    Limit {
        /// Where reading stopped.
        at: Pos,
        /// Whether the line limit (rather than the nesting limit) was hit.
        lines: bool,
    },
}

/// A `MENU INCLUDE file tag` whose file was read: menu.c32 makes it a submenu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submenu {
    /// Index in [`SourceSet::order`] of the MENU INCLUDE line.
    pub start: usize,
    /// Index in [`SourceSet::order`] of the last line read from the included file.
    pub end: usize,
    /// The tag (the rest of the line after the file name).
    pub tag: String,
}

/// A configuration and all files it includes, with the order syslinux reads lines in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSet {
    /// Files, each read and parsed once; index 0 is the main file.
    pub files: Vec<SourceFile>,
    /// Every line in reading order.
    pub order: Vec<Pos>,
    /// Include problems.
    pub events: Vec<LoadEvent>,
    /// Submenus made by `MENU INCLUDE file tag`.
    pub submenus: Vec<Submenu>,
}

/// An INCLUDE line whose file was read.
#[derive(Debug, Clone, Copy)]
struct Edge {
    line: usize,
    to: usize,
    /// It closes a loop: never followed.
    cut: bool,
}

/// The include graph: per file, its INCLUDE lines that name a file read.
#[derive(Debug, Default)]
struct Graph {
    edges: Vec<Vec<Edge>>,
    /// Files on a loop (in a cycle of the graph).
    on_loop: Vec<bool>,
}

/// State of pass 3.
struct Expansion {
    /// Files read at least once.
    expanded: Vec<bool>,
    /// INCLUDEs not followed for nesting, reported once each.
    too_deep: HashSet<Pos>,
    /// [`MAX_LINES`] reached.
    full: bool,
}

/// State of the depth-first walk of [`SourceSet::find_loops`].
struct Walk {
    /// Visit number of each file (`usize::MAX`: not visited).
    index: Vec<usize>,
    /// Tarjan's low-link.
    low: Vec<usize>,
    /// Where a file being read is in `calls`.
    on_walk: Vec<Option<usize>>,
    /// Whether a file is on Tarjan's stack.
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    /// The files being read and the next edge of each.
    calls: Vec<(usize, usize)>,
    next: usize,
}

impl Walk {
    fn new(n: usize) -> Self {
        Self {
            index: vec![usize::MAX; n],
            low: vec![0; n],
            on_walk: vec![None; n],
            on_stack: vec![false; n],
            stack: Vec::new(),
            calls: Vec::new(),
            next: 0,
        }
    }

    fn visit(&mut self, f: usize) {
        self.index[f] = self.next;
        self.low[f] = self.next;
        self.next += 1;
        self.on_walk[f] = Some(self.calls.len());
        self.calls.push((f, 0));
        self.stack.push(f);
        self.on_stack[f] = true;
    }
}

/// The file name of an INCLUDE / MENU INCLUDE line, and the rest (the tag).
fn include_of(line: &crate::syntax::Line) -> Option<(Keyword, String, String)> {
    let kw = line.directive()?.keyword;
    if !matches!(kw, Keyword::Include | Keyword::Menu(MenuKeyword::Include)) {
        return None;
    }
    let arg = line.arg();
    let mut words = arg.split_whitespace();
    let name = words.next()?.to_string();
    Some((kw, name, words.collect::<Vec<_>>().join(" ")))
}

impl SourceSet {
    /// A single file; INCLUDEs are not followed.
    pub fn single(main: SourceFile) -> Self {
        let order = (0..main.doc.lines.len())
            .map(|line| Pos { file: 0, line })
            .collect();
        Self {
            files: vec![main],
            order,
            events: Vec::new(),
            submenus: Vec::new(),
        }
    }

    /// The main file and, with a tree, every file it includes.
    pub fn load(main: SourceFile, tree: Option<&Tree>) -> Self {
        Self::load_at(main, None, tree)
    }

    /// As [`SourceSet::load`], with the main file's real path when it is known,
    /// so that an INCLUDE leading back to it is seen as a loop.
    pub fn load_at(main: SourceFile, real: Option<&Path>, tree: Option<&Tree>) -> Self {
        let Some(tree) = tree else {
            return Self::single(main);
        };
        let mut set = Self {
            files: vec![main],
            order: Vec::new(),
            events: Vec::new(),
            submenus: Vec::new(),
        };
        let mut graph = set.read_all(tree, real);
        set.find_loops(&mut graph);
        let mut state = Expansion {
            expanded: vec![false; set.files.len()],
            too_deep: HashSet::new(),
            full: false,
        };
        set.expand(0, 0, &graph, &mut state);
        set
    }

    /// Pass 1: read every reachable file once.
    fn read_all(&mut self, tree: &Tree, main_real: Option<&Path>) -> Graph {
        let mut by_real: HashMap<PathBuf, usize> = HashMap::new();
        if let Some(real) = main_real {
            by_real.insert(real.to_path_buf(), 0);
        }
        let mut graph = Graph::default();
        let mut queue = VecDeque::from([0usize]);
        while let Some(file) = queue.pop_front() {
            let includes: Vec<(usize, String)> = (self.files[file].doc.lines.iter())
                .enumerate()
                .filter_map(|(i, l)| include_of(l).map(|(_, name, _)| (i, name)))
                .collect();
            let mut edges = Vec::new();
            for (line, name) in includes {
                let at = Pos { file, line };
                let Target::Tftp(path) = tree.resolve(&name) else {
                    continue;
                };
                let real = match tree.locate(&path) {
                    Located::File(real) => real,
                    Located::Missing => {
                        self.events.push(LoadEvent::Missing { at, name, path });
                        continue;
                    }
                    Located::Refused(reason) => {
                        self.events.push(LoadEvent::Refused { at, name, reason });
                        continue;
                    }
                    other => {
                        let reason = match other {
                            Located::Dir(_) => "is a directory".to_owned(),
                            Located::Unknown(why) => why,
                            _ => "not a regular file".to_owned(),
                        };
                        let event = LoadEvent::Unreadable { at, path, reason };
                        self.events.push(event);
                        continue;
                    }
                };
                let to = match by_real.get(&real) {
                    Some(&to) => to,
                    None => match tree.read(&real) {
                        Ok(bytes) => {
                            self.files.push(SourceFile {
                                name: path,
                                doc: Document::parse(&bytes),
                            });
                            let to = self.files.len() - 1;
                            by_real.insert(real, to);
                            queue.push_back(to);
                            to
                        }
                        Err(e) => {
                            let reason = e.to_string();
                            let event = LoadEvent::Unreadable { at, path, reason };
                            self.events.push(event);
                            continue;
                        }
                    },
                };
                edges.push(Edge {
                    line,
                    to,
                    cut: false,
                });
            }
            graph.edges.resize_with(self.files.len(), Vec::new);
            graph.edges[file] = edges;
        }
        graph.edges.resize_with(self.files.len(), Vec::new);
        graph
    }

    /// Pass 2: one depth-first walk (Tarjan's strongly connected components)
    /// marks the INCLUDEs that close a loop and the files on a loop.
    fn find_loops(&mut self, graph: &mut Graph) {
        let mut walk = Walk::new(self.files.len());
        graph.on_loop = vec![false; self.files.len()];
        walk.visit(0);
        while let Some(&(u, e)) = walk.calls.last() {
            if let Some(&edge) = graph.edges[u].get(e) {
                walk.calls.last_mut().expect("not empty").1 += 1;
                let v = edge.to;
                if walk.index[v] == usize::MAX {
                    walk.visit(v);
                } else if let Some(depth) = walk.on_walk[v] {
                    graph.edges[u][e].cut = true;
                    graph.on_loop[u] |= u == v;
                    walk.low[u] = walk.low[u].min(walk.index[v]);
                    let at = Pos {
                        file: u,
                        line: edge.line,
                    };
                    let name = include_of(self.line(at)).map(|i| i.1).unwrap_or_default();
                    let cycle = self.cycle_names(&walk.calls[depth..], v);
                    self.events.push(LoadEvent::Loop { at, name, cycle });
                } else if walk.on_stack[v] {
                    walk.low[u] = walk.low[u].min(walk.index[v]);
                }
                continue;
            }
            walk.calls.pop();
            walk.on_walk[u] = None;
            if let Some(&(parent, _)) = walk.calls.last() {
                walk.low[parent] = walk.low[parent].min(walk.low[u]);
            }
            if walk.low[u] == walk.index[u] {
                let mut members = Vec::new();
                while let Some(f) = walk.stack.pop() {
                    walk.on_stack[f] = false;
                    members.push(f);
                    if f == u {
                        break;
                    }
                }
                if members.len() > 1 {
                    for f in members {
                        graph.on_loop[f] = true;
                    }
                }
            }
        }
    }

    /// The names of the files of a loop (the walk from the re-entered file,
    /// then that file again), the middle elided when it is long.
    fn cycle_names(&self, walk: &[(usize, usize)], back_to: usize) -> Vec<String> {
        let name = |f: usize| self.files[f].name.clone();
        let half = CYCLE_SHOWN / 2;
        if walk.len() < CYCLE_SHOWN {
            return walk
                .iter()
                .map(|&(f, _)| name(f))
                .chain([name(back_to)])
                .collect();
        }
        let head = walk[..half].iter().map(|&(f, _)| name(f));
        let tail = walk[walk.len() - half + 1..].iter().map(|&(f, _)| name(f));
        head.chain(["…".to_owned()])
            .chain(tail)
            .chain([name(back_to)])
            .collect()
    }

    /// Pass 3: the reading order.
    fn expand(&mut self, file: usize, depth: usize, graph: &Graph, state: &mut Expansion) {
        state.expanded[file] = true;
        let mut edges = graph.edges[file].iter().peekable();
        for line in 0..self.files[file].doc.lines.len() {
            let pos = Pos { file, line };
            if self.order.len() >= MAX_LINES {
                // Every enclosing file stops too; say where reading stopped once.
                if !state.full {
                    state.full = true;
                    self.events.push(LoadEvent::Limit {
                        at: pos,
                        lines: true,
                    });
                }
                return;
            }
            self.order.push(pos);
            let Some(edge) = edges.next_if(|e| e.line == line) else {
                continue;
            };
            let to = edge.to;
            if edge.cut || (graph.on_loop[to] && state.expanded[to]) {
                continue;
            }
            if depth >= MAX_DEPTH {
                if state.too_deep.insert(pos) {
                    self.events.push(LoadEvent::Limit {
                        at: pos,
                        lines: false,
                    });
                }
                continue;
            }
            let start = self.order.len() - 1;
            self.expand(to, depth + 1, graph, state);
            if let Some((Keyword::Menu(MenuKeyword::Include), _, tag)) = include_of(self.line(pos))
            {
                if !tag.is_empty() {
                    let end = self.order.len() - 1;
                    self.submenus.push(Submenu { start, end, tag });
                }
            }
        }
    }

    /// The line at a position.
    pub fn line(&self, pos: Pos) -> &crate::syntax::Line {
        &self.files[pos.file].doc.lines[pos.line]
    }

    /// Lines in reading order, for [`crate::Config::from_lines`].
    pub fn lines(&self) -> impl Iterator<Item = (Pos, &crate::syntax::Line)> {
        self.order.iter().map(move |&p| (p, self.line(p)))
    }

    /// The file name of a position, for findings.
    pub fn file_name(&self, pos: Pos) -> &str {
        &self.files[pos.file].name
    }
}

#[cfg(test)]
#[path = "include_tests.rs"]
mod tests;
