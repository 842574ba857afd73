//! The PostgreSQL lease store against a real, throw-away PostgreSQL cluster:
//! random batches from two servers checked against a model of the
//! compare-and-set rule, concurrent writers that never both get one address,
//! and the core's answer to a refused record (no ACK, the holder learnt).

#[path = "pgcluster.rs"]
mod pgcluster;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, SystemTime};

use dhcp_pxe::wire::encode::{encode, EncodeParams};
use dhcp_pxe::wire::message::MessageType;
use dhcp_pxe::{decode_strict, Message};
use dhcp_server::store::{LeaseStore, PgLeaseStore, PgOptions, Verdict, SCHEMA_VERSION};
use dhcp_server::{
    ClientKey, Datagram, Expiry, Lease, LeaseDetails, LeaseState, Mode, Server, ServerConfig,
    Tenure,
};
use pgcluster::PgCluster;

use crate::support::{discover, policy, request, subnet, SERVER};

#[path = "../../../../tests/support/skip.rs"]
mod skip;

fn cluster(test: &str) -> Option<PgCluster> {
    match PgCluster::start() {
        Ok(c) => Some(c),
        Err(why) => {
            skip::skip(test, &why);
            None
        }
    }
}

fn open(c: &PgCluster, instance: &str) -> (PgLeaseStore, Vec<Lease>) {
    PgLeaseStore::open(PgOptions {
        url: c.url(),
        instance: instance.into(),
        timeout: Duration::from_secs(5),
        pool_size: 1,
    })
    .unwrap()
}

fn now() -> u64 {
    dhcp_server::server::unix(SystemTime::now())
}

/// xorshift64*: deterministic per seed, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// The rule the store applies: the row is free, expired, or this client's binding.
fn may_write(row: Option<&Lease>, rec: &Lease, now: u64) -> bool {
    row.is_none_or(|r| {
        r.state == LeaseState::Released
            || r.expires.is_past(now)
            || (r.client == rec.client && r.state == LeaseState::Bound)
    })
}

fn random_record(rng: &mut Rng, seed: u64, now: u64) -> Lease {
    let addr = Ipv4Addr::new(198, 18, seed as u8, rng.below(6) as u8 + 1);
    let state = [
        LeaseState::Bound,
        LeaseState::Bound,
        LeaseState::Released,
        LeaseState::Declined,
    ][rng.below(4) as usize];
    // Far from `now` on either side: the store's clock reads a little later.
    let expires = match rng.below(5) {
        0 => Expiry::Never,
        1 => Expiry::At(now - 600 - rng.below(600)),
        _ => Expiry::At(now + 600 + rng.below(600)),
    };
    let tenure = [
        Tenure::Fresh,
        Tenure::Renewed,
        Tenure::Bootp,
        Tenure::Reserved,
    ][rng.below(4) as usize];
    Lease {
        addr,
        client: ClientKey(vec![1, 2, 0, 0, 0, seed as u8, rng.below(4) as u8]),
        state,
        expires,
        tenure,
        details: random_details(rng, now),
    }
}

/// Details as the core fills them, or none (a record from an older journal).
fn random_details(rng: &mut Rng, now: u64) -> LeaseDetails {
    if rng.below(4) == 0 {
        return LeaseDetails::default();
    }
    LeaseDetails {
        start: Some(now - rng.below(3600)),
        hostname: match rng.below(3) {
            0 => Vec::new(),
            1 => b"pxe-node-7".to_vec(),
            _ => vec![0, 0xff, b'\n', b'x'],
        },
        arch: [None, Some(0), Some(7), Some(u16::MAX)][rng.below(4) as usize],
        boot_file: match rng.below(2) {
            0 => Vec::new(),
            _ => b"http://192.0.2.5/boot.ipxe".to_vec(),
        },
    }
}

#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn postgres_store_verdicts_follow_the_compare_and_set_rule_for_random_batches() {
    let test = "postgres_store_verdicts_follow_the_compare_and_set_rule_for_random_batches";
    let Some(c) = cluster(test) else { return };
    let (mut a, _) = open(&c, "a");
    let (mut b, _) = open(&c, "b");
    let mut model: HashMap<Ipv4Addr, Lease> = HashMap::new();
    let (mut stored, mut refused) = (0, 0);
    for seed in 1..=25u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        for _ in 0..40 {
            let t = now();
            let n = 1 + rng.below(4) as usize;
            let batch: Vec<Lease> = (0..n).map(|_| random_record(&mut rng, seed, t)).collect();
            let first = rng.below(2) == 0;
            let store = if first { &mut a } else { &mut b };
            let verdicts = store.commit(&batch).unwrap();
            assert_eq!(verdicts.len(), batch.len());
            for (rec, v) in batch.iter().zip(&verdicts) {
                let row = model.get(&rec.addr);
                if may_write(row, rec, t) {
                    assert_eq!(v, &Verdict::Stored, "seed {seed}: {rec:?} over {row:?}");
                    model.insert(rec.addr, rec.clone());
                    stored += 1;
                } else {
                    assert_eq!(
                        v,
                        &Verdict::Refused(row.unwrap().clone()),
                        "seed {seed}: {rec:?}"
                    );
                    refused += 1;
                }
            }
            // The other server reads what this one wrote.
            let other = if first { &mut b } else { &mut a };
            let seen = other.changes().unwrap();
            for (rec, v) in batch.iter().zip(&verdicts) {
                if v == &Verdict::Stored && model.get(&rec.addr) == Some(rec) {
                    assert!(seen.contains(rec), "seed {seed}: {rec:?} not read back");
                }
            }
        }
    }
    assert!(
        stored > 200 && refused > 100,
        "{stored} stored, {refused} refused"
    );
    // A server starting now reads exactly the model.
    let (_, rows) = open(&c, "c");
    let got: HashMap<Ipv4Addr, Lease> = rows.into_iter().map(|l| (l.addr, l)).collect();
    assert_eq!(got, model);
    assert_eq!(
        c.psql("SELECT version FROM dhcpd_pxe.schema_version")
            .trim(),
        SCHEMA_VERSION.to_string()
    );
}

/// The tables as schema version 1 made them (before the lease details).
const SCHEMA_1: &str = "
CREATE SCHEMA dhcpd_pxe;
CREATE TABLE dhcpd_pxe.schema_version (version integer NOT NULL);
CREATE SEQUENCE dhcpd_pxe.lease_version;
CREATE TABLE dhcpd_pxe.lease (
    addr    inet    PRIMARY KEY,
    client  bytea   NOT NULL,
    state   text    NOT NULL CHECK (state IN ('bound', 'released', 'declined')),
    expires bigint,
    tenure  text    NOT NULL CHECK (tenure IN ('fresh', 'renewed', 'bootp', 'reserved')),
    server  text    NOT NULL,
    version bigint  NOT NULL DEFAULT nextval('dhcpd_pxe.lease_version')
);
CREATE INDEX lease_version_idx ON dhcpd_pxe.lease (version);
INSERT INTO dhcpd_pxe.schema_version VALUES (1);
INSERT INTO dhcpd_pxe.lease (addr, client, state, expires, tenure, server)
    VALUES ('198.18.9.1', '\\x01020304', 'bound', 4000000000, 'fresh', 'old');
";

#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn postgres_schema_1_is_upgraded_in_place_and_its_leases_kept() {
    let test = "postgres_schema_1_is_upgraded_in_place_and_its_leases_kept";
    let Some(c) = cluster(test) else { return };
    c.psql(SCHEMA_1);
    assert_eq!(PgLeaseStore::init(&c.url()).unwrap(), Some(1));
    assert_eq!(
        c.psql("SELECT version FROM dhcpd_pxe.schema_version")
            .trim(),
        SCHEMA_VERSION.to_string()
    );
    let (mut s, rows) = open(&c, "a");
    let old = Lease {
        addr: Ipv4Addr::new(198, 18, 9, 1),
        client: ClientKey(vec![1, 2, 3, 4]),
        state: LeaseState::Bound,
        expires: Expiry::At(4_000_000_000),
        tenure: Tenure::Fresh,
        details: LeaseDetails::default(),
    };
    assert_eq!(rows, std::slice::from_ref(&old));
    // The renewal of that lease writes its details into the new columns.
    let mut renewed = old;
    renewed.tenure = Tenure::Renewed;
    renewed.details = LeaseDetails {
        start: Some(now()),
        hostname: b"pxe-node-7".to_vec(),
        arch: Some(7),
        boot_file: b"grubx64.efi".to_vec(),
    };
    assert_eq!(s.commit(&[renewed.clone()]).unwrap(), [Verdict::Stored]);
    assert_eq!(open(&c, "b").1, [renewed]);
    assert_eq!(
        c.psql("SELECT hostname, arch FROM dhcpd_pxe.lease").trim(),
        "\\x7078652d6e6f64652d37|7"
    );
    // Opening again changes nothing.
    assert_eq!(PgLeaseStore::init(&c.url()).unwrap(), Some(SCHEMA_VERSION));
}

#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn postgres_store_concurrent_writers_never_both_bind_one_address() {
    let test = "postgres_store_concurrent_writers_never_both_bind_one_address";
    let Some(c) = cluster(test) else { return };
    let addrs: Vec<Ipv4Addr> = (1..=60).map(|i| Ipv4Addr::new(198, 19, 0, i)).collect();
    let until = Expiry::At(now() + 3600);
    let run = |name: &'static str, reverse: bool| {
        let (mut s, _) = open(&c, name);
        let mut order = addrs.clone();
        if reverse {
            order.reverse();
        }
        let mut won = Vec::new();
        for chunk in order.chunks(6) {
            let batch: Vec<Lease> = chunk
                .iter()
                .map(|&addr| Lease {
                    addr,
                    client: ClientKey(name.as_bytes().to_vec()),
                    state: LeaseState::Bound,
                    expires: until,
                    tenure: Tenure::Fresh,
                    details: LeaseDetails::default(),
                })
                .collect();
            for (l, v) in batch.iter().zip(s.commit(&batch).unwrap()) {
                if v == Verdict::Stored {
                    won.push(l.addr);
                }
            }
        }
        won
    };
    let (x, y) = std::thread::scope(|sc| {
        let x = sc.spawn(|| run("x", false));
        let y = sc.spawn(|| run("y", true));
        (x.join().unwrap(), y.join().unwrap())
    });
    assert_eq!(x.len() + y.len(), addrs.len(), "x {x:?} y {y:?}");
    assert!(x.iter().all(|a| !y.contains(a)), "x {x:?} y {y:?}");
    let rows = c.psql("SELECT encode(client, 'escape') || ' ' || host(addr) FROM dhcpd_pxe.lease");
    for line in rows.lines() {
        let (who, addr) = line.split_once(' ').unwrap();
        let addr: Ipv4Addr = addr.parse().unwrap();
        let list = if who == "x" { &x } else { &y };
        assert!(list.contains(&addr), "{line}: the database disagrees");
    }
}

/// One core on a real store: handle, commit through the store, collect replies.
struct Node {
    server: Server,
    store: PgLeaseStore,
}

impl Node {
    fn new(c: &PgCluster, name: &str) -> Self {
        let (store, rows) = open(c, name);
        let mut s = subnet();
        s.lease_time = Duration::from_secs(600);
        let mut server = Server::new(ServerConfig::new(Mode::Full, vec![s], policy()));
        server.restore(rows);
        Self { server, store }
    }

    fn send(&mut self, m: &Message) -> Vec<Message> {
        let bytes = encode(m, &EncodeParams::default()).unwrap();
        let d = Datagram {
            ifindex: 3,
            interface: Some("veth0"),
            local: SERVER,
            local_port: 67,
            src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
            payload: &bytes,
        };
        self.server.handle(SystemTime::now(), &d);
        while let Some(b) = self.server.poll_commit() {
            let v = self.store.commit(&b.records).unwrap();
            self.server.handle_verdicts(b.id, &v);
        }
        let mut out = Vec::new();
        while let Some(t) = self.server.poll_transmit() {
            out.push(decode_strict(&t.payload).unwrap());
        }
        out
    }
}

#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn postgres_refused_request_gets_no_ack_and_the_server_learns_the_holder() {
    let test = "postgres_refused_request_gets_no_ack_and_the_server_learns_the_holder";
    let Some(c) = cluster(test) else { return };
    let mut a = Node::new(&c, "a");
    let mut b = Node::new(&c, "b");
    // Client 1 through A.
    let offer = a.send(&discover(1)).remove(0);
    let ack = a.send(&request(1, offer.yiaddr, Some(SERVER))).remove(0);
    assert_eq!(ack.message_type(), Some(MessageType::Ack));
    let taken = ack.yiaddr;
    // B has not read it yet: its offer to client 2 is the same address (optimistic).
    let offer2 = b.send(&discover(2)).remove(0);
    assert_eq!(offer2.yiaddr, taken);
    // The database refuses: no ACK, and B now knows the holder.
    assert!(b.send(&request(2, taken, Some(SERVER))).is_empty());
    assert_eq!(b.server.stats().refused, 1);
    let holder = b.server.leases().get(taken).unwrap();
    assert_eq!(holder.client.0, vec![1, 2, 0, 0, 0, 0, 1]);
    // The client's retransmission is NAKed; its next DISCOVER gets another address.
    let nak = b.send(&request(2, taken, Some(SERVER))).remove(0);
    assert_eq!(nak.message_type(), Some(MessageType::Nak));
    let offer3 = b.send(&discover(2)).remove(0);
    assert_ne!(offer3.yiaddr, taken);
    let ack3 = b.send(&request(2, offer3.yiaddr, Some(SERVER))).remove(0);
    assert_eq!(ack3.message_type(), Some(MessageType::Ack));
    // Renewal by client 1 through B (it reads A's row): accepted.
    let renew = b.send(&request(1, taken, None)).remove(0);
    assert_eq!(renew.message_type(), Some(MessageType::Ack));
    let rows = c.psql("SELECT host(addr) || ' ' || server FROM dhcpd_pxe.lease WHERE state = 'bound' ORDER BY addr");
    assert_eq!(
        rows.trim(),
        format!("{taken} b\n{} b", offer3.yiaddr),
        "the renewal through B rewrote the row"
    );
}

#[test]
fn batches_in_flight_at_once_never_share_an_address() {
    // Several writers (a pool of connections): the core hands out a batch only
    // when none of its addresses is in one still being written.
    let mut h = crate::support::Harness::full();
    let offer = h.one(&discover(1));
    let offer2 = h.one(&discover(2));
    let bytes = encode(
        &request(1, offer.0.yiaddr, Some(SERVER)),
        &EncodeParams::default(),
    )
    .unwrap();
    let d = |payload: &[u8]| Datagram {
        ifindex: 3,
        interface: Some("veth0"),
        local: SERVER,
        local_port: 67,
        src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
        payload: payload.to_vec().leak(),
    };
    h.server.handle(h.now, &d(&bytes));
    let first = h.server.poll_commit().expect("the REQUEST's batch");
    // The client releases the address while its lease is still being written.
    let mut release = crate::support::base(1, Some(MessageType::Release));
    release.ciaddr = offer.0.yiaddr;
    release.options.insert(54, SERVER.octets().to_vec());
    let bytes = encode(&release, &EncodeParams::default()).unwrap();
    h.server.handle(h.now, &d(&bytes));
    assert!(
        h.server.poll_commit().is_none(),
        "the RELEASE waits for the REQUEST's write"
    );
    h.server.handle_verdicts(first.id, &[Verdict::Stored]);
    let second = h.server.poll_commit().expect("now the RELEASE");
    assert_eq!(second.records.len(), 1);
    assert_eq!(second.records[0].state, LeaseState::Released);
    // Another address is not held back by a batch in flight.
    let bytes = encode(
        &request(2, offer2.0.yiaddr, Some(SERVER)),
        &EncodeParams::default(),
    )
    .unwrap();
    h.server.handle(h.now, &d(&bytes));
    assert!(
        h.server.poll_commit().is_some(),
        "a batch of another address goes out at once"
    );
}
