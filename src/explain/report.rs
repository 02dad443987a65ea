//! The answer of `netboot explain`, as sections of plain text for an admin
//! (`Display`) or as JSON (`Serialize`).

use std::fmt;

use serde::Serialize;

use crate::registry::Explanation;

use super::chain::Link;
use super::exchange::{self, Step};
use super::wire_text;

/// Everything `netboot explain` found out.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Where the settings, root, profiles and leases are.
    pub settings: Vec<String>,
    /// The networks taken as served, and how each was found.
    pub networks: Vec<String>,
    /// Which network the request arrives on.
    pub arrival: String,
    /// The client's lease in the state directory, if it has one.
    pub lease: Option<String>,
    /// Which profile and why.
    pub profile: Explanation,
    /// No profile matched: the default boot files of the settings apply.
    pub fallback: bool,
    /// The UEFI PXE default this client gets and why, when its profile
    /// names no file for its family.
    pub default_note: Option<String>,
    /// The DHCP exchange: DISCOVER, then REQUEST.
    pub exchange: Vec<StepReport>,
    /// What iPXE gets when it asks again (when the chain loads iPXE).
    pub ipxe: Option<StepReport>,
    /// The boot files, stage by stage.
    pub chain: Vec<Link>,
    /// Other files served to this client (rendered ones the chain did not
    /// fetch, where its uploads go).
    pub other_files: Vec<String>,
}

/// One message of the exchange and the reply to it.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// `DISCOVER` or `REQUEST`.
    pub sent: String,
    /// The reply's type, if there is one.
    pub reply: Option<String>,
    /// The server's reason, as its log says it.
    pub reason: String,
    /// The address probed first (taken as free), if one was.
    pub probed: Option<String>,
    /// Where the reply goes.
    pub destination: Option<String>,
    /// The reply's header and options, one line each.
    pub lines: Vec<String>,
}

impl StepReport {
    /// From a step of [`exchange::play`].
    pub fn from_step(step: &Step) -> Self {
        let reply = step.reply.as_ref();
        Self {
            sent: kind(step.sent),
            reply: reply.map(|r| kind(r.kind)),
            reason: step.reason.clone(),
            probed: step.probed.map(|ip| ip.to_string()),
            destination: reply.map(|r| exchange::destination(&r.dest)),
            lines: reply.map_or_else(Vec::new, |r| wire_text::describe(&r.bytes)),
        }
    }
}

fn kind(t: dhcproto::v4::MessageType) -> String {
    format!("{t:?}").to_ascii_uppercase()
}

impl fmt::Display for StepReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reply {
            Some(reply) => writeln!(f, "  {} -> {reply}: {}", self.sent, self.reason)?,
            None => writeln!(f, "  {} -> no reply: {}", self.sent, self.reason)?,
        }
        if let Some(ip) = &self.probed {
            writeln!(
                f,
                "    (the server first probes {ip}, ARP or ping; shown as if no one answers)"
            )?;
        }
        if let Some(dest) = &self.destination {
            writeln!(f, "    sent {dest}")?;
        }
        for line in &self.lines {
            writeln!(f, "    {line}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "== Settings")?;
        for line in self.settings.iter().chain(&self.networks) {
            writeln!(f, "  {line}")?;
        }
        writeln!(f, "  the request arrives {}", self.arrival)?;
        match &self.lease {
            Some(lease) => writeln!(f, "  lease of this MAC in the store: {lease}")?,
            None => writeln!(f, "  lease of this MAC in the store: none")?,
        }
        writeln!(f, "\n== Profile")?;
        for line in self.profile.to_string().lines() {
            writeln!(f, "  {line}")?;
        }
        if self.fallback {
            writeln!(
                f,
                "  (no profile: the default boot files of netboot.yaml and the flags apply)"
            )?;
        }
        if let Some(note) = &self.default_note {
            writeln!(f, "  {note}")?;
        }
        writeln!(f, "\n== DHCP")?;
        let mut before: Option<&StepReport> = None;
        for step in &self.exchange {
            match before.filter(|b| same_but_type(&b.lines, &step.lines)) {
                Some(b) => {
                    let brief = StepReport {
                        lines: Vec::new(),
                        ..step.clone()
                    };
                    write!(f, "{brief}")?;
                    let kind = b.reply.as_deref().unwrap_or("reply");
                    writeln!(f, "    (header and options as in the {kind})")?;
                }
                None => write!(f, "{step}")?,
            }
            before = Some(step);
        }
        writeln!(f, "\n== Boot chain")?;
        if self.chain.is_empty() {
            let why = if self.exchange.iter().any(|s| s.reply.is_some()) {
                "no boot file in the reply: the client gets an address only"
            } else {
                "no reply: the client gets nothing from netboot"
            };
            writeln!(f, "  ({why})")?;
        }
        for (i, link) in self.chain.iter().enumerate() {
            write!(f, "  {}. {} {}", i + 1, link.stage, link.name)?;
            if let Some(to) = &link.rewritten {
                write!(f, " (rewritten to {to})")?;
            }
            writeln!(f, ": {}", link.found)?;
        }
        if !self.other_files.is_empty() {
            writeln!(f, "\n== Other files for this client")?;
            for line in &self.other_files {
                writeln!(f, "  {line}")?;
            }
        }
        if let Some(ipxe) = &self.ipxe {
            writeln!(f, "\n== What iPXE gets when it asks DHCP again")?;
            write!(f, "{ipxe}")?;
        }
        Ok(())
    }
}

/// Two replies' lines that differ in the message type alone.
fn same_but_type(a: &[String], b: &[String]) -> bool {
    let typeless = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .filter(|l| !l.starts_with("option  53 "))
            .cloned()
            .collect()
    };
    !a.is_empty() && a.len() == b.len() && typeless(a) == typeless(b)
}
