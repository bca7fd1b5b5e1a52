//! Store format 2 end to end through the real binary: the upgrade of the checked-in
//! format-1 database (tests/fixtures/store-format1, see its README) loses nothing and
//! changes no recorded report field (see `same_output`), and a SIGKILL during the seal of fresh snapshots or
//! during a rebuild loses nothing and leaves the reports usable.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use chrono::{DateTime, Utc};
use fedicensus::domain::Domain;
use fedicensus::snapshot::{ServerStats, Snapshot};
use fedicensus::store::{ServerRecord, Store};

mod common;

use common::bin;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-format1")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn fedicensus(db: &Path, args: &[&str]) -> Output {
    bin().arg("--db").arg(db).args(args).output().unwrap()
}

fn ok(out: Output) -> Vec<u8> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The commands whose outputs were recorded with the format-1 build, by file name.
fn expected() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(fixture().join("expected/COMMANDS")).unwrap();
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (file, args) = line.split_once('\t').unwrap();
            (
                file.to_string(),
                args.split(' ').map(str::to_string).collect(),
            )
        })
        .collect()
}

/// Every snapshot, record and run, one JSON object a line, in a fixed order.
fn dump(db: &Path) -> [String; 3] {
    let store = Store::open_existing(db).unwrap();
    let mut snapshots: Vec<Snapshot> = store.all_snapshots().map(Result::unwrap).collect();
    snapshots.sort_by(|a, b| (&a.domain, a.at).cmp(&(&b.domain, b.at)));
    let lines = |items: Vec<String>| items.into_iter().map(|l| l + "\n").collect::<String>();
    let json = |v: &dyn erased::Json| v.json();
    [
        lines(snapshots.iter().map(|s| json(s)).collect()),
        lines(store.servers().map(|r| json(&r.unwrap())).collect()),
        lines(store.runs().unwrap().iter().map(|r| json(r)).collect()),
    ]
}

mod erased {
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap()
        }
    }
}

#[test]
fn a_format_1_database_is_upgraded_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    copy_dir(&fixture().join("db"), &db);

    // A read-only command refuses, naming the command that converts, and changes nothing.
    let out = fedicensus(&db, &["report", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("format 1") && err.contains("upgrade"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let said = String::from_utf8(ok(fedicensus(&db, &["upgrade"]))).unwrap();
    assert!(said.contains("format 2"), "{said}");
    let [snapshots, servers, runs] = dump(&db);
    let want = |name: &str| std::fs::read_to_string(fixture().join("expected").join(name)).unwrap();
    assert_eq!(
        snapshots,
        want("snapshots.jsonl"),
        "every snapshot, unchanged"
    );
    assert_eq!(
        servers,
        want("servers.jsonl"),
        "every server record, unchanged"
    );
    assert_eq!(runs, want("runs.jsonl"), "every run, unchanged");

    for (file, args) in expected() {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let got = ok(fedicensus(&db, &args));
        let want = std::fs::read(fixture().join("expected").join(&file)).unwrap();
        same_output(&file, &got, &want);
    }
    upgraded_reports_equal_the_census(&db);
    // A second upgrade and a rebuild change nothing either.
    ok(fedicensus(&db, &["upgrade"]));
    ok(fedicensus(&db, &["rebuild"]));
    assert_eq!(dump(&db)[0], snapshots);
    let (file, args) = &expected()[3];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let want = std::fs::read(fixture().join("expected").join(file)).unwrap();
    same_output(file, &ok(fedicensus(&db, &args)), &want);
}

/// Outputs byte for byte, except that a report may carry what was added to reports
/// after the fixture was recorded: a JSON report fields (`health`, which holds no
/// number, and the answers' [`ADDED`], which [`upgraded_reports_equal_the_census`]
/// checks), every recorded field there with the same value; a CSV report columns at
/// the end of every recorded line.
fn same_output(file: &str, got: &[u8], want: &[u8]) {
    if file.ends_with(".json") {
        let got: serde_json::Value = serde_json::from_slice(got).unwrap();
        let want: serde_json::Value = serde_json::from_slice(want).unwrap();
        assert_recorded(file, &got, &want);
    } else if file.ends_with(".csv") {
        let (got, want) = (String::from_utf8_lossy(got), String::from_utf8_lossy(want));
        assert_eq!(got.lines().count(), want.lines().count(), "{file}");
        for (g, w) in got.lines().zip(want.lines()) {
            assert!(g.starts_with(&format!("{w},")), "{file}: {g} after {w}");
        }
    } else {
        assert!(
            got == want,
            "{file} differs after the upgrade:\n{}",
            String::from_utf8_lossy(got)
        );
    }
}

/// The report fields added by the growth split, sign-ups, languages and waves.
const ADDED: [&str; 6] = [
    "by_language",
    "growth",
    "signups",
    "languages",
    "headline_split",
    "waves",
];

/// The upgraded database's reports, added fields included, are what `Census` computes
/// from its history: a period over the whole census under every filter the fixture
/// records.
fn upgraded_reports_equal_the_census(db: &Path) {
    use fedicensus::report::{self, Filter, Report, Scope};
    let store = Store::open_existing(db).unwrap();
    let crawl_days = store.crawl_days().unwrap();
    let (since, until) = (crawl_days[0], *crawl_days.last().unwrap());
    for (software, include_suspect) in [(None, false), (None, true), (Some("mastodon"), false)] {
        let filter = Filter {
            software: software.map(str::to_string),
            include_suspect,
        };
        let want = common::oracle::period(&store, since, until, &filter);
        assert!(want.days.iter().any(|d| !d.by_language.is_empty()));
        let scope = Scope::Period {
            since,
            until: Some(until),
        };
        let Report::Period(got) = report::build(&store, scope, &filter).unwrap() else {
            unreachable!("a period")
        };
        assert_eq!(got, want, "{filter:?}");
    }
}

fn assert_recorded(at: &str, got: &serde_json::Value, want: &serde_json::Value) {
    use serde_json::Value;
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            for (key, value) in w {
                let path = format!("{at}.{key}");
                assert_recorded(&path, g.get(key).unwrap_or(&Value::Null), value);
            }
            let added = |k: &str| ADDED.contains(&k);
            for (key, value) in g.iter().filter(|(k, _)| !w.contains_key(*k) && !added(k)) {
                assert_eq!(
                    (key.as_str(), value),
                    ("health", &Value::from("ok")),
                    "{at}: a new field"
                );
            }
        }
        (Value::Array(g), Value::Array(w)) => {
            assert_eq!(g.len(), w.len(), "{at}");
            for (i, (g, w)) in g.iter().zip(w).enumerate() {
                assert_recorded(&format!("{at}[{i}]"), g, w);
            }
        }
        _ => assert_eq!(got, want, "{at}"),
    }
}

/// A database whose snapshots are all still fresh (recorded as the crawler records
/// them, never sealed): `servers` servers on each of `days` days.
fn unsealed(db: &Path, servers: usize, days: i64) -> usize {
    let store = Store::open(db).unwrap();
    let start: DateTime<Utc> = "2024-03-01T12:00:00Z".parse().unwrap();
    for day in 0..days {
        let at = start + chrono::Duration::days(day);
        let mut run = store.start_run(at, at, serde_json::json!({})).unwrap();
        run.ended = Some(at);
        store.put_run(&run).unwrap();
        for s in 0..servers {
            let domain = Domain::parse(&format!("s{s}.social")).unwrap();
            let stats = ServerStats {
                software: ["mastodon", "lemmy"][s % 2].into(),
                users_total: Some(100 + s as i64 + day),
                active_month: Some(10),
                ..Default::default()
            };
            let mut record = store
                .server(&domain)
                .unwrap()
                .unwrap_or_else(|| ServerRecord::discovered(domain.clone(), at, None));
            record.record_up(at, &stats, []);
            store
                .record_visit(&[record], &Snapshot { domain, at, stats })
                .unwrap();
        }
    }
    store.flush().unwrap();
    servers * days as usize
}

/// Starts `fedicensus ARGS`, SIGKILLs it after `delay`; returns whether it was still
/// running (killed) rather than already finished.
fn kill_after(db: &Path, args: &[&str], delay: Duration) -> bool {
    let mut child = bin().arg("--db").arg(db).args(args).spawn().unwrap();
    std::thread::sleep(delay);
    let running = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    running
}

fn period(db: &Path) -> String {
    let out = ok(fedicensus(
        db,
        &["report", "--format", "json", "--since", "2024-03-01"],
    ));
    String::from_utf8(out).unwrap()
}

/// The first line where two reports differ, if any.
fn first_difference(got: &str, want: &str) -> Option<(usize, String, String)> {
    let (mut a, mut b) = (got.lines(), want.lines());
    for n in 1.. {
        match (a.next(), b.next()) {
            (None, None) => return None,
            (x, y) if x != y => {
                return Some((n, x.unwrap_or("").into(), y.unwrap_or("").into()));
            }
            _ => {}
        }
    }
    None
}

#[test]
fn sigkill_during_a_seal_or_a_rebuild_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let total = unsealed(&db, 3000, 4);
    // The reference: a copy sealed and derived without interruption.
    let reference = dir.path().join("reference");
    copy_dir(&db, &reference);
    ok(fedicensus(&reference, &["rebuild"]));
    let want = period(&reference);

    let mut killed = 0;
    for ms in [40, 120, 250, 400, 700, 1000, 1500, 2500] {
        // `rebuild` first seals the fresh snapshots, then derives every day.
        if kill_after(&db, &["rebuild"], Duration::from_millis(ms)) {
            killed += 1;
        }
        let store = Store::open_existing(&db).unwrap();
        assert_eq!(store.snapshot_count(), total, "killed after {ms} ms");
        drop(store);
        assert_eq!(
            first_difference(&period(&db), &want),
            None,
            "killed after {ms} ms"
        );
    }
    assert!(killed > 0, "no kill landed while the rebuild ran");
    ok(fedicensus(&db, &["rebuild"]));
    assert_eq!(first_difference(&period(&db), &want), None);
}
