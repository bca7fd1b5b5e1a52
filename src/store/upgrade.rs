//! Converting a format-1 database to format 2, in place, losing nothing.
//!
//! Format 1 kept one JSON value per snapshot in `snapshots` (`domain 0x00 instant` →
//! [`ServerStats`]) and a JSON copy of each day's latest snapshot in `daily`. The
//! conversion reads `snapshots` in order and writes it through the bulk path
//! ([`Store::put_snapshots`], which ignores snapshots already converted), so an
//! interrupted upgrade is simply run again. Only when every snapshot is in its block is
//! the format marker set to 2 and flushed; the old trees are dropped after that (and on
//! any later open that finds them left over). `servers` and `runs` keep their layout.
//!
//! Functions: [`from_format_1`], [`drop_format_1`].

use crate::domain::Domain;
use crate::snapshot::{ServerStats, Snapshot};

use super::{keys, Result, Store, FORMAT};

/// Snapshots converted per bulk write: bounds the memory of an upgrade.
const CHUNK: usize = 100_000;

/// The trees only format 1 had.
const V1_TREES: [&str; 2] = ["snapshots", "daily"];

/// Converts every format-1 snapshot, then marks the database as format 2.
pub(crate) fn from_format_1(store: &Store, meta: &sled::Tree) -> Result<usize> {
    let old = store.db.open_tree("snapshots").map_err(|e| store.err(e))?;
    let total = old.len();
    tracing::info!(
        "upgrading {} to format {FORMAT}: {total} snapshots",
        store.path.display()
    );
    let mut chunk = Vec::with_capacity(CHUNK.min(total));
    let mut converted = 0;
    for entry in old.iter() {
        let (k, v) = entry.map_err(|e| store.err(e))?;
        let (domain, at) =
            keys::split_v1_snapshot(&k).ok_or_else(|| store.bad_key("snapshots", &k))?;
        let domain = Domain::from_stored(domain).map_err(|_| store.bad_key("snapshots", &k))?;
        let stats: ServerStats = store.decode("snapshots", &k, &v)?;
        chunk.push(Snapshot { domain, at, stats });
        if chunk.len() == CHUNK {
            store.put_snapshots(&chunk)?;
            converted += chunk.len();
            chunk.clear();
        }
    }
    store.put_snapshots(&chunk)?;
    converted += chunk.len();
    store.flush()?;
    meta.insert("format", &FORMAT.to_be_bytes())
        .map_err(|e| store.err(e))?;
    store.flush()?;
    Ok(converted)
}

/// Drops the format-1 trees once the database is format 2.
pub(crate) fn drop_format_1(store: &Store) -> Result<()> {
    let names = store.db.tree_names();
    for tree in V1_TREES {
        if names.iter().any(|n| n.as_ref() == tree.as_bytes()) {
            store.db.drop_tree(tree).map_err(|e| store.err(e))?;
        }
    }
    Ok(())
}
