//! Every family's `boot:` key, and U-Boot's per-client files: a rendered
//! `boot.scr.uimg` (a script image) and `pxelinux.cfg/01-<mac>`.

use crate::boot::ProfileLookup;

use super::{build, client, errors, facts};

const BOARDS: &str = "\
name: boards
match: {mac_prefix: '52:52:52'}
boot:
  uboot_arm64: boot.scr.uimg
  uefi_riscv64: 'tftp://10.0.0.9/riscv/grubriscv64.efi'
  http_loongarch64: 'http://10.0.0.1/loong/grub.efi'
files:
  boot.scr.uimg: {content: \"echo board {{ mac.dash }}\\n\"}
  \"pxelinux.cfg/{{ mac.pxelinux }}\": {content: \"label {{ hostname }}\\n\"}
  plain.scr: {content: \"x\", format: text}
";

#[test]
fn every_family_key_reaches_the_profile() {
    let reg = build(&[("boards.yaml", BOARDS)]).unwrap();
    let p = reg
        .lookup(&client("52:52:52:52:52:52", Some(11), None))
        .unwrap();
    assert_eq!(p.boot.uboot_arm64.as_deref(), Some("boot.scr.uimg"));
    assert_eq!(
        p.boot.uefi_riscv64.as_deref(),
        Some("tftp://10.0.0.9/riscv/grubriscv64.efi")
    );
    assert_eq!(
        p.boot.http_by_arch.http_loongarch64.as_deref(),
        Some("http://10.0.0.1/loong/grub.efi")
    );
}

#[test]
fn a_rendered_boot_scr_uimg_is_a_script_image() {
    let reg = build(&[("boards.yaml", BOARDS)]).unwrap();
    let f = facts("52:52:52:52:52:52");
    let image = reg.virtual_file(&f, "boot.scr.uimg").unwrap().unwrap();
    let script = b"echo board 52-52-52-52-52-52\n";
    assert_eq!(&image[..4], &[0x27, 0x05, 0x19, 0x56], "legacy image magic");
    assert_eq!(image[30], 6, "type script");
    assert_eq!(&image[64..68], &(script.len() as u32).to_be_bytes());
    assert_eq!(&image[72..], script);
    let cfg = reg
        .virtual_file(&f, "pxelinux.cfg/01-52-52-52-52-52-52")
        .unwrap()
        .unwrap();
    assert!(cfg.starts_with(b"label "), "text stays text");
    let plain = reg.virtual_file(&f, "plain.scr").unwrap().unwrap();
    assert_eq!(plain, b"x", "format: text wins over the name");
}

#[test]
fn bad_format_and_http_keys_are_refused_with_their_line() {
    let text = "\
name: b
match: {arch: uboot-arm64}
boot:
  http_arm64: grubaa64.efi
files:
  boot.scr.uimg: {content: x, format: fit}
";
    let e = errors(&[("b.yaml", text)]);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(
        e.iter()
            .any(|m| m.starts_with("profiles/b.yaml:4:15: `http_arm64` must be an http://")),
        "{e:#?}"
    );
    assert!(
        e.iter()
            .any(|m| m.contains("unknown format `fit`: use `text` or `uboot-script`")),
        "{e:#?}"
    );
}
