//! PXE, UEFI HTTP boot and iPXE: who the client is and which boot file it gets.
//!
//! [`client_id`] reads what matters from a request (MAC, option 93 arch,
//! option 60 vendor class, iPXE markers); [`select`] picks the file from the
//! profile's [`BootFiles`] and says why; [`apply`] writes siaddr, `file`,
//! `sname` and options 66, 67, 60, 43, 97, 150 and the profile's extra options
//! into a reply.
//!
//! Option 43: PXE clients get sub-option 6 (discovery control) = 8, "use the
//! boot file in this offer", so UEFI firmware boots from the (proxy) offer
//! directly instead of asking a boot server; port 4011 is answered as well.

use std::fmt;
use std::net::Ipv4Addr;

use dhcproto::v4::{DhcpOption, Message, OptionCode, UnknownOption};

use crate::arch;
use crate::boot::{BootFiles, ClientId, ClientProfile};
use crate::mac::MacAddr;

/// Which boot file a client got, or why it got none (for the decision log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootNote {
    /// A file for this firmware family.
    File(Family),
    /// No profile matched the client: address only.
    NoProfile,
    /// The profile has no file for the client's architecture.
    NoFileFor(Family),
    /// An architecture with no firmware family (deprecated or obscure codes,
    /// codes past the registry).
    UnsupportedArch(u16),
}

/// What a client that is not network-boot firmware and whose profile gives
/// it no `boot.other` is told in the log.
const NOT_FIRMWARE: &str = "not network-boot firmware (no option 60 PXEClient/HTTPClient, \
     no option 93, not iPXE or U-Boot) and no profile gives it `boot.other`: address only";

/// What a reply chooses among: a firmware family of [`crate::arch`] (a
/// PXE client's file), HTTP boot (a URL), iPXE, or not firmware at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Bios,
    UefiIa32,
    UefiX64,
    UefiArm64,
    Http,
    Ipxe,
    /// Not network-boot firmware: a router, a phone, a laptop's OS.
    Other,
    UefiArm32,
    UefiRiscv32,
    UefiRiscv64,
    UefiLoongarch64,
    UbootArm32,
    UbootArm64,
    Rpi,
}

impl From<arch::Family> for Family {
    fn from(f: arch::Family) -> Self {
        use arch::Family as A;
        match f {
            A::Bios => Self::Bios,
            A::UefiIa32 => Self::UefiIa32,
            A::UefiX64 => Self::UefiX64,
            A::UefiArm32 => Self::UefiArm32,
            A::UefiArm64 => Self::UefiArm64,
            A::UefiRiscv32 => Self::UefiRiscv32,
            A::UefiRiscv64 => Self::UefiRiscv64,
            A::UefiLoongarch64 => Self::UefiLoongarch64,
            A::UbootArm32 => Self::UbootArm32,
            A::UbootArm64 => Self::UbootArm64,
            A::Rpi => Self::Rpi,
        }
    }
}

impl Family {
    /// The firmware family of [`crate::arch`], `None` for HTTP, iPXE, other.
    pub fn firmware(self) -> Option<arch::Family> {
        arch::Family::ALL
            .into_iter()
            .find(|f| Family::from(*f) == self)
    }

    /// Its `boot:` key (`http` for every HTTP client).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Ipxe => "ipxe",
            Self::Other => "other",
            fam => fam.firmware().map_or("other", arch::Family::key),
        }
    }

    /// The keys whose file this client gets, most specific first: an HTTP
    /// client's `http_<arch>`, then `http`.
    fn keys(self, client: &ClientId) -> Vec<&'static str> {
        match self {
            Self::Http => {
                let per_arch = http_arch(client).and_then(arch::Family::http_key);
                per_arch.into_iter().chain(["http"]).collect()
            }
            fam => vec![fam.name()],
        }
    }

    fn pick<'f>(self, client: &ClientId, files: &'f BootFiles) -> Option<&'f String> {
        self.keys(client).into_iter().find_map(|k| files.get(k))
    }
}

/// The firmware family of an HTTP client's option 93 code, else of the
/// code in its vendor class (`HTTPClient:Arch:00019:...`).
fn http_arch(client: &ClientId) -> Option<arch::Family> {
    let code = client.arch.or_else(|| vendor_class_arch(client))?;
    arch::lookup(code)?.family
}

/// The code in a vendor class `PXEClient:Arch:NNNNN…` / `HTTPClient:Arch:NNNNN…`.
fn vendor_class_arch(client: &ClientId) -> Option<u16> {
    let rest = client.vendor_class.as_deref()?.split_once(":Arch:")?.1;
    rest.get(..5)?.parse().ok()
}

impl fmt::Display for BootNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(fam) => write!(f, "boot file for {}", fam.name()),
            Self::NoProfile => f.write_str("no profile matched: address only, no boot file"),
            Self::NoFileFor(Family::Other) => f.write_str(NOT_FIRMWARE),
            Self::NoFileFor(fam) => {
                write!(f, "profile has no {} boot file: address only", fam.name())
            }
            Self::UnsupportedArch(a) => match arch::lookup(*a) {
                Some(row) => write!(
                    f,
                    "client arch {a} ({}) has no firmware family: address only",
                    row.iana
                ),
                None => write!(
                    f,
                    "client arch {a} is not in IANA's registry (0 to 41): address only"
                ),
            },
        }
    }
}

/// The profile-matching view of a request.
pub fn client_id(msg: &Message) -> Option<ClientId> {
    let mac = MacAddr::from_slice(msg.chaddr())?;
    let arch = match msg.opts().get(OptionCode::ClientSystemArchitecture) {
        Some(DhcpOption::ClientSystemArchitecture(a)) => Some(u16::from(*a)),
        _ => None,
    };
    let vendor_class = match msg.opts().get(OptionCode::ClassIdentifier) {
        Some(DhcpOption::ClassIdentifier(v)) => Some(String::from_utf8_lossy(v).into_owned()),
        _ => None,
    };
    Some(ClientId {
        mac,
        arch,
        vendor_class,
        is_ipxe: is_ipxe(msg),
    })
}

fn is_ipxe(msg: &Message) -> bool {
    let user_class = match msg.opts().get(OptionCode::UserClass) {
        Some(DhcpOption::UserClass(v)) => v.windows(4).any(|w| w == b"iPXE"),
        _ => false,
    };
    user_class || msg.opts().get(OptionCode::Unknown(175)).is_some()
}

/// True for PXE firmware (vendor class `PXEClient…`).
pub fn is_pxe(client: &ClientId) -> bool {
    client
        .vendor_class
        .as_deref()
        .is_some_and(|v| v.starts_with("PXEClient"))
}

/// True for HTTP boot clients (an HTTP code of [`crate::arch`]: 15 to 20,
/// 23, 24, 26, 28, 30, 38, 40; or vendor class `HTTPClient…`).
pub fn is_http(client: &ClientId) -> bool {
    client.arch.is_some_and(arch::is_http)
        || client
            .vendor_class
            .as_deref()
            .is_some_and(|v| v.starts_with("HTTPClient"))
}

/// True for U-Boot (vendor class `U-Boot…`, as its `dhcp` command sends).
pub fn is_uboot(client: &ClientId) -> bool {
    client
        .vendor_class
        .as_deref()
        .is_some_and(|v| v.starts_with("U-Boot"))
}

/// True for network-boot firmware and boot loaders: PXE or HTTP boot
/// clients, anything sending option 93, iPXE and U-Boot. Everything else (a
/// router's autoinstall, a phone, an operating system's DHCP client) gets a
/// boot file only when its profile gives one in `boot.other`.
pub fn is_boot_firmware(client: &ClientId) -> bool {
    client.is_ipxe || client.arch.is_some() || is_pxe(client) || is_http(client) || is_uboot(client)
}

/// The firmware family of a client: iPXE first (so iPXE never gets iPXE
/// again), then HTTP boot, then option 93 (absent = BIOS, for PXE clients
/// that do not send it); [`Family::Other`] for a client that is not
/// network-boot firmware. `Err(arch)` for an architecture without a family.
/// A U-Boot client (vendor class `U-Boot…`) with an ARM code is U-Boot ARM.
pub fn family(client: &ClientId) -> Result<Family, u16> {
    if client.is_ipxe {
        return Ok(Family::Ipxe);
    }
    if is_http(client) {
        return Ok(Family::Http);
    }
    // U-Boot without option 93 names no architecture: never a BIOS binary
    if !is_boot_firmware(client) || (client.arch.is_none() && is_uboot(client)) {
        return Ok(Family::Other);
    }
    let code = client.arch.unwrap_or(0);
    let fam = arch::lookup(code).and_then(|a| a.family).ok_or(code)?;
    // U-Boot sends 11 on ARM64 when built with UEFI: still a U-Boot client
    Ok(if is_uboot(client) {
        fam.as_uboot()
    } else {
        fam
    }
    .into())
}

/// The boot file for this client, and the note for the log. HTTP boot
/// clients get a URL: the profile's `http`, else (when our HTTP server
/// runs) the file for the architecture they announced, on our server; so
/// does iPXE for a script that is a file of ours.
pub fn select(
    client: &ClientId,
    profile: Option<&ClientProfile>,
    params: &BootParams<'_>,
) -> (Option<String>, BootNote) {
    let Some(profile) = profile else {
        return (None, BootNote::NoProfile);
    };
    match family(client) {
        Ok(fam) => {
            let file = fam
                .pick(client, &profile.boot)
                .or_else(|| http_fallback(fam, client, &profile.boot, params));
            match file {
                Some(file) => (Some(locate(fam, file, params)), BootNote::File(fam)),
                None => (None, BootNote::NoFileFor(fam)),
            }
        }
        Err(arch) => (None, BootNote::UnsupportedArch(arch)),
    }
}

/// An HTTP boot client with no `http_<arch>` or `http` URL, while our HTTP
/// server runs: the file of the family its code belongs to (15 `uefi_ia32`,
/// 16 `uefi_x64`, 18 `uefi_arm32`, 19 `uefi_arm64`, 20 `bios`, 24
/// `uboot_arm64`, 28 `uefi_riscv64`, 40 `uefi_loongarch64`, ...).
fn http_fallback<'f>(
    fam: Family,
    client: &ClientId,
    files: &'f BootFiles,
    params: &BootParams<'_>,
) -> Option<&'f String> {
    if fam != Family::Http || params.http_port.is_none() {
        return None;
    }
    files.get(http_arch(client)?.key())
}

/// `file` as the client must ask for it: a URL stays one; a file of ours
/// becomes `http://<our address>[:port]/file` for HTTP boot and iPXE when
/// our HTTP server runs.
fn locate(fam: Family, file: &str, params: &BootParams<'_>) -> String {
    match params.http_port {
        Some(port) if matches!(fam, Family::Http | Family::Ipxe) && !file.contains("://") => {
            http_url(params.server_ip, port, file)
        }
        _ => file.to_string(),
    }
}

/// `http://ip[:port]/path` (no `:80`).
pub fn http_url(ip: Ipv4Addr, port: u16, path: &str) -> String {
    let path = path.trim_start_matches('/');
    if port == 80 {
        format!("http://{ip}/{path}")
    } else {
        format!("http://{ip}:{port}/{path}")
    }
}

/// What [`apply`] writes, beyond the file itself.
pub struct BootParams<'a> {
    /// TFTP server when the profile does not name one.
    pub tftp_server: Ipv4Addr,
    /// Our address on the receiving interface: what `0.0.0.0` (`self`) in
    /// a profile's option 150 list stands for.
    pub server_ip: Ipv4Addr,
    /// `sname` header field.
    pub server_name: Option<&'a str>,
    /// Our HTTP server's port, when it runs.
    pub http_port: Option<u16>,
}

/// Writes the boot information into `reply`.
pub fn apply(
    reply: &mut Message,
    req: &Message,
    client: &ClientId,
    profile: Option<&ClientProfile>,
    file: Option<&str>,
    params: &BootParams<'_>,
) {
    let next_server = profile
        .and_then(|p| p.next_server)
        .unwrap_or(params.tftp_server);
    reply.set_siaddr(next_server);
    if let Some(name) = params.server_name.filter(|n| n.len() < 64) {
        reply.set_sname_str(name);
    }
    let opts = reply.opts_mut();
    if let Some(file) = file {
        opts.insert(DhcpOption::TFTPServerName(
            next_server.to_string().into_bytes(),
        ));
        opts.insert(DhcpOption::BootfileName(file.as_bytes().to_vec()));
    }
    if is_http(client) {
        opts.insert(DhcpOption::ClassIdentifier(b"HTTPClient".to_vec()));
    } else if is_pxe(client) {
        opts.insert(DhcpOption::ClassIdentifier(b"PXEClient".to_vec()));
        // sub-option 6 (PXE_DISCOVERY_CONTROL) = 8: boot from this offer
        opts.insert(DhcpOption::VendorExtensions(vec![6, 1, 8, 255]));
    }
    if let Some(DhcpOption::ClientMachineIdentifier(uuid)) =
        req.opts().get(OptionCode::ClientMachineIdentifier)
    {
        opts.insert(DhcpOption::ClientMachineIdentifier(uuid.clone()));
    }
    if let Some(profile) = profile {
        apply_profile_options(reply, profile, params.server_ip);
    }
    if let Some(file) = file.filter(|f| f.len() < 128) {
        reply.set_fname_str(file);
    }
}

fn apply_profile_options(reply: &mut Message, profile: &ClientProfile, server_ip: Ipv4Addr) {
    let opts = reply.opts_mut();
    if !profile.tftp_servers.is_empty() {
        let bytes: Vec<u8> = profile
            .tftp_servers
            .iter()
            .map(|ip| if ip.is_unspecified() { server_ip } else { *ip })
            .flat_map(|ip| ip.octets())
            .collect();
        opts.insert(DhcpOption::Unknown(UnknownOption::new(
            OptionCode::TFTPServerAddress,
            bytes,
        )));
    }
    for (code, data) in &profile.extra_options {
        // never let a profile forge the message type, server id, relay info or pad/end
        if matches!(code, 0 | 53 | 54 | 82 | 255) {
            continue;
        }
        opts.insert(DhcpOption::Unknown(UnknownOption::new(
            OptionCode::from(*code),
            data.clone(),
        )));
    }
}

#[cfg(test)]
#[path = "pxe_tests.rs"]
mod tests;
