//! End-to-end: hostile servers of the simulated fediverse against the real `fedicensus
//! crawl` binary. No server can stop the crawl, steer it to a server that opted out or
//! is excluded, hold a request or a visit past its deadline, or make it hold more bodies
//! than `--concurrency` allows.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use fedicensus::bench::proc::output_with_peak_rss;
use fedicensus::domain::Domain;
use fedicensus::outcome::{FailureReason, OptOut};
use fedicensus::sim::{Behaviour, Kind, RawAnswer, SimHandle, SimServer, World};
use fedicensus::store::{Status, Store};

mod common;

use common::{bin, run, summary, Scene};

fn crawl_args(scene: &Scene, extra: &[&str]) -> Vec<String> {
    let mut args = common::sim_args(&scene.db, "crawl", &scene.seeds, &scene.sim, &["--json"]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// A crawl with `name` in the `--exclude` list.
async fn crawl_excluding(scene: &Scene, name: &str) -> serde_json::Value {
    let exclude = scene.dir.path().join("exclude.txt");
    std::fs::write(&exclude, format!("{name}\n")).unwrap();
    let exclude = exclude.display().to_string();
    let args = crawl_args(scene, &["--per-host-rps", "50", "--exclude", &exclude]);
    summary(&run(args).await)
}

/// Paths asked of each host, in order.
fn asked(sim: &SimHandle) -> BTreeMap<String, Vec<String>> {
    let mut by_host: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in sim.requests() {
        by_host.entry(r.host).or_default().push(r.path);
    }
    by_host
}

/// Users counted per canonical name.
fn counted(db: &Path) -> BTreeMap<String, i64> {
    let store = Store::open_existing(db).unwrap();
    store
        .all_snapshots()
        .map(|s| {
            let s = s.unwrap();
            (s.domain.to_string(), s.stats.users_total.unwrap_or(0))
        })
        .collect()
}

fn status(db: &Path, name: &str) -> Option<Status> {
    let store = Store::open_existing(db).unwrap();
    store
        .server(&Domain::parse(name).unwrap())
        .unwrap()
        .map(|r| r.status)
}

fn mastodon(name: &str, users: i64) -> SimServer {
    SimServer::new(name, Kind::Mastodon).with_usage(users, users / 4, users / 2, users * 10)
}

fn world(servers: Vec<SimServer>, seeds: &[&str]) -> World {
    World {
        servers,
        seeds: seeds.iter().map(|s| s.to_string()).collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absurd_crawl_delay_is_capped_and_never_ends_the_crawl() {
    let delays = ["1e30", "18446744073709551616", "NaN", "-5"];
    let hostile: Vec<String> = (0..delays.len())
        .map(|i| format!("slowpoke{i}.cafe"))
        .collect();
    let mut servers: Vec<SimServer> = hostile
        .iter()
        .zip(delays)
        .map(|(name, delay)| {
            SimServer::new(name, Kind::NotFediverse).with(Behaviour::RobotsTxt(format!(
                "User-agent: *\nCrawl-delay: {delay}\nDisallow: /private/\n"
            )))
        })
        .collect();
    // A server that answers every document, 10 s apart: its visit is cut at its deadline
    // (15 × --timeout 2 = 30 s) with the documents read by then.
    let tortoise = "tortoise.cafe";
    servers.push(mastodon(tortoise, 70).with(Behaviour::RobotsTxt(
        "User-agent: *\nCrawl-delay: 1e30\n".into(),
    )));
    let mut peers = hostile.clone();
    peers.push(tortoise.into());
    servers.push(mastodon("honest.social", 100).with_peers(&peers));
    let scene = Scene::new(world(servers, &["honest.social"])).await;

    let s = summary(&run(crawl_args(&scene, &["--per-host-rps", "50"])).await);
    assert_eq!(s["servers_up"], 2, "{s}");
    assert_eq!(
        counted(&scene.db)[tortoise],
        70,
        "NodeInfo was read in time"
    );
    let slow = asked(&scene.sim).remove(tortoise).unwrap_or_default();
    assert_eq!(
        slow,
        ["/robots.txt", "/.well-known/nodeinfo", "/nodeinfo/2.0"],
        "the instance API, 30 s in, is past the visit's deadline"
    );
    assert_eq!(
        s["failed"]["not_fediverse"], 4,
        "every hostile host was visited: {s}"
    );
    let store = Store::open_existing(&scene.db).unwrap();
    let runs = store.runs().unwrap();
    assert!(runs[0].ended.is_some(), "the run is closed");
    drop(store);

    // The huge delays are honoured up to the 10 s cap; NaN and negative ones are ignored.
    let requests = scene.sim.requests();
    for (name, delay) in hostile.iter().zip(delays) {
        let times: Vec<_> = requests
            .iter()
            .filter(|r| r.host == *name)
            .map(|r| r.at)
            .collect();
        assert_eq!(
            times.len(),
            2,
            "{name}: robots.txt and the well-known document"
        );
        let gap = times[1].duration_since(times[0]);
        if delay.starts_with('1') {
            assert!(gap >= Duration::from_millis(9_900), "{name}: {gap:?}");
        } else {
            assert!(gap < Duration::from_secs(5), "{name}: {gap:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_never_reaches_an_excluded_server() {
    let scene = Scene::new(world(
        vec![
            mastodon("attacker.social", 10).with(Behaviour::RedirectTo("victim.net".into())),
            mastodon("victim.net", 1000),
            mastodon("honest.social", 50).with_peers(&["attacker.social"]),
        ],
        &["honest.social"],
    ))
    .await;

    let s = crawl_excluding(&scene, "victim.net").await;
    let by_host = asked(&scene.sim);
    assert!(
        !by_host.contains_key("victim.net"),
        "excluded but asked: {:?}",
        by_host.get("victim.net")
    );
    assert_eq!(
        counted(&scene.db).keys().collect::<Vec<_>>(),
        ["honest.social"]
    );
    assert_eq!(s["failed"]["redirect"], 1, "{s}");
    assert_eq!(
        status(&scene.db, "attacker.social"),
        Some(Status::Failed {
            reason: FailureReason::Redirect
        })
    );
    assert_eq!(status(&scene.db, "victim.net"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_never_reaches_a_server_that_opted_out() {
    let scene = Scene::new(world(
        vec![
            mastodon("attacker.social", 10).with(Behaviour::RedirectTo("victim.net".into())),
            mastodon("victim.net", 1000).with(Behaviour::RobotsDisallowAll),
            mastodon("honest.social", 50).with_peers(&["attacker.social"]),
        ],
        &["honest.social"],
    ))
    .await;
    let opted_out = Some(Status::OptedOut {
        how: OptOut::Robots,
    });

    // A fresh database: victim.net is reached only through the redirect, so its
    // robots.txt is what stops it.
    summary(&run(crawl_args(&scene, &["--per-host-rps", "50"])).await);
    let victim = asked(&scene.sim).remove("victim.net").unwrap_or_default();
    assert_eq!(victim, ["/robots.txt"], "only robots.txt, once");
    assert_eq!(
        counted(&scene.db).keys().collect::<Vec<_>>(),
        ["honest.social"]
    );

    // Known to have opted out (visited as a seed), then redirected to on later runs.
    std::fs::write(&scene.seeds, "honest.social\nvictim.net\n").unwrap();
    for day in 2..=3 {
        scene.sim.clear_requests();
        let at = format!("2024-03-0{day}T12:00:00Z");
        summary(&run(crawl_args(&scene, &["--per-host-rps", "50", "--at", &at])).await);
        let victim = asked(&scene.sim).remove("victim.net").unwrap_or_default();
        assert!(
            victim.iter().all(|p| p == "/robots.txt") && victim.len() <= 1,
            "day {day}: {victim:?}"
        );
        assert_eq!(status(&scene.db, "victim.net"), opted_out, "day {day}");
        assert!(!counted(&scene.db).contains_key("victim.net"), "day {day}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claimed_name_that_is_excluded_or_opted_out_is_never_counted() {
    let scene = Scene::new(world(
        vec![
            // Claims a sibling that the operator excluded.
            mastodon("a.hushed.net", 10).with(Behaviour::ClaimsDomain("b.hushed.net".into())),
            mastodon("b.hushed.net", 1000),
            // Claims a sibling whose robots.txt opts out.
            mastodon("c.quiet.org", 20).with(Behaviour::ClaimsDomain("d.quiet.org".into())),
            mastodon("d.quiet.org", 2000).with(Behaviour::RobotsDisallowAll),
            // A claim that may be counted: the web name of a split domain names its apex.
            mastodon("www.fair.social", 30).with(Behaviour::ClaimsDomain("fair.social".into())),
            mastodon("honest.social", 50).with_peers(&[
                "a.hushed.net",
                "c.quiet.org",
                "www.fair.social",
            ]),
        ],
        &["honest.social"],
    ))
    .await;

    crawl_excluding(&scene, "b.hushed.net").await;
    let got = counted(&scene.db);
    assert_eq!(
        got.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "a.hushed.net",
            "c.quiet.org",
            "fair.social",
            "honest.social"
        ],
        "claims of an excluded and an opted-out name fall back to the host's own"
    );
    assert_eq!(got["a.hushed.net"], 10);
    let by_host = asked(&scene.sim);
    assert!(!by_host.contains_key("b.hushed.net"));
    assert_eq!(by_host["d.quiet.org"], ["/robots.txt"]);
    let truth = scene.world.truth();
    assert!(truth.counted.contains("fair.social"));
    assert!(truth.counted.contains("c.quiet.org"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_and_visits_end_within_their_deadlines() {
    let scene = Scene::new(world(
        vec![
            // 5 hops of 0.7 s: the third is past --timeout 2.
            mastodon("chain.cafe", 10).with(Behaviour::SlowRedirects {
                hops: 5,
                delay_ms: 700,
            }),
            // Waiting 60 s is beyond a request's waiting budget (3 × --timeout); 1 s waits
            // are honoured, 3 times at most.
            mastodon("later.cafe", 10).with(Behaviour::RetryAfterAlways(60)),
            mastodon("soon.cafe", 10).with(Behaviour::RetryAfterAlways(1)),
            // 300 NodeInfo links, none of which exists.
            mastodon("links.cafe", 10).with(Behaviour::ManyNodeInfoLinks(300)),
            mastodon("honest.social", 50).with_peers(&[
                "chain.cafe",
                "later.cafe",
                "soon.cafe",
                "links.cafe",
            ]),
        ],
        &["honest.social"],
    ))
    .await;
    let s = summary(&run(crawl_args(&scene, &["--per-host-rps", "50"])).await);
    assert_eq!(s["servers_up"], 1, "{s}");
    assert_eq!(s["failed"]["timeout"], 1, "the slow chain: {s}");
    assert_eq!(s["failed"]["rate_limited"], 2, "{s}");
    assert_eq!(
        s["failed"]["http_status"], 1,
        "the missing NodeInfo links: {s}"
    );

    let by_host = asked(&scene.sim);
    let wellknown = |host: &str| {
        by_host[host]
            .iter()
            .filter(|p| p.starts_with("/.well-known/nodeinfo"))
            .count()
    };
    assert!(wellknown("chain.cafe") <= 3, "{:?}", by_host["chain.cafe"]);
    assert_eq!(wellknown("later.cafe"), 1, "a 60 s wait is not waited for");
    assert_eq!(wellknown("soon.cafe"), 4, "{:?}", by_host["soon.cafe"]);
    let links = &by_host["links.cafe"];
    assert_eq!(
        links.iter().filter(|p| p.starts_with("/nodeinfo/")).count(),
        fedicensus::crawl::visit::MAX_NODEINFO_CANDIDATES,
        "{links:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_errors_are_their_own_reason_and_not_backed_off() {
    let mut servers: Vec<SimServer> = RawAnswer::ALL
        .iter()
        .enumerate()
        .map(|(i, raw)| mastodon(&format!("garbled{i}.cafe"), 10).with(Behaviour::Raw(*raw)))
        .collect();
    let names: Vec<String> = servers.iter().map(|s| s.domain.clone()).collect();
    let mut peers = names.clone();
    peers.push("deadreef.net".into());
    servers.push(mastodon("deadreef.net", 5).with(Behaviour::Dead));
    servers.push(mastodon("honest.social", 50).with_peers(&peers));
    let scene = Scene::new(world(servers, &["honest.social"])).await;

    let s = summary(&run(crawl_args(&scene, &["--per-host-rps", "50"])).await);
    assert_eq!(s["failed"]["protocol"], RawAnswer::ALL.len(), "{s}");
    assert_eq!(
        s["failed"]["connect"], 1,
        "no answer at all is still connect: {s}"
    );
    let store = Store::open_existing(&scene.db).unwrap();
    for name in &names {
        let record = store
            .server(&Domain::parse(name).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(
            record.status,
            Status::Failed {
                reason: FailureReason::Protocol
            },
            "{name}"
        );
        assert_eq!(
            record.consecutive_failures, 0,
            "{name} answered: no back-off"
        );
        assert_eq!(record.next_probe, None, "{name}");
    }
}

/// Servers whose peer lists are 15.9 MiB of padding, streamed in 64 KiB chunks.
fn padded_world(n: usize, chunk_ms: u64) -> World {
    let names: Vec<String> = (0..n).map(|i| format!("padded{i}.cafe")).collect();
    let mut servers: Vec<SimServer> = names
        .iter()
        .map(|name| {
            mastodon(name, 10).with(Behaviour::PaddedPeers {
                bytes: fedicensus::crawl::visit::PEERS_CAP - 1,
                chunk_ms,
            })
        })
        .collect();
    servers.push(mastodon("honest.social", 50).with_peers(&names));
    world(servers, &["honest.social"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_bounds_the_bodies_being_read() {
    let scene = Scene::new(padded_world(8, 1)).await;
    let s = summary(
        &run(crawl_args(
            &scene,
            &["--per-host-rps", "50", "--concurrency", "2"],
        ))
        .await,
    );
    assert_eq!(s["servers_up"], 9, "{s}");
    let most = scene.sim.most_bodies_streaming();
    assert!((1..=2).contains(&most), "{most} bodies streamed at once");
}

/// Runs the binary and returns its output with its peak resident memory in bytes.
async fn run_measured(args: Vec<String>) -> (Output, u64) {
    tokio::task::spawn_blocking(move || {
        let (output, peak) = output_with_peak_rss(bin().args(&args)).unwrap();
        (output, peak.expect("wait4 reports the peak"))
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peak_memory_stays_within_concurrency_times_the_body_cap() {
    let scene = Scene::new(padded_world(10, 0)).await;
    let concurrency = 2;
    let (out, peak) = run_measured(crawl_args(
        &scene,
        &[
            "--per-host-rps",
            "50",
            "--concurrency",
            &concurrency.to_string(),
        ],
    ))
    .await;
    let s = summary(&out);
    assert_eq!(s["servers_up"], 11, "{s}");
    // The README's bound: --concurrency × the largest cap, and as many first contacts
    // (robots.txt or NodeInfo, never a peer list), plus 96 MiB for the program itself and
    // its allocator (ten bodies at once, as before the fix, take 196 MiB).
    let first_contacts = concurrency * fedicensus::crawl::visit::NODEINFO_CAP as u64;
    let bodies = concurrency * fedicensus::crawl::visit::PEERS_CAP as u64 + first_contacts;
    let program = 96 * 1024 * 1024;
    eprintln!("peak RSS {} MiB at --concurrency {concurrency}", peak >> 20);
    assert!(
        peak <= bodies + program,
        "peak RSS {} MiB > {} MiB",
        peak >> 20,
        (bodies + program) >> 20
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_is_fitted_to_the_file_descriptors() {
    let world = World::generated(300, 7);
    let truth = world.truth();
    let scene = Scene::new(world).await;
    let args = crawl_args(&scene, &["--per-host-rps", "50", "--concurrency", "1024"]);
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = bin();
        cmd.args(&args);
        // SAFETY: setrlimit is async-signal-safe; it only lowers this child's limit.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
                let limit = libc::rlimit {
                    rlim_cur: 128,
                    rlim_max: 128,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd.output().unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let s = summary(&out);
    assert!(
        stderr.contains("only 128 are allowed: using --concurrency 16"),
        "{stderr}"
    );
    assert_eq!(s["failed"]["local"], 0, "{s}");
    assert_eq!(s["servers_up"], truth.counted.len(), "{s}");
}

/// Only a first contact is a probe (the short `--probe-timeout`, slots of its own): once
/// the host answered anything (its robots.txt, read first), its next request has the
/// full `--timeout`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_answered_is_asked_with_the_full_timeout() {
    let scene = Scene::new(world(
        vec![
            // robots.txt at once, every other answer after 1.5 s: past --probe-timeout 1,
            // within --timeout 2.
            mastodon("unhurried.cafe", 10).with(Behaviour::SlowRedirects {
                hops: 0,
                delay_ms: 1500,
            }),
            mastodon("honest.social", 50).with_peers(&["unhurried.cafe"]),
        ],
        &["honest.social"],
    ))
    .await;
    let args = crawl_args(&scene, &["--per-host-rps", "50", "--probe-timeout", "1"]);
    let s = summary(&run(args).await);
    assert_eq!(s["servers_up"], 2, "{s}");
    assert!(counted(&scene.db).contains_key("unhurried.cafe"));
}
