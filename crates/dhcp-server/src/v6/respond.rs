//! The stateless/proxy DHCPv6 responder (RFC 8415 §18.3, RFC 5970, UEFI PXE over IPv6),
//! and what full mode ([`super::FullServer6`]) shares with it: the relay envelopes
//! around the answer, decoding after the layout check, the boot decision and the
//! reply's common options ([`reply_with_boot`]).
//!
//! | request | answered when | reply |
//! |---|---|---|
//! | SOLICIT | a boot client (option 61 or 59 asked for) a rule gives a file | ADVERTISE: 1, 2, 59, 16 (`HTTPClient` echoed, or `PXEClient` to a PXE client), 23 if asked; no IA |
//! | REQUEST | server id is ours, a boot client with a file (also on port 4011: UEFI PXE asking its proxy again) | REPLY, the same options |
//! | INFORMATION-REQUEST | server id absent or ours | REPLY: 2, 1 if sent, 23 if asked, 32, and 59 for boot clients |
//! | RENEW, REBIND, RELEASE, DECLINE, CONFIRM | never: the addresses are the other server's | none |
//! | RELAY-FORW | the client's message inside would be | RELAY-REPL per relay, the reply inside |
//!
//! No IA and no status code in an ADVERTISE: the address-giving server's ADVERTISE
//! carries the addresses. UEFI PXE takes this one as a proxy offer because its
//! option 16 says `PXEClient` (without it, an ADVERTISE with a boot URL and no
//! address is one it would try to take its address from), requests its address
//! from the other server, then sends a REQUEST with this server's id to the
//! address in option 59 on port 4011 ([`dhcp_pxe::v6::BOOT_SERVER_PORT`]), which
//! this responder answers like any REQUEST.

use std::net::Ipv6Addr;

use dhcp_pxe::v6::relay::{unwrap_relays, wrap_reply, RelayHop};
use dhcp_pxe::v6::{boot_file_url, check_layout, classify, codes, V6Client};
use dhcp_pxe::Decision;
use dhcproto::v6::{DhcpOption, Message, MessageType, OptionCode, UnknownOption};
use dhcproto::{Decodable, Encodable};

use super::binding::Binding6;
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
    /// Full mode: what became of each IA_NA of the request.
    pub ia: Vec<IaDecision>,
    /// Full mode: the bindings to make durable before the reply leaves (empty for
    /// an ADVERTISE, for stateless mode, and when there is no reply).
    pub commit: Vec<Binding6>,
}

impl V6Outcome {
    /// An outcome with no reply, for `why`.
    pub(super) fn silent(request: Option<Message>, why: String) -> Self {
        Self {
            relays: Vec::new(),
            request,
            decision: None,
            reply: Err(why),
            ia: Vec::new(),
            commit: Vec::new(),
        }
    }
}

/// Full mode: one IA_NA of a request and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IaDecision {
    /// The IAID.
    pub iaid: u32,
    /// What the server did, in words ("2001:db8::100 bound for 4000 s").
    pub note: String,
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

pub(super) fn asked(req: &Message, code: u16) -> bool {
    matches!(req.opts().get(OptionCode::ORO), Some(DhcpOption::ORO(o))
        if o.opts.iter().any(|c| u16::from(*c) == code))
}

pub(super) fn server_id(req: &Message) -> Option<&[u8]> {
    match req.opts().get(OptionCode::ServerId) {
        Some(DhcpOption::ServerId(d)) => Some(d),
        _ => None,
    }
}

/// Answers one DHCPv6 datagram that arrived on `local` (the link-local or global
/// address of the interface it came in on): a client's message, or one relayed
/// (RELAY-FORW, answered with RELAY-REPL to the relay that sent it). Stateless
/// mode: `cfg.full` is not looked at.
pub fn respond(cfg: &V6Config, payload: &[u8], local: Ipv6Addr) -> V6Outcome {
    through_relays(payload, |inner| match decode_client(inner) {
        Ok(req) => respond_message(cfg, req, local),
        Err(why) => V6Outcome::silent(None, why),
    })
}

/// Unwraps the relay envelopes around a client's message, answers it with
/// `answer`, and wraps the reply in one RELAY-REPL per relay (RFC 8415 §19).
pub(super) fn through_relays(payload: &[u8], answer: impl FnOnce(&[u8]) -> V6Outcome) -> V6Outcome {
    let relayed = match unwrap_relays(payload) {
        Ok(r) => r,
        Err(e) => return V6Outcome::silent(None, format!("not a relay message to answer: {e}")),
    };
    let mut out = answer(relayed.message);
    out.reply = out.reply.and_then(|(m, bytes)| {
        wrap_reply(&relayed.hops, &bytes)
            .map(|b| (m, b))
            .ok_or_else(|| "the reply does not fit the relay messages".to_string())
    });
    if out.reply.is_err() {
        out.commit.clear();
    }
    out.relays = relayed.hops;
    out
}

/// A client's message, its option layout checked before dhcproto decodes it.
pub(super) fn decode_client(payload: &[u8]) -> Result<Message, String> {
    check_layout(payload)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            Message::decode(&mut dhcproto::Decoder::new(payload)).map_err(|e| e.to_string())
        })
        .map_err(|e| format!("not a DHCPv6 client message: {e}"))
}

/// What the boot policy makes of a request.
#[derive(Debug, Clone)]
pub(super) struct Boot {
    /// The classification.
    pub(super) client: V6Client,
    /// The policy's decision, for boot clients.
    pub(super) decision: Option<Decision>,
    /// The boot file, when a rule gives one.
    pub(super) file: Option<String>,
}

/// Classifies `req` and asks the policy for boot clients.
pub(super) fn boot_of(cfg: &V6Config, req: &Message) -> Boot {
    let client = classify(req);
    let decision = client.wants_boot.then(|| cfg.policy.decide(&client.client));
    let file = decision
        .as_ref()
        .and_then(|d| d.target.as_ref().map(|t| t.file.clone()));
    Boot {
        client,
        decision,
        file,
    }
}

/// A reply of type `ty` to `req` with the options both modes send: server and
/// client identifiers, DNS servers when asked for, and for a boot client with a
/// file the Boot File URL (59) and `HTTPClient` echoed in option 16.
pub(super) fn reply_with_boot(
    cfg: &V6Config,
    req: &Message,
    ty: MessageType,
    boot: Option<&Boot>,
    local: Ipv6Addr,
) -> Message {
    let mut m = Message::new_with_id(ty, req.xid());
    let o = m.opts_mut();
    o.insert(DhcpOption::ServerId(cfg.server_duid.clone()));
    if let Some(DhcpOption::ClientId(id)) = req.opts().get(OptionCode::ClientId) {
        o.insert(DhcpOption::ClientId(id.clone()));
    }
    if !cfg.dns.is_empty() && asked(req, codes::DNS_SERVERS) {
        o.insert(DhcpOption::DomainNameServers(cfg.dns.clone()));
    }
    if let Some((file, b)) = boot.and_then(|b| Some((b.file.as_ref()?, b))) {
        let url = boot_file_url(file, cfg.tftp.unwrap_or(local));
        o.insert(DhcpOption::Unknown(UnknownOption::new(
            OptionCode::from(codes::BOOTFILE_URL),
            url.into_bytes(),
        )));
        if b.client.http_client {
            o.insert(DhcpOption::Unknown(UnknownOption::new(
                OptionCode::from(codes::VENDOR_CLASS),
                vendor_class(b"HTTPClient"),
            )));
        }
    }
    m
}

/// `m` and its bytes, or why it does not encode.
pub(super) fn encoded(m: Message) -> Result<(Message, Vec<u8>), String> {
    match m.to_vec() {
        Ok(bytes) => Ok((m, bytes)),
        Err(e) => Err(format!("reply does not encode: {e}")),
    }
}

/// The stateless answer to a decoded client message; full mode answers
/// INFORMATION-REQUEST with it too.
pub(super) fn respond_message(cfg: &V6Config, req: Message, local: Ipv6Addr) -> V6Outcome {
    let mut out = V6Outcome::silent(Some(req.clone()), String::new());
    let ty = req.msg_type();
    let has_client_id = req.opts().get(OptionCode::ClientId).is_some();
    let ours = server_id(&req).map(|s| s == cfg.server_duid.as_slice());
    let reply_type = match (ty, ours, has_client_id) {
        (MessageType::Solicit, None, true) => MessageType::Advertise,
        (MessageType::Request, Some(true), true) => MessageType::Reply,
        (MessageType::InformationRequest, None | Some(true), _)
            if req.opts().get(OptionCode::IANA).is_some() =>
        {
            out.reply = Err("InformationRequest with an IA_NA (RFC 8415 §16.12)".into());
            return out;
        }
        (MessageType::InformationRequest, None | Some(true), _) => MessageType::Reply,
        (MessageType::Solicit | MessageType::Request, _, false) => {
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
    let boot = boot_of(cfg, &req);
    out.decision.clone_from(&boot.decision);
    if boot.file.is_none() && ty != MessageType::InformationRequest {
        out.reply = Err(if boot.client.wants_boot {
            "no rule gives this client a boot file".into()
        } else {
            "not a network boot client (no option 61, 59 not asked for)".into()
        });
        return out;
    }
    let mut m = reply_with_boot(cfg, &req, reply_type, Some(&boot), local);
    if ty != MessageType::InformationRequest && boot.client.pxe_client {
        // What makes UEFI PXE take an ADVERTISE without an address as a proxy
        // offer (full mode leaves it out: with it, the firmware would ask
        // again on port 4011 instead of booting from the ADVERTISE).
        m.opts_mut().insert(DhcpOption::Unknown(UnknownOption::new(
            OptionCode::from(codes::VENDOR_CLASS),
            vendor_class(b"PXEClient"),
        )));
    }
    if ty == MessageType::InformationRequest {
        m.opts_mut()
            .insert(DhcpOption::InformationRefreshTime(cfg.information_refresh));
    }
    out.reply = encoded(m);
    out
}
