//! `netboot images`: the catalogue as text, an entry per block (kind,
//! architectures, size, Secure Boot verdict, and for each kind of client the
//! files and arguments it gets), the signed shim UEFI x64 PXE machines get
//! when nothing configured names their boot file, then what was skipped and
//! why.

use std::fmt::Write as _;

use super::model::{Arch, Boot, Kind, SecureBoot};
use super::{Catalogue, Entry};

/// The report.
pub fn render(catalogue: &Catalogue) -> String {
    let mut out = String::new();
    if catalogue.entries.is_empty() {
        let _ = writeln!(
            out,
            "no bootable image under {}: drop an ISO, or a directory with a kernel and an initrd, into it",
            catalogue.root.display()
        );
    }
    for entry in &catalogue.entries {
        entry_block(&mut out, entry);
    }
    if let Some(shim) = super::signed_boot::signed_shim(catalogue) {
        let _ = writeln!(
            out,
            "UEFI x64 PXE machines with no boot file configured get {}: the signed shim of {} \
             (boots with Secure Boot on or off)",
            shim.boot_file, shim.entry
        );
    }
    if !catalogue.skipped.is_empty() {
        out.push_str("skipped:\n");
        for s in &catalogue.skipped {
            let _ = writeln!(out, "  {}: {}", s.id, s.reason);
        }
    }
    out
}

fn entry_block(out: &mut String, entry: &Entry) {
    let r = &entry.recognised;
    let _ = writeln!(out, "{}", entry.id);
    let _ = writeln!(out, "  title:       {}", r.title);
    let _ = writeln!(out, "  kind:        {}", kind(&r.kind));
    let _ = writeln!(out, "  size:        {}", size(entry.size));
    for boot in &r.boots {
        let _ = writeln!(out, "  {}:", clients(boot.arch));
        boot_lines(out, &r.kind, boot);
    }
    for note in &r.notes {
        let _ = writeln!(out, "  note:        {note}");
    }
}

fn boot_lines(out: &mut String, kind: &Kind, boot: &Boot) {
    match kind {
        Kind::Sanboot => out.push_str("    sanboot the whole image over HTTP\n"),
        Kind::WindowsPe => {
            let _ = writeln!(out, "    kernel:      wimboot (from the root)");
        }
        Kind::Linux { .. } => {
            let _ = writeln!(out, "    kernel:      {}", boot.kernel);
        }
    }
    if !boot.initrds.is_empty() {
        let _ = writeln!(out, "    initrd:      {}", boot.initrds.join(", "));
    }
    if !boot.args.is_empty() {
        let _ = writeln!(out, "    arguments:   {}", boot.args);
    }
    let sb = match &boot.secure_boot {
        SecureBoot::Signed { shim, grub, signer } => format!(
            "yes: {shim} -> {grub}{}",
            signer
                .as_ref()
                .map(|s| format!(" (shim signed by {s})"))
                .unwrap_or_default()
        ),
        SecureBoot::Unsigned { reason } => format!("no: {reason}"),
    };
    let _ = writeln!(out, "    secure boot: {sb}");
}

fn kind(kind: &Kind) -> String {
    match kind {
        Kind::Linux { distro } => format!("linux ({distro})"),
        Kind::WindowsPe => "windows pe (wimboot)".into(),
        Kind::Sanboot => "whole image (iPXE sanboot): layout not recognised".into(),
    }
}

/// Which clients get a boot of this architecture.
fn clients(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "x86_64 (iPXE on BIOS and UEFI x64)",
        Arch::I386 => "i386 (iPXE on BIOS and UEFI IA32)",
        Arch::Arm64 => "arm64 (iPXE on UEFI AArch64)",
    }
}

fn size(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::model::Recognised;
    use crate::catalogue::{Skipped, Source};

    #[test]
    fn an_entry_and_a_skipped_iso() {
        let catalogue = Catalogue {
            root: "boot-images".into(),
            entries: vec![Entry {
                id: "tools/rescue".into(),
                source: Source::Directory,
                size: 3 << 20,
                recognised: Recognised {
                    kind: Kind::Linux {
                        distro: "directory".into(),
                    },
                    title: "Rescue".into(),
                    boots: vec![Boot {
                        arch: Arch::X86_64,
                        kernel: "vmlinuz".into(),
                        initrds: vec!["initrd.img".into()],
                        args: "console=ttyS0".into(),
                        secure_boot: SecureBoot::Unsigned {
                            reason: "no shim".into(),
                        },
                    }],
                    notes: vec![],
                },
                stamp: None,
            }],
            skipped: vec![Skipped {
                id: "broken.iso".into(),
                reason: "not an ISO 9660 image".into(),
                stamp: None,
            }],
        };
        let text = render(&catalogue);
        assert!(
            text.starts_with("tools/rescue\n  title:       Rescue\n"),
            "{text}"
        );
        assert!(text.contains("  size:        3.0 MiB\n"), "{text}");
        assert!(
            text.contains("    kernel:      vmlinuz\n    initrd:      initrd.img\n"),
            "{text}"
        );
        assert!(text.contains("    secure boot: no: no shim\n"), "{text}");
        assert!(
            !text.contains("UEFI x64 PXE machines"),
            "nothing signed: {text}"
        );
        assert!(
            text.ends_with("skipped:\n  broken.iso: not an ISO 9660 image\n"),
            "{text}"
        );
    }
}
