//! What a client gets: the shared vocabulary between the profile registry
//! (which decides it from YAML) and the DHCP and TFTP servers (which deliver it).
//!
//! Nothing here does I/O; these are plain data types and one lookup trait.

use std::net::Ipv4Addr;

use crate::mac::MacAddr;

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

/// Boot files per firmware family. Any may be absent.
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
    /// UEFI HTTP boot (arch 15, 16, 19): a URL.
    pub http: Option<String>,
    /// What to give a client that is already iPXE (a script name or URL),
    /// so that iPXE is not handed iPXE again.
    pub ipxe: Option<String>,
    /// The file (option 67) for a client that is not network-boot firmware
    /// (no option 60 `PXEClient`/`HTTPClient`, no option 93, not iPXE or
    /// U-Boot): a router's autoinstall `network-confg`, say. Only a profile
    /// gives one; such clients get no boot file by default.
    pub other: Option<String>,
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
}
