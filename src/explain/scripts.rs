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
    } else {
        Loader::Other
    }
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

/// `01-<mac>`, the address in hex shortened a digit at a time, `default`
/// (PXELINUX); `grub.cfg-01-<mac>`, the hex address likewise, `grub.cfg`,
/// `grub/grub.cfg` (GRUB, with its prefix at the root).
pub(super) fn config_names(mac: MacAddr, ip: Ipv4Addr, kind: Loader) -> Vec<String> {
    let hex: String = ip.octets().iter().map(|b| format!("{b:02X}")).collect();
    let (dir, last) = match kind {
        Loader::Pxelinux => ("pxelinux.cfg/", vec!["pxelinux.cfg/default".to_string()]),
        _ => (
            "grub.cfg-",
            vec!["grub.cfg".to_string(), "grub/grub.cfg".to_string()],
        ),
    };
    let mut names = vec![format!("{dir}{}", mac.pxelinux())];
    if !ip.is_unspecified() {
        names.extend((1..=8).rev().map(|n| format!("{dir}{}", &hex[..n])));
    }
    names.extend(last);
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
            ("shimx64.efi", Loader::Other),
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
