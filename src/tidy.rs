//! For the tidy tests that keep a module in its lane (sans-IO cores, the
//! shared `arp`): the code of a source file, its tests left out, must not
//! mention given words.

/// Fails naming the file and the word when the code of a source (the text
/// before its first `#[cfg(test)]`) contains one of `banned`. `sources` are
/// (name for the message, text), usually from `include_str!`.
pub fn assert_code_free_of(sources: &[(&str, &str)], banned: &[&str]) {
    for (name, text) in sources {
        let code = text.split("#[cfg(test)]").next().unwrap_or(text);
        for word in banned {
            assert!(!code.contains(word), "{name} mentions {word}");
        }
    }
}
