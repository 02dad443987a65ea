//! The image catalogue under `netboot serve`, inside network namespaces this
//! test creates and deletes: a Debian-installer ISO (built with Debian's
//! tools, `pxe_support/iso.rs`) copied into the boot root in two halves while
//! netboot runs appears in the client's iPXE menu once whole; its kernel and
//! initrd are served over HTTP straight out of the ISO (bytes, ranges); a
//! GRUB gets the same entries in `grub.cfg` where it looks for it; a
//! broken ISO is skipped with a log line naming it and the menu stays; a
//! profile's `menu:` sets the default; `netboot next` makes the machine boot
//! the entry once, shows in `netboot leases`, and ends when the machine
//! fetches the kernel; `netboot images` lists the entry. tftp-hpa fetches
//! the kernel from inside the ISO over TFTP too (as shim and GRUB fetch
//! themselves on a Secure Boot machine), whole and byte for byte.

mod http_support;
#[path = "pxe_support/iso.rs"]
mod iso;
mod netns;

use std::path::Path;
use std::time::Duration;

use netns::{Lab, CLIENT_MAC, SERVER_IP};
use sha2::{Digest, Sha256};

const ISO: &str = "debian-12.iso";
const KERNEL_URL: &str = "debian-12.iso/install.amd/vmlinuz";
const MENU: &str = "menu-pcbios-i386.ipxe";

const DESK: &str =
    "name: desk\nmatch:\n  mac: 52:54:00:12:34:56\nmenu:\n  default: debian-12.iso\n  timeout: 3\n";

/// curl in the client namespace: (body, status code).
fn curl(lab: &Lab, path: &str, extra: &[&str]) -> (Vec<u8>, u16) {
    let out = lab
        .client_cmd("curl")
        .args(["-s", "-m", "20", "-w", "\n%{http_code}"])
        .args(extra)
        .arg(format!("http://{SERVER_IP}/{path}"))
        .output()
        .unwrap();
    http_support::split_code(out.stdout)
}

fn menu(lab: &Lab) -> String {
    let (body, code) = curl(lab, MENU, &[]);
    assert_eq!(code, 200, "{}", lab.log());
    String::from_utf8(body).unwrap()
}

fn netboot(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_netboot"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Copies `iso` into `root` as [`ISO`] in two halves, checking that the
/// first half alone is not offered.
fn copy_in_two_halves(lab: &mut Lab, iso: &Path, root: &Path) {
    let bytes = std::fs::read(iso).unwrap();
    let target = root.join(ISO);
    std::fs::write(&target, &bytes[..bytes.len() / 2]).unwrap();
    lab.wait_log("catalogue: not yet", Duration::from_secs(20));
    assert!(
        !menu(lab).contains(KERNEL_URL),
        "half an ISO is not offered"
    );
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&target)
        .unwrap();
    std::io::Write::write_all(&mut file, &bytes[bytes.len() / 2..]).unwrap();
    drop(file);
    lab.wait_log("catalogue: ISO added", Duration::from_secs(20));
}

#[test]
fn an_iso_dropped_in_is_offered_served_from_inside_and_booted_once_on_request() {
    if !netns::ready(&["udhcpc", "curl", "tftp", "xorriso", "mkfs.vfat", "mcopy"]) {
        return;
    }
    let mut lab = Lab::new();
    let work = lab.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let iso = iso::debian_installer_iso(&work).expect("build the test ISO");
    let dirs = lab.start_serve_on(&[("desk.yaml", DESK)], &["--no-ping"]);
    let lease = lab.udhcpc_pxe(&[]);
    let ip = lease.get("ip").cloned().expect("a lease");
    lab.client_addr(&format!("{ip}/24"));

    copy_in_two_halves(&mut lab, &iso, &dirs.root);
    let shown = menu(&lab);
    assert!(
        shown.contains(&format!("kernel http://{SERVER_IP}/{KERNEL_URL}")),
        "{shown}"
    );
    assert!(
        shown.contains("choose --default e0 --timeout 3000"),
        "the profile's default: {shown}"
    );
    let (grub, code) = curl(&lab, "debian-installer/amd64/grub/grub.cfg", &[]);
    let grub = String::from_utf8(grub).unwrap();
    assert_eq!(code, 200);
    assert!(
        grub.contains(&format!("linux $netboot_dev/{KERNEL_URL}")),
        "{grub}"
    );
    let probe = format!("source (http,{SERVER_IP})/netboot-grub-http.cfg\n");
    assert!(
        grub.contains(&probe),
        "GRUB moves to HTTP when it can: {grub}"
    );
    let (switch, code) = curl(&lab, "netboot-grub-http.cfg", &[]);
    assert_eq!(
        (code, String::from_utf8(switch).unwrap()),
        (
            200,
            format!(
                "set netboot_dev=(http,{SERVER_IP})\nexport netboot_dev\n\
                 echo 'netboot: GRUB reaches HTTP'\n"
            )
        )
    );
    assert!(grub.contains("set default=e0\nset timeout=3\n"), "{grub}");

    let kernel = std::fs::read(Path::new(iso::INSTALLER).join("linux")).unwrap();
    let (got, code) = curl(&lab, KERNEL_URL, &[]);
    assert_eq!((code, got.len()), (200, kernel.len()));
    assert!(got == kernel, "the kernel's bytes, from inside the ISO");
    let initrd = std::fs::read(Path::new(iso::INSTALLER).join("initrd.gz")).unwrap();
    let (part, code) = curl(
        &lab,
        "debian-12.iso/install.amd/initrd.gz",
        &["-r", "1000-1999"],
    );
    assert_eq!((code, part.as_slice()), (206, &initrd[1000..2000]));
    tftp_inside_the_iso(&lab, &kernel);

    std::fs::write(dirs.root.join("broken.iso"), vec![0x5a; 1 << 20]).unwrap();
    lab.wait_log("broken.iso", Duration::from_secs(20));
    assert!(lab.log_contains("skipped"), "{}", lab.log());
    assert!(
        menu(&lab).contains(KERNEL_URL),
        "a broken ISO never takes the menu down"
    );

    one_shot(&mut lab, &dirs.root);
    let (ok, listed) = netboot(&["images", "--root", dirs.root.to_str().unwrap()]);
    assert!(ok, "{listed}");
    assert!(
        listed.contains(ISO) && listed.contains("install.amd/vmlinuz"),
        "{listed}"
    );
    assert!(listed.contains("broken.iso:"), "{listed}");
    let shim = format!(
        "UEFI x64 PXE machines with no boot file configured get {ISO}/EFI/boot/bootx64.efi"
    );
    assert!(listed.contains(&shim), "{listed}");
}

/// `netboot next`: the entry alone once, then the profile's menu again.
fn one_shot(lab: &mut Lab, root: &Path) {
    let state = lab.path("state");
    let (root, state) = (root.to_str().unwrap(), state.to_str().unwrap());
    let (ok, said) = netboot(&[
        "next",
        CLIENT_MAC,
        ISO,
        "--root",
        root,
        "--state-dir",
        state,
    ]);
    assert!(ok, "{said}");
    let (_, leases) = netboot(&["leases", "--state-dir", state]);
    assert!(leases.contains(&format!("boots {ISO} once")), "{leases}");
    let once = menu(lab);
    assert!(
        !once.contains("choose"),
        "the entry at once, no menu: {once}"
    );
    assert!(once.contains(KERNEL_URL), "{once}");
    let (_, code) = curl(lab, KERNEL_URL, &[]);
    assert_eq!(code, 200);
    lab.wait_log("one-shot boot over", Duration::from_secs(10));
    assert!(
        menu(lab).contains("choose --default e0"),
        "back to the profile's choice"
    );
    let (ok, unknown) = netboot(&[
        "next",
        CLIENT_MAC,
        "nope.iso",
        "--root",
        root,
        "--state-dir",
        state,
    ]);
    assert!(
        !ok && unknown.contains("\"nope.iso\" is not in the image catalogue"),
        "{unknown}"
    );
}

/// tftp-hpa in the client namespace fetches the kernel from inside the ISO
/// (octet): the SHA-256 of the installer's kernel; asked in netascii, it is
/// refused, the reason in the log.
fn tftp_inside_the_iso(lab: &Lab, kernel: &[u8]) {
    let local = lab.path("kernel-over-tftp");
    let out = lab
        .client_cmd("timeout")
        .args([
            "60", "tftp", "-m", "binary", SERVER_IP, "-c", "get", KERNEL_URL,
        ])
        .arg(&local)
        .output()
        .unwrap();
    assert!(out.status.success(), "tftp: {:?}\n{}", out, lab.log());
    let got = std::fs::read(&local).unwrap();
    let hex = |b: &[u8]| -> String {
        Sha256::digest(b)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect()
    };
    assert_eq!(
        (got.len(), hex(&got)),
        (kernel.len(), hex(kernel)),
        "the kernel over TFTP, from inside the ISO"
    );
    let out = lab
        .client_cmd("timeout")
        .args([
            "20", "tftp", "-m", "ascii", SERVER_IP, "-c", "get", KERNEL_URL,
        ])
        .arg(lab.path("kernel-ascii"))
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // the ERROR is no longer than the request: the reason is in the log
    assert!(said.contains("Access violation"), "{said}");
    assert!(lab.log_contains("octet mode only"), "{}", lab.log());
}
