//! Kernel arguments for a network boot: the distribution's own arguments
//! from its boot config, less those that point at the boot medium (a CD
//! label, a path on the disc, a GRUB variable), plus the family's arguments
//! that find the rest over HTTP. An added argument replaces the
//! distribution's argument of the same name; added arguments go before a
//! `---` (Debian's and Ubuntu's separator of installer-only arguments).

/// Arguments whose name alone marks them as the medium's (or as one netboot sets).
const MEDIUM_KEYS: [&str; 17] = [
    "initrd",
    "boot_image",
    "findiso",
    "iso-scan/filename",
    "inst.stage2",
    "inst.repo",
    "rd.live.check",
    "archisodevice",
    "img_dev",
    "img_loop",
    "cdrom-detect/try-usb",
    "live-media",
    "ip",
    "url",
    "fetch",
    "archiso_http_srv",
    "cms_verify",
];

/// The name of an argument (`key` of `key=value`), lower-cased.
fn key(arg: &str) -> String {
    arg.split('=').next().unwrap_or(arg).to_ascii_lowercase()
}

/// Whether an argument refers to the boot medium rather than the system.
fn is_medium(arg: &str) -> bool {
    let value = arg.split_once('=').map_or("", |(_, v)| v);
    MEDIUM_KEYS.contains(&key(arg).as_str())
        || arg.contains('$')
        || value.starts_with("/cdrom")
        || value.contains("CDLABEL=")
        || value.starts_with("live:LABEL=")
        || value.starts_with("hd:")
}

/// The distribution's arguments kept for a network boot, with `added` (which
/// may use `{tree_url}`/`{iso_url}`) in place of any of the same name.
pub fn network(distro: &[String], added: &[&str]) -> String {
    let replaced: Vec<String> = added.iter().map(|a| key(a)).collect();
    let kept: Vec<&str> = distro
        .iter()
        .map(String::as_str)
        .filter(|a| !is_medium(a) && !replaced.contains(&key(a)))
        .collect();
    let split = kept.iter().position(|a| *a == "---").unwrap_or(kept.len());
    let mut out: Vec<&str> = kept[..split].to_vec();
    out.extend(added);
    out.extend(&kept[split..]);
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn drops_the_mediums_arguments_and_adds_the_networks() {
        let fedora = words("inst.stage2=hd:LABEL=Fedora-S-dvd-x86_64-41 rd.live.check quiet");
        assert_eq!(
            network(&fedora, &["inst.repo={tree_url}", "ip=dhcp"]),
            "quiet inst.repo={tree_url} ip=dhcp"
        );
        let live = words("root=live:CDLABEL=Fedora-WS-Live-41 rd.live.image quiet rhgb");
        assert_eq!(
            network(
                &live,
                &[
                    "root=live:{tree_url}LiveOS/squashfs.img",
                    "rd.live.image",
                    "ip=dhcp"
                ]
            ),
            "quiet rhgb root=live:{tree_url}LiveOS/squashfs.img rd.live.image ip=dhcp"
        );
        let debian = words("boot=live components quiet splash findiso=${iso_path}");
        assert_eq!(
            network(
                &debian,
                &[
                    "boot=live",
                    "components",
                    "fetch={tree_url}live/filesystem.squashfs"
                ]
            ),
            "quiet splash boot=live components fetch={tree_url}live/filesystem.squashfs"
        );
    }

    #[test]
    fn added_arguments_go_before_the_installer_separator() {
        let ubuntu = words("file=/cdrom/preseed/ubuntu.seed maybe-ubiquity quiet splash ---");
        assert_eq!(
            network(&ubuntu, &["ip=dhcp", "url={iso_url}"]),
            "maybe-ubiquity quiet splash ip=dhcp url={iso_url} ---"
        );
        assert_eq!(
            network(&words("vga=788 --- quiet"), &[]),
            "vga=788 --- quiet"
        );
    }
}
