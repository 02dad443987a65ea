//! What `serve` hands the status server: the event stream (kept only when
//! a status address is set: the page, the API and `/metrics` are its only
//! readers), the registry's state at start, the sources the page reads and
//! what its API may change.

use std::sync::Arc;

use tracing::warn;

use crate::catalogue;
use crate::dhcp::config::Mode;
use crate::dhcp::view::LeaseView;
use crate::events::Events;
use crate::registry::Registry;
use crate::status::{self, control::Control};

use super::plan::ServePlan;

/// The event stream of a server planned as `plan`.
pub(super) fn events(plan: &ServePlan) -> Events {
    match plan.status {
        Some(_) => Events::default(),
        None => Events::unread(),
    }
}

/// Tells the event stream the profiles in service from the start (the
/// status page shows the registry's state before any reload).
pub(super) fn loaded_at_start(events: &Events, registry: &Registry, plan: &ServePlan) {
    let reservations = crate::boot::ProfileLookup::reservations(registry).len();
    events.emit(crate::events::Event::Reload(crate::events::event::Reload {
        at: std::time::SystemTime::now(),
        what: crate::events::event::Reloaded::Profiles,
        ok: true,
        detail: format!(
            "{} profiles from {}, {reservations} reservations (loaded at start)",
            registry.profile_count(),
            plan.profiles.display()
        ),
    }));
}

/// What the status API may change: one-shot boots, with the token from
/// the state directory (read now, while the process may read it).
pub(super) fn control(plan: &ServePlan, catalogue: &catalogue::live::Shared) -> Option<Control> {
    let state_dir = plan.dhcp.state_dir.clone()?;
    match status::control::token(&state_dir) {
        Ok(token) => Some(Control {
            state_dir,
            token,
            catalogue: Arc::clone(catalogue),
        }),
        Err(e) => {
            warn!(dir = %state_dir.display(), "no status token ({e}): the status API changes nothing");
            None
        }
    }
}

/// What the status page reads.
pub(super) fn sources(plan: &ServePlan, leases: &LeaseView, events: &Events) -> status::Sources {
    let pools = match plan.dhcp.mode {
        Mode::Authoritative => plan
            .dhcp
            .pools
            .iter()
            .map(|p| (p.first(), p.last()))
            .collect(),
        Mode::Proxy => Vec::new(),
    };
    status::Sources {
        events: events.clone(),
        leases: leases.clone(),
        pools,
        started: std::time::SystemTime::now(),
        control: None,
    }
}
