//! `index.html` over a history written straight into a temporary store: the numbers
//! and their changes, escaping of hostile data, self-containment, and the page as a
//! real headless Chromium renders it (DOM and screenshot).
//!
//! Chromium is found through `FEDICENSUS_CHROMIUM`, else `chromium`, `chromium-browser`
//! or `google-chrome` on PATH. Without it the browser test is skipped with a note,
//! except under CI (`CI` set), where it fails. With `FEDICENSUS_HTML_ARTIFACTS=<dir>`
//! the browser test leaves the page and its screenshot there, for people to look at.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration as Wait, Instant};

use fedicensus::render::html::index_html;
use fedicensus::report::{self, Filter, Report, Scope};

mod common;

use common::history::{d, stats, Fixture};

const HOSTILE: &str = "<script>alert(1)</script>";
const BROWSER_TIMEOUT: Wait = Wait::from_secs(90);

/// A store holding ten days of crawls (days 0 to 9) of:
/// - `a.social` (mastodon): 1,000,000 + 1,000·n users, 400,000 − 1,000·n monthly active;
/// - `b.social` (mastodon): 200,000 users, 50,000 monthly active;
/// - `evil.social`, whose software is named [`HOSTILE`]: 1,500 users, 300 active;
/// - `c.social` (pleroma): 5,000 users, 1,000 active, silent after day 6 (carried
///   forward on day 9);
/// - `n3.social` (gotosocial), first up on day 4; `n1`, `n2` first up on day 9: 10
///   users and 5 active each;
/// - `bad.social`: more monthly active users than users, left out as suspect.
///
/// Half-year active users are twice the monthly, local posts ten per user.
fn history() -> Fixture {
    let history = Fixture::new(0..=9);
    let up = |name: &str, n: i64, software: &str, users: i64, active: i64| {
        history.up(name, n, stats(software, users, active));
    };
    for n in 0..=9 {
        up(
            "a.social",
            n,
            "mastodon",
            1_000_000 + 1_000 * n,
            400_000 - 1_000 * n,
        );
        up("b.social", n, "mastodon", 200_000, 50_000);
        up("evil.social", n, HOSTILE, 1_500, 300);
        up("bad.social", n, "mastodon", 100, 5_000);
    }
    for n in 0..=6 {
        up("c.social", n, "pleroma", 5_000, 1_000);
    }
    for n in 4..=9 {
        up("n3.social", n, "gotosocial", 10, 5);
    }
    up("n1.social", 9, "gotosocial", 10, 5);
    up("n2.social", 9, "gotosocial", 10, 5);
    history
}

impl Fixture {
    fn report(&self, scope: Scope) -> Report {
        report::build(&self.store, scope, &Filter::default()).unwrap()
    }

    /// The period (since, day 9].
    fn period(&self, since: i64) -> Report {
        self.report(Scope::Period {
            since: d(since),
            until: Some(d(9)),
        })
    }
}

/// The text of the element with `id`: what lies between the end of its opening tag
/// and the next tag. Works on the page as written and as a browser serializes it.
fn text_of<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element with id {id}"));
    let start = at + html[at..].find('>').unwrap() + 1;
    let end = start + html[start..].find('<').unwrap();
    &html[start..end]
}

/// The key numbers of the history's day 9 as the page must show them, by id.
const DAY_9: [(&str, &str); 14] = [
    ("servers-up", "7"),
    ("servers-up-day", "+2"),
    ("servers-up-week", "+3"),
    ("users-total", "1,215,530"),
    ("users-total-day", "+1,020"),
    ("users-total-week", "+7,030"),
    ("active-month", "442,315"),
    ("active-month-day", "−990"),
    ("active-month-week", "−6,985"),
    ("active-halfyear", "884,630"),
    ("posts-local", "12,155,300"),
    ("servers-new", "2"),
    ("servers-new-day", "+2"),
    ("servers-new-week", "+3"),
];

fn assert_day_9(html: &str) {
    for (id, shown) in DAY_9 {
        assert_eq!(text_of(html, id), shown, "#{id}");
    }
}

#[test]
fn the_page_shows_the_numbers_their_changes_and_escapes_data() {
    let history = history();
    let report = history.period(0);
    let html = index_html(&report).unwrap();

    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains("<title>Fediverse census: November 5, 2022</title>"));
    assert_eq!(text_of(&html, "headline"), report.headline());
    assert_day_9(&html);
    // Signed with data attributes for scrapers: the raw number, not the display text.
    assert!(html.contains("id=\"active-month-day\" class=\"down\" value=\"-990\""));

    // The hostile software name is shown as text, in the table and in the chart.
    assert!(!html.contains(HOSTILE));
    assert!(!html.to_lowercase().contains("<script"));
    assert!(html.contains("<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>"));

    // What was left out, and why; and the caveats sentence.
    assert!(html.contains("<table id=\"excluded\">"));
    assert!(html.contains("bad.social"));
    assert!(html.contains("5000 monthly active users is more than its 100 users"));
    assert!(text_of(&html, "caveats").contains("1 server was left out as suspect data"));

    // Self-contained: three inline SVG charts and no reference to anything outside;
    // the only URL is the SVG namespace, which is a name, not a resource.
    assert_eq!(html.matches("<svg ").count(), 3);
    for tag in [
        "<img", "<link", "<iframe", "<object", "<embed", "@import", "url(",
    ] {
        assert!(!html.contains(tag), "the page contains {tag}");
    }
    for attribute in ["src=", "href="] {
        assert!(!html.contains(attribute), "the page contains {attribute}");
    }
    let names = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!names.contains("http://") && !names.contains("https://"));
}

#[test]
fn changes_the_report_does_not_reach_back_to_are_dashes() {
    let history = history();
    // (day 5, day 9]: day 8 is there, day 2 is not.
    let html = index_html(&history.period(5)).unwrap();
    assert_eq!(text_of(&html, "users-total"), "1,215,530");
    assert_eq!(text_of(&html, "users-total-day"), "+1,020");
    assert_eq!(text_of(&html, "users-total-week"), "—");
    assert_eq!(text_of(&html, "servers-new-week"), "—");
    assert!(html.contains("does not reach back that far"));

    // A one-day report has neither; the census's first day has no new servers at all.
    let html = index_html(&history.report(Scope::Day(Some(d(0))))).unwrap();
    for id in [
        "servers-up-day",
        "users-total-week",
        "servers-new",
        "servers-new-day",
    ] {
        assert_eq!(text_of(&html, id), "—", "#{id}");
    }
    assert_eq!(text_of(&html, "users-total"), "1,206,500");
}

/// The browser to test with, or why there is none. A `FEDICENSUS_CHROMIUM` that names
/// no file is a mistake to report, not a reason to skip.
fn chromium() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("FEDICENSUS_CHROMIUM") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "FEDICENSUS_CHROMIUM={} is not a file",
            path.display()
        );
        return Ok(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| "none of chromium, chromium-browser, google-chrome is on PATH".into())
}

/// Runs the browser headless on `page` with `args`, in a fresh profile, without
/// network chatter; returns its standard output. Killed after [`BROWSER_TIMEOUT`].
fn headless(browser: &Path, page: &Path, args: &[String]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    // Read both pipes while waiting, so a chatty browser cannot block on a full pipe.
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let read = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let (stdout, stderr) = (read(Box::new(stdout)), read(Box::new(stderr)));
    let deadline = Instant::now() + BROWSER_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{} did not finish within {BROWSER_TIMEOUT:?}; stderr:\n{}",
                browser.display(),
                stderr.join().unwrap()
            );
        }
        std::thread::sleep(Wait::from_millis(100));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert!(
        status.success(),
        "{} {args:?} failed ({status}); stderr:\n{stderr}",
        browser.display()
    );
    stdout
}

#[test]
fn chromium_renders_the_page() {
    let browser = match chromium() {
        Ok(browser) => browser,
        Err(why) if std::env::var_os("CI").is_some() => panic!(
            "{why}: CI must test the page in a real browser; install the `chromium` \
             package (apt-get install -y chromium) or set FEDICENSUS_CHROMIUM"
        ),
        Err(why) => {
            eprintln!(
                "\n!!! SKIPPED chromium_renders_the_page: {why}.\n!!! Install the `chromium` \
                 package (or set FEDICENSUS_CHROMIUM) to test index.html in a browser.\n"
            );
            return;
        }
    };
    let history = history();
    let report = history.period(0);
    let out = tempfile::tempdir().unwrap();
    let page = out.path().join("index.html");
    std::fs::write(&page, index_html(&report).unwrap()).unwrap();

    let dom = headless(&browser, &page, &["--dump-dom".into()]);
    assert!(dom.contains("</html>"), "not a DOM:\n{dom}");
    assert_eq!(text_of(&dom, "headline"), report.headline());
    assert_day_9(&dom);
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!dom.contains(HOSTILE), "the hostile name became markup");
    assert_eq!(dom.matches("<svg ").count(), 3, "the charts did not parse");

    let shot = out.path().join("shot.png");
    headless(
        &browser,
        &page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000".into(),
        ],
    );
    let png = std::fs::read(&shot).expect("chromium wrote no screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    assert_eq!((be(16), be(20)), (1280, 2000), "screenshot size");
    // A blank page of that size compresses to a few kilobytes; text and charts do not.
    assert!(png.len() > 50_000, "screenshot of {} bytes", png.len());
    if let Some(keep) = std::env::var_os("FEDICENSUS_HTML_ARTIFACTS") {
        let keep = PathBuf::from(keep);
        std::fs::create_dir_all(&keep).unwrap();
        for file in [&page, &shot] {
            std::fs::copy(file, keep.join(file.file_name().unwrap())).unwrap();
        }
    }
}
