use std::process::Command;

use super::*;

/// `SOURCE_DATE_EPOCH=0 mkimage -A arm64 -O linux -T script -C none
/// -n "boot script" -d s.txt`, s.txt being `echo NETBOOT-MARKER\n`.
const MKIMAGE_OUTPUT: &str = "\
27051956d5bb725b000000000000001c0000000000000000dc6e10f005160600626f6f74
207363726970740000000000000000000000000000000000000000000000001400000000
6563686f204e4554424f4f542d4d41524b45520a";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn same_bytes_as_mkimage() {
    let got = script_image("boot script", b"echo NETBOOT-MARKER\n", ImageArch::Arm64);
    assert_eq!(hex(&got), MKIMAGE_OUTPUT.replace('\n', ""));
}

/// Runs the real `mkimage` (u-boot-tools) on an odd-length script and on our
/// image: the same bytes, and `mkimage -l` reads ours as a script.
#[test]
fn mkimage_agrees_on_an_odd_length_script() {
    let dir = tempfile::tempdir().unwrap();
    let script = b"setenv a 1\r\necho odd length: \xc3\xa9\nboot";
    let src = dir.path().join("s.txt");
    let theirs = dir.path().join("theirs.uimg");
    std::fs::write(&src, script).unwrap();
    let made = Command::new("mkimage")
        .env("SOURCE_DATE_EPOCH", "0")
        .args(["-A", "arm", "-O", "linux", "-T", "script", "-C", "none"])
        .args(["-n", "a name longer than thirty-one bytes, cut"])
        .arg("-d")
        .arg(&src)
        .arg(&theirs)
        .output()
        .expect("mkimage (u-boot-tools) must be installed: .ci/install-deps.sh");
    assert!(made.status.success(), "{made:?}");
    let ours = script_image(
        "a name longer than thirty-one bytes, cut",
        script,
        ImageArch::Arm,
    );
    assert_eq!(hex(&ours), hex(&std::fs::read(&theirs).unwrap()));
    let mine = dir.path().join("ours.uimg");
    std::fs::write(&mine, &ours).unwrap();
    let listed = Command::new("mkimage")
        .arg("-l")
        .arg(&mine)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains("ARM Linux Script (uncompressed)"), "{text}");
    assert!(
        text.contains(&format!("Image 0: {} Bytes", script.len())),
        "{text}"
    );
}

#[test]
fn script_names_and_arches() {
    assert!(is_script_name("boot.scr.uimg") && is_script_name("boards/x/boot.scr"));
    assert!(!is_script_name("pxelinux.cfg/default"));
    assert_eq!(
        ImageArch::of(Some(crate::arch::Family::UbootArm64)),
        ImageArch::Arm64
    );
    assert_eq!(ImageArch::of(None), ImageArch::Invalid);
}
