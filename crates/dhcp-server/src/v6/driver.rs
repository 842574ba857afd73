//! The tokio driver of the DHCPv6 responder: one socket per interface on UDP 547 in
//! ff02::1:2 ([`netio::dhcp6`]); replies go back to the client's link-local address
//! from the interface it came in on. Every socket call is `netio`'s.

use std::io;
use std::net::Ipv6Addr;

use netio::dhcp6::{bind_dhcp6_server, interface6};
use tracing::{debug, info, warn};

use super::{respond, server_duid_ll, V6Config};

/// Serves DHCPv6 on `interfaces` at `port` (547) until the task is dropped. An empty
/// `cfg.server_duid` becomes the DUID-LL of the first interface with a MAC.
pub async fn run_v6(mut cfg: V6Config, interfaces: &[String], port: u16) -> io::Result<()> {
    if interfaces.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "DHCPv6 needs the interfaces to serve (multicast is per link)",
        ));
    }
    let mut sockets = Vec::new();
    for name in interfaces {
        let (sock, ifindex) = bind_dhcp6_server(name, port)?;
        let facts = interface6(name)?;
        if cfg.server_duid.is_empty() {
            if let Some(mac) = facts.mac {
                cfg.server_duid = server_duid_ll(mac);
            }
        }
        let local = facts
            .global
            .or(facts.link_local)
            .unwrap_or(Ipv6Addr::UNSPECIFIED);
        info!(interface = %name, ifindex, %local, "DHCPv6 listening on [::]:{port}, ff02::1:2");
        sockets.push((name.clone(), sock, local));
    }
    if cfg.server_duid.is_empty() {
        // No MAC anywhere (tunnels): a DUID-LL of zeros is still one stable id.
        cfg.server_duid = server_duid_ll([0; 6]);
    }
    let cfg = std::sync::Arc::new(cfg);
    let mut tasks = tokio::task::JoinSet::new();
    for (name, sock, local) in sockets {
        let cfg = cfg.clone();
        tasks.spawn(async move { serve_link(&cfg, &name, &sock, local).await });
    }
    match tasks.join_next().await {
        Some(Ok(r)) => r,
        Some(Err(e)) => Err(io::Error::other(e)),
        None => Ok(()),
    }
}

async fn serve_link(
    cfg: &V6Config,
    name: &str,
    sock: &tokio::net::UdpSocket,
    local: Ipv6Addr,
) -> io::Result<()> {
    let mut buf = vec![0u8; 65_536];
    loop {
        let meta = netio::recv_meta(sock, &mut buf).await?;
        match respond(cfg, &buf[..meta.len], local).reply {
            Ok((m, bytes)) => {
                debug!(interface = %name, peer = %meta.peer, reply = ?m.msg_type(), "DHCPv6 reply");
                if let Err(e) = sock.send_to(&bytes, meta.peer).await {
                    warn!(interface = %name, peer = %meta.peer, "DHCPv6 send: {e}");
                }
            }
            Err(why) => debug!(interface = %name, peer = %meta.peer, "DHCPv6 no reply: {why}"),
        }
    }
}
