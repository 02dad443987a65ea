//! The TFTP server: wire format, option negotiation, the sans-IO transfer
//! state machines, path resolution inside the served root, and the shell
//! around them (a tokio listener; one thread and socket per transfer).
//!
//! Only `fs`, `mapfile`, `netascii_stream`, `open`, `server`, `session`, `source` and `udp` do
//! I/O; the rest is pure.

pub mod admission;
pub mod blocknum;
pub mod config;
pub mod error_text;
pub mod fs;
pub mod history;
pub mod late_copies;
pub mod mapfile;
pub mod netascii;
pub mod netascii_stream;
pub mod open;
pub mod options;
pub mod packet;
pub mod remap;
pub mod roots;
pub mod rto;
pub mod server;
pub mod session;
pub mod source;
pub mod stale;
pub mod transfer;
pub mod udp;
