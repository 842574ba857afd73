//! proxyDHCP beside a real ISC dhcpd: a scripted PXE client gets its address from
//! ISC dhcpd and its boot file from dhcpd-pxe (proxy OFFER on 67, ACK on 4011),
//! with ISC dhcpd on the same host and on another host.

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use dhcp_pxe::wire::message::MessageType;
use dhcp_pxe::{decode_strict, encode, Message};

use super::{can_run, which, Lab};

const CHILD_ENV: &str = "DHCPD_PXE_TEST_PXE_CLIENT";

fn pxe_message(ty: MessageType, mac: [u8; 6]) -> Message {
    let mut m = Message {
        xid: 0x5058_4501,
        ..Message::default()
    };
    m.chaddr[..6].copy_from_slice(&mac);
    m.flags = m.flags.set_broadcast();
    m.set_message_type(ty);
    m.options.insert(55, vec![1, 3, 43, 60, 66, 67]);
    m.options
        .insert(60, b"PXEClient:Arch:00000:UNDI:002001".to_vec());
    m.options.insert(93, vec![0, 0]);
    m.options.insert(94, vec![1, 2, 1]);
    m
}

fn replies(sock: &UdpSocket, xid: u32, wait: Duration) -> Vec<Message> {
    let mut out = Vec::new();
    let end = Instant::now() + wait;
    let mut buf = [0u8; 1500];
    while Instant::now() < end {
        sock.set_read_timeout(Some(
            end.saturating_duration_since(Instant::now())
                .max(Duration::from_millis(10)),
        ))
        .unwrap();
        if let Ok((n, _)) = sock.recv_from(&mut buf) {
            if let Ok(m) = decode_strict(&buf[..n]) {
                if m.xid == xid {
                    out.push(m);
                }
            }
        }
    }
    out
}

fn describe(m: &Message) -> String {
    format!(
        "{:?} yiaddr={} siaddr={} file={} vc={} sid={}",
        m.message_type(),
        m.yiaddr,
        m.siaddr,
        String::from_utf8_lossy(&m.file),
        String::from_utf8_lossy(m.options.get(60).unwrap_or(b"")),
        m.options
            .get(54)
            .map_or(Ipv4Addr::UNSPECIFIED, |b| Ipv4Addr::new(
                b[0], b[1], b[2], b[3]
            )),
    )
}

/// The scripted PXE client, run by the parent inside the client namespace.
#[test]
fn pxe_client_child() {
    let Ok(iface) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mac = [2, 0, 0, 0, 0x99, 0x01];
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
    s.set_broadcast(true).unwrap();
    s.set_reuse_address(true).unwrap();
    s.bind_device(Some(iface.as_bytes())).unwrap();
    s.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68).into())
        .unwrap();
    let sock: UdpSocket = s.into();
    let discover = pxe_message(MessageType::Discover, mac);
    let bcast = SocketAddrV4::new(Ipv4Addr::BROADCAST, 67);
    sock.send_to(&encode(&discover, &Default::default()).unwrap(), bcast)
        .unwrap();
    let offers = replies(&sock, discover.xid, Duration::from_secs(3));
    for o in &offers {
        println!("\n@@OFFER {}", describe(o));
    }
    let Some(isc) = offers.iter().find(|o| !o.yiaddr.is_unspecified()) else {
        return;
    };
    let Some(proxy) = offers.iter().find(|o| o.yiaddr.is_unspecified()) else {
        return;
    };
    let mut req = pxe_message(MessageType::Request, mac);
    req.options.insert(50, isc.yiaddr.octets().to_vec());
    req.options
        .insert(54, isc.options.get(54).unwrap().to_vec());
    sock.send_to(&encode(&req, &Default::default()).unwrap(), bcast)
        .unwrap();
    let acks = replies(&sock, req.xid, Duration::from_secs(2));
    let Some(ack) = acks
        .iter()
        .find(|a| a.message_type() == Some(MessageType::Ack))
    else {
        return;
    };
    println!("\n@@ACK {}", describe(ack));
    let ok = Command::new("ip")
        .args(["addr", "add", &format!("{}/24", ack.yiaddr), "dev", &iface])
        .status()
        .unwrap();
    assert!(ok.success());
    std::thread::sleep(Duration::from_millis(300));
    let mut boot = pxe_message(MessageType::Request, mac);
    boot.flags = dhcp_pxe::wire::message::Flags::default();
    boot.ciaddr = ack.yiaddr;
    let b = proxy.options.get(54).unwrap();
    let to = SocketAddrV4::new(Ipv4Addr::new(b[0], b[1], b[2], b[3]), 4011);
    for _ in 0..3 {
        sock.send_to(&encode(&boot, &Default::default()).unwrap(), to)
            .unwrap();
        if let Some(a) = replies(&sock, boot.xid, Duration::from_secs(1)).first() {
            println!("\n@@PROXYACK {}", describe(a));
            break;
        }
    }
}

fn isc_conf(lab: &Lab) -> std::path::PathBuf {
    let conf = lab.path("dhcpd.conf");
    std::fs::write(
        &conf,
        "authoritative;\nddns-update-style none;\nping-check false;\ndefault-lease-time 600;\nmax-lease-time 7200;\n\
         subnet 192.0.2.0 netmask 255.255.255.0 {\n  range 192.0.2.100 192.0.2.150;\n  option routers 192.0.2.1;\n}\n",
    )
    .unwrap();
    std::fs::write(lab.path("dhcpd.leases"), "").unwrap();
    conf
}

fn beside_isc(test: &str, same_host: bool) {
    if !can_run(test, &["dhcpd"]) {
        return;
    }
    let mut lab = Lab::new(1);
    let conf = isc_conf(&lab);
    let dhcpd = which("dhcpd").unwrap();
    let (isc_ns, isc_if, isc_addr) = if same_host {
        (lab.server_ns.clone(), "br0".to_string(), "192.0.2.1")
    } else {
        // Another host: a third namespace on the same bridge.
        let ns = format!("{}-isc", lab.server_ns);
        lab.extra_ns(&ns);
        let out = Command::new("ip")
            .args([
                "link",
                "add",
                "vi0",
                "netns",
                &lab.server_ns,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                &ns,
            ])
            .status()
            .unwrap();
        assert!(out.success());
        lab.sh_ok(
            &lab.server_ns.clone(),
            "ip link set vi0 master br0 && ip link set vi0 up",
        );
        lab.sh_ok(
            &ns,
            "ip link set lo up && ip link set eth0 up && ip addr add 192.0.2.2/24 dev eth0",
        );
        (ns, "eth0".to_string(), "192.0.2.2")
    };
    let conf_s = conf.to_str().unwrap().to_string();
    let lf = lab.path("dhcpd.leases").to_str().unwrap().to_string();
    let pf = lab.path("dhcpd.pid").to_str().unwrap().to_string();
    lab.spawn(
        "isc",
        &isc_ns,
        &[
            dhcpd.to_str().unwrap(),
            "-4",
            "-f",
            "-d",
            "-cf",
            &conf_s,
            "-lf",
            &lf,
            "-pf",
            &pf,
            &isc_if,
        ],
    );
    assert!(
        lab.wait_log("isc", "Sending on", Duration::from_secs(10)),
        "ISC dhcpd did not start: {}",
        lab.log("isc")
    );
    lab.start_server(
        "proxy",
        &[
            "--proxy",
            "--interface",
            "br0",
            "--boot-file",
            "pxelinux.0",
            "--tftp-server",
            "192.0.2.1",
        ],
    );
    let me = std::env::current_exe().unwrap();
    let out = Command::new("ip")
        .args(["netns", "exec", &lab.client_ns])
        .arg(&me)
        .args([
            "netns::isc::pxe_client_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "vc0")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let marked: Vec<&str> = text
        .lines()
        .filter_map(|l| l.find("@@").map(|i| &l[i + 2..]))
        .collect();
    let ctx = || {
        format!(
            "client:\n{text}\nisc:\n{}\nproxy:\n{}",
            lab.log("isc"),
            lab.log("proxy")
        )
    };
    let offers: Vec<&str> = marked
        .iter()
        .copied()
        .filter(|l| l.starts_with("OFFER "))
        .collect();
    assert!(
        offers
            .iter()
            .any(|l| l.contains("yiaddr=192.0.2.1") && l.contains(&format!("sid={isc_addr}"))),
        "no address offer from ISC dhcpd: {}",
        ctx()
    );
    assert!(
        offers.iter().any(|l| l.contains("yiaddr=0.0.0.0")
            && l.contains("file=pxelinux.0")
            && l.contains("vc=PXEClient")),
        "no proxy offer: {}",
        ctx()
    );
    let ack = marked
        .iter()
        .find(|l| l.starts_with("ACK "))
        .unwrap_or_else(|| panic!("no ACK from ISC: {}", ctx()));
    assert!(
        ack.contains("yiaddr=192.0.2.1") && ack.contains(&format!("sid={isc_addr}")),
        "{}",
        ctx()
    );
    let pack = marked
        .iter()
        .find(|l| l.starts_with("PROXYACK "))
        .unwrap_or_else(|| panic!("no port-4011 ACK: {}", ctx()));
    assert!(
        pack.contains("file=pxelinux.0") && pack.contains("yiaddr=0.0.0.0"),
        "{}",
        ctx()
    );
    // The proxy stayed silent to ISC's REQUEST (and handed out nothing).
    assert!(
        lab.log("proxy").contains("DHCPREQUEST") && !lab.log("proxy").contains("DHCPACK on 192"),
        "{}",
        ctx()
    );
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn proxy_beside_isc_dhcpd_on_the_same_host() {
    beside_isc("proxy_beside_isc_dhcpd_on_the_same_host", true);
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn proxy_beside_isc_dhcpd_on_another_host() {
    beside_isc("proxy_beside_isc_dhcpd_on_another_host", false);
}
