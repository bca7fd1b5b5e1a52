//! End-to-end: fedicensus tried as a careless new user would (issue 11). It must never
//! delete or modify what it did not create, never publish a census of nothing, refuse
//! bad numbers and unknown names with a clear message, and never echo a huge input.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fedicensus::sim::World;
use fedicensus::store::Store;

mod common;

use common::{bin, run, Scene};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every file under `dir` with its bytes: to show a command changed nothing.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.insert(path.clone(), Vec::new());
                stack.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// A directory of a user's own files, one of them named like sled's data file.
fn users_directory(parent: &Path) -> PathBuf {
    let dir = parent.join("thesis");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("db"), b"my data, not sled's").unwrap();
    std::fs::write(dir.join("chapter1.txt"), b"It was a dark and stormy night.").unwrap();
    dir
}

/// A loopback port nothing listens on: every connection to it is refused.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr.to_string()
}

fn demo(demo_db: &Path, reports: &Path) -> Output {
    bin()
        .args(["--quiet", "demo", "--days", "1", "--reports"])
        .arg(reports)
        .arg("--demo-db")
        .arg(demo_db)
        .output()
        .unwrap()
}

#[test]
fn demo_deletes_only_what_it_created() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");

    // A user's directory, and a real census database: both refused untouched.
    let users = users_directory(dir.path());
    let census = dir.path().join("census.db");
    drop(Store::open(&census).unwrap());
    for precious in [&users, &census] {
        let before = tree(precious);
        let out = demo(precious, &reports);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("was not created by `fedicensus demo`"),
            "{}",
            stderr(&out)
        );
        assert_eq!(tree(precious), before, "{} untouched", precious.display());
    }
    assert!(Store::open_existing(&census).is_ok());

    // The demo's own database is recreated on every run; a user's file in
    // REPORTS/demo/ survives, and the demo's files are replaced.
    let demo_db = dir.path().join("demo.db");
    let mine = reports.join("demo").join("my-notes.txt");
    std::fs::create_dir_all(mine.parent().unwrap()).unwrap();
    std::fs::write(&mine, b"notes").unwrap();
    std::fs::write(reports.join("demo").join("report.md"), b"stale").unwrap();
    for _ in 0..2 {
        let out = demo(&demo_db, &reports);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(std::fs::read(&mine).unwrap(), b"notes");
    let md = std::fs::read_to_string(reports.join("demo").join("report.md")).unwrap();
    assert!(md.starts_with("# Fediverse census"), "{md}");
    let leftovers: Vec<_> = std::fs::read_dir(reports.join("demo"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// The standard simulated world, crawled once.
async fn crawled_scene() -> Scene {
    let scene = Scene::new(World::standard()).await;
    let out = run(common::sim_args(
        &scene.db,
        "crawl",
        &scene.seeds,
        &scene.sim,
        &["--per-host-rps", "50"],
    ))
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    scene
}

fn report(db: &Path, args: &[&str]) -> Output {
    bin()
        .arg("report")
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap()
}

/// Every format of the report of `day` (JSON, Markdown, the page) carries `warning`
/// and never announces a census of zero.
fn assert_every_report_warns(db: &Path, day: &str, note: &str, warning: &str) {
    let out_dir = db.with_extension("out");
    let json = report(db, &["--date", day, "--format", "json"]);
    assert!(json.status.success(), "{}", stderr(&json));
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(json["notes"].to_string().contains(note), "{json}");
    let md = report(db, &["--date", day, "--out", out_dir.to_str().unwrap()]);
    let html = std::fs::read_to_string(out_dir.join("index.html")).unwrap();
    for text in [stdout(&md), html] {
        assert!(text.contains(warning), "{text}");
        assert!(text.contains(note), "{text}");
        assert!(
            !text.contains("0 monthly active users on 0 servers"),
            "{text}"
        );
        assert!(!text.contains("Every server counted answered"), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_that_reached_nothing_is_no_census() {
    let scene = Scene::new(World::standard()).await;
    let dead = closed_port();
    let crawl = |at: &str, to: &str| {
        vec![
            "crawl".to_string(),
            "--quiet".into(),
            "--db".into(),
            scene.db.display().to_string(),
            "--seeds".into(),
            scene.seeds.display().to_string(),
            "--connect-to".into(),
            to.into(),
            "--plain-http".into(),
            "--timeout".into(),
            "2".into(),
            "--per-host-rps".into(),
            "50".into(),
            "--at".into(),
            at.into(),
        ]
    };

    // The very first crawl reaches nothing: exit 1, and no census of zero.
    let out = run(crawl("2024-07-01T12:00:00Z", &dead)).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("servers tried answered"),
        "{}",
        stderr(&out)
    );
    assert_every_report_warns(
        &scene.db,
        "2024-07-01",
        "No server answered the crawls of July 1, 2024",
        "There is no census for July 1, 2024",
    );

    // A good day, then one that reaches nothing: the numbers are carried forward, and
    // every report of that day says why, also when made later.
    let out = run(crawl("2024-07-02T12:00:00Z", &scene.sim.addr.to_string())).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(crawl("2024-07-03T12:00:00Z", &dead)).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = run(crawl("2024-07-04T12:00:00Z", &scene.sim.addr.to_string())).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_every_report_warns(
        &scene.db,
        "2024-07-03",
        "No server answered the crawls of July 3, 2024",
        "Warning: the crawls of July 3, 2024 reached no server",
    );
    let period = report(
        &scene.db,
        &["--since", "2024-07-02", "--until", "2024-07-03"],
    );
    assert!(
        stdout(&period).contains("Warning: the crawls of July 3, 2024 reached no server"),
        "{}",
        stdout(&period)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_software_is_an_error_that_lists_the_known() {
    let scene = crawled_scene().await;
    let out = report(&scene.db, &["--software", "nonexistent"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no server in the database runs 'nonexistent'") && err.contains("mastodon ("),
        "{err}"
    );
    assert!(report(&scene.db, &["--software", "Mastodon"])
        .status
        .success());
}

#[test]
fn numeric_flags_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let crawl = ["--db", db.to_str().unwrap(), "--seed", "a.social"];
    let cases = [
        ("crawl", &crawl[..], "--per-host-rps", "1e10"),
        ("crawl", &crawl, "--per-host-rps", "1e-300"),
        ("crawl", &crawl, "--timeout", "1e300"),
        ("crawl", &crawl, "--concurrency", "0"),
        ("crawl", &crawl, "--max-servers", "0"),
        ("daily", &crawl, "--max-new-per-domain", "0"),
        ("crawl", &crawl, "--max-new-per-server", "0"),
        ("crawl", &crawl, "--max-new-per-server", "1000001"),
        ("bench", &["crawl"], "--per-host-rps", "1e10"),
        ("bench", &["crawl"], "--servers", "100000000000"),
    ];
    for (command, args, flag, value) in cases {
        let out = bin()
            .arg(command)
            .args(args)
            .args([flag, value])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{flag} {value}: {}",
            stderr(&out)
        );
        assert!(stderr(&out).contains("invalid value"), "{}", stderr(&out));
    }
    assert!(!db.exists(), "a refused command creates nothing");
}

#[test]
fn a_run_that_never_ended_is_no_census_day() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    {
        let store = Store::open(&db).unwrap();
        let noon = |d: u32| {
            format!("2024-08-0{d}T12:00:00Z")
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap()
        };
        let mut run = store
            .start_run(noon(1), noon(1), serde_json::json!({}))
            .unwrap();
        run.ended = Some(noon(1));
        store.put_run(&run).unwrap();
        // Killed (or panicked) before its end.
        store
            .start_run(noon(2), noon(2), serde_json::json!({}))
            .unwrap();
        store.flush().unwrap();
    }
    let out = report(&db, &["--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["date"], "2024-08-01");
    let out = report(&db, &["--date", "2024-08-02"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("there is no census for 2024-08-02"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn huge_inputs_are_not_echoed_whole() {
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("seeds.txt");
    std::fs::write(&seeds, format!("{}\n", "x".repeat(10 << 20))).unwrap();
    let huge = "y".repeat(5_000);
    let runs = [
        bin()
            .args(["crawl", "--quiet", "--db"])
            .arg(dir.path().join("db"))
            .arg("--seeds")
            .arg(&seeds)
            .args([
                "--seed",
                "a.social",
                "--connect-to",
                &closed_port(),
                "--plain-http",
            ])
            .output()
            .unwrap(),
        bin().args(["server", &huge]).output().unwrap(),
        bin().args(["crawl", "--seed", &huge]).output().unwrap(),
        bin().args(["report", "--date", &huge]).output().unwrap(),
        bin().args(["demo", "--days", &huge]).output().unwrap(),
    ];
    for out in runs {
        assert!(!out.status.success());
        let err = stderr(&out);
        assert!(err.len() < 2_000, "{} bytes: {}", err.len(), &err[..2_000]);
        assert!(err.contains("more characters"), "{err}");
    }
}

/// Runs the binary with a file-size limit of the largest file in `db`: a write that
/// would grow a file beyond it fails (and SIGXFSZ ends the process). With the
/// database's files compared before and after, this shows that nothing grew or
/// changed, as on a full disk.
fn on_full_disk(args: &[&str], db: &Path) -> Output {
    let largest = tree(db)
        .values()
        .map(|bytes| bytes.len() as libc::rlim_t)
        .max()
        .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fedicensus"));
    cmd.args(args).arg("--db").arg(db);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: largest,
                rlim_max: largest,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_commands_never_write() {
    let scene = crawled_scene().await;

    // On a full disk, reports and `server` still work, and change nothing.
    let before = tree(&scene.db);
    let domain = scene.world.truth().counted.iter().next().unwrap().clone();
    for args in [
        &["report"][..],
        &["report", "--format", "json"],
        &["server", domain.as_str()],
    ] {
        let out = on_full_disk(args, &scene.db);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(tree(&scene.db), before);

    // A directory that is not a database is refused untouched by every command.
    let users = users_directory(scene.dir.path());
    let before = tree(&users);
    let seed = ["--seed", "a.social"];
    for args in [
        &["report"][..],
        &["report", "--format", "json"],
        &["server", "a.social"],
        &["rebuild"],
        &["crawl", seed[0], seed[1]],
        &["daily", seed[0], seed[1]],
    ] {
        let out = bin().args(args).arg("--db").arg(&users).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains("is not a fedicensus database"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert_eq!(tree(&users), before, "{args:?} left it untouched");
    }

    // A crawl refused for having nothing to crawl creates nothing.
    let fresh = scene.dir.path().join("fresh");
    let out = bin()
        .args(["crawl", "--seeds", "/dev/null", "--db"])
        .arg(&fresh)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nothing to crawl"),
        "{}",
        stderr(&out)
    );
    assert!(!fresh.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_things_a_user_meets() {
    // --db is offered only where it is used.
    let help = |args: &[&str]| stdout(&bin().args(args).output().unwrap());
    for args in [&["demo", "--help"][..], &["bench", "crawl", "--help"]] {
        assert!(!help(args).contains("--db"), "{args:?}: {}", help(args));
    }
    for args in [
        &["report", "--help"][..],
        &["crawl", "--help"],
        &["server", "--help"],
    ] {
        assert!(help(args).contains("--db <DIR>"), "{args:?}");
    }
    let out = bin().args(["--db", "x", "demo"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--db is not used by demo"),
        "{}",
        stderr(&out)
    );
    // --seed's help is a whole sentence.
    let crawl_help = help(&["crawl", "--help"]);
    let words: Vec<&str> = crawl_help.split_whitespace().collect();
    assert!(words.join(" ").contains(
        "A seed domain (repeatable), crawled in addition to the domains of the seed file "
    ));

    // `server` says the status in words; the progress bar ends full.
    let scene = Scene::new(World::standard()).await;
    let domain = scene.world.truth().counted.iter().next().unwrap().clone();
    let crawl = common::sim_args(
        &scene.db,
        "crawl",
        &scene.seeds,
        &scene.sim,
        &["--per-host-rps", "50"],
    );
    let crawl: Vec<String> = crawl.into_iter().filter(|a| a != "--quiet").collect();
    let screen = tokio::task::spawn_blocking(move || run_on_terminal(&crawl))
        .await
        .unwrap();
    let last = screen
        .rsplit(['\r', '\n'])
        .find_map(|line| {
            let (counts, _) = line.split_once(" servers")?;
            counts.rsplit(' ').next()?.split_once('/')
        })
        .map(|(pos, len)| (pos.to_string(), len.to_string()));
    let (pos, len) = last.unwrap_or_else(|| panic!("no progress bar in {screen:?}"));
    assert_eq!(pos, len, "{screen:?}");
    let out = bin()
        .args(["server", domain.as_str(), "--db"])
        .arg(&scene.db)
        .output()
        .unwrap();
    assert!(stdout(&out).contains("status           up: answered on its latest visit"));
    assert!(!stdout(&out).contains("{\"state\""), "{}", stdout(&out));
}

/// Runs the binary under a pseudo-terminal (`script`), as a person would, and returns
/// what the terminal showed.
fn run_on_terminal(args: &[String]) -> String {
    let mut command = String::from(env!("CARGO_BIN_EXE_fedicensus"));
    for arg in args {
        command.push(' ');
        command.push_str(arg);
    }
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("script (util-linux) runs");
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

/// `fedicensus demo | head -0` and the like: the commands that talk to servers keep
/// SIGPIPE ignored (a server hanging up must not kill a crawl), so a reader that went
/// away must cost only the printed lines, never a panic or a failed run.
#[test]
fn a_reader_that_went_away_costs_only_the_printed_lines() {
    let dir = tempfile::tempdir().unwrap();
    let closed_stdout = |command: &mut Command| {
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        child.wait_with_output().unwrap()
    };
    let reports = dir.path().join("reports");
    let bench = [
        "--quiet",
        "bench",
        "report",
        "--servers",
        "40",
        "--days",
        "3",
    ];
    let runs = [
        closed_stdout(
            bin()
                .args(["--quiet", "demo", "--days", "1", "--reports"])
                .arg(&reports)
                .arg("--demo-db")
                .arg(dir.path().join("demo.db")),
        ),
        closed_stdout(bin().args(bench)),
        closed_stdout(bin().args(bench).arg("--json")),
    ];
    for out in runs {
        let err = stderr(&out);
        assert!(out.status.success(), "{:?}: {err}", out.status);
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(reports.join("demo").join("index.html").is_file());
}
