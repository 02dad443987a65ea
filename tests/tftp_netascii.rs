//! Netascii transfers checked byte for byte: line feeds, CR LF pairs, lone
//! CRs, and a CR that falls on the last byte of a 512-byte block, both on
//! the wire (raw client, curl's untranslated `;mode=netascii`) and through
//! tftp-hpa, which translates on its side.

mod support;

use support::clients::{tftp_hpa_get, tftp_hpa_put};
use support::raw::{rrq, wrq, Packet, RawClient};
use support::{assert_file_is, assert_same_bytes, netascii_encode, require_tool, scratch, Server};

/// Unix text with every line-end shape; the wire form has a CR as the last
/// byte of block 1 (of a lone CR: CR | NUL) and of block 2 (of a LF:
/// CR | LF).
fn tricky_text() -> Vec<u8> {
    let mut text = b"unix line\ndos line\r\nlone cr\rend\n".to_vec();
    pad_wire_to(&mut text, 511);
    text.push(b'\r');
    text.extend_from_slice(b"after the boundary\n");
    pad_wire_to(&mut text, 1023);
    text.push(b'\n');
    text.extend_from_slice(b"last line without end\r\n\r");
    text
}

/// Appends letters until the wire form of `text` is `len` bytes long.
fn pad_wire_to(text: &mut Vec<u8>, len: usize) {
    while netascii_encode(text).len() < len {
        text.push(b'a' + (text.len() % 26) as u8);
    }
    assert_eq!(netascii_encode(text).len(), len);
}

/// The wire form checked by hand for the boundaries, not only by the
/// helper.
fn wire_of(text: &[u8]) -> Vec<u8> {
    let wire = netascii_encode(text);
    assert_eq!(&wire[..16], b"unix line\r\ndos l");
    assert_eq!(&wire[511..513], b"\r\0");
    assert_eq!(&wire[513..518], b"after");
    assert_eq!(&wire[1023..1025], b"\r\n");
    assert!(wire.ends_with(b"without end\r\0\r\n\r\0"));
    wire
}

#[test]
fn raw_netascii_download_is_translated_on_the_wire_with_tsize() {
    let srv = Server::start(&[]);
    let text = tricky_text();
    srv.put_file("text", &text, 0o644);
    let wire = wire_of(&text);
    let mut client = RawClient::new(srv.addr);
    client.request(&rrq("text", "netascii", &[("tsize", "0")]));
    let oack = client.recv();
    assert_eq!(oack.option("tsize"), Some(wire.len().to_string().as_str()));
    client.send(&support::raw::ack(0));
    let got = client.read_rest(None, 512, 1);
    assert_same_bytes(&got, &wire, "netascii wire bytes");

    // Without options: DATA 1 straight away, the CR last in block 1.
    let mut client = RawClient::new(srv.addr);
    client.request(&rrq("text", "NetASCII", &[]));
    let first = client.recv();
    match &first {
        Packet::Data(1, payload) => assert_eq!(payload.last(), Some(&b'\r')),
        other => panic!("expected DATA 1, got {other:?}"),
    }
    let got = client.read_rest(Some(first), 512, 1);
    assert_same_bytes(&got, &wire, "netascii wire bytes");
}

#[test]
fn raw_netascii_upload_is_translated_to_unix_on_disk() {
    let srv = Server::start(&["--create"]);
    let text = tricky_text();
    let wire = wire_of(&text);
    let mut client = RawClient::new(srv.addr);
    client.request(&wrq("text", "netascii", &[]));
    assert_eq!(client.recv(), Packet::Ack(0));
    client.write_all(&wire, 512);
    assert_file_is(&srv.root().join("text"), &text);
}

#[test]
fn curl_sees_the_wire_form_and_uploads_it() {
    if !require_tool("curl", "curl") {
        return;
    }
    let srv = Server::start(&["--create"]);
    let text = tricky_text();
    let wire = wire_of(&text);
    srv.put_file("text", &text, 0o644);
    let local = scratch();
    // curl does not translate: what it writes is what came on the wire.
    let out = local.path().join("wire");
    support::clients::curl_get(&srv, "text;mode=netascii", &out, Some(512)).assert_success();
    assert_file_is(&out, &wire);
    // Uploading the wire form in netascii mode stores the Unix text.
    support::clients::curl_put(&srv, &out, "back;mode=netascii", Some(512)).assert_success();
    assert_file_is(&srv.root().join("back"), &text);
}

#[test]
fn tftp_hpa_netascii_round_trips_unix_text() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let srv = Server::start(&["--create"]);
    let text = tricky_text();
    srv.put_file("text", &text, 0o644);
    let local = scratch();
    let out = local.path().join("text");
    let run = tftp_hpa_get(&srv, "text", &out, "netascii");
    assert!(!run.output().contains("Error"), "{run:?}");
    assert_file_is(&out, &text);
    let run = tftp_hpa_put(&srv, &out, "uploaded", "netascii");
    assert!(!run.output().contains("Error"), "{run:?}");
    assert_file_is(&srv.root().join("uploaded"), &text);
}

#[test]
fn a_netascii_file_over_64_mib_streams_with_the_right_tsize() {
    let srv = Server::start(&[]);
    // Text just over the 64 MiB that used to be the in-memory limit, with
    // line ends of both kinds throughout.
    let text: Vec<u8> = support::pseudo_random((64 << 20) + 4099, 64)
        .into_iter()
        .map(|b| match b % 61 {
            0 => b'\n',
            1 => b'\r',
            n => b'a' + n % 26,
        })
        .collect();
    srv.put_file("big.txt", &text, 0o644);
    let wire = netascii_encode(&text);
    drop(text);
    let mut client = RawClient::new(srv.addr);
    let options = [("tsize", "0"), ("blksize", "65464"), ("windowsize", "16")];
    client.request(&rrq("big.txt", "netascii", &options));
    let oack = client.recv();
    assert_eq!(oack.option("tsize"), Some(wire.len().to_string().as_str()));
    client.send(&support::raw::ack(0));
    let got = client.read_rest(None, 65464, 16);
    assert_same_bytes(&got, &wire, "netascii over 64 MiB");
}
