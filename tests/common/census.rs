//! Reading a crawl's result back: its `--json` summary, each server's latest numbers,
//! and the check that a crawl counted a world exactly as its truth says.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Output;

use fedicensus::sim::Truth;
use fedicensus::store::Store;

/// The `--json` summary of a crawl that succeeded.
pub fn summary(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "crawl failed ({}): {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    serde_json::from_slice(&output.stdout).expect("--json prints JSON")
}

/// Each server's latest snapshot numbers, by canonical domain.
pub fn latest(db: &Path) -> BTreeMap<String, [i64; 4]> {
    let store = Store::open_existing(db).unwrap();
    let mut out = BTreeMap::new();
    for snapshot in store.all_snapshots() {
        let s = snapshot.unwrap();
        let st = &s.stats;
        out.insert(
            s.domain.to_string(),
            [
                st.users_total.unwrap_or(0),
                st.active_month.unwrap_or(0),
                st.active_halfyear.unwrap_or(0),
                st.local_posts.unwrap_or(0),
            ],
        );
    }
    out
}

/// Exactly the servers the truth counts, with their numbers, and its opt-outs.
pub fn assert_census(db: &Path, s: &serde_json::Value, truth: &Truth) {
    let got = latest(db);
    let counted: BTreeSet<String> = got.keys().cloned().collect();
    assert_eq!(counted, truth.counted);
    let sum = |i: usize| got.values().map(|v| v[i]).sum::<i64>();
    assert_eq!(
        [sum(0), sum(1), sum(2), sum(3)],
        [
            truth.users_total,
            truth.active_month,
            truth.active_halfyear,
            truth.local_posts
        ]
    );
    assert_eq!(s["servers_up"], truth.counted.len());
    let opted_out: u64 = s["opted_out"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(opted_out as usize, truth.opted_out.len());
}
