//! End-to-end: `fedicensus demo` against the wave's ground truth, and `fedicensus daily`
//! (idempotence, exit codes, thin crawls, the lock) against the simulated fediverse.

use std::collections::BTreeMap;
use std::path::Path;

use fedicensus::report::window::language_code;
use fedicensus::sim::scenarios::{WAVE_FAKE_DAY, WAVE_FAKE_DOMAIN, WAVE_SURGE_AFTER};
use fedicensus::sim::{self, Behaviour, Kind, World};
use fedicensus::store::Store;

mod common;

use common::{bin, read_json, run, thousands};

/// The wave's census of day `day` (see [`common::expected_census`]); spam-farm servers
/// are excluded.
fn expected_census(day: u32) -> (BTreeMap<String, [i64; 2]>, usize) {
    let counted = common::expected_census(day, World::wave, |d| !d.ends_with(".spamfarm.xyz"));
    let n = counted.len();
    (counted, n)
}

/// Sign-ups a week as the census adds them on simulated day `day`: the counting
/// Mastodon servers (the only ones publishing them), each with its latest week; the
/// fake count's server is left out on its day.
fn expected_signups(day: u32) -> (i64, usize) {
    let mut latest: BTreeMap<String, i64> = BTreeMap::new();
    for d in day.saturating_sub(7)..=day {
        let world = World::wave(d);
        let truth = world.truth();
        for s in world
            .servers
            .iter()
            .filter(|s| truth.counted.contains(&s.domain))
        {
            if s.kind == Kind::Mastodon && !s.domain.ends_with(".spamfarm.xyz") {
                latest.insert(s.domain.clone(), s.registrations_week.unwrap());
            }
        }
    }
    if day == WAVE_FAKE_DAY {
        latest.remove(WAVE_FAKE_DOMAIN);
    }
    (latest.values().sum(), latest.len())
}

/// The demo's period report against the truth: where its new users came from,
/// sign-ups, languages, and the sign-up surge as a growth wave.
fn assert_answers(report: &serde_json::Value) {
    let (day0, _) = expected_census(0);
    let (day30, _) = expected_census(30);
    let mut parts = [(0u64, 0i64); 3];
    for (name, [users, _]) in &day30 {
        match day0.get(name) {
            Some([before, _]) => parts[0] = (parts[0].0 + 1, parts[0].1 + users - before),
            None => parts[1] = (parts[1].0 + 1, parts[1].1 + users),
        }
    }
    for (name, [users, _]) in &day0 {
        if !day30.contains_key(name) {
            parts[2] = (parts[2].0 + 1, parts[2].1 + users);
        }
    }
    let g = &report["growth"];
    for (key, (servers, users)) in ["continuing", "newly_counted", "stopped_counting"]
        .iter()
        .zip(parts)
    {
        assert_eq!(
            (
                g[key]["servers"].as_u64().unwrap(),
                g[key]["users"].as_i64().unwrap()
            ),
            (servers, users),
            "{key}"
        );
    }
    let split = report["headline_split"].as_str().unwrap();
    assert!(
        split.starts_with(&format!(
            "Of this change, {} happened on servers counted on both days and {} are the \
         existing users of {} servers newly counted",
            thousands(parts[0].1),
            thousands(parts[1].1),
            parts[1].0
        )),
        "{split}"
    );

    let weeks: i64 = (1..=30).map(|d| expected_signups(d).0).sum();
    let signups = &report["signups"];
    assert_eq!(signups["estimated"], (weeks as f64 / 7.0).round() as i64);
    assert_eq!(signups["servers_reporting"], expected_signups(30).1);

    // Languages as the servers with an instance API declare them.
    let world = World::wave(30);
    let mut languages: BTreeMap<String, (u64, i64, i64)> = BTreeMap::new();
    for s in world
        .servers
        .iter()
        .filter(|s| day30.contains_key(&s.domain))
    {
        if !(s.kind.serves_instance_v1() || s.kind.serves_instance_v2()) {
            continue;
        }
        let [users, active] = day30[&s.domain];
        for language in s.languages.iter().filter_map(|l| language_code(l)) {
            let row = languages.entry(language).or_default();
            *row = (row.0 + 1, row.1 + users, row.2 + active);
        }
    }
    let days = report["days"].as_array().unwrap();
    let got: BTreeMap<String, (u64, i64, i64)> = days[30]["by_language"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["language"].as_str().unwrap().to_string(),
                (
                    r["servers"].as_u64().unwrap(),
                    r["users_total"].as_i64().unwrap(),
                    r["active_month"].as_i64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(got, languages);
    assert!(languages.len() >= 5, "the wave declares several languages");

    // The sign-up surge is one wave, from the first day of the surge.
    let waves = report["waves"].as_array().unwrap();
    assert_eq!(waves.len(), 1, "{waves:?}");
    let wave = &waves[0];
    let surge = (WAVE_SURGE_AFTER + 1) as usize;
    assert_eq!(wave["start"], days[surge]["date"]);
    assert!(wave["measures"]
        .as_array()
        .unwrap()
        .contains(&"new_users".into()));
    let end = days.iter().position(|d| d["date"] == wave["end"]).unwrap();
    assert!((surge + 5..=surge + 12).contains(&end), "{wave}");
    let users = |i: usize| days[i]["users"]["total"].as_i64().unwrap();
    assert_eq!(wave["new_users"], users(end) - users(surge - 1));
    let top = wave["top_servers"].as_array().unwrap();
    assert_eq!(top.len(), 5);
    let hubs: Vec<String> = (0..3).map(sim::scenarios::fictional_domain).collect();
    assert!(
        hubs.contains(&top[0]["domain"].as_str().unwrap().to_string()),
        "{top:?}"
    );
}

#[test]
fn demo_headline_matches_the_simulations_ground_truth() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let out = bin()
        .args(["--quiet", "demo", "--reports"])
        .arg(&reports)
        .arg("--demo-db")
        .arg(dir.path().join("demo.db"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = read_json(&reports.join("demo/report.json"));

    let (day0, _) = expected_census(0);
    let (day30, servers_up) = expected_census(30);
    let users = |c: &BTreeMap<String, [i64; 2]>| c.values().map(|v| v[0]).sum::<i64>();
    let new_users = users(&day30) - users(&day0);
    let active = day30.values().map(|v| v[1]).sum::<i64>();
    // New servers: first answered on a day after day 0 (never a spam-farm node).
    let mut first_seen: BTreeMap<String, u32> = BTreeMap::new();
    for d in 0..=30 {
        let world = World::wave(d);
        for name in world.truth().counted {
            first_seen.entry(name).or_insert(d);
        }
    }
    let new_servers = first_seen
        .iter()
        .filter(|(name, d)| **d > 0 && !name.ends_with(".spamfarm.xyz"))
        .count();

    assert_eq!(report["new_users"], new_users);
    assert_eq!(report["active_users"], active);
    assert_eq!(report["servers_up"], servers_up);
    assert_eq!(report["new_servers"], new_servers);
    let headline = report["headline"].as_str().unwrap();
    assert_eq!(
        headline,
        format!(
            "{} new users across the fediverse since October 27, along with {new_servers} new \
             servers. That brings the total to {} monthly active users on {servers_up} servers.",
            thousands(new_users),
            thousands(active)
        )
    );
    assert_answers(&report);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(headline),
        "the demo prints its headline: {stdout}"
    );

    // The fake count is flagged on its day, and the spam farm is left out at the end.
    let days = report["days"].as_array().unwrap();
    let fake_day = &days[sim::scenarios::WAVE_FAKE_DAY as usize];
    assert!(
        fake_day["excluded"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["domain"] == sim::scenarios::WAVE_FAKE_DOMAIN),
        "{fake_day}"
    );
    let last = days.last().unwrap();
    let spam = last["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["domain"].as_str().unwrap().ends_with(".spamfarm.xyz"))
        .count();
    assert_eq!(spam, sim::scenarios::WAVE_SPAM_NODES);
    // Flaky servers are carried forward, not dropped, on some day of the wave.
    assert!(days
        .iter()
        .any(|d| d["servers"]["carried_forward"].as_u64().unwrap() > 0));
    for file in [
        "index.html",
        "report.md",
        "days.csv",
        "users.svg",
        "users.png",
        "servers.svg",
        "software.png",
    ] {
        assert!(reports.join("demo").join(file).is_file(), "{file} written");
    }
}

fn daily_args(
    db: &Path,
    reports: &Path,
    seeds: &Path,
    sim: &sim::SimHandle,
    at: &str,
) -> Vec<String> {
    let reports = reports.display().to_string();
    common::sim_args(
        db,
        "daily",
        seeds,
        sim,
        &["--reports", &reports, "--per-host-rps", "50", "--at", at],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily_is_idempotent_and_flags_thin_crawls() {
    let world = World::standard();
    let truth = world.truth();
    let sim = sim::serve(world.clone()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (db, reports) = (dir.path().join("db"), dir.path().join("reports"));
    let seeds = common::write_seeds(dir.path(), &world);

    // Two runs on one day: the second adds snapshots, the report counts each server once.
    let first = run(daily_args(
        &db,
        &reports,
        &seeds,
        &sim,
        "2024-05-01T06:00:00Z",
    ))
    .await;
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let day_dir = reports.join("2024-05-01");
    let before = read_json(&day_dir.join("report.json"));
    let second = run(daily_args(
        &db,
        &reports,
        &seeds,
        &sim,
        "2024-05-01T18:00:00Z",
    ))
    .await;
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let after = read_json(&day_dir.join("report.json"));
    let end = |r: &serde_json::Value| r["days"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(end(&after)["servers"]["up"], truth.counted.len());
    assert_eq!(end(&after)["users"]["total"], truth.users_total);
    assert_eq!(end(&before)["users"], end(&after)["users"]);
    assert_eq!(
        Store::open_existing(&db).unwrap().snapshot_count(),
        2 * truth.counted.len(),
        "the second run's snapshots are kept"
    );
    let latest = read_json(&reports.join("latest.json"));
    assert_eq!(latest["date"], "2024-05-01");
    assert_eq!(latest["health"], "ok");
    assert_eq!(latest["day"]["users"]["total"], truth.users_total);
    let html = std::fs::read_to_string(reports.join("index.html")).unwrap();
    assert!(
        html.contains(&thousands(truth.users_total)),
        "index.html shows the users total"
    );
    assert!(String::from_utf8_lossy(&second.stdout).contains("report written to"));

    // The next day most servers fail to answer: exit 3, and the report says why.
    let mut broken = world.clone();
    for server in broken.servers.iter_mut().skip(3) {
        server.behaviour.push(Behaviour::Dead);
    }
    sim.set_world(broken);
    let thin = run(daily_args(
        &db,
        &reports,
        &seeds,
        &sim,
        "2024-05-02T06:00:00Z",
    ))
    .await;
    assert_eq!(
        thin.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&thin.stderr)
    );
    let latest = read_json(&reports.join("latest.json"));
    assert_eq!(latest["health"], "thin");
    // The last 7 days start at the first crawl day while the database is younger.
    assert_eq!(latest["last_7_days"]["since"], "2024-05-01");
    assert_eq!(latest["last_7_days"]["until"], "2024-05-02");
    assert_eq!(latest["last_7_days"]["days"].as_array().unwrap().len(), 2);
    let notes = latest["day"]["notes"].to_string();
    assert!(notes.contains("suspiciously thin"), "{notes}");
    // Carried forward: the total does not collapse.
    assert_eq!(latest["day"]["users"]["total"], truth.users_total);

    // A later report of the thin day says so too, next to its headline.
    let later = common::bin()
        .arg("report")
        .arg("--db")
        .arg(&db)
        .args(["--date", "2024-05-02"])
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&later.stdout);
    assert!(md.contains("suspiciously thin"), "{md}");
    assert!(
        md.contains("Warning: fewer than half of the servers that answered the day before"),
        "{md}"
    );

    // Nothing answers at all: exit 1, and the published page and latest.json keep the
    // last day with a census.
    let published = |name: &str| std::fs::read(reports.join(name)).unwrap();
    let (latest_before, page_before) = (published("latest.json"), published("index.html"));
    let mut dead = world.clone();
    for server in dead.servers.iter_mut() {
        server.behaviour.push(Behaviour::Dead);
    }
    sim.set_world(dead);
    let nothing = run(daily_args(
        &db,
        &reports,
        &seeds,
        &sim,
        "2024-05-03T06:00:00Z",
    ))
    .await;
    assert_eq!(
        nothing.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&nothing.stderr)
    );
    assert_eq!(published("latest.json"), latest_before);
    assert_eq!(published("index.html"), page_before);
    let day = read_json(&reports.join("2024-05-03").join("report.json"));
    let end = day["days"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(end["health"], "nothing_reachable");
    assert!(
        end["notes"].to_string().contains("No server answered"),
        "{end}"
    );

    // A second process while the database is held exits at once, naming the lock.
    let held = Store::open(&db).unwrap();
    let locked = run(daily_args(
        &db,
        &reports,
        &seeds,
        &sim,
        "2024-05-04T06:00:00Z",
    ))
    .await;
    drop(held);
    assert_eq!(locked.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&locked.stderr).contains("locked by another fedicensus process")
    );
}
