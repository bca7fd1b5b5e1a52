//! End-to-end: servers back from an outage are counted the day they answer again. A
//! simulated month is crawled once a day by the real binary; outages of 5, 10 and 25
//! days; each day's report must equal the world's truth with the 7-day carry-forward.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use fedicensus::sim::{Behaviour, Kind, SimServer, World};

mod common;

use common::{expected_census, run, Scene};

/// (domain, first day down, days down).
const OUTAGES: [(&str, u32, u32); 3] = [
    ("fiveday.social", 3, 5),
    ("tenday.social", 4, 10),
    ("longdrop.net", 2, 25),
];
const STEADY: [&str; 2] = ["steady-one.social", "steady-two.org"];
const DAYS: u32 = 36;

fn down(domain: &str, day: u32) -> bool {
    OUTAGES
        .iter()
        .any(|(d, first, days)| *d == domain && (*first..first + days).contains(&day))
}

/// A hub listing five servers; everyone gains users every day, so a server carried
/// forward with stale numbers shows in the totals.
fn world_on(day: u32) -> World {
    let others: Vec<&str> = OUTAGES.iter().map(|(d, _, _)| *d).chain(STEADY).collect();
    let grow = i64::from(day);
    let hub = SimServer::new("hub.social", Kind::Mastodon)
        .with_usage(1000 + grow, 300, 500, 9000)
        .with_peers(&others);
    let mut servers = vec![hub];
    for (i, domain) in others.iter().enumerate() {
        let base = 100 * (i as i64 + 1);
        let mut s = SimServer::new(domain, Kind::Mastodon).with_usage(
            base + 3 * grow,
            base / 2 + grow,
            base,
            base * 10,
        );
        if down(domain, day) {
            s = s.with(Behaviour::Dead);
        }
        servers.push(s);
    }
    World {
        servers,
        seeds: vec!["hub.social".into()],
    }
}

fn noon(day: u32) -> DateTime<Utc> {
    "2024-06-01T12:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::days(day.into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_back_from_outages_count_the_day_they_answer() {
    let scene = Scene::new(world_on(0)).await;
    let Scene { sim, db, seeds, .. } = &scene;
    // Requests to each outage server on each of its down days.
    let mut asked_while_down: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for day in 0..DAYS {
        sim.set_world(world_on(day));
        sim.clear_requests();
        let at = noon(day).to_rfc3339();
        let out = run(common::sim_args(
            db,
            "crawl",
            seeds,
            sim,
            &["--per-host-rps", "50", "--at", &at],
        ))
        .await;
        assert!(
            out.status.success(),
            "day {day}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let requests = sim.requests();
        for (domain, _, _) in OUTAGES.iter().filter(|(d, _, _)| down(d, day)) {
            let n = requests.iter().filter(|r| r.host == *domain).count();
            asked_while_down.entry(domain).or_default().push(n);
        }
    }

    let last = noon(DAYS - 1).date_naive().to_string();
    let first = noon(0).date_naive().to_string();
    let out = run(vec![
        "--db".into(),
        db.display().to_string(),
        "--quiet".into(),
        "report".into(),
        "--since".into(),
        first,
        "--until".into(),
        last,
        "--format".into(),
        "json".into(),
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let days = report["days"].as_array().unwrap();
    assert_eq!(days.len(), DAYS as usize);
    for (day, reported) in (0..DAYS).zip(days) {
        let expected = expected_census(day, world_on, |_| true);
        let users: i64 = expected.values().map(|v| v[0]).sum();
        let active: i64 = expected.values().map(|v| v[1]).sum();
        assert_eq!(
            (
                reported["servers"]["up"].as_u64().unwrap() as usize,
                reported["users"]["total"].as_i64().unwrap(),
                reported["users"]["active_month"].as_i64().unwrap()
            ),
            (expected.len(), users, active),
            "day {day}: {reported}"
        );
    }

    // While a recently seen server is down it costs one request a day: the probe.
    for (domain, counts) in &asked_while_down {
        assert!(counts.iter().all(|n| *n == 1), "{domain}: {counts:?}");
    }
    assert_eq!(asked_while_down["longdrop.net"].len(), 25);
}
