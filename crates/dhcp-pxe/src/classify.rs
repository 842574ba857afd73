//! Client classification: what kind of firmware sent a request, and who it is.
//!
//! The rules, first match wins:
//! 1. iPXE: option 77 is `iPXE` (raw or RFC 3004) or option 175 is present;
//! 2. Raspberry Pi: architecture 41 (rpiboot), or a `PXEClient` whose MAC has a
//!    Raspberry Pi OUI (the Pi 4 and 5 boot ROMs report architecture 0);
//! 3. U-Boot: architecture 21–24, or a vendor class starting with `U-Boot`;
//! 4. UEFI HTTP boot: vendor class `HTTPClient` or an HTTP architecture (15–20, …);
//! 5. PXE: vendor class `PXEClient` (or option 93 present): architecture 0 is BIOS,
//!    UEFI architectures are UEFI PXE;
//! 6. anything else is a plain DHCP client.
//!
//! The architecture is the first entry of option 93, else the one in option 60.

use std::fmt;

use crate::options::arch::{Arch, Boot};
use crate::options::{
    ArchList, ClientFamily, InterfaceId, IpxeOptions, MachineId, RelayInfo, UserClass, VendorClass,
    VendorOptions,
};
use crate::wire::code::codes;
use crate::wire::message::{Message, MessageType};

/// Raspberry Pi OUIs (Raspberry Pi Foundation and Raspberry Pi Trading).
pub const RASPBERRY_PI_OUIS: &[[u8; 3]] = &[
    [0xb8, 0x27, 0xeb],
    [0xdc, 0xa6, 0x32],
    [0xe4, 0x5f, 0x01],
    [0x28, 0xcd, 0xc1],
    [0xd8, 0x3a, 0xdd],
    [0x2c, 0xcf, 0x67],
];

/// The kind of boot firmware behind a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Firmware {
    /// Legacy BIOS PXE ROM (architecture 0).
    BiosPxe,
    /// UEFI PXE for the given architecture.
    UefiPxe(Arch),
    /// UEFI HTTP boot for the given architecture.
    UefiHttp(Arch),
    /// iPXE, on the given architecture, with the features it announced in option 175.
    Ipxe {
        /// Architecture (option 93 / 60), if sent.
        arch: Option<Arch>,
        /// Option 175 feature flags.
        features: Vec<crate::options::Feature>,
    },
    /// A Raspberry Pi boot ROM.
    RaspberryPi,
    /// U-Boot.
    UBoot(Option<Arch>),
    /// A client that is not network-booting (or an unrecognised one).
    Plain,
}

impl Firmware {
    /// A short name for logs and explanations.
    pub fn name(&self) -> &'static str {
        match self {
            Self::BiosPxe => "BIOS PXE",
            Self::UefiPxe(_) => "UEFI PXE",
            Self::UefiHttp(_) => "UEFI HTTP boot",
            Self::Ipxe { .. } => "iPXE",
            Self::RaspberryPi => "Raspberry Pi",
            Self::UBoot(_) => "U-Boot",
            Self::Plain => "plain DHCP",
        }
    }

    /// Whether this is iPXE.
    pub fn is_ipxe(&self) -> bool {
        matches!(self, Self::Ipxe { .. })
    }
}

impl fmt::Display for Firmware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UefiPxe(a) | Self::UefiHttp(a) => write!(f, "{} arch {a}", self.name()),
            Self::Ipxe { arch: Some(a), .. } | Self::UBoot(Some(a)) => {
                write!(f, "{} arch {a}", self.name())
            }
            _ => f.write_str(self.name()),
        }
    }
}

/// Everything the boot policy needs to know about a requesting client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Message type (53).
    pub message_type: Option<MessageType>,
    /// Firmware kind.
    pub firmware: Firmware,
    /// Primary architecture (93, else 60).
    pub arch: Option<Arch>,
    /// Every architecture of option 93.
    pub archs: Vec<Arch>,
    /// MAC address (Ethernet only).
    pub mac: Option<[u8; 6]>,
    /// Option 97.
    pub machine_id: Option<MachineId>,
    /// Option 60.
    pub vendor_class: Option<VendorClass>,
    /// Option 77.
    pub user_class: Option<UserClass>,
    /// Option 175.
    pub ipxe: Option<IpxeOptions>,
    /// Option 94.
    pub interface: Option<InterfaceId>,
    /// Option 43 sent by the client (for example 43.71 on port 4011).
    pub vendor: Option<VendorOptions>,
    /// Option 82, added by a relay.
    pub relay: Option<RelayInfo>,
    /// `giaddr`, when the request came through a relay.
    pub relay_addr: Option<std::net::Ipv4Addr>,
}

impl Client {
    /// Classifies a decoded request.
    pub fn classify(msg: &Message) -> Self {
        let o = &msg.options;
        let archs = o
            .get(codes::CLIENT_ARCH)
            .and_then(|d| ArchList::decode(d).ok())
            .map(|l| l.0)
            .unwrap_or_default();
        let vendor_class = o.get(codes::VENDOR_CLASS).map(VendorClass::decode);
        let arch = archs
            .first()
            .copied()
            .or_else(|| vendor_class.as_ref().and_then(VendorClass::arch));
        let user_class = o.get(codes::USER_CLASS).map(UserClass::decode);
        let ipxe = o.get(codes::IPXE).and_then(|d| IpxeOptions::decode(d).ok());
        let mac = msg.mac();
        let family = vendor_class.as_ref().and_then(VendorClass::family);
        let vendor_bytes = o.get(codes::VENDOR_CLASS).unwrap_or(&[]);

        let firmware = if user_class.as_ref().is_some_and(UserClass::is_ipxe) || ipxe.is_some() {
            Firmware::Ipxe {
                arch,
                features: ipxe.as_ref().map(IpxeOptions::features).unwrap_or_default(),
            }
        } else if arch == Some(Arch::ARM_RPIBOOT)
            || (family == Some(ClientFamily::Pxe)
                && mac.is_some_and(|m| RASPBERRY_PI_OUIS.iter().any(|oui| m[..3] == oui[..])))
        {
            Firmware::RaspberryPi
        } else if arch.is_some_and(|a| a.boot() == Boot::UBoot)
            || vendor_bytes.starts_with(b"U-Boot")
        {
            Firmware::UBoot(arch)
        } else if family == Some(ClientFamily::Http)
            || arch.is_some_and(|a| a.boot() == Boot::UefiHttp)
        {
            Firmware::UefiHttp(arch.unwrap_or(Arch::X64_UEFI_HTTP))
        } else if family == Some(ClientFamily::Pxe) || !archs.is_empty() {
            match arch {
                None | Some(Arch::X86_BIOS) => Firmware::BiosPxe,
                Some(a) if a.boot() == Boot::UefiPxe => Firmware::UefiPxe(a),
                Some(_) => Firmware::BiosPxe,
            }
        } else {
            Firmware::Plain
        };

        Self {
            message_type: msg.message_type(),
            firmware,
            arch,
            archs,
            mac,
            machine_id: o.get(codes::CLIENT_MACHINE_ID).map(MachineId::decode),
            vendor_class,
            user_class,
            ipxe,
            interface: o
                .get(codes::CLIENT_NDI)
                .and_then(|d| InterfaceId::decode(d).ok()),
            vendor: o
                .get(codes::VENDOR_SPECIFIC)
                .and_then(|d| VendorOptions::decode(d).ok()),
            relay: o
                .get(codes::RELAY_AGENT_INFO)
                .and_then(|d| RelayInfo::decode(d).ok()),
            relay_addr: (!msg.giaddr.is_unspecified()).then_some(msg.giaddr),
        }
    }

    /// Whether the client is a network-boot client at all (anything but [`Firmware::Plain`]).
    pub fn is_boot_client(&self) -> bool {
        self.firmware != Firmware::Plain
    }

    /// The MAC as `aa:bb:cc:dd:ee:ff`.
    pub fn mac_string(&self) -> Option<String> {
        self.mac.map(|m| {
            m.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(opts: &[(u8, &[u8])], mac: [u8; 6]) -> Message {
        let mut m = Message::default();
        m.chaddr[..6].copy_from_slice(&mac);
        for (c, d) in opts {
            m.options.insert(*c, d.to_vec());
        }
        m
    }

    const MAC: [u8; 6] = [0x52, 0x54, 0, 1, 2, 3];

    #[test]
    fn bios_uefi_http() {
        let c = Client::classify(&msg(
            &[(60, b"PXEClient:Arch:00000:UNDI:002001"), (93, &[0, 0])],
            MAC,
        ));
        assert_eq!(c.firmware, Firmware::BiosPxe);
        let c = Client::classify(&msg(
            &[(60, b"PXEClient:Arch:00009:UNDI:003016"), (93, &[0, 9])],
            MAC,
        ));
        assert_eq!(c.firmware, Firmware::UefiPxe(Arch(9)));
        let c = Client::classify(&msg(&[(60, b"HTTPClient:Arch:00016:UNDI:003001")], MAC));
        assert_eq!(c.firmware, Firmware::UefiHttp(Arch(16)));
        assert_eq!(c.arch, Some(Arch(16)));
    }

    #[test]
    fn ipxe_wins_over_pxe() {
        let c = Client::classify(&msg(
            &[
                (60, b"PXEClient:Arch:00000:UNDI:002001"),
                (77, b"iPXE"),
                (175, &[0x13, 1, 1]),
            ],
            MAC,
        ));
        assert_eq!(
            c.firmware,
            Firmware::Ipxe {
                arch: Some(Arch(0)),
                features: vec![crate::options::Feature::HTTP]
            }
        );
    }

    #[test]
    fn pi_uboot_plain() {
        let c = Client::classify(&msg(
            &[(60, b"PXEClient:Arch:00000:UNDI:002001")],
            [0xdc, 0xa6, 0x32, 1, 2, 3],
        ));
        assert_eq!(c.firmware, Firmware::RaspberryPi);
        let c = Client::classify(&msg(&[(60, b"U-Boot.armv8"), (93, &[0, 22])], MAC));
        assert_eq!(c.firmware, Firmware::UBoot(Some(Arch(22))));
        let c = Client::classify(&msg(&[(60, b"MSFT 5.0")], MAC));
        assert_eq!(c.firmware, Firmware::Plain);
        assert!(!c.is_boot_client());
        assert_eq!(c.mac_string().as_deref(), Some("52:54:00:01:02:03"));
    }
}
