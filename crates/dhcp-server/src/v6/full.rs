//! Full mode, sans-IO: addresses in IA_NA from a range (RFC 8415 §18.3), the boot
//! options as in stateless mode ([`super::respond`]'s helpers).
//!
//! | request | server id (§16) | reply |
//! |---|---|---|
//! | SOLICIT | absent | ADVERTISE, each IA_NA an address held [`OFFER_HOLD`](super::OFFER_HOLD) s; with Rapid Commit (14) and `rapid_commit`: REPLY, bound, 14 |
//! | REQUEST | ours | REPLY, each IA_NA bound (NoAddrsAvail inside when the range is full) |
//! | RENEW | ours | REPLY, bindings extended; NoBinding for an unknown IA |
//! | REBIND | absent | REPLY, bindings extended; an unknown IA's addresses bound when free for it, else lifetimes 0 |
//! | RELEASE, DECLINE | ours | REPLY Success; the addresses free, or kept out |
//! | CONFIRM | absent | REPLY Success or NotOnLink by the range's prefix |
//! | INFORMATION-REQUEST | absent or ours | as stateless mode |
//!
//! Every REPLY that binds, extends, releases or declines carries its records in
//! [`V6Outcome::commit`]: the driver writes them (and syncs) before the reply
//! leaves. An ADVERTISE writes nothing.

use std::net::Ipv6Addr;

use dhcproto::v6::{DhcpOption, Message, MessageType, OptionCode, Status};

use super::binding::{Binding6, Bindings6, IaKey};
use super::ia::{addresses, assign, extend, give_back, status};
use super::respond::{
    boot_of, decode_client, encoded, reply_with_boot, respond_message, server_id, through_relays,
    IaDecision, V6Outcome,
};
use super::{FullV6, V6Config};

/// The full-mode DHCPv6 server: configuration and bindings.
#[derive(Debug, Clone)]
pub struct FullServer6 {
    cfg: V6Config,
    full: FullV6,
    bindings: Bindings6,
}

/// Whether the server id rule of RFC 8415 §16 lets a message of type `ty` in.
fn server_id_ok(ty: MessageType, ours: Option<bool>) -> Result<(), &'static str> {
    use MessageType as T;
    match (ty, ours) {
        (T::Solicit | T::Rebind | T::Confirm, None) => Ok(()),
        (T::Solicit | T::Rebind | T::Confirm, Some(_)) => {
            Err("carries a server identifier it must not (RFC 8415 §16)")
        }
        (T::Request | T::Renew | T::Release | T::Decline, Some(true)) => Ok(()),
        (T::Request | T::Renew | T::Release | T::Decline, Some(false)) => {
            Err("is for another server (server identifier)")
        }
        (T::Request | T::Renew | T::Release | T::Decline, None) => {
            Err("has no server identifier (RFC 8415 §16)")
        }
        _ => Err("is no message a server answers"),
    }
}

impl FullServer6 {
    /// A server with no bindings; `None` when `cfg.full` is unset.
    pub fn new(cfg: V6Config) -> Option<Self> {
        let full = cfg.full.clone()?;
        Some(Self {
            bindings: Bindings6::new(full.range),
            full,
            cfg,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &V6Config {
        &self.cfg
    }

    /// Sets the server DUID (the driver knows it once the interfaces are open).
    pub fn set_server_duid(&mut self, duid: Vec<u8>) {
        self.cfg.server_duid = duid;
    }

    /// Takes a reloaded configuration: boot files, policy, DNS servers,
    /// lifetimes and Rapid Commit change at once, the bindings stay. The
    /// server DUID in use stays too. Refused (the running configuration
    /// kept) when `cfg` has no full mode or another range: the bindings
    /// are the range's.
    pub fn reconfigure(&mut self, cfg: V6Config) -> Result<(), &'static str> {
        let Some(full) = cfg.full.clone() else {
            return Err("switching from full to stateless mode needs a restart");
        };
        if full.range != self.full.range {
            return Err("a new range needs a restart");
        }
        let duid = std::mem::take(&mut self.cfg.server_duid);
        self.cfg = cfg;
        self.cfg.server_duid = duid;
        self.full = full;
        Ok(())
    }

    /// The bindings.
    pub fn bindings(&self) -> &Bindings6 {
        &self.bindings
    }

    /// Loads the records read back from the lease file.
    pub fn restore(&mut self, records: impl IntoIterator<Item = Binding6>) {
        self.bindings.restore(records);
    }

    /// Answers one datagram that arrived on `local` at `now` (Unix seconds).
    /// The reply may leave only once [`V6Outcome::commit`] is durable.
    pub fn handle(&mut self, now: u64, payload: &[u8], local: Ipv6Addr) -> V6Outcome {
        through_relays(payload, |inner| match decode_client(inner) {
            Ok(req) => self.handle_message(now, req, local),
            Err(why) => V6Outcome::silent(None, why),
        })
    }

    fn handle_message(&mut self, now: u64, req: Message, local: Ipv6Addr) -> V6Outcome {
        let ty = req.msg_type();
        if ty == MessageType::InformationRequest {
            return respond_message(&self.cfg, req, local);
        }
        let mut out = V6Outcome::silent(Some(req.clone()), String::new());
        let ours = server_id(&req).map(|s| s == self.cfg.server_duid.as_slice());
        if let Err(why) = server_id_ok(ty, ours) {
            out.reply = Err(format!("{ty:?} {why}"));
            return out;
        }
        let Some(DhcpOption::ClientId(duid)) = req.opts().get(OptionCode::ClientId).cloned() else {
            out.reply = Err(format!("{ty:?} without a client identifier (RFC 8415 §16)"));
            return out;
        };
        let ias: Vec<_> = req
            .opts()
            .get_all(OptionCode::IANA)
            .unwrap_or_default()
            .iter()
            .filter_map(|o| match o {
                DhcpOption::IANA(ia) => Some(ia.clone()),
                _ => None,
            })
            .collect();
        if ty == MessageType::Confirm {
            return self.confirm(req, &ias, out, local);
        }
        let boot = boot_of(&self.cfg, &req);
        out.decision.clone_from(&boot.decision);
        let rapid = ty == MessageType::Solicit
            && self.full.rapid_commit
            && req.opts().get(OptionCode::RapidCommit).is_some();
        let reply_type = if ty == MessageType::Solicit && !rapid {
            MessageType::Advertise
        } else {
            MessageType::Reply
        };
        if ias.is_empty() && !matches!(ty, MessageType::Solicit | MessageType::Request) {
            out.reply = Err(format!("{ty:?} without an IA_NA"));
            return out;
        }
        if ias.is_empty() && boot.file.is_none() {
            out.reply = Err(format!(
                "{ty:?} without an IA_NA, and no boot file for this client"
            ));
            return out;
        }
        let gives_boot = matches!(
            ty,
            MessageType::Solicit | MessageType::Request | MessageType::Renew | MessageType::Rebind
        );
        let mut m = reply_with_boot(
            &self.cfg,
            &req,
            reply_type,
            gives_boot.then_some(&boot),
            local,
        );
        let o = m.opts_mut();
        if rapid {
            o.insert(DhcpOption::RapidCommit);
        }
        for ia in &ias {
            let key = IaKey {
                duid: duid.clone(),
                iaid: ia.id,
            };
            let (b, f) = (&mut self.bindings, &self.full);
            let a = match ty {
                MessageType::Solicit => assign(b, f, &key, now, rapid),
                MessageType::Request => assign(b, f, &key, now, true),
                MessageType::Renew => extend(b, f, &key, ia, now, false),
                MessageType::Rebind => extend(b, f, &key, ia, now, true),
                MessageType::Release => give_back(b, &key, ia, now, false),
                _ => give_back(b, &key, ia, now, true),
            };
            if let Some(opt) = a.option {
                o.insert(opt);
            }
            out.commit.extend(a.commit);
            out.ia.push(IaDecision {
                iaid: ia.id,
                note: a.note,
            });
        }
        if matches!(ty, MessageType::Release | MessageType::Decline) {
            let what = if ty == MessageType::Release {
                "released"
            } else {
                "declined"
            };
            o.insert(status(Status::Success, what));
        }
        if reply_type == MessageType::Advertise {
            // Nothing is bound by an ADVERTISE: nothing to write.
            out.commit.clear();
        }
        out.reply = encoded(m);
        if out.reply.is_err() {
            out.commit.clear();
        }
        out
    }

    /// CONFIRM (RFC 8415 §18.3.3): Success when every address is on the range's
    /// link, NotOnLink when one is not; no reply when there is no address.
    fn confirm(
        &self,
        req: Message,
        ias: &[dhcproto::v6::IANA],
        mut out: V6Outcome,
        local: Ipv6Addr,
    ) -> V6Outcome {
        let addrs: Vec<Ipv6Addr> = ias.iter().flat_map(addresses).collect();
        if addrs.is_empty() {
            out.reply = Err("CONFIRM without addresses (RFC 8415 §18.3.3: no reply)".into());
            return out;
        }
        let range = self.bindings.range();
        let off: Vec<_> = addrs.iter().filter(|&&a| !range.on_link(a)).collect();
        let mut m = reply_with_boot(&self.cfg, &req, MessageType::Reply, None, local);
        let (s, msg) = if off.is_empty() {
            (Status::Success, "all addresses on link".to_string())
        } else {
            (Status::NotOnLink, format!("not on link: {off:?}"))
        };
        m.opts_mut().insert(status(s, &msg));
        out.ia.push(IaDecision {
            iaid: ias.first().map_or(0, |i| i.id),
            note: format!(
                "CONFIRM: {s:?} ({msg}; link prefix /{})",
                range.prefix_len()
            ),
        });
        out.reply = encoded(m);
        out
    }
}
