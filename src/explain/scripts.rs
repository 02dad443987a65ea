//! The texts the chain reads, pure: what kind of loader a boot file is
//! (by its name), what an iPXE script line fetches, the iPXE settings a
//! name may carry, the configuration names PXELINUX and GRUB try, and the
//! kernels and initrds a PXELINUX or GRUB configuration names.

use std::net::Ipv4Addr;

use crate::dhcp::pxe::Family;
use crate::mac::MacAddr;

/// What a boot file is, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Loader {
    /// iPXE (`undionly.kpxe`, `snponly.efi`, `ipxe.efi`, ...): asks DHCP again.
    Ipxe,
    /// PXELINUX (`pxelinux.0`, `lpxelinux.0`, `syslinux.efi`).
    Pxelinux,
    /// GRUB (`grubx64.efi`, `core.efi`, ...).
    Grub,
    /// shim (`shimx64.efi`, `shimaa64.efi`, ...): loads GRUB from its own
    /// directory (`grubx64.efi`, `grubaa64.efi`).
    Shim,
    /// Something else: what it loads next is up to it.
    Other,
}

/// The loader a boot file is, by its name.
pub(super) fn loader(name: &str) -> Loader {
    let base = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    if base.contains("ipxe")
        || base.starts_with("undionly")
        || base.starts_with("snponly")
        || base.ends_with(".kpxe")
    {
        Loader::Ipxe
    } else if base.ends_with("pxelinux.0") || base == "syslinux.efi" {
        Loader::Pxelinux
    } else if base.starts_with("grub") || base.starts_with("core.efi") {
        Loader::Grub
    } else if base.starts_with("shim") && base.ends_with(".efi") {
        Loader::Shim
    } else {
        Loader::Other
    }
}

/// The GRUB a shim loads: `grub<arch>.efi` beside it (`efi/shimx64.efi`
/// → `efi/grubx64.efi`), as Debian's, Ubuntu's and Fedora's shims do.
pub(super) fn shim_next(shim: &str) -> String {
    let (dir, base) = match shim.rfind('/') {
        Some(i) => shim.split_at(i + 1),
        None => ("", shim),
    };
    let arch = base.get(4..).unwrap_or(".efi");
    format!("{dir}grub{}", arch.to_ascii_lowercase())
}

/// The stage of a script another chains.
pub(super) const CHAINS: &str = "the script chains";

/// What an iPXE script line fetches: (the stage, the file or URL).
pub(super) fn fetches(line: &str) -> Option<(&'static str, &str)> {
    let mut words = line.split_whitespace();
    let cmd = words.next()?;
    let mut arg = None;
    while let Some(w) = words.next() {
        match w {
            // options with a value: the name an image gets, a timeout
            "--name" | "-n" | "--timeout" | "-t" => {
                words.next();
            }
            _ if w.starts_with('-') => {}
            _ => {
                arg = Some(w);
                break;
            }
        }
    }
    let arg = arg?;
    let what = match cmd {
        "kernel" | "linux" | "imgexec" => "the script's kernel",
        "initrd" | "imgfetch" | "module" => "the script's initrd",
        "sanboot" => "the script's disk image",
        "chain" => CHAINS,
        _ => return None,
    };
    Some((what, arg))
}

/// `${platform}` and `${buildarch}` as this client's iPXE sets them.
pub(super) fn ipxe_vars(text: &str, family: Family) -> String {
    let (platform, arch) = family
        .firmware()
        .map_or(("efi", "x86_64"), crate::arch::Family::ipxe_vars);
    text.replace("${platform}", platform)
        .replace("${buildarch}", arch)
}

/// The names a configuration is looked for under, in order: PXELINUX's
/// `pxelinux.cfg/01-<mac>`, the address in hex shortened a digit at a time,
/// `default`; GRUB's `grub.cfg-01-<mac>`, the hex address likewise and
/// `grub.cfg`, first in its prefix (`grub/` in `loaded_from`, the directory
/// GRUB came from: `debian-installer/amd64/` for the installer's), then at
/// the top.
pub(super) fn config_names(
    mac: MacAddr,
    ip: Ipv4Addr,
    kind: Loader,
    loaded_from: &str,
) -> Vec<String> {
    match kind {
        Loader::Pxelinux => {
            let mut names = per_client("pxelinux.cfg/", mac, ip);
            names.push("pxelinux.cfg/default".to_string());
            names
        }
        _ => {
            // GRUB built for the network looks in its prefix, `grub/` beside
            // it; others at the top
            let prefix = format!("{loaded_from}grub/");
            let mut names = per_client(&format!("{prefix}grub.cfg-"), mac, ip);
            names.push(format!("{prefix}grub.cfg"));
            names.extend(per_client("grub.cfg-", mac, ip));
            names.push("grub.cfg".to_string());
            names
        }
    }
}

/// `<dir>01-<mac>`, then `<dir>` and the address in hex, one digit fewer
/// each time (PXELINUX's and GRUB's per-client names).
fn per_client(dir: &str, mac: MacAddr, ip: Ipv4Addr) -> Vec<String> {
    let hex: String = ip.octets().iter().map(|b| format!("{b:02X}")).collect();
    let mut names = vec![format!("{dir}{}", mac.pxelinux())];
    if !ip.is_unspecified() {
        names.extend((1..=8).rev().map(|n| format!("{dir}{}", &hex[..n])));
    }
    names
}

/// Kernels and initrds a PXELINUX or GRUB configuration names.
pub(super) fn config_files(text: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let Some(cmd) = words.next() else { continue };
        match cmd.to_ascii_lowercase().as_str() {
            "kernel" | "linux" | "linuxefi" => {
                out.extend(
                    words
                        .next()
                        .map(|w| ("the configuration's kernel", device_less(w))),
                );
            }
            "initrd" | "initrdefi" => {
                out.extend(words.map(|w| ("the configuration's initrd", device_less(w))));
            }
            "append" => {
                for w in words.filter_map(|w| w.strip_prefix("initrd=")) {
                    out.extend(
                        w.split(',')
                            .map(|i| ("the configuration's initrd", device_less(i))),
                    );
                }
            }
            _ => {}
        }
    }
    out
}

/// A GRUB path without its device (`(http,10.0.0.1)/x` → `x`).
fn device_less(path: &str) -> String {
    let path = match path.strip_prefix('(') {
        Some(rest) => rest.split_once(')').map_or(rest, |(_, p)| p),
        None => path,
    };
    path.trim_start_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loaders_by_name() {
        for (name, want) in [
            ("undionly.kpxe", Loader::Ipxe),
            ("efi/snponly.efi", Loader::Ipxe),
            ("ipxe-arm64.efi", Loader::Ipxe),
            ("lpxelinux.0", Loader::Pxelinux),
            ("grub/grubx64.efi", Loader::Grub),
            ("shimx64.efi", Loader::Shim),
            ("EFI/BOOT/shimaa64.efi", Loader::Shim),
            ("bootx64.efi", Loader::Other),
        ] {
            assert_eq!(loader(name), want, "{name}");
        }
    }

    #[test]
    fn script_lines_and_configuration_lines() {
        assert_eq!(
            fetches("kernel --name k http://h/vmlinuz quiet"),
            Some(("the script's kernel", "http://h/vmlinuz"))
        );
        assert_eq!(
            fetches("  initrd initrd.img"),
            Some(("the script's initrd", "initrd.img"))
        );
        assert_eq!(
            fetches("chain next.ipxe || goto x"),
            Some((CHAINS, "next.ipxe"))
        );
        assert_eq!(fetches("echo kernel"), None);
        let cfg = "LABEL a\n KERNEL d/linux\n APPEND initrd=d/a.gz,d/b.gz quiet\n\tlinuxefi (tftp)/v/k\n initrd (http,1.2.3.4:80)/v/i1 /v/i2\n";
        let got: Vec<String> = config_files(cfg).into_iter().map(|(_, p)| p).collect();
        assert_eq!(got, ["d/linux", "d/a.gz", "d/b.gz", "v/k", "v/i1", "v/i2"]);
        assert_eq!(
            ipxe_vars("menu-${platform}-${buildarch}.ipxe", Family::UefiArm64),
            "menu-efi-arm64.ipxe"
        );
    }
}
