//! `dhcpd-pxe leases --v6`: full mode's DHCPv6 lease file (`[dhcpv6] lease_file`,
//! or `dhcp6.leases` beside the DHCPv4 one) as a table or JSON, one row per
//! address as its last record left it. Read-only: safe while the daemon runs.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::{bail, Result};
use dhcp_pxe::v6::mac_of_duid;
use dhcp_server::lease::UnixTime;
use dhcp_server::v6::{Binding6, LeaseFile6, State6};
use serde::Serialize;

use crate::cli::LeasesArgs;
use crate::leases::{aligned, hex, rfc3339};
use crate::quick::from_args;

/// One DHCPv6 binding as printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lease6Row {
    /// The address.
    pub address: Ipv6Addr,
    /// The client's DUID, hex bytes joined by `:`.
    pub duid: String,
    /// The MAC inside a DUID-LL or DUID-LLT of Ethernet, else `null`.
    pub hwaddr: Option<String>,
    /// The IA's IAID.
    pub iaid: u32,
    /// `bound`, `expired` (bound, past its end), `offered` (held for an
    /// ADVERTISE), `released` or `declined`.
    pub state: &'static str,
    /// When the state ends, Unix seconds.
    pub expires: UnixTime,
    /// The same in RFC 3339 (UTC).
    pub ends: String,
}

impl Lease6Row {
    /// The row for `b` at `now`.
    pub fn new(b: &Binding6, now: UnixTime) -> Self {
        let state = match b.state {
            State6::Bound if b.expires <= now => "expired",
            State6::Bound => "bound",
            State6::Offered => "offered",
            State6::Released => "released",
            State6::Declined => "declined",
        };
        Self {
            address: b.addr,
            duid: hex(&b.ia.duid),
            hwaddr: mac_of_duid(&b.ia.duid).map(|m| hex(&m)),
            iaid: b.ia.iaid,
            state,
            expires: b.expires,
            ends: rfc3339(b.expires),
        }
    }
}

/// The last record of each address, in address order.
pub fn rows6(records: &[Binding6], now: UnixTime) -> Vec<Lease6Row> {
    let mut last = BTreeMap::new();
    for b in records {
        last.insert(b.addr, b);
    }
    last.values().map(|b| Lease6Row::new(b, now)).collect()
}

/// The rows as an aligned table with a header line.
pub fn table6(rows: &[Lease6Row]) -> String {
    let head = ["ADDRESS", "MAC", "DUID", "IAID", "STATE", "ENDS (UTC)"];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.address.to_string(),
                r.hwaddr.clone().unwrap_or_else(|| "-".into()),
                r.duid.clone(),
                r.iaid.to_string(),
                r.state.into(),
                r.ends.clone(),
            ]
        })
        .collect();
    aligned(&head, &cells)
}

/// Which file: `--lease-file` names the DHCPv6 lease file itself; else the
/// configuration's (full mode).
fn path(a: &LeasesArgs) -> Result<PathBuf> {
    if let Some(p) = &a.config.lease_file {
        return Ok(p.clone());
    }
    if a.config.config.is_none() {
        bail!("no DHCPv6 lease file: give --lease-file PATH, or --config FILE with [dhcpv6] mode = \"full\"");
    }
    let settings = from_args(&a.config)?;
    let Some(d6) = &settings.dhcpv6 else {
        bail!("the configuration has no [dhcpv6] table");
    };
    match d6.lease_file_with(settings.lease_file.as_deref())? {
        Some(p) => Ok(p),
        None => bail!("[dhcpv6] is in stateless mode: it keeps no leases"),
    }
}

/// Runs `dhcpd-pxe leases --v6`.
pub fn run6(a: &LeasesArgs) -> Result<String> {
    if a.csv {
        bail!("--csv writes Kea's DHCPv4 memfile columns; for DHCPv6 use the table or --json");
    }
    let path = path(a)?;
    let Some(records) = LeaseFile6::read(&path)? else {
        bail!("{}: no such DHCPv6 lease file", path.display());
    };
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let rows = rows6(&records, now);
    Ok(if a.json {
        let mut s = serde_json::to_string_pretty(&rows)?;
        s.push('\n');
        s
    } else {
        table6(&rows)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dhcp_server::v6::IaKey;

    fn b(addr: &str, n: u8, state: State6, expires: u64) -> Binding6 {
        Binding6 {
            addr: addr.parse().unwrap(),
            ia: IaKey {
                duid: vec![0, 3, 0, 1, 0x52, 0x54, 0, 0, 0, n],
                iaid: u32::from(n),
            },
            state,
            expires,
        }
    }

    #[test]
    fn the_last_record_of_each_address_in_address_order() {
        let now = 1_800_000_000;
        let records = [
            b("2001:db8::101", 2, State6::Bound, now + 100),
            b("2001:db8::100", 1, State6::Offered, now + 60),
            b("2001:db8::100", 1, State6::Bound, now + 4000),
            b("2001:db8::101", 2, State6::Released, now),
            b("2001:db8::102", 3, State6::Bound, now - 1),
        ];
        let rows = rows6(&records, now);
        let got: Vec<(String, &str, Option<String>, u32)> = rows
            .iter()
            .map(|r| (r.address.to_string(), r.state, r.hwaddr.clone(), r.iaid))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "2001:db8::100".into(),
                    "bound",
                    Some("52:54:00:00:00:01".into()),
                    1
                ),
                (
                    "2001:db8::101".into(),
                    "released",
                    Some("52:54:00:00:00:02".into()),
                    2
                ),
                (
                    "2001:db8::102".into(),
                    "expired",
                    Some("52:54:00:00:00:03".into()),
                    3
                ),
            ]
        );
        let t = table6(&rows);
        let first = t.lines().next().unwrap();
        assert!(
            first.starts_with("ADDRESS") && first.contains("IAID"),
            "{t}"
        );
        assert!(
            t.contains("2001:db8::100  52:54:00:00:00:01  00:03:00:01:52:54:00:00:00:01  1"),
            "{t}"
        );
        assert_eq!(rows[0].ends, "2027-01-15T09:06:40Z", "now + 4000 s");
    }
}
