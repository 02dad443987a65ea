//! The TFTP server: wire format, option negotiation, the sans-IO transfer
//! state machine, path resolution inside the served root, and the tokio shell.
