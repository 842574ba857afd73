//! A DHCPv6 request as a [`Client`]: option 61 gives the architecture, vendor class
//! 16 `HTTPClient`/`PXEClient` the family, user class 15 `iPXE` iPXE, and a DUID-LL
//! or DUID-LLT the MAC, so that the DHCPv4 classes and policy apply unchanged.

use dhcproto::v6::{DhcpOption, Message, OptionCode};

use crate::wire::code::codes as v4;
use crate::Client;

/// What a DHCPv6 request says about its sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V6Client {
    /// The classification shared with DHCPv4.
    pub client: Client,
    /// Option 1, the client's DUID.
    pub duid: Option<Vec<u8>>,
    /// Whether option 16 began `HTTPClient` (the reply must echo it).
    pub http_client: bool,
    /// Whether option 16 began `PXEClient` (UEFI PXE over IPv6).
    pub pxe_client: bool,
    /// Whether the client asked for option 59 (Boot File URL) or sent option 61.
    pub wants_boot: bool,
}

/// The MAC inside a DUID-LLT (type 1) or DUID-LL (type 3) of hardware type 1.
pub fn mac_of_duid(duid: &[u8]) -> Option<[u8; 6]> {
    let (kind, hw) = (duid.get(..2)?, duid.get(2..4)?);
    let mac = match (kind, hw) {
        ([0, 1], [0, 1]) => duid.get(8..14)?,
        ([0, 3], [0, 1]) => duid.get(4..10)?,
        _ => return None,
    };
    mac.try_into().ok()
}

fn unknown(msg: &Message, code: u16) -> Option<&[u8]> {
    match msg.opts().get(OptionCode::from(code))? {
        DhcpOption::Unknown(u) => Some(u.data()),
        _ => None,
    }
}

/// Classifies a DHCPv6 request (never fails: what is missing stays unknown).
pub fn classify(msg: &Message) -> V6Client {
    let mut m = crate::Message::default();
    let o = msg.opts();
    let duid = match o.get(OptionCode::ClientId) {
        Some(DhcpOption::ClientId(d)) => Some(d.clone()),
        _ => None,
    };
    match duid.as_deref().and_then(mac_of_duid) {
        Some(mac) => m.chaddr[..6].copy_from_slice(&mac),
        None => m.hlen = 0,
    }
    let mut archs = Vec::new();
    match o.get(OptionCode::ClientArchType) {
        Some(DhcpOption::ClientArchType(list)) => {
            archs.extend(list.iter().map(|a| u16::from(*a)));
        }
        _ => {
            if let Some(d) = unknown(msg, super::codes::CLIENT_ARCH_TYPE) {
                archs.extend(d.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])));
            }
        }
    }
    if !archs.is_empty() {
        let bytes: Vec<u8> = archs.iter().flat_map(|a| a.to_be_bytes()).collect();
        m.options.insert(v4::CLIENT_ARCH, bytes);
    }
    let (mut http_client, mut pxe_client) = (false, false);
    if let Some(DhcpOption::VendorClass(vc)) = o.get(OptionCode::VendorClass) {
        if let Some(first) = vc.data.first() {
            http_client = first.starts_with(b"HTTPClient");
            pxe_client = first.starts_with(b"PXEClient");
            if http_client || pxe_client {
                m.options.insert(v4::VENDOR_CLASS, first.clone());
            }
        }
    }
    if let Some(DhcpOption::UserClass(uc)) = o.get(OptionCode::UserClass) {
        if uc.data.iter().any(|d| d == b"iPXE") {
            m.options.insert(v4::USER_CLASS, b"iPXE".to_vec());
        }
    }
    let asks_url = matches!(o.get(OptionCode::ORO), Some(DhcpOption::ORO(oro))
        if oro.opts.iter().any(|c| u16::from(*c) == super::codes::BOOTFILE_URL));
    V6Client {
        client: Client::classify(&m),
        duid,
        http_client,
        pxe_client,
        wants_boot: asks_url || !archs.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Arch;
    use crate::Firmware;
    use dhcproto::v6::{MessageType, UserClass, VendorClass, ORO};

    fn solicit(arch: u16) -> Message {
        let mut m = Message::new(MessageType::Solicit);
        let o = m.opts_mut();
        o.insert(DhcpOption::ClientId(vec![
            0, 3, 0, 1, 0x52, 0x54, 0, 0x12, 0x34, 0x56,
        ]));
        o.insert(DhcpOption::ClientArchType(vec![arch.into()]));
        o.insert(DhcpOption::ORO(ORO {
            opts: vec![OptionCode::from(59), OptionCode::from(23)],
        }));
        m
    }

    #[test]
    fn arch_61_gives_the_v4_classes() {
        let c = classify(&solicit(7));
        assert_eq!(c.client.firmware, Firmware::UefiPxe(Arch(7)));
        assert_eq!(c.client.mac, Some([0x52, 0x54, 0, 0x12, 0x34, 0x56]));
        assert!(c.wants_boot && !c.http_client);
        let c = classify(&solicit(0x0b));
        assert_eq!(c.client.firmware, Firmware::UefiPxe(Arch::ARM64_UEFI));
        let mut http = solicit(16);
        http.opts_mut().insert(DhcpOption::VendorClass(VendorClass {
            num: 343,
            data: vec![b"HTTPClient:Arch:00016:UNDI:003001".to_vec()],
        }));
        let c = classify(&http);
        assert_eq!(c.client.firmware, Firmware::UefiHttp(Arch(16)));
        assert!(c.http_client);
        let mut ipxe = solicit(7);
        ipxe.opts_mut().insert(DhcpOption::UserClass(UserClass {
            data: vec![b"iPXE".to_vec()],
        }));
        assert!(classify(&ipxe).client.firmware.is_ipxe());
        // A plain client: no architecture, no URL asked for.
        let plain = classify(&Message::new(MessageType::InformationRequest));
        assert_eq!(plain.client.firmware, Firmware::Plain);
        assert!(!plain.wants_boot && plain.client.mac.is_none());
    }

    #[test]
    fn duids_give_macs() {
        let llt = [0, 1, 0, 1, 1, 2, 3, 4, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff];
        assert_eq!(
            mac_of_duid(&llt),
            Some([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])
        );
        assert_eq!(mac_of_duid(&[0, 2, 0, 0, 0, 9, 1]), None);
        assert_eq!(mac_of_duid(&[0, 3, 0, 1, 1]), None);
    }
}
