//! One request and what the server does about it (RFC 2131 §4.3, PXE 2.1 proxyDHCP).

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use dhcp_pxe::wire::code::codes;
use dhcp_pxe::wire::message::{MessageType, Opcode};
use dhcp_pxe::{build_reply, decode_tolerant, Client, Decision, Message, ReplyKind, ReplyParams};

use crate::addressing::{destination, Destination, PXE_PORT};
use crate::lease::{ClientKey, Lease};
use crate::logtext::Escaped;
use crate::ratelimit::Limited;
use crate::server::{unix, Datagram, Mode, Server};

/// Client-key bytes shown at most in a log line.
const KEY_SHOWN: usize = 32;

/// Why a datagram was dropped before (or instead of) a decision: such drops may
/// come by the thousand, so they are logged at debug level and summed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// Not a DHCP message, or option 53 malformed (twice, or not one byte).
    Malformed,
    /// Over its client's rate limit.
    ClientRate,
    /// Over the total rate limit.
    TotalRate,
    /// A lease cap (fresh or BOOTP leases) is reached.
    Capped,
    /// A BOOTP request where the subnet serves no BOOTP (no `bootp` range and no
    /// reservation for the client, or BOOTP not allowed).
    Bootp,
}

/// A reply the server would send.
#[derive(Debug, Clone)]
pub struct ReplyOut {
    /// The reply message.
    pub message: Message,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Where it goes.
    pub destination: Destination,
    /// Its source address and option 54.
    pub server_id: Ipv4Addr,
    /// It waits until its lease record is durable (ACKs, BOOTP replies).
    pub durable: bool,
    /// It is a NAK.
    pub nak: bool,
}

/// What happened to one request.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The request's type ("DISCOVER", "BOOTREQUEST"…) or "?" when undecodable.
    pub request: String,
    /// The decoded request.
    pub message: Option<Message>,
    /// The client as classified.
    pub client: Option<Client>,
    /// The boot policy's decision.
    pub decision: Option<Decision>,
    /// The reply, if any.
    pub reply: Option<ReplyOut>,
    /// Why nothing (or a NAK) is sent.
    pub reason: Option<String>,
    /// Lease records this exchange writes.
    pub records: Vec<Lease>,
    /// Set when the datagram was dropped as malformed or over a limit or cap.
    pub dropped: Option<Dropped>,
}

impl Exchange {
    fn new(request: impl Into<String>) -> Self {
        Self {
            request: request.into(),
            message: None,
            client: None,
            decision: None,
            reply: None,
            reason: None,
            records: Vec::new(),
            dropped: None,
        }
    }

    fn drop(mut self, why: Dropped, reason: impl Into<String>) -> Self {
        self.dropped = Some(why);
        self.silent(reason)
    }

    fn silent(mut self, why: impl Into<String>) -> Self {
        self.reason = Some(why.into());
        self
    }

    /// One log line: request, client, reply, address, boot file or why nothing.
    /// Client-supplied text (host name, vendor class) is escaped and capped, the
    /// client key shown up to 32 bytes.
    pub fn log_line(&self) -> String {
        let mut s = self.request.clone();
        if let Some(m) = &self.message {
            let key = ClientKey::of(m);
            let _ = write!(s, " xid {:08x} from ", m.xid);
            if key.0.len() > KEY_SHOWN {
                let short = ClientKey(key.0[..KEY_SHOWN].to_vec());
                let _ = write!(s, "{short}…(+{} bytes)", key.0.len() - KEY_SHOWN);
            } else {
                let _ = write!(s, "{key}");
            }
            if !m.giaddr.is_unspecified() {
                let _ = write!(s, " via {}", m.giaddr);
            }
            if let Some(h) = m.options.get(12 /* host name */) {
                let _ = write!(s, " host \"{}\"", Escaped::new(h));
            }
            if let Some(c) = m.options.get(codes::VENDOR_CLASS) {
                let _ = write!(s, " class \"{}\"", Escaped::new(c));
            }
        }
        match &self.reply {
            Some(r) => {
                let t = r
                    .message
                    .message_type()
                    .map_or("BOOTREPLY".into(), |t| format!("{t:?}").to_uppercase());
                let _ = write!(s, " -> {t}");
                if !r.message.yiaddr.is_unspecified() {
                    let _ = write!(s, " {}", r.message.yiaddr);
                }
                if !r.message.file.is_empty() {
                    let _ = write!(s, " file \"{}\"", Escaped::new(&r.message.file));
                }
                if let Some(why) = &self.reason {
                    let _ = write!(s, " ({why})");
                }
            }
            None => {
                let _ = write!(s, " -> nothing: {}", self.reason.as_deref().unwrap_or("?"));
            }
        }
        s
    }
}

pub(crate) fn secs(d: &[u8]) -> Option<Duration> {
    <[u8; 4]>::try_from(d)
        .ok()
        .map(|b| Duration::from_secs(u64::from(u32::from_be_bytes(b))))
}

pub(crate) fn addr(d: &[u8]) -> Option<Ipv4Addr> {
    <[u8; 4]>::try_from(d).ok().map(Ipv4Addr::from)
}

impl Server {
    pub(crate) fn process(&mut self, now: SystemTime, d: &Datagram<'_>) -> Exchange {
        let msg = match decode_tolerant(d.payload) {
            Ok(x) => match x.dropped.iter().find(|o| o.code == codes::MESSAGE_TYPE) {
                // Two 53s are joined (RFC 3396) into one two-byte 53, which fails its
                // length check: without this the request would pass as BOOTP.
                Some(o) => {
                    self.stats.malformed += 1;
                    let mut ex = Exchange::new("?");
                    ex.message = Some(x.message);
                    return ex.drop(
                        Dropped::Malformed,
                        format!("malformed from {}: option 53 {}", d.src, o.reason),
                    );
                }
                None => x.message,
            },
            Err(e) => {
                self.stats.malformed += 1;
                return Exchange::new("?")
                    .drop(Dropped::Malformed, format!("malformed from {}: {e}", d.src));
            }
        };
        let ty = msg.message_type();
        let mut ex = Exchange::new(ty.map_or("BOOTREQUEST".to_string(), |t| {
            format!("{t:?}").to_uppercase()
        }));
        if msg.op != Opcode::BootRequest {
            ex.message = Some(msg);
            return ex.silent("not a BOOTREQUEST");
        }
        let key = ClientKey::of(&msg);
        if let Err(over) = self.limiter.check(&key.0, now) {
            ex.message = Some(msg);
            return match over {
                Limited::Client => {
                    self.stats.rate_limited += 1;
                    ex.drop(Dropped::ClientRate, "client over its rate limit")
                }
                Limited::Total => {
                    self.stats.total_rate_limited += 1;
                    ex.drop(Dropped::TotalRate, "over the total rate limit")
                }
            };
        }
        let client = Client::classify(&msg);
        let decision = self.config.policy.decide(&client);
        let server_id = self.config.server_id.unwrap_or(d.local);
        let result = if d.local_port == PXE_PORT {
            self.boot_server(&msg, &client, &decision, d, server_id)
        } else if self.config.mode == Mode::Proxy {
            self.proxy(&msg, &client, &decision, d, server_id)
        } else {
            self.full(&msg, &key, &client, &decision, d, server_id, unix(now))
        };
        ex.message = Some(msg);
        ex.client = Some(client);
        ex.decision = Some(decision);
        match result {
            Ok((reply, records)) => {
                ex.reason = reply
                    .nak
                    .then(|| "address not available to this client".into());
                ex.reply = Some(reply);
                ex.records = records;
            }
            Err(Silence(why, records, dropped)) => {
                match dropped {
                    Some(Dropped::Capped) => self.stats.capped += 1,
                    Some(Dropped::Bootp) => self.stats.bootp_not_served += 1,
                    _ => {}
                }
                ex.dropped = dropped;
                ex.reason = Some(why);
                ex.records = records;
            }
        }
        ex
    }

    pub(crate) fn reply(
        request: &Message,
        client: &Client,
        decision: &Decision,
        params: &ReplyParams,
        local_port: u16,
        d: &Datagram<'_>,
    ) -> Result<ReplyOut, Silence> {
        let reply = build_reply(request, client, decision, params)
            .map_err(|e| Silence::new(e.to_string()))?;
        let bytes = reply.to_bytes().map_err(|e| Silence::new(e.to_string()))?;
        Ok(ReplyOut {
            destination: destination(request, &reply.message, d.src, local_port, false),
            message: reply.message,
            bytes,
            server_id: params.server_id,
            durable: false,
            nak: false,
        })
    }

    /// A REQUEST or INFORM on port 4011 (PXE boot server): the port-4011 ACK.
    fn boot_server(
        &self,
        m: &Message,
        c: &Client,
        dec: &Decision,
        d: &Datagram<'_>,
        sid: Ipv4Addr,
    ) -> Outcome {
        if !matches!(
            m.message_type(),
            Some(MessageType::Request | MessageType::Inform)
        ) {
            return Err(Silence::new("port 4011 answers REQUEST and INFORM only"));
        }
        if !c.is_boot_client() {
            return Err(Silence::new("not a network-boot client"));
        }
        if dec.target.is_none() {
            return Err(Silence::new("no rule gave this client a boot target"));
        }
        let p = ReplyParams::new(ReplyKind::ProxyAck, sid);
        Ok((Self::reply(m, c, dec, &p, PXE_PORT, d)?, Vec::new()))
    }

    /// proxyDHCP on port 67: PXE DISCOVERs get a proxy OFFER, everyone else silence.
    fn proxy(
        &self,
        m: &Message,
        c: &Client,
        dec: &Decision,
        d: &Datagram<'_>,
        sid: Ipv4Addr,
    ) -> Outcome {
        if m.message_type() != Some(MessageType::Discover) {
            return Err(Silence::new("proxy mode answers DISCOVERs only on port 67 (REQUESTs go to the DHCP server or port 4011)"));
        }
        if !c.is_boot_client() {
            return Err(Silence::new(
                "not a network-boot client (no PXEClient/HTTPClient vendor class)",
            ));
        }
        if dec.target.is_none() {
            return Err(Silence::new("no rule gave this client a boot target"));
        }
        let mut p = ReplyParams::new(ReplyKind::ProxyOffer, sid);
        p.uefi_via_4011 = self.config.uefi_via_4011;
        Ok((Self::reply(m, c, dec, &p, d.local_port, d)?, Vec::new()))
    }
}

/// No reply: why, any lease records written anyway, and whether it is a drop.
#[derive(Debug)]
pub(crate) struct Silence(
    pub(crate) String,
    pub(crate) Vec<Lease>,
    pub(crate) Option<Dropped>,
);

impl Silence {
    pub(crate) fn new(why: impl Into<String>) -> Self {
        Self(why.into(), Vec::new(), None)
    }

    /// Silence with lease records.
    pub(crate) fn with(why: impl Into<String>, records: Vec<Lease>) -> Self {
        Self(why.into(), records, None)
    }

    /// A request refused by a lease cap.
    pub(crate) fn capped(why: impl Into<String>) -> Self {
        Self(why.into(), Vec::new(), Some(Dropped::Capped))
    }

    /// A BOOTP request the subnet does not serve.
    pub(crate) fn no_bootp(why: impl Into<String>) -> Self {
        Self(why.into(), Vec::new(), Some(Dropped::Bootp))
    }
}

pub(crate) type Outcome = Result<(ReplyOut, Vec<Lease>), Silence>;
