//! Property tests for the printer and the formatter.

use proptest::prelude::*;
use pxelinux::format::format_bytes;
use pxelinux::Document;

use crate::corpus::meaning;

fn config_line() -> impl Strategy<Value = String> {
    let kw = prop::sample::select(vec![
        "LABEL",
        "label",
        "KERNEL",
        "kernel",
        "APPEND",
        "INITRD",
        "DEFAULT",
        "UI",
        "TIMEOUT",
        "MENU LABEL",
        "menu  title",
        "MENU BEGIN",
        "MENU END",
        "MENU HIDE",
        "TEXT HELP",
        "ENDTEXT",
        "#",
        "F1",
        "INCLUDE",
        "IPAPPEND",
        "LOCALBOOT",
        "COM32",
        "say",
        "bogus",
        "MENU bogus",
        "",
    ]);
    let indent = prop::sample::select(vec!["", " ", "\t", "    ", " \t "]);
    let arg = "[a-zA-Z0-9=/._#^ -]{0,12}";
    let end = prop::sample::select(vec!["", " ", "\t", "\r", " \r"]);
    (indent, kw, arg, end).prop_map(|(i, k, a, e)| format!("{i}{k} {a}{e}"))
}

fn config() -> impl Strategy<Value = String> {
    prop::collection::vec(config_line(), 0..24).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #[test]
    fn any_bytes_round_trip(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        prop_assert_eq!(Document::parse(&bytes).to_bytes(), bytes);
    }

    #[test]
    fn configs_round_trip(text in config()) {
        prop_assert_eq!(Document::parse(text.as_bytes()).to_bytes(), text.as_bytes());
    }

    #[test]
    fn format_is_idempotent(text in config()) {
        let once = format_bytes(text.as_bytes());
        prop_assert_eq!(format_bytes(&once), once);
    }

    #[test]
    fn format_keeps_the_meaning(text in config()) {
        let once = format_bytes(text.as_bytes());
        prop_assert_eq!(meaning(&once), meaning(text.as_bytes()));
    }

    #[test]
    fn format_is_idempotent_on_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let once = format_bytes(&bytes);
        prop_assert_eq!(format_bytes(&once), once);
    }

    #[test]
    fn long_lines_keep_meaning_and_idempotence(
        lens in prop::collection::vec(0usize..9000, 1..4),
        indent in prop::sample::select(vec!["", "  ", "\t"]),
        last_newline in any::<bool>(),
    ) {
        let mut text = String::from("label a\n");
        for n in lens {
            text.push_str(&format!("{indent}append {}\nkernel k\n", "x".repeat(n)));
        }
        if !last_newline {
            text.pop();
        }
        let once = format_bytes(text.as_bytes());
        prop_assert_eq!(format_bytes(&once), once.clone());
        prop_assert_eq!(meaning(&once), meaning(text.as_bytes()));
    }
}
