//! Hostile servers against what fedicensus reads and reports (issue 7): peer-list floods
//! that try to exhaust memory or time, distinct-domain floods, absurd counts, and text
//! that tries to inject Markdown, HTML or terminal escape sequences. Each case is served
//! by the simulated fediverse on 127.0.0.1 and crawled by the real binary.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use fedicensus::bench::proc::output_with_peak_rss;
use fedicensus::parse::peers::{MAX_ENTRIES, MAX_PAGE_ENTRIES, MAX_PEERS};
use fedicensus::sim::{Behaviour, Kind, SimHandle, SimServer, World};
use fedicensus::store::Store;

mod common;

use common::history::{d, stats, Fixture};
use common::{bin, run, Scene};

const AT: &str = "2024-03-01T12:00:00Z";
const MIB: u64 = 1024 * 1024;
/// Just under the 16 MiB peer-list body cap, so the whole flood is read.
const FLOOD_BYTES: usize = 16 * 1024 * 1024 - 4096;
/// A crawl that takes longer than this is not bounded (the floods below took 96 s and
/// more before the caps; they now take a few seconds).
const DEADLINE: Duration = Duration::from_secs(300);

fn flood(entry: &str) -> Behaviour {
    Behaviour::PeerFlood {
        entry: entry.to_owned(),
        bytes: FLOOD_BYTES,
    }
}

fn world(servers: Vec<SimServer>) -> World {
    let seeds = servers.iter().map(|s| s.domain.clone()).collect();
    World { servers, seeds }
}

fn crawl_args(scene: &Scene, extra: &[&str]) -> Vec<String> {
    let mut args = common::sim_args(
        &scene.db,
        "crawl",
        &scene.seeds,
        &scene.sim,
        &["--json", "--per-host-rps", "20"],
    );
    // Reading 16 MiB bodies, many at once on a busy 2-core machine, takes more than
    // the 2 s the other simulated crawls allow.
    let timeout = args.iter().position(|a| a == "--timeout").unwrap() + 1;
    args[timeout] = "30".into();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Runs the binary within [`DEADLINE`], returning its output and peak RSS.
async fn run_measured(args: Vec<String>) -> (Output, u64) {
    let child = tokio::task::spawn_blocking(move || {
        output_with_peak_rss(bin().args(&args)).expect("binary runs")
    });
    let (output, peak) = tokio::time::timeout(DEADLINE, child)
        .await
        .expect("the crawl finishes within the deadline")
        .unwrap();
    let peak = peak.expect("Linux reports the child's peak RSS");
    eprintln!("peak RSS of the crawl: {} MiB", peak / MIB);
    (output, peak)
}

fn summary(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "crawl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("--json prints JSON")
}

fn requests_to(sim: &SimHandle, host: &str, path: &str) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.host == host && r.path == path)
        .count()
}

fn entries_in_flood(sim_body_entry: &str) -> usize {
    // `"a",` is four bytes: the brackets and the missing last comma leave one more.
    (FLOOD_BYTES - 2 + 1) / (sim_body_entry.len() + 3)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misskey_server_flooding_every_page_costs_one_page_and_little_memory() {
    let scene = Scene::new(world(vec![
        SimServer::new("flood-key.social", Kind::Misskey)
            .with_usage(10, 5, 8, 100)
            .with(flood("a")),
        SimServer::new("honest.social", Kind::Mastodon).with_usage(100, 10, 20, 1000),
    ]))
    .await;
    let (out, peak) = run_measured(crawl_args(&scene, &["--at", AT])).await;
    let s = summary(&out);
    assert_eq!(s["servers_up"], 2, "{s}");
    // The first page adds no name, so it is the last one asked (was: 50 pages).
    assert_eq!(
        requests_to(&scene.sim, "flood-key.social", "/api/federation/instances"),
        1
    );
    // Only the first entries of a page are examined; the rest are skipped unread.
    assert_eq!(s["rejected_peers"], MAX_PAGE_ENTRIES, "{s}");
    let entries = entries_in_flood("a");
    assert_eq!(s["skipped_peers"], entries - MAX_PAGE_ENTRIES, "{s}");
    // Was 11.6 GB: now the 16 MiB body and the process itself.
    assert!(peak < 160 * MIB, "peak RSS {} MiB", peak / MIB);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_mastodon_peer_floods_are_parsed_in_bounded_memory() {
    // Half flood with junk, half with one valid name repeated (which must be kept once).
    let servers = (0..40)
        .map(|i| {
            let entry = if i % 2 == 0 { "a" } else { "same.flood.social" };
            SimServer::new(&format!("flood{i}.social"), Kind::Mastodon)
                .with_usage(100, 10, 20, 1000)
                .with(flood(entry))
        })
        .collect();
    let scene = Scene::new(world(servers)).await;
    let (out, peak) = run_measured(crawl_args(&scene, &["--at", AT, "--concurrency", "8"])).await;
    let s = summary(&out);
    assert_eq!(s["servers_up"], 40, "{s}");
    assert_eq!(s["newly_discovered"], 1, "{s}");
    assert_eq!(s["rejected_peers"], 20 * MAX_ENTRIES, "{s}");
    for i in 0..40 {
        let host = format!("flood{i}.social");
        assert_eq!(requests_to(&scene.sim, &host, "/api/v1/instance/peers"), 1);
    }
    // Was 4.5 GB. What remains is the bodies in flight (at most 40 × 16 MiB here, as
    // the fetcher reads them) and the process; each parse keeps at most one name.
    assert!(peak < 1024 * MIB, "peak RSS {} MiB", peak / MIB);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_distinct_domain_flood_adds_at_most_the_per_server_cap_and_backs_off() {
    const CAP: usize = 100;
    let scene = Scene::new(world(vec![SimServer::new(
        "flooder.social",
        Kind::Mastodon,
    )
    .with_usage(100, 10, 20, 1000)
    .with(flood("d{n}.social"))]))
    .await;
    let cap = CAP.to_string();
    let day = |n: u32| format!("2024-03-0{n}T12:00:00Z");
    let mut peaks = Vec::new();
    for n in 1..=3 {
        let (out, peak) = run_measured(crawl_args(
            &scene,
            &["--at", &day(n), "--max-new-per-server", &cap],
        ))
        .await;
        peaks.push(peak);
        let s = summary(&out);
        assert_eq!(s["newly_discovered"], CAP, "run {n}: {s}");
        // The visit keeps the first MAX_PEERS names; all but the known and the new are
        // capped.
        let known_before = (n as usize - 1) * CAP;
        assert_eq!(s["capped"], MAX_PEERS - known_before - CAP, "run {n}: {s}");
        // The names a flood introduces are not fediverse servers.
        assert_eq!(
            s["failed"]["not_fediverse"],
            n as usize * CAP,
            "run {n}: {s}"
        );
    }
    let store = Store::open_existing(&scene.db).unwrap();
    assert_eq!(store.server_count(), 1 + 3 * CAP);
    drop(store);
    // The first batch has failed three runs in a row: it waits for its re-probe.
    let (out, _) = run_measured(crawl_args(
        &scene,
        &["--at", "2024-03-03T20:00:00Z", "--max-new-per-server", &cap],
    ))
    .await;
    let s = summary(&out);
    assert_eq!(s["not_due"], CAP, "{s}");
    // Keeping 100,000 names of 16 MiB of distinct ones (was 849 MB for 850,000).
    for peak in peaks {
        assert!(peak < 256 * MIB, "peak RSS {} MiB", peak / MIB);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_counts_reach_no_total() {
    let scene = Scene::new(world(vec![
        SimServer::new("honest.social", Kind::Mastodon).with_usage(1000, 100, 300, 20_000),
        SimServer::new("absurd.social", Kind::Mastodon).with_usage(1000, 100, i64::MAX, 5_000),
        SimServer::new("chatty.social", Kind::Mastodon).with_usage(1000, 100, 300, i64::MAX),
        SimServer::new("lazy.social", Kind::Mastodon).with_usage(1000, 400, 300, 5_000),
    ]))
    .await;
    let out = run(crawl_args(&scene, &["--at", AT])).await;
    assert_eq!(summary(&out)["servers_up"], 4);
    let dir = scene.dir.path().join("out");
    let out = run(vec![
        "--db".into(),
        scene.db.display().to_string(),
        "report".into(),
        "--out".into(),
        dir.display().to_string(),
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();

    let csv = read("days.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    // Only honest.social counts.
    assert_eq!(column("users_total"), "1000", "{csv}");
    assert_eq!(column("active_halfyear"), "300", "{csv}");
    assert_eq!(column("posts_local"), "20000", "{csv}");
    assert!(!csv.contains("9223372036854775807"), "{csv}");

    let md = read("report.md");
    assert!(md.contains("| Half-year active users | 300 |"), "{md}");
    assert!(md.contains("| Local posts | 20,000 |"), "{md}");
    assert!(!md.contains("9,223,372,036,854,775,807"), "{md}");
    for listed in [
        "`absurd.social`: 9223372036854775807 half-year active users is more than any server",
        "`chatty.social`: 9223372036854775807 local posts is more than its bound",
        "`lazy.social`: 400 monthly active users is more than its 300 half-year active users",
    ] {
        assert!(md.contains(listed), "{listed} in {md}");
    }
    let html = read("index.html");
    assert!(!html.contains("9,223,372,036,854,775,807"));
    assert!(html.contains("absurd.social"));
}

const HOSTILE_NAME: &str =
    "Mastodon\n## Pwned\n| x | y |\n[click](javascript:alert(1)) <script>alert(1)</script>\u{1b}[2J\u{9b}31m";

fn assert_inert_markdown(md: &str) {
    assert!(!md.contains('\u{1b}') && !md.contains('\u{9b}'), "{md:?}");
    let md = md.to_lowercase();
    assert!(!md.lines().any(|l| l.starts_with("## pwned")), "{md}");
    assert!(!md.contains("[click]("), "{md}");
    assert!(!md.contains("<script>"), "{md}");
    assert!(!md.contains("| x | y |"), "{md}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_text_cannot_inject_markdown_html_or_escape_sequences() {
    let scene = Scene::new(world(vec![SimServer::new("evil.social", Kind::Mastodon)
        .with_usage(10, 5, 8, 100)
        .with(Behaviour::Software {
            name: HOSTILE_NAME.to_owned(),
            version: "4.3\r\n\u{1b}]0;owned\u{7}".to_owned(),
        })]))
    .await;
    let out = run(crawl_args(&scene, &["--at", AT])).await;
    assert_eq!(summary(&out)["servers_up"], 1);
    let db = scene.db.display().to_string();
    let dir = scene.dir.path().join("out");
    let report = run(vec![
        "--db".into(),
        db.clone(),
        "report".into(),
        "--out".into(),
        dir.display().to_string(),
    ])
    .await;
    assert!(report.status.success());
    assert_inert_markdown(&String::from_utf8(report.stdout).unwrap());
    assert_inert_markdown(&std::fs::read_to_string(dir.join("report.md")).unwrap());
    let server = run(vec![
        "--db".into(),
        db,
        "server".into(),
        "evil.social".into(),
    ])
    .await;
    assert!(server.status.success());
    let shown = String::from_utf8(server.stdout).unwrap();
    assert!(
        !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
        "{shown:?}"
    );
    assert!(shown.contains("4.3 ]0;owned"), "{shown}");
    assert!(!shown.contains("\n## pwned"), "{shown}");
    check_html_and_svg(&dir);
}

/// The page and the charts escape the name (it keeps its `<`, which HTML must escape).
fn check_html_and_svg(dir: &Path) {
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(!html.contains("<script>alert"), "index.html");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "index.html"
    );
    let svg = std::fs::read_to_string(dir.join("software.svg")).unwrap();
    assert!(!svg.contains("<script>alert"), "software.svg");
    assert!(!svg.contains('\u{1b}'), "software.svg");
}

/// A database written before the parsers cleaned text (or by another tool) still
/// cannot inject anything: each output format escapes for itself.
#[test]
fn stored_hostile_text_is_escaped_by_every_format() {
    let f = Fixture::new([0]);
    f.up("evil.social", 0, stats(HOSTILE_NAME, 100, 10));
    let dir = tempfile::tempdir().unwrap();
    let store = f.store;
    let report = fedicensus::report::build(
        &store,
        fedicensus::report::Scope::Day(None),
        &fedicensus::report::Filter::default(),
    )
    .unwrap();
    fedicensus::render::write_report_dir(&report, dir.path()).unwrap();
    assert_inert_markdown(&fedicensus::render::markdown::markdown(&report));
    check_html_and_svg(dir.path());
}

/// With `--include-suspect` the absurd numbers are summed: the sums saturate, and every
/// format renders them, instead of a panic or a wrapped negative total.
#[test]
fn sums_of_absurd_numbers_saturate() {
    use fedicensus::report::{self, Filter, Scope};
    use fedicensus::snapshot::ServerStats;

    let f = Fixture::new([0, 1]);
    let claim = |n: i64| ServerStats {
        software: "mastodon".into(),
        users_total: Some(n),
        active_month: Some(n),
        active_halfyear: Some(n),
        local_posts: Some(n),
        ..Default::default()
    };
    f.up("a.social", 0, claim(i64::MAX));
    f.up("b.social", 0, claim(i64::MAX));
    f.up("c.social", 1, claim(i64::MIN));
    let filter = Filter {
        include_suspect: true,
        ..Filter::default()
    };
    let scope = Scope::Period {
        since: d(0),
        until: Some(d(1)),
    };
    let built = report::build(&f.store, scope, &filter).unwrap();
    let first = &built.days()[0];
    assert_eq!(first.users.total, i64::MAX);
    assert_eq!(first.posts.local, i64::MAX);
    assert_eq!(first.by_software[0].counts.users_total, i64::MAX);
    let dir = tempfile::tempdir().unwrap();
    fedicensus::render::write_report_dir(&built, dir.path()).unwrap();
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("9,223,372,036,854,775,807"), "{md}");
}
