//! `index.html` over a history written straight into a temporary store: the numbers
//! and their changes, escaping of hostile data, self-containment, and the page as a
//! real headless Chromium renders it (DOM and screenshot).
//!
//! Chromium is found through `FEDICENSUS_CHROMIUM`, else `chromium`, `chromium-browser`
//! or `google-chrome` on PATH. Without it the browser test is skipped with a note,
//! except under CI (`CI` set), where it fails. With `FEDICENSUS_HTML_ARTIFACTS=<dir>`
//! the browser test leaves the page and its screenshot there, for people to look at.

use std::path::{Path, PathBuf};

use fedicensus::render;
use fedicensus::render::html::{index_html, Page};
use fedicensus::report::{self, Filter, Report, Scope};

mod common;

use common::browser::{self, harness, headless, probe, screenshot};
use common::history::{d, stats, Fixture};

const HOSTILE: &str = "<script>alert(1)</script>";

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
const DAY_9: [(&str, &str); 13] = [
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
    ("servers-new-week", "3"),
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
    let html = index_html(&report, &Page::default()).unwrap();

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

    // Self-contained: five inline SVG charts, each with its text alternative, and no
    // reference to anything outside; the links are to the report's own files.
    assert_eq!(
        html.matches("<svg role=\"img\" aria-labelledby=\"chart-")
            .count(),
        5
    );
    assert!(text_of(&html, "chart-users-desc").starts_with(
        "Line chart. Users: 1,206,500 on October 27, 2022 and 1,215,530 on November 5, 2022"
    ));
    assert!(text_of(&html, "chart-users-desc")
        .ends_with("Marked: 10 days with data left out as suspect."));
    assert!(
        text_of(&html, "chart-new-servers-desc").contains("3 in all; October 31: 1, November 5: 2")
    );
    for tag in [
        "<img", "<link", "<iframe", "<object", "<embed", "@import", "url(", "src=",
    ] {
        assert!(!html.contains(tag), "the page contains {tag}");
    }
    let hrefs = links(&html);
    assert_eq!(
        hrefs,
        [
            "report.json",
            "days.csv",
            "report.md",
            "new_servers.csv",
            "users.svg",
            "servers.svg",
            "new-servers.svg",
            "software.svg",
            "languages.svg",
            // The new servers section links its full list too.
            "new_servers.csv"
        ]
    );
    let names = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!names.contains("http://") && !names.contains("https://"));

    // The tiles say what each number is.
    assert!(html.contains("<data id=\"servers-new-week\" value=\"3\">3</data> in all over the 7 days through November 5"));
    assert!(html.contains("<data id=\"users-total-day\" class=\"up\" value=\"1020\">+1,020</data> change since November 4"));
    // What was left out, over the whole report, with its days.
    assert!(html.contains("2022-10-27 to 2022-11-05 (10 days)"));
    // Where the new users came from.
    assert_eq!(text_of(&html, "growth-newly-counted"), "+30");
}

/// The `href`s of a page, in order.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].replace("&amp;", "&"))
        .collect()
}

#[test]
fn changes_the_report_does_not_reach_back_to_are_dashes() {
    let history = history();
    // (day 5, day 9]: day 8 is there, day 2 is not.
    let html = index_html(&history.period(5), &Page::default()).unwrap();
    assert_eq!(text_of(&html, "users-total"), "1,215,530");
    assert_eq!(text_of(&html, "users-total-day"), "+1,020");
    assert_eq!(text_of(&html, "users-total-week"), "—");
    assert_eq!(text_of(&html, "servers-new-week"), "—");
    assert!(html.contains("does not reach back that far"));

    // A one-day report has neither; the census's first day has no new servers at all.
    let html = index_html(&history.report(Scope::Day(Some(d(0)))), &Page::default()).unwrap();
    for id in [
        "servers-up-day",
        "users-total-week",
        "servers-new",
        "servers-new-week",
    ] {
        assert_eq!(text_of(&html, id), "—", "#{id}");
    }
    assert_eq!(text_of(&html, "users-total"), "1,206,500");
    // One day: no line chart of one point, only the day's splits.
    assert!(html.contains("A one-day report has no daily charts"));
    assert_eq!(html.matches("<svg ").count(), 2);
    assert!(!html.contains("chart-users"));
    assert_eq!(links(&html).len(), 5);
}

#[test]
fn chromium_renders_the_page() {
    let Some(browser) = browser::chromium_or_skip("chromium_renders_the_page") else {
        return;
    };
    let history = history();
    let report = history.period(0);
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("report");
    render::write_report_dir(&report, &dir).unwrap();
    let page = dir.join("index.html");

    let url = format!("file://{}", page.display());
    let dom = headless(&browser, &url, &["--dump-dom".into()]);
    assert!(dom.contains("</html>"), "not a DOM:\n{dom}");
    assert_eq!(text_of(&dom, "headline"), report.headline());
    assert_day_9(&dom);
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!dom.contains(HOSTILE), "the hostile name became markup");
    assert_eq!(dom.matches("<svg ").count(), 5, "the charts did not parse");

    let html = std::fs::read_to_string(&page).unwrap();
    for (width, name) in [(1280, "desktop"), (390, "phone")] {
        let url = harness(&dir, &html, width);
        let probe = probe(&browser, &url);
        probe.assert_fits(name, width);
        assert_eq!(probe.links.len(), 10, "{name}: {:?}", probe.links);
        for link in &probe.links {
            let path = link.strip_prefix("file://").expect("a link to a file");
            assert!(Path::new(path).is_file(), "{name}: {link} does not resolve");
        }
        let shot = out.path().join(format!("{name}.png"));
        screenshot(&browser, &url, (1300, 2100), &shot);
    }
    // The measure can fail: a page with something 600 pixels wide does not fit.
    let wide = html.replacen("<main>", "<main><div style=\"width:600px\">wide</div>", 1);
    assert!(probe(&browser, &harness(&dir, &wide, 390)).scroll_width >= 600);
    if let Some(keep) = std::env::var_os("FEDICENSUS_HTML_ARTIFACTS") {
        let keep = PathBuf::from(keep);
        std::fs::create_dir_all(&keep).unwrap();
        for file in ["desktop.png", "phone.png"] {
            std::fs::copy(out.path().join(file), keep.join(file)).unwrap();
        }
        std::fs::copy(&page, keep.join("index.html")).unwrap();
    }
}
