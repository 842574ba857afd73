//! Tests of [`super`]: reading order, loops, limits, work done.

use super::*;

fn tree_with(files: &[(&str, String)]) -> (tempfile::TempDir, Tree) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let tree = Tree::new(dir.path(), "");
    (dir, tree)
}

fn load(tree: &Tree, main: &str) -> SourceSet {
    let main = SourceFile {
        name: "main".into(),
        doc: Document::parse_str(main),
    };
    SourceSet::load(main, Some(tree))
}

fn loops(set: &SourceSet) -> Vec<(Pos, Vec<String>)> {
    (set.events.iter())
        .filter_map(|e| match e {
            LoadEvent::Loop { at, cycle, .. } => Some((*at, cycle.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn includes_are_read_in_place_and_loops_cut() {
    let (_d, tree) = tree_with(&[
        ("a.cfg", "LABEL a\nINCLUDE b.cfg\n".into()),
        ("b.cfg", "LABEL b\nINCLUDE a.cfg\n".into()),
    ]);
    let set = load(&tree, "INCLUDE a.cfg\nINCLUDE nope.cfg\n");
    assert_eq!(set.files.len(), 3);
    assert_eq!(
        loops(&set),
        [(
            Pos { file: 2, line: 1 },
            vec!["a.cfg".into(), "b.cfg".into(), "a.cfg".into()]
        )]
    );
    assert!(set
        .events
        .iter()
        .any(|e| matches!(e, LoadEvent::Missing { name, .. } if name == "nope.cfg")));
    // main:0, a:0, a:1, b:0, b:1 (not followed), main:1
    assert_eq!(set.order.len(), 6);
}

#[test]
fn a_file_included_twice_is_read_twice_but_parsed_once() {
    let (_d, tree) = tree_with(&[
        ("common.cfg", "MENU TITLE x\n".into()),
        ("tools.cfg", "INCLUDE common.cfg\nLABEL t\n".into()),
    ]);
    let set = load(
        &tree,
        "INCLUDE common.cfg\nMENU INCLUDE tools.cfg Tools\nINCLUDE ./common.cfg\n",
    );
    assert_eq!(set.files.len(), 3);
    assert!(set.events.is_empty(), "{:?}", set.events);
    let common = set.order.iter().filter(|p| p.file == 1).count();
    assert_eq!(common, 3);
    assert_eq!(set.submenus.len(), 1);
    assert_eq!(set.submenus[0].tag, "Tools");
}

/// The shape that used to take seconds: every line of two files includes
/// the other. Work is linear: each file parsed once, each line read once.
#[test]
fn looping_includes_cost_linear_work() {
    let n = 2_000;
    let (_d, tree) = tree_with(&[
        ("a.cfg", "INCLUDE b.cfg\n".repeat(n)),
        ("b.cfg", "INCLUDE a.cfg\n".repeat(n)),
    ]);
    let set = load(&tree, &"INCLUDE a.cfg\n".repeat(n));
    assert_eq!(set.files.len(), 3);
    assert_eq!(set.order.len(), 3 * n);
    assert_eq!(loops(&set).len(), n);
    assert!(loops(&set).iter().all(|(at, _)| at.file == 2));
}

#[test]
fn a_long_loop_is_named_with_its_middle_elided() {
    let n = 30;
    let files: Vec<(String, String)> = (0..n)
        .map(|i| {
            (
                format!("c{i}.cfg"),
                format!("INCLUDE c{}.cfg\n", (i + 1) % n),
            )
        })
        .collect();
    let refs: Vec<(&str, String)> = files.iter().map(|(a, b)| (a.as_str(), b.clone())).collect();
    let (_d, tree) = tree_with(&refs);
    let set = load(&tree, "INCLUDE c0.cfg\n");
    let found = loops(&set);
    assert_eq!(found.len(), 1, "{found:?}");
    let want = ["c0", "c1", "c2", "c3", "…", "c27", "c28", "c29", "c0"];
    let want: Vec<String> = (want.iter())
        .map(|w| {
            if *w == "…" {
                (*w).to_owned()
            } else {
                format!("{w}.cfg")
            }
        })
        .collect();
    assert_eq!(found[0].1, want);
    assert_eq!(found[0].0, Pos { file: 30, line: 0 });
}

#[test]
fn nesting_and_total_are_bounded() {
    let files: Vec<(String, String)> = (0..40)
        .map(|i| (format!("c{i}.cfg"), format!("INCLUDE c{}.cfg\n", i + 1)))
        .collect();
    let refs: Vec<(&str, String)> = files.iter().map(|(a, b)| (a.as_str(), b.clone())).collect();
    let (_d, tree) = tree_with(&refs);
    let set = load(&tree, "INCLUDE c0.cfg\n");
    let limits: Vec<_> = (set.events.iter())
        .filter(|e| matches!(e, LoadEvent::Limit { lines: false, .. }))
        .collect();
    assert_eq!(limits.len(), 1, "{:?}", set.events);
    assert_eq!(set.order.len(), MAX_DEPTH + 1);
    // 16 lines, each including a file of 16 lines … read twice over: 16^5 lines.
    let (_d, tree) = tree_with(&[
        ("l1.cfg", "INCLUDE l2.cfg\n".repeat(16)),
        ("l2.cfg", "INCLUDE l3.cfg\n".repeat(16)),
        ("l3.cfg", "INCLUDE l4.cfg\n".repeat(16)),
        ("l4.cfg", "INCLUDE l5.cfg\n".repeat(16)),
        ("l5.cfg", "LABEL x\n".repeat(16)),
    ]);
    let set = load(&tree, &"INCLUDE l1.cfg\n".repeat(16));
    assert_eq!(set.files.len(), 6);
    assert_eq!(set.order.len(), MAX_LINES);
    let full: Vec<_> = (set.events.iter())
        .filter(|e| matches!(e, LoadEvent::Limit { lines: true, .. }))
        .collect();
    assert_eq!(full.len(), 1);
}
