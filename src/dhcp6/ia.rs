//! IA_NA and status options as the DHCPv6 core reads and writes them
//! (pure): the IAs of a request, an IA carrying a status, an IA whose
//! addresses must no longer be used, a status code.

use std::net::Ipv6Addr;

use dhcproto::v6::{
    DhcpOption, DhcpOptions, IAAddr, Message, OptionCode, Status, StatusCode, IANA,
};

/// An IA_NA as the client sent it: IAID and the addresses it names.
pub(super) struct Ia {
    pub id: u32,
    pub addrs: Vec<Ipv6Addr>,
}

/// The IA_NAs of a request.
pub(super) fn ias(req: &Message) -> Vec<Ia> {
    let Some(all) = req.opts().get_all(OptionCode::IANA) else {
        return Vec::new();
    };
    all.iter()
        .filter_map(|o| match o {
            DhcpOption::IANA(ia) => Some(Ia {
                id: ia.id,
                addrs: ia
                    .opts
                    .iter()
                    .filter_map(|o| match o {
                        DhcpOption::IAAddr(a) => Some(a.addr),
                        _ => None,
                    })
                    .collect(),
            }),
            _ => None,
        })
        .collect()
}

pub(super) fn status(code: Status, msg: &str) -> DhcpOption {
    DhcpOption::StatusCode(StatusCode {
        status: code,
        msg: msg.to_string(),
    })
}

pub(super) fn ia_status(iaid: u32, code: Status) -> DhcpOption {
    let mut opts = DhcpOptions::new();
    opts.insert(status(code, "no address for this IA"));
    DhcpOption::IANA(IANA {
        id: iaid,
        t1: 0,
        t2: 0,
        opts,
    })
}

/// The client's addresses with lifetimes 0: "stop using them" (REBIND).
pub(super) fn ia_zero(ia: &Ia) -> DhcpOption {
    let mut opts = DhcpOptions::new();
    for addr in &ia.addrs {
        opts.insert(DhcpOption::IAAddr(IAAddr {
            addr: *addr,
            preferred_life: 0,
            valid_life: 0,
            opts: DhcpOptions::new(),
        }));
    }
    DhcpOption::IANA(IANA {
        id: ia.id,
        t1: 0,
        t2: 0,
        opts,
    })
}
