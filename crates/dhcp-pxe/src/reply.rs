//! Reply building: full DHCP OFFER/ACK, proxyDHCP OFFER and the port-4011 ACK.
//!
//! What each reply carries (PXE 2.1 §2, RFC 2131 §4.3, the UEFI specification's HTTP Boot chapter):
//!
//! | | OFFER / ACK | proxy OFFER | 4011 ACK |
//! |---|---|---|---|
//! | `yiaddr` | the lease | 0.0.0.0 | 0.0.0.0 |
//! | 53, 54 | yes | yes | yes |
//! | address options (lease, mask, router…) | yes | no | no |
//! | 60 | `PXEClient`/`HTTPClient` for boot clients | same (required) | same |
//! | 97 | echoed | echoed | echoed |
//! | 43 | PXE firmware: `{6: 8}`; Pi: "Raspberry Pi Boot" form | same (UEFI may be sent to 4011 instead) | 43.71 echoed (none if the client sent none) |
//! | `siaddr`, `file`, `sname`, 66, 67 | from the boot target | same | same |
//! | 82 | echoed, last | echoed, last | echoed, last |
//!
//! Option 67 is added when the client asked for it (option 55) or when the name does
//! not fit the 127 usable bytes of `file`; 66 likewise for `sname`.

use std::net::Ipv4Addr;

use crate::classify::{Client, Firmware};
use crate::error::Error;
use crate::options::{ClientFamily, VendorClass, VendorOption, VendorOptions};
use crate::policy::Decision;
use crate::wire::code::codes;
use crate::wire::encode::{encode, size_limit, EncodeParams};
use crate::wire::message::{Message, MessageType, Opcode, FILE_LEN, SNAME_LEN};

/// Which reply to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// DHCPOFFER from the address-giving server.
    Offer,
    /// DHCPACK from the address-giving server.
    Ack,
    /// proxyDHCP OFFER on port 67/68: no address, only boot information.
    ProxyOffer,
    /// DHCPACK to a DHCPREQUEST received on UDP port 4011.
    ProxyAck,
}

/// Server-side facts for a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyParams {
    /// Which reply.
    pub kind: ReplyKind,
    /// Option 54; also the default `siaddr` for TFTP targets.
    pub server_id: Ipv4Addr,
    /// `yiaddr` for OFFER/ACK (ignored for proxy replies).
    pub yiaddr: Ipv4Addr,
    /// Address options for OFFER/ACK (lease time, mask, router, DNS…), in order.
    pub options: Vec<(u8, Vec<u8>)>,
    /// Leave option 43 out of proxy OFFERs to UEFI PXE clients, so that they ask on port
    /// 4011 (dnsmasq's behaviour; some UEFI firmware ignores discovery control 8).
    pub uefi_via_4011: bool,
}

impl ReplyParams {
    /// Parameters for `kind` from server `server_id`, no address, no options.
    pub fn new(kind: ReplyKind, server_id: Ipv4Addr) -> Self {
        Self {
            kind,
            server_id,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            options: Vec::new(),
            uefi_via_4011: false,
        }
    }
}

/// A built reply: the message plus what the wire layer needs to encode it for this client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The reply message.
    pub message: Message,
    /// The client's parameter request list (option order).
    pub request_order: Vec<u8>,
    /// Largest UDP payload the client accepts.
    pub max_len: usize,
}

impl Reply {
    /// Encodes the reply with the wire rules (order, overload, padding, size limit).
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        encode(
            &self.message,
            &EncodeParams {
                request_order: &self.request_order,
                max_len: self.max_len,
            },
        )
    }
}

/// Builds the reply of `params.kind` to `request` from a policy decision.
///
/// Proxy replies need a boot target and a boot client; OFFER/ACK without a target are
/// plain address replies.
pub fn build_reply(
    request: &Message,
    client: &Client,
    decision: &Decision,
    params: &ReplyParams,
) -> Result<Reply, Error> {
    let proxy = matches!(params.kind, ReplyKind::ProxyOffer | ReplyKind::ProxyAck);
    if proxy && !client.is_boot_client() {
        return Err(Error::Reply("proxyDHCP answers network-boot clients only"));
    }
    if proxy && decision.target.is_none() {
        return Err(Error::Reply("no rule gave this client a boot target"));
    }
    let mut m = Message {
        op: Opcode::BootReply,
        htype: request.htype,
        hlen: request.hlen,
        hops: 0,
        xid: request.xid,
        secs: 0,
        flags: request.flags,
        chaddr: request.chaddr,
        giaddr: request.giaddr,
        ..Message::default()
    };
    match params.kind {
        ReplyKind::Offer => m.yiaddr = params.yiaddr,
        ReplyKind::Ack => {
            m.yiaddr = params.yiaddr;
            m.ciaddr = request.ciaddr;
        }
        ReplyKind::ProxyOffer => {}
        ReplyKind::ProxyAck => m.ciaddr = request.ciaddr,
    }
    // A client without an address can only hear a broadcast proxy reply; say so in the
    // flags as dnsmasq does (RFC 2131 §4.1 leaves the choice of destination to the driver).
    if proxy && request.ciaddr.is_unspecified() {
        m.flags = m.flags.set_broadcast();
    }
    m.set_message_type(match params.kind {
        ReplyKind::Offer | ReplyKind::ProxyOffer => MessageType::Offer,
        ReplyKind::Ack | ReplyKind::ProxyAck => MessageType::Ack,
    });
    m.options
        .insert(codes::SERVER_ID, params.server_id.octets().to_vec());
    if !proxy {
        for (code, data) in &params.options {
            m.options.insert(*code, data.clone());
        }
    }

    // 60: echo the family; a proxy must say PXEClient even to odd vendor classes.
    let family = match (
        &client.firmware,
        client.vendor_class.as_ref().and_then(VendorClass::family),
    ) {
        (Firmware::UefiHttp(_), _) | (_, Some(ClientFamily::Http)) => Some(ClientFamily::Http),
        (_, Some(ClientFamily::Pxe)) | (Firmware::RaspberryPi, _) => Some(ClientFamily::Pxe),
        _ if proxy => Some(ClientFamily::Pxe),
        _ => None,
    };
    if let Some(f) = family {
        m.options
            .insert(codes::VENDOR_CLASS, VendorClass::reply(f).encode());
    }
    if let Some(id) = &client.machine_id {
        m.options.insert(codes::CLIENT_MACHINE_ID, id.encode());
    }
    if let Some(v) = vendor_options(client, params) {
        m.options.insert(codes::VENDOR_SPECIFIC, v.encode()?);
    }

    if let Some(t) = &decision.target {
        let asked = |code: u8| request.parameter_request_list().contains(&code);
        if !t.http {
            m.siaddr = t.next_server.unwrap_or(params.server_id);
        }
        if let Some(name) = &t.tftp_server_name {
            if name.len() < SNAME_LEN {
                m.sname = name.as_bytes().to_vec();
            }
            if asked(codes::TFTP_SERVER_NAME) || name.len() >= SNAME_LEN {
                m.options
                    .insert(codes::TFTP_SERVER_NAME, name.as_bytes().to_vec());
            }
        }
        if t.file.len() < FILE_LEN {
            m.file = t.file.as_bytes().to_vec();
        }
        if asked(codes::BOOTFILE_NAME) || t.file.len() >= FILE_LEN {
            m.options
                .insert(codes::BOOTFILE_NAME, t.file.as_bytes().to_vec());
        }
        for (code, data) in &t.extra_options {
            m.options.insert(*code, data.clone());
        }
    }
    if let Some(r) = &client.relay {
        m.options.insert(codes::RELAY_AGENT_INFO, r.encode());
    }
    Ok(Reply {
        message: m,
        request_order: request.parameter_request_list().to_vec(),
        max_len: size_limit(request.max_message_size()),
    })
}

/// Option 43 for this client and reply, if it needs one.
fn vendor_options(client: &Client, params: &ReplyParams) -> Option<VendorOptions> {
    match (&client.firmware, params.kind) {
        (Firmware::RaspberryPi, _) => Some(VendorOptions::raspberry_pi()),
        // Echo the boot item the client asked for (PXE 2.1 boot server discovery); a client that sent
        // none (OVMF's and iPXE's port-4011 requests, as captured) gets no option 43.
        (Firmware::BiosPxe | Firmware::UefiPxe(_), ReplyKind::ProxyAck) => client
            .vendor
            .as_ref()
            .and_then(VendorOptions::boot_item)
            .map(|(kind, layer)| VendorOptions(vec![VendorOption::BootItem { kind, layer }])),
        (Firmware::UefiPxe(_), ReplyKind::ProxyOffer) if params.uefi_via_4011 => None,
        (Firmware::BiosPxe | Firmware::UefiPxe(_), _) => Some(VendorOptions::bypass()),
        _ => None,
    }
}

/// Everything [`answer`] produced for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The decoded request.
    pub request: Message,
    /// What the client is.
    pub client: Client,
    /// The policy's decision and its explanation.
    pub decision: Decision,
    /// The reply.
    pub reply: Reply,
    /// The reply's bytes, ready for a UDP socket.
    pub bytes: Vec<u8>,
}

/// Decodes a request (tolerantly), classifies the client, applies `policy` and builds
/// and encodes the reply: the whole per-packet path of a PXE server.
pub fn answer(
    request: &[u8],
    policy: &crate::policy::Policy,
    params: &ReplyParams,
) -> Result<Answer, Error> {
    let request = crate::wire::decode::decode_tolerant(request)?.message;
    let client = Client::classify(&request);
    let decision = policy.decide(&client);
    let reply = build_reply(&request, &client, &decision, params)?;
    let bytes = reply.to_bytes()?;
    Ok(Answer {
        request,
        client,
        decision,
        reply,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Policy, Rule};

    fn pxe_request() -> Message {
        let mut m = Message {
            xid: 7,
            ..Message::default()
        };
        m.set_message_type(MessageType::Discover);
        m.options.insert(
            codes::VENDOR_CLASS,
            b"PXEClient:Arch:00000:UNDI:002001".to_vec(),
        );
        m
    }

    fn decide(m: &Message) -> (Client, Decision) {
        let mut r = Rule::new("all");
        r.then.boot_file = Some("pxelinux.0".into());
        let c = Client::classify(m);
        let d = Policy::new(vec![r]).decide(&c);
        (c, d)
    }

    #[test]
    fn proxy_offer_sets_broadcast_for_clients_without_address() {
        let req = pxe_request();
        assert!(!req.broadcast());
        let (c, d) = decide(&req);
        let p = ReplyParams::new(ReplyKind::ProxyOffer, Ipv4Addr::new(192, 0, 2, 1));
        let r = build_reply(&req, &c, &d, &p).unwrap();
        assert!(r.message.broadcast());
        assert_eq!(r.message.op, Opcode::BootReply);
        assert_eq!(r.message.xid, 7);
        assert_eq!(r.message.siaddr, Ipv4Addr::new(192, 0, 2, 1));
    }

    #[test]
    fn full_offer_keeps_flags_and_adds_address_options() {
        let req = pxe_request();
        let (c, d) = decide(&req);
        let mut p = ReplyParams::new(ReplyKind::Offer, Ipv4Addr::new(192, 0, 2, 1));
        p.yiaddr = Ipv4Addr::new(192, 0, 2, 50);
        p.options = vec![(codes::LEASE_TIME, vec![0, 0, 14, 16])];
        let r = build_reply(&req, &c, &d, &p).unwrap();
        assert!(!r.message.broadcast());
        assert_eq!(r.message.yiaddr, p.yiaddr);
        assert_eq!(
            r.message.options.get(codes::LEASE_TIME),
            Some(&[0, 0, 14, 16][..])
        );
        assert_eq!(
            r.message.options.get(codes::VENDOR_SPECIFIC),
            Some(&[6, 1, 8, 255][..])
        );
    }

    #[test]
    fn long_boot_file_goes_to_option_67_only() {
        let req = pxe_request();
        let mut r = Rule::new("long");
        r.then.boot_file = Some("x".repeat(200));
        let c = Client::classify(&req);
        let d = Policy::new(vec![r]).decide(&c);
        let p = ReplyParams::new(ReplyKind::ProxyOffer, Ipv4Addr::new(192, 0, 2, 1));
        let reply = build_reply(&req, &c, &d, &p).unwrap();
        assert!(reply.message.file.is_empty());
        assert_eq!(
            reply
                .message
                .options
                .get(codes::BOOTFILE_NAME)
                .map(<[u8]>::len),
            Some(200)
        );
        assert!(reply.to_bytes().is_ok());
    }
}
