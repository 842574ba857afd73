//! Splitting iPXE scripts and grub.cfg files into commands and words, with
//! the line and column of each word, as the loaders read them.
//!
//! iPXE: one command per line, `||` and `&&` join commands, a line starting
//! with `#` is a comment and `:name` a label. GRUB: a small shell; quotes
//! (`'…'`, `"…"`, `\`) may span lines, `#` at a word start begins a comment,
//! `;`, `{`, `}` and line ends separate commands, `if`/`then`/`do`/… start them.

/// One word of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word with quotes removed.
    pub text: String,
    /// 1-based line of its first character.
    pub line: usize,
    /// 1-based column (bytes) of its first character.
    pub column: usize,
    /// Some part of it was quoted.
    pub quoted: bool,
}

/// A command: its words, the first is the command name.
pub type Command = Vec<Word>;

/// An iPXE script: commands and `:label`s (name, line).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IpxeScript {
    /// Commands in order.
    pub commands: Vec<Command>,
    /// Labels: name, line.
    pub labels: Vec<(String, usize)>,
}

/// Split an iPXE script.
pub fn ipxe(text: &str) -> IpxeScript {
    let mut s = IpxeScript::default();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') {
            continue;
        }
        if let Some(label) = trimmed.strip_prefix(':') {
            s.labels.push((label.trim().to_string(), n));
            continue;
        }
        let mut cmd: Command = Vec::new();
        let mut col = 0;
        for part in line.split_ascii_whitespace() {
            let at = col + line[col..].find(part).unwrap_or(0);
            col = at + part.len();
            if part == "||" || part == "&&" {
                if !cmd.is_empty() {
                    s.commands.push(std::mem::take(&mut cmd));
                }
                continue;
            }
            cmd.push(Word {
                text: part.to_string(),
                line: n,
                column: at + 1,
                quoted: false,
            });
        }
        if !cmd.is_empty() {
            s.commands.push(cmd);
        }
    }
    s
}

/// A grub.cfg: commands, and syntax errors (line, column, reason).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GrubScript {
    /// Commands in order (keywords such as `then` removed from their front).
    pub commands: Vec<Command>,
    /// Syntax errors: line, column, message.
    pub errors: Vec<(usize, usize, String)>,
}

/// Words that start a command list rather than being a command.
const LEADING_KEYWORDS: &[&str] = &["if", "then", "else", "elif", "do", "while", "until", "!"];

/// Split a grub.cfg.
pub fn grub(text: &str) -> GrubScript {
    let mut s = GrubScript::default();
    let mut cmd: Command = Vec::new();
    let mut cur: Option<Word> = None;
    let mut quote: Option<(char, usize, usize)> = None;
    let mut depth: Vec<(usize, usize)> = Vec::new();
    let (mut line, mut col) = (1usize, 0usize);
    let mut chars = text.chars().peekable();
    let mut in_comment = false;
    let end_cmd = |cmd: &mut Command, s: &mut GrubScript| {
        while cmd
            .first()
            .is_some_and(|w| !w.quoted && LEADING_KEYWORDS.contains(&w.text.as_str()))
        {
            cmd.remove(0);
        }
        if !cmd.is_empty() {
            s.commands.push(std::mem::take(cmd));
        }
    };
    while let Some(c) = chars.next() {
        col += c.len_utf8();
        let start_word = |cur: &mut Option<Word>, quoted: bool| {
            let w = cur.get_or_insert_with(|| Word {
                text: String::new(),
                line,
                column: col,
                quoted: false,
            });
            w.quoted |= quoted;
        };
        if in_comment {
            if c == '\n' {
                in_comment = false;
                end_cmd(&mut cmd, &mut s);
                line += 1;
                col = 0;
            }
            continue;
        }
        if let Some((q, _, _)) = quote {
            if c == q {
                quote = None;
            } else if q == '"' && c == '\\' && chars.peek().is_some_and(|n| "$\"\\\n".contains(*n))
            {
                let n = chars.next().expect("peeked");
                col += 1;
                if n == '\n' {
                    line += 1;
                    col = 0;
                } else if let Some(w) = cur.as_mut() {
                    w.text.push(n);
                }
            } else {
                if let Some(w) = cur.as_mut() {
                    w.text.push(c);
                }
                if c == '\n' {
                    line += 1;
                    col = 0;
                }
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                start_word(&mut cur, true);
                quote = Some((c, line, col));
            }
            '\\' => {
                start_word(&mut cur, true);
                match chars.next() {
                    Some('\n') => {
                        line += 1;
                        col = 0;
                    }
                    Some(n) => {
                        col += n.len_utf8();
                        cur.as_mut().expect("started").text.push(n);
                    }
                    None => {}
                }
            }
            '#' if cur.is_none() => in_comment = true,
            ' ' | '\t' | '\r' | '\n' | ';' => {
                if let Some(w) = cur.take() {
                    push_word(w, &mut cmd, &mut s, &mut depth, end_cmd);
                }
                if c == '\n' || c == ';' {
                    end_cmd(&mut cmd, &mut s);
                }
                if c == '\n' {
                    line += 1;
                    col = 0;
                }
            }
            _ => {
                start_word(&mut cur, false);
                cur.as_mut().expect("started").text.push(c);
            }
        }
    }
    if let Some((q, l, c)) = quote {
        s.errors
            .push((l, c, format!("the quote {q} is never closed")));
    }
    if let Some(w) = cur.take() {
        push_word(w, &mut cmd, &mut s, &mut depth, end_cmd);
    }
    end_cmd(&mut cmd, &mut s);
    for (l, c) in depth {
        s.errors.push((l, c, "`{` is never closed by `}`".into()));
    }
    s
}

fn push_word(
    w: Word,
    cmd: &mut Command,
    s: &mut GrubScript,
    depth: &mut Vec<(usize, usize)>,
    end_cmd: impl Fn(&mut Command, &mut GrubScript),
) {
    if !w.quoted && w.text == "{" {
        depth.push((w.line, w.column));
        end_cmd(cmd, s);
    } else if !w.quoted && w.text == "}" {
        end_cmd(cmd, s);
        if depth.pop().is_none() {
            s.errors
                .push((w.line, w.column, "`}` without an open `{`".into()));
        }
    } else {
        cmd.push(w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(c: &[Command]) -> Vec<Vec<&str>> {
        c.iter()
            .map(|c| c.iter().map(|w| w.text.as_str()).collect())
            .collect()
    }

    #[test]
    fn grub_words_quotes_and_blocks() {
        let g = grub("set timeout=5 # c\nmenuentry 'A b' --id a {\n\tlinux /k \"x=1 2\" y\\ z; initrd /i\n}\nif true; then echo x; fi\n");
        assert!(g.errors.is_empty(), "{:?}", g.errors);
        assert_eq!(
            names(&g.commands),
            vec![
                vec!["set", "timeout=5"],
                vec!["menuentry", "A b", "--id", "a"],
                vec!["linux", "/k", "x=1 2", "y z"],
                vec!["initrd", "/i"],
                vec!["true"],
                vec!["echo", "x"],
                vec!["fi"],
            ]
        );
        assert_eq!((g.commands[2][1].line, g.commands[2][1].column), (3, 8));
    }

    #[test]
    fn grub_syntax_errors() {
        assert_eq!(grub("menuentry x {\nlinux /k\n").errors[0].0, 1);
        assert_eq!(grub("}\n").errors.len(), 1);
        assert_eq!(
            grub("echo 'x\n").errors[0],
            (1, 6, "the quote ' is never closed".into())
        );
    }

    #[test]
    fn ipxe_commands_and_labels() {
        let s = ipxe("#!ipxe\n:menu\nchain --autofree a.ipxe || goto menu\n  kernel  k a=b\n");
        assert_eq!(s.labels, vec![("menu".to_string(), 2)]);
        assert_eq!(
            names(&s.commands),
            vec![
                vec!["chain", "--autofree", "a.ipxe"],
                vec!["goto", "menu"],
                vec!["kernel", "k", "a=b"]
            ]
        );
        assert_eq!(s.commands[2][1].column, 11);
    }
}
