//! What a client gets: the shared vocabulary between the profile registry
//! (which decides it from YAML) and the DHCP and TFTP servers (which deliver it).
//!
//! Nothing here does I/O; these are plain data types and one lookup trait.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::mac::MacAddr;

mod de;
pub use de::deserialize_defaults;

/// What a DHCP client tells us about itself, as far as profile matching cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientId {
    /// Hardware address (`chaddr`).
    pub mac: MacAddr,
    /// Option 93, client system architecture (IANA registry), when sent.
    pub arch: Option<u16>,
    /// Option 60, vendor class identifier, when sent (`PXEClient:Arch:00007:…`).
    pub vendor_class: Option<String>,
    /// True when the request comes from iPXE (user class `iPXE` or option 175).
    pub is_ipxe: bool,
}

/// Boot files per firmware family. Any may be absent. Also the `boot:`
/// mapping of profiles and of `netboot.yaml` (see [`deserialize_defaults`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootFiles {
    /// Legacy BIOS (arch 0), e.g. `pxelinux.0` or `undionly.kpxe`.
    pub bios: Option<String>,
    /// UEFI IA32 (arch 6).
    pub uefi_ia32: Option<String>,
    /// UEFI x64 (arch 7 and 9).
    pub uefi_x64: Option<String>,
    /// UEFI ARM64 (arch 11).
    pub uefi_arm64: Option<String>,
    /// UEFI ARM32 (arch 10).
    pub uefi_arm32: Option<String>,
    /// UEFI RISC-V 32-bit (arch 25).
    pub uefi_riscv32: Option<String>,
    /// UEFI RISC-V 64-bit (arch 27).
    pub uefi_riscv64: Option<String>,
    /// UEFI LoongArch64 (arch 39).
    pub uefi_loongarch64: Option<String>,
    /// U-Boot ARM32 (arch 21, or vendor class `U-Boot…` with an ARM32 code).
    pub uboot_arm32: Option<String>,
    /// U-Boot ARM64 (arch 22, or vendor class `U-Boot…` with an ARM64 code).
    pub uboot_arm64: Option<String>,
    /// Raspberry Pi network boot (arch 41).
    pub rpi: Option<String>,
    /// HTTP boot, any architecture: a URL.
    pub http: Option<String>,
    /// HTTP boot per architecture (`http_<arch>` keys, see
    /// [`crate::arch::Family::http_key`]): URLs, before `http`.
    pub http_by_arch: HttpFiles,
    /// What to give a client that is already iPXE (a script name or URL),
    /// so that iPXE is not handed iPXE again.
    pub ipxe: Option<String>,
    /// The file (option 67) for a client that is not network-boot firmware
    /// (no option 60 `PXEClient`/`HTTPClient`, no option 93, not iPXE or
    /// U-Boot): a router's autoinstall `network-confg`, say. Only a profile
    /// gives one; such clients get no boot file by default.
    pub other: Option<String>,
}

/// The HTTP boot URL of each architecture's HTTP code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpFiles {
    pub http_bios: Option<String>,
    pub http_ia32: Option<String>,
    pub http_x64: Option<String>,
    pub http_arm32: Option<String>,
    pub http_arm64: Option<String>,
    pub http_riscv32: Option<String>,
    pub http_riscv64: Option<String>,
    pub http_loongarch64: Option<String>,
    pub http_uboot_arm32: Option<String>,
    pub http_uboot_arm64: Option<String>,
}

/// The `boot:` keys, each with its field, in the order of the
/// documentation: the one list of them. A new firmware family is a field in
/// [`BootFiles`] (or [`HttpFiles`]) and a line here; the profile registry
/// and `netboot.yaml` read every key through [`BootFiles`]'s `Deserialize`.
macro_rules! boot_keys {
    ($($key:ident => $($field:ident).+),* $(,)?) => {
        impl BootFiles {
            /// Every `boot:` key, in the order of the documentation.
            pub const KEYS: [&'static str; [$(stringify!($key)),*].len()] =
                [$(stringify!($key)),*];

            /// Every key with its file, in the order of [`Self::KEYS`].
            pub fn entries(&self) -> impl Iterator<Item = (&'static str, &Option<String>)> {
                [$(&self.$($field).+),*]
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (Self::KEYS[i], v))
            }

            fn entries_mut(
                &mut self,
            ) -> impl Iterator<Item = (&'static str, &mut Option<String>)> {
                [$(&mut self.$($field).+),*]
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (Self::KEYS[i], v))
            }
        }
    };
}

boot_keys! {
    bios => bios,
    uefi_ia32 => uefi_ia32,
    uefi_x64 => uefi_x64,
    uefi_arm32 => uefi_arm32,
    uefi_arm64 => uefi_arm64,
    uefi_riscv32 => uefi_riscv32,
    uefi_riscv64 => uefi_riscv64,
    uefi_loongarch64 => uefi_loongarch64,
    uboot_arm32 => uboot_arm32,
    uboot_arm64 => uboot_arm64,
    rpi => rpi,
    http => http,
    http_bios => http_by_arch.http_bios,
    http_ia32 => http_by_arch.http_ia32,
    http_x64 => http_by_arch.http_x64,
    http_arm32 => http_by_arch.http_arm32,
    http_arm64 => http_by_arch.http_arm64,
    http_riscv32 => http_by_arch.http_riscv32,
    http_riscv64 => http_by_arch.http_riscv64,
    http_loongarch64 => http_by_arch.http_loongarch64,
    http_uboot_arm32 => http_by_arch.http_uboot_arm32,
    http_uboot_arm64 => http_by_arch.http_uboot_arm64,
    ipxe => ipxe,
    other => other,
}

impl BootFiles {
    /// The keys `netboot.yaml`'s `boot:` section takes: all but `other`,
    /// which only a profile gives (the last of [`Self::KEYS`]).
    pub const DEFAULT_KEYS: &'static [&'static str] = match Self::KEYS.split_last() {
        Some((_, rest)) => rest,
        None => &[],
    };

    /// The file of a `boot:` key ([`Self::KEYS`]).
    pub fn get(&self, key: &str) -> Option<&String> {
        self.entries().find(|(k, _)| *k == key)?.1.as_ref()
    }

    /// The slot of a `boot:` key, `None` for an unknown key.
    pub fn slot(&mut self, key: &str) -> Option<&mut Option<String>> {
        self.entries_mut().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Fills every key this one leaves out from `defaults`.
    pub fn fill_from(&mut self, defaults: &BootFiles) {
        for ((_, slot), (_, default)) in self.entries_mut().zip(defaults.entries()) {
            if slot.is_none() {
                slot.clone_from(default);
            }
        }
    }
}

/// Everything the registry decided for one client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientProfile {
    /// Name of the profile that matched (for logs: "why did this machine boot that?").
    pub name: String,
    /// True when the profile matched this MAC specifically (exact MAC or a
    /// prefix), false for architecture/vendor/default matches. Known-clients-only
    /// mode answers only known clients.
    pub known: bool,
    /// Address reserved for this client.
    pub fixed_address: Option<Ipv4Addr>,
    /// Host name handed out (option 12).
    pub hostname: Option<String>,
    /// Boot files per architecture.
    pub boot: BootFiles,
    /// TFTP server to point at instead of ourselves (siaddr, option 66).
    pub next_server: Option<Ipv4Addr>,
    /// Option 150 (Cisco TFTP server list); empty means "our own address" for
    /// profiles that ask for it via `tftp_servers: [self]`, none otherwise.
    pub tftp_servers: Vec<Ipv4Addr>,
    /// Extra raw DHCP options (code, payload), appended to replies as given.
    pub extra_options: Vec<(u8, Vec<u8>)>,
    /// IPv6 address reserved for this client (DHCPv6 IA_NA).
    pub fixed_address6: Option<Ipv6Addr>,
    /// DHCPv6 boot file parameters (option 60, RFC 5970), in order.
    pub boot_params6: Vec<String>,
}

/// Where the DHCP side looks clients up. Implemented by the profile registry;
/// tests implement it with a fixed map.
pub trait ProfileLookup: Send + Sync {
    /// The profile for this client, or `None` when no profile (not even a
    /// default) matches.
    fn lookup(&self, client: &ClientId) -> Option<ClientProfile>;

    /// Every fixed address the profiles reserve, so the pool never hands a
    /// reserved address to another client.
    fn reservations(&self) -> Vec<(MacAddr, Ipv4Addr)>;

    /// Why `client` gets the profile [`Self::lookup`] gives it and not
    /// another, in the words of `netboot explain` (several lines), when
    /// this lookup can say; for the server's debug log.
    fn explain(&self, _client: &ClientId) -> Option<String> {
        None
    }

    /// Every IPv6 address the profiles reserve (by DUID or MAC), so the
    /// DHCPv6 pool never hands one to another client.
    fn reservations6(&self) -> Vec<crate::dhcp6::Reservation6> {
        Vec::new()
    }

    /// The profile of the DHCPv6 client `client` whose DUID a profile
    /// names (`hosts: - duid:`), before any match by MAC.
    fn lookup_duid(&self, _duid: &[u8], _client: &ClientId) -> Option<ClientProfile> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_its_own_slot() {
        let mut files = BootFiles::default();
        for key in BootFiles::KEYS {
            *files.slot(key).unwrap() = Some(format!("{key}.file"));
        }
        for key in BootFiles::KEYS {
            assert_eq!(files.get(key), Some(&format!("{key}.file")));
        }
        assert_eq!(files.uboot_arm64.as_deref(), Some("uboot_arm64.file"));
        assert_eq!(
            files.http_by_arch.http_riscv64.as_deref(),
            Some("http_riscv64.file")
        );
        assert!(files.slot("uefi_x65").is_none());
    }

    #[test]
    fn every_family_key_is_a_boot_key() {
        for fam in crate::arch::Family::ALL {
            assert!(BootFiles::KEYS.contains(&fam.key()));
            if let Some(k) = fam.http_key() {
                assert!(BootFiles::KEYS.contains(&k));
            }
        }
    }

    #[test]
    fn fill_keeps_what_is_set() {
        let mut mine = BootFiles {
            uefi_arm64: Some("mine.efi".into()),
            ..Default::default()
        };
        let defaults = BootFiles {
            uefi_arm64: Some("grubaa64.efi".into()),
            uboot_arm64: Some("boot.scr.uimg".into()),
            ..Default::default()
        };
        mine.fill_from(&defaults);
        assert_eq!(mine.uefi_arm64.as_deref(), Some("mine.efi"));
        assert_eq!(mine.uboot_arm64.as_deref(), Some("boot.scr.uimg"));
    }
}
