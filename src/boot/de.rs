//! Reading a `boot:` mapping into [`BootFiles`]: every key of
//! [`BootFiles::KEYS`] in a profile, all but `other` in `netboot.yaml`.
//! Unknown and repeated keys are refused in serde's own words (``unknown
//! field `bois`, expected one of …``), raised while the key is read so that
//! the error carries the key's line and column, as the file:line
//! diagnostics of the registry and of `netboot.yaml` need.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::BootFiles;

/// Which keys a `boot:` mapping may hold, and the type name its "invalid
/// type" errors give (the names these messages have always said).
#[derive(Clone, Copy)]
struct Section {
    keys: &'static [&'static str],
    name: &'static str,
}

/// A profile's `boot:`: every key.
const PROFILE: Section = Section {
    keys: &BootFiles::KEYS,
    name: "WireBoot",
};

/// `netboot.yaml`'s `boot:`: no `other`.
const DEFAULTS: Section = Section {
    keys: BootFiles::DEFAULT_KEYS,
    name: "BootSection",
};

/// A profile's `boot:` mapping.
impl<'de> Deserialize<'de> for BootFiles {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct(PROFILE.name, PROFILE.keys, PROFILE)
    }
}

/// `netboot.yaml`'s `boot:` mapping, which refuses `other` (only a profile
/// gives one); for `#[serde(deserialize_with)]`.
pub fn deserialize_defaults<'de, D: Deserializer<'de>>(d: D) -> Result<BootFiles, D::Error> {
    d.deserialize_struct(DEFAULTS.name, DEFAULTS.keys, DEFAULTS)
}

impl<'de> Visitor<'de> for Section {
    type Value = BootFiles;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "struct {}", self.name)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BootFiles, A::Error> {
        let mut files = BootFiles::default();
        let mut seen = [false; BootFiles::KEYS.len()];
        while let Some(i) = map.next_key_seed(Key(self.keys))? {
            let key = self.keys[i];
            if std::mem::replace(&mut seen[i], true) {
                return Err(de::Error::duplicate_field(key));
            }
            let value = map.next_value::<Option<String>>()?;
            if let Some(slot) = files.slot(key) {
                *slot = value;
            }
        }
        Ok(files)
    }
}

/// One key of the mapping, read as its index in the keys allowed.
struct Key(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Key {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field identifier")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<usize, E> {
        let known = self.0.iter().position(|k| *k == v);
        known.ok_or_else(|| E::unknown_field(v, self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_takes_every_key() {
        let text: String = BootFiles::KEYS
            .iter()
            .map(|k| format!("{k}: {k}.f\n"))
            .collect();
        let files: BootFiles = serde_norway::from_str(&text).unwrap();
        for key in BootFiles::KEYS {
            assert_eq!(files.get(key), Some(&format!("{key}.f")));
        }
    }

    #[test]
    fn defaults_refuse_other_at_its_line() {
        let de = serde_norway::Deserializer::from_str("bios: a\nother: b\n");
        let err = deserialize_defaults(de).unwrap_err();
        let shown = err.to_string();
        assert!(shown.starts_with("unknown field `other`"), "{shown}");
        assert!(shown.ends_with("`ipxe` at line 2 column 1"), "{shown}");
        assert_eq!(BootFiles::DEFAULT_KEYS.len() + 1, BootFiles::KEYS.len());
    }

    #[test]
    fn a_key_given_twice_is_refused() {
        let err = serde_norway::from_str::<BootFiles>("bios: a\nbios: b\n").unwrap_err();
        assert!(err.to_string().contains("bios"), "{err}");
    }
}
