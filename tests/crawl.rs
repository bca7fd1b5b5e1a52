//! End-to-end: the real `fedicensus crawl` binary against the simulated fediverse on
//! 127.0.0.1, checked against the simulation's ground truth.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::Duration;

use fedicensus::domain::Domain;
use fedicensus::sim::{self, Behaviour, RequestRecord, SimHandle, World};
use fedicensus::store::{Status, Store};

mod common;

use common::census::{assert_census, latest, summary};
use common::{bin, run, Scene};

const AT: &str = "2024-03-01T12:00:00Z";

fn crawl_args(db: &Path, seeds: &Path, sim: &SimHandle, extra: &[&str]) -> Vec<String> {
    let mut args = common::sim_args(db, "crawl", seeds, sim, &["--json"]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn hosts(requests: &[RequestRecord]) -> BTreeMap<String, Vec<String>> {
    let mut by_host: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in requests {
        by_host
            .entry(r.host.clone())
            .or_default()
            .push(r.path.clone());
    }
    by_host
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_counts_the_standard_world_exactly() {
    let scene = Scene::new(World::standard()).await;
    let Scene {
        world,
        sim,
        db,
        seeds,
        ..
    } = &scene;
    let truth = world.truth();

    let out = run(crawl_args(
        db,
        seeds,
        sim,
        &["--per-host-rps", "10", "--at", AT],
    ))
    .await;
    let s = summary(&out);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 3"),
        "the bad seed line is reported with its number: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Exactly the servers the simulation says an honest crawler counts, with their numbers.
    assert_census(db, &s, &truth);
    let got = latest(db);
    assert_eq!(s["failed"]["not_fediverse"], truth.not_fediverse.len());
    // Hostile servers fail with their reason: a dead host, a hanging one, an oversized
    // NodeInfo and a gzip bomb.
    assert_eq!(s["failed"]["connect"], 1, "{s}");
    assert_eq!(s["failed"]["timeout"], 1, "{s}");
    assert_eq!(s["failed"]["too_large"], 2, "{s}");
    assert_eq!(
        s["failed"]["rate_limited"], 0,
        "Retry-After was honoured: {s}"
    );
    assert!(
        s["rejected_peers"].as_u64().unwrap() >= 8,
        "junk peers are counted: {s}"
    );
    assert_eq!(s["interrupted"], false);

    let requests = sim.requests();
    let by_host = hosts(&requests);
    // Junk, blocked-only and unreachable names never receive a request.
    for name in &truth.never_contact {
        assert!(
            !by_host.contains_key(name),
            "{name} was contacted: {:?}",
            by_host.get(name)
        );
    }
    // Opted-out servers: nothing after the request that told us.
    for server in world
        .servers
        .iter()
        .filter(|s| truth.opted_out.contains(&s.domain))
    {
        let paths = by_host.get(&server.domain).cloned().unwrap_or_default();
        let robots = server.has(&Behaviour::RobotsDisallowAll)
            || server.has(&Behaviour::RobotsDisallowFedicensus);
        let gone = server.has(&Behaviour::Gone410);
        for p in &paths {
            // Robots: robots.txt only. Gone: until the first 410. Private NodeInfo: until
            // the NodeInfo document that says so.
            let allowed = p == "/robots.txt"
                || (!robots && p == "/.well-known/nodeinfo")
                || (!robots && !gone && p.starts_with("/nodeinfo/"));
            assert!(allowed, "{} got {p} after opting out", server.domain);
        }
        assert!(!paths.is_empty(), "{} was never asked", server.domain);
    }
    // Every request carries our user agent, and no host is asked faster than allowed.
    assert!(requests.iter().all(|r| r
        .user_agent
        .as_deref()
        .is_some_and(|ua| ua.starts_with("fedicensus/"))));
    let mut last: BTreeMap<&str, std::time::Instant> = BTreeMap::new();
    for r in &requests {
        if let Some(prev) = last.insert(&r.host, r.at) {
            let gap = r.at.duration_since(prev);
            assert!(
                gap >= Duration::from_millis(80),
                "{} asked twice within {gap:?} at --per-host-rps 10",
                r.host
            );
        }
    }

    // The split domain is one server under its apex, with the web name as alias.
    let store = Store::open_existing(db).unwrap();
    let web = store
        .server(&Domain::parse("social.splitcove.net").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(
        web.status,
        Status::Alias {
            canonical: Domain::parse("splitcove.net").unwrap()
        }
    );
    let apex = store
        .server(&Domain::parse("splitcove.net").unwrap())
        .unwrap()
        .unwrap();
    assert!(apex
        .aliases
        .contains(&Domain::parse("social.splitcove.net").unwrap()));
    let snapshots = store.snapshot_count();
    drop(store);

    // A rerun at the same instant is idempotent: same snapshots, same numbers.
    let again = summary(
        &run(crawl_args(
            db,
            seeds,
            sim,
            &["--per-host-rps", "50", "--at", AT],
        ))
        .await,
    );
    assert_eq!(again["servers_up"], truth.counted.len());
    assert_eq!(again["newly_discovered"], 0);
    assert_eq!(
        Store::open_existing(db).unwrap().snapshot_count(),
        snapshots
    );
    assert_eq!(latest(db), got);
}

/// The snapshot count of a committer's "store flushed" debug line.
fn flushed_snapshots(line: &str) -> Option<u64> {
    if !line.contains("store flushed") {
        return None;
    }
    let rest = line.split("snapshots=").nth(1)?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_no_snapshot_and_a_rerun_completes() {
    let scene = Scene::new(World::standard()).await;
    let Scene {
        world,
        sim,
        db,
        seeds,
        ..
    } = &scene;
    let truth = world.truth();

    let args = crawl_args(db, seeds, sim, &["--per-host-rps", "3", "--at", AT]);
    let mut child = bin()
        .args(&args)
        .env("RUST_LOG", "fedicensus::crawl::commit=debug")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    // Flushes run in the background while visits go on; kill right after the first one
    // that made snapshots durable.
    let (durable, stderr) = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stderr).lines();
        let durable = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| flushed_snapshots(&line).filter(|n| *n > 0));
        (durable, lines)
    })
    .await
    .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stderr);
    let durable = durable.expect("the crawl logs its flushes");

    let before = latest(db);
    assert!(
        before.len() as u64 >= durable,
        "{durable} snapshots were flushed, {} survived the kill",
        before.len()
    );
    assert!(
        before.len() < truth.counted.len(),
        "the kill came before the end"
    );

    let s = summary(
        &run(crawl_args(
            db,
            seeds,
            sim,
            &["--per-host-rps", "50", "--at", AT],
        ))
        .await,
    );
    assert_eq!(s["servers_up"], truth.counted.len());
    let after = latest(db);
    for (domain, numbers) in &before {
        assert_eq!(
            after.get(domain),
            Some(numbers),
            "{domain} kept its snapshot"
        );
    }
    assert_eq!(
        after.keys().cloned().collect::<BTreeSet<_>>(),
        truth.counted
    );
    assert_eq!(
        Store::open_existing(db).unwrap().snapshot_count(),
        truth.counted.len(),
        "one snapshot per server: the rerun overwrote, never duplicated"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_fails_at_once_naming_the_lock() {
    let scene = Scene::new(World::standard()).await;
    let Scene { sim, db, seeds, .. } = &scene;
    let args = crawl_args(db, seeds, sim, &["--per-host-rps", "1"]);
    let mut first = bin()
        .args(&args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;

    let started = std::time::Instant::now();
    let second = run(args.clone()).await;
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(second.status.code(), Some(1));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains("locked by another fedicensus process"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "it failed at once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exclusions_and_max_servers_bound_the_crawl() {
    let scene = Scene::new(World::standard()).await;
    let Scene {
        sim,
        db,
        seeds,
        dir,
        ..
    } = &scene;
    let exclude = dir.path().join("exclude.txt");
    std::fs::write(&exclude, "# opt-outs\nthreadloom.net\nsplitcove.net\n").unwrap();
    let exclude_arg = exclude.display().to_string();
    let out = run(crawl_args(
        db,
        seeds,
        sim,
        &[
            "--per-host-rps",
            "50",
            "--exclude",
            &exclude_arg,
            "--max-servers",
            "8",
            "--at",
            AT,
        ],
    ))
    .await;
    let s = summary(&out);
    assert!(
        s["known"].as_u64().unwrap() <= 8 + 2,
        "known stays near --max-servers: {s}"
    );
    assert!(s["capped"].as_u64().unwrap() > 0);
    let by_host = hosts(&sim.requests());
    for name in ["threadloom.net", "splitcove.net", "social.splitcove.net"] {
        assert!(
            !by_host.contains_key(name),
            "{name} is excluded but was contacted"
        );
    }
}

#[test]
fn usage_errors_exit_2_and_say_what_to_do() {
    let out = bin().args(["crawl", "--plain-http"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--connect-to"));
    let out = bin().args(["crawl", "--at", "yesterday"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RFC 3339"));
    let out = bin()
        .args(["crawl", "--per-host-rps", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args([
            "--db",
            &dir.path().join("db").display().to_string(),
            "crawl",
            "--seeds",
            "/nonexistent/seeds.txt",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/seeds.txt"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_servers_are_reprobed_on_a_growing_schedule() {
    let scene = Scene::new(World::standard()).await;
    let Scene { sim, db, seeds, .. } = &scene;
    let dead = "deadreef.net";
    let mut asked_on = Vec::new();
    for day in 1..=5 {
        sim.clear_requests();
        let at = format!("2024-04-0{day}T12:00:00Z");
        let s = summary(
            &run(crawl_args(
                db,
                seeds,
                sim,
                &["--per-host-rps", "50", "--at", &at],
            ))
            .await,
        );
        if sim.requests().iter().any(|r| r.host == dead) {
            asked_on.push(day);
        }
        if day == 5 {
            assert!(s["not_due"].as_u64().unwrap() >= 1, "day {day}: {s}");
        }
    }
    // Unreachable on days 1-3: then one day's wait (asked on day 4), then two (not on 5).
    assert_eq!(asked_on, [1, 2, 3, 4]);
    let store = Store::open_existing(db).unwrap();
    let record = store
        .server(&Domain::parse(dead).unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(record.consecutive_failures, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawler_trap_costs_a_few_entries() {
    let trap: Vec<String> = (0..5000)
        .map(|i| format!("n{i}.trap-farm.social"))
        .collect();
    let world = World {
        servers: vec![sim::SimServer::new("trap-hub.social", sim::Kind::Mastodon)
            .with_usage(10, 5, 8, 100)
            .with_peers(&trap)],
        seeds: vec!["trap-hub.social".into()],
    };
    let scene = Scene::new(world).await;
    let Scene { sim, db, seeds, .. } = &scene;
    let s = summary(
        &run(crawl_args(
            db,
            seeds,
            sim,
            &["--per-host-rps", "50", "--max-new-per-domain", "7"],
        ))
        .await,
    );
    assert_eq!(s["newly_discovered"], 7, "{s}");
    assert_eq!(s["capped"], 5000 - 7, "{s}");
    let trap_hosts: BTreeSet<String> = sim
        .requests()
        .into_iter()
        .map(|r| r.host)
        .filter(|h| h.ends_with(".trap-farm.social"))
        .collect();
    assert_eq!(trap_hosts.len(), 7);
}

/// Discovery sets the pace of a crawl's start: a peer list is read right after NodeInfo
/// and its names are visited while the visit that found them goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_list_is_followed_before_its_visit_ends() {
    let world = World {
        servers: vec![
            sim::SimServer::new("hub.social", sim::Kind::Mastodon)
                .with_usage(100, 20, 40, 1000)
                .with_peers(&["leaf.social"]),
            sim::SimServer::new("leaf.social", sim::Kind::Mastodon).with_usage(10, 5, 8, 100),
        ],
        seeds: vec!["hub.social".into()],
    };
    let scene = Scene::new(world).await;
    let Scene { sim, db, seeds, .. } = &scene;
    // Two requests a second: the hub's visit (seven requests) lasts about three seconds.
    let s = summary(&run(crawl_args(db, seeds, sim, &["--per-host-rps", "2"])).await);
    assert_eq!(s["servers_up"], 2, "{s}");
    let requests = sim.requests();
    let first = |host: &str, path: &str| {
        requests
            .iter()
            .find(|r| r.host == host && r.path == path)
            .unwrap_or_else(|| panic!("{host} was not asked {path}: {requests:?}"))
            .at
    };
    let peers = first("hub.social", "/api/v1/instance/peers");
    let api = first("hub.social", "/api/v2/instance");
    let activity = first("hub.social", "/api/v1/instance/activity");
    let leaf = first("leaf.social", "/robots.txt");
    assert!(peers < api, "the peer list comes before the server APIs");
    assert!(
        leaf < activity,
        "leaf.social was asked {:?} after the hub's peer list, after its visit's last request",
        leaf - peers
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_the_run_cleanly_with_exit_130() {
    let scene = Scene::new(World::standard()).await;
    let Scene { sim, db, seeds, .. } = &scene;
    let args = crawl_args(db, seeds, sim, &["--per-host-rps", "3", "--at", AT]);
    let child = bin()
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The seeds' visits take about 2.3 s at 3 requests per second; the crawl as a whole
    // takes several seconds more.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(130));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["interrupted"], true);
    let store = Store::open_existing(db).unwrap();
    let runs = store.runs().unwrap();
    assert_eq!(runs.len(), 1);
    assert!(runs[0].ended.is_some(), "the run record is closed");
    assert_eq!(runs[0].summary.as_ref().unwrap()["interrupted"], true);
    assert!(
        store.snapshot_count() > 0,
        "snapshots taken before the signal are kept"
    );
}
