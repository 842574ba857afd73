//! `dhcpd-pxe --check` / `-t` (ISC dhcpd's spelling): the configuration validated as
//! the daemon would at start-up, without binding a socket or writing anything.

use anyhow::Result;
use dhcp_server::store::JournalSnapshot;
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
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let note = if dir.is_dir() {
                "created at start"
            } else {
                "its directory does not exist yet"
            };
            summary.push_str(&format!(", lease file {} ({note})", path.display()));
        }
        None => {}
    }
    if let Some(v6) = &settings.dhcpv6 {
        summary.push_str(&format!(
            ", DHCPv6 stateless on {} ({} boot rule(s))",
            v6.interfaces.join(", "),
            v6.config.policy.rules.len()
        ));
    }
    Ok(summary)
}
