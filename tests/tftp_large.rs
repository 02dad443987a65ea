//! A 5 GiB image over TFTP. At blksize 65464 the 16-bit block number wraps
//! after 65535 blocks, a little past 4 GiB, so this is the second rollover
//! the issue names (the first, past 32 MiB at blksize 512, is in
//! `tftp_load.rs`). curl receives the whole image and its checksum and size
//! match the file on disk.

mod support;

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{require_tool, wait_bounded, Server};

const SIZE: u64 = 5 << 30;
const MARK_EVERY: u64 = 1 << 20;

/// CRC-32 and length of everything `reader` yields.
fn checksum(mut reader: impl Read) -> (u32, u64) {
    let mut hasher = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf).expect("read");
        if n == 0 {
            return (hasher.finalize(), total);
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
}

#[test]
fn a_five_gib_image_crosses_the_4_gib_block_number_wrap_intact() {
    if !require_tool("curl", "curl") {
        return;
    }
    let srv = Server::start(&[]);
    let path = srv.root().join("image.raw");
    // Sparse, with its offset written every MiB: a block sent twice or
    // skipped at the wrap shifts every later mark, and the checksum differs.
    let file = File::create(&path).unwrap();
    file.set_len(SIZE).unwrap();
    for offset in (0..SIZE).step_by(MARK_EVERY as usize) {
        file.write_all_at(&offset.to_be_bytes(), offset).unwrap();
    }
    drop(file);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let want = checksum(File::open(&path).unwrap());

    let mut curl = Command::new("curl")
        .args(["-sS", "-g", "--max-time", "600", "--tftp-blksize", "65464"])
        .arg(format!("tftp://127.0.0.1:{}/image.raw", srv.port()))
        .args(["-o", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("curl");
    let got = checksum(curl.stdout.take().expect("curl's stdout"));
    let status = wait_bounded(&mut curl, Duration::from_secs(30)).expect("curl exits");
    let mut errors = String::new();
    if let Some(mut stderr) = curl.stderr.take() {
        let _ = stderr.read_to_string(&mut errors);
    }
    assert!(status.success(), "curl: {status} {errors}\n{}", srv.log());
    assert_eq!(got.1, SIZE, "bytes received");
    assert_eq!(got.0, want.0, "CRC-32 of the 5 GiB image");
    // the server logs once the final ACK is in, which may be just after
    // curl has exited
    srv.wait_for_log("bytes=5368709120", Duration::from_secs(10));
    let done = srv.log_lines("transfer complete");
    assert!(
        done.iter().any(|l| l.contains("bytes=5368709120")),
        "the server logs the whole image sent: {done:?}"
    );
}
