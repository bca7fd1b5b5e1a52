//! `fedicensus rebuild`: recomputes everything reports derive from the full history,
//! for after a crash, a restore or a bug fix in the crawler or the reporter.
//!
//! Types: [`RebuildSummary`].

use serde::Serialize;

use crate::report::derive;
use crate::store::{ServerRecord, Status, Store};

/// What a rebuild rewrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RebuildSummary {
    /// Snapshots moved from `fresh` into their blocks.
    pub sealed: usize,
    /// Days whose summary was recomputed.
    pub days: usize,
    /// Server records read.
    pub servers: usize,
    /// Server records whose `first_up`/`last_up` changed.
    pub servers_updated: usize,
}

/// Seals fresh snapshots, recomputes every server's `first_up` and `last_up` from its
/// snapshots (the first and last instants it answered), then every day's summary into
/// a new tree that replaces the old one in one step. One pass over every block for
/// the records, one per slice of days for the summaries.
pub fn rebuild(store: &Store) -> anyhow::Result<RebuildSummary> {
    let sealed = store.seal()?;
    let spans: std::collections::HashMap<_, _> = store
        .spans()?
        .into_iter()
        .map(|(domain, first, last)| (domain, (first, last)))
        .collect();
    // Collected first so the records are not rewritten under a live iterator.
    let records: Vec<ServerRecord> = store.servers().collect::<Result<_, _>>()?;
    let mut summary = RebuildSummary {
        sealed,
        days: 0,
        servers: records.len(),
        servers_updated: 0,
    };
    for mut record in records {
        // Alias names never have snapshots: their liveness is the canonical server's.
        if matches!(record.status, Status::Alias { .. }) {
            continue;
        }
        let (first_up, last_up) = spans
            .get(&record.domain)
            .map_or((None, None), |&(first, last)| (Some(first), Some(last)));
        if (first_up, last_up) != (record.first_up, record.last_up) {
            record.first_up = first_up;
            record.last_up = last_up;
            store.put_server(&record)?;
            summary.servers_updated += 1;
        }
    }
    summary.days = derive::rebuild_summaries(store)?;
    store.flush()?;
    Ok(summary)
}
