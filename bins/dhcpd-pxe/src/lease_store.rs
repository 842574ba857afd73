//! `[lease_store]`: the journal (the default, `lease_file`) or a PostgreSQL
//! database shared by several servers (docs/dhcpd-pxe-postgres.md).

use std::time::Duration;

use anyhow::{bail, Result};
use dhcp_server::store::PgOptions;
use serde::Deserialize;

use crate::config::{dur, Dur};

/// `[lease_store]`: the journal (default) or a PostgreSQL database shared by
/// several servers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeaseStoreToml {
    kind: String,
    url: Option<String>,
    instance: Option<String>,
    timeout: Option<Dur>,
    pool_size: Option<u8>,
}

/// Where an instance starts scanning its ranges for never-used addresses: a
/// hash of its name (FNV-1a, then mixed), so that servers sharing a database
/// start far apart.
pub(crate) fn scan_offset(instance: &str) -> u32 {
    let h = instance.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    h.wrapping_mul(0x9e37_79b9).rotate_left(16)
}

/// This host's name, the default `instance`.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "dhcpd-pxe".to_string())
}

/// The `[lease_store]` table: `None` for the journal.
pub(crate) fn lease_store(t: &LeaseStoreToml, has_file: bool) -> Result<Option<PgOptions>> {
    match t.kind.as_str() {
        "journal" => {
            if t.url.is_some()
                || t.instance.is_some()
                || t.timeout.is_some()
                || t.pool_size.is_some()
            {
                bail!("kind = \"journal\" takes no url, instance, timeout or pool_size (the file is lease_file)");
            }
            Ok(None)
        }
        "postgres" => {
            if has_file {
                bail!("kind = \"postgres\" and lease_file: leases live in one place, choose one");
            }
            let Some(url) = t.url.clone().filter(|u| !u.trim().is_empty()) else {
                bail!(
                    "kind = \"postgres\" needs url = \"host=... dbname=...\" (or postgresql://...)"
                );
            };
            let timeout = t.timeout.as_ref().map(dur).transpose()?;
            let timeout = timeout.unwrap_or(Duration::from_secs(2));
            if timeout.is_zero() {
                bail!("timeout = 0 would fail every lease write");
            }
            let pool_size = t.pool_size.unwrap_or(1);
            if !(1..=32).contains(&pool_size) {
                bail!("pool_size = {pool_size}: from 1 to 32 connections");
            }
            Ok(Some(PgOptions {
                url,
                instance: t.instance.clone().unwrap_or_else(host_name),
                timeout,
                pool_size: usize::from(pool_size),
            }))
        }
        k => bail!("kind = {k:?} is neither \"journal\" nor \"postgres\""),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::from_toml;

    #[test]
    fn lease_store_postgres_is_read_and_its_mistakes_named() {
        let base = "mode = \"full\"\n[[subnet]]\nnetwork = \"192.0.2.0/24\"\nrange = [\"192.0.2.10-192.0.2.20\"]\n";
        let pg = "[lease_store]\nkind = \"postgres\"\nurl = \"host=/run/postgresql dbname=dhcp\"\ninstance = \"a\"\n";
        let s = from_toml(&format!("{base}{pg}"), Path::new("p.toml")).unwrap();
        let db = s.lease_db.unwrap();
        assert_eq!(db.url, "host=/run/postgresql dbname=dhcp");
        assert_eq!(db.instance, "a");
        assert_eq!(db.timeout, Duration::from_secs(2));
        assert_eq!(s.server.scan_offset, scan_offset("a"));
        assert_ne!(scan_offset("a"), scan_offset("b"));
        assert_eq!(db.pool_size, 1);
        let err = |text: String| {
            from_toml(&text, Path::new("p.toml"))
                .unwrap_err()
                .to_string()
        };
        let e = err(format!("{base}{pg}pool_size = 0\n"));
        assert!(e.contains("pool_size = 0: from 1 to 32"), "{e}");
        let e = err(format!("lease_file = \"/x\"\n{base}{pg}"));
        assert!(
            e.starts_with("p.toml:6:1: [lease_store]: kind = \"postgres\" and lease_file"),
            "{e}"
        );
        let e = err(format!("{base}[lease_store]\nkind = \"postgres\"\n"));
        assert!(e.contains("needs url"), "{e}");
        let e = err(format!("{base}[lease_store]\nkind = \"sqlite\"\n"));
        assert!(e.contains("neither \"journal\" nor \"postgres\""), "{e}");
        let journal = from_toml(
            &format!("{base}[lease_store]\nkind = \"journal\"\n"),
            Path::new("j"),
        );
        assert!(journal.unwrap().lease_db.is_none());
    }
}
