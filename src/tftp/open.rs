//! The file a download reads: a file inside a catalogued ISO (a region of
//! the image, when the server has [`Regions`]), else a file of the root.
//! The containing file is opened with the same confinement as any other
//! (`fs::RootPolicy`), and a region is checked to lie inside it. Blocking:
//! called on the transfer's thread.

use super::fs::{relative_path, FsError, RootPolicy};
use super::source::Source;
use crate::regions::{Region, Regions};

/// Opens `name` (as the client asked, after remapping and rewrites) for a
/// download read `chunk` bytes at a time, translated to netascii when
/// `netascii`.
pub fn open_download(
    root: &RootPolicy,
    regions: Option<&dyn Regions>,
    name: &str,
    netascii: bool,
    chunk: usize,
) -> Result<Source, FsError> {
    if let Some(region) = region_of(regions, name)? {
        return open_region(root, region?, netascii, chunk);
    }
    let path = root.resolve(name.as_bytes())?;
    let (file, size) = root.open_read(&path)?;
    if netascii {
        Ok(Source::netascii(file, size)?)
    } else {
        Ok(Source::file(file, size, chunk))
    }
}

/// The region `name` names, if it is inside a file of the root; the name
/// is confined first, as every name is.
fn region_of(
    regions: Option<&dyn Regions>,
    name: &str,
) -> Result<Option<Result<Region, FsError>>, FsError> {
    let Some(regions) = regions else {
        return Ok(None);
    };
    let relative = relative_path(name.as_bytes())?;
    let key = relative.to_string_lossy();
    match regions.region(&key) {
        Some(region) => Ok(Some(region.map_err(FsError::Access))),
        None if regions.holds(&key) => Err(FsError::NotFound),
        None => Ok(None),
    }
}

fn open_region(
    root: &RootPolicy,
    region: Region,
    netascii: bool,
    chunk: usize,
) -> Result<Source, FsError> {
    if netascii {
        return Err(FsError::Access(format!(
            "a file inside {} is sent in octet mode only; ask for it in octet (binary) mode",
            region.file
        )));
    }
    let path = root.resolve(region.file.as_bytes())?;
    let (file, file_len) = root.open_read(&path)?;
    if !region.fits(file_len) {
        return Err(FsError::Io(std::io::Error::other(region.changed_message())));
    }
    Ok(Source::region(file, region.offset, region.len, chunk))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `disc.iso/inner.txt` is bytes 100..130 of `disc.iso`; `split.iso/x`
    /// cannot be served.
    struct Fake;

    impl Regions for Fake {
        fn region(&self, name: &str) -> Option<Result<Region, String>> {
            match name {
                "disc.iso/inner.txt" => Some(Ok(Region {
                    file: "disc.iso".into(),
                    offset: 100,
                    len: 30,
                })),
                "disc.iso/past.txt" => Some(Ok(Region {
                    file: "disc.iso".into(),
                    offset: 900,
                    len: 300,
                })),
                "split.iso/x" => Some(Err("stored in several pieces".into())),
                _ => None,
            }
        }

        fn holds(&self, name: &str) -> bool {
            name.starts_with("disc.iso/")
        }
    }

    fn root() -> (tempfile::TempDir, RootPolicy) {
        let dir = tempfile::tempdir().unwrap();
        let disc: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        std::fs::write(dir.path().join("disc.iso"), disc).unwrap();
        std::fs::write(dir.path().join("plain.txt"), b"plain").unwrap();
        let policy = RootPolicy {
            root: dir.path().canonicalize().unwrap(),
            secure: true,
            create: false,
            permissive: false,
            case_insensitive: false,
            umask: 0,
            max_upload: None,
            dirs: Vec::new(),
        };
        (dir, policy)
    }

    fn read_all(mut source: Source) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let block = source.next_block(512).unwrap().to_vec();
            out.extend_from_slice(&block);
            if block.len() < 512 {
                return out;
            }
        }
    }

    #[test]
    fn a_file_inside_an_iso_is_its_region() {
        let (_dir, root) = root();
        let got = open_download(&root, Some(&Fake), "/disc.iso/inner.txt", false, 4096).unwrap();
        let want: Vec<u8> = (100..130u32).map(|i| i as u8).collect();
        assert_eq!(read_all(got), want);
    }

    #[test]
    fn other_names_are_files_of_the_root() {
        let (_dir, root) = root();
        let got = open_download(&root, Some(&Fake), "plain.txt", false, 4096).unwrap();
        assert_eq!(read_all(got), b"plain");
        let got = open_download(&root, None, "plain.txt", true, 4096).unwrap();
        assert_eq!(read_all(got), b"plain");
    }

    #[test]
    fn refusals_say_why() {
        let (_dir, root) = root();
        let err =
            |name: &str, netascii| match open_download(&root, Some(&Fake), name, netascii, 4096) {
                Ok(_) => panic!("{name} opened"),
                Err(e) => e.to_string(),
            };
        assert!(err("split.iso/x", false).contains("several pieces"));
        assert!(err("disc.iso/inner.txt", true).contains("octet mode only"));
        assert!(err("disc.iso/past.txt", false).contains("shorter than its directory says"));
        assert!(err("../disc.iso/inner.txt", false).starts_with("access violation"));
        assert_eq!(err("disc.iso/missing.efi", false), "file not found");
    }
}
