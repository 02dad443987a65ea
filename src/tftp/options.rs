//! Option negotiation (RFC 2347 OACK, RFC 2348 blksize, RFC 2349 timeout and
//! tsize, RFC 7440 windowsize, and tftpd-hpa's extensions `rollover`,
//! `blksize2` and `utimeout`): what the client asked, what the server
//! allows, and the OACK that says what was agreed.
//!
//! Unknown options and malformed values are ignored, as RFC 2347 asks: the
//! transfer goes on without them.

use std::time::Duration;

use super::blocknum::Rollover;

/// Smallest block size RFC 2348 allows.
pub const MIN_BLKSIZE: u16 = 8;
/// Largest block size RFC 2348 allows (fits a 65535-byte IPv4 datagram).
pub const MAX_BLKSIZE: u16 = 65464;
/// Block size without the blksize option.
pub const DEFAULT_BLKSIZE: u16 = 512;

/// What the server allows; set from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionPolicy {
    /// Largest block size granted (`--blocksize` / `--max-blocksize`).
    pub max_blksize: u16,
    /// Largest window granted.
    pub max_windowsize: u16,
    /// Options never granted (`--refuse`), lower case.
    pub refused: Vec<String>,
}

impl Default for OptionPolicy {
    fn default() -> Self {
        Self {
            max_blksize: MAX_BLKSIZE,
            max_windowsize: 64,
            refused: Vec::new(),
        }
    }
}

/// What a request's options turn into once negotiated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Data bytes per block.
    pub blksize: u16,
    /// Blocks sent before waiting for an ACK.
    pub windowsize: u16,
    /// Retransmission timeout the client asked for.
    pub timeout: Option<Duration>,
    /// The client sent tsize (0 on RRQ, the size on WRQ).
    pub tsize_requested: Option<u64>,
    /// Block number after 65535.
    pub rollover: Rollover,
    /// Options to echo in an OACK (name, value), in the client's order.
    /// `tsize` on RRQ is filled in by [`Negotiated::oack`] once the size is
    /// known.
    pub accepted: Vec<(String, String)>,
}

impl Negotiated {
    /// Lock-step defaults for a request without options.
    pub fn plain() -> Self {
        Self {
            blksize: DEFAULT_BLKSIZE,
            windowsize: 1,
            timeout: None,
            tsize_requested: None,
            rollover: Rollover::ToZero,
            accepted: Vec::new(),
        }
    }

    /// True when an OACK must precede the transfer.
    pub fn needs_oack(&self) -> bool {
        !self.accepted.is_empty()
    }

    /// The OACK options; `tsize` carries `size` when given (the file's size on
    /// RRQ), else the value the client sent (its upload size on WRQ).
    pub fn oack(&self, size: Option<u64>) -> Vec<(String, String)> {
        self.accepted
            .iter()
            .map(|(name, value)| match (name.as_str(), size) {
                ("tsize", Some(size)) => (name.clone(), size.to_string()),
                _ => (name.clone(), value.clone()),
            })
            .collect()
    }
}

/// Negotiates the request's options under `policy`. `mtu_limit` caps the
/// block size to what the path carries (when MTU clamping is on).
pub fn negotiate(
    requested: &[(&str, &str)],
    policy: &OptionPolicy,
    mtu_limit: Option<u16>,
) -> Negotiated {
    let mut out = Negotiated::plain();
    for (raw_name, raw_value) in requested {
        let name = raw_name.to_ascii_lowercase();
        let seen = |n: &str| same_kind(n) == same_kind(&name);
        if policy.refused.contains(&name) || out.accepted.iter().any(|(n, _)| seen(n)) {
            continue;
        }
        let value = raw_value.trim();
        let granted = match name.as_str() {
            "blksize" => negotiate_blksize(value, policy, mtu_limit).map(|b| {
                out.blksize = b;
                b.to_string()
            }),
            "blksize2" => negotiate_blksize2(value, policy, mtu_limit).map(|b| {
                out.blksize = b;
                b.to_string()
            }),
            "utimeout" => value
                .parse::<u64>()
                .ok()
                .filter(|t| (10_000..=255_000_000).contains(t))
                .map(|t| {
                    out.timeout = Some(Duration::from_micros(t));
                    t.to_string()
                }),
            "windowsize" => value.parse::<u32>().ok().filter(|w| *w >= 1).map(|w| {
                let w = w.min(u32::from(policy.max_windowsize.max(1))) as u16;
                out.windowsize = w;
                w.to_string()
            }),
            "timeout" => value
                .parse::<u64>()
                .ok()
                .filter(|t| (1..=255).contains(t))
                .map(|t| {
                    out.timeout = Some(Duration::from_secs(t));
                    t.to_string()
                }),
            "tsize" => value.parse::<u64>().ok().map(|t| {
                out.tsize_requested = Some(t);
                t.to_string()
            }),
            "rollover" => match value {
                "0" => Some(Rollover::ToZero),
                "1" => Some(Rollover::ToOne),
                _ => None,
            }
            .map(|r| {
                out.rollover = r;
                value.to_string()
            }),
            _ => None,
        };
        if let Some(value) = granted {
            out.accepted.push((name, value));
        }
    }
    out
}

/// Options that set the same thing: only the first one asked is granted.
fn same_kind(name: &str) -> &str {
    match name {
        "blksize2" => "blksize",
        "utimeout" => "timeout",
        other => other,
    }
}

/// tftpd-hpa's `blksize2`: the largest power of two within what `blksize`
/// would grant (at most 32768).
fn negotiate_blksize2(value: &str, policy: &OptionPolicy, mtu_limit: Option<u16>) -> Option<u16> {
    let cap = negotiate_blksize(value, policy, mtu_limit)?;
    let power = 1u16 << (15 - cap.leading_zeros().min(15));
    Some(power.min(cap))
}

fn negotiate_blksize(value: &str, policy: &OptionPolicy, mtu_limit: Option<u16>) -> Option<u16> {
    let asked: u32 = value.parse().ok()?;
    if asked < u32::from(MIN_BLKSIZE) {
        return None;
    }
    let cap = policy
        .max_blksize
        .min(mtu_limit.unwrap_or(MAX_BLKSIZE))
        .clamp(MIN_BLKSIZE, MAX_BLKSIZE);
    Some(asked.min(u32::from(cap)) as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(list: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        list.to_vec()
    }

    #[test]
    fn no_options_means_lock_step_512() {
        let n = negotiate(&[], &OptionPolicy::default(), None);
        assert_eq!(n, Negotiated::plain());
        assert!(!n.needs_oack());
    }

    #[test]
    fn uefi_probe_is_granted_in_full() {
        let n = negotiate(
            &opts(&[("tsize", "0"), ("blksize", "1468"), ("windowsize", "4")]),
            &OptionPolicy::default(),
            None,
        );
        assert_eq!((n.blksize, n.windowsize), (1468, 4));
        assert_eq!(
            n.oack(Some(123)),
            vec![
                ("tsize".to_string(), "123".to_string()),
                ("blksize".into(), "1468".into()),
                ("windowsize".into(), "4".into())
            ]
        );
    }

    #[test]
    fn blksize_is_clamped_to_policy_and_mtu() {
        let policy = OptionPolicy {
            max_blksize: 1468,
            ..OptionPolicy::default()
        };
        assert_eq!(
            negotiate(&opts(&[("blksize", "65464")]), &policy, None).blksize,
            1468
        );
        assert_eq!(
            negotiate(
                &opts(&[("BLKSIZE", "65464")]),
                &OptionPolicy::default(),
                Some(1400)
            )
            .blksize,
            1400
        );
        let tiny = negotiate(&opts(&[("blksize", "4")]), &OptionPolicy::default(), None);
        assert_eq!(tiny.blksize, 512);
        assert!(!tiny.needs_oack(), "an invalid value is ignored");
    }

    #[test]
    fn bad_values_and_unknown_options_are_ignored() {
        let n = negotiate(
            &opts(&[
                ("timeout", "0"),
                ("timeout", "300"),
                ("windowsize", "0"),
                ("multicast", ""),
                ("tsize", "x"),
                ("rollover", "7"),
            ]),
            &OptionPolicy::default(),
            None,
        );
        assert_eq!(n, Negotiated::plain());
    }

    #[test]
    fn refused_and_duplicate_options_are_dropped() {
        let policy = OptionPolicy {
            refused: vec!["tsize".into()],
            max_windowsize: 8,
            ..OptionPolicy::default()
        };
        let n = negotiate(
            &opts(&[
                ("tsize", "0"),
                ("windowsize", "32"),
                ("windowsize", "2"),
                ("timeout", "3"),
            ]),
            &policy,
            None,
        );
        assert_eq!(n.windowsize, 8);
        assert_eq!(n.timeout, Some(Duration::from_secs(3)));
        assert_eq!(n.tsize_requested, None);
    }

    #[test]
    fn wrq_tsize_is_echoed() {
        let n = negotiate(&opts(&[("tsize", "4096")]), &OptionPolicy::default(), None);
        assert_eq!(n.tsize_requested, Some(4096));
        assert_eq!(
            n.oack(None),
            vec![("tsize".to_string(), "4096".to_string())]
        );
    }

    #[test]
    fn tftpd_hpa_extensions() {
        let policy = OptionPolicy {
            max_blksize: 1468,
            ..OptionPolicy::default()
        };
        let n = negotiate(
            &opts(&[("blksize2", "65464"), ("blksize", "1400")]),
            &policy,
            None,
        );
        assert_eq!(
            n.blksize, 1024,
            "a power of two, and blksize comes too late"
        );
        assert_eq!(
            n.oack(None),
            vec![("blksize2".to_string(), "1024".to_string())]
        );
        let n = negotiate(
            &opts(&[("blksize2", "512")]),
            &OptionPolicy::default(),
            None,
        );
        assert_eq!(n.blksize, 512);
        let n = negotiate(
            &opts(&[("utimeout", "25000"), ("timeout", "3")]),
            &policy,
            None,
        );
        assert_eq!(n.timeout, Some(Duration::from_micros(25_000)));
        let n = negotiate(&opts(&[("utimeout", "9999")]), &policy, None);
        assert_eq!(n, Negotiated::plain(), "under 10 ms is ignored");
        let refusing = OptionPolicy {
            refused: vec!["blksize2".into(), "utimeout".into()],
            ..OptionPolicy::default()
        };
        let n = negotiate(
            &opts(&[("blksize2", "4096"), ("utimeout", "50000")]),
            &refusing,
            None,
        );
        assert_eq!(n, Negotiated::plain());
    }

    #[test]
    fn rollover_option() {
        let n = negotiate(&opts(&[("rollover", "1")]), &OptionPolicy::default(), None);
        assert_eq!(n.rollover, Rollover::ToOne);
    }
}
