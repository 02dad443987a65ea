//! `netboot explain`: the flags, and their conversion into
//! [`ExplainOptions`] (the settings flags stand for the same flags of
//! `serve`, as `check`'s do).

use std::net::Ipv4Addr;
use std::path::PathBuf;

use clap::Args;

use crate::explain::exchange::Client;
use crate::explain::ExplainOptions;
use crate::mac::MacAddr;
use crate::serve::ServeOptions;

/// Flags of `netboot explain`.
#[derive(Debug, Clone, Args)]
pub struct ExplainArgs {
    /// The machine's MAC, in any common spelling (52:54:00:10:00:01,
    /// 52-54-00-10-00-01, 5254.0010.0001, 525400100001).
    #[arg(value_name = "MAC")]
    pub mac: MacAddr,

    /// Option 93 the machine sends: a number (0 BIOS, 7 UEFI x64, 11 UEFI
    /// ARM64, ...) or a profile's arch name (bios, uefi-x64, ...).
    #[arg(long, value_name = "N", value_parser = parse_arch)]
    pub arch: Option<u16>,

    /// Option 60 the machine sends (PXE firmware: `PXEClient:Arch:00007:UNDI:003016`).
    #[arg(long, value_name = "S")]
    pub vendor_class: Option<String>,

    /// Option 77 the machine sends (`iPXE` when iPXE asks).
    #[arg(long, value_name = "S")]
    pub user_class: Option<String>,

    /// An address on the machine's network: picks the interface or relay
    /// pool it asks from (default: the first served interface).
    #[arg(long, value_name = "ADDR")]
    pub ip: Option<Ipv4Addr>,

    /// `netboot.yaml` to read; default: `./netboot.yaml` when it exists.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Directory of profile YAML files.
    #[arg(long, value_name = "DIR")]
    pub profiles: Option<PathBuf>,

    /// Boot root.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// State directory holding the leases (read, never written).
    #[arg(long, value_name = "DIR", env = "NETBOOT_STATE_DIR")]
    pub state_dir: Option<PathBuf>,

    /// The lease database `serve` uses (as `serve --leases-url`; read,
    /// never written).
    #[arg(long, value_name = "URL")]
    pub leases_url: Option<String>,

    /// Interface `serve` serves (default: those netboot.yaml names).
    #[arg(short = 'i', long = "interface", value_name = "IF")]
    pub interfaces: Vec<String>,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

impl ExplainArgs {
    /// The options these flags stand for.
    pub fn to_options(&self) -> ExplainOptions {
        ExplainOptions {
            serve: ServeOptions {
                config: self.config.clone(),
                profiles: self.profiles.clone(),
                root: self.root.clone(),
                state_dir: self.state_dir.clone(),
                leases_url: self.leases_url.clone(),
                interfaces: self.interfaces.clone(),
                ..ServeOptions::default()
            },
            client: Client {
                mac: self.mac,
                arch: self.arch,
                vendor_class: self.vendor_class.clone(),
                user_class: self.user_class.clone(),
            },
            ip: self.ip,
        }
    }
}

/// `--arch`: an option 93 number or an architecture name.
fn parse_arch(text: &str) -> Result<u16, String> {
    if let Ok(code) = text.trim().parse::<u16>() {
        return Ok(code);
    }
    crate::registry::arch::codes_for_name(text)
        .and_then(|codes| codes.first().copied())
        .ok_or_else(|| {
            format!(
                "`{text}` is not an architecture: give an option 93 number or one of {}",
                crate::registry::arch::known_names()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: ExplainArgs,
    }

    fn parse(line: &[&str]) -> Result<ExplainArgs, clap::Error> {
        let all = std::iter::once("explain").chain(line.iter().copied());
        Cli::try_parse_from(all).map(|c| c.args)
    }

    #[test]
    fn macs_in_every_spelling_and_arch_by_number_or_name() {
        let want: MacAddr = "52:54:00:10:00:01".parse().unwrap();
        for s in [
            "52:54:00:10:00:01",
            "52-54-00-10-00-01",
            "5254.0010.0001",
            "525400100001",
        ] {
            assert_eq!(parse(&[s]).unwrap().mac, want, "{s}");
        }
        assert_eq!(
            parse(&["525400100001", "--arch", "7"]).unwrap().arch,
            Some(7)
        );
        assert_eq!(
            parse(&["525400100001", "--arch", "uefi-arm64"])
                .unwrap()
                .arch,
            Some(11)
        );
        let bad = parse(&["525400100001", "--arch", "sparc"]).unwrap_err();
        assert!(bad.to_string().contains("not an architecture"), "{bad}");
        let bad = parse(&["52:54:00:10:00"]).unwrap_err();
        assert!(bad.to_string().contains("is not a MAC address"), "{bad}");
    }
}
