//! Ethernet MAC addresses: parsing every spelling admins and devices use, and
//! rendering the forms boot clients ask for (PXELINUX `01-aa-bb-…`, Cisco
//! `SEPAABBCCDDEEFF`, plain colon form).

use std::fmt;
use std::str::FromStr;

/// A 48-bit Ethernet hardware address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

/// Why a string is not a MAC address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a MAC address (expected six hex pairs such as aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabb.ccdd.eeff or aabbccddeeff)")]
pub struct MacParseError {
    /// The text that was rejected.
    pub input: String,
}

impl MacAddr {
    /// Builds an address from the first six bytes of a DHCP `chaddr` field.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let six: [u8; 6] = bytes.get(..6)?.try_into().ok()?;
        Some(Self(six))
    }

    /// The raw bytes.
    pub fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// `aa:bb:cc:dd:ee:ff`, lower case.
    pub fn colon(&self) -> String {
        self.join(":", false)
    }

    /// `aa-bb-cc-dd-ee-ff`, lower case.
    pub fn dash(&self) -> String {
        self.join("-", false)
    }

    /// `AABBCCDDEEFF`, upper case, as Cisco phones use in `SEP<MAC>.cnf.xml`.
    pub fn upper_plain(&self) -> String {
        self.join("", true)
    }

    /// `aabbccddeeff`, lower case.
    pub fn lower_plain(&self) -> String {
        self.join("", false)
    }

    /// `01-aa-bb-cc-dd-ee-ff`: the file name PXELINUX and GRUB probe
    /// (`01` is the ARP hardware type for Ethernet).
    pub fn pxelinux(&self) -> String {
        format!("01-{}", self.dash())
    }

    fn join(&self, sep: &str, upper: bool) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|b| {
                if upper {
                    format!("{b:02X}")
                } else {
                    format!("{b:02x}")
                }
            })
            .collect();
        parts.join(sep)
    }
}

impl FromStr for MacAddr {
    type Err = MacParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || MacParseError {
            input: s.to_string(),
        };
        let trimmed = s.trim();
        let hex: String = if trimmed.contains([':', '-']) {
            let parts: Vec<&str> = trimmed.split([':', '-']).collect();
            if parts.len() != 6 || parts.iter().any(|p| p.is_empty() || p.len() > 2) {
                return Err(err());
            }
            parts.iter().map(|p| format!("{p:0>2}")).collect()
        } else if trimmed.contains('.') {
            let parts: Vec<&str> = trimmed.split('.').collect();
            if parts.len() != 3 || parts.iter().any(|p| p.len() != 4) {
                return Err(err());
            }
            parts.concat()
        } else {
            trimmed.to_string()
        };
        if hex.len() != 12 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err());
        }
        let mut out = [0u8; 6];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).map_err(|_| err())?;
        }
        Ok(Self(out))
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.colon())
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacAddr({})", self.colon())
    }
}

/// As text (`52:54:00:12:34:56`), in the status API's JSON.
impl serde::Serialize for MacAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_common_spelling() {
        let want = MacAddr([0x00, 0x1b, 0x54, 0xaa, 0x0f, 0xe1]);
        for s in [
            "00:1b:54:aa:0f:e1",
            "00-1B-54-AA-0F-E1",
            "001b.54aa.0fe1",
            "001B54AA0FE1",
            "0:1b:54:aa:f:e1",
        ] {
            assert_eq!(s.parse::<MacAddr>(), Ok(want), "{s}");
        }
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "",
            "00:1b:54:aa:0f",
            "00:1b:54:aa:0f:e1:22",
            "zz:1b:54:aa:0f:e1",
            "001b54aa0fe",
            "00:1b:54:aa:0f:e1f",
        ] {
            assert!(s.parse::<MacAddr>().is_err(), "{s}");
        }
    }

    #[test]
    fn renders_device_forms() {
        let mac: MacAddr = "00:1b:54:aa:0f:e1".parse().unwrap();
        assert_eq!(mac.upper_plain(), "001B54AA0FE1");
        assert_eq!(mac.pxelinux(), "01-00-1b-54-aa-0f-e1");
        assert_eq!(mac.to_string(), "00:1b:54:aa:0f:e1");
    }
}
