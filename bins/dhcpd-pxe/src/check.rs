//! `dhcpd-pxe --check` / `-t` (ISC dhcpd's spelling): the configuration validated as
//! the daemon would at start-up, without binding a socket or writing anything.

use anyhow::Result;
use dhcp_server::store::JournalSnapshot;
use dhcp_server::v6::LeaseFile6;
use dhcp_server::Mode;

use crate::cli::ConfigArgs;
use crate::quick::from_args;

/// Validates the configuration `args` name; returns a one-line summary.
///
/// The lease file is read (never written) when it exists, so that a journal the
/// daemon would refuse is reported now; when it does not exist yet the summary
/// says whether its directory does (a package's state directory may come later).
pub fn check(args: &ConfigArgs) -> Result<String> {
    let settings = from_args(args)?;
    let server = &settings.server;
    let mode = match server.mode {
        Mode::Full => "full mode",
        Mode::Proxy => "proxy mode",
    };
    let mut summary = format!(
        "configuration OK: {mode}, {} subnet(s), {} boot rule(s)",
        server.subnets.len(),
        server.policy.rules.len()
    );
    match settings.required_lease_file()? {
        Some(path) if path.exists() => {
            let s = JournalSnapshot::read(path)?;
            summary.push_str(&format!(
                ", lease file {}: {} lease(s)",
                path.display(),
                s.leases.len()
            ));
        }
        Some(path) => {
            let note = lease_file_note(path);
            summary.push_str(&format!(", lease file {} ({note})", path.display()));
        }
        None => {}
    }
    if let Some(v6) = &settings.dhcpv6 {
        let mode = match &v6.config.full {
            Some(f) => format!(
                "full ({} to {}, preferred {} s, valid {} s{})",
                f.range.first(),
                f.range.last(),
                f.preferred_lifetime,
                f.valid_lifetime,
                if f.rapid_commit { ", rapid commit" } else { "" }
            ),
            None => "stateless".into(),
        };
        summary.push_str(&format!(
            ", DHCPv6 {mode} on {} ({} boot rule(s))",
            v6.interfaces.join(", "),
            v6.config.policy.rules.len()
        ));
        if let Some(path) = v6.lease_file_with(settings.lease_file.as_deref())? {
            if let Some(records) = LeaseFile6::read(&path)? {
                summary.push_str(&format!(
                    ", DHCPv6 lease file {}: {} record(s)",
                    path.display(),
                    records.len()
                ));
            } else {
                summary.push_str(&format!(
                    ", DHCPv6 lease file {} ({})",
                    path.display(),
                    lease_file_note(&path)
                ));
            }
        }
    }
    Ok(summary)
}

/// What the summary says of a lease file that does not exist yet.
fn lease_file_note(path: &std::path::Path) -> &'static str {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    if dir.is_dir() {
        "created at start"
    } else {
        "its directory does not exist yet"
    }
}
