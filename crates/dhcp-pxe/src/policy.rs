//! Boot policy: declarative rules from client facts to a boot target.
//!
//! A [`Policy`] is an ordered list of [`Rule`]s. Each rule has a [`Match`] (every
//! criterion that is set must hold; an empty match matches everyone) and a
//! [`BootAction`]. The first rule that matches *and* yields a usable boot target for
//! this client wins. [`Policy::decide`] returns a [`Decision`] that records, for every
//! rule, why it was or was not chosen (see [`crate::explain`]).
//!
//! Architectures are compared after [`Arch::canonical`], so a rule for 7 (x64 UEFI)
//! also matches firmware that sends 9, and the other way round.
//!
//! iPXE chainload-loop protection is built in: an action may name both the iPXE binary
//! for firmware (`boot_file`) and a script for iPXE (`ipxe_script`). An iPXE client gets
//! the script; firmware gets the binary. A rule whose only target for an iPXE client is an
//! iPXE binary (`*.kpxe`, `*.kkpxe`, `ipxe.efi`, `snponly.efi`, `undionly*`, `ipxe.pxe`…)
//! is skipped for that client, because iPXE would load iPXE again, forever.

use std::net::Ipv4Addr;

use crate::classify::{Client, Firmware};
use crate::explain::{Explanation, Outcome, Verdict};
use crate::options::{Arch, Feature};

/// Firmware kinds as a rule names them (see [`Firmware`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FirmwareKind {
    /// [`Firmware::BiosPxe`].
    BiosPxe,
    /// [`Firmware::UefiPxe`].
    UefiPxe,
    /// [`Firmware::UefiHttp`].
    UefiHttp,
    /// [`Firmware::Ipxe`].
    Ipxe,
    /// [`Firmware::RaspberryPi`].
    RaspberryPi,
    /// [`Firmware::UBoot`].
    UBoot,
    /// [`Firmware::Plain`].
    Plain,
}

impl FirmwareKind {
    /// The kind of a classified firmware.
    pub fn of(f: &Firmware) -> Self {
        match f {
            Firmware::BiosPxe => Self::BiosPxe,
            Firmware::UefiPxe(_) => Self::UefiPxe,
            Firmware::UefiHttp(_) => Self::UefiHttp,
            Firmware::Ipxe { .. } => Self::Ipxe,
            Firmware::RaspberryPi => Self::RaspberryPi,
            Firmware::UBoot(_) => Self::UBoot,
            Firmware::Plain => Self::Plain,
        }
    }
}

/// What a rule requires of a client. Unset criteria match anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    /// The client's architecture is one of these (7 and 9 are the same).
    pub arch: Vec<Arch>,
    /// The firmware kind is one of these.
    pub firmware: Vec<FirmwareKind>,
    /// The client is (true) or is not (false) iPXE.
    pub ipxe: Option<bool>,
    /// iPXE announced all of these features in option 175.
    pub ipxe_features: Vec<Feature>,
    /// One of the client's user classes (77) equals this.
    pub user_class: Option<Vec<u8>>,
    /// The vendor class (60) starts with this.
    pub vendor_class_prefix: Option<Vec<u8>>,
    /// The MAC starts with these bytes (a full MAC or an OUI).
    pub mac_prefix: Option<Vec<u8>>,
}

/// What a rule gives a matching client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootAction {
    /// Boot file for firmware (TFTP path, or the iPXE binary).
    pub boot_file: Option<String>,
    /// Script URL or path given to iPXE instead of `boot_file`.
    pub ipxe_script: Option<String>,
    /// URL for UEFI HTTP boot clients.
    pub http_url: Option<String>,
    /// `siaddr`: the TFTP server address.
    pub next_server: Option<Ipv4Addr>,
    /// TFTP server name (option 66 and `sname`).
    pub tftp_server_name: Option<String>,
    /// Further options to add to the reply.
    pub extra_options: Vec<(u8, Vec<u8>)>,
}

/// One rule: a name for explanations, a match and an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Name shown in explanations.
    pub name: String,
    /// When the rule applies.
    pub when: Match,
    /// What it gives.
    pub then: BootAction,
}

impl Rule {
    /// A rule with a name, matching everyone, giving nothing yet.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            when: Match::default(),
            then: BootAction::default(),
        }
    }
}

/// The boot target chosen for one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootTarget {
    /// File name or URL for `file` / option 67.
    pub file: String,
    /// Whether `file` is an HTTP(S) URL for UEFI HTTP boot.
    pub http: bool,
    /// `siaddr`, if the rule set one.
    pub next_server: Option<Ipv4Addr>,
    /// Option 66 / `sname`.
    pub tftp_server_name: Option<String>,
    /// Extra reply options.
    pub extra_options: Vec<(u8, Vec<u8>)>,
}

/// The outcome of [`Policy::decide`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Index of the chosen rule.
    pub rule: Option<usize>,
    /// The boot target, when a rule was chosen.
    pub target: Option<BootTarget>,
    /// Why: one verdict per rule.
    pub explanation: Explanation,
}

/// An ordered list of rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Rules, first match wins.
    pub rules: Vec<Rule>,
}

/// Whether a file name is an iPXE binary that must not be handed to iPXE itself.
pub fn is_ipxe_binary(file: &str) -> bool {
    let name = file
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(file)
        .to_ascii_lowercase();
    name.ends_with(".kpxe")
        || name.ends_with(".kkpxe")
        || name.ends_with(".kkkpxe")
        || name.starts_with("undionly")
        || name.starts_with("ipxe")
        || name.starts_with("snponly")
        || name.starts_with("snp.efi")
}

impl Match {
    /// Every criterion the client fails, in words; empty when it matches.
    pub fn mismatches(&self, c: &Client) -> Vec<String> {
        let mut why = Vec::new();
        if !self.arch.is_empty() {
            let ok = c
                .arch
                .is_some_and(|a| self.arch.iter().any(|r| r.canonical() == a.canonical()));
            if !ok {
                let want: Vec<String> = self.arch.iter().map(|a| a.0.to_string()).collect();
                let got = c.arch.map_or("none".to_string(), |a| a.0.to_string());
                why.push(format!(
                    "architecture {got} is not one of [{}]",
                    want.join(", ")
                ));
            }
        }
        if !self.firmware.is_empty() && !self.firmware.contains(&FirmwareKind::of(&c.firmware)) {
            why.push(format!(
                "firmware {} is not one of {:?}",
                c.firmware, self.firmware
            ));
        }
        if let Some(want) = self.ipxe {
            if c.firmware.is_ipxe() != want {
                why.push(
                    if want {
                        "client is not iPXE"
                    } else {
                        "client is iPXE"
                    }
                    .to_string(),
                );
            }
        }
        for f in &self.ipxe_features {
            if !c.ipxe.as_ref().is_some_and(|i| i.has(*f)) {
                why.push(format!(
                    "iPXE feature {} not announced",
                    f.name().unwrap_or("unknown")
                ));
            }
        }
        if let Some(u) = &self.user_class {
            if !c.user_class.as_ref().is_some_and(|uc| uc.has(u)) {
                why.push(format!(
                    "user class {:?} not sent",
                    String::from_utf8_lossy(u)
                ));
            }
        }
        if let Some(p) = &self.vendor_class_prefix {
            let vc = c
                .vendor_class
                .as_ref()
                .map(|v| v.encode())
                .unwrap_or_default();
            if !vc.starts_with(p) {
                why.push(format!(
                    "vendor class {:?} does not start with {:?}",
                    String::from_utf8_lossy(&vc),
                    String::from_utf8_lossy(p)
                ));
            }
        }
        if let Some(p) = &self.mac_prefix {
            if !c.mac.is_some_and(|m| m.starts_with(p)) {
                why.push(format!(
                    "MAC {} does not start with {}",
                    c.mac_string().unwrap_or_else(|| "none".into()),
                    p.iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<Vec<_>>()
                        .join(":")
                ));
            }
        }
        why
    }
}

impl BootAction {
    /// The target this action gives `c`, or why it has none for this client.
    pub fn target_for(&self, c: &Client) -> Result<BootTarget, String> {
        let target = |file: &str, http: bool| BootTarget {
            file: file.to_string(),
            http,
            next_server: self.next_server,
            tftp_server_name: self.tftp_server_name.clone(),
            extra_options: self.extra_options.clone(),
        };
        match &c.firmware {
            Firmware::UefiHttp(_) => self
                .http_url
                .as_deref()
                .map(|u| target(u, true))
                .ok_or_else(|| "no http_url for a UEFI HTTP boot client".to_string()),
            Firmware::Ipxe { .. } => {
                if let Some(s) = &self.ipxe_script {
                    return Ok(target(s, s.starts_with("http")));
                }
                match &self.boot_file {
                    Some(f) if is_ipxe_binary(f) => Err(format!(
                        "boot file {f:?} is an iPXE binary and the client is iPXE (chainload loop); set ipxe_script"
                    )),
                    Some(f) => Ok(target(f, false)),
                    None => self
                        .http_url
                        .as_deref()
                        .map(|u| target(u, true))
                        .ok_or_else(|| "no ipxe_script, boot_file or http_url".to_string()),
                }
            }
            _ => self
                .boot_file
                .as_deref()
                .map(|f| target(f, false))
                .ok_or_else(|| "no boot_file for this firmware".to_string()),
        }
    }
}

impl Policy {
    /// A policy from rules.
    pub fn new(rules: Vec<Rule>) -> Self {
        Self { rules }
    }

    /// Chooses a rule for `client` and explains every verdict.
    pub fn decide(&self, client: &Client) -> Decision {
        let mut verdicts = Vec::with_capacity(self.rules.len());
        let mut chosen = None;
        for (i, rule) in self.rules.iter().enumerate() {
            let outcome = if chosen.is_some() {
                Outcome::NotReached
            } else {
                let why = rule.when.mismatches(client);
                if !why.is_empty() {
                    Outcome::NotMatched(why)
                } else {
                    match rule.then.target_for(client) {
                        Ok(t) => {
                            chosen = Some((i, t));
                            Outcome::Chosen
                        }
                        Err(e) => Outcome::Unusable(e),
                    }
                }
            };
            verdicts.push(Verdict {
                rule: rule.name.clone(),
                outcome,
            });
        }
        let (rule, target) = match chosen {
            Some((i, t)) => (Some(i), Some(t)),
            None => (None, None),
        };
        Decision {
            rule,
            target,
            explanation: Explanation {
                client: client_summary(client),
                verdicts,
            },
        }
    }
}

fn client_summary(c: &Client) -> String {
    let mut s = format!("{}", c.firmware);
    if let Some(m) = c.mac_string() {
        s.push_str(&format!(", MAC {m}"));
    }
    // Firmware kinds that carry an architecture already print it.
    if let (Some(a), false) = (c.arch, s.contains(" arch ")) {
        s.push_str(&format!(", arch {a}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::message::Message;

    fn client(opts: &[(u8, &[u8])]) -> Client {
        let mut m = Message::default();
        m.chaddr[..6].copy_from_slice(&[0x52, 0x54, 0, 1, 2, 3]);
        for (c, d) in opts {
            m.options.insert(*c, d.to_vec());
        }
        Client::classify(&m)
    }

    fn chain() -> Rule {
        let mut r = Rule::new("ipxe-chain");
        r.then.boot_file = Some("undionly.kpxe".into());
        r
    }

    #[test]
    fn ipxe_binary_names() {
        assert!(is_ipxe_binary("undionly.kpxe"));
        assert!(is_ipxe_binary("efi/ipxe.efi"));
        assert!(is_ipxe_binary("snponly.efi"));
        assert!(!is_ipxe_binary("pxelinux.0"));
        assert!(!is_ipxe_binary("boot.ipxe.cfg/../shim.efi"));
    }

    #[test]
    fn loop_protection_skips_binary_for_ipxe() {
        let ipxe = client(&[(60, b"PXEClient:Arch:00000:UNDI:002001"), (77, b"iPXE")]);
        let mut script = Rule::new("script");
        script.when.ipxe = Some(true);
        script.then.ipxe_script = Some("http://192.0.2.1/boot.ipxe".into());
        let p = Policy::new(vec![chain(), script]);
        let d = p.decide(&ipxe);
        assert_eq!(d.rule, Some(1));
        assert_eq!(d.target.unwrap().file, "http://192.0.2.1/boot.ipxe");
        assert!(matches!(
            d.explanation.verdicts[0].outcome,
            Outcome::Unusable(_)
        ));
        let bios = client(&[(60, b"PXEClient:Arch:00000:UNDI:002001")]);
        assert_eq!(p.decide(&bios).rule, Some(0));
    }

    #[test]
    fn one_rule_binary_for_firmware_script_for_ipxe() {
        let mut r = chain();
        r.then.ipxe_script = Some("boot.ipxe".into());
        let p = Policy::new(vec![r]);
        let ipxe = client(&[(77, b"iPXE")]);
        assert_eq!(p.decide(&ipxe).target.unwrap().file, "boot.ipxe");
        let bios = client(&[(60, b"PXEClient:Arch:00000:UNDI:002001")]);
        assert_eq!(p.decide(&bios).target.unwrap().file, "undionly.kpxe");
    }

    #[test]
    fn arch_7_and_9_match_each_other() {
        let mut r = Rule::new("x64");
        r.when.arch = vec![Arch::X64_UEFI];
        r.then.boot_file = Some("shim.efi".into());
        let p = Policy::new(vec![r]);
        for a in [7u8, 9] {
            let c = client(&[(93, &[0, a])]);
            assert_eq!(p.decide(&c).rule, Some(0), "arch {a}");
        }
        let c = client(&[(93, &[0, 6])]);
        assert_eq!(p.decide(&c).rule, None);
    }

    #[test]
    fn mismatches_name_every_failed_criterion() {
        let mut r = Rule::new("picky");
        r.when.firmware = vec![FirmwareKind::UefiPxe];
        r.when.mac_prefix = Some(vec![0xaa]);
        r.when.user_class = Some(b"lab".to_vec());
        r.when.vendor_class_prefix = Some(b"HTTPClient".to_vec());
        r.when.ipxe_features = vec![Feature::HTTPS];
        let c = client(&[(60, b"PXEClient:Arch:00000:UNDI:002001")]);
        assert_eq!(r.when.mismatches(&c).len(), 5);
    }

    #[test]
    fn http_client_needs_url() {
        let c = client(&[(60, b"HTTPClient:Arch:00016:UNDI:003001")]);
        let mut r = chain();
        r.then.boot_file = Some("grubx64.efi".into());
        assert!(r.then.target_for(&c).is_err());
        r.then.http_url = Some("http://192.0.2.1/grubx64.efi".into());
        assert!(r.then.target_for(&c).unwrap().http);
    }
}
