//! bash, zsh and fish completions from the clap definitions, named as each
//! shell looks them up (`NAME`, `_NAME`, `NAME.fish`).

use std::path::PathBuf;

use clap_complete::Shell;

use crate::Program;

/// The shells completions are written for, with the file name each expects.
const SHELLS: [(Shell, &str, &str); 3] = [
    (Shell::Bash, "bash", "{}"),
    (Shell::Zsh, "zsh", "_{}"),
    (Shell::Fish, "fish", "{}.fish"),
];

/// `(relative path, script)` for each shell.
pub fn scripts(program: &Program) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for (shell, dir, pattern) in SHELLS {
        let mut cmd = program.command.clone();
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cmd, program.name, &mut script);
        let file = pattern.replace("{}", program.name);
        out.push((PathBuf::from(dir).join(file), script));
    }
    out
}
