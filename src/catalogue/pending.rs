//! Stand-ins for the ISO reader and the recognisers until they land.

use super::model::{Kind, Recognised};
use super::tree::Tree;

/// Whatever a tree is.
pub fn recognise(_tree: &dyn Tree) -> Recognised {
    Recognised {
        kind: Kind::Sanboot,
        title: String::new(),
        boots: vec![],
        notes: vec![],
    }
}

/// A plain kernel + initrd directory.
pub fn recognise_directory(_tree: &dyn Tree) -> Option<Recognised> {
    None
}
