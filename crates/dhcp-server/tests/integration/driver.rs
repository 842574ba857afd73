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
    ctl.send(Control::Shutdown).unwrap();
    let stats = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(stats.replies >= 1);
}
