//! A qemu VM (software emulation, no KVM) that boots from the lab's tap, with
//! its serial console written to a file that the test polls for a marker.

use std::path::PathBuf;
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::lab::{Lab, TAP};
use super::process::{read_lossy, tail, Guarded, POLL};

pub const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
pub const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";
/// OVMF built with Secure Boot (and SMM, which guards its variables).
#[allow(dead_code)] // tests/pxe_boot_secure.rs
pub const OVMF_CODE_SECBOOT: &str = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd";
/// Variables with Microsoft's keys enrolled and Secure Boot on.
#[allow(dead_code)] // tests/pxe_boot_secure.rs
pub const OVMF_VARS_MS: &str = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd";
/// The VM's MAC address, fixed so captures and logs are easy to read.
pub const VM_MAC: &str = "52:54:00:77:00:10";

/// Which firmware the VM boots with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Firmware {
    /// SeaBIOS with the e1000's iPXE option ROM (client arch 0, user class iPXE).
    Bios,
    /// OVMF with its own PXE over virtio-net, no option ROM (client arch 7).
    Uefi,
    /// OVMF's own UEFI HTTP boot, PXE switched off (vendor class
    /// `HTTPClient:Arch:00016`, client arch 16).
    UefiHttp,
}

impl Firmware {
    pub fn name(self) -> &'static str {
        match self {
            Firmware::Bios => "bios",
            Firmware::Uefi => "uefi",
            Firmware::UefiHttp => "uefi-http",
        }
    }
}

/// A running VM and its serial log.
pub struct Vm {
    process: Guarded,
    serial: PathBuf,
}

impl Vm {
    /// Starts qemu inside the lab's namespace with `mib` MiB of memory.
    pub fn start(lab: &Lab, firmware: Firmware, mib: u32) -> Result<Self, String> {
        Self::start_as(lab, firmware, mib, VM_MAC)
    }

    /// The same with the NIC's MAC `mac`.
    pub fn start_as(lab: &Lab, firmware: Firmware, mib: u32, mac: &str) -> Result<Self, String> {
        Self::start_named(lab, firmware, firmware.name(), mib, mac, &[])
    }

    /// OVMF's own PXE over IPv6 on virtio-net, its IPv4 PXE switched off
    /// with fw_cfg (DHCPv6 with option 61 arch 7, then TFTP over IPv6;
    /// tests/pxe_support/ipv6.rs).
    #[allow(dead_code)] // tests/pxe_boot_ipv6.rs, tests/firmware_suite.rs
    pub fn start_uefi_ipv6(lab: &Lab, mib: u32) -> Result<Self, String> {
        let off = ["IPv4PXESupport"];
        Self::start_named(lab, Firmware::Uefi, "uefi-ipv6", mib, VM_MAC, &off)
    }

    /// `firmware` as `name` (its logs' names), with OVMF's `off` network
    /// boot families switched off.
    fn start_named(
        lab: &Lab,
        firmware: Firmware,
        name: &str,
        mib: u32,
        mac: &str,
        off: &[&str],
    ) -> Result<Self, String> {
        let serial = lab.path(&format!("serial-{name}.log"));
        let mut cmd = lab.ns.command("qemu-system-x86_64");
        cmd.args(["-accel", "tcg", "-m", &mib.to_string(), "-display", "none"])
            .args(["-monitor", "none", "-no-reboot", "-boot", "n"])
            .arg("-serial")
            .arg(format!("file:{}", serial.display()))
            .arg("-netdev")
            .arg(format!("tap,id=n0,ifname={TAP},script=no,downscript=no"));
        match firmware {
            Firmware::Bios => {
                cmd.args(["-device", &format!("e1000,netdev=n0,mac={mac}")]);
            }
            Firmware::Uefi | Firmware::UefiHttp => {
                let vars = lab.path("OVMF_VARS.fd");
                std::fs::copy(OVMF_VARS, &vars).map_err(|e| format!("copy {OVMF_VARS}: {e}"))?;
                cmd.args([
                    "-device",
                    &format!("virtio-net-pci,netdev=n0,mac={mac},romfile="),
                ])
                .arg("-drive")
                .arg(format!("if=pflash,format=raw,readonly=on,file={OVMF_CODE}"))
                .arg("-drive")
                .arg(format!("if=pflash,format=raw,file={}", vars.display()));
                let http: &[&str] = match firmware {
                    Firmware::UefiHttp => &["IPv4PXESupport", "IPv6PXESupport"],
                    _ => &[],
                };
                for family in http.iter().chain(off) {
                    cmd.arg("-fw_cfg")
                        .arg(format!("name=opt/org.tianocore/{family},string=n"));
                }
            }
        }
        let log = lab.path(&format!("qemu-{name}.log"));
        let process = Guarded::spawn("qemu", cmd, &log)?;
        Ok(Vm { process, serial })
    }

    /// Starts qemu with OVMF's Secure Boot build (q35 with SMM, secure
    /// flash) and a copy of the variables that enrol Microsoft's keys: the
    /// firmware's own PXE over virtio-net (arch 7), Secure Boot on.
    #[allow(dead_code)] // tests/pxe_boot_secure.rs
    pub fn start_secure_boot(lab: &Lab, mib: u32) -> Result<Self, String> {
        Self::start_secure_boot_as(lab, mib, VM_MAC)
    }

    /// The same with the NIC's MAC `mac`.
    #[allow(dead_code)] // tests/pxe_boot_signed_default.rs
    pub fn start_secure_boot_as(lab: &Lab, mib: u32, mac: &str) -> Result<Self, String> {
        let serial = lab.path("serial-uefi-secure-boot.log");
        let vars = lab.path("OVMF_VARS.ms.fd");
        std::fs::copy(OVMF_VARS_MS, &vars).map_err(|e| format!("copy {OVMF_VARS_MS}: {e}"))?;
        let mut cmd = lab.ns.command("qemu-system-x86_64");
        cmd.args(["-accel", "tcg", "-machine", "q35,smm=on"])
            .args(["-global", "driver=cfi.pflash01,property=secure,value=on"])
            .args(["-m", &mib.to_string(), "-display", "none"])
            .args(["-monitor", "none", "-no-reboot", "-boot", "n"])
            .arg("-serial")
            .arg(format!("file:{}", serial.display()))
            .arg("-netdev")
            .arg(format!("tap,id=n0,ifname={TAP},script=no,downscript=no"))
            .args([
                "-device",
                &format!("virtio-net-pci,netdev=n0,mac={mac},romfile="),
            ])
            .arg("-drive")
            .arg(format!(
                "if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE_SECBOOT}"
            ))
            .arg("-drive")
            .arg(format!(
                "if=pflash,format=raw,unit=1,file={}",
                vars.display()
            ));
        let log = lab.path("qemu-uefi-secure-boot.log");
        let process = Guarded::spawn("qemu", cmd, &log)?;
        Ok(Vm { process, serial })
    }

    /// Starts `qemu-system-aarch64 -machine virt` (TCG) on the lab's tap
    /// with virtio-net and no option ROM: U-Boot as the firmware
    /// (`-bios`, its own MAC), or AAVMF from a copy of its variables (MAC
    /// [`VM_MAC`]). See tests/pxe_support/arm.rs.
    #[allow(dead_code)] // tests/pxe_boot_arm.rs
    pub fn start_arm64(
        lab: &Lab,
        name: &str,
        firmware: &[String],
        mac: bool,
    ) -> Result<Self, String> {
        let serial = lab.path(&format!("serial-{name}.log"));
        let nic = match mac {
            true => format!("virtio-net-pci,netdev=n0,mac={VM_MAC},romfile="),
            false => "virtio-net-pci,netdev=n0,romfile=".to_string(),
        };
        let mut cmd = lab.ns.command("qemu-system-aarch64");
        cmd.args(["-accel", "tcg", "-machine", "virt", "-cpu", "cortex-a57"])
            .args([
                "-m",
                "1024",
                "-display",
                "none",
                "-monitor",
                "none",
                "-no-reboot",
            ])
            .arg("-serial")
            .arg(format!("file:{}", serial.display()))
            .arg("-netdev")
            .arg(format!("tap,id=n0,ifname={TAP},script=no,downscript=no"))
            .args(["-device", &nic])
            .args(firmware);
        let process = Guarded::spawn("qemu", cmd, &lab.path(&format!("qemu-{name}.log")))?;
        Ok(Vm { process, serial })
    }

    /// The serial console's text so far.
    pub fn serial(&self) -> String {
        read_lossy(&self.serial)
    }

    /// Polls the serial log until `marker` appears; fails if qemu exits or the
    /// timeout passes. Returns the time since this call.
    pub fn wait_for(&mut self, marker: &str, timeout: Duration) -> Result<Duration, String> {
        let start = Instant::now();
        loop {
            if self.serial().contains(marker) {
                return Ok(start.elapsed());
            }
            if let Some(status) = self.process.exited() {
                return Err(format!(
                    "qemu exited ({status}) before {marker:?}; qemu log:\n{}",
                    tail(&read_lossy(self.process.log()), 20)
                ));
            }
            if start.elapsed() >= timeout {
                return Err(format!(
                    "no {marker:?} on the serial console within {timeout:?}"
                ));
            }
            sleep(POLL);
        }
    }

    /// Stops qemu.
    pub fn stop(&mut self) {
        self.process.stop();
    }
}
