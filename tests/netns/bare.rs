//! Helpers of the bare-port tests (`serve_bare_port*.rs`): a working
//! directory for quick mode, and `netboot serve` run to its end.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use super::{Lab, SERVER_IF};

/// A working directory for quick mode, with `boot-images/` holding a BIOS
/// and a UEFI boot file (so a BIOS answer shows the architecture was read).
pub fn quick_dir(lab: &Lab) -> PathBuf {
    let dir = lab.path("laptop");
    std::fs::create_dir_all(dir.join("boot-images")).expect("mkdir boot-images");
    for (name, body) in [
        (
            "undionly.kpxe",
            "BIOS iPXE stand-in for the bare-port test\n",
        ),
        ("ipxe.efi", "UEFI iPXE stand-in for the bare-port test\n"),
    ] {
        let file = dir.join("boot-images").join(name);
        std::fs::write(&file, body).expect("write boot file");
        std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .expect("chmod boot file");
    }
    dir
}

/// Runs `netboot serve --interface vs0 EXTRA` in the server namespace to its
/// end (bounded by `timeout 60`), under the `wrap` command when given
/// (`setpriv ...`), from `cwd`. Returns its exit status and stderr.
pub fn serve_to_exit(lab: &Lab, wrap: &[&str], extra: &[&str], cwd: &Path) -> (ExitStatus, String) {
    let out = Command::new("ip")
        .args(["netns", "exec", &lab.srv, "timeout", "60"])
        .args(wrap)
        .args([
            env!("CARGO_BIN_EXE_netboot"),
            "serve",
            "--interface",
            SERVER_IF,
        ])
        .args(extra)
        .env("NETBOOT_STATE_DIR", lab.path("state"))
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("run netboot serve");
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
