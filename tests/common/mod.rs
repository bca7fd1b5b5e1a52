//! Helpers shared by the end-to-end tests: running the real binary, and pointing it at
//! the simulated fediverse.
#![allow(dead_code)] // each test crate uses its own subset

pub mod browser;
pub mod census;
pub mod history;
pub mod oracle;
pub mod real;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use fedicensus::fetch::{FetchConfig, NetworkConfig};
use fedicensus::sim::{truth::reported_usage, SimHandle, World};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fedicensus"))
}

/// Runs the binary without blocking the runtime that serves the simulation.
pub async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || bin().args(&args).output().expect("binary runs"))
        .await
        .unwrap()
}

/// The fetcher settings of the fetch tests: short timeouts, no rate limit to speak of,
/// the system resolver, public addresses only.
pub fn fetch_config() -> FetchConfig {
    FetchConfig {
        user_agent: "fedicensus-test/1".into(),
        timeout: Duration::from_secs(2),
        probe_timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(1),
        per_host_rps: 1000.0,
        concurrency: 8,
        connect_to: None,
        plain_http: false,
        max_retries: 2,
        max_retry_wait: Duration::from_secs(2),
        network: NetworkConfig::default(),
    }
}

/// `--db DB --quiet COMMAND --seeds SEEDS --connect-to SIM --plain-http --timeout 2 EXTRA…`
pub fn sim_args(
    db: &Path,
    command: &str,
    seeds: &Path,
    sim: &SimHandle,
    extra: &[&str],
) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "--db".into(),
        db.display().to_string(),
        "--quiet".into(),
        command.into(),
        "--seeds".into(),
        seeds.display().to_string(),
        "--connect-to".into(),
        sim.addr.to_string(),
        "--plain-http".into(),
        "--timeout".into(),
        "2".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// A seeds file listing the world's seeds after a comment, a blank and a bad line 3.
pub fn write_seeds(dir: &Path, world: &World) -> PathBuf {
    let path = dir.join("seeds.txt");
    let mut text = String::from("# simulated seeds\n\nnot a domain\n");
    for seed in &world.seeds {
        text.push_str(seed);
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// The `--json` summary of a crawl that must have succeeded.
pub fn summary(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "crawl failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    serde_json::from_slice(&output.stdout).expect("--json prints JSON")
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

pub fn thousands(n: i64) -> String {
    fedicensus::number::thousands(n)
}

/// A simulated fediverse with a fresh database and a seeds file for it.
pub struct Scene {
    pub world: World,
    pub sim: SimHandle,
    pub db: PathBuf,
    pub seeds: PathBuf,
    /// Keeps the temporary directory alive.
    pub dir: tempfile::TempDir,
}

impl Scene {
    pub async fn new(world: World) -> Scene {
        let sim = fedicensus::sim::serve(world.clone()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let seeds = write_seeds(dir.path(), &world);
        Scene {
            world,
            sim,
            db: dir.path().join("db"),
            seeds,
            dir,
        }
    }
}

/// The census of simulated day `day` as the Method defines it, from the simulation's own
/// truth: each server that `counts` says may count, with its [users, monthly actives]
/// from the latest day in [day−7, day] on which it answered.
pub fn expected_census(
    day: u32,
    world_on: impl Fn(u32) -> World,
    counts: impl Fn(&str) -> bool,
) -> BTreeMap<String, [i64; 2]> {
    let mut counted: BTreeMap<String, [i64; 2]> = BTreeMap::new();
    for d in day.saturating_sub(7)..=day {
        let world = world_on(d);
        let truth = world.truth();
        for server in world
            .servers
            .iter()
            .filter(|s| truth.counted.contains(&s.domain) && counts(&s.domain))
        {
            let usage = reported_usage(server);
            counted.insert(
                server.domain.clone(),
                [usage.users_total, usage.active_month],
            );
        }
    }
    counted
}
