//! The image catalogue's boots beyond an ISO with a known layout (that one
//! is tests/pxe_boot.rs `netboot_*_boots_an_iso_from_the_catalogue`), in
//! qemu against `netboot serve` in a namespace the test creates:
//!
//! - a directory entry: the Debian installer's netboot `linux` and
//!   `initrd.gz` in `tools/debian-installer/` of the root, with an
//!   `entry.yaml` giving its title and arguments; a profile for every
//!   machine picks it, and it is copied in while netboot runs; iPXE gets `netboot.ipxe`, the menu, then the kernel
//!   and initrd over HTTP; the kernel's command line (the entry's marker)
//!   and the installer's `/init` reach the serial console;
//! - a sanboot entry: an ISO of no known layout whose El Torito image is
//!   our boot sector (tests/pxe_support/boot_sector.rs); the menu says
//!   `sanboot`, iPXE reads the ISO by ranges over HTTP and runs the boot
//!   sector, which prints a line and the text it reads from CD sector 4096;
//!   on UEFI the same ISO also carries an El Torito EFI image whose
//!   `BOOTX64.EFI` is iPXE: the firmware starts it from the ISO that iPXE
//!   hooked (a second "iPXE initialising devices" after the SAN boot);
//! - a one-shot boot: two directory entries (one's files named as a
//!   self-built kernel's are: `bzImage`, `initramfs.gz`), the profile picks one;
//!   `netboot next MAC OTHER` makes the VM's first boot the other, and the
//!   next boot of a VM with the same MAC is the profile's again;
//! - a one-shot boot `--until done`: fetching the kernel does not end it,
//!   the done URL on the kernel's command line does (requested with curl
//!   from the address the VM's lease holds, as the installer's last step
//!   would), and the boot after it is the profile's choice.
//!
//! BIOS (SeaBIOS + the e1000's iPXE ROM): 20-30 s per boot here; UEFI
//! (OVMF's PXE, then `ipxe.efi`): about 50 s.
//! Needs what tests/pxe_boot.rs needs; prints SKIP without it, or panics
//! when `CI` is set.

#[allow(dead_code)] // the DHCP wire checks of tests/pxe_boot.rs are not used here
mod pxe_support;

use std::path::Path;
use std::time::{Duration, Instant};

use pxe_support::boot_sector::{second_ipxe, DEEP_LINE, FAIL_LINE, FIRST_LINE};
use pxe_support::catalogue::{
    installer_dir, installer_size, leased_address, menu_file, netboot_next, profiles, sanboot_iso,
    serve, INIT_MARKER, SERIAL_ARGS,
};
use pxe_support::lab::Lab;
use pxe_support::process::tail;
use pxe_support::server::{make_boot_root, start_launches, Server, ServerKind};
use pxe_support::vm::{Firmware, Vm, VM_MAC};
use pxe_support::{boot_lock, boot_timeout, keep_artifacts, prerequisites_met};

/// One VM boot's serial console, or why it failed (with the console).
fn boot_once(lab: &Lab, name: &str, marker: &str, server: &Server) -> String {
    boot_until(lab, Firmware::Bios, name, server, |serial| {
        serial.contains(marker)
    })
}

/// One VM boot on `firmware` until its console shows what `done` looks for.
fn boot_until(
    lab: &Lab,
    firmware: Firmware,
    name: &str,
    server: &Server,
    done: impl Fn(&str) -> bool,
) -> String {
    let started = Instant::now();
    let mut vm = Vm::start(lab, firmware, 1024).unwrap_or_else(|e| panic!("{name}: {e}"));
    let outcome = wait(&mut vm, boot_timeout(), done);
    let serial = vm.serial();
    vm.stop();
    println!("{name}: {outcome:?} after {:.1?}", started.elapsed());
    keep_artifacts(lab, name, &format!("{name}: {outcome:?}"));
    if let Err(e) = outcome {
        panic!(
            "{name}: {e}\n--- serial ---\n{}\n--- server log ---\n{}",
            tail(&serial, 40),
            server.log_tail(80)
        );
    }
    // the next VM's console starts empty
    let _ = std::fs::remove_file(lab.path(&format!("serial-{}.log", firmware.name())));
    serial
}

/// Polls the console until `done` says so, qemu exits or `timeout` passes.
fn wait(vm: &mut Vm, timeout: Duration, done: impl Fn(&str) -> bool) -> Result<Duration, String> {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if done(&vm.serial()) {
            return Ok(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Err(format!("the console did not show it within {timeout:?}"))
}

/// The lab, its root, and whether the prerequisites are met.
fn lab(name: &str) -> Option<(Lab, std::path::PathBuf)> {
    if !prerequisites_met(ServerKind::NetbootCatalogue) {
        return None;
    }
    let lab = Lab::new().unwrap_or_else(|e| panic!("{name}: lab: {e}"));
    let root = make_boot_root(&lab).unwrap_or_else(|e| panic!("{name}: boot root: {e}"));
    println!(
        "{name}: namespace {}, scratch {}",
        lab.ns.name(),
        lab.dir().display()
    );
    Some((lab, root))
}

fn start(lab: &Lab, root: &Path, menu_yaml: &str, name: &str) -> Server {
    let profiles = profiles(lab, menu_yaml).unwrap_or_else(|e| panic!("{name}: {e}"));
    let launch = serve(lab, root, &profiles).unwrap_or_else(|e| panic!("{name}: {e}"));
    start_launches(lab, vec![launch]).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every line in `wanted` is in the server's log.
fn assert_logged(server: &Server, name: &str, wanted: &[String]) {
    let log = server.log_tail(2000);
    for line in wanted {
        assert!(
            log.contains(line),
            "{name}: no `{line}` in the server log:\n{log}"
        );
    }
}

/// The one-shot boot is over: `netboot next` lists none, and the next
/// boot (the server stopped after it) is the profile's entry.
fn back_to_the_profiles_choice(lab: &Lab, root: &Path, name: &str, server: &mut Server) {
    let listed = netboot_next(lab, root, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(listed, "no one-shot boot is set\n", "{name}");
    let next = boot_once(lab, &format!("{name}-second"), INIT_MARKER, server);
    server.stop();
    assert!(
        next.contains("netboot-marker=PROFILE-CHOICE") && !next.contains("ONE-SHOT"),
        "{name}: the boot after the one-shot was not the profile's choice:\n{}",
        tail(&next, 60)
    );
}

/// `entry.yaml` of an installer directory whose command line carries `marker`.
fn entry_yaml(title: &str, marker: &str) -> String {
    format!("title: {title}\nargs: netboot-marker={marker}\n")
}

#[test]
fn netboot_bios_boots_a_directory_entry_from_the_catalogue() {
    let _one_at_a_time = boot_lock();
    let name = "catalogue-directory-bios";
    let Some((lab, root)) = lab(name) else { return };
    let id = "tools/debian-installer";
    let yaml = entry_yaml("Debian installer (netboot files)", "DIRECTORY-ENTRY");
    let menu = format!("  entry: {id}\n  args: {SERIAL_ARGS}\n");
    let mut server = start(&lab, &root, &menu, name);
    // dropped in while netboot runs: the rescan finds it
    installer_dir(&root, id, "linux", "initrd.gz", &yaml).unwrap_or_else(|e| panic!("{e}"));
    server
        .wait_for_log(&["entries=1"], Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{name}: the directory never became an entry: {e}"));

    let serial = boot_once(&lab, name, INIT_MARKER, &server);
    server.stop();
    assert!(
        serial.contains("netboot-marker=DIRECTORY-ENTRY"),
        "{name}: the entry's arguments are not on the kernel's command line:\n{}",
        tail(&serial, 60)
    );
    let menu = menu_file(Firmware::Bios);
    assert_logged(
        &server,
        name,
        &[
            "path=/netboot.ipxe}: sent status=200".into(),
            format!("path=/{menu}}}: sent status=200"),
            format!(
                "path=/{id}/linux}}: sent status=200 bytes={}",
                installer_size("linux")
            ),
            format!(
                "path=/{id}/initrd.gz}}: sent status=200 bytes={}",
                installer_size("initrd.gz")
            ),
        ],
    );
}

#[test]
fn netboot_bios_sanboots_an_iso_of_unknown_layout_from_the_catalogue() {
    let _one_at_a_time = boot_lock();
    let name = "catalogue-sanboot-bios";
    let Some((lab, root)) = lab(name) else { return };
    let iso = "images/unknown-layout.iso";
    std::fs::create_dir_all(root.join("images")).unwrap();
    sanboot_iso(&lab, &root, iso, "NETBOOT_SANBOOT_TEST", None).unwrap_or_else(|e| panic!("{e}"));
    let mut server = start(&lab, &root, &format!("  entry: {iso}\n"), name);

    let serial = boot_once(&lab, name, DEEP_LINE, &server);
    server.stop();
    assert!(serial.contains(FIRST_LINE), "{name}: {serial}");
    assert!(!serial.contains(FAIL_LINE), "{name}: {serial}");
    let log = server.log_tail(2000);
    assert!(
        !log.contains(&format!("method=GET path=/{iso}}}: sent status=200")),
        "{name}: iPXE was sent the whole image, not ranges:\n{log}"
    );
    assert_logged(
        &server,
        name,
        &[
            format!("path=/{}}}: sent status=200", menu_file(Firmware::Bios)),
            format!("method=HEAD path=/{iso}}}: sent status=200"),
            format!("method=GET path=/{iso}}}: sent status=206"),
        ],
    );
}

#[test]
fn netboot_next_boots_an_entry_once_then_the_profiles_choice() {
    let _one_at_a_time = boot_lock();
    let name = "catalogue-one-shot-bios";
    let Some((lab, root)) = lab(name) else { return };
    let usual = entry_yaml("The usual", "PROFILE-CHOICE");
    let once = entry_yaml("Just once", "ONE-SHOT");
    installer_dir(&root, "usual", "vmlinuz", "initrd.gz", &usual).unwrap_or_else(|e| panic!("{e}"));
    installer_dir(&root, "once", "bzImage", "initramfs.gz", &once)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut server = start(
        &lab,
        &root,
        &format!("  entry: usual\n  args: {SERIAL_ARGS}\n"),
        name,
    );

    let set = netboot_next(&lab, &root, &[VM_MAC, "once"]).unwrap_or_else(|e| panic!("{e}"));
    assert!(set.contains("boots once next"), "{name}: {set}");
    let listed = netboot_next(&lab, &root, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert!(listed.contains("once"), "{name}: {listed}");

    let first = boot_once(&lab, &format!("{name}-first"), INIT_MARKER, &server);
    assert!(
        first.contains("netboot-marker=ONE-SHOT") && !first.contains("PROFILE-CHOICE"),
        "{name}: the first boot was not the one-shot entry:\n{}",
        tail(&first, 60)
    );
    back_to_the_profiles_choice(&lab, &root, name, &mut server);
    assert_logged(
        &server,
        name,
        &[
            "path=/once/bzImage}: sent status=200".into(),
            "one-shot boot over (it fetched".into(),
            "path=/usual/vmlinuz}: sent status=200".into(),
        ],
    );
}

#[test]
fn netboot_next_until_done_lasts_until_the_installer_calls_its_done_url() {
    let _one_at_a_time = boot_lock();
    let name = "catalogue-until-done-bios";
    let Some((mut lab, root)) = lab(name) else {
        return;
    };
    let usual = entry_yaml("The usual", "PROFILE-CHOICE");
    let once = "title: Install\nargs: netboot-marker=ONE-SHOT done={done_url}\n";
    installer_dir(&root, "usual", "vmlinuz", "initrd.gz", &usual).unwrap_or_else(|e| panic!("{e}"));
    installer_dir(&root, "install", "linux", "initrd.gz", once).unwrap_or_else(|e| panic!("{e}"));
    let mut server = start(
        &lab,
        &root,
        &format!("  entry: usual\n  args: {SERIAL_ARGS}\n"),
        name,
    );
    let set = netboot_next(&lab, &root, &[VM_MAC, "install", "--until", "done"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        set.contains("boots install next") && set.contains("done URL"),
        "{name}: {set}"
    );

    let first = boot_once(&lab, &format!("{name}-first"), INIT_MARKER, &server);
    assert!(
        first.contains("netboot-marker=ONE-SHOT"),
        "{name}:\n{}",
        tail(&first, 60)
    );
    // Fetching the kernel does not end it: the installer has not finished.
    let listed = netboot_next(&lab, &root, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert!(listed.contains("install"), "{name}: {listed}");

    // The installer's last step, as the machine: its done URL, from the
    // kernel's command line, requested from the address its lease holds.
    let url = first
        .split_whitespace()
        .find_map(|word| word.strip_prefix("done="))
        .unwrap_or_else(|| {
            panic!(
                "{name}: no done= on the command line:\n{}",
                tail(&first, 60)
            )
        });
    assert!(
        url.starts_with("http://10.77.0.1") && url.ends_with("/netboot-done"),
        "{url}"
    );
    let ip = leased_address(&lab, VM_MAC).unwrap_or_else(|e| panic!("{name}: {e}"));
    let machine = lab
        .neighbour_as(&ip)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let done = machine
        .command("curl")
        .args(["-sS", "--max-time", "10", "--interface", &ip, url])
        .output()
        .unwrap_or_else(|e| panic!("{name}: curl: {e}"));
    let reply = String::from_utf8_lossy(&done.stdout);
    assert!(
        done.status.success() && reply.contains("done"),
        "{name}: {done:?}"
    );
    back_to_the_profiles_choice(&lab, &root, name, &mut server);
    assert_logged(
        &server,
        name,
        &["one-shot boot over (the installer called its done URL)".into()],
    );
}

#[test]
fn netboot_uefi_sanboots_an_iso_of_unknown_layout_from_the_catalogue() {
    let _one_at_a_time = boot_lock();
    let name = "catalogue-sanboot-uefi";
    let Some((lab, root)) = lab(name) else { return };
    let iso = "images/unknown-layout.iso";
    std::fs::create_dir_all(root.join("images")).unwrap();
    let efi = root.join(pxe_support::server::BOOT_UEFI);
    sanboot_iso(&lab, &root, iso, "NETBOOT_SANBOOT_TEST", Some(&efi))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut server = start(&lab, &root, &format!("  entry: {iso}\n"), name);

    // the ISO's El Torito EFI image holds iPXE: a second iPXE starts
    let serial = boot_until(&lab, Firmware::Uefi, name, &server, second_ipxe);
    server.stop();
    assert!(
        !serial.contains("booting that entry failed"),
        "{name}: {serial}"
    );
    assert_logged(
        &server,
        name,
        &[
            format!("path=/{}}}: sent status=200", menu_file(Firmware::Uefi)),
            format!("method=HEAD path=/{iso}}}: sent status=200"),
            format!("method=GET path=/{iso}}}: sent status=206"),
        ],
    );
}
