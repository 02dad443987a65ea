//! iPXE's `sanboot` over netboot's HTTP in qemu: the disk image is read as
//! one HEAD (its size) then a GET with `Range` per read, and a BIOS boots
//! from it.
//!
//! SeaBIOS + the e1000's iPXE ROM gets `sanboot.ipxe` over HTTP from
//! `netboot serve` (in a namespace the test creates, as tests/pxe_boot.rs
//! does); the script says `sanboot http://10.77.0.1/disk.img`. iPXE hooks
//! INT 13h with the image as drive 0x80 and runs its boot sector, which is
//! our own 512 bytes of real-mode code (`pxe_support::boot_sector`): it writes a line
//! to the serial port's UART, reads LBA 4096 (2 MiB into the 16 MiB image)
//! through INT 13h, and writes the text found there. Both lines on the
//! serial console prove the boot sector ran and a read from the middle of
//! the image came back right; netboot's log must show the HEAD and the
//! ranged GETs (206), the one for LBA 4096 by its exact range.
//!
//! UEFI: OVMF PXE gets `ipxe.efi` over TFTP, iPXE gets the script, which
//! says `sanboot http://10.77.0.1/esp.img`: a FAT file system image (made
//! with mkfs.fat and mtools) holding `EFI/BOOT/BOOTX64.EFI`, which is iPXE
//! again. The firmware reads the FAT through iPXE's block device, loads
//! and starts that file: after iPXE's "Booting from SAN device 0x80" the
//! console shows a second "iPXE initialising devices" (that second iPXE
//! goes no further: the first still holds the network card), the script's
//! failure line never appears, and the ranged reads of the image add up
//! to more than the file.
//!
//! Needs root, qemu-system-x86, ipxe-qemu, ovmf, ipxe, and dosfstools +
//! mtools for the UEFI case (see tests/pxe_boot.rs); prints SKIP without
//! them, or panics when `CI` is set. About 20 s (BIOS) and 60 s (UEFI).

#[allow(dead_code)] // the DHCP wire checks of tests/pxe_boot.rs are not used here
mod pxe_support;

use std::io::{Seek, SeekFrom, Write};
use std::time::Instant;

use pxe_support::boot_sector::{
    boot_sector, second_ipxe, write_esp, DEEP_LBA, DEEP_LINE, DISK_BYTES, FAIL_LINE, FIRST_LINE,
};
use pxe_support::lab::{Lab, SERVER_IP};
use pxe_support::process::tail;
use pxe_support::server::{make_boot_root, start_server, ServerKind, SANBOOT_IPXE};
use pxe_support::vm::{Firmware, Vm};
use pxe_support::{boot_lock, boot_timeout, keep_artifacts, prerequisites_met};

/// A 16 MiB image (sparse): the boot sector, and [`DEEP_LINE`] at LBA 4096.
fn write_disk(path: &std::path::Path) {
    let mut disk = std::fs::File::create(path).unwrap();
    disk.write_all(&boot_sector()).unwrap();
    disk.seek(SeekFrom::Start(DEEP_LBA * 512)).unwrap();
    disk.write_all(format!("{DEEP_LINE}\r\n\0").as_bytes())
        .unwrap();
    disk.set_len(DISK_BYTES).unwrap();
}

#[test]
fn netboot_bios_ipxe_sanboots_a_disk_image_over_http() {
    let _one_at_a_time = boot_lock();
    let kind = ServerKind::NetbootSanboot;
    if !prerequisites_met(kind) {
        return;
    }
    let name = "netboot-sanboot-bios";
    let lab = Lab::new().unwrap_or_else(|e| panic!("{name}: lab: {e}"));
    let root = make_boot_root(&lab).unwrap_or_else(|e| panic!("{name}: boot root: {e}"));
    write_disk(&root.join("disk.img"));
    let script =
        format!("#!ipxe\necho netboot sanboot test\nsanboot http://{SERVER_IP}/disk.img\n");
    std::fs::write(root.join(SANBOOT_IPXE), script).unwrap();

    let mut server = start_server(kind, &lab, &root).unwrap_or_else(|e| panic!("{name}: {e}"));
    let started = Instant::now();
    let mut vm = Vm::start(&lab, Firmware::Bios, 256).unwrap_or_else(|e| panic!("{name}: {e}"));
    let outcome = vm.wait_for(DEEP_LINE, boot_timeout());
    let elapsed = started.elapsed();
    let serial = vm.serial();
    vm.stop();
    server.stop();
    let log = server.log_tail(400);
    keep_artifacts(
        &lab,
        name,
        &format!("{name}: {outcome:?} after {elapsed:.1?}"),
    );
    println!("{name}: {outcome:?} after {elapsed:.1?}");
    if let Err(e) = outcome {
        panic!(
            "{name}: {e}\n--- serial ---\n{}\n--- server log ---\n{}",
            tail(&serial, 40),
            tail(&log, 60)
        );
    }
    assert!(serial.contains(FIRST_LINE), "{name}: {serial}");
    assert!(!serial.contains(FAIL_LINE), "{name}: {serial}");

    let deep = DEEP_LBA * 512;
    let wanted = [
        format!("path=/{SANBOOT_IPXE}}}: sent status=200"),
        "method=HEAD path=/disk.img}: sent status=200".to_string(),
        "method=GET path=/disk.img}: sent status=206 bytes=512 range=0-511".to_string(),
        format!(
            "method=GET path=/disk.img}}: sent status=206 bytes=512 range={deep}-{}",
            deep + 511
        ),
    ];
    for line in wanted {
        assert!(
            log.contains(&line),
            "{name}: no `{line}` in the server log:\n{log}"
        );
    }
    assert!(
        !log.contains("method=GET path=/disk.img}: sent status=200"),
        "{name}: iPXE was sent the whole image, not ranges:\n{log}"
    );
}

/// The UEFI script's lines: before the sanboot, and if it fails.
const UEFI_START: &str = "NETBOOT-SANBOOT-UEFI: sanboot from iPXE";
const UEFI_FAILED: &str = "NETBOOT-SANBOOT-UEFI: sanboot failed";

/// Body bytes of the `206` answers for `path` in the server log.
fn ranged_bytes(log: &str, path: &str) -> u64 {
    let needle = format!("path={path}}}: sent status=206 bytes=");
    log.lines()
        .filter_map(|l| l.split(&needle).nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

#[test]
fn netboot_uefi_ipxe_sanboots_an_efi_system_partition_over_http() {
    let _one_at_a_time = boot_lock();
    let kind = ServerKind::NetbootSanboot;
    if !prerequisites_met(kind) {
        return;
    }
    let name = "netboot-sanboot-uefi";
    let lab = Lab::new().unwrap_or_else(|e| panic!("{name}: lab: {e}"));
    let root = make_boot_root(&lab).unwrap_or_else(|e| panic!("{name}: boot root: {e}"));
    let efi = root.join("ipxe.efi");
    // no FAT tools is a failure, never a skip
    write_esp(&root.join("esp.img"), &efi, 32768)
        .unwrap_or_else(|e| panic!("{name}: cannot make the FAT image: {e}"));
    let script = format!(
        "#!ipxe\necho {UEFI_START}\nsanboot http://{SERVER_IP}/esp.img || goto failed\n\
         :failed\necho {UEFI_FAILED}\nsleep 600\n"
    );
    std::fs::write(root.join(SANBOOT_IPXE), script).unwrap();

    let mut server = start_server(kind, &lab, &root).unwrap_or_else(|e| panic!("{name}: {e}"));
    let started = Instant::now();
    let mut vm = Vm::start(&lab, Firmware::Uefi, 256).unwrap_or_else(|e| panic!("{name}: {e}"));
    let deadline = started + boot_timeout();
    let mut serial = String::new();
    while Instant::now() < deadline {
        serial = vm.serial();
        if second_ipxe(&serial) || serial.contains(UEFI_FAILED) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let elapsed = started.elapsed();
    vm.stop();
    server.stop();
    let log = server.log_tail(2000);
    keep_artifacts(&lab, name, &format!("{name}: after {elapsed:.1?}"));
    println!("{name}: {elapsed:.1?}");
    let report = format!(
        "--- serial ---\n{}\n--- server log ---\n{}",
        tail(&serial, 40),
        tail(&log, 60)
    );
    assert!(
        !serial.contains(UEFI_FAILED),
        "{name}: sanboot failed\n{report}"
    );
    assert!(serial.contains(UEFI_START), "{name}: no script\n{report}");
    assert!(
        second_ipxe(&serial),
        "{name}: BOOTX64.EFI from the image did not start\n{report}"
    );
    assert!(
        log.contains("method=HEAD path=/esp.img}: sent status=200"),
        "{name}: no HEAD\n{report}"
    );
    let efi_len = std::fs::metadata(&efi).unwrap().len();
    let read = ranged_bytes(&log, "/esp.img");
    assert!(
        read > efi_len,
        "{name}: {read} bytes read by range, BOOTX64.EFI is {efi_len}\n{report}"
    );
    assert!(
        !log.contains("method=GET path=/esp.img}: sent status=200"),
        "{name}: iPXE was sent the whole image, not ranges\n{report}"
    );
}
