//! Full mode: the answer for one IA_NA of a client's message (RFC 8415 §18.3),
//! given the bindings. Each function returns the IA_NA option for the reply, the
//! records to make durable before it leaves, and a note for `explain`.

use std::net::Ipv6Addr;

use dhcproto::v6::{DhcpOption, DhcpOptions, IAAddr, OptionCode, Status, StatusCode, IANA};

use super::binding::{Binding6, Bindings6, IaKey, State6};
use super::FullV6;

/// The answer for one IA_NA.
#[derive(Debug, Clone)]
pub(super) struct IaAnswer {
    /// The IA_NA option of the reply (none for an IA released or declined).
    pub(super) option: Option<DhcpOption>,
    /// Records to write before the reply leaves.
    pub(super) commit: Vec<Binding6>,
    /// What happened, in words.
    pub(super) note: String,
}

/// A status code option (RFC 8415 §21.13).
pub(super) fn status(status: Status, msg: &str) -> DhcpOption {
    DhcpOption::StatusCode(StatusCode {
        status,
        msg: msg.into(),
    })
}

/// The addresses the client put in its IA_NA.
pub(super) fn addresses(ia: &IANA) -> Vec<Ipv6Addr> {
    ia.opts
        .get_all(OptionCode::IAAddr)
        .unwrap_or_default()
        .iter()
        .filter_map(|o| match o {
            DhcpOption::IAAddr(a) => Some(a.addr),
            _ => None,
        })
        .collect()
}

fn iaaddr(addr: Ipv6Addr, preferred: u32, valid: u32) -> DhcpOption {
    DhcpOption::IAAddr(IAAddr {
        addr,
        preferred_life: preferred,
        valid_life: valid,
        opts: DhcpOptions::new(),
    })
}

fn ia_na(id: u32, t: (u32, u32), opts: Vec<DhcpOption>) -> DhcpOption {
    let mut o = DhcpOptions::new();
    for x in opts {
        o.insert(x);
    }
    DhcpOption::IANA(IANA {
        id,
        t1: t.0,
        t2: t.1,
        opts: o,
    })
}

fn answer(option: DhcpOption, commit: Vec<Binding6>, note: String) -> IaAnswer {
    IaAnswer {
        option: Some(option),
        commit,
        note,
    }
}

/// An IA with the status `s` and no address.
fn refused(id: u32, s: Status, msg: &str) -> IaAnswer {
    answer(
        ia_na(id, (0, 0), vec![status(s, msg)]),
        Vec::new(),
        format!("{s:?}: {msg}"),
    )
}

/// SOLICIT (`bind` false: ADVERTISE, the address held) and REQUEST or SOLICIT
/// with Rapid Commit (`bind` true: bound and written). NoAddrsAvail inside the
/// IA when the range is full (RFC 8415 §18.3.1, §18.3.2).
pub(super) fn assign(
    b: &mut Bindings6,
    full: &FullV6,
    key: &IaKey,
    now: u64,
    bind: bool,
) -> IaAnswer {
    // An earlier binding, not this exchange's own ADVERTISE.
    let again = b
        .of(key)
        .filter(|x| x.state != State6::Offered)
        .map(|x| x.addr);
    let Some(addr) = b.choose(key, now) else {
        return refused(
            key.iaid,
            Status::NoAddrsAvail,
            "no address left in the range",
        );
    };
    let same = if again == Some(addr) {
        " (the same address again)"
    } else {
        ""
    };
    let mut commit = Vec::new();
    let note = if bind {
        commit.push(b.bind(key, addr, now, full.valid_lifetime));
        format!("{addr} bound for {} s{same}", full.valid_lifetime)
    } else {
        b.offer(key, addr, now);
        format!("{addr} advertised{same}")
    };
    answer(granted(full, key.iaid, addr, &[]), commit, note)
}

/// The IA with `addr` at the configured lifetimes and `stale` addresses at 0.
fn granted(full: &FullV6, id: u32, addr: Ipv6Addr, stale: &[Ipv6Addr]) -> DhcpOption {
    let mut opts = vec![iaaddr(addr, full.preferred_lifetime, full.valid_lifetime)];
    opts.extend(
        stale
            .iter()
            .filter(|&&a| a != addr)
            .map(|&a| iaaddr(a, 0, 0)),
    );
    ia_na(id, full.t1_t2(), opts)
}

/// RENEW (`rebind` false) and REBIND (RFC 8415 §18.3.4, §18.3.5): the binding
/// extended, addresses of the IA that are not its at lifetimes 0. Without a
/// binding: RENEW gets NoBinding; REBIND gets the addresses it names bound when
/// they are free for it, at lifetimes 0 when not ours to give.
pub(super) fn extend(
    b: &mut Bindings6,
    full: &FullV6,
    key: &IaKey,
    ia: &IANA,
    now: u64,
    rebind: bool,
) -> IaAnswer {
    let named = addresses(ia);
    let own = b
        .of(key)
        .filter(|x| matches!(x.state, State6::Bound | State6::Offered))
        .map(|x| x.addr)
        .filter(|&a| b.free_for(a, key, now));
    if let Some(addr) = own {
        let rec = b.bind(key, addr, now, full.valid_lifetime);
        let note = format!("{addr} extended for {} s", full.valid_lifetime);
        return answer(granted(full, key.iaid, addr, &named), vec![rec], note);
    }
    if !rebind || named.is_empty() {
        return refused(key.iaid, Status::NoBinding, "no binding for this IA");
    }
    match named.iter().copied().find(|&a| b.free_for(a, key, now)) {
        Some(addr) => {
            let rec = b.bind(key, addr, now, full.valid_lifetime);
            let note = format!("{addr} bound again on REBIND (no binding; free for it)");
            answer(granted(full, key.iaid, addr, &named), vec![rec], note)
        }
        None => {
            let zero = named.iter().map(|&a| iaaddr(a, 0, 0)).collect();
            let note = "addresses not ours to give: lifetimes 0".to_string();
            answer(ia_na(key.iaid, (0, 0), zero), Vec::new(), note)
        }
    }
}

/// RELEASE (`decline` false) and DECLINE (RFC 8415 §18.3.7, §18.3.8): each named
/// address of the IA freed or quarantined. An IA with none of its addresses gets
/// NoBinding inside; the others are left out of the REPLY (its top-level status
/// says Success).
pub(super) fn give_back(
    b: &mut Bindings6,
    key: &IaKey,
    ia: &IANA,
    now: u64,
    decline: bool,
) -> IaAnswer {
    let mut commit = Vec::new();
    let mut unknown = Vec::new();
    for a in addresses(ia) {
        let rec = if decline {
            b.decline(key, a, now)
        } else {
            b.release(key, a, now)
        };
        match rec {
            Some(r) => commit.push(r),
            None => unknown.push(a),
        }
    }
    if commit.is_empty() {
        return refused(key.iaid, Status::NoBinding, "no binding for this IA");
    }
    let verb = if decline {
        "declined (kept out of the range)"
    } else {
        "released"
    };
    let done: Vec<String> = commit.iter().map(|r| r.addr.to_string()).collect();
    let mut note = format!("{} {verb}", done.join(", "));
    if !unknown.is_empty() {
        note.push_str(&format!("; not its, ignored: {unknown:?}"));
    }
    IaAnswer {
        option: None,
        commit,
        note,
    }
}
