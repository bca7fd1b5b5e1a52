//! `fedicensus rebuild`: recomputes everything reports derive from the full history,
//! for after a crash, a restore or a bug fix in the crawler.
//!
//! Types: [`RebuildSummary`].

use serde::Serialize;

use crate::store::{ServerRecord, Status, Store};

/// What a rebuild rewrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RebuildSummary {
    /// Entries in the recreated `daily` rollup.
    pub daily_entries: usize,
    /// Server records read.
    pub servers: usize,
    /// Server records whose `first_up`/`last_up` changed.
    pub servers_updated: usize,
}

/// Recreates the `daily` rollup and recomputes every server's `first_up` and `last_up`
/// from its snapshots (the first and last instants it answered). One pass over every
/// snapshot plus one history scan per server.
pub fn rebuild(store: &Store) -> anyhow::Result<RebuildSummary> {
    let daily_entries = store.rebuild_daily()?;
    // Collected first so the records are not rewritten under a live iterator.
    let records: Vec<ServerRecord> = store.servers().collect::<Result<_, _>>()?;
    let mut summary = RebuildSummary {
        daily_entries,
        servers: records.len(),
        servers_updated: 0,
    };
    for mut record in records {
        // Alias names never have snapshots: their liveness is the canonical server's.
        if matches!(record.status, Status::Alias { .. }) {
            continue;
        }
        let mut first_up = None;
        let mut last_up = None;
        for snapshot in store.history(&record.domain) {
            let at = snapshot?.at;
            first_up.get_or_insert(at);
            last_up = Some(at);
        }
        if (first_up, last_up) != (record.first_up, record.last_up) {
            record.first_up = first_up;
            record.last_up = last_up;
            store.put_server(&record)?;
            summary.servers_updated += 1;
        }
    }
    store.flush()?;
    Ok(summary)
}
