//! End-to-end: `fedicensus serve` over a history crawled from the simulated fediverse,
//! queried with a real HTTP client while its scheduled crawl runs; every route, the
//! errors, the methods, and the dashboard in headless Chromium.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fedicensus::demo::crawl_instant;
use fedicensus::sim::World;
use serde_json::Value;

mod common;

use common::browser::{self, harness, probe, screenshot};
use common::history::d;
use common::{bin, run, sim_args, Scene};

/// A running `serve`: its address, and its log so far.
struct Server {
    child: Child,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(args: Vec<String>) -> Server {
        let mut child = bin()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        assert!(
            first.starts_with("listening on http://127.0.0.1:") && first.contains("loopback only"),
            "{first:?}"
        );
        let base = first
            .split_whitespace()
            .nth(2)
            .unwrap()
            .trim_end_matches('/');
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = log.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        Server {
            child,
            base: base.to_string(),
            log,
        }
    }

    fn logged(&self, needle: &str) -> bool {
        self.log.lock().unwrap().iter().any(|l| l.contains(needle))
    }
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, String) {
    let response = client.get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn json(client: &reqwest::Client, url: &str) -> (u16, Value) {
    let (status, body) = get(client, url).await;
    let value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"));
    (status, value)
}

/// Crawls simulated days 0 to `days` of the wave into the scene's database.
async fn crawl_days(scene: &Scene, days: u32) {
    for n in 0..=days {
        scene.sim.set_world(World::wave(n));
        let at = crawl_instant(d(0), n).to_rfc3339();
        let out = run(sim_args(
            &scene.db,
            "crawl",
            &scene.seeds,
            &scene.sim,
            &["--at", &at],
        ))
        .await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_answers_while_its_crawl_runs() {
    let scene = Scene::new(World::wave(0)).await;
    crawl_days(&scene, 3).await;
    scene.sim.set_world(World::wave(4));
    let at = crawl_instant(d(0), 4).to_rfc3339();
    let reports = scene.dir.path().join("reports");
    let mut args = sim_args(
        &scene.db,
        "serve",
        &scene.seeds,
        &scene.sim,
        &[
            "--at",
            &at,
            "--per-host-rps",
            "2",
            "--crawl-every",
            "1h",
            "--addr",
            "127.0.0.1:0",
        ],
    );
    args.push("--reports".into());
    args.push(reports.display().to_string());
    args.retain(|a| a != "--quiet");
    let server = tokio::task::spawn_blocking(move || Server::start(args))
        .await
        .unwrap();
    let client = client();
    let base = server.base.clone();

    // Query as fast as the service answers until the crawl is done.
    let started = Instant::now();
    let mut during = 0;
    while !server.logged("scheduled crawl done") {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the crawl did not finish"
        );
        let (status, days) = json(&client, &format!("{base}/api/v1/days")).await;
        assert_eq!(status, 200, "{days}");
        assert!(days.as_array().unwrap().len() >= 4);
        during += 1;
    }
    assert!(during >= 3, "only {during} answers during the crawl");

    // Day 4 is there now, and its reports were written.
    let (_, days) = json(&client, &format!("{base}/api/v1/days")).await;
    let days = days.as_array().unwrap().clone();
    assert_eq!(days.len(), 5);
    assert_eq!(days[0]["date"], "2022-10-27");
    assert_eq!(days[4]["date"], "2022-10-31");
    assert!(reports.join("2022-10-31/report.json").is_file());
    assert!(reports.join("index.html").is_file());

    // The same numbers as the report, under the report's names.
    let (status, period) = json(&client, &format!("{base}/api/v1/period?since=2022-10-28")).await;
    assert_eq!(status, 200);
    assert_eq!(period["since"], "2022-10-28");
    assert_eq!(period["until"], "2022-10-31");
    assert_eq!(period["servers_up"], days[4]["servers"]["up"]);
    let new_users =
        days[4]["users"]["total"].as_i64().unwrap() - days[1]["users"]["total"].as_i64().unwrap();
    assert_eq!(period["new_users"], new_users);
    let g = &period["growth"];
    assert_eq!(
        g["continuing"]["users"].as_i64().unwrap() + g["newly_counted"]["users"].as_i64().unwrap()
            - g["stopped_counting"]["users"].as_i64().unwrap(),
        new_users
    );
    let (_, some) = json(
        &client,
        &format!("{base}/api/v1/days?since=2022-10-28&until=2022-10-29"),
    )
    .await;
    assert_eq!(some.as_array().unwrap().len(), 2);
    assert_eq!(some[0], days[1]);

    let (status, languages) =
        json(&client, &format!("{base}/api/v1/languages?date=2022-10-31")).await;
    assert_eq!(status, 200);
    assert_eq!(languages["by_language"], days[4]["by_language"]);
    assert!(languages["servers_declaring"].as_u64().unwrap() > 0);

    // The lists behind the numbers: the same servers the day's and the period's counts.
    let list = |query: &str| {
        let (client, url) = (client.clone(), format!("{base}/api/v1/servers?{query}"));
        async move { json(&client, &url).await }
    };
    let (status, standing) = list("date=2022-10-31").await;
    assert_eq!(status, 200, "{standing}");
    let counted = standing
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            ["observed", "carried_forward"].contains(&r["standing"]["state"].as_str().unwrap())
        })
        .count();
    assert_eq!(counted as u64, days[4]["servers"]["up"].as_u64().unwrap());
    let (_, new) = list("new=true&date=2022-10-31").await;
    assert_eq!(
        new.as_array().unwrap().len() as u64,
        days[4]["servers"]["new"].as_u64().unwrap()
    );
    let (_, new) = list("new=true&since=2022-10-28&until=2022-10-31").await;
    assert_eq!(
        new.as_array().unwrap().len() as u64,
        period["new_servers"].as_u64().unwrap()
    );
    assert!(period["new_servers"].as_u64().unwrap() > 0);
    let (status, mastodon) = list("software=mastodon").await;
    assert_eq!(status, 200);
    let mastodon = mastodon.as_array().unwrap();
    assert!(!mastodon.is_empty() && mastodon.iter().all(|r| r["software"] == "mastodon"));
    for (query, parameter) in [
        ("new=maybe", "new"),
        ("date=yesterday", "date"),
        ("until=2022-10-30", "until"),
        ("software=nonexistent", "software"),
    ] {
        let (status, error) = list(query).await;
        assert_eq!(status, 400, "{query}: {error}");
        assert_eq!(error["parameter"], parameter, "{query}: {error}");
    }

    let hub = &scene.world.seeds[0];
    let (status, history) = json(
        &client,
        &format!("{base}/api/v1/servers/{}", hub.to_uppercase()),
    )
    .await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["record"]["domain"], hub.as_str());
    assert_eq!(history["snapshots"].as_array().unwrap().len(), 5);

    // Errors: a bad parameter names it; unknown days, servers and pages are 404.
    for (query, parameter) in [
        ("/api/v1/days?since=yesterday", "since"),
        ("/api/v1/period?until=2022-13-01", "until"),
        ("/api/v1/days?frobnicate=1", "frobnicate"),
        ("/api/v1/period?since=2022-10-30&until=2022-10-28", "since"),
        ("/api/v1/languages?date=2022-10-28&date=2022-10-29", "date"),
        ("/api/v1/servers/not..a..domain", "domain"),
    ] {
        let (status, body) = json(&client, &format!("{base}{query}")).await;
        assert_eq!(
            (status, &body["parameter"]),
            (400, &Value::from(parameter)),
            "{query}: {body}"
        );
        assert!(body["error"].as_str().unwrap().len() > 10);
    }
    for query in [
        "/api/v1/languages?date=2021-01-01",
        "/api/v1/servers/never-seen.social",
        "/api/v2/days",
    ] {
        let (status, body) = json(&client, &format!("{base}{query}")).await;
        assert_eq!(status, 404, "{query}: {body}");
        assert!(body["error"].is_string());
    }
    // Read-only: GET and HEAD only.
    let head = client
        .head(format!("{base}/api/v1/days"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status().as_u16(), 200);
    assert!(head.text().await.unwrap().is_empty());
    for method in [
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let response = client
            .request(method.clone(), format!("{base}/api/v1/days"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 405, "{method}");
    }

    // The dashboard and every file it links to.
    let (status, page) = get(
        &client,
        &format!("{base}/?since=2022-10-27&until=2022-10-31"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("<form class=\"picker\""));
    assert!(page.contains("name=\"since\" value=\"2022-10-27\""));
    assert!(page.contains("id=\"headline-split\""));
    let (status, svg) = get(
        &client,
        &format!("{base}/report/users.svg?since=2022-10-27&until=2022-10-31"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(svg.starts_with("<svg"));
    let (status, _) = get(&client, &format!("{base}/report/passwd")).await;
    assert_eq!(status, 404);

    // Every request was logged with its time.
    assert!(
        server.logged("request") && server.logged("ms="),
        "{:?}",
        server.log.lock().unwrap()
    );

    let Some(browser) =
        browser::chromium_or_skip("the dashboard part of serve_answers_while_its_crawl_runs")
    else {
        return;
    };
    let dir = scene.dir.path().to_path_buf();
    let with_base = page.replacen("<head>", &format!("<head><base href=\"{base}/\">"), 1);
    for (width, name) in [(1280, "desktop"), (390, "phone")] {
        let (browser, html, dir) = (browser.clone(), with_base.clone(), dir.clone());
        let probe = tokio::task::spawn_blocking(move || {
            let url = harness(&dir, &html, width);
            screenshot(
                &browser,
                &url,
                (1300, 2100),
                &dir.join(format!("{name}.png")),
            );
            probe(&browser, &url)
        })
        .await
        .unwrap();
        probe.assert_fits(name, width);
        // The files and charts, and new_servers.csv again from its section.
        assert_eq!(probe.links.len(), 10, "{:?}", probe.links);
        for link in &probe.links {
            assert!(link.starts_with(&base), "{link}");
            let (status, _) = get(&client, link).await;
            assert_eq!(status, 200, "{name}: {link}");
        }
    }
}
