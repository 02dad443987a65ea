//! Block numbering: 64-bit block indexes inside the server, 16-bit block
//! numbers on the wire, and the rollover rule that maps one to the other.
//!
//! A transfer longer than 65535 blocks (32 MiB at blksize 512) must let the
//! 16-bit number wrap. What comes after 65535 is not standardised: most
//! clients (tftp-hpa, curl, atftp, iPXE, EDK2) expect 0, a few expect 1.
//! We default to 0 and let the client ask for 1 with the `rollover` option.

/// What block number follows 65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rollover {
    /// 65535 is followed by 0 (the common behaviour, and our default).
    #[default]
    ToZero,
    /// 65535 is followed by 1.
    ToOne,
}

impl Rollover {
    /// The wire number of absolute block `index` (index 0 is the OACK's ACK,
    /// index 1 the first data block).
    pub fn wire(self, index: u64) -> u16 {
        match self {
            Rollover::ToZero => (index % 65536) as u16,
            Rollover::ToOne if index == 0 => 0,
            Rollover::ToOne => ((index - 1) % 65535 + 1) as u16,
        }
    }

    /// The absolute index whose wire number is `wire` and which lies closest
    /// to `near` (within half a wrap either side). `None` when that would be
    /// negative, or for `ToOne`'s 0 away from the start.
    pub fn unwrap(self, wire: u16, near: u64) -> Option<u64> {
        let period: i64 = match self {
            Rollover::ToZero => 65536,
            Rollover::ToOne => 65535,
        };
        if self == Rollover::ToOne && wire == 0 {
            return (near < 32768).then_some(0);
        }
        // Index 0 (the OACK's ACK) is outside ToOne's ring of 1..=65535.
        let near = if self == Rollover::ToOne {
            near.max(1)
        } else {
            near
        };
        let here = i64::from(self.wire(near));
        let mut delta = (i64::from(wire) - here).rem_euclid(period);
        if delta >= period / 2 {
            delta -= period;
        }
        let index = i64::try_from(near).ok()?.checked_add(delta)?;
        let index = u64::try_from(index).ok()?;
        (self.wire(index) == wire).then_some(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wraps_to_zero_by_default() {
        let r = Rollover::ToZero;
        assert_eq!(r.wire(65535), 65535);
        assert_eq!(r.wire(65536), 0);
        assert_eq!(r.wire(65537), 1);
        assert_eq!(r.unwrap(0, 65535), Some(65536));
        assert_eq!(r.unwrap(65535, 65536), Some(65535));
    }

    #[test]
    fn wraps_to_one_when_asked() {
        let r = Rollover::ToOne;
        assert_eq!(r.wire(0), 0);
        assert_eq!(r.wire(65535), 65535);
        assert_eq!(r.wire(65536), 1);
        assert_eq!(r.unwrap(1, 65535), Some(65536));
        assert_eq!(r.unwrap(0, 3), Some(0));
        assert_eq!(r.unwrap(0, 70000), None);
        assert_eq!(r.unwrap(65535, 0), None, "65535 is not the OACK's ACK");
        assert_eq!(r.unwrap(65535, 3), None);
    }

    #[test]
    fn never_negative() {
        assert_eq!(Rollover::ToZero.unwrap(65535, 0), None);
    }

    proptest! {
        #[test]
        fn unwrap_inverts_wire(index in 1u64..(1 << 40), offset in -30000i64..30000) {
            for r in [Rollover::ToZero, Rollover::ToOne] {
                let near = (index as i64 + offset).max(1) as u64;
                prop_assert_eq!(r.unwrap(r.wire(index), near), Some(index));
            }
        }
    }
}
