//! Full mode: addresses for DISCOVER, REQUEST, DECLINE, RELEASE, INFORM and BOOTP
//! requests (RFC 2131 §4.3, RFC 1542), and NAKs.

use std::net::Ipv4Addr;

use dhcp_pxe::wire::code::codes;
use dhcp_pxe::wire::message::{MessageType, Opcode};
use dhcp_pxe::{Client, Decision, Message, ReplyKind, ReplyParams};

use crate::addressing::destination;
use crate::exchange::{addr, secs, Outcome, ReplyOut, Silence};
use crate::lease::{ClientKey, Expiry, Lease, LeaseDetails, LeaseState, Tenure};
use crate::server::{Datagram, Server};
use crate::subnet::Subnet;

impl Server {
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

    /// Refuses a new `tenure` (fresh or BOOTP) lease to a client the server does not
    /// know yet when the subnet's cap for it is reached: a flood of made-up clients
    /// cannot take the whole pool.
    fn within_cap(
        &self,
        subnet: &Subnet,
        key: &ClientKey,
        tenure: Tenure,
        now: u64,
    ) -> Result<(), Silence> {
        // A retransmitted DISCOVER: its offer already counts.
        let offered = self.leases.of_client(key).is_some_and(|l| {
            l.state == LeaseState::Offered && !l.expires.is_past(now) && subnet.contains(l.addr)
        });
        if offered || self.leases.knows(key) {
            return Ok(());
        }
        let held = self.leases.held(subnet, tenure) as u64;
        let cap = subnet.cap(tenure);
        if held < cap {
            return Ok(());
        }
        let what = if tenure == Tenure::Bootp {
            "BOOTP leases"
        } else {
            "leases not renewed yet"
        };
        Err(Silence::capped(format!(
            "lease cap: {held} {what} held in {}/{}, at most {cap} allowed",
            subnet.network, subnet.prefix_len
        )))
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn full(
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
                if !subnet.allow_bootp {
                    return Err(Silence::no_bootp("BOOTP is not allowed in this subnet"));
                }
                let (a, tenure) = match reservation {
                    Some(r) => (r, Tenure::Reserved),
                    None if subnet.dynamic_addresses(true) == 0 => {
                        return Err(Silence::no_bootp(
                            "BOOTP: no reservation for this client and no bootp range",
                        ));
                    }
                    None => {
                        self.within_cap(&subnet, key, Tenure::Bootp, now)?;
                        let a = self
                            .leases
                            .allocate(&subnet, key, None, true, now)
                            .ok_or_else(|| {
                                Silence::new(
                                    "BOOTP: no reservation and no free address in a bootp range",
                                )
                            })?;
                        (a, Tenure::Bootp)
                    }
                };
                let exp = subnet
                    .bootp_lease_time
                    .map_or(Expiry::Never, |t| Expiry::after(now, t));
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
                let lease = self.bind(a, key, exp, tenure, m, &out.message, now);
                out.durable = true;
                self.stats.bootp += 1;
                Ok((out, vec![lease]))
            }
            Some(MessageType::Discover) => {
                let a = match reservation {
                    Some(r) => r,
                    None => {
                        self.within_cap(&subnet, key, Tenure::Fresh, now)?;
                        self.leases
                            .allocate(&subnet, key, requested, false, now)
                            .ok_or_else(|| Silence::new("no free address"))?
                    }
                };
                if !self
                    .leases
                    .get(a)
                    .is_some_and(|l| l.is_active(now) && &l.client == key)
                {
                    let offer = Lease {
                        addr: a,
                        client: key.clone(),
                        state: LeaseState::Offered,
                        expires: Expiry::after(now, self.config.offer_hold),
                        // An offer remembers whether its client was known before.
                        tenure: if self.leases.knows(key) {
                            Tenure::Renewed
                        } else {
                            Tenure::Fresh
                        },
                        details: LeaseDetails::default(),
                    };
                    self.schedule(&offer);
                    self.leases.put(offer);
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
                let tenure = if reservation == Some(a) {
                    Tenure::Reserved
                } else if self
                    .leases
                    .get(a)
                    .is_some_and(|l| l.is_active(now) && &l.client == key)
                {
                    Tenure::Renewed
                } else {
                    // Admitted when it was offered; a REQUEST without an offer
                    // (INIT-REBOOT) is checked here.
                    self.within_cap(&subnet, key, Tenure::Fresh, now)?;
                    Tenure::Fresh
                };
                let len = subnet.lease_for(m.options.get(codes::LEASE_TIME).and_then(secs));
                let mut out = Self::reply(
                    m,
                    c,
                    dec,
                    &ack(a, subnet.reply_options(Some(Some(len))), ReplyKind::Ack),
                    67,
                    d,
                )?;
                let exp = Expiry::after(now, len);
                let lease = self.bind(a, key, exp, tenure, m, &out.message, now);
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
                            expires: Expiry::after(now, self.config.decline_hold),
                            tenure: Tenure::Fresh,
                            details: l.details.clone(),
                        };
                        self.leases.put(l.clone());
                        Err(Silence::with(format!("{a} declined: quarantined"), vec![l]))
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
                        expires: Expiry::At(now),
                        tenure: Tenure::Fresh,
                        details: l.details.clone(),
                    };
                    self.leases.put(l.clone());
                    Err(Silence::with(format!("{} released", m.ciaddr), vec![l]))
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

    /// Binds `a` to `key` for `request`, answered by `reply`: the record to write.
    #[allow(clippy::too_many_arguments)]
    fn bind(
        &mut self,
        a: Ipv4Addr,
        key: &ClientKey,
        expires: Expiry,
        tenure: Tenure,
        request: &Message,
        reply: &Message,
        now: u64,
    ) -> Lease {
        let prev = self
            .leases
            .get(a)
            .filter(|l| &l.client == key)
            .map(|l| &l.details);
        let details = LeaseDetails::of_grant(now, request, reply, prev);
        let l = Lease {
            addr: a,
            client: key.clone(),
            state: LeaseState::Bound,
            expires,
            tenure,
            details,
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
