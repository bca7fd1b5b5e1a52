//! `fedicensus export`, `import` and `servers` through the real binary, on the history
//! `fedicensus demo` crawls from the simulated 30-day wave (growth, flaky servers, a
//! spam farm, a fake count, an opted-out server).
//!
//! The exports are read back by independent readers (Python's csv and json modules,
//! pyarrow) and the README's SQL runs over the partitioned Parquet export with DuckDB
//! and Spark (`tests/engines/`). Those need `python3` with duckdb, pyarrow and pyspark
//! (`.ci/run` installs them); without them the engine test is skipped loudly, except
//! under CI (`CI` set), where it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;

use common::bin;

/// The wave's day 0 and last day with the demo's defaults.
const FIRST: &str = "2022-10-27";
const LAST: &str = "2022-11-26";

/// A demo history in a temporary directory.
struct History {
    dir: tempfile::TempDir,
    db: PathBuf,
}

impl History {
    fn crawl() -> History {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("demo.db");
        ok(bin()
            .args(["--quiet", "demo", "--reports"])
            .arg(dir.path().join("reports"))
            .arg("--demo-db")
            .arg(&db)
            .output()
            .unwrap());
        History { dir, db }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn fedicensus(db: &Path, args: &[&str]) -> Output {
    bin().arg("--db").arg(db).args(args).output().unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The one line of a failed command's error.
fn fails(out: Output) -> String {
    assert!(!out.status.success(), "should have failed");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    err
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn export(db: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec!["--quiet", "export", "--out", out.to_str().unwrap()];
    args.extend(extra);
    ok(fedicensus(db, &args));
}

/// Every report a user can ask for over the whole history, as JSON.
fn reports(db: &Path) -> Vec<Value> {
    let period = [
        "report", "--format", "json", "--since", FIRST, "--until", LAST,
    ];
    let mut all = vec![json(&ok(fedicensus(db, &period)))];
    for extra in [&["--include-suspect"][..], &["--software", "mastodon"]] {
        let args: Vec<&str> = period.iter().chain(extra).copied().collect();
        all.push(json(&ok(fedicensus(db, &args))));
    }
    all.push(json(&ok(fedicensus(db, &["report", "--format", "json"]))));
    all
}

fn import(db: &Path, file: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["import", file.to_str().unwrap(), "--json"];
    args.extend(extra);
    fedicensus(db, &args)
}

#[test]
fn export_then_import_reproduces_every_report_and_reimport_adds_nothing() {
    let h = History::crawl();
    let original = reports(&h.db);
    assert!(original[0]["new_servers"].as_u64().unwrap() > 0);
    let snapshots = {
        let store = fedicensus::store::Store::open_existing(&h.db).unwrap();
        store.snapshot_count() as u64
    };
    for format in ["csv", "jsonl"] {
        let file = h.path(&format!("snapshots.{format}"));
        export(&h.db, &file, &["--format", format]);
        let fresh = h.path(&format!("fresh-{format}.db"));
        let summary = json(&ok(import(&fresh, &file, &[])));
        assert_eq!(summary["rows"], snapshots);
        assert_eq!(summary["added"], snapshots);
        assert_eq!(reports(&fresh), original, "{format} round trip");

        let again = json(&ok(import(&fresh, &file, &["--source", "again"])));
        assert_eq!(
            (again["added"].as_u64(), again["already_known"].as_u64()),
            (Some(0), Some(snapshots))
        );
        assert_eq!(again["new_days"], 0);
        assert_eq!(reports(&fresh), original, "re-import changes nothing");
    }

    // The imported snapshots say where they came from.
    let jsonl = h.path("fresh.jsonl");
    export(&h.path("fresh-csv.db"), &jsonl, &["--format", "jsonl"]);
    let first: Value = json(
        std::fs::read_to_string(&jsonl)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    );
    assert_eq!(first["source"], "crawl (snapshots.csv)");

    // The list behind the number: --new over the period is the period's new servers.
    let listed = json(&ok(fedicensus(
        &h.db,
        &[
            "servers", "--new", "--since", FIRST, "--until", LAST, "--format", "json",
        ],
    )));
    let listed = listed.as_array().unwrap();
    assert_eq!(
        listed.len() as u64,
        original[0]["new_servers"].as_u64().unwrap()
    );
    assert!(listed.iter().all(|r| r["standing"]["state"] == "observed"));
    let per_day_new: u64 = original[0]["days"].as_array().unwrap()[1..]
        .iter()
        .map(|d| d["servers"]["new"].as_u64().unwrap())
        .sum();
    assert_eq!(listed.len() as u64, per_day_new);
    let users: Vec<i64> = listed
        .iter()
        .map(|r| r["users_total"].as_i64().unwrap())
        .collect();
    assert!(users.windows(2).all(|w| w[0] >= w[1]), "most users first");
}

#[test]
fn servers_lists_say_why_each_server_counts_or_not() {
    let h = History::crawl();
    let day = json(&ok(fedicensus(&h.db, &["report", "--format", "json"])));
    let list = json(&ok(fedicensus(&h.db, &["servers", "--format", "json"])));
    let list = list.as_array().unwrap();
    let state = |s: &str| list.iter().filter(|r| r["standing"]["state"] == s).count() as u64;
    assert_eq!(
        state("observed"),
        day["servers"]["observed"].as_u64().unwrap()
    );
    assert_eq!(
        state("carried_forward"),
        day["servers"]["carried_forward"].as_u64().unwrap()
    );
    assert_eq!(
        state("suspect"),
        day["servers"]["excluded"].as_u64().unwrap()
    );

    // Over the whole wave: the spam farm and the fake count are suspect, with their rule.
    let suspect = json(&ok(fedicensus(
        &h.db,
        &["servers", "--suspect", "--since", FIRST, "--format", "json"],
    )));
    let rules: Vec<&str> = suspect
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["standing"]["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"farm") && rules.contains(&"jump"),
        "{rules:?}"
    );

    // A day on which a flaky server was silent lists it as carried forward from a day.
    let carried = list
        .iter()
        .chain(
            json(&ok(fedicensus(
                &h.db,
                &["servers", "--date", "2022-11-20", "--format", "json"],
            )))
            .as_array()
            .unwrap(),
        )
        .find(|r| r["standing"]["state"] == "carried_forward")
        .cloned();
    if let Some(row) = carried {
        assert!(row["standing"]["from"].as_str().unwrap() < row["day"].as_str().unwrap());
    }

    let csv = ok(fedicensus(
        &h.db,
        &[
            "servers", "--new", "--since", FIRST, "--format", "csv", "--limit", "3", "--sort",
            "domain",
        ],
    ));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("domain,day,counts,"));
    assert!(
        lines[1] < lines[2] && lines[2] < lines[3],
        "sorted by domain: {csv}"
    );
    let table = ok(fedicensus(&h.db, &["servers", "--limit", "2"]));
    assert!(
        table.lines().next().unwrap().starts_with("domain"),
        "{table}"
    );
    assert!(table.contains("observed"), "{table}");

    // The report directory lists the period's new servers: top 50 inline, all as CSV.
    let out = h.path("period");
    ok(fedicensus(
        &h.db,
        &[
            "--quiet",
            "report",
            "--since",
            FIRST,
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    let all_new = std::fs::read_to_string(out.join("new_servers.csv")).unwrap();
    let new_servers = day_count(&h.db);
    assert_eq!(all_new.lines().count() as u64, new_servers + 1);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains(&format!("## New servers ({new_servers})")),
        "{md}"
    );
    assert!(md.contains("](new_servers.csv)"));
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("id=\"new-servers\"") && html.contains("<code>new_servers.csv</code>"));
    let shown = html.matches("<tr><td>").count();
    assert!(shown >= new_servers.min(50) as usize, "{shown} rows");
}

fn day_count(db: &Path) -> u64 {
    json(&ok(fedicensus(
        db,
        &["report", "--format", "json", "--since", FIRST],
    )))["new_servers"]
        .as_u64()
        .unwrap()
}

#[test]
fn bad_input_is_one_line_and_leaves_the_database_as_it_was() {
    let h = History::crawl();
    let csv = h.path("s.csv");
    export(&h.db, &csv, &["--format", "csv", "--until", "2022-10-30"]);
    let target = h.path("target.db");
    ok(import(&target, &csv, &[]));
    let before = h.path("before.csv");
    export(&target, &before, &["--format", "csv"]);
    let state = || {
        let now = h.path("now.csv");
        export(&target, &now, &["--format", "csv", "--force"]);
        let runs = fedicensus::store::Store::open_existing(&target)
            .unwrap()
            .runs()
            .unwrap()
            .len();
        (std::fs::read_to_string(&now).unwrap(), runs)
    };
    let unchanged = state();

    // Missing, a directory, Parquet, JSON Lines named as CSV.
    assert!(fails(import(&target, &h.path("missing.csv"), &[])).contains("cannot read"));
    assert!(fails(import(&target, h.dir.path(), &["--format", "csv"])).contains("is a directory"));
    let parquet = h.path("s.parquet");
    export(&h.db, &parquet, &["--format", "parquet"]);
    assert!(fails(import(&target, &parquet, &["--format", "csv"])).contains("Parquet"));
    let jsonl = h.path("s.jsonl");
    export(&h.db, &jsonl, &["--format", "jsonl"]);
    assert!(fails(import(&target, &jsonl, &["--format", "csv"])).contains("--format jsonl"));
    assert!(fails(import(&target, &h.path("notes.txt"), &[])).contains("--format"));

    // A bad row anywhere: its line is named and nothing of the file is kept.
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let good_rows = lines.len() as u64 - 1;
    let bad_line = lines.len() - 2;
    lines[bad_line] = lines[bad_line].replacen(".", " .", 1);
    lines.push("new.example.social,2022-11-01T00:00:00Z,12,,,,,,,,,,x".into());
    lines.push("newer.example.social,2022-11-02 00:00:00,many,,,,,,,,,,x".into());
    let broken = h.path("broken.csv");
    std::fs::write(&broken, lines.join("\n")).unwrap();
    let err = fails(import(&target, &broken, &[]));
    assert!(
        err.contains(&format!("line {}: domain", bad_line + 1)),
        "{err}"
    );
    assert!(err.contains("--skip-invalid"), "{err}");
    assert_eq!(state(), unchanged);
    for (row, problem) in [
        (
            "x.social,yesterday,1",
            "taken_at 'yesterday' is not an instant",
        ),
        (
            "x.social,2022-11-01T00:00:00Z,-",
            "users_total '-' is not a whole number",
        ),
        ("x.social,2022-11-01T00:00:00Z,", "users_total is empty"),
    ] {
        let one = h.path("one.csv");
        std::fs::write(&one, format!("domain,taken_at,users_total\n{row}\n")).unwrap();
        let err = fails(import(&target, &one, &[]));
        assert!(err.contains(&format!("line 2: {problem}")), "{err}");
    }
    let unknown = h.path("unknown.csv");
    std::fs::write(&unknown, "domain,taken_at,users,users_total\n").unwrap();
    assert!(fails(import(&target, &unknown, &[])).contains("line 1: unknown column 'users'"));
    let missing = h.path("missing-column.jsonl");
    std::fs::write(
        &missing,
        "{\"domain\":\"a.social\",\"taken_at\":\"2022-11-01T00:00:00Z\"}\n",
    )
    .unwrap();
    assert!(
        fails(import(&target, &missing, &[])).contains("line 1: the required column users_total")
    );
    assert_eq!(state(), unchanged);

    // --skip-invalid keeps the good rows and counts the bad ones.
    let summary = json(&ok(import(&target, &broken, &["--skip-invalid"])));
    assert_eq!(summary["skipped"], 2);
    assert_eq!(summary["rows"], good_rows + 2);
    assert_eq!(summary["added"], 1, "only new.example.social is new");

    // An existing --out is refused unless --force.
    let err = fails(fedicensus(
        &target,
        &[
            "export",
            "--format",
            "csv",
            "--out",
            before.to_str().unwrap(),
        ],
    ));
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    let err = fails(fedicensus(
        &target,
        &[
            "export",
            "--format",
            "csv",
            "--force",
            "--out",
            h.dir.path().to_str().unwrap(),
        ],
    ));
    assert!(err.contains("not a partitioned export"), "{err}");
    assert!(h.path("reports").is_dir(), "nothing was removed");
}

/// `python3` with the modules the engine tests need, or why not.
fn python(modules: &str) -> Result<(), String> {
    let probe = Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output()
        .map_err(|e| format!("python3 cannot run: {e}"))?;
    if probe.status.success() {
        Ok(())
    } else {
        Err(format!(
            "python3 cannot import {modules}: {}",
            String::from_utf8_lossy(&probe.stderr).trim()
        ))
    }
}

fn python_available(test: &str) -> bool {
    match python("duckdb, pyarrow, pyspark") {
        Ok(()) => true,
        Err(why) if std::env::var_os("CI").is_some() => panic!(
            "{why}: CI must run {test}; `pip install duckdb pyarrow pyspark` (as .ci/run does)"
        ),
        Err(why) => {
            eprintln!(
                "\n!!! SKIPPED {test}: {why}.\n!!! Install them with `pip install duckdb \
                 pyarrow pyspark` to run it.\n"
            );
            false
        }
    }
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/engines")
        .join(name)
}

fn python_run(args: &[&Path]) -> String {
    let out = Command::new("python3")
        .args(args)
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .output()
        .unwrap();
    ok(out)
}

#[test]
fn exports_read_back_and_the_readme_sql_gives_the_reports_numbers_in_duckdb_and_spark() {
    if !python_available("the export reader and engine test") {
        return;
    }
    let h = History::crawl();
    // What the database holds, summed here from the store itself.
    let (rows, users, active, nulls_active) = {
        let store = fedicensus::store::Store::open_existing(&h.db).unwrap();
        let mut sums = (0u64, 0i64, 0i64, 0u64);
        for s in store.all_snapshots() {
            let s = s.unwrap().stats;
            sums.0 += 1;
            sums.1 += s.users_total.unwrap_or(0);
            sums.2 += s.active_month.unwrap_or(0);
            sums.3 += u64::from(s.active_month.is_none());
        }
        sums
    };
    let dataset = h.path("snapshots");
    export(
        &h.db,
        &dataset,
        &["--format", "parquet", "--partition", "day"],
    );
    assert!(dataset
        .join(format!("date={FIRST}/part-0.parquet"))
        .is_file());
    let servers = h.path("servers.parquet");
    export(
        &h.db,
        &servers,
        &["--what", "servers", "--format", "parquet"],
    );
    for (format, path) in [
        ("csv", h.path("s.csv")),
        ("jsonl", h.path("s.jsonl")),
        ("parquet", dataset.clone()),
    ] {
        if format != "parquet" {
            export(&h.db, &path, &["--format", format]);
        }
        let read = json(&python_run(&[
            &script("readback.py"),
            Path::new(format),
            &path,
        ]));
        assert_eq!(read["rows"], rows, "{format}");
        assert_eq!(read["sums"]["users_total"], users, "{format}");
        assert_eq!(read["sums"]["active_month"], active, "{format}");
        assert_eq!(
            read["nulls"]["active_month"], nulls_active,
            "{format}: unknown stays unknown"
        );
        assert_eq!(read["sources"], serde_json::json!(["crawl"]));
        if format == "parquet" {
            let types = &read["types"];
            assert_eq!(types["taken_at"], "timestamp[ms, tz=UTC]");
            assert_eq!(types["users_total"], "int64");
            assert_eq!(types["open_registrations"], "bool");
            assert_eq!(types["languages"], "list<item: string>");
        }
    }

    // The README's SQL is the file the engines run.
    let sql = Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/day_totals.sql");
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(
        readme.contains(std::fs::read_to_string(&sql).unwrap().trim()),
        "README quotes sql/day_totals.sql"
    );

    let report = json(&ok(fedicensus(
        &h.db,
        &[
            "report",
            "--format",
            "json",
            "--include-suspect",
            "--since",
            FIRST,
            "--until",
            LAST,
        ],
    )));
    let expected: Vec<Value> = report["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            serde_json::json!({
                "date": d["date"],
                "servers_up": d["servers"]["up"],
                "users_total": d["users"]["total"],
                "active_month": d["users"]["active_month"],
                "active_halfyear": d["users"]["active_halfyear"],
                "local_posts": d["posts"]["local"],
            })
        })
        .collect();
    for engine in ["duckdb", "spark"] {
        let out = python_run(&[
            &script("day_totals.py"),
            Path::new(engine),
            &dataset,
            &servers,
            &sql,
        ]);
        let got: Vec<Value> = out.lines().map(json).collect();
        assert_eq!(got, expected, "{engine}");
    }
}

/// `servers --gone` lists exactly the servers a day's (or each day of a period's)
/// `servers.gone` counts: silent for 30 days, on the 30th. The history is imported, so
/// the servers fall silent exactly when the test says.
#[test]
fn gone_lists_the_servers_silent_for_thirty_days_as_the_report_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let (db, csv) = (dir.path().join("db"), dir.path().join("history.csv"));
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let mut text = String::from("domain,taken_at,users_total\n");
    for day in 0..45u64 {
        let date = start + chrono::Days::new(day);
        text += &format!("steady.social,{date}T12:00:00Z,100\n");
        // Last answers on January 5 and January 10: gone on February 4 and 9.
        if day < 5 {
            text += &format!("quitter.social,{date}T12:00:00Z,50\n");
        }
        if day < 10 {
            text += &format!("later.social,{date}T12:00:00Z,70\n");
        }
    }
    std::fs::write(&csv, text).unwrap();
    ok(import(&db, &csv, &[]));

    let gone_on = |date: &str| -> Vec<String> {
        let list = json(&ok(fedicensus(
            &db,
            &["servers", "--gone", "--date", date, "--format", "json"],
        )));
        let report = json(&ok(fedicensus(
            &db,
            &["report", "--date", date, "--format", "json"],
        )));
        let domains: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["domain"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            domains.len() as u64,
            report["servers"]["gone"].as_u64().unwrap(),
            "{date}: the list and the report's count"
        );
        domains
    };
    assert_eq!(gone_on("2024-02-03"), Vec::<String>::new());
    assert_eq!(gone_on("2024-02-04"), ["quitter.social"]);
    assert_eq!(gone_on("2024-02-05"), Vec::<String>::new());
    assert_eq!(gone_on("2024-02-09"), ["later.social"]);

    let period = json(&ok(fedicensus(
        &db,
        &[
            "servers",
            "--gone",
            "--since",
            "2024-01-01",
            "--until",
            "2024-02-14",
            "--sort",
            "domain",
            "--format",
            "json",
        ],
    )));
    let rows: Vec<(&str, &str, &str)> = period
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["domain"].as_str().unwrap(),
                r["day"].as_str().unwrap(),
                r["standing"]["since"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("later.social", "2024-02-09", "2024-01-10"),
            ("quitter.social", "2024-02-04", "2024-01-05"),
        ]
    );
}
