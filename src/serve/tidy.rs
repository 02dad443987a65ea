//! Tidy test: `serve` takes its own input ([`super::ServeOptions`]) and
//! knows nothing of the command line, so no source under `src/serve`
//! (tests included) names the `cli` modules or clap.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn serve_does_not_import_the_cli() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/serve");
    let mut files = Vec::new();
    sources(&dir, &mut files);
    assert!(files.len() > 10, "the sources of serve are found");
    // built from pieces so that this file does not name them itself
    let banned = [
        ["crate", "::cli"].concat(),
        ["netboot", "::cli"].concat(),
        ["Serve", "Args"].concat(),
        ["clap", "::"].concat(),
    ];
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for word in &banned {
            assert!(
                !text.contains(word.as_str()),
                "{} mentions {word}: serve takes ServeOptions, built by cli::serve",
                path.display()
            );
        }
    }
}
