//! The tokio driver on loopback: port 4011 (unprivileged) and a clean shutdown.

use std::net::Ipv4Addr;
use std::time::Duration;

use dhcp_pxe::wire::message::MessageType;
use dhcp_pxe::{decode_strict, encode};
use dhcp_server::driver::{run, Control, Listen};
use dhcp_server::store::MemoryStore;
use dhcp_server::{Mode, Server, ServerConfig};
use tokio::net::UdpSocket;

use crate::support::{policy, pxe_discover};

#[tokio::test]
async fn port_4011_request_is_answered_from_4011_and_shutdown_is_clean() {
    let server = Server::new(ServerConfig::new(Mode::Proxy, vec![], policy()));
    // Port 67 needs root; any free port stands in for it here.
    let free = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let listen = Listen {
        interfaces: vec![],
        port,
        pxe_port: Some(4011),
        share_port: false,
    };
    let (ctl, rx) = tokio::sync::mpsc::unbounded_channel();
    let task =
        tokio::spawn(
            async move { run(server, Box::new(MemoryStore::default()), &listen, rx).await },
        );
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut req = pxe_discover(1);
    req.set_message_type(MessageType::Request);
    req.ciaddr = Ipv4Addr::LOCALHOST;
    let bytes = encode(&req, &Default::default()).unwrap();
    let mut buf = [0u8; 1500];
    let mut answer = None;
    for _ in 0..20 {
        client.send_to(&bytes, ("127.0.0.1", 4011)).await.unwrap();
        if let Ok(Ok((n, from))) =
            tokio::time::timeout(Duration::from_millis(250), client.recv_from(&mut buf)).await
        {
            answer = Some((decode_strict(&buf[..n]).unwrap(), from));
            break;
        }
    }
    let (ack, from) = answer.expect("no port-4011 ACK within 5 s");
    assert_eq!(ack.message_type(), Some(MessageType::Ack));
    assert_eq!(ack.file, b"pxelinux.0");
    assert_eq!(from.port(), 4011);
    assert_eq!(from.ip(), std::net::IpAddr::V4(Ipv4Addr::LOCALHOST));
    // A running driver answers its counters.
    let (answer, report) = tokio::sync::oneshot::channel();
    ctl.send(Control::Report(answer)).unwrap();
    let running = tokio::time::timeout(Duration::from_secs(5), report)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(running.stats.acks, 1, "{running:?}");
    ctl.send(Control::Shutdown).unwrap();
    let report = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(report.stats.replies >= 1);
}

/// A store that shares what it was asked to do with the test.
#[derive(Debug, Clone, Default)]
struct SpyStore(std::sync::Arc<std::sync::Mutex<(Vec<dhcp_server::Lease>, Vec<usize>)>>);

impl dhcp_server::store::LeaseStore for SpyStore {
    fn append(&mut self, records: &[dhcp_server::Lease]) -> Result<(), dhcp_server::Error> {
        self.0.lock().unwrap().0.extend_from_slice(records);
        Ok(())
    }

    fn wants_compaction(&self, _live: usize) -> bool {
        self.0.lock().unwrap().0.len() >= 3
    }

    fn compact(&mut self, live: &[dhcp_server::Lease]) -> Result<(), dhcp_server::Error> {
        let mut g = self.0.lock().unwrap();
        g.0 = live.to_vec();
        g.1.push(live.len());
        Ok(())
    }
}

#[tokio::test]
async fn acks_are_written_to_the_store_and_the_store_compacted() {
    let mut s = dhcp_server::Subnet::new(Ipv4Addr::new(127, 0, 0, 0), 8);
    s.ranges.push(dhcp_server::Range {
        start: Ipv4Addr::new(127, 0, 0, 10),
        end: Ipv4Addr::new(127, 0, 0, 20),
        bootp: false,
    });
    let server = Server::new(ServerConfig::new(Mode::Full, vec![s], policy()));
    let free = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let listen = Listen {
        interfaces: vec![],
        port,
        pxe_port: None,
        share_port: false,
    };
    let spy = SpyStore::default();
    let seen = spy.0.clone();
    let (ctl, rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(async move { run(server, Box::new(spy), &listen, rx).await });
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    // INIT-REBOOT REQUESTs for five clients (the replies go to port 68, unheard here).
    let mut done = false;
    for _ in 0..50 {
        for n in 0..5u8 {
            let mut req = crate::support::request(n, Ipv4Addr::new(127, 0, 0, 10 + n), None);
            // Broadcast replies: the driver never touches the host's ARP table here.
            req.flags = req.flags.set_broadcast();
            let bytes = encode(&req, &Default::default()).unwrap();
            client.send_to(&bytes, ("127.0.0.1", port)).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let g = seen.lock().unwrap();
        if !g.1.is_empty() && g.0.len() >= 5 {
            done = true;
            break;
        }
    }
    assert!(done, "store: {:?}", seen.lock().unwrap());
    {
        let g = seen.lock().unwrap();
        let mut addrs: Vec<_> = g.0.iter().map(|l| l.addr).collect();
        addrs.sort();
        addrs.dedup();
        assert_eq!(
            addrs.len(),
            5,
            "all five leases are in the store after compaction: {:?}",
            g.0
        );
    }
    ctl.send(Control::Shutdown).unwrap();
    let report = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(report.stats.commit_batches >= 1);
}
