//! Full mode against hand-built requests: every message type, the pool running
//! out, the same address again, decline, release, rapid commit, and the lease file
//! read back after a restart and after a torn write.

use std::net::Ipv6Addr;

use dhcp_pxe::boot_class::{policy, BootFile};
use dhcproto::v6::{
    DhcpOption, DhcpOptions, IAAddr, Message, MessageType, OptionCode, Status, IANA, ORO,
};
use dhcproto::{Decodable, Encodable};

use super::{
    replay6, server_duid_ll, Binding6, FullServer6, FullV6, LeaseFile6, Range6, State6, V6Config,
    DECLINE_HOLD,
};

const LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
const NOW: u64 = 1_800_000_000;
const SERVER_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

fn addr(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn server(first: &str, last: &str, rapid: bool) -> FullServer6 {
    let files: Vec<BootFile> = ["efi-x64=grubx64.efi"]
        .iter()
        .map(|f| f.parse().unwrap())
        .collect();
    let mut c = V6Config::new(server_duid_ll(SERVER_MAC), policy(&files, None));
    let mut full = FullV6::new(Range6::new(addr(first), addr(last)).unwrap());
    full.preferred_lifetime = 1000;
    full.valid_lifetime = 2000;
    full.rapid_commit = rapid;
    c.full = Some(full);
    FullServer6::new(c).unwrap()
}

fn duid(n: u8) -> Vec<u8> {
    vec![0, 3, 0, 1, 0x52, 0x54, 0, 0, 0, n]
}

/// A message from client `n` with one IA_NA (IAID 1) naming `addrs`, option 61 = 7.
fn msg(ty: MessageType, n: u8, addrs: &[Ipv6Addr]) -> Vec<u8> {
    let mut m = Message::new_with_id(ty, [n, 2, 3]);
    let o = m.opts_mut();
    o.insert(DhcpOption::ClientId(duid(n)));
    o.insert(DhcpOption::ClientArchType(vec![7.into()]));
    o.insert(DhcpOption::ORO(ORO {
        opts: vec![OptionCode::from(59)],
    }));
    let mut ia = DhcpOptions::new();
    for &a in addrs {
        ia.insert(DhcpOption::IAAddr(IAAddr {
            addr: a,
            preferred_life: 0,
            valid_life: 0,
            opts: DhcpOptions::new(),
        }));
    }
    o.insert(DhcpOption::IANA(IANA {
        id: 1,
        t1: 0,
        t2: 0,
        opts: ia,
    }));
    if matches!(
        ty,
        MessageType::Request | MessageType::Renew | MessageType::Release | MessageType::Decline
    ) {
        o.insert(DhcpOption::ServerId(server_duid_ll(SERVER_MAC)));
    }
    m.to_vec().unwrap()
}

/// The reply decoded from its own bytes, and its records.
fn send(s: &mut FullServer6, now: u64, bytes: &[u8]) -> (Message, Vec<Binding6>) {
    let out = s.handle(now, bytes, LOCAL);
    let (m, wire) = out.reply.unwrap();
    let back = Message::decode(&mut dhcproto::Decoder::new(&wire)).unwrap();
    assert_eq!(back, m, "the wire form decodes to the same message");
    (m, out.commit)
}

/// An address of an IA_NA with its preferred and valid lifetimes.
type Lifetimes = (Ipv6Addr, u32, u32);

/// The IA_NA of a reply: T1, T2, its addresses with lifetimes, its status.
fn ia(m: &Message) -> (u32, u32, Vec<Lifetimes>, Option<Status>) {
    let Some(DhcpOption::IANA(ia)) = m.opts().get(OptionCode::IANA) else {
        panic!("no IA_NA in {m:?}");
    };
    let addrs = ia
        .opts
        .iter()
        .filter_map(|o| match o {
            DhcpOption::IAAddr(a) => Some((a.addr, a.preferred_life, a.valid_life)),
            _ => None,
        })
        .collect();
    let st = match ia.opts.get(OptionCode::StatusCode) {
        Some(DhcpOption::StatusCode(s)) => Some(s.status),
        _ => None,
    };
    (ia.t1, ia.t2, addrs, st)
}

fn top_status(m: &Message) -> Option<Status> {
    match m.opts().get(OptionCode::StatusCode) {
        Some(DhcpOption::StatusCode(s)) => Some(s.status),
        _ => None,
    }
}

/// SOLICIT → ADVERTISE, REQUEST → REPLY; returns the address bound.
fn lease(s: &mut FullServer6, n: u8, now: u64) -> Ipv6Addr {
    let (adv, commit) = send(s, now, &msg(MessageType::Solicit, n, &[]));
    assert_eq!(adv.msg_type(), MessageType::Advertise);
    assert!(commit.is_empty(), "an ADVERTISE writes nothing");
    let offered = ia(&adv).2[0].0;
    let (rep, commit) = send(s, now, &msg(MessageType::Request, n, &[offered]));
    assert_eq!(rep.msg_type(), MessageType::Reply);
    let (t1, t2, addrs, st) = ia(&rep);
    assert_eq!((t1, t2, st), (500, 800, None), "T1/T2 0.5/0.8 of preferred");
    assert_eq!(addrs, vec![(offered, 1000, 2000)]);
    assert_eq!(commit.len(), 1);
    assert_eq!((commit[0].addr, commit[0].state), (offered, State6::Bound));
    assert_eq!(commit[0].expires, now + 2000);
    offered
}

#[test]
fn solicit_request_binds_an_address_of_the_range_with_the_boot_url() {
    let mut s = server("2001:db8:1::100", "2001:db8:1::1ff", false);
    let (adv, _) = send(&mut s, NOW, &msg(MessageType::Solicit, 1, &[]));
    let url = match adv.opts().get(OptionCode::from(59)) {
        Some(DhcpOption::Unknown(u)) => String::from_utf8_lossy(u.data()).into_owned(),
        o => panic!("no option 59: {o:?}"),
    };
    assert_eq!(url, "tftp://[fe80::1]/grubx64.efi");
    let a = lease(&mut s, 1, NOW);
    assert_eq!(a, addr("2001:db8:1::100"));
    // Another client, another address; the first again gets its own.
    assert_eq!(lease(&mut s, 2, NOW), addr("2001:db8:1::101"));
    assert_eq!(lease(&mut s, 1, NOW + 10), a);
    // A REQUEST to another server, a SOLICIT with a server id: silence.
    let mut other = Message::decode(&mut dhcproto::Decoder::new(&msg(
        MessageType::Request,
        3,
        &[],
    )))
    .unwrap();
    other.opts_mut().remove(OptionCode::ServerId);
    other
        .opts_mut()
        .insert(DhcpOption::ServerId(server_duid_ll([9; 6])));
    let why = s
        .handle(NOW, &other.to_vec().unwrap(), LOCAL)
        .reply
        .unwrap_err();
    assert!(why.contains("another server"), "{why}");
    let mut m = Message::decode(&mut dhcproto::Decoder::new(&msg(
        MessageType::Solicit,
        3,
        &[],
    )))
    .unwrap();
    m.opts_mut()
        .insert(DhcpOption::ServerId(s.config().server_duid.clone()));
    let why = s
        .handle(NOW, &m.to_vec().unwrap(), LOCAL)
        .reply
        .unwrap_err();
    assert!(why.contains("must not"), "{why}");
}

#[test]
fn renew_rebind_extend_and_unknown_ias_get_nobinding_or_lifetimes_zero() {
    let mut s = server("2001:db8:1::100", "2001:db8:1::1ff", false);
    let a = lease(&mut s, 1, NOW);
    let later = NOW + 1500;
    let (rep, commit) = send(&mut s, later, &msg(MessageType::Renew, 1, &[a]));
    assert_eq!(ia(&rep).2, vec![(a, 1000, 2000)]);
    assert_eq!(commit[0].expires, later + 2000, "extended");
    let (rep, commit) = send(&mut s, later, &msg(MessageType::Rebind, 1, &[a]));
    assert_eq!(ia(&rep).2, vec![(a, 1000, 2000)]);
    assert_eq!(commit.len(), 1);
    // RENEW of an IA the server does not know: NoBinding inside the IA.
    let (rep, commit) = send(&mut s, later, &msg(MessageType::Renew, 9, &[a]));
    assert_eq!(ia(&rep).3, Some(Status::NoBinding));
    assert!(ia(&rep).2.is_empty() && commit.is_empty());
    // REBIND of an address that is not ours to give: lifetimes 0.
    let foreign = addr("2001:db8:99::5");
    let (rep, commit) = send(&mut s, later, &msg(MessageType::Rebind, 9, &[foreign]));
    assert_eq!(ia(&rep).2, vec![(foreign, 0, 0)]);
    assert!(commit.is_empty());
    // REBIND naming another client's address: lifetimes 0 as well.
    let (rep, _) = send(&mut s, later, &msg(MessageType::Rebind, 9, &[a]));
    assert_eq!(ia(&rep).2, vec![(a, 0, 0)]);
    // REBIND of a free address of the range (a lease file lost): bound for it.
    let free = addr("2001:db8:1::1f0");
    let (rep, commit) = send(&mut s, later, &msg(MessageType::Rebind, 9, &[free]));
    assert_eq!(ia(&rep).2, vec![(free, 1000, 2000)]);
    assert_eq!(commit[0].addr, free);
}

#[test]
fn release_frees_and_decline_quarantines() {
    let mut s = server("2001:db8:1::100", "2001:db8:1::101", false);
    let a = lease(&mut s, 1, NOW);
    let b = lease(&mut s, 2, NOW);
    let (rep, commit) = send(&mut s, NOW, &msg(MessageType::Release, 1, &[a]));
    assert_eq!(top_status(&rep), Some(Status::Success));
    assert!(
        rep.opts().get(OptionCode::IANA).is_none(),
        "released IAs left out"
    );
    assert_eq!((commit[0].addr, commit[0].state), (a, State6::Released));
    // The released address goes to the next client.
    assert_eq!(lease(&mut s, 3, NOW), a);
    // Releasing an address that is not its: NoBinding in the IA, nothing written.
    let (rep, commit) = send(&mut s, NOW, &msg(MessageType::Release, 1, &[b]));
    assert_eq!(ia(&rep).3, Some(Status::NoBinding));
    assert!(commit.is_empty());
    // DECLINE: kept out of the range until the quarantine ends.
    let (rep, commit) = send(&mut s, NOW, &msg(MessageType::Decline, 2, &[b]));
    assert_eq!(top_status(&rep), Some(Status::Success));
    assert_eq!(commit[0].state, State6::Declined);
    let (adv, _) = send(&mut s, NOW, &msg(MessageType::Solicit, 2, &[]));
    assert_eq!(
        ia(&adv).3,
        Some(Status::NoAddrsAvail),
        "b declined, a taken"
    );
    let after = NOW + DECLINE_HOLD + 1;
    let (adv, _) = send(&mut s, after, &msg(MessageType::Solicit, 4, &[]));
    assert_eq!(ia(&adv).2[0].0, b, "back after the quarantine");
}

#[test]
fn an_empty_pool_gives_noaddrsavail_inside_the_ia_and_the_same_client_keeps_its_address() {
    let mut s = server("2001:db8:1::100", "2001:db8:1::103", false);
    let got: Vec<_> = (1..=4).map(|n| lease(&mut s, n, NOW)).collect();
    let want: Vec<_> = (0x100..=0x103u16)
        .map(|i| Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, i))
        .collect();
    assert_eq!(got, want);
    let (adv, _) = send(&mut s, NOW, &msg(MessageType::Solicit, 5, &[]));
    let (_, _, addrs, st) = ia(&adv);
    assert_eq!(st, Some(Status::NoAddrsAvail));
    assert!(addrs.is_empty());
    let (rep, commit) = send(&mut s, NOW, &msg(MessageType::Request, 5, &[]));
    assert_eq!(ia(&rep).3, Some(Status::NoAddrsAvail));
    assert!(commit.is_empty());
    // Client 2 asks again: its own address, not NoAddrsAvail.
    assert_eq!(lease(&mut s, 2, NOW + 5), want[1]);
    // Once the leases expire, the new client gets one.
    let (adv, _) = send(&mut s, NOW + 2001, &msg(MessageType::Solicit, 5, &[]));
    assert!(want.contains(&ia(&adv).2[0].0));
}

#[test]
fn rapid_commit_binds_at_solicit_only_when_configured() {
    let with_14 = || {
        let mut m = Message::decode(&mut dhcproto::Decoder::new(&msg(
            MessageType::Solicit,
            1,
            &[],
        )))
        .unwrap();
        m.opts_mut().insert(DhcpOption::RapidCommit);
        m.to_vec().unwrap()
    };
    let mut s = server("2001:db8:1::100", "2001:db8:1::1ff", true);
    let (rep, commit) = send(&mut s, NOW, &with_14());
    assert_eq!(rep.msg_type(), MessageType::Reply);
    assert!(rep.opts().get(OptionCode::RapidCommit).is_some());
    assert_eq!(commit.len(), 1);
    assert_eq!(ia(&rep).2, vec![(addr("2001:db8:1::100"), 1000, 2000)]);
    let mut s = server("2001:db8:1::100", "2001:db8:1::1ff", false);
    let (adv, commit) = send(&mut s, NOW, &with_14());
    assert_eq!(adv.msg_type(), MessageType::Advertise);
    assert!(adv.opts().get(OptionCode::RapidCommit).is_none() && commit.is_empty());
}

#[test]
fn confirm_answers_by_the_ranges_prefix_and_information_request_as_stateless() {
    let mut s = server("2001:db8:1::100", "2001:db8:1::1ff", false);
    let (rep, commit) = send(
        &mut s,
        NOW,
        &msg(MessageType::Confirm, 1, &[addr("2001:db8:1::7777")]),
    );
    assert_eq!(top_status(&rep), Some(Status::Success));
    assert!(commit.is_empty());
    let (rep, _) = send(
        &mut s,
        NOW,
        &msg(MessageType::Confirm, 1, &[addr("2001:db8:2::1")]),
    );
    assert_eq!(top_status(&rep), Some(Status::NotOnLink));
    assert!(s
        .handle(NOW, &msg(MessageType::Confirm, 1, &[]), LOCAL)
        .reply
        .is_err());
    let mut ir = Message::new_with_id(MessageType::InformationRequest, [9, 9, 9]);
    ir.opts_mut().insert(DhcpOption::ORO(ORO {
        opts: vec![OptionCode::from(23)],
    }));
    // One with an IA_NA is discarded (RFC 8415 §16.12).
    let with_ia = msg(MessageType::InformationRequest, 1, &[]);
    let why = s.handle(NOW, &with_ia, LOCAL).reply.unwrap_err();
    assert!(why.contains("16.12"), "{why}");
    // (dhcproto 0.15 decodes its own option 32 as an unknown one: no round trip here.)
    let (rep, _) = s.handle(NOW, &ir.to_vec().unwrap(), LOCAL).reply.unwrap();
    assert!(rep.opts().get(OptionCode::InformationRefreshTime).is_some());
    assert!(rep.opts().get(OptionCode::IANA).is_none());
}

#[test]
fn a_restart_reads_the_lease_file_back_and_drops_a_torn_last_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dhcp6.leases");
    let mut s = server("2001:db8:1::100", "2001:db8:1::1ff", false);
    let (mut file, none) = LeaseFile6::open(&path).unwrap();
    assert!(none.is_empty());
    let mut bound = Vec::new();
    for n in 1..=3 {
        let a = lease(&mut s, n, NOW);
        let out = s.handle(NOW, &msg(MessageType::Renew, n, &[a]), LOCAL);
        file.append(&out.commit).unwrap();
        bound.push(a);
    }
    let out = s.handle(NOW, &msg(MessageType::Release, 2, &[bound[1]]), LOCAL);
    file.append(&out.commit).unwrap();
    drop(file);
    // A new server from the file: client 1 and 3 keep theirs, 2's is free.
    let (file, records) = LeaseFile6::open(&path).unwrap();
    assert_eq!(records.len(), 4);
    let mut s2 = server("2001:db8:1::100", "2001:db8:1::1ff", false);
    s2.restore(records.clone());
    let (rep, _) = send(&mut s2, NOW + 1, &msg(MessageType::Renew, 3, &[bound[2]]));
    assert_eq!(ia(&rep).2[0].0, bound[2]);
    assert_eq!(
        lease(&mut s2, 9, NOW + 1),
        bound[1],
        "the released one is free"
    );
    // A torn last group: cut off at the next open, the rest kept.
    let len = std::fs::metadata(&path).unwrap().len();
    drop(file);
    let (mut file, _) = LeaseFile6::open(&path).unwrap();
    file.append(&records[..1]).unwrap();
    drop(file);
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(len + 20).unwrap();
    let data = std::fs::read(&path).unwrap();
    assert!(replay6(&data).unwrap().torn.is_some());
    let (_, again) = LeaseFile6::open(&path).unwrap();
    assert_eq!(again, records);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
    // Damage that is no torn write stops the start.
    let mut bad = std::fs::read(&path).unwrap();
    bad[30] ^= 1;
    bad.extend_from_slice(&[1; 64]);
    std::fs::write(&path, &bad).unwrap();
    assert!(LeaseFile6::open(&path).is_err());
}

#[test]
fn compaction_keeps_the_live_bindings_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dhcp6.leases");
    let mut s = server("2001:db8:1::100", "2001:db8:1::1ff", false);
    let (mut file, _) = LeaseFile6::open(&path).unwrap();
    let a = lease(&mut s, 1, NOW);
    let b = lease(&mut s, 2, NOW);
    for _ in 0..3 {
        let out = s.handle(NOW, &msg(MessageType::Renew, 1, &[a]), LOCAL);
        file.append(&out.commit).unwrap();
    }
    let out = s.handle(NOW, &msg(MessageType::Release, 2, &[b]), LOCAL);
    file.append(&out.commit).unwrap();
    let live = s.bindings().live(NOW);
    assert_eq!(live.len(), 1);
    file.compact(&live).unwrap();
    drop(file);
    let (_, back) = LeaseFile6::open(&path).unwrap();
    assert_eq!(back, live);
}

#[test]
fn prefix_ranges_and_link_prefixes() {
    let r = Range6::from_prefix(addr("2001:db8:1::"), 64).unwrap();
    assert_eq!(r.first(), addr("2001:db8:1::1"));
    assert_eq!(r.last(), addr("2001:db8:1::ffff:ffff:ffff:ffff"));
    assert!(r.on_link(addr("2001:db8:1::abcd")) && !r.on_link(addr("2001:db8:2::1")));
    let r = Range6::new(addr("2001:db8:1::100"), addr("2001:db8:1::1ff")).unwrap();
    assert_eq!(r.prefix_len(), 64);
    assert_eq!(r.len(), 256);
    assert!(Range6::new(addr("2001:db8:1::2"), addr("2001:db8:1::1")).is_none());
    // A /64 pool hands out addresses without scanning it.
    let mut s = FullServer6::new({
        let mut c = V6Config::new(server_duid_ll([2, 0, 0, 0, 0, 1]), policy(&[], None));
        let mut f = FullV6::new(Range6::from_prefix(addr("2001:db8:1::"), 64).unwrap());
        (f.preferred_lifetime, f.valid_lifetime) = (1000, 2000);
        c.full = Some(f);
        c
    })
    .unwrap();
    // No boot rule and a plain client: still an address (full mode serves all).
    assert_eq!(lease(&mut s, 1, NOW), addr("2001:db8:1::1"));
    // The whole address space (prefix length 0) neither overflows nor scans.
    let all = Range6::from_prefix(addr("::"), 0).unwrap();
    assert_eq!(
        (all.first(), all.last()),
        (addr("::1"), Ipv6Addr::from(u128::MAX))
    );
    let mut b = super::Bindings6::new(all);
    for n in 0..3u8 {
        let ia = super::IaKey {
            duid: duid(n),
            iaid: 1,
        };
        let a = b.choose(&ia, NOW).unwrap();
        b.bind(&ia, a, NOW, 100);
    }
    assert_eq!(b.iter().count(), 3);
}

#[test]
fn relayed_requests_get_addresses_in_relay_replies_and_garbage_never_panics() {
    let mut s = server("2001:db8:1::100", "2001:db8:1::1ff", false);
    let inner = msg(MessageType::Solicit, 1, &[]);
    let mut forw = vec![12, 0];
    forw.extend_from_slice(&addr("2001:db8:1::1").octets());
    forw.extend_from_slice(&addr("fe80::5").octets());
    forw.extend_from_slice(&9u16.to_be_bytes());
    forw.extend_from_slice(&(inner.len() as u16).to_be_bytes());
    forw.extend_from_slice(&inner);
    let out = s.handle(NOW, &forw, LOCAL);
    assert_eq!(out.relays.len(), 1);
    let (m, wire) = out.reply.unwrap();
    assert_eq!(wire[0], 13);
    assert_eq!(ia(&m).2[0].0, addr("2001:db8:1::100"));
    let good = msg(MessageType::Request, 1, &[]);
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..3000 {
        let mut m = good.clone();
        for _ in 0..3 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let i = (x >> 33) as usize % m.len();
            m[i] = (x >> 20) as u8;
        }
        let _ = s.handle(NOW, &m, LOCAL);
    }
}

#[test]
fn a_reload_changes_boot_files_and_lifetimes_keeps_bindings_and_refuses_a_new_range() {
    let mut s = server("2001:db8:1::100", "2001:db8:1::1ff", false);
    let a = lease(&mut s, 1, NOW);
    let duid_in_use = s.config().server_duid.clone();
    let files: Vec<BootFile> = ["efi-x64=shimx64.efi"]
        .iter()
        .map(|f| f.parse().unwrap())
        .collect();
    // A reloaded file has no DUID yet (the driver fills it in at start).
    let mut c = V6Config::new(Vec::new(), policy(&files, None));
    let mut full =
        FullV6::new(Range6::new(addr("2001:db8:1::100"), addr("2001:db8:1::1ff")).unwrap());
    full.preferred_lifetime = 3000;
    full.valid_lifetime = 4000;
    c.full = Some(full.clone());
    s.reconfigure(c.clone()).unwrap();
    assert_eq!(s.config().server_duid, duid_in_use, "the DUID in use stays");
    let (adv, _) = send(&mut s, NOW, &msg(MessageType::Solicit, 1, &[]));
    match adv.opts().get(OptionCode::from(59)) {
        Some(DhcpOption::Unknown(u)) => {
            assert_eq!(u.data(), b"tftp://[fe80::1]/shimx64.efi");
        }
        o => panic!("no option 59: {o:?}"),
    }
    let (_, _, addrs, _) = ia(&adv);
    assert_eq!(
        addrs,
        vec![(a, 3000, 4000)],
        "the same binding, new lifetimes"
    );
    // Another range, or no full mode: refused, the running configuration kept.
    let mut other = c.clone();
    other.full = Some(FullV6 {
        range: Range6::new(addr("2001:db8:2::100"), addr("2001:db8:2::1ff")).unwrap(),
        ..full
    });
    assert!(s.reconfigure(other).unwrap_err().contains("range"));
    let mut stateless = c;
    stateless.full = None;
    assert!(s.reconfigure(stateless).unwrap_err().contains("restart"));
    assert_eq!(s.config().full.as_ref().unwrap().preferred_lifetime, 3000);
}

#[test]
fn full_mode_leaves_pxeclient_out_so_uefi_pxe_boots_from_the_advertise() {
    let mut s = server("2001:db8:1::100", "2001:db8:1::1ff", false);
    let mut m = Message::decode(&mut dhcproto::Decoder::new(&msg(
        MessageType::Solicit,
        1,
        &[],
    )))
    .unwrap();
    m.opts_mut()
        .insert(DhcpOption::Unknown(dhcproto::v6::UnknownOption::new(
            OptionCode::from(16),
            b"\0\0\x01\x57\0\x20PXEClient:Arch:00007:UNDI:003016".to_vec(),
        )));
    let out = s.handle(NOW, &m.to_vec().unwrap(), LOCAL);
    let (adv, _) = out.reply.unwrap();
    assert_eq!(adv.msg_type(), MessageType::Advertise);
    assert!(adv.opts().get(OptionCode::from(59)).is_some());
    assert!(adv.opts().get(OptionCode::VendorClass).is_none());
    assert!(adv.opts().get(OptionCode::from(16)).is_none());
}
