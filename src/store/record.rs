//! The per-server and per-run records kept beside the snapshots.
//!
//! Types: [`ServerRecord`] (everything known about one name: discovery, liveness,
//! schedule, canonical identity), [`Status`], [`RunRecord`] (one crawl run).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::Domain;
use crate::outcome::{FailureReason, OptOut};

/// One known server name. Per-server state lives here and nowhere else, so a rerun after
/// a crash picks up exactly where the database says it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerRecord {
    pub domain: Domain,
    pub first_discovered: DateTime<Utc>,
    /// The server whose peer list first named this one (None for seeds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovered_via: Option<Domain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_up: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_up: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt: Option<DateTime<Utc>>,
    /// Consecutive visits that found nobody there (see
    /// [`FailureReason::is_unreachable`]); drives the re-probe schedule.
    #[serde(default)]
    pub consecutive_failures: u32,
    /// Not visited before this instant (None: visit on the next run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_probe: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Other names under which this same server answered.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub aliases: BTreeSet<Domain>,
    pub status: Status,
}

/// Where a name stands after its latest visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    /// Discovered, never visited.
    New,
    /// Answered with NodeInfo on the latest visit.
    Up,
    Failed {
        reason: FailureReason,
    },
    OptedOut {
        how: OptOut,
    },
    /// This name is another spelling of `canonical`; it is never counted on its own.
    Alias {
        canonical: Domain,
    },
}

impl ServerRecord {
    pub fn discovered(domain: Domain, at: DateTime<Utc>, via: Option<Domain>) -> Self {
        ServerRecord {
            domain,
            first_discovered: at,
            discovered_via: via,
            first_up: None,
            last_up: None,
            last_attempt: None,
            consecutive_failures: 0,
            next_probe: None,
            software: None,
            version: None,
            aliases: BTreeSet::new(),
            status: Status::New,
        }
    }
}

/// One crawl run, written when it starts and again when it ends; a run without `ended`
/// was interrupted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: u64,
    pub started: DateTime<Utc>,
    /// The instant snapshots were recorded as taken (`--at`, else the start).
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<DateTime<Utc>>,
    /// The options the run was started with, as given.
    pub options: serde_json::Value,
    /// The run summary (see `crawl::Summary`), once the run has ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<serde_json::Value>,
}
