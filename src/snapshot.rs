//! What one server reported at one instant.
//!
//! Types: [`Snapshot`] (a server's canonical name, when it was read, and what it said),
//! [`ServerStats`] (the numbers and software, stored as a snapshot's value),
//! [`Source`] (which documents the numbers came from).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::Domain;

/// One reading of one server. Stored under `(domain, at)`, so reading the same server
/// at the same instant twice (a re-run with `--at`) overwrites instead of duplicating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The server's canonical name: in a crawl, the name its instance API claims, else the
    /// host that served NodeInfo (not necessarily the name visited).
    pub domain: Domain,
    /// When it was read: in a crawl, the run's `--at` instant (one for every snapshot of
    /// the run); in an import, the row's `taken_at`.
    pub at: DateTime<Utc>,
    /// What the server reported.
    pub stats: ServerStats,
}

/// The numbers a server reported. `None` means the server did not say: it is never
/// turned into 0 here, so the reporter can state coverage.
///
/// Counts are signed because servers do send negative numbers, and the reporter must
/// see them to flag them as suspect rather than have them silently clamped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerStats {
    /// NodeInfo `software.name`, lowercased.
    pub software: String,
    /// NodeInfo `software.version`, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Registered users: NodeInfo `usage.users.total`, else `/api/v1/instance`
    /// `stats.user_count`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users_total: Option<i64>,
    /// Users active in the last 30 days: NodeInfo `usage.users.activeMonth`, else
    /// `/api/v2/instance` `usage.users.active_month`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_month: Option<i64>,
    /// Users active in the last 180 days: NodeInfo `usage.users.activeHalfyear`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_halfyear: Option<i64>,
    /// Posts made on this server: NodeInfo `usage.localPosts`, else `/api/v1/instance`
    /// `stats.status_count`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_posts: Option<i64>,
    /// Whether sign-ups are open: NodeInfo `openRegistrations`, else `/api/v2/instance`
    /// `registrations.enabled`, else `/api/v1/instance` `registrations`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_registrations: Option<bool>,
    /// Registrations in the most recent complete week, from `/api/v1/instance/activity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registrations_week: Option<i64>,
    /// NodeInfo schema version read, e.g. "2.1".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The languages the server declares: `languages` of `/api/v2/instance`, else of
    /// `/api/v1/instance`; empty when neither says.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// The documents a crawl read for this snapshot, NodeInfo first; empty when imported.
    #[serde(default)]
    pub sources: Vec<Source>,
    /// Where an imported snapshot came from (`import --source`, or the file's `source`
    /// column); `None` for the snapshots this database's own crawls took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// A document that contributed to a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A NodeInfo document: every crawled snapshot has one.
    NodeInfo,
    /// The Mastodon-compatible `/api/v1/instance`.
    InstanceV1,
    /// The Mastodon-compatible `/api/v2/instance`.
    InstanceV2,
    /// `/api/v1/instance/activity`, when it held a complete week (for `registrations_week`).
    Activity,
}
