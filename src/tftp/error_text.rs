//! The text of an ERROR that must fit in a given number of bytes (a reply
//! to a request whose source may be spoofed is never larger than the
//! request). A person reads whole words: the full message when it fits,
//! else its head before `": "`, else the shortest standard text for the
//! code that fits, never a word cut in the middle. No I/O.

use super::packet::ErrorCode;

/// Standard texts for a code, longest first. The first is RFC 1350's (or
/// tftpd-hpa's) wording; the others say the same in fewer bytes.
fn standard_texts(code: ErrorCode) -> &'static [&'static str] {
    match code {
        ErrorCode::FileNotFound => &["File not found", "Not found", "No file", "Absent"],
        ErrorCode::AccessViolation => &["Access violation", "Access denied", "Denied"],
        ErrorCode::DiskFull => &["Disk full or allocation exceeded", "Disk full", "Full"],
        ErrorCode::IllegalOperation => &["Illegal TFTP operation", "Illegal operation", "Illegal"],
        ErrorCode::UnknownTid => &["Unknown transfer ID", "Unknown TID"],
        ErrorCode::FileExists => &["File already exists", "File exists", "Exists"],
        ErrorCode::NoSuchUser => &["No such user", "No user"],
        ErrorCode::OptionRefused => &["Options refused", "Refused"],
        ErrorCode::NotDefined | ErrorCode::Other(_) => &[],
    }
}

/// The text to send for `code` and `message` in at most `room` bytes:
/// whole words only, possibly empty (the code still says what happened).
pub fn fitting(code: ErrorCode, message: &str, room: usize) -> &str {
    let message = message.trim();
    if message.len() <= room {
        return message;
    }
    if let Some((head, _)) = message.split_once(": ") {
        if head.len() <= room {
            return head;
        }
    }
    let standard = standard_texts(code);
    if let Some(text) = standard.iter().find(|t| t.len() <= room) {
        return text;
    }
    if standard.is_empty() {
        return whole_words(message, room);
    }
    ""
}

/// The longest run of whole words from the start of `message` that fits in
/// `room` bytes, without trailing punctuation.
fn whole_words(message: &str, room: usize) -> &str {
    let mut end = 0;
    for (at, _) in message.match_indices(' ') {
        if at > room {
            break;
        }
        end = at;
    }
    message[..end].trim_end_matches([' ', ':', ',', ';', '-'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_message_when_it_fits() {
        let text = fitting(ErrorCode::FileNotFound, "File not found", 14);
        assert_eq!(text, "File not found");
    }

    #[test]
    fn a_shorter_standard_text_rather_than_a_cut_word() {
        let f = |room| fitting(ErrorCode::FileNotFound, "File not found", room);
        assert_eq!(f(13), "Not found");
        assert_eq!(f(9), "Not found");
        assert_eq!(f(8), "No file");
        assert_eq!(f(6), "Absent");
        assert_eq!(f(5), "", "no fragment such as \"File\"");
    }

    #[test]
    fn the_head_of_a_detailed_message() {
        let message = "Access violation: file not world-writable";
        assert_eq!(
            fitting(ErrorCode::AccessViolation, message, 20),
            "Access violation"
        );
        assert_eq!(
            fitting(ErrorCode::AccessViolation, message, 13),
            "Access denied"
        );
        assert_eq!(fitting(ErrorCode::AccessViolation, message, 12), "Denied");
        let disk = "Disk full: 20000 bytes announced, 100 free";
        assert_eq!(fitting(ErrorCode::DiskFull, disk, 12), "Disk full");
    }

    #[test]
    fn undefined_errors_keep_whole_words_of_their_own_message() {
        let why = "server out of ports";
        assert_eq!(fitting(ErrorCode::NotDefined, why, 13), "server out of");
        assert_eq!(fitting(ErrorCode::NotDefined, why, 12), "server out");
        assert_eq!(fitting(ErrorCode::NotDefined, why, 5), "");
        assert_eq!(
            fitting(ErrorCode::NotDefined, "unparsable: x y", 11),
            "unparsable"
        );
    }

    #[test]
    fn every_standard_text_is_ascii_words() {
        for code in 0..=8 {
            for text in standard_texts(ErrorCode::from_code(code)) {
                assert!(text.is_ascii() && !text.ends_with(' '), "{text:?}");
            }
        }
    }
}
