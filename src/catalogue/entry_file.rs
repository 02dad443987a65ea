//! `entry.yaml`: what a user may say about a directory entry beside its
//! kernel and initrd (title, command line, architecture, files, a Secure Boot
//! note), validated like the profiles (unknown keys refused, errors at
//! file:line), and laid over what recognition found.

use std::path::Path;

use serde::Deserialize;

use super::model::{Arch, Recognised, SecureBoot};
use crate::registry::diag::Diagnostic;
use crate::registry::parse::serde_diag;

/// The file's name in an entry's directory.
pub const NAME: &str = "entry.yaml";

/// Largest `entry.yaml` read.
pub const MAX_BYTES: u64 = 64 << 10;

/// `entry.yaml` as written.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EntryFile {
    /// Menu title.
    pub title: Option<String>,
    /// Kernel command line (replaces the recognised one).
    pub args: Option<String>,
    /// `x86_64`, `i386` or `arm64`.
    pub arch: Option<ArchName>,
    /// The kernel, relative to the directory.
    pub kernel: Option<String>,
    /// The initrds, in load order, relative to the directory.
    pub initrd: Option<Vec<String>>,
    /// A note on Secure Boot shown in the menu and `netboot images`
    /// (e.g. "signed by our own key, enrolled in the lab's machines").
    pub secure_boot: Option<String>,
}

/// An architecture as `entry.yaml` spells it.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ArchName {
    /// 32-bit x86.
    #[serde(alias = "i686", alias = "ia32")]
    I386,
    /// x86-64.
    #[serde(alias = "amd64", alias = "x64")]
    X86_64,
    /// 64-bit ARM.
    #[serde(alias = "aarch64")]
    Arm64,
}

impl From<ArchName> for Arch {
    fn from(a: ArchName) -> Self {
        match a {
            ArchName::I386 => Arch::I386,
            ArchName::X86_64 => Arch::X86_64,
            ArchName::Arm64 => Arch::Arm64,
        }
    }
}

/// Parses `text`, read from `path` (for the diagnostic).
pub fn parse(path: &Path, text: &str) -> Result<EntryFile, Diagnostic> {
    if text.trim().is_empty() {
        return Ok(EntryFile::default());
    }
    serde_norway::from_str(text).map_err(|e| serde_diag(path, &e))
}

impl EntryFile {
    /// Lays these settings over what recognition found.
    pub fn apply(&self, found: &mut Recognised) {
        if let Some(title) = &self.title {
            found.title.clone_from(title);
        }
        for boot in &mut found.boots {
            if let Some(args) = &self.args {
                boot.args.clone_from(args);
            }
            if let Some(arch) = self.arch {
                boot.arch = arch.into();
            }
            if let Some(kernel) = &self.kernel {
                boot.kernel.clone_from(kernel);
            }
            if let Some(initrds) = &self.initrd {
                boot.initrds.clone_from(initrds);
            }
            if let Some(note) = &self.secure_boot {
                if let SecureBoot::Unsigned { reason } = &mut boot.secure_boot {
                    *reason = format!("{reason} ({NAME}: {note})");
                }
            }
        }
        if let Some(note) = &self.secure_boot {
            found.notes.push(format!("Secure Boot: {note}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::model::{Boot, Kind};

    fn found() -> Recognised {
        Recognised {
            kind: Kind::Linux {
                distro: "directory".into(),
            },
            title: "tools".into(),
            boots: vec![Boot {
                arch: Arch::X86_64,
                kernel: "vmlinuz".into(),
                initrds: vec!["initrd.img".into()],
                args: String::new(),
                secure_boot: SecureBoot::Unsigned {
                    reason: "no shim".into(),
                },
            }],
            notes: vec![],
        }
    }

    #[test]
    fn settings_replace_what_was_recognised() {
        let file = parse(
            Path::new("e.yaml"),
            "title: Rescue\nargs: console=ttyS0\narch: amd64\ninitrd: [a.img, b.img]\n",
        )
        .unwrap();
        let mut f = found();
        file.apply(&mut f);
        assert_eq!(f.title, "Rescue");
        assert_eq!(f.boots[0].args, "console=ttyS0");
        assert_eq!(f.boots[0].initrds, ["a.img", "b.img"]);
    }

    #[test]
    fn an_unknown_key_is_refused_at_its_line() {
        let err = parse(Path::new("tools/entry.yaml"), "title: x\nkernal: vmlinuz\n").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("tools/entry.yaml:2:"), "{text}");
        assert!(text.contains("kernal"), "{text}");
    }
}
