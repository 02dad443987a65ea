//! The command line: flags of each subcommand and their conversion into
//! validated configurations. The binary (`src/main.rs`) only dispatches.

pub mod backups;
pub mod explain;
pub mod http;
pub mod images;
pub mod serve;
pub mod status;
mod status_text;
pub mod tftp;
