//! Tests of the simulated fediverse itself: HTTP dispatch and payloads over loopback, the
//! hostile behaviours, the request log, and the ground truth of every scenario (numbers
//! worked out by hand from `World::standard`, not recomputed).

use std::collections::BTreeSet;
use std::io::Read;
use std::time::Duration;

use fedicensus::sim::{serve, Behaviour, Kind, SimHandle, SimServer, World};
use reqwest::{header, Response, StatusCode};
use serde_json::{json, Value};

/// Talks to the sim with explicit Host headers.
struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn new(sim: &SimHandle) -> Client {
        // reqwest is built without a default crypto provider and panics without one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .no_proxy()
            .no_gzip()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .user_agent("fedicensus-test/1")
            .build()
            .expect("client builds");
        Client {
            http,
            base: format!("http://{}", sim.addr),
        }
    }

    async fn get(&self, host: &str, path: &str) -> reqwest::Result<Response> {
        self.http
            .get(format!("{}{path}", self.base))
            .header(header::HOST, host)
            .send()
            .await
    }

    async fn json(&self, host: &str, path: &str) -> Value {
        let resp = self.get(host, path).await.expect("request succeeds");
        assert_eq!(resp.status(), StatusCode::OK, "{host}{path}");
        body_json(resp).await
    }

    async fn misskey(&self, host: &str, body: Value) -> Response {
        self.http
            .post(format!("{}/api/federation/instances", self.base))
            .header(header::HOST, host)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request succeeds")
    }
}

/// reqwest is built without its `json` feature.
async fn body_json(resp: Response) -> Value {
    serde_json::from_slice(&resp.bytes().await.expect("body")).expect("JSON body")
}

async fn standard() -> (SimHandle, Client) {
    let sim = serve(World::standard()).await.expect("sim starts");
    let client = Client::new(&sim);
    (sim, client)
}

#[tokio::test]
async fn dispatches_by_host_and_serves_realistic_nodeinfo() {
    let (_sim, c) = standard().await;
    let wk = c
        .json("HARBOR-TOWN.social:8080", "/.well-known/nodeinfo")
        .await;
    assert_eq!(
        wk,
        json!({"links": [{
            "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
            "href": "https://harbor-town.social/nodeinfo/2.0",
        }]})
    );
    let ni = c.json("harbor-town.social", "/nodeinfo/2.0").await;
    assert_eq!(ni["software"]["name"], "mastodon");
    assert_eq!(ni["usage"]["users"]["total"], 1200);
    assert_eq!(ni["usage"]["users"]["activeMonth"], 340);
    assert_eq!(ni["usage"]["localPosts"], 48000);
    let other = c.json("quietmoss.net", "/nodeinfo/2.0").await;
    assert_eq!(other["usage"]["users"]["total"], 800);
    assert_eq!(other["openRegistrations"], false);

    let unknown = c.get("nowhere.social", "/").await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(unknown.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
}

#[tokio::test]
async fn payload_shapes_per_software() {
    let (_sim, c) = standard().await;

    let pixelfed = c.json("petalframe.com", "/api/nodeinfo/2.0.json").await;
    assert_eq!(pixelfed["usage"]["users"]["total"], "16");
    assert_eq!(pixelfed["usage"]["localPosts"], "60");

    let gts = c.json("tinyburrow.net", "/nodeinfo/2.0").await;
    assert_eq!(gts["usage"]["users"], json!({"total": 5}));
    let peers = c
        .get("tinyburrow.net", "/api/v1/instance/peers")
        .await
        .unwrap();
    assert_eq!(peers.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        body_json(peers).await,
        json!({"error": "Unauthorized: peers are hidden"})
    );

    let pleroma = c.json("fernhollow.xyz", "/api/v1/instance").await;
    assert_eq!(pleroma["uri"], "https://fernhollow.xyz");
    assert_eq!(pleroma["stats"]["user_count"], 40);
    let v2 = c.get("fernhollow.xyz", "/api/v2/instance").await.unwrap();
    assert_eq!(v2.status(), StatusCode::NOT_FOUND);

    let mastodon_v2 = c.json("harbor-town.social", "/api/v2/instance").await;
    assert_eq!(mastodon_v2["domain"], "harbor-town.social");
    assert_eq!(mastodon_v2["usage"]["users"]["active_month"], 340);
    let activity = c
        .json("harbor-town.social", "/api/v1/instance/activity")
        .await;
    let weeks = activity.as_array().unwrap();
    assert_eq!(weeks.len(), 12);
    assert!(weeks
        .iter()
        .all(|w| w["week"].is_string() && w["logins"].is_string()));
    let mastodon_peers = c.json("harbor-town.social", "/api/v1/instance/peers").await;
    assert!(mastodon_peers
        .as_array()
        .unwrap()
        .contains(&json!("bücher.social")));

    let lemmy = c
        .json("threadloom.net", "/api/v3/federated_instances")
        .await;
    let fed = &lemmy["federated_instances"];
    assert_eq!(fed["linked"].as_array().unwrap().len(), 3);
    assert_eq!(fed["linked"][0]["domain"], "harbor-town.social");
    assert_eq!(fed["linked"][0]["software"], "mastodon");
    assert_eq!(fed["blocked"][1]["domain"], "trollden.net");
    let lemmy_ni = c.json("threadloom.net", "/nodeinfo/2.0.json").await;
    assert!(lemmy_ni.get("metadata").is_none() && lemmy_ni.get("services").is_none());
    let links_object = c.json("linkraft.org", "/.well-known/nodeinfo").await;
    assert_eq!(
        links_object["links"]["href"],
        "https://linkraft.org/nodeinfo/2.0.json"
    );

    let friendica = c.json("oldcircle.de", "/.well-known/nodeinfo").await;
    assert_eq!(friendica["links"].as_array().unwrap().len(), 2);
    let f10 = c.json("oldcircle.de", "/nodeinfo/1.0").await;
    assert!(f10["protocols"]["inbound"].is_array());
    let f20 = c.json("oldcircle.de", "/nodeinfo/2.0").await;
    assert!(f20["protocols"].is_array());

    let odd = c.json("oddpath-lodge.net", "/.well-known/nodeinfo").await;
    assert_eq!(
        odd["links"][0]["href"],
        "https://oddpath-lodge.net/api/nodeinfo"
    );
    assert_eq!(
        c.json("oddpath-lodge.net", "/api/nodeinfo").await["version"],
        "2.1"
    );

    let peertube = c.json("reelcanal.org", "/nodeinfo/2.0.json").await;
    assert_eq!(peertube["usage"]["localPosts"], 420);
    let no_api = c.get("reelcanal.org", "/api/v1/instance").await.unwrap();
    assert_eq!(no_api.status(), StatusCode::NOT_FOUND);

    let misskey_ni = c.json("sparkmarsh.xyz", "/nodeinfo/2.1").await;
    assert_eq!(misskey_ni["usage"]["users"]["activeHalfyear"], 180);
    let misskey_v1 = c.get("sparkmarsh.xyz", "/api/v1/instance").await.unwrap();
    assert_eq!(misskey_v1.status(), StatusCode::NOT_FOUND);

    let silent = c.json("silentbay.org", "/nodeinfo/2.0").await;
    assert!(silent.get("usage").is_none());
    let private = c.json("veiledpond.fr", "/nodeinfo/2.0.json").await;
    assert_eq!(private["metadata"]["private"], true);

    let site = c
        .get("plainbakery.com", "/.well-known/nodeinfo")
        .await
        .unwrap();
    assert_eq!(site.status(), StatusCode::NOT_FOUND);
    assert!(site.text().await.unwrap().contains("<html>"));
    let front = c.get("plainbakery.com", "/").await.unwrap();
    assert_eq!(front.status(), StatusCode::OK);
}

#[tokio::test]
async fn robots_and_gone() {
    let (_sim, c) = standard().await;
    let all = c.get("nofollow-garden.org", "/robots.txt").await.unwrap();
    assert_eq!(all.text().await.unwrap(), "User-agent: *\nDisallow: /\n");
    let ours = c.get("hushmeadow.de", "/robots.txt").await.unwrap();
    assert!(ours
        .text()
        .await
        .unwrap()
        .starts_with("User-agent: fedicensus\nDisallow: /"));
    let none = c.get("harbor-town.social", "/robots.txt").await.unwrap();
    assert_eq!(none.status(), StatusCode::NOT_FOUND);
    for path in ["/robots.txt", "/.well-known/nodeinfo", "/api/v1/instance"] {
        let gone = c.get("formerly-here.social", path).await.unwrap();
        assert_eq!(gone.status(), StatusCode::GONE);
    }
}

#[tokio::test]
async fn misskey_paginates_and_clamps() {
    let (_sim, c) = standard().await;
    let page = |v: Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|o| o["host"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = c
        .misskey("sparkmarsh.xyz", json!({"limit": 100, "offset": 0}))
        .await;
    let first = page(body_json(first).await);
    assert_eq!(first.len(), 100);
    assert!(!first.contains(&"latecomer-glade.org".to_owned()));
    // 104 padding entries, 11 junk entries, then the page-two-only host.
    let second = c
        .misskey(
            "sparkmarsh.xyz",
            json!({"limit": 100, "offset": 100, "sort": "+pubSub"}),
        )
        .await;
    let second = page(body_json(second).await);
    assert_eq!(second.len(), 16);
    assert_eq!(second.last().unwrap(), "latecomer-glade.org");
    let clamped = c.misskey("sparkmarsh.xyz", json!({"limit": 1000})).await;
    assert_eq!(page(body_json(clamped).await).len(), 100);
    let default = c.misskey("sparkmarsh.xyz", json!({})).await;
    assert_eq!(page(body_json(default).await).len(), 30);
    let small = c
        .misskey("sparkmarsh.xyz", json!({"limit": 3, "offset": 1}))
        .await;
    let small: Value = body_json(small).await;
    assert_eq!(
        page(small.clone()),
        ["quietmoss.net", "LANTERNFISH.IO", "threadloom.net."]
    );
    assert_eq!(small[0]["usersCount"], 800);
    assert_eq!(small[0]["softwareName"], "mastodon");
    let filtered = c.misskey("sparkmarsh.xyz", json!({"host": "glade"})).await;
    assert_eq!(page(body_json(filtered).await), ["latecomer-glade.org"]);
    let bad = c.misskey("sparkmarsh.xyz", json!({"limit": "many"})).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn rate_limit_then_ok() {
    let (sim, c) = standard().await;
    for _ in 0..2 {
        let r = c.get("busyport.io", "/.well-known/nodeinfo").await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
    }
    let ok = c.get("busyport.io", "/.well-known/nodeinfo").await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    // A new day starts the counter over.
    sim.set_world(World::standard());
    let again = c.get("busyport.io", "/.well-known/nodeinfo").await.unwrap();
    assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn dead_and_hanging_hosts_are_logged() {
    let (sim, c) = standard().await;
    let dead = c.get("deadreef.net", "/.well-known/nodeinfo").await;
    let err = dead.expect_err("dead host answers nothing");
    assert!(!err.is_timeout(), "{err}");
    let hang = c
        .http
        .get(format!("{}/robots.txt", c.base))
        .header(header::HOST, "slowtide.org")
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(hang.expect_err("hanging host never answers").is_timeout());
    let hosts: Vec<String> = sim.requests().into_iter().map(|r| r.host).collect();
    assert_eq!(hosts, ["deadreef.net", "slowtide.org"]);
}

#[tokio::test]
async fn split_domain_redirects_apex_to_web() {
    let (_sim, c) = standard().await;
    let apex = c
        .get("splitcove.net", "/.well-known/nodeinfo")
        .await
        .unwrap();
    assert_eq!(apex.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        apex.headers()[header::LOCATION],
        "https://social.splitcove.net/.well-known/nodeinfo"
    );
    let wk = c
        .json("social.splitcove.net", "/.well-known/nodeinfo")
        .await;
    assert_eq!(
        wk["links"][0]["href"],
        "https://social.splitcove.net/nodeinfo/2.0"
    );
    let v2 = c.json("social.splitcove.net", "/api/v2/instance").await;
    assert_eq!(v2["domain"], "splitcove.net");
    let v1 = c.json("social.splitcove.net", "/api/v1/instance").await;
    assert_eq!(v1["uri"], "splitcove.net");
}

#[tokio::test]
async fn hostile_bodies() {
    let (_sim, c) = standard().await;
    let peers = c
        .get("floodgate-hub.com", "/api/v1/instance/peers")
        .await
        .unwrap();
    assert!(peers.bytes().await.unwrap().len() >= 20 * 1024 * 1024);
    let big = c.get("bloatedinfo.xyz", "/nodeinfo/2.0").await.unwrap();
    let big = big.bytes().await.unwrap();
    assert!(big.len() >= 3 * 1024 * 1024);
    assert!(serde_json::from_slice::<Value>(&big).is_ok());
    let bomb = c.get("zipstorm.io", "/nodeinfo/2.0").await.unwrap();
    assert_eq!(bomb.headers()[header::CONTENT_ENCODING], "gzip");
    let compressed = bomb.bytes().await.unwrap();
    assert!(compressed.len() < 200 * 1024, "{}", compressed.len());
    let mut expanded = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut expanded)
        .unwrap();
    assert!(expanded.len() >= 64 * 1024 * 1024);
}

#[tokio::test]
async fn request_log_and_world_swap() {
    let (sim, c) = standard().await;
    c.get("harbor-town.social", "/api/v1/instance/peers?limit=5")
        .await
        .unwrap();
    c.get("nowhere.social", "/x").await.unwrap();
    let log = sim.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].host, "harbor-town.social");
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, "/api/v1/instance/peers?limit=5");
    assert_eq!(log[0].user_agent.as_deref(), Some("fedicensus-test/1"));
    assert_eq!(log[1].host, "nowhere.social");
    assert!(log[0].at <= log[1].at);
    sim.clear_requests();
    assert!(sim.requests().is_empty());

    let mut world = World::standard();
    world
        .servers
        .push(SimServer::new("nowhere.social", Kind::Mastodon).with_usage(3, 1, 2, 9));
    sim.set_world(world);
    let ni = c.json("nowhere.social", "/nodeinfo/2.0").await;
    assert_eq!(ni["usage"]["users"]["total"], 3);
    assert_eq!(
        sim.world().servers.len(),
        World::standard().servers.len() + 1
    );
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn truth_of_standard_world() {
    let t = World::standard().truth();
    assert_eq!(t.counted.len(), 20, "{:?}", t.counted);
    for d in [
        "xn--bcher-kva.social",
        "loud-harbor.social",
        "splitcove.net",
        "latecomer-glade.org",
        "busyport.io",
        "floodgate-hub.com",
    ] {
        assert!(t.counted.contains(d), "{d}");
    }
    assert!(!t.counted.contains("social.splitcove.net"));
    // Sums of the 20 counted servers; silentbay (no usage) keeps users/posts/month from the
    // Mastodon API, tinyburrow (GoToSocial) gets its month from v2, fernhollow (Pleroma,
    // total only, no v2) reports neither active count.
    assert_eq!(t.users_total, 6324);
    assert_eq!(t.active_month, 1515);
    assert_eq!(t.active_halfyear, 2973);
    assert_eq!(t.local_posts, 227_480);
    assert_eq!(
        t.opted_out,
        set(&[
            "nofollow-garden.org",
            "hushmeadow.de",
            "veiledpond.fr",
            "formerly-here.social"
        ])
    );
    assert_eq!(
        t.failed,
        set(&[
            "deadreef.net",
            "slowtide.org",
            "bloatedinfo.xyz",
            "zipstorm.io"
        ])
    );
    assert_eq!(t.not_fediverse, set(&["plainbakery.com", "paperwiki.org"]));
    for d in [
        "grimspam.social",
        "trollden.net",
        "lonely-isle.net",
        "127.0.0.1",
        "localhost",
        "10.0.0.1",
        "wrong-shape.social",
        "wild.social",
        "example.com",
        "singlelabel",
    ] {
        assert!(t.never_contact.contains(d), "{d}");
    }
    assert_eq!(t.never_contact.len(), 16, "{:?}", t.never_contact);
    let all: BTreeSet<&String> = t
        .counted
        .iter()
        .chain(&t.opted_out)
        .chain(&t.failed)
        .chain(&t.not_fediverse)
        .collect();
    assert!(t.never_contact.iter().all(|d| !all.contains(d)));
}

#[test]
fn standard_world_covers_every_kind_and_quirk() {
    let w = World::standard();
    for kind in Kind::ALL {
        assert!(w.servers.iter().any(|s| s.kind == kind), "{kind:?}");
    }
    let quirks: Vec<&Behaviour> = w.servers.iter().flat_map(|s| &s.behaviour).collect();
    assert!(quirks.len() >= 16);
    let domains: BTreeSet<&str> = w.servers.iter().map(|s| s.domain.as_str()).collect();
    assert_eq!(domains.len(), w.servers.len());
}

#[test]
fn wave_is_deterministic_and_grows() {
    assert_eq!(World::wave(12), World::wave(12));
    assert_eq!(World::wave(0).servers.len(), 60);
    assert_eq!(World::wave(30).servers.len(), 120);
    let spam = |w: &World| {
        w.servers
            .iter()
            .filter(|s| s.domain.ends_with(".spamfarm.xyz"))
            .count()
    };
    assert_eq!(spam(&World::wave(16)), 0);
    assert_eq!(spam(&World::wave(17)), 8);
    let users = |w: &World, d: &str| {
        w.servers
            .iter()
            .find(|s| s.domain == d)
            .map(|s| s.users_total)
    };
    assert_eq!(
        users(&World::wave(20), "tallclaims.social"),
        Some(5_000_000)
    );
    assert!(users(&World::wave(19), "tallclaims.social").unwrap() < 1000);
    assert!(users(&World::wave(21), "tallclaims.social").unwrap() < 1000);

    let mut signups = Vec::new();
    for day in 1..=30 {
        let (before, after) = (World::wave(day - 1), World::wave(day));
        let mut grown = 0;
        for old in &before.servers {
            let new = after
                .servers
                .iter()
                .find(|s| s.domain == old.domain)
                .expect("servers never vanish");
            if old.domain != "tallclaims.social" {
                assert!(
                    new.users_total >= old.users_total,
                    "{} day {day}",
                    old.domain
                );
                grown += new.users_total - old.users_total;
            }
            assert!(old.peers.iter().all(|p| new.peers.contains(p)));
        }
        signups.push(grown);
        let hub = &after.servers[0];
        for s in &after.servers[1..] {
            assert!(hub.peers.contains(&s.domain), "{} day {day}", s.domain);
        }
        assert!(after.truth().counted.len() >= before.truth().counted.len() - 3);
    }
    // The surge: daily sign-ups after day 10 are well above those before.
    assert!(signups[15] > 2 * signups[5], "{signups:?}");
    let dead_days = (0..=30)
        .filter(|&d| {
            World::wave(d)
                .servers
                .iter()
                .any(|s| s.has(&Behaviour::Dead))
        })
        .count();
    assert!((3..30).contains(&dead_days), "{dead_days}");
}

#[test]
fn generated_world_sizes() {
    let w = World::generated(1000, 42);
    assert_eq!(w, World::generated(1000, 42));
    assert_eq!(w.servers.len(), 1000);
    let domains: BTreeSet<&str> = w.servers.iter().map(|s| s.domain.as_str()).collect();
    assert_eq!(domains.len(), 1000);
    let dead = w.servers.iter().filter(|s| s.has(&Behaviour::Dead)).count();
    assert!((10..60).contains(&dead), "{dead}");
    let t = w.truth();
    assert_eq!(t.failed.len(), dead);
    assert!(t.counted.len() > 850, "{}", t.counted.len());
    assert_eq!(
        t.counted.len() + t.failed.len() + t.not_fediverse.len() + t.opted_out.len(),
        1000
    );
}

#[test]
fn shaped_worlds_keep_their_servers_and_vary_only_the_network() {
    use fedicensus::sim::NetShape;
    let shape = NetShape {
        latency_ms: (50, 150),
        refusing_pct: 40,
        hanging_pct: 10,
        outages_per_mille: 20,
    };
    let plain = World::generated(2000, 9);
    let shaped = World::generated_on(2000, 9, &shape, 0);
    assert_eq!(shaped, World::generated_on(2000, 9, &shape, 0));
    let has = |w: &World, b: &Behaviour| w.servers.iter().filter(|s| s.has(b)).count();
    let dead = has(&shaped, &Behaviour::Dead);
    let hanging = has(&shaped, &Behaviour::Hang);
    assert!((700..900).contains(&dead), "{dead} refusing of 2000");
    assert!((150..250).contains(&hanging), "{hanging} hanging of 2000");
    let latencies: Vec<u32> = shaped.servers.iter().map(|s| s.latency_ms()).collect();
    assert!(latencies.iter().all(|ms| (50..=150).contains(ms)));
    assert!(latencies.contains(&50) && latencies.contains(&150));
    for (p, s) in plain.servers.iter().zip(&shaped.servers) {
        assert_eq!(
            (&p.domain, p.kind, p.users_total, &p.peers),
            (&s.domain, s.kind, s.users_total, &s.peers)
        );
    }
    // Outages: none on day 0; later, servers go down for runs of days and come back.
    let down_on = |day: u32| -> BTreeSet<String> {
        let w = World::generated_on(2000, 9, &shape, day);
        w.servers
            .iter()
            .zip(&shaped.servers)
            .filter(|(s, first)| s.has(&Behaviour::Dead) && !first.has(&Behaviour::Dead))
            .map(|(s, _)| s.domain.clone())
            .collect()
    };
    let days: Vec<BTreeSet<String>> = (0..40).map(down_on).collect();
    assert!(days[0].is_empty());
    let in_outage = days[20].len();
    assert!(
        (100..700).contains(&in_outage),
        "{in_outage} down on day 20"
    );
    let back = days[20].iter().filter(|d| !days[39].contains(*d)).count();
    assert!(back > 0, "servers come back from their outages");
}
