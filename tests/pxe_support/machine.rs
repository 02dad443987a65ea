//! The VM of a boot through the signed chain: an x86-64 [`Vm`], or an
//! ARM64 one (qemu-system-aarch64 with AAVMF, its own PXE over virtio-net,
//! client architecture 11), with or without Secure Boot; its serial console
//! polled for a marker.

use std::path::PathBuf;
use std::time::Instant;

use super::boot_timeout;
use super::lab::{Lab, TAP};
use super::process::{read_lossy, Guarded, POLL};
use super::vm::Vm;

/// AAVMF's code and variables, without and with Secure Boot (Microsoft's
/// keys enrolled).
const AAVMF: [(&str, &str); 2] = [
    (
        "/usr/share/AAVMF/AAVMF_CODE.fd",
        "/usr/share/AAVMF/AAVMF_VARS.fd",
    ),
    (
        "/usr/share/AAVMF/AAVMF_CODE.ms.fd",
        "/usr/share/AAVMF/AAVMF_VARS.ms.fd",
    ),
];

/// The VM booting: an x86-64 [`Vm`], or an ARM64 one (qemu-system-aarch64
/// with AAVMF's own PXE over virtio-net, arch 11).
pub enum Machine {
    X86(Vm),
    Arm64 { process: Guarded, serial: PathBuf },
}

impl Machine {
    pub fn arm64(lab: &Lab, secure: bool, mac: &str) -> Result<Self, String> {
        if !std::path::Path::new("/usr/bin/qemu-system-aarch64").exists() {
            return Err("qemu-system-aarch64 missing: install qemu-system-arm".into());
        }
        let (code, vars_src) = AAVMF[usize::from(secure)];
        let vars = lab.path("AAVMF_VARS.fd");
        std::fs::copy(vars_src, &vars)
            .map_err(|e| format!("copy {vars_src}: {e} (install qemu-efi-aarch64)"))?;
        let serial = lab.path("serial-arm64.log");
        let mut cmd = lab.ns.command("qemu-system-aarch64");
        cmd.args(["-machine", "virt", "-cpu", "cortex-a57", "-m", "1024"])
            .args(["-display", "none", "-monitor", "none", "-no-reboot"])
            .arg("-serial")
            .arg(format!("file:{}", serial.display()))
            .arg("-drive")
            .arg(format!("if=pflash,format=raw,readonly=on,file={code}"))
            .arg("-drive")
            .arg(format!("if=pflash,format=raw,file={}", vars.display()))
            .arg("-netdev")
            .arg(format!("tap,id=n0,ifname={},script=no,downscript=no", TAP))
            .args([
                "-device",
                &format!("virtio-net-pci,netdev=n0,mac={mac},romfile="),
            ]);
        let process = Guarded::spawn("qemu-arm64", cmd, &lab.path("qemu-arm64.log"))?;
        Ok(Machine::Arm64 { process, serial })
    }

    pub fn wait_for(&mut self, marker: &str) -> Result<(), String> {
        let (process, serial) = match self {
            Machine::X86(vm) => return vm.wait_for(marker, boot_timeout()).map(|_| ()),
            Machine::Arm64 { process, serial } => (process, serial),
        };
        let timeout = boot_timeout();
        let start = Instant::now();
        loop {
            if read_lossy(serial).contains(marker) {
                return Ok(());
            }
            if let Some(status) = process.exited() {
                return Err(format!(
                    "qemu-system-aarch64 exited ({status}) before {marker:?}"
                ));
            }
            if start.elapsed() >= timeout {
                return Err(format!(
                    "no {marker:?} on the serial console within {timeout:?}"
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    pub fn stop(&mut self) {
        match self {
            Machine::X86(vm) => vm.stop(),
            Machine::Arm64 { process, .. } => process.stop(),
        }
    }

    pub fn serial(&self) -> String {
        match self {
            Machine::X86(vm) => vm.serial(),
            Machine::Arm64 { serial, .. } => read_lossy(serial),
        }
    }
}
