//! File-name remapping with tftp-hpa's rule files (`in.tftpd -m FILE`).
//!
//! One rule per line: `operations regex [replacement]`, fields separated by
//! unescaped white space, `#` starts a comment. Rules run top-down on the
//! requested name; all of them run unless one ends processing.
//!
//! | op | meaning |
//! |---|---|
//! | `r` | replace the match with the replacement |
//! | `g` | repeat the rule until it no longer matches (with `r`) |
//! | `i` | match case-insensitively |
//! | `e` | end processing when this rule matches |
//! | `s` | restart from the first rule when this rule matches |
//! | `a` | refuse the request (ERROR 2); the third field is the message |
//! | `G` / `P` | RRQ only / WRQ only |
//! | `4` / `6` | IPv4 clients only / IPv6 clients only |
//! | `~` | the rule applies when the regex does *not* match |
//!
//! Replacement escapes: `\0` the whole match, `\1`–`\9` groups, `\i` the
//! client's IP address, `\x` the client's IP address in upper-case hex
//! (`7F000001`), `\U` / `\L` upper / lower case until `\E`, `\\` a backslash;
//! a backslash before any other character is dropped.
//!
//! Differences from tftp-hpa: regexes use the `regex` crate's syntax (POSIX
//! ERE rules work unless they use back-references or rely on leftmost-longest
//! alternation), and the rule flag combinations tftp-hpa rejects (`r~`, `ra`,
//! `as`, `ae`, `es`) are rejected here too, with the line.
//!
//! Every regex test counts as one step; past [`RemapRules::max_steps`]
//! (default [`DEFAULT_MAX_STEPS`]) the request is refused, so a rule file that
//! loops (`rg a aa`) cannot hang the server; so is a rewrite longer than
//! [`MAX_NAME_LEN`] (`rg a+ \0\0` doubles the name at each step).

use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, RwLock};

use regex::bytes::{Captures, Regex, RegexBuilder};

/// Rule steps before a request is refused as looping.
pub const DEFAULT_MAX_STEPS: usize = 4096;

/// The longest name a rewrite may produce (Linux's `PATH_MAX`: no longer
/// name can be opened); past it the request is refused as looping.
pub const MAX_NAME_LEN: usize = 4096;

/// The message of a refusal caused by a looping rule file (tftp-hpa's).
pub const LOOP_MESSAGE: &str = "Remap table failure";

/// The message of an `a` rule without a third field (tftp-hpa's default).
pub const ABORT_MESSAGE: &str = "Access denied";

pub use crate::packet::Direction;

/// A rule file that cannot be used: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct RuleError {
    /// The file, as given (empty for text parsed directly).
    pub file: String,
    /// 1-based line number (0: the file could not be read).
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// A request refused by the rules: the text of ERROR 2 (access violation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The message sent to the client.
    pub message: String,
}

const REWRITE: u16 = 1;
const GLOBAL: u16 = 1 << 1;
const EXIT: u16 = 1 << 2;
const RESTART: u16 = 1 << 3;
const ABORT: u16 = 1 << 4;
const INVERSE: u16 = 1 << 5;
const IPV4: u16 = 1 << 6;
const IPV6: u16 = 1 << 7;
const RRQ: u16 = 1 << 8;
const WRQ: u16 = 1 << 9;

/// Flag pairs tftp-hpa refuses to combine.
const BAD_COMBOS: &[(u16, &str)] = &[
    (REWRITE | INVERSE, "r~"),
    (REWRITE | ABORT, "ra"),
    (ABORT | RESTART, "as"),
    (EXIT | ABORT, "ae"),
    (EXIT | RESTART, "es"),
];

struct Rule {
    line: usize,
    flags: u16,
    regex: Regex,
    replacement: Vec<u8>,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("line", &self.line)
            .field("flags", &format_args!("{:#x}", self.flags))
            .field("regex", &self.regex.as_str())
            .field("replacement", &String::from_utf8_lossy(&self.replacement))
            .finish()
    }
}

/// A parsed rule file.
#[derive(Debug)]
pub struct RemapRules {
    rules: Vec<Rule>,
    /// Rule steps before a request is refused as looping.
    pub max_steps: usize,
}

impl RemapRules {
    /// Reads and parses a rule file; errors name `path:line`.
    pub fn load(path: &Path) -> Result<Self, RuleError> {
        let file = path.display().to_string();
        let text = std::fs::read(path).map_err(|e| RuleError {
            file: file.clone(),
            line: 0,
            reason: format!("cannot read: {e}"),
        })?;
        Self::parse(&text).map_err(|mut e| {
            e.file = file;
            e
        })
    }

    /// Parses the text of a rule file. The first bad line is the error.
    pub fn parse(text: &[u8]) -> Result<Self, RuleError> {
        let mut rules = Vec::new();
        for (i, raw) in text.split(|b| *b == b'\n').enumerate() {
            // tftp-hpa drops CR and NUL bytes anywhere on a line.
            let line: Vec<u8> = raw
                .iter()
                .copied()
                .filter(|b| *b != b'\r' && *b != 0)
                .collect();
            let err = |reason: String| RuleError {
                file: String::new(),
                line: i + 1,
                reason,
            };
            if let Some(rule) = parse_line(&line, i + 1).map_err(err)? {
                rules.push(rule);
            }
        }
        Ok(Self {
            rules,
            max_steps: DEFAULT_MAX_STEPS,
        })
    }

    /// The number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Runs the rules on `name` for a request from `client`.
    pub fn apply(
        &self,
        name: &[u8],
        client: IpAddr,
        direction: Direction,
    ) -> Result<Vec<u8>, Refused> {
        let client = canonical(client);
        let mut skip = 0u16;
        skip |= if direction == Direction::Read {
            WRQ
        } else {
            RRQ
        };
        skip |= if client.is_ipv4() { IPV6 } else { IPV4 };
        let looping = || Refused {
            message: LOOP_MESSAGE.to_owned(),
        };
        let mut current = name.to_vec();
        let mut steps = 0usize;
        let mut i = 0;
        while let Some(rule) = self.rules.get(i) {
            i += 1;
            if rule.flags & skip != 0 {
                continue;
            }
            steps += 1;
            if steps > self.max_steps {
                return Err(looping());
            }
            let inverse = rule.flags & INVERSE != 0;
            let matched = rule.regex.is_match(&current) != inverse;
            if !matched {
                continue;
            }
            if rule.flags & REWRITE != 0 {
                while let Some(caps) = rule.regex.captures(&current) {
                    current = rewrite(&current, &caps, &rule.replacement, client);
                    if current.len() > MAX_NAME_LEN {
                        return Err(looping());
                    }
                    if rule.flags & GLOBAL == 0 {
                        break;
                    }
                    steps += 1;
                    if steps > self.max_steps {
                        return Err(looping());
                    }
                }
            }
            if rule.flags & ABORT != 0 {
                let message = match rule.regex.captures(&current) {
                    Some(caps) if !inverse => expand(&caps, &rule.replacement, client),
                    _ => expand_plain(&rule.replacement, client),
                };
                let message = if message.is_empty() {
                    ABORT_MESSAGE.to_owned()
                } else {
                    String::from_utf8_lossy(&message).into_owned()
                };
                return Err(Refused { message });
            }
            if rule.flags & EXIT != 0 {
                break;
            }
            if rule.flags & RESTART != 0 {
                i = 0;
            }
        }
        Ok(current)
    }
}

/// What a server asks of a remapper: the name to open, or a refusal.
pub trait Remap: Send + Sync + fmt::Debug + 'static {
    /// Maps the requested `name` for a `direction` request from `client`.
    fn remap(&self, name: &[u8], client: IpAddr, direction: Direction) -> Result<Vec<u8>, Refused>;
}

impl Remap for RemapRules {
    fn remap(&self, name: &[u8], client: IpAddr, direction: Direction) -> Result<Vec<u8>, Refused> {
        self.apply(name, client, direction)
    }
}

/// Rules that can be replaced while the server runs (SIGHUP reloads).
#[derive(Debug)]
pub struct SharedRules {
    current: RwLock<Arc<RemapRules>>,
}

impl SharedRules {
    /// Starts with `rules`.
    pub fn new(rules: RemapRules) -> Self {
        Self {
            current: RwLock::new(Arc::new(rules)),
        }
    }

    /// Replaces the rules; requests that already started keep the old ones.
    pub fn replace(&self, rules: RemapRules) {
        let mut guard = self.current.write().unwrap_or_else(|e| e.into_inner());
        *guard = Arc::new(rules);
    }

    /// The rules in force now.
    pub fn current(&self) -> Arc<RemapRules> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Remap for SharedRules {
    fn remap(&self, name: &[u8], client: IpAddr, direction: Direction) -> Result<Vec<u8>, Refused> {
        self.current().apply(name, client, direction)
    }
}

/// An IPv4-mapped IPv6 client is an IPv4 client (a dual-stack socket).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// tftp-hpa's field reader: skips leading white space, ends at unescaped
/// white space or `#`; backslashes stay in the field (the regex or the
/// replacement interprets them).
fn field<'a>(line: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    while *pos < line.len() && line[*pos].is_ascii_whitespace() {
        *pos += 1;
    }
    let start = *pos;
    let mut escaped = false;
    while *pos < line.len() {
        let b = line[*pos];
        if !escaped && (b.is_ascii_whitespace() || b == b'#') {
            break;
        }
        escaped = !escaped && b == b'\\';
        *pos += 1;
    }
    (*pos > start).then(|| &line[start..*pos])
}

fn parse_line(line: &[u8], number: usize) -> Result<Option<Rule>, String> {
    let mut pos = 0;
    let Some(ops) = field(line, &mut pos) else {
        return Ok(None);
    };
    let mut flags = 0u16;
    let mut icase = false;
    for &op in ops {
        flags |= match op {
            b'r' => REWRITE,
            b'g' => GLOBAL,
            b'e' => EXIT,
            b's' => RESTART,
            b'a' => ABORT,
            b'~' => INVERSE,
            b'4' => IPV4,
            b'6' => IPV6,
            b'G' => RRQ,
            b'P' => WRQ,
            b'i' => {
                icase = true;
                0
            }
            other => {
                return Err(format!(
                    "invalid operation flag \"{}\"",
                    char::from(other).escape_default()
                ))
            }
        };
    }
    for (combo, name) in BAD_COMBOS {
        if flags & combo == *combo {
            let name = name.as_bytes();
            return Err(format!(
                "rule flags {} and {} cannot be combined",
                char::from(name[0]),
                char::from(name[1])
            ));
        }
    }
    if flags & REWRITE == 0 {
        flags &= !GLOBAL;
    }
    let pattern = field(line, &mut pos).ok_or("regex missing")?;
    let pattern = std::str::from_utf8(pattern).map_err(|_| "regex is not UTF-8".to_owned())?;
    let regex = RegexBuilder::new(pattern)
        .unicode(false)
        .case_insensitive(icase)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("bad regex: {}", one_line(&e.to_string())))?;
    let replacement = field(line, &mut pos).unwrap_or_default().to_vec();
    Ok(Some(Rule {
        line: number,
        flags,
        regex,
        replacement,
    }))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The name with the first match replaced by the expanded replacement.
fn rewrite(name: &[u8], caps: &Captures<'_>, replacement: &[u8], client: IpAddr) -> Vec<u8> {
    let whole = caps.get(0).expect("group 0 always participates");
    let mut out = name[..whole.start()].to_vec();
    out.extend(expand(caps, replacement, client));
    out.extend_from_slice(&name[whole.end()..]);
    out
}

/// Expands a replacement against a match.
fn expand(caps: &Captures<'_>, replacement: &[u8], client: IpAddr) -> Vec<u8> {
    expand_with(replacement, client, |n| caps.get(n).map(|m| m.as_bytes()))
}

/// Expands a replacement with no match (groups are empty).
fn expand_plain(replacement: &[u8], client: IpAddr) -> Vec<u8> {
    expand_with(replacement, client, |_| None)
}

#[derive(Clone, Copy)]
enum Case {
    Keep,
    Upper,
    Lower,
}

fn push(out: &mut Vec<u8>, bytes: &[u8], case: Case) {
    out.extend(bytes.iter().map(|b| match case {
        Case::Keep => *b,
        Case::Upper => b.to_ascii_uppercase(),
        Case::Lower => b.to_ascii_lowercase(),
    }));
}

fn expand_with<'a>(
    replacement: &[u8],
    client: IpAddr,
    group: impl Fn(usize) -> Option<&'a [u8]>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(replacement.len() + 16);
    let mut case = Case::Keep;
    let mut i = 0;
    while i < replacement.len() {
        let b = replacement[i];
        i += 1;
        if b != b'\\' {
            push(&mut out, &[b], case);
            continue;
        }
        let Some(&esc) = replacement.get(i) else {
            // A trailing backslash stands for itself.
            out.push(b'\\');
            break;
        };
        i += 1;
        match esc {
            b'0'..=b'9' => {
                if let Some(g) = group(usize::from(esc - b'0')) {
                    push(&mut out, g, case);
                }
            }
            b'U' => case = Case::Upper,
            b'L' => case = Case::Lower,
            b'E' => case = Case::Keep,
            b'\\' => out.push(b'\\'),
            b'i' => push(&mut out, client.to_string().as_bytes(), case),
            b'x' => push(&mut out, hex_address(client).as_bytes(), case),
            // Unknown escape: the backslash is dropped, the character kept.
            other => push(&mut out, &[other], case),
        }
    }
    out
}

/// `\x`: the address as upper-case hex digits, network order (`7F000001`).
fn hex_address(ip: IpAddr) -> String {
    let octets: Vec<u8> = match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    octets.iter().map(|o| format!("{o:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const V4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));
    const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

    fn rules(text: &str) -> RemapRules {
        RemapRules::parse(text.as_bytes()).unwrap()
    }

    fn map(text: &str, name: &str) -> String {
        let out = rules(text)
            .apply(name.as_bytes(), V4, Direction::Read)
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    fn refused(text: &str, name: &str) -> String {
        rules(text)
            .apply(name.as_bytes(), V4, Direction::Read)
            .unwrap_err()
            .message
    }

    #[test]
    fn backslashes_become_slashes_with_rg() {
        assert_eq!(map(r"rg \\ /", r"a\b\c"), "a/b/c");
        // Without g only the first one.
        assert_eq!(map(r"r \\ /", r"a\b\c"), r"a/b\c");
    }

    #[test]
    fn comments_blank_lines_and_escaped_spaces() {
        let r = rules("# only a comment\n\n   \nr a\\ b x\\ y # tail\n");
        assert_eq!(r.len(), 1);
        assert_eq!(
            r.apply(b"1a b2", V4, Direction::Read).unwrap(),
            b"1x y2".to_vec()
        );
    }

    #[test]
    fn groups_case_and_address_escapes() {
        assert_eq!(map(r"r ^up(.*) \U\1", "upper"), "PER");
        assert_eq!(map(r"r ^GZ(.*) \Lq\1", "GZZ"), "qz");
        assert_eq!(map(r"r ^low \Uab\Ecd", "lowX"), "ABcdX");
        assert_eq!(map(r"r ^ip$ \i", "ip"), "192.0.2.7");
        assert_eq!(map(r"r ^hex$ \x", "hex"), "C0000207");
        assert_eq!(map(r"r ^(a)(b) [\0|\2\1|\9]", "abc"), "[ab|ba|]c");
        assert_eq!(map(r"r ^a x\\y\q", "a"), r"x\yq");
        let v6 = rules(r"r ^hex$ \x")
            .apply(b"hex", V6, Direction::Read)
            .unwrap();
        assert_eq!(v6, b"00000000000000000000000000000001".to_vec());
    }

    #[test]
    fn case_insensitive_flag() {
        assert_eq!(map("ri ^abc X", "ABCd"), "Xd");
        assert_eq!(map("r ^abc X", "ABCd"), "ABCd");
    }

    #[test]
    fn end_and_restart() {
        assert_eq!(map("re ^a b\nr b c", "a"), "b");
        assert_eq!(map("r ^a b\nr b c", "a"), "c");
        // s: after rule 2 matches, rule 1 runs again on the new name.
        assert_eq!(map("r ^x y\nrs ^b x", "b"), "y");
    }

    #[test]
    fn abort_with_and_without_message() {
        assert_eq!(
            refused(r"a ^blocked(.*) no\ access\ to\ \1", "blockedFOO"),
            "no access to FOO"
        );
        assert_eq!(refused("a ^plain", "plainblock"), ABORT_MESSAGE);
        assert_eq!(map("a ^plain", "other"), "other");
    }

    #[test]
    fn direction_and_family_filters() {
        let r = rules("rG ^f get\nrP ^f put\nr4 ^x v4\nr6 ^x v6");
        assert_eq!(r.apply(b"f", V4, Direction::Read).unwrap(), b"get".to_vec());
        assert_eq!(
            r.apply(b"f", V4, Direction::Write).unwrap(),
            b"put".to_vec()
        );
        assert_eq!(r.apply(b"x", V4, Direction::Read).unwrap(), b"v4".to_vec());
        assert_eq!(r.apply(b"x", V6, Direction::Read).unwrap(), b"v6".to_vec());
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(
            r.apply(b"x", mapped, Direction::Read).unwrap(),
            b"v4".to_vec()
        );
    }

    #[test]
    fn inverse_rules() {
        assert_eq!(refused("a~ ^pxelinux", "etc/passwd"), ABORT_MESSAGE);
        assert_eq!(map("a~ ^pxelinux", "pxelinux.0"), "pxelinux.0");
        assert_eq!(map("e~ ^a\nr . z", "b"), "b");
    }

    #[test]
    fn looping_rules_are_bounded() {
        let mut r = rules("rg a aa");
        r.max_steps = 100;
        let err = r.apply(b"a", V4, Direction::Read).unwrap_err();
        assert_eq!(err.message, LOOP_MESSAGE);
        let r = rules("rs ^ x");
        assert_eq!(
            r.apply(b"a", V4, Direction::Read).unwrap_err().message,
            LOOP_MESSAGE
        );
        // Doubling the name at each step: refused long before the step limit.
        for text in [r"rg a+ \0\0", r"rs a+ \0\0", r"rg a \0\0\0\0"] {
            let err = rules(text).apply(b"a", V4, Direction::Read).unwrap_err();
            assert_eq!(err.message, LOOP_MESSAGE, "{text}");
        }
        // A long name a rule leaves alone is not refused.
        let long = vec![b'b'; MAX_NAME_LEN * 2];
        assert_eq!(rules("rg a+ x").apply(&long, V4, Direction::Read), Ok(long));
    }

    #[test]
    fn errors_name_the_line_and_reason() {
        let e = RemapRules::parse(b"# ok\nrg a b\nrq x y\n").unwrap_err();
        assert_eq!(
            (e.line, e.reason.as_str()),
            (3, "invalid operation flag \"q\"")
        );
        let e = RemapRules::parse(b"r\n").unwrap_err();
        assert_eq!((e.line, e.reason.as_str()), (1, "regex missing"));
        let e = RemapRules::parse(b"\n\nr (unclosed x\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.reason.starts_with("bad regex"), "{}", e.reason);
        let e = RemapRules::parse(b"r~ a b\n").unwrap_err();
        assert_eq!(e.reason, "rule flags r and ~ cannot be combined");
        let e = RemapRules::load(Path::new("/nonexistent/map")).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("/nonexistent/map", 0));
        assert!(e.to_string().starts_with("/nonexistent/map:0: cannot read"));
    }

    #[test]
    fn non_utf8_names_pass_through() {
        let r = rules("r ^a b");
        assert_eq!(
            r.apply(b"a\xff\xfe", V4, Direction::Read).unwrap(),
            b"b\xff\xfe".to_vec()
        );
    }
}
