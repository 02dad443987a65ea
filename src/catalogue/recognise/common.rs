//! Helpers the layouts share: small text files, architecture names, the
//! kernel's own architecture, `.disk/info` titles, and building a `Boot`
//! with its Secure Boot verdict.

use super::{pe, secure};
use crate::catalogue::model::{Arch, Boot};
use crate::catalogue::tree::Tree;

/// The most of a config or info file read.
const TEXT_LIMIT: u64 = 256 * 1024;

/// A small text file of the tree (found whatever its case), lossily decoded.
pub fn text(tree: &dyn Tree, path: &str) -> Option<String> {
    let name = tree.find(path)?;
    let bytes = tree.read(name, TEXT_LIMIT).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The path of a file as the tree spells it (case-insensitive), owned.
pub fn find(tree: &dyn Tree, path: &str) -> Option<String> {
    tree.find(path).map(str::to_string)
}

/// The architecture a word names (a directory name, part of a file name).
pub fn arch_word(word: &str) -> Option<Arch> {
    match word.to_ascii_lowercase().as_str() {
        "amd64" | "x86_64" | "x64" | "amd" | "x86-64" => Some(Arch::X86_64),
        "arm64" | "aarch64" | "a64" | "aa64" => Some(Arch::Arm64),
        "i386" | "i686" | "386" | "686" | "686-pae" | "ia32" | "x86" => Some(Arch::I386),
        _ => None,
    }
}

/// The first architecture named by a word of `text` (split on anything but
/// letters, digits, `_` and `-`).
pub fn arch_in(text: &str) -> Option<Arch> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .find_map(|w| arch_word(w).or_else(|| w.rsplit('-').find_map(arch_word)))
}

/// The architectures whose removable-media UEFI loader (`EFI/BOOT/BOOT*.EFI`) the tree has.
pub fn efi_arches(tree: &dyn Tree) -> Vec<Arch> {
    [
        ("EFI/BOOT/BOOTX64.EFI", Arch::X86_64),
        ("EFI/BOOT/BOOTAA64.EFI", Arch::Arm64),
        ("EFI/BOOT/BOOTIA32.EFI", Arch::I386),
    ]
    .into_iter()
    .filter(|(path, _)| tree.find(path).is_some())
    .map(|(_, arch)| arch)
    .collect()
}

/// The architecture a kernel image says it is for: its PE machine (EFI
/// stub), an x86 bzImage's 64-bit flag, or an arm64 Image's magic.
pub fn kernel_arch(tree: &dyn Tree, path: &str) -> Option<Arch> {
    let head = tree.read_at(path, 0, 0x240).ok()?;
    if head.get(0x38..0x3c) == Some(b"ARM\x64") {
        return Some(Arch::Arm64);
    }
    let len = tree.size(path)?;
    if let Ok((headers, _)) = pe::read_signature(len, |o, n| tree.read_at(path, o, n)) {
        match headers.machine {
            pe::MACHINE_AMD64 => return Some(Arch::X86_64),
            pe::MACHINE_ARM64 => return Some(Arch::Arm64),
            pe::MACHINE_I386 => return Some(Arch::I386),
            _ => {}
        }
    }
    if head.get(0x202..0x206) == Some(b"HdrS") {
        let xloadflags = head.get(0x236).copied().unwrap_or(0);
        return Some(if xloadflags & 1 == 1 {
            Arch::X86_64
        } else {
            Arch::I386
        });
    }
    None
}

/// The name in `.disk/info` (Debian, Ubuntu), before its " - " details:
/// `Debian GNU/Linux 12.8.0 "Bookworm"`.
pub fn disk_info(tree: &dyn Tree) -> Option<String> {
    let info = text(tree, ".disk/info")?;
    let line = info.lines().next()?.trim();
    let name = line.split(" - ").next()?.trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// The architecture `.disk/info` names (`... Official amd64 NETINST ...`).
pub fn disk_info_arch(tree: &dyn Tree) -> Option<Arch> {
    arch_in(text(tree, ".disk/info")?.lines().next()?)
}

/// The last component of a path.
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The files directly in directory `dir` (case-insensitive) whose name starts with `prefix`.
pub fn files_in<'t>(tree: &'t dyn Tree, dir: &str, prefix: &str) -> Vec<&'t str> {
    let dir = format!("{}/", dir.trim_end_matches('/'));
    tree.files()
        .keys()
        .filter(|p| {
            p.get(..dir.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(&dir))
        })
        .filter(|p| {
            p.get(dir.len()..)
                .is_some_and(|name| !name.is_empty() && !name.contains('/'))
        })
        .filter(|p| file_name(p).to_ascii_lowercase().starts_with(prefix))
        .map(String::as_str)
        .collect()
}

/// A file's size in MiB, for notes.
pub fn mib(tree: &dyn Tree, path: &str) -> u64 {
    tree.size(path).unwrap_or(0).div_ceil(1 << 20)
}

/// A `Boot` with its Secure Boot verdict judged from the tree.
pub fn boot(tree: &dyn Tree, arch: Arch, kernel: &str, initrds: Vec<String>, args: String) -> Boot {
    Boot {
        arch,
        kernel: kernel.to_string(),
        initrds,
        args,
        secure_boot: secure::verdict(tree, arch, kernel),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::recognise::fixtures::{pe_image, unsigned};
    use crate::catalogue::tree::MemTree;

    #[test]
    fn names_architectures_in_words_and_file_names() {
        assert_eq!(arch_in("vmlinuz-6.1.0-26-amd64"), Some(Arch::X86_64));
        assert_eq!(arch_in("Official arm64 NETINST"), Some(Arch::Arm64));
        assert_eq!(arch_in("vmlinuz-6.1.0-26-686-pae"), Some(Arch::I386));
        assert_eq!(arch_in("alpine-virt-3.20.3-x86_64"), Some(Arch::X86_64));
        assert_eq!(arch_in("vmlinuz"), None);
    }

    #[test]
    fn tells_a_kernels_architecture_from_its_headers() {
        let mut bz = vec![0u8; 0x300];
        bz[0x202..0x206].copy_from_slice(b"HdrS");
        bz[0x236] = 1;
        let mut image = vec![0u8; 0x300];
        image[0x38..0x3c].copy_from_slice(b"ARM\x64");
        let tree = MemTree::new()
            .with("bz", bz)
            .with("image", image)
            .with("efi", unsigned())
            .with("efi32", pe_image(pe::MACHINE_I386, None))
            .with("gz", b"\x1f\x8b".to_vec());
        assert_eq!(kernel_arch(&tree, "bz"), Some(Arch::X86_64));
        assert_eq!(kernel_arch(&tree, "image"), Some(Arch::Arm64));
        assert_eq!(kernel_arch(&tree, "efi"), Some(Arch::X86_64));
        assert_eq!(kernel_arch(&tree, "efi32"), Some(Arch::I386));
        assert_eq!(kernel_arch(&tree, "gz"), None);
    }
}
