//! `dhcpd-pxe leases`: the lease journal (or the shared PostgreSQL store's rows)
//! as a table, JSON, or CSV in the columns of Kea's memfile (docs/leases.md).
//! Read-only: safe while the daemon runs.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Result};
use dhcp_pxe::options::Arch;
use dhcp_server::lease::{Expiry, Lease, LeaseState, Tenure, UnixTime, MAX_BOOT_FILE};
use dhcp_server::logtext::Escaped;
use dhcp_server::store::{JournalSnapshot, PgLeaseStore};
use dhcp_server::Subnet;
use serde::Serialize;

use crate::cli::LeasesArgs;
use crate::quick::from_args;

/// Kea's memfile lease4 columns (Kea 2.2; later versions read them as they are).
pub const KEA_CSV_HEADER: &str =
    "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context";

/// Kea's "infinite" valid lifetime.
const KEA_INFINITE: u64 = u32::MAX as u64;

/// One lease as printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaseRow {
    /// The address.
    pub address: Ipv4Addr,
    /// The MAC, when the client key is an Ethernet one (type 1 and six bytes).
    pub hwaddr: Option<String>,
    /// The client key: option 61 when the client sent it, else htype and chaddr.
    pub client_id: String,
    /// The host name the client sent (option 12), bytes that are not printable
    /// ASCII escaped as `\xNN`; `null` when none (or a version 2 journal).
    pub hostname: Option<String>,
    /// `bound`, `expired` (bound, past its end), `released` or `declined`.
    pub state: &'static str,
    /// `fresh`, `renewed`, `bootp` or `reserved`.
    pub tenure: &'static str,
    /// When the lease was granted or last renewed, Unix seconds (`null`: not known).
    pub start: Option<UnixTime>,
    /// The start in RFC 3339 (UTC), `null` when not known.
    pub starts: Option<String>,
    /// End as Unix seconds, `null` for an infinite lease.
    pub expires: Option<UnixTime>,
    /// End in RFC 3339 (UTC), or `never`.
    pub ends: String,
    /// The client architecture (first value of option 93).
    pub arch: Option<u16>,
    /// Its name in the IANA registry, when assigned.
    pub arch_name: Option<&'static str>,
    /// The boot file or URL the reply named, escaped as `hostname`.
    pub boot_file: Option<String>,
    /// The configured subnet holding the address, when a configuration was given.
    pub subnet: Option<String>,
    /// Kea's `valid_lifetime`: the subnet's lease time, else the time left at
    /// `now` (Kea reads 0 as a deleted lease, so at least 1).
    #[serde(skip)]
    valid_lifetime: u64,
    /// That subnet's position in the configuration, from 1 (Kea's `subnet_id`).
    #[serde(skip)]
    subnet_id: usize,
    #[serde(skip)]
    journal_state: LeaseState,
}

/// `bytes` escaped for display, `None` when empty.
fn text(bytes: &[u8]) -> Option<String> {
    (!bytes.is_empty()).then(|| Escaped::capped(bytes, MAX_BOOT_FILE).to_string())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// RFC 3339 in UTC; times past year 9999 (no such calendar date) as `@UNIX`.
pub(crate) fn rfc3339(t: UnixTime) -> String {
    match SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(t)) {
        Some(st) if t < 253_402_300_800 => humantime::format_rfc3339_seconds(st).to_string(),
        _ => format!("@{t}"),
    }
}

impl LeaseRow {
    /// The row for `l` at `now`, with the subnet from `subnets` that holds it.
    pub fn new(l: &Lease, now: UnixTime, subnets: &[Subnet]) -> Self {
        let key = &l.client.0;
        let hwaddr = (key.len() == 7 && key[0] == 1).then(|| hex(&key[1..]));
        let state = match l.state {
            LeaseState::Bound if l.expires.is_past(now) => "expired",
            LeaseState::Bound | LeaseState::Offered => "bound",
            LeaseState::Released => "released",
            LeaseState::Declined => "declined",
        };
        let tenure = match l.tenure {
            Tenure::Fresh => "fresh",
            Tenure::Renewed => "renewed",
            Tenure::Bootp => "bootp",
            Tenure::Reserved => "reserved",
        };
        let found = subnets.iter().enumerate().find(|(_, s)| s.contains(l.addr));
        let d = &l.details;
        Self {
            address: l.addr,
            hwaddr,
            client_id: hex(key),
            hostname: text(&d.hostname),
            state,
            tenure,
            start: d.start,
            starts: d.start.map(rfc3339),
            expires: l.expires.unix(),
            ends: match l.expires {
                Expiry::At(t) => rfc3339(t),
                Expiry::Never => "never".into(),
            },
            arch: d.arch,
            arch_name: d.arch.and_then(|a| Arch(a).name()),
            boot_file: text(&d.boot_file),
            subnet: found.map(|(_, s)| format!("{}/{}", s.network, s.prefix_len)),
            valid_lifetime: match (found, l.expires) {
                (_, Expiry::Never) => KEA_INFINITE,
                (Some((_, s)), Expiry::At(e)) => s.lease_time.as_secs().clamp(1, e.max(1)),
                (None, Expiry::At(e)) => e.saturating_sub(now).max(1),
            },
            subnet_id: found.map_or(0, |(i, _)| i + 1),
            journal_state: l.state,
        }
    }

    /// The row as a line of Kea's memfile CSV ([`KEA_CSV_HEADER`]).
    pub fn kea_csv(&self) -> String {
        let (valid, expire) = (self.valid_lifetime, self.expires.unwrap_or(KEA_INFINITE));
        // Kea: 0 default (assigned), 1 declined, 2 expired-reclaimed (free again).
        let state = match self.journal_state {
            LeaseState::Bound | LeaseState::Offered => 0,
            LeaseState::Declined => 1,
            LeaseState::Released => 2,
        };
        // Kea writes a comma inside a field as `&#x2c` and reads it back so.
        let hostname = self.hostname.as_deref().unwrap_or("").replace(',', "&#x2c");
        format!(
            "{},{},{},{valid},{expire},{},0,0,{hostname},{state},",
            self.address,
            self.hwaddr.as_deref().unwrap_or(""),
            self.client_id,
            self.subnet_id
        )
    }
}

/// The rows of a snapshot.
pub fn rows(leases: &[Lease], now: UnixTime, subnets: &[Subnet]) -> Vec<LeaseRow> {
    leases
        .iter()
        .map(|l| LeaseRow::new(l, now, subnets))
        .collect()
}

/// The rows as an aligned table with a header line.
pub fn table(rows: &[LeaseRow]) -> String {
    let head = [
        "ADDRESS",
        "MAC",
        "CLIENT ID",
        "HOSTNAME",
        "STATE",
        "TENURE",
        "STARTS (UTC)",
        "ENDS (UTC)",
        "ARCH",
        "BOOT FILE",
        "SUBNET",
    ];
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.address.to_string(),
                or_dash(&r.hwaddr),
                r.client_id.clone(),
                or_dash(&r.hostname),
                r.state.into(),
                r.tenure.into(),
                or_dash(&r.starts),
                r.ends.clone(),
                r.arch.map_or_else(|| "-".into(), |a| a.to_string()),
                or_dash(&r.boot_file),
                or_dash(&r.subnet),
            ]
        })
        .collect();
    aligned(&head, &cells)
}

/// `head` and `cells` as columns padded to their widest value, two spaces
/// apart, no trailing blanks.
pub(crate) fn aligned(head: &[&str], cells: &[Vec<String>]) -> String {
    let mut width: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for c in cells {
        for (w, v) in width.iter_mut().zip(c) {
            *w = (*w).max(v.len());
        }
    }
    let mut out = String::new();
    let mut line = |vals: &mut dyn Iterator<Item = &str>| {
        let parts: Vec<String> = vals.zip(&width).map(|(v, w)| format!("{v:<w$}")).collect();
        let _ = writeln!(out, "{}", parts.join("  ").trim_end());
    };
    line(&mut head.iter().copied());
    for c in cells {
        line(&mut c.iter().map(String::as_str));
    }
    out
}

/// Runs `dhcpd-pxe leases`.
pub fn run(a: &LeasesArgs) -> Result<String> {
    let configured = a.config.config.is_some() || a.config.range.is_some();
    let settings = configured.then(|| from_args(&a.config)).transpose()?;
    let journal = a
        .config
        .lease_file
        .as_ref()
        .or_else(|| settings.as_ref().and_then(|s| s.lease_file.as_ref()));
    let db = settings.as_ref().and_then(|s| s.lease_db.as_ref());
    let leases = match (journal, db) {
        (Some(path), _) => {
            let snapshot = JournalSnapshot::read(path)?;
            if let Some(why) = snapshot.torn {
                eprintln!(
                    "dhcpd-pxe: {}: the last bytes were left out ({why})",
                    path.display()
                );
            }
            snapshot.leases
        }
        (None, Some(db)) => PgLeaseStore::read_leases(db)?,
        (None, None) => bail!(
            "no lease file: give --lease-file PATH, or --config FILE with lease_file \
             or a [lease_store]"
        ),
    };
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let subnets = settings.as_ref().map_or(&[][..], |s| &s.server.subnets[..]);
    let rows = rows(&leases, now, subnets);
    Ok(if a.json {
        let mut s = serde_json::to_string_pretty(&rows)?;
        s.push('\n');
        s
    } else if a.csv {
        let mut s = format!("{KEA_CSV_HEADER}\n");
        for r in &rows {
            s.push_str(&r.kea_csv());
            s.push('\n');
        }
        s
    } else {
        table(&rows)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dhcp_server::lease::ClientKey;

    fn lease(key: Vec<u8>, state: LeaseState, expires: Expiry) -> Lease {
        Lease {
            addr: Ipv4Addr::new(192, 0, 2, 100),
            client: ClientKey(key),
            state,
            expires,
            tenure: Tenure::Fresh,
            details: Default::default(),
        }
    }

    #[test]
    fn rows_name_mac_state_and_end() {
        let mut subnet = Subnet::new(Ipv4Addr::new(192, 0, 2, 0), 24);
        subnet.lease_time = Duration::from_secs(600);
        let l = lease(
            vec![1, 2, 0, 0, 0, 0, 7],
            LeaseState::Bound,
            Expiry::At(1_900_000_000),
        );
        let r = LeaseRow::new(&l, 1_800_000_000, std::slice::from_ref(&subnet));
        assert_eq!(r.hwaddr.as_deref(), Some("02:00:00:00:00:07"));
        assert_eq!(
            (r.state, r.ends.as_str()),
            ("bound", "2030-03-17T17:46:40Z")
        );
        assert_eq!(
            r.kea_csv(),
            "192.0.2.100,02:00:00:00:00:07,01:02:00:00:00:00:07,600,1900000000,1,0,0,,0,"
        );
        // Without a configuration: the time left, never 0 (a deletion to Kea).
        let r = LeaseRow::new(&l, 1_899_999_000, &[]);
        assert_eq!((r.state, r.subnet_id, r.valid_lifetime), ("bound", 0, 1000));
        let r = LeaseRow::new(&l, 1_900_000_000, &[]);
        assert_eq!((r.state, r.subnet_id, r.valid_lifetime), ("expired", 0, 1));
        let l = lease(b"abc".to_vec(), LeaseState::Declined, Expiry::Never);
        let r = LeaseRow::new(&l, 0, &[]);
        assert_eq!((r.hwaddr.as_deref(), r.ends.as_str()), (None, "never"));
        assert!(
            r.kea_csv().ends_with(",4294967295,4294967295,0,0,0,,1,"),
            "{}",
            r.kea_csv()
        );
        let far = lease(vec![1; 7], LeaseState::Bound, Expiry::At(u64::MAX - 1));
        assert!(LeaseRow::new(&far, 0, &[]).ends.starts_with('@'));
    }

    #[test]
    fn details_are_shown_escaped_and_the_hostname_goes_to_kea_csv() {
        let mut l = lease(vec![1, 2, 0, 0, 0, 0, 7], LeaseState::Bound, Expiry::Never);
        let r = LeaseRow::new(&l, 0, &[]);
        assert_eq!(
            (&r.hostname, &r.starts, r.arch, &r.boot_file),
            (&None, &None, None, &None)
        );
        assert!(table(&[r]).lines().nth(1).unwrap().contains(" - "));
        l.details = dhcp_server::LeaseDetails {
            start: Some(1_900_000_000),
            hostname: b"node,1\x07".to_vec(),
            arch: Some(7),
            boot_file: b"ipxe.efi".to_vec(),
        };
        let r = LeaseRow::new(&l, 0, &[]);
        assert_eq!(r.hostname.as_deref(), Some("node,1\\x07"));
        assert_eq!(r.starts.as_deref(), Some("2030-03-17T17:46:40Z"));
        assert_eq!((r.arch, r.arch_name), (Some(7), Some("x64 UEFI")));
        assert_eq!(r.boot_file.as_deref(), Some("ipxe.efi"));
        assert!(
            r.kea_csv().contains(",0,0,node&#x2c1\\x07,0,"),
            "{}",
            r.kea_csv()
        );
        let t = table(&[r]);
        let line = t.lines().nth(1).unwrap();
        assert!(
            line.contains("node,1\\x07") && line.contains(" 7 ") && line.contains(" ipxe.efi"),
            "{t}"
        );
    }
}
