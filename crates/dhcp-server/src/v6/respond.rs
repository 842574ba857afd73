//! The stateless/proxy DHCPv6 responder (RFC 8415 §18.3, RFC 5970, UEFI PXE over IPv6).
//!
//! | request | answered when | reply |
//! |---|---|---|
//! | SOLICIT | a boot client (option 61 or 59 asked for) a rule gives a file | ADVERTISE: 1, 2, 59 (16 `HTTPClient` echoed), 23 if asked; no IA |
//! | REQUEST | server id is ours, a boot client with a file | REPLY, the same options |
//! | INFORMATION-REQUEST | server id absent or ours | REPLY: 2, 1 if sent, 23 if asked, 32, and 59 for boot clients |
//! | RENEW, REBIND, RELEASE, DECLINE, CONFIRM | never: the addresses are the other server's | none |
//! | RELAY-FORW | the client's message inside would be | RELAY-REPL per relay, the reply inside |
//!
//! No IA and no status code in an ADVERTISE: the address-giving server's ADVERTISE
//! carries the addresses, and UEFI firmware merges the boot options from this one.

use std::net::Ipv6Addr;

use dhcp_pxe::v6::relay::{unwrap_relays, wrap_reply, RelayHop};
use dhcp_pxe::v6::{boot_file_url, check_layout, classify, codes};
use dhcp_pxe::Decision;
use dhcproto::v6::{DhcpOption, Message, MessageType, OptionCode, UnknownOption};
use dhcproto::{Decodable, Encodable};

use super::V6Config;

/// What the responder made of one datagram (for the driver and `explain`).
#[derive(Debug, Clone)]
pub struct V6Outcome {
    /// The relays the request came through, outermost first (none: direct).
    pub relays: Vec<RelayHop>,
    /// The decoded request, when it decoded.
    pub request: Option<Message>,
    /// The policy's decision, for requests that reached the policy.
    pub decision: Option<Decision>,
    /// The reply and its bytes, or why there is none. Through relays, the
    /// message is the one for the client and the bytes are the RELAY-REPL that
    /// carries it.
    pub reply: Result<(Message, Vec<u8>), String>,
}

/// The IANA enterprise number UEFI firmware sends in option 16 (none is assigned to
/// the UEFI Forum's text; EDK2 sends 343, Intel's).
const UEFI_ENTERPRISE: u32 = 343;

/// Option 16's bytes: the enterprise number, then one length-prefixed datum (RFC 8415
/// §21.16). Written by hand: dhcproto 0.15 writes the item count as the option length
/// for 15 and 16 (seen in a test here), and everything after it is lost.
fn vendor_class(data: &[u8]) -> Vec<u8> {
    let mut v = UEFI_ENTERPRISE.to_be_bytes().to_vec();
    v.extend_from_slice(&(data.len() as u16).to_be_bytes());
    v.extend_from_slice(data);
    v
}

fn asked(req: &Message, code: u16) -> bool {
    matches!(req.opts().get(OptionCode::ORO), Some(DhcpOption::ORO(o))
        if o.opts.iter().any(|c| u16::from(*c) == code))
}

fn server_id(req: &Message) -> Option<&[u8]> {
    match req.opts().get(OptionCode::ServerId) {
        Some(DhcpOption::ServerId(d)) => Some(d),
        _ => None,
    }
}

/// Answers one DHCPv6 datagram that arrived on `local` (the link-local or global
/// address of the interface it came in on): a client's message, or one relayed
/// (RELAY-FORW, answered with RELAY-REPL to the relay that sent it).
pub fn respond(cfg: &V6Config, payload: &[u8], local: Ipv6Addr) -> V6Outcome {
    let relayed = match unwrap_relays(payload) {
        Ok(r) => r,
        Err(e) => {
            return V6Outcome {
                relays: Vec::new(),
                request: None,
                decision: None,
                reply: Err(format!("not a relay message to answer: {e}")),
            }
        }
    };
    let mut out = respond_client(cfg, relayed.message, local);
    out.reply = out.reply.and_then(|(m, bytes)| {
        wrap_reply(&relayed.hops, &bytes)
            .map(|b| (m, b))
            .ok_or_else(|| "the reply does not fit the relay messages".to_string())
    });
    out.relays = relayed.hops;
    out
}

/// [`respond`] for a client's message.
fn respond_client(cfg: &V6Config, payload: &[u8], local: Ipv6Addr) -> V6Outcome {
    let decoded = check_layout(payload)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            Message::decode(&mut dhcproto::Decoder::new(payload)).map_err(|e| e.to_string())
        });
    let req = match decoded {
        Ok(m) => m,
        Err(e) => {
            return V6Outcome {
                relays: Vec::new(),
                request: None,
                decision: None,
                reply: Err(format!("not a DHCPv6 client message: {e}")),
            }
        }
    };
    let mut out = V6Outcome {
        relays: Vec::new(),
        request: Some(req.clone()),
        decision: None,
        reply: Err(String::new()),
    };
    let ty = req.msg_type();
    let client_id = match req.opts().get(OptionCode::ClientId) {
        Some(DhcpOption::ClientId(d)) => Some(d.clone()),
        _ => None,
    };
    let ours = server_id(&req).map(|s| s == cfg.server_duid.as_slice());
    let reply_type = match (ty, ours, &client_id) {
        (MessageType::Solicit, None, Some(_)) => MessageType::Advertise,
        (MessageType::Request, Some(true), Some(_)) => MessageType::Reply,
        (MessageType::InformationRequest, None | Some(true), _) => MessageType::Reply,
        (MessageType::Solicit | MessageType::Request, _, None) => {
            out.reply = Err(format!("{ty:?} without a client identifier (RFC 8415 §16)"));
            return out;
        }
        (MessageType::Request | MessageType::InformationRequest, Some(false), _) => {
            out.reply = Err(format!("{ty:?} is for another server (server identifier)"));
            return out;
        }
        (ty, _, _) => {
            out.reply = Err(format!(
                "{ty:?}: addresses are another server's (stateless mode answers SOLICIT, REQUEST, INFORMATION-REQUEST)"
            ));
            return out;
        }
    };
    let c = classify(&req);
    let mut boot = None;
    if c.wants_boot {
        let d = cfg.policy.decide(&c.client);
        boot = d.target.as_ref().map(|t| t.file.clone());
        out.decision = Some(d);
    }
    if boot.is_none() && ty != MessageType::InformationRequest {
        out.reply = Err(if c.wants_boot {
            "no rule gives this client a boot file".into()
        } else {
            "not a network boot client (no option 61, 59 not asked for)".into()
        });
        return out;
    }
    let mut m = Message::new_with_id(reply_type, req.xid());
    let o = m.opts_mut();
    o.insert(DhcpOption::ServerId(cfg.server_duid.clone()));
    if let Some(id) = client_id {
        o.insert(DhcpOption::ClientId(id));
    }
    if !cfg.dns.is_empty() && asked(&req, codes::DNS_SERVERS) {
        o.insert(DhcpOption::DomainNameServers(cfg.dns.clone()));
    }
    if ty == MessageType::InformationRequest {
        o.insert(DhcpOption::InformationRefreshTime(cfg.information_refresh));
    }
    if let Some(file) = boot {
        let url = boot_file_url(&file, cfg.tftp.unwrap_or(local));
        o.insert(DhcpOption::Unknown(UnknownOption::new(
            OptionCode::from(codes::BOOTFILE_URL),
            url.into_bytes(),
        )));
        if c.http_client {
            o.insert(DhcpOption::Unknown(UnknownOption::new(
                OptionCode::from(codes::VENDOR_CLASS),
                vendor_class(b"HTTPClient"),
            )));
        }
    }
    out.reply = match m.to_vec() {
        Ok(bytes) => Ok((m, bytes)),
        Err(e) => Err(format!("reply does not encode: {e}")),
    };
    out
}
