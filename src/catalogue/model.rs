//! What recognising a candidate yields: the shared vocabulary of the
//! recognisers (which fill it in), the catalogue (which lists it) and the
//! menus (which turn it into iPXE and GRUB entries). Plain data, no I/O.

/// A CPU architecture an entry boots on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Arch {
    /// 32-bit x86 (BIOS or UEFI IA32).
    I386,
    /// x86-64 (BIOS or UEFI x64).
    X86_64,
    /// 64-bit ARM (UEFI AArch64).
    Arm64,
}

/// What kind of thing an entry boots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A Linux kernel and initrd(s); `distro` names the layout recognised
    /// (`debian-installer`, `ubuntu-live`, `fedora`, `arch`, `alpine`, ...,
    /// or `directory` for a plain kernel + initrd folder).
    Linux {
        /// The layout recognised.
        distro: String,
    },
    /// Windows PE booted through `wimboot`.
    WindowsPe,
    /// An image whose layout is not known: booted whole with iPXE `sanboot`.
    Sanboot,
}

/// Whether an entry can boot with Secure Boot on, as judged from its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecureBoot {
    /// A signed shim, GRUB and kernel: the chain a Secure Boot machine accepts.
    /// `signer` names who signed the shim (e.g. `Microsoft Corporation UEFI CA 2011`)
    /// as far as the signature says.
    Signed {
        /// The shim's path in the tree.
        shim: String,
        /// The GRUB the shim loads, in the tree.
        grub: String,
        /// Who signed the shim, from its certificate, when it can be read.
        signer: Option<String>,
    },
    /// It will not boot with Secure Boot on; the reason says which link is missing.
    Unsigned {
        /// E.g. "no shim in EFI/BOOT", "the kernel carries no signature".
        reason: String,
    },
}

/// One way to boot an entry on one architecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boot {
    /// The architecture this kernel runs on.
    pub arch: Arch,
    /// Path of the kernel in the tree (for `Kind::WindowsPe`, `bootmgr`'s tree
    /// is named by `initrds`; for `Kind::Sanboot`, empty).
    pub kernel: String,
    /// Paths of the initrds in the tree, in load order (for Windows PE: the
    /// files wimboot is given: `bootmgr`, `boot/bcd`, `boot/boot.sdi`, `sources/boot.wim`).
    pub initrds: Vec<String>,
    /// The kernel command line. May contain `{iso_url}` (the URL of the ISO
    /// itself), `{tree_url}` (the URL of the directory or ISO whose files
    /// are served, ending in `/`) and `{done_url}` (the URL an installer
    /// requests at its end, which ends a one-shot boot): the menus replace
    /// them per client.
    pub args: String,
    /// Whether this way boots with Secure Boot on.
    pub secure_boot: SecureBoot,
}

/// What a recogniser made of a candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognised {
    /// What it boots.
    pub kind: Kind,
    /// A title for the menu (e.g. `Debian 12.8 amd64 installer`), from the
    /// image's own files where they say it, else from its layout.
    pub title: String,
    /// One way to boot per architecture (a `Sanboot` entry has one, with an
    /// empty kernel, for each architecture its El Torito catalogue names).
    pub boots: Vec<Boot>,
    /// What the recogniser noticed that a user should know (e.g. "the
    /// installer fetches the rest from a mirror"), shown by `netboot images`.
    pub notes: Vec<String>,
}
