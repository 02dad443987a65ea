//! The GRUB menu (`grub.cfg`) for machines that boot GRUB from the network:
//! the way a Secure Boot machine boots (shim → GRUB → a signed kernel), so
//! entries that will not pass Secure Boot are left out when GRUB runs
//! locked down (`$lockdown` is `y` under Secure Boot), and each entry is
//! guarded by the CPU GRUB runs on (`$grub_cpu`). Kernels and initrds come
//! from our address over HTTP when this GRUB reaches our HTTP server, else
//! over TFTP (Debian 12's signed netboot GRUB has only TFTP, and under
//! Secure Boot no module can be loaded): the menu `source`s a small file
//! over HTTP ([`HTTP_PROBE`]) that switches the device to HTTP, and a GRUB
//! without HTTP (or without the `(http,IP,PORT)` syntax) fails that one
//! command and stays on TFTP. (`insmod` cannot tell: it returns success
//! even when the module is missing.) Pure: catalogue and choice in, text out.

use std::fmt::Write as _;

use super::menu::{clean, command_line, encode_path, Choice, Context, DEFAULT_TIMEOUT_S};
use super::model::{Arch, Boot, Kind, SecureBoot};
use super::{Catalogue, Entry};

/// Whether `path` names a GRUB configuration file GRUB looks for over the
/// network (`grub.cfg` at the top or in a directory named `grub`).
pub fn is_grub_cfg(path: &str) -> bool {
    let path = path.trim_start_matches('/');
    path == "grub.cfg" || path.ends_with("/grub/grub.cfg") || path == "grub/grub.cfg"
}

/// `$grub_cpu` for an architecture.
fn cpu(arch: Arch) -> &'static str {
    match arch {
        Arch::I386 => "i386",
        Arch::X86_64 => "x86_64",
        Arch::Arm64 => "arm64",
    }
}

/// The GRUB device for our HTTP server, from a base URL `http://IPV4[:PORT]/`.
pub fn http_device(base_url: &str) -> Option<String> {
    let host = base_url.strip_prefix("http://")?.trim_end_matches('/');
    Some(match host.split_once(':') {
        Some((ip, port)) => format!("(http,{ip},{port})"),
        None => format!("(http,{host})"),
    })
}

/// Said on the console when GRUB runs locked down (Secure Boot on).
pub const LOCKDOWN_NOTE: &str = "if [ \"$lockdown\" = \"y\" ]; then\n  \
    echo 'netboot: Secure Boot is on: only signed entries are shown'\nfi\n";

/// Said on the console when GRUB has read the menu netboot wrote.
pub const MENU_NOTE: &str = "netboot: GRUB read the menu netboot wrote";

/// The GRUB device for our TFTP server, from a base URL `http://IPV4[:PORT]/`.
pub fn tftp_device(base_url: &str) -> Option<String> {
    let host = base_url.strip_prefix("http://")?.trim_end_matches('/');
    let ip = host.split_once(':').map_or(host, |(ip, _)| ip);
    Some(format!("(tftp,{ip})"))
}

/// The variable the entries' paths start with: our HTTP server when this
/// GRUB reaches it, else our TFTP server.
const DEVICE: &str = "$netboot_dev";

/// The file GRUB `source`s over HTTP to switch [`DEVICE`] to HTTP.
pub const HTTP_PROBE: &str = "netboot-grub-http.cfg";

/// Sets [`DEVICE`]: TFTP, then HTTP if the probe can be read over HTTP.
fn choose_device(out: &mut String, base_url: &str) {
    let (Some(tftp), Some(http)) = (tftp_device(base_url), http_device(base_url)) else {
        return;
    };
    // exported: a menu entry runs in a new context that sees only
    // exported variables
    let _ = writeln!(
        out,
        "set netboot_dev={tftp}\nexport netboot_dev\nsource {http}/{HTTP_PROBE}"
    );
}

/// The probe's text for a client reaching us at `base_url`: it sets
/// [`DEVICE`] to our HTTP server.
pub fn http_probe(base_url: &str) -> Option<String> {
    http_device(base_url).map(|http| {
        format!("set netboot_dev={http}\nexport netboot_dev\necho 'netboot: GRUB reaches HTTP'\n")
    })
}

/// The `grub.cfg` for this client.
pub fn grub_cfg(catalogue: &Catalogue, ctx: &Context<'_>) -> String {
    let mut out = String::from("# Written by netboot from the image catalogue.\n");
    choose_device(&mut out, ctx.base_url);
    let items = linux_boots(catalogue);
    set_default(&mut out, &items, ctx.choice);
    let _ = writeln!(out, "echo '{MENU_NOTE} ({} entries)'", items.len());
    for (i, entry, boot) in items {
        menuentry(&mut out, i, entry, boot, DEVICE, ctx);
    }
    if let Some(ipxe) = ctx.ipxe_efi {
        ipxe_entry(&mut out, DEVICE, ipxe);
    }
    out.push_str("menuentry 'Boot from the local disk' --id local {\n  exit\n}\n");
    out
}

/// Each Linux entry's ways to boot, with the entry's index (its menu id).
fn linux_boots(catalogue: &Catalogue) -> Vec<(usize, &Entry, &Boot)> {
    catalogue
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e.recognised.kind, Kind::Linux { .. }))
        .flat_map(|(i, e)| e.recognised.boots.iter().map(move |b| (i, e, b)))
        .collect()
}

/// `default` and `timeout` from the choice (the local disk when the entry
/// chosen is not there), the lockdown note, and the local disk instead of
/// a default GRUB would hide under Secure Boot (it would boot the first
/// entry shown instead).
fn set_default(out: &mut String, items: &[(usize, &Entry, &Boot)], choice: &Choice) {
    let (default, timeout_s) = match choice {
        Choice::Menu { default, timeout_s } => (default.as_deref(), *timeout_s),
        Choice::Entry(id) => (Some(id.as_str()), 0),
    };
    let chosen: Vec<&(usize, &Entry, &Boot)> = items
        .iter()
        .filter(|(_, e, _)| Some(e.id.as_str()) == default)
        .collect();
    let (default_id, timeout) = match chosen.first() {
        Some((i, _, _)) => (format!("e{i}"), timeout_s),
        None if timeout_s == 0 => ("local".to_string(), DEFAULT_TIMEOUT_S),
        None => ("local".to_string(), timeout_s),
    };
    let _ = writeln!(out, "set default={default_id}\nset timeout={timeout}");
    out.push_str(LOCKDOWN_NOTE);
    for (_, _, boot) in chosen {
        if !matches!(boot.secure_boot, SecureBoot::Signed { .. }) {
            let _ = writeln!(
                out,
                "if [ \"$grub_cpu\" = \"{}\" ]; then\nif [ \"$lockdown\" = \"y\" ]; then\n  \
                 set default=local\nfi\nfi",
                cpu(boot.arch)
            );
        }
    }
}

/// iPXE's menu (sanboot, Windows PE, unsigned kernels), chained from
/// GRUB when Secure Boot is off: firmware would refuse the unsigned iPXE
/// binary under Secure Boot, so the entry is not there then.
fn ipxe_entry(out: &mut String, device: &str, ipxe: &str) {
    out.push_str("if [ \"$grub_platform\" = \"efi\" ]; then\n");
    out.push_str("if [ \"$grub_cpu\" = \"x86_64\" ]; then\n");
    out.push_str("if [ \"$lockdown\" != \"y\" ]; then\n");
    out.push_str("menuentry 'iPXE menu (Secure Boot off)' --id ipxe {\n");
    let _ = writeln!(out, "  chainloader {device}/{}", encode_path(ipxe));
    out.push_str("}\nfi\nfi\nfi\n");
}

fn menuentry(
    out: &mut String,
    i: usize,
    entry: &Entry,
    boot: &Boot,
    device: &str,
    ctx: &Context<'_>,
) {
    let tree = format!("{device}/{}/", encode_path(&entry.id));
    let args = command_line(entry, boot, ctx);
    let signed = matches!(boot.secure_boot, SecureBoot::Signed { .. });
    let _ = writeln!(out, "if [ \"$grub_cpu\" = \"{}\" ]; then", cpu(boot.arch));
    if !signed {
        out.push_str("if [ \"$lockdown\" != \"y\" ]; then\n");
    }
    let mark = if signed { " [Secure Boot ok]" } else { "" };
    let _ = writeln!(
        out,
        "menuentry '{}{mark}' --id e{i} {{",
        quote(&entry.recognised.title)
    );
    let _ = writeln!(
        out,
        "  echo 'netboot: booting {}'",
        quote(&entry.recognised.title)
    );
    out.push_str("  echo \"netboot: files from $netboot_dev\"\n");
    let _ = writeln!(out, "  linux {tree}{} {}", encode_path(&boot.kernel), args);
    let initrds: Vec<String> = boot
        .initrds
        .iter()
        .map(|i| format!("{tree}{}", encode_path(i)))
        .collect();
    if !initrds.is_empty() {
        let _ = writeln!(out, "  initrd {}", initrds.join(" "));
    }
    out.push_str("}\n");
    if !signed {
        out.push_str("fi\n");
    }
    out.push_str("fi\n");
}

/// Text inside single quotes: a quote closes, is escaped, and reopens.
fn quote(text: &str) -> String {
    clean(text).replace('\'', "'\\''")
}

#[cfg(test)]
#[path = "grub_menu_tests.rs"]
mod tests;
