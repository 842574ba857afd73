//! One request and what the server does about it (RFC 2131 §4.3, PXE 2.1 proxyDHCP).

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use dhcp_pxe::wire::code::codes;
use dhcp_pxe::wire::message::{MessageType, Opcode};
use dhcp_pxe::{build_reply, decode_tolerant, Client, Decision, Message, ReplyKind, ReplyParams};

use crate::addressing::{destination, Destination, PXE_PORT};
use crate::lease::{ClientKey, Lease, LeaseState, NEVER};
use crate::server::{unix, Datagram, Mode, Server};

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
        }
    }

    fn silent(mut self, why: impl Into<String>) -> Self {
        self.reason = Some(why.into());
        self
    }

    /// One log line: request, client, reply, address, boot file or why nothing.
    pub fn log_line(&self) -> String {
        let mut s = self.request.clone();
        if let Some(m) = &self.message {
            let _ = write!(s, " xid {:08x} from {}", m.xid, ClientKey::of(m));
            if !m.giaddr.is_unspecified() {
                let _ = write!(s, " via {}", m.giaddr);
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
                    let _ = write!(s, " file {:?}", String::from_utf8_lossy(&r.message.file));
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

fn secs(d: &[u8]) -> Option<Duration> {
    <[u8; 4]>::try_from(d)
        .ok()
        .map(|b| Duration::from_secs(u64::from(u32::from_be_bytes(b))))
}

fn addr(d: &[u8]) -> Option<Ipv4Addr> {
    <[u8; 4]>::try_from(d).ok().map(Ipv4Addr::from)
}

impl Server {
    pub(crate) fn process(&mut self, now: SystemTime, d: &Datagram<'_>) -> Exchange {
        let msg = match decode_tolerant(d.payload) {
            Ok(x) => x.message,
            Err(e) => {
                self.stats.malformed += 1;
                return Exchange::new("?").silent(format!("malformed from {}: {e}", d.src));
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
        if !self.limiter.allow(&key.0, now) {
            self.stats.rate_limited += 1;
            ex.message = Some(msg);
            return ex.silent("client over its rate limit");
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
            Err(Silence(why, records)) => {
                ex.reason = Some(why);
                ex.records = records;
            }
        }
        ex
    }

    fn reply(
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

    fn subnet_index(&self, m: &Message, d: &Datagram<'_>) -> Option<usize> {
        let s = &self.config.subnets;
        if !m.giaddr.is_unspecified() {
            return s.iter().position(|n| n.contains(m.giaddr));
        }
        s.iter().position(|n| n.contains(d.local)).or_else(|| {
            s.iter()
                .position(|n| n.interface.is_some() && n.interface.as_deref() == d.interface)
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn full(
        &mut self,
        m: &Message,
        key: &ClientKey,
        c: &Client,
        dec: &Decision,
        d: &Datagram<'_>,
        sid: Ipv4Addr,
        now: u64,
    ) -> Outcome {
        let Some(si) = self.subnet_index(m, d) else {
            return Err(Silence::new(format!(
                "no subnet for {} (interface {}, giaddr {})",
                d.local,
                d.interface.unwrap_or("?"),
                m.giaddr
            )));
        };
        let subnet = self.config.subnets[si].clone();
        let requested = m.options.get(codes::REQUESTED_IP).and_then(addr);
        let reservation = subnet
            .reservation(m.options.get(codes::CLIENT_ID), m.mac())
            .map(|r| r.addr);
        let ack = |yi: Ipv4Addr, opts: Vec<(u8, Vec<u8>)>, kind: ReplyKind| {
            let mut p = ReplyParams::new(kind, sid);
            p.yiaddr = yi;
            p.options = opts;
            p
        };
        match m.message_type() {
            None => {
                // BOOTP (RFC 951/1542): an address from a dynamic-bootp range or a reservation.
                let a = reservation
                    .or_else(|| self.leases.allocate(&subnet, key, None, true, now))
                    .ok_or_else(|| {
                        Silence::new(
                            "BOOTP: no reservation and no free address in a dynamic-bootp range",
                        )
                    })?;
                let exp = subnet
                    .bootp_lease_time
                    .map_or(NEVER, |t| now.saturating_add(t.as_secs()));
                let lease = self.bind(a, key, exp);
                let mut out = Self::reply(
                    m,
                    c,
                    dec,
                    &ack(a, subnet.reply_options(None), ReplyKind::Ack),
                    67,
                    d,
                )?;
                out.message.options.remove(codes::MESSAGE_TYPE);
                out.message.options.remove(codes::SERVER_ID);
                out.message.flags = m.flags;
                out.bytes = dhcp_pxe::encode(
                    &out.message,
                    &dhcp_pxe::wire::encode::EncodeParams::for_reply_to(m),
                )
                .map_err(|e| Silence::new(e.to_string()))?;
                out.durable = true;
                Ok((out, vec![lease]))
            }
            Some(MessageType::Discover) => {
                let a = match reservation {
                    Some(r) => r,
                    None => self
                        .leases
                        .allocate(&subnet, key, requested, false, now)
                        .ok_or_else(|| Silence::new("no free address"))?,
                };
                if !self
                    .leases
                    .get(a)
                    .is_some_and(|l| l.is_active(now) && &l.client == key)
                {
                    self.leases.put(Lease {
                        addr: a,
                        client: key.clone(),
                        state: LeaseState::Offered,
                        expires: now + self.config.offer_hold.as_secs(),
                    });
                }
                let len = subnet.lease_for(m.options.get(codes::LEASE_TIME).and_then(secs));
                let out = Self::reply(
                    m,
                    c,
                    dec,
                    &ack(a, subnet.reply_options(Some(Some(len))), ReplyKind::Offer),
                    67,
                    d,
                )?;
                Ok((out, Vec::new()))
            }
            Some(MessageType::Request) => {
                if let Some(s) = m.options.get(codes::SERVER_ID).and_then(addr) {
                    if s != sid {
                        // SELECTING another server's offer: drop ours (RFC 2131 §4.3.2).
                        if let Some(l) = self.leases.of_client(key) {
                            if l.state == LeaseState::Offered {
                                let a = l.addr;
                                self.leases.remove(a);
                            }
                        }
                        return Err(Silence::new(format!("client chose server {s}")));
                    }
                }
                let a = requested
                    .or((!m.ciaddr.is_unspecified()).then_some(m.ciaddr))
                    .ok_or_else(|| Silence::new("REQUEST names no address"))?;
                let ok = subnet.contains(a)
                    && (reservation == Some(a) || subnet.in_ranges(a, false))
                    && self.leases.available(&subnet, a, key, now)
                    && reservation.is_none_or(|r| r == a);
                if !ok {
                    return Ok((self.nak(m, c, d, sid)?, Vec::new()));
                }
                let len = subnet.lease_for(m.options.get(codes::LEASE_TIME).and_then(secs));
                let lease = self.bind(a, key, now.saturating_add(len.as_secs()));
                let mut out = Self::reply(
                    m,
                    c,
                    dec,
                    &ack(a, subnet.reply_options(Some(Some(len))), ReplyKind::Ack),
                    67,
                    d,
                )?;
                out.durable = true;
                Ok((out, vec![lease]))
            }
            Some(MessageType::Decline) => {
                let a = requested.ok_or_else(|| Silence::new("DECLINE without option 50"))?;
                match self.leases.get(a) {
                    Some(l) if &l.client == key => {
                        let l = Lease {
                            addr: a,
                            client: key.clone(),
                            state: LeaseState::Declined,
                            expires: now + self.config.decline_hold.as_secs(),
                        };
                        self.leases.put(l.clone());
                        Err(Silence(format!("{a} declined: quarantined"), vec![l]))
                    }
                    _ => Err(Silence::new(format!(
                        "DECLINE of {a}, not leased to this client"
                    ))),
                }
            }
            Some(MessageType::Release) => match self.leases.get(m.ciaddr) {
                Some(l) if &l.client == key && l.state == LeaseState::Bound => {
                    let l = Lease {
                        addr: m.ciaddr,
                        client: key.clone(),
                        state: LeaseState::Released,
                        expires: now,
                    };
                    self.leases.put(l.clone());
                    Err(Silence(format!("{} released", m.ciaddr), vec![l]))
                }
                _ => Err(Silence::new(format!(
                    "RELEASE of {}, not leased to this client",
                    m.ciaddr
                ))),
            },
            Some(MessageType::Inform) => {
                let out = Self::reply(
                    m,
                    c,
                    dec,
                    &ack(
                        Ipv4Addr::UNSPECIFIED,
                        subnet.reply_options(None),
                        ReplyKind::Ack,
                    ),
                    67,
                    d,
                )?;
                Ok((out, Vec::new()))
            }
            Some(t) => Err(Silence::new(format!("{t:?} is not a client message"))),
        }
    }

    fn bind(&mut self, a: Ipv4Addr, key: &ClientKey, expires: u64) -> Lease {
        let l = Lease {
            addr: a,
            client: key.clone(),
            state: LeaseState::Bound,
            expires,
        };
        self.leases.put(l.clone());
        l
    }

    /// A DHCPNAK (RFC 2131 §4.3.2): only 53, 54 (and 82 echoed); broadcast unless relayed.
    fn nak(
        &self,
        m: &Message,
        c: &Client,
        d: &Datagram<'_>,
        sid: Ipv4Addr,
    ) -> Result<ReplyOut, Silence> {
        let mut r = Message {
            op: Opcode::BootReply,
            htype: m.htype,
            hlen: m.hlen,
            xid: m.xid,
            flags: m.flags,
            giaddr: m.giaddr,
            chaddr: m.chaddr,
            ..Message::default()
        };
        if !m.giaddr.is_unspecified() {
            r.flags = r.flags.set_broadcast();
        }
        r.set_message_type(MessageType::Nak);
        r.options.insert(codes::SERVER_ID, sid.octets().to_vec());
        if let Some(ri) = &c.relay {
            r.options.insert(codes::RELAY_AGENT_INFO, ri.encode());
        }
        let bytes = dhcp_pxe::encode(&r, &dhcp_pxe::wire::encode::EncodeParams::for_reply_to(m))
            .map_err(|e| Silence::new(e.to_string()))?;
        Ok(ReplyOut {
            destination: destination(m, &r, d.src, d.local_port, true),
            message: r,
            bytes,
            server_id: sid,
            durable: false,
            nak: true,
        })
    }
}

/// No reply: why, and any lease records written anyway.
#[derive(Debug)]
pub(crate) struct Silence(String, Vec<Lease>);

impl Silence {
    fn new(why: impl Into<String>) -> Self {
        Self(why.into(), Vec::new())
    }
}

type Outcome = Result<(ReplyOut, Vec<Lease>), Silence>;
