//! ERROR texts read as whole words. A refusal is never larger than the
//! request it answers (its source may be spoofed), so a short request gets
//! a short text: the full message when it fits, else a shorter standard
//! one, never a word cut in the middle ("File not foun").

mod support;

use support::clients::{tftp_hpa_get, tftp_hpa_put};
use support::{require_tool, scratch, Server};

/// The text after `Error code N: ` in a tftp-hpa run's output.
fn error_text(output: &str, code: u16) -> Option<String> {
    let mark = format!("Error code {code}: ");
    let line = output.lines().find(|l| l.contains(&mark))?;
    Some(
        line[line.find(&mark)? + mark.len()..]
            .trim_end()
            .to_string(),
    )
}

#[test]
fn a_missing_file_is_reported_in_whole_words_at_every_request_length() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let srv = Server::start(&[]);
    let local = scratch();
    let out = local.path().join("got");
    // (name, tftp-hpa mode, the text that fits its request)
    let cases = [
        ("missing-file", "binary", "File not found"),
        ("ab", "netascii", "Not found"),
        ("abc", "binary", "No file"),
        ("ab", "binary", "Absent"),
    ];
    for (name, mode, want) in cases {
        let run = tftp_hpa_get(&srv, name, &out, mode);
        let got = error_text(&run.output(), 1);
        assert_eq!(got.as_deref(), Some(want), "get {name} ({mode}): {run:?}");
    }
}

#[test]
fn a_refused_replacement_is_an_access_violation_in_whole_words() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let srv = Server::start(&["--create"]);
    srv.put_file("r1-confg", b"old\n", 0o644);
    srv.put_file("a-much-longer-router-name-confg", b"old\n", 0o644);
    let local = scratch();
    let path = local.path().join("new");
    std::fs::write(&path, b"new\n").unwrap();
    for (name, want) in [
        ("r1-confg", "Denied"),
        ("a-much-longer-router-name-confg", "Access violation"),
    ] {
        let run = tftp_hpa_put(&srv, &path, name, "binary");
        let got = error_text(&run.output(), 2);
        assert_eq!(got.as_deref(), Some(want), "put {name}: {run:?}");
        assert_eq!(std::fs::read(srv.root().join(name)).unwrap(), b"old\n");
    }
}
