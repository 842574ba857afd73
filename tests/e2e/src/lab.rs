//! The network: a namespace made for one scenario with a bridge `br0`
//! (192.0.2.1/24, the boot servers) and a tap `tap0` for qemu; optionally a
//! second namespace joined to the bridge by a veth pair (192.0.2.2/24), the
//! "other host" where ISC dhcpd hands out addresses beside a proxyDHCP.
//! [`Lab::bridge_only`] leaves the bridge without address (the IPv6 lab of
//! [`crate::ipv6`] adds its own).
//! Both namespaces are deleted on drop. Nothing is configured outside them.

use std::io;
use std::process::{Command, Stdio};

/// The boot servers' address, on `br0`.
pub const SERVER_IP: &str = "192.0.2.1";
/// The address-giving DHCP server's address in the peer namespace.
pub const PEER_IP: &str = "192.0.2.2";
/// The bridge the servers listen on.
pub const BRIDGE: &str = "br0";
/// The tap qemu attaches to.
pub const TAP: &str = "tap0";
/// The interface in the peer namespace.
pub const PEER_IF: &str = "vd0";

/// One scenario's namespaces; deleted on drop.
#[derive(Debug)]
pub struct Lab {
    /// The namespace with the bridge, the tap and the boot servers.
    pub name: String,
    /// The peer namespace, if made.
    pub peer: Option<String>,
}

impl Lab {
    /// Makes the namespace `nbe2e-<tag>-<pid>` with `br0` ([`SERVER_IP`]) and
    /// `tap0`, and with `peer` the namespace `<name>-p` joined to the bridge.
    pub fn create(tag: &str, peer: bool) -> io::Result<Self> {
        let mut lab = Self::bridge_only(tag)?;
        lab.ip(&["addr", "add", &format!("{SERVER_IP}/24"), "dev", BRIDGE])?;
        if peer {
            let n = lab.name.clone();
            let p = format!("{n}-p");
            ip(&["netns", "add", &p])?;
            lab.peer = Some(p.clone());
            lab.ip_in(
                &n,
                &[
                    "link", "add", "vb0", "type", "veth", "peer", "name", PEER_IF,
                ],
            )?;
            lab.ip_in(&n, &["link", "set", PEER_IF, "netns", &p])?;
            lab.ip_in(&n, &["link", "set", "vb0", "master", BRIDGE])?;
            lab.ip_in(&n, &["link", "set", "vb0", "up"])?;
            lab.ip_in(&p, &["link", "set", "lo", "up"])?;
            lab.ip_in(
                &p,
                &["addr", "add", &format!("{PEER_IP}/24"), "dev", PEER_IF],
            )?;
            lab.ip_in(&p, &["link", "set", PEER_IF, "up"])?;
        }
        Ok(lab)
    }

    /// Makes the namespace `nbe2e-<tag>-<pid>` with `br0` and `tap0` up and
    /// no address on the bridge (the caller adds its own).
    pub fn bridge_only(tag: &str) -> io::Result<Self> {
        let name = format!("nbe2e-{tag}-{}", std::process::id());
        // A namespace left by an earlier run of this very pid cannot exist
        // unless a crash skipped Drop; remove it so `add` does not fail.
        let _ = quiet(Command::new("ip").args(["netns", "del", &name]));
        ip(&["netns", "add", &name])?;
        let lab = Self { name, peer: None };
        for args in [
            &["link", "set", "lo", "up"][..],
            &["link", "add", BRIDGE, "type", "bridge"],
            &["tuntap", "add", TAP, "mode", "tap"],
            &["link", "set", TAP, "master", BRIDGE],
            &["link", "set", TAP, "up"],
            &["link", "set", BRIDGE, "up"],
        ] {
            lab.ip(args)?;
        }
        Ok(lab)
    }

    /// Runs `ip ARGS` inside the servers' namespace.
    pub fn ip(&self, args: &[&str]) -> io::Result<()> {
        self.ip_in(&self.name, args)
    }

    /// A command that runs `program` inside the servers' namespace
    /// (`ip netns exec` execs it, so the child's PID is the program's).
    pub fn command(&self, program: &str) -> Command {
        in_netns(&self.name, program)
    }

    /// A command that runs `program` inside the peer namespace.
    pub fn peer_command(&self, program: &str) -> Option<Command> {
        self.peer.as_deref().map(|p| in_netns(p, program))
    }

    fn ip_in(&self, netns: &str, args: &[&str]) -> io::Result<()> {
        let mut all = vec!["netns", "exec", netns, "ip"];
        all.extend_from_slice(args);
        ip(&all)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in self.peer.iter().chain(std::iter::once(&self.name)) {
            if let Err(e) = ip(&["netns", "del", ns]) {
                eprintln!("netboot-e2e: could not delete namespace {ns}: {e}");
            }
        }
    }
}

fn in_netns(netns: &str, program: &str) -> Command {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", netns, program]);
    cmd
}

fn ip(args: &[&str]) -> io::Result<()> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "ip {}: {}: {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

fn quiet(cmd: &mut Command) -> io::Result<()> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(drop)
}
