//! `pxecfg which` and `pxecfg explain`.

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use pxelinux::finding::shown;
use pxelinux::{Client, Status, Tree};

use crate::cli::{ClientArgs, PrefixArgs};

/// Build the client from the command line.
pub fn client(args: &ClientArgs, prefix: &PrefixArgs) -> anyhow::Result<Client> {
    let mut c = Client::new(args.mac.parse().with_context(|| "--mac")?);
    c.ip = args
        .ip
        .as_deref()
        .map(|ip| {
            ip.parse::<Ipv4Addr>()
                .with_context(|| format!("--ip: invalid IPv4 address `{ip}`"))
        })
        .transpose()?;
    c.uuid = args
        .uuid
        .as_deref()
        .map(str::parse)
        .transpose()
        .context("--uuid")?;
    c.config_file.clone_from(&args.config_file);
    c.path_prefix = crate::prefix_of(prefix);
    Ok(c)
}

/// Print the requested names; with a root, which exist and which one loads.
pub fn which(
    args: &ClientArgs,
    root: Option<&Path>,
    prefix: &PrefixArgs,
) -> anyhow::Result<ExitCode> {
    let c = client(args, prefix)?;
    let p = c.path_prefix.clone().unwrap_or_default();
    let Some(root) = root else {
        for name in c.candidates() {
            println!("{}", shown(&format!("{p}{name}")));
        }
        return Ok(ExitCode::SUCCESS);
    };
    let tree = Tree::new(root, &p);
    let mut loaded = false;
    for name in c.candidates() {
        let status = match tree.status(&name) {
            _ if loaded => "not requested".to_string(),
            Status::File => {
                loaded = true;
                "exists, loads".to_string()
            }
            Status::Missing => "missing".to_string(),
            Status::Refused(why) => format!("refused by the TFTP server ({why})"),
            Status::Elsewhere => "not checked (other server)".to_string(),
        };
        println!("{}\t{status}", shown(&format!("{p}{name}")));
    }
    Ok(if loaded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Print what the client sees.
pub fn explain(root: &Path, args: &ClientArgs, prefix: &PrefixArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(root.is_dir(), "{}: not a directory", root.display());
    let c = client(args, prefix)?;
    let tree = Tree::new(root, &c.path_prefix.clone().unwrap_or_default());
    let ex = pxelinux::explain::explain(&tree, &c);
    print!("{}", ex.render());
    Ok(if ex.loaded.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
