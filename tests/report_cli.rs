//! `fedicensus report`, `rebuild` and `server` through the real binary, on a history
//! built by `crawl --at` against the simulated fediverse over several days.

use std::path::Path;
use std::process::Output;

use fedicensus::sim::{self, Behaviour, World};

mod common;

use common::{bin, run, thousands};

fn report(db: &Path, args: &[&str]) -> Output {
    bin()
        .arg("--db")
        .arg(db)
        .arg("report")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_over_a_crawled_history() {
    let mut world = World::standard();
    let sim = sim::serve(world.clone()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let seeds = common::write_seeds(dir.path(), &world);
    let crawl = |at: &str| {
        common::sim_args(
            &db,
            "crawl",
            &seeds,
            &sim,
            &["--per-host-rps", "50", "--at", at],
        )
    };

    // Day 1 baseline; day 2 one server grows by 100 users; day 3 it is down (carried).
    let day1 = world.truth();
    assert!(run(crawl("2024-06-01T12:00:00Z")).await.status.success());
    let grower = world
        .servers
        .iter_mut()
        .find(|s| s.domain == "lanternfish.io")
        .unwrap();
    grower.users_total += 100;
    sim.set_world(world.clone());
    assert!(run(crawl("2024-06-02T12:00:00Z")).await.status.success());
    world
        .servers
        .iter_mut()
        .find(|s| s.domain == "lanternfish.io")
        .unwrap()
        .behaviour
        .push(Behaviour::Dead);
    sim.set_world(world.clone());
    assert!(run(crawl("2024-06-03T12:00:00Z")).await.status.success());

    let json: serde_json::Value = serde_json::from_str(&stdout(&report(
        &db,
        &["--format", "json", "--since", "2024-06-01"],
    )))
    .unwrap();
    assert_eq!(json["since"], "2024-06-01");
    assert_eq!(json["until"], "2024-06-03");
    assert_eq!(json["new_users"], 100);
    assert_eq!(json["new_servers"], 0);
    assert_eq!(json["servers_up"], day1.counted.len());
    assert_eq!(json["total_users"], day1.users_total + 100);
    let last = &json["days"][2];
    assert_eq!(last["servers"]["carried_forward"], 1);
    assert_eq!(last["servers"]["observed"], day1.counted.len() - 1);
    assert!(
        json["days"][0]["servers"]["new"].is_null(),
        "the first day is a baseline"
    );
    assert_eq!(
        json["headline"],
        format!(
            "100 new users across the fediverse since June 1, along with no new servers. That \
             brings the total to {} monthly active users on {} servers.",
            thousands(day1.active_month),
            day1.counted.len()
        )
    );

    let csv = stdout(&report(
        &db,
        &[
            "--format",
            "csv",
            "--since",
            "2024-06-01",
            "--until",
            "2024-06-02",
        ],
    ));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "header and two days: {csv}");
    assert!(lines[0].starts_with("date,servers_up,"));
    assert!(lines[2].starts_with("2024-06-02,"));

    let md = stdout(&report(&db, &["--date", "2024-06-02"]));
    assert!(md.contains(&thousands(day1.users_total + 100)), "{md}");
    let mastodon: serde_json::Value = serde_json::from_str(&stdout(&report(
        &db,
        &["--format", "json", "--software", "Mastodon"],
    )))
    .unwrap();
    assert!(mastodon["by_software"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["software"] == "mastodon"));

    let out = dir.path().join("out");
    stdout(&report(
        &db,
        &["--since", "2024-06-01", "--out", &out.display().to_string()],
    ));
    for file in [
        "report.md",
        "report.json",
        "days.csv",
        "users.svg",
        "users.png",
        "servers.svg",
        "servers.png",
        "software.svg",
        "software.png",
        "new-servers.svg",
        "languages.svg",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }

    // --by: only the last day's split, in each format, the same as in the report.
    let full: serde_json::Value =
        serde_json::from_str(&stdout(&report(&db, &["--format", "json"]))).unwrap();
    for (by, key) in [("software", "by_software"), ("language", "by_language")] {
        let split: serde_json::Value =
            serde_json::from_str(&stdout(&report(&db, &["--by", by, "--format", "json"]))).unwrap();
        assert_eq!(split, full[key], "--by {by}");
    }
    let languages = full["by_language"].as_array().unwrap();
    assert_eq!(
        languages.len(),
        1,
        "the standard world declares English only"
    );
    let csv = stdout(&report(&db, &["--by", "language", "--format", "csv"]));
    assert_eq!(
        csv,
        format!(
            "language,servers,users_total,active_month\nen,{},{},{}\n",
            languages[0]["servers"], languages[0]["users_total"], languages[0]["active_month"]
        )
    );
    let md = stdout(&report(&db, &["--by", "language"]));
    assert!(md.starts_with("## By declared language\n"), "{md}");
    assert!(md.contains(&format!(
        "{} of {} servers declared at least one language",
        full["coverage"]["languages"], full["servers"]["up"]
    )));

    // Errors: one line that says what to do, exit 1.
    for (args, needle) in [
        (&["--date", "2024-07-01"][..], "2024-06-01 to 2024-06-03"),
        (
            &["--since", "2024-06-03", "--until", "2024-06-01"][..],
            "swap",
        ),
    ] {
        let out = report(&db, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    let out = report(&dir.path().join("nothing-here"), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `fedicensus crawl` first"));
    assert_eq!(report(&db, &["--date", "June 1"]).status.code(), Some(2));

    // rebuild changes no number; server shows one history.
    assert!(
        stdout(&bin().arg("--db").arg(&db).arg("rebuild").output().unwrap()).contains("rebuilt")
    );
    let again: serde_json::Value = serde_json::from_str(&stdout(&report(
        &db,
        &["--format", "json", "--since", "2024-06-01"],
    )))
    .unwrap();
    assert_eq!(again, json);
    let history = stdout(
        &bin()
            .arg("--db")
            .arg(&db)
            .args(["server", "LanternFish.io.", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(
        history.lines().count(),
        3,
        "the record and two snapshots: {history}"
    );
    let apex = stdout(
        &bin()
            .arg("--db")
            .arg(&db)
            .args(["server", "social.splitcove.net"])
            .output()
            .unwrap(),
    );
    assert!(
        apex.starts_with("splitcove.net"),
        "an alias shows its canonical server: {apex}"
    );
}
