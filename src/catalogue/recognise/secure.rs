//! The Secure Boot verdict of one way to boot, from the tree's files: the
//! chain a Secure Boot machine accepts is a shim signed by Microsoft's UEFI
//! CA at the removable-media path (`EFI/BOOT/BOOTX64.EFI`), the GRUB beside
//! it (`grubx64.efi`) signed, and a signed kernel (an EFI-stub kernel is a PE
//! image with a certificate table). Signatures are found, not verified.

use super::pe::{self, PeError, Signature};
use crate::catalogue::model::{Arch, SecureBoot};
use crate::catalogue::tree::Tree;

/// The shim's and GRUB's file names for an architecture.
fn loader_names(arch: Arch) -> (&'static str, &'static str) {
    match arch {
        Arch::X86_64 => ("BOOTX64.EFI", "grubx64.efi"),
        Arch::Arm64 => ("BOOTAA64.EFI", "grubaa64.efi"),
        Arch::I386 => ("BOOTIA32.EFI", "grubia32.efi"),
    }
}

/// The signers of a file, or why it is not signed (a sentence fragment
/// starting with the file's path).
pub fn signers(tree: &dyn Tree, path: &str) -> Result<Vec<String>, String> {
    let len = tree
        .size(path)
        .ok_or_else(|| format!("{path} is missing"))?;
    match pe::read_signature(len, |offset, count| tree.read_at(path, offset, count)) {
        Ok((_, Signature::Signed { signers })) => Ok(signers),
        Ok((_, Signature::Unsigned)) => Err(format!("{path} carries no Authenticode signature")),
        Err(PeError::NotMz | PeError::NoPeHeader(_)) => Err(format!(
            "{path} is not a PE image (no EFI stub), so it carries no signature"
        )),
        Err(e) => Err(format!("{path} is not signed as far as can be read: {e}")),
    }
}

/// Whether booting `kernel` on `arch` through the tree's shim and GRUB can
/// work with Secure Boot on.
pub fn verdict(tree: &dyn Tree, arch: Arch, kernel: &str) -> SecureBoot {
    match chain(tree, arch, kernel) {
        Ok(signed) => signed,
        Err(reason) => SecureBoot::Unsigned { reason },
    }
}

fn chain(tree: &dyn Tree, arch: Arch, kernel: &str) -> Result<SecureBoot, String> {
    let (shim_name, grub_name) = loader_names(arch);
    let shim = tree
        .find(&format!("EFI/BOOT/{shim_name}"))
        .ok_or_else(|| format!("no shim at EFI/BOOT/{shim_name}"))?;
    let shim_signers = signers(tree, shim)?;
    if !shim_signers.is_empty() && !shim_signers.iter().any(|s| s.contains("Microsoft")) {
        return Err(format!(
            "{shim} is signed by {}, not by Microsoft's UEFI CA: only machines with that key enrolled accept it",
            shim_signers.join(", ")
        ));
    }
    let dir = &shim[..shim.len() - shim_name.len()];
    let grub = tree.find(&format!("{dir}{grub_name}")).ok_or_else(|| {
        format!(
            "no {grub_name} beside {shim} (a GRUB inside the image's El Torito EFI \
             image, such as efi.img, is not in the file tree and is not looked at)"
        )
    })?;
    signers(tree, grub)?;
    if kernel.is_empty() {
        return Err("there is no kernel to boot through GRUB".into());
    }
    signers(tree, kernel)?;
    Ok(SecureBoot::Signed {
        shim: shim.to_string(),
        grub: grub.to_string(),
        signer: (!shim_signers.is_empty()).then(|| shim_signers.join(", ")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::recognise::fixtures::{signed, signed_arm64, unsigned, MS_CA};
    use crate::catalogue::tree::MemTree;

    const DEBIAN: &str = "Debian Secure Boot CA";

    fn tree(shim: Vec<u8>, grub: Vec<u8>, kernel: Vec<u8>) -> MemTree {
        MemTree::new()
            .with("EFI/boot/bootx64.efi", shim)
            .with("EFI/boot/grubx64.efi", grub)
            .with("install.amd/vmlinuz", kernel)
    }

    fn reason(v: SecureBoot) -> String {
        match v {
            SecureBoot::Unsigned { reason } => reason,
            signed => panic!("{signed:?}"),
        }
    }

    #[test]
    fn a_signed_chain_is_signed_and_names_the_shims_signer() {
        let t = tree(signed(MS_CA), signed(DEBIAN), signed(DEBIAN));
        assert_eq!(
            verdict(&t, Arch::X86_64, "install.amd/vmlinuz"),
            SecureBoot::Signed {
                shim: "EFI/boot/bootx64.efi".into(),
                grub: "EFI/boot/grubx64.efi".into(),
                signer: Some(MS_CA.into()),
            }
        );
    }

    #[test]
    fn each_missing_link_is_named() {
        let k = "install.amd/vmlinuz";
        let t = tree(unsigned(), signed(DEBIAN), signed(DEBIAN));
        assert_eq!(
            reason(verdict(&t, Arch::X86_64, k)),
            "EFI/boot/bootx64.efi carries no Authenticode signature"
        );
        let t = tree(signed(MS_CA), unsigned(), signed(DEBIAN));
        assert_eq!(
            reason(verdict(&t, Arch::X86_64, k)),
            "EFI/boot/grubx64.efi carries no Authenticode signature"
        );
        let t = tree(signed(MS_CA), signed(DEBIAN), b"\x1f\x8b gzip".to_vec());
        assert!(reason(verdict(&t, Arch::X86_64, k)).contains("is not a PE image (no EFI stub)"));
        let t = tree(signed(DEBIAN), signed(DEBIAN), signed(DEBIAN));
        assert!(reason(verdict(&t, Arch::X86_64, k)).contains("not by Microsoft's UEFI CA"));
        let t = MemTree::new().with("EFI/BOOT/BOOTX64.EFI", signed(MS_CA));
        assert!(reason(verdict(&t, Arch::X86_64, k))
            .starts_with("no grubx64.efi beside EFI/BOOT/BOOTX64.EFI (a GRUB inside"));
        assert_eq!(
            reason(verdict(&t, Arch::Arm64, k)),
            "no shim at EFI/BOOT/BOOTAA64.EFI"
        );
    }

    #[test]
    fn arm64_uses_its_own_loader_names() {
        let t = MemTree::new()
            .with("EFI/BOOT/BOOTAA64.EFI", signed_arm64(MS_CA))
            .with("EFI/BOOT/grubaa64.efi", signed_arm64(DEBIAN))
            .with("install.a64/vmlinuz", signed_arm64(DEBIAN));
        assert!(matches!(
            verdict(&t, Arch::Arm64, "install.a64/vmlinuz"),
            SecureBoot::Signed { .. }
        ));
    }
}
