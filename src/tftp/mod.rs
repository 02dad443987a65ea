//! The TFTP server: wire format, option negotiation, the sans-IO transfer
//! state machines, path resolution inside the served root, and the tokio shell.

pub mod blocknum;
pub mod fs;
pub mod netascii;
pub mod options;
pub mod packet;
pub mod remap;
pub mod rto;
pub mod transfer;
