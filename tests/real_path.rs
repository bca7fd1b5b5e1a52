//! The real network path, end to end: names resolved by a DNS server (`--dns-server`),
//! HTTPS on port 443 with certificates checked against the sim's CA (`--ca-cert`), and
//! the address guard opened only as far as `--allow-address` says. No `--connect-to`,
//! no `--plain-http`. Every address used is loopback.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fedicensus::domain::Domain;
use fedicensus::fetch::{FetchError, Page};
use fedicensus::outcome::FailureReason;
use fedicensus::sim::dns::{Answer, Zone};
use fedicensus::sim::{self, Behaviour, Kind, SimHandle, SimServer, World};
use fedicensus::store::record::PROBE_GRACE;
use fedicensus::store::{Status, Store};
use tokio::net::TcpListener;

mod common;

use common::census::{assert_census, summary};
use common::real::RealPath;
use common::{run, write_seeds};

const AT: &str = "2024-03-01T12:00:00Z";

/// `--db DIR/db --quiet crawl --json --at AT --seeds DIR/seeds.txt FLAGS…`, the seeds
/// file listing `seeds`.
fn crawl_args(dir: &Path, flags: Vec<String>, seeds: &[&str]) -> Vec<String> {
    let world = World {
        servers: vec![],
        seeds: seeds.iter().map(|s| s.to_string()).collect(),
    };
    let seeds = write_seeds(dir, &world);
    let db = dir.join("db").display().to_string();
    let mut args: Vec<String> = ["--db", &db, "--quiet", "crawl", "--json", "--at", AT]
        .map(str::to_owned)
        .to_vec();
    args.extend(["--seeds".into(), seeds.display().to_string()]);
    args.extend(flags);
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_over_dns_and_https_counts_the_standard_world_exactly() {
    let world = World::standard();
    let dir = tempfile::tempdir().unwrap();
    let real = RealPath::start(world.clone(), dir.path(), |zone, _| zone).await;
    let seeds: Vec<&str> = world.seeds.iter().map(String::as_str).collect();
    let db = dir.path().join("db");
    let mut flags = real.flags("127.0.0.0/8");
    flags.extend(["--per-host-rps".into(), "10".into()]);
    let s = summary(&run(crawl_args(dir.path(), flags, &seeds)).await);

    let truth = world.truth();
    assert_census(&db, &s, &truth);
    // A name the sim does not know gets its 404 page through --connect-to; on the real
    // path it does not exist.
    let hosts: BTreeSet<&str> = world.host_names().collect();
    let (known, unknown): (Vec<&String>, Vec<&String>) = truth
        .not_fediverse
        .iter()
        .partition(|name| hosts.contains(name.as_str()));
    assert_eq!(s["failed"]["not_fediverse"], known.len(), "{s}");
    assert_eq!(s["failed"]["dns"], unknown.len(), "{s}");
    assert_eq!(s["failed"]["tls"], 0, "{s}");
    assert_eq!(s["failed"]["too_large"], 2, "{s}");
    assert_eq!(s["failed"]["timeout"], 1, "{s}");
    assert_eq!(s["failed"]["connect"], 1, "{s}");

    let requested: BTreeSet<String> = real.sim.requests().into_iter().map(|r| r.host).collect();
    for name in &truth.never_contact {
        assert!(!requested.contains(name), "{name} was contacted");
    }
    assert!(requested.iter().all(|h| hosts.contains(h.as_str())));
}

/// What fetching `/.well-known/nodeinfo` from `server` over the real path ends in.
async fn fetch_one(server: SimServer) -> Result<Page, FetchError> {
    let name = Domain::parse(&server.domain).unwrap();
    let world = World {
        servers: vec![server],
        seeds: vec![],
    };
    let dir = tempfile::tempdir().unwrap();
    let real = RealPath::start(world, dir.path(), |zone, _| zone).await;
    let allow = format!("{}/32", real.ip());
    real.fetcher(&[&allow])
        .get(&name, "/.well-known/nodeinfo", 64 * 1024)
        .await
}

/// Fetching from a server with `behaviour` fails `tls`, saying `words`.
async fn assert_tls_failure(behaviour: Behaviour, words: &str) {
    let server = SimServer::new("badcert.social", Kind::Mastodon).with(behaviour);
    let error = fetch_one(server).await.unwrap_err();
    assert_eq!(error.reason, FailureReason::Tls, "{error}");
    assert!(error.detail.contains(words), "{error}");
}

#[tokio::test]
async fn a_certificate_from_an_unknown_issuer_is_a_tls_failure() {
    assert_tls_failure(Behaviour::TlsUnknownIssuer, "unknown issuer").await;
}

#[tokio::test]
async fn an_expired_certificate_is_a_tls_failure() {
    assert_tls_failure(Behaviour::TlsExpired, "certificate expired").await;
}

#[tokio::test]
async fn a_certificate_for_another_name_is_a_tls_failure() {
    assert_tls_failure(Behaviour::TlsWrongName, "another name").await;
}

/// `world` on the real path, except that `name` resolves to a second sim that speaks
/// plain HTTP on port 443 of an address of its own.
async fn with_plain_http_on_443(world: World, name: &str, dir: &Path) -> (RealPath, SimHandle) {
    let plain = sim::serve_http(world.clone(), sim::bind_port_443().await.unwrap())
        .await
        .unwrap();
    let plain_ip = plain.addr.ip();
    let real = RealPath::start(world, dir, |zone, _| {
        zone.with(name, Answer::Addresses(vec![plain_ip]))
    })
    .await;
    (real, plain)
}

#[tokio::test]
async fn plain_http_on_port_443_is_a_tls_failure() {
    let name = "notls.social";
    let world = World {
        servers: vec![SimServer::new(name, Kind::Mastodon)],
        seeds: vec![],
    };
    let dir = tempfile::tempdir().unwrap();
    let (real, plain) = with_plain_http_on_443(world, name, dir.path()).await;
    let plain_ip = plain.addr.ip();
    let error = real
        .fetcher(&[&format!("{plain_ip}/32")])
        .get(&Domain::parse(name).unwrap(), "/.well-known/nodeinfo", 1024)
        .await
        .unwrap_err();
    assert_eq!(error.reason, FailureReason::Tls, "{error}");
    assert!(error.detail.contains("plain HTTP"), "{}", error.detail);
}

#[tokio::test]
async fn a_good_certificate_is_accepted_over_http2_and_http1() {
    let page = fetch_one(SimServer::new("goodcert.social", Kind::Mastodon))
        .await
        .unwrap();
    assert_eq!(page.status, 200);

    // Both protocols, offered by ALPN.
    let world = World {
        servers: vec![SimServer::new("goodcert.social", Kind::Mastodon)],
        seeds: vec![],
    };
    let dir = tempfile::tempdir().unwrap();
    let real = RealPath::start(world, dir.path(), |zone, _| zone).await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca =
        reqwest::Certificate::from_pem(real.sim.ca_pem.as_deref().unwrap().as_bytes()).unwrap();
    for (http1, version) in [
        (false, reqwest::Version::HTTP_2),
        (true, reqwest::Version::HTTP_11),
    ] {
        let mut client = reqwest::Client::builder()
            .no_proxy()
            .tls_certs_only([ca.clone()])
            .resolve("goodcert.social", SocketAddr::new(real.ip(), 443));
        if http1 {
            client = client.http1_only();
        }
        let response = client
            .build()
            .unwrap()
            .get("https://goodcert.social/.well-known/nodeinfo")
            .send()
            .await
            .unwrap();
        assert_eq!(response.version(), version);
        assert_eq!(response.status(), 200);
    }
}

#[tokio::test]
async fn tls_failures_are_counted_as_tls_by_the_crawl() {
    let world = World {
        servers: vec![
            SimServer::new("good.social", Kind::Mastodon).with_usage(10, 5, 7, 100),
            SimServer::new("expired.social", Kind::Mastodon).with(Behaviour::TlsExpired),
            SimServer::new("rogue.social", Kind::Mastodon).with(Behaviour::TlsUnknownIssuer),
            SimServer::new("misnamed.social", Kind::Mastodon).with(Behaviour::TlsWrongName),
            SimServer::new("notls.social", Kind::Mastodon),
        ],
        seeds: vec![],
    };
    let dir = tempfile::tempdir().unwrap();
    let (real, _plain) = with_plain_http_on_443(world, "notls.social", dir.path()).await;
    let seeds = [
        "good.social",
        "expired.social",
        "rogue.social",
        "misnamed.social",
        "notls.social",
    ];
    let s = summary(&run(crawl_args(dir.path(), real.flags("127.0.0.0/8"), &seeds)).await);
    assert_eq!(s["servers_up"], 1, "{s}");
    assert_eq!(s["failed"]["tls"], 4, "{s}");
    assert_eq!(s["failed"]["connect"], 0, "{s}");
}

/// What fetching `name` ends in when `answers` adds to the zone (given the sim's
/// address); the sim serves one server, `target.social`.
async fn resolve_through(
    name: &str,
    answers: impl FnOnce(Zone, IpAddr) -> Zone,
) -> Result<Page, FetchError> {
    let world = World {
        servers: vec![SimServer::new("target.social", Kind::Mastodon)],
        seeds: vec![],
    };
    let dir = tempfile::tempdir().unwrap();
    let real = RealPath::start(world, dir.path(), answers).await;
    let allow = format!("{}/32", real.ip());
    let fetcher = real.fetcher(&[&allow]);
    let name = Domain::parse(name).unwrap();
    let fetch = fetcher.get(&name, "/.well-known/nodeinfo", 64 * 1024);
    // Bounded: the DNS timeout (1 s) plus the request timeout (2 s), with room to spare.
    tokio::time::timeout(Duration::from_secs(30), fetch)
        .await
        .expect("a DNS failure ends in bounded time")
}

async fn dns_failure(name: &str, answer: Option<Answer>) -> FetchError {
    let error = resolve_through(name, |zone, _| match answer {
        Some(answer) => zone.with(name, answer),
        None => zone,
    })
    .await
    .unwrap_err();
    assert_eq!(error.reason, FailureReason::Dns, "{error}");
    error
}

#[tokio::test]
async fn a_name_that_does_not_exist_is_a_dns_failure_of_its_own() {
    let error = dns_failure("nowhere.social", None).await;
    assert!(error.nonexistent, "{error}");
    assert!(error.detail.contains("NXDOMAIN"), "{error}");
}

#[tokio::test]
async fn a_failing_dns_server_is_a_dns_failure() {
    let error = dns_failure("broken.social", Some(Answer::ServerFailure)).await;
    assert!(!error.nonexistent, "{error}");
    assert!(error.detail.contains("broken.social"), "{error}");
}

#[tokio::test]
async fn a_dns_server_that_never_answers_is_a_dns_failure() {
    let error = dns_failure("silent.social", Some(Answer::Silence)).await;
    assert!(!error.nonexistent, "{error}");
}

#[tokio::test]
async fn a_cname_loop_is_a_dns_failure() {
    let error = resolve_through("loop-a.social", |zone, _| {
        zone.with("loop-a.social", Answer::Alias("loop-b.social".into()))
            .with("loop-b.social", Answer::Alias("loop-a.social".into()))
    })
    .await
    .unwrap_err();
    assert_eq!(error.reason, FailureReason::Dns, "{error}");
}

#[tokio::test]
async fn a_cname_chain_that_ends_in_an_address_is_followed() {
    let page = resolve_through("target.social", |zone, ip| {
        zone.with("target.social", Answer::Alias("cdn.hosting.example".into()))
            .with(
                "cdn.hosting.example",
                Answer::Alias("edge.hosting.example".into()),
            )
            .with("edge.hosting.example", Answer::Addresses(vec![ip]))
    })
    .await
    .unwrap();
    assert_eq!(page.status, 200);
}

/// A listener on `addr` that counts the connections it accepts.
async fn counting_listener(addr: SocketAddr) -> Arc<AtomicUsize> {
    let listener = TcpListener::bind(addr)
        .await
        .unwrap_or_else(|e| panic!("binding {addr} for the rebinding test: {e}"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            count.fetch_add(1, Ordering::SeqCst);
        }
    });
    accepted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_answering_loopback_are_refused_before_any_connection_redirects_included() {
    let v4 = counting_listener("127.0.0.2:443".parse().unwrap()).await;
    let v6 = counting_listener("[::1]:443".parse().unwrap()).await;
    let world = World {
        servers: vec![
            SimServer::new("fine.social", Kind::Mastodon),
            SimServer::new("hop.social", Kind::Mastodon).with(Behaviour::SplitDomain {
                web: "rebound.social".into(),
            }),
        ],
        seeds: vec![],
    };
    let dir = tempfile::tempdir().unwrap();
    let real = RealPath::start(world, dir.path(), |zone, _| {
        zone.with(
            "rebind4.social",
            Answer::Addresses(vec!["127.0.0.2".parse().unwrap()]),
        )
        .with(
            "rebind6.social",
            Answer::Addresses(vec!["::1".parse().unwrap()]),
        )
        .with(
            "rebound.social",
            Answer::Addresses(vec!["127.0.0.2".parse().unwrap()]),
        )
    })
    .await;
    // Without --allow-address at all.
    let fetcher = real.fetcher(&[]);
    for name in ["rebind4.social", "rebind6.social"] {
        let name = Domain::parse(name).unwrap();
        let error = fetcher.get(&name, "/", 1024).await.unwrap_err();
        assert_eq!(error.reason, FailureReason::ForbiddenAddress, "{error}");
    }
    let db = dir.path().join("db");
    // The sim's own address is allowed, so hop.social and fine.social answer; nothing
    // else is.
    let flags = real.flags(&format!("{}/32", real.ip()));
    let seeds = ["rebind4.social", "rebind6.social", "hop.social"];
    let mut crawled = seeds.to_vec();
    crawled.push("fine.social");
    let s = summary(&run(crawl_args(dir.path(), flags, &crawled)).await);
    assert_eq!(s["servers_up"], 1, "{s}");
    assert_eq!(s["failed"]["forbidden_address"], 3, "{s}");
    let store = Store::open_existing(&db).unwrap();
    for seed in seeds {
        let record = store
            .server(&Domain::parse(seed).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(
            record.status,
            Status::Failed {
                reason: FailureReason::ForbiddenAddress
            },
            "{seed}"
        );
    }
    assert!(
        real.sim.requests().iter().any(|r| r.host == "hop.social"),
        "the redirect came from the sim"
    );
    assert_eq!(v4.load(Ordering::SeqCst), 0, "127.0.0.2 saw a connection");
    assert_eq!(v6.load(Ordering::SeqCst), 0, "::1 saw a connection");
}

#[tokio::test]
async fn a_name_that_does_not_exist_goes_on_the_long_reprobe_schedule() {
    let world = World {
        servers: vec![SimServer::new("alive.social", Kind::Mastodon)],
        seeds: vec![],
    };
    let dir = tempfile::tempdir().unwrap();
    let real = RealPath::start(world, dir.path(), |zone, _| zone).await;
    let db = dir.path().join("db");
    let flags = real.flags("127.0.0.0/8");
    let s = summary(
        &run(crawl_args(
            dir.path(),
            flags,
            &["alive.social", "gone.social"],
        ))
        .await,
    );
    assert_eq!(
        (s["servers_up"].as_u64(), s["failed"]["dns"].as_u64()),
        (Some(1), Some(1))
    );
    let store = Store::open_existing(&db).unwrap();
    let gone = store
        .server(&Domain::parse("gone.social").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(gone.consecutive_failures, PROBE_GRACE);
    let at: chrono::DateTime<chrono::Utc> = AT.parse().unwrap();
    assert!(!gone.is_due(at + chrono::Duration::hours(12)));
    assert!(gone.is_due(at + chrono::Duration::days(1)));
}

#[test]
fn bad_network_flags_are_clear_errors_naming_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let db = dir.path().join("db").display().to_string();
    let crawl = |extra: &[&str]| {
        let mut args = vec!["--db", &db, "--quiet", "crawl", "--seed", "a.social"];
        args.extend(extra);
        common::bin().args(&args).output().unwrap()
    };
    let out = crawl(&["--ca-cert", &junk.display().to_string()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("junk.pem") && err.contains("no PEM certificate"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let out = crawl(&["--allow-address", "everything"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("'everything' is not an address range"),
        "{err}"
    );

    let out = crawl(&[
        "--dns-server",
        "127.0.0.1:53",
        "--connect-to",
        "127.0.0.1:1",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_whose_reader_went_away_is_recorded_and_exits_0() {
    let world = World {
        servers: vec![SimServer::new("alive.social", Kind::Mastodon)],
        seeds: vec![],
    };
    let dir = tempfile::tempdir().unwrap();
    let real = RealPath::start(world, dir.path(), |zone, _| zone).await;
    let args = crawl_args(dir.path(), real.flags("127.0.0.0/8"), &["alive.social"]);
    // `fedicensus crawl … | head -0`: stdout is closed before the summary is written.
    let out = tokio::task::spawn_blocking(move || {
        let mut child = common::bin()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {err}", out.status);
    assert!(!err.contains("panicked"), "{err}");
    let store = Store::open_existing(&dir.path().join("db")).unwrap();
    assert_eq!(store.snapshot_count(), 1);
}
