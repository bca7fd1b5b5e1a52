//! Reports over histories written straight into a temporary store: every statistic,
//! every suspect rule, the headline text, the renderers and the error cases.

use std::path::Path;

use fedicensus::domain::Domain;
use fedicensus::outcome::OptOut;
use fedicensus::render;
use fedicensus::report::stats::{
    Coverage, DayReport, PostCounts, RowCounts, ServerCounts, SoftwareRow, UserCounts,
};
use fedicensus::report::{self, servers, Filter, Report, ReportError, Scope};
use fedicensus::snapshot::ServerStats;
use fedicensus::store::{Status, Store, StoreError};

mod common;

use common::history::{d, noon, stats, Fixture};

impl Fixture {
    /// `name` answers every day in `days` with the same numbers.
    fn steady(&self, name: &str, days: std::ops::RangeInclusive<i64>, stats: &ServerStats) {
        for n in days {
            self.up(name, n, stats.clone());
        }
    }

    fn report(&self, scope: Scope, filter: &Filter) -> Report {
        report::build(&self.store, scope, filter).unwrap()
    }

    fn day(&self, n: i64) -> DayReport {
        self.day_with(n, &Filter::default())
    }

    fn day_with(&self, n: i64, filter: &Filter) -> DayReport {
        self.report(Scope::Day(Some(d(n))), filter).end().clone()
    }

    fn period(&self, since: i64, until: i64) -> report::PeriodReport {
        match self.report(
            Scope::Period {
                since: d(since),
                until: Some(d(until)),
            },
            &Filter::default(),
        ) {
            Report::Period(p) => p,
            Report::Day(_) => panic!("a period report"),
        }
    }
}

fn rules(day: &DayReport) -> Vec<(String, &'static str)> {
    day.excluded
        .iter()
        .map(|f| (f.domain.to_string(), f.rule))
        .collect()
}

#[test]
fn carry_forward_gone_and_every_number_of_a_day() {
    let f = Fixture::new(0..=40);
    f.steady("a.social", 0..=40, &stats("mastodon", 1000, 100));
    f.steady("b.social", 0..=5, &stats("pleroma", 50, 5));

    let day5 = f.day(5);
    assert_eq!(
        day5.servers,
        ServerCounts {
            up: 2,
            observed: 2,
            carried_forward: 0,
            new: Some(0),
            gone: 0,
            excluded: 0
        }
    );
    assert_eq!(
        day5.users,
        UserCounts {
            total: 1050,
            active_month: 105,
            active_halfyear: 210
        }
    );
    assert_eq!(day5.posts, PostCounts { local: 10_500 });
    assert_eq!(
        day5.coverage,
        Coverage {
            users_total: 2,
            active_month: 2,
            active_halfyear: 2,
            local_posts: 2,
            languages: 0
        }
    );
    assert_eq!(
        day5.by_software,
        vec![
            SoftwareRow {
                software: "mastodon".into(),
                counts: RowCounts {
                    servers: 1,
                    users_total: 1000,
                    active_month: 100
                }
            },
            SoftwareRow {
                software: "pleroma".into(),
                counts: RowCounts {
                    servers: 1,
                    users_total: 50,
                    active_month: 5
                }
            },
        ]
    );
    assert!(
        day5.excluded.is_empty() && day5.notes.is_empty(),
        "{day5:?}"
    );

    // Silent for 3 days: still counted, with its last numbers.
    let day8 = f.day(8);
    assert_eq!(
        (day8.servers.observed, day8.servers.carried_forward),
        (1, 1)
    );
    assert_eq!((day8.servers.up, day8.users.total), (2, 1050));
    // Silent for 7 days: the last day it counts; 8 days: it no longer does.
    assert_eq!(f.day(12).servers.carried_forward, 1);
    let day13 = f.day(13);
    assert_eq!((day13.servers.up, day13.servers.carried_forward), (1, 0));
    assert_eq!(day13.users.total, 1000);
    // Gone on the day it reaches 30 silent days, and only then.
    assert_eq!(f.day(34).servers.gone, 0);
    assert_eq!(f.day(35).servers.gone, 1);
    assert_eq!(f.day(36).servers.gone, 0);
}

#[test]
fn baseline_day_new_servers_and_the_period() {
    let f = Fixture::new(0..=12);
    f.steady("a.social", 0..=12, &stats("mastodon", 1_000_000, 500_000));
    f.steady("b.social", 0..=12, &stats("mastodon", 200_000, 100_000));
    f.steady("c.social", 3..=12, &stats("misskey", 1_430, 1_000));
    f.steady("d.social", 4..=12, &stats("mastodon", 500, 100));
    f.steady("e.social", 4..=12, &stats("mastodon", 500, 100));
    f.up("a.social", 12, stats("mastodon", 1_198_000, 500_000));

    let day0 = f.day(0);
    assert_eq!(day0.servers.new, None);
    assert_eq!(
        day0.notes,
        vec![
            "October 27, 2022 is the first day of the census: every server is a baseline, \
             so no servers are counted as new."
        ]
    );
    assert_eq!(f.day(3).servers.new, Some(1));
    assert_eq!(f.day(4).servers.new, Some(2));
    assert_eq!(f.day(5).servers.new, Some(0));

    let p = f.period(0, 12);
    assert_eq!((p.since, p.until), (d(0), d(12)));
    assert_eq!(p.new_servers, 3);
    assert_eq!(p.new_users, 1_198_000 + 200_000 + 1_430 + 1_000 - 1_200_000);
    assert_eq!(p.new_users, 200_430);
    assert_eq!(p.active_users, 601_200);
    assert_eq!(p.total_users, 1_400_430);
    assert_eq!(p.servers_up, 5);
    assert_eq!(p.days.len(), 13, "D1 through D2");
    assert_eq!(
        p.headline,
        "200,430 new users across the fediverse since October 27, along with 3 new \
         servers. That brings the total to 601,200 monthly active users on 5 servers."
    );
    // A period's days are the same as one-day reports.
    assert_eq!(p.days[4], f.day(4));
    assert_eq!(p.days[0], day0);

    let p = f.period(3, 4);
    assert_eq!(
        p.headline,
        "1,000 new users across the fediverse since October 30, along with 2 new servers. \
         That brings the total to 601,200 monthly active users on 5 servers."
    );
    let p = f.period(4, 5);
    assert_eq!(
        p.headline,
        "No new users across the fediverse since October 31, along with no new servers. \
         That brings the total to 601,200 monthly active users on 5 servers."
    );

    let one = f.report(Scope::Day(None), &Filter::default());
    assert_eq!(one.end().date, d(12), "default: the last crawled day");
    assert_eq!(
        one.headline(),
        "The fediverse counted 601,200 monthly active users on 5 servers on November 8, 2022."
    );
}

#[test]
fn headline_grammar_losses_singulars_and_years() {
    // Crawls across a new year: the start date then carries its year.
    let f = Fixture::new(60..=70);
    f.steady("a.social", 60..=70, &stats("mastodon", 10, 1));
    f.up("a.social", 70, stats("mastodon", 9, 1));
    f.up("b.social", 70, stats("mastodon", 1, 0));
    f.up("a.social", 69, stats("mastodon", 11, 1));
    assert_eq!(d(60).year(), 2022);
    assert_eq!(d(70).year(), 2023);
    let p = f.period(60, 70);
    assert_eq!(
        p.headline,
        "No new users across the fediverse since December 26, 2022, along with 1 new \
         server. That brings the total to 1 monthly active user on 2 servers."
    );
    let p = f.period(69, 70);
    assert_eq!(
        p.headline,
        "1 fewer user across the fediverse since January 4, along with 1 new server. \
         That brings the total to 1 monthly active user on 2 servers."
    );
}

#[test]
fn coverage_counts_who_reported_and_missing_numbers_add_nothing() {
    let f = Fixture::new(0..=1);
    f.up("a.social", 1, stats("mastodon", 100, 10));
    f.up(
        "b.social",
        1,
        ServerStats {
            software: "gotosocial".into(),
            users_total: Some(5),
            ..Default::default()
        },
    );
    let day = f.day(1);
    assert_eq!(day.servers.up, 2);
    assert_eq!(
        day.users,
        UserCounts {
            total: 105,
            active_month: 10,
            active_halfyear: 20
        }
    );
    assert_eq!(
        day.coverage,
        Coverage {
            users_total: 2,
            active_month: 1,
            active_halfyear: 1,
            local_posts: 1,
            languages: 0
        }
    );
    assert_eq!(
        report::headline::caveats(&day),
        "Every server counted answered on October 28, 2022; 1 of 2 servers reported \
         monthly active users."
    );
}

#[test]
fn software_filter_and_split() {
    let f = Fixture::new(0..=2);
    f.steady("a.social", 0..=2, &stats("mastodon", 100, 10));
    f.steady("b.social", 0..=2, &stats("mastodon", 300, 30));
    f.steady("c.social", 0..=2, &stats("lemmy", 1000, 5));
    f.up("d.social", 2, stats("lemmy", 7, 1));

    let all = f.day(2);
    let split: Vec<(&str, u64, i64, i64)> = all
        .by_software
        .iter()
        .map(|r| {
            (
                r.software.as_str(),
                r.counts.servers,
                r.counts.users_total,
                r.counts.active_month,
            )
        })
        .collect();
    assert_eq!(
        split,
        vec![("mastodon", 2, 400, 40), ("lemmy", 2, 1007, 6)],
        "most monthly active first"
    );

    let filter = Filter {
        software: Some("Lemmy".into()),
        include_suspect: false,
    };
    let lemmy = f.day_with(2, &filter);
    assert_eq!(lemmy.servers.up, 2);
    assert_eq!(lemmy.servers.new, Some(1));
    assert_eq!(lemmy.users.total, 1007);
    assert_eq!(lemmy.by_software.len(), 1);
    assert!(lemmy
        .notes
        .contains(&"Only servers running lemmy are counted.".to_string()));
    let headline = f.report(Scope::Day(Some(d(2))), &filter);
    assert_eq!(
        headline.headline(),
        "The fediverse counted 6 monthly active users on 2 lemmy servers on October 29, 2022."
    );
}

#[test]
fn opted_out_servers_are_never_counted() {
    let f = Fixture::new(0..=3);
    f.steady("a.social", 0..=3, &stats("mastodon", 100, 10));
    f.steady("private.social", 0..=2, &stats("mastodon", 999, 99));
    let domain = Domain::parse("private.social").unwrap();
    let mut record = f.store.server(&domain).unwrap().unwrap();
    record.status = Status::OptedOut {
        how: OptOut::Robots,
    };
    f.store.put_server(&record).unwrap();

    for n in [1, 3] {
        let day = f.day(n);
        assert_eq!((day.servers.up, day.users.total), (1, 100), "day {n}");
        assert!(day.excluded.is_empty(), "opt-outs are not listed");
    }
}

#[test]
fn no_crawl_on_a_day_is_noted() {
    let f = Fixture::new([0, 2]);
    f.up("a.social", 0, stats("mastodon", 100, 10));
    f.up("a.social", 2, stats("mastodon", 101, 10));
    let day1 = f.day(1);
    assert_eq!((day1.servers.carried_forward, day1.users.total), (1, 100));
    assert_eq!(
        day1.notes,
        vec![
            "No crawl ran on October 28, 2022: every server counted is carried forward \
             from an earlier day."
        ]
    );
}

/// A history with one steady server and one `bad` server, judged on `day`: the bad
/// one must be left out with `rule`, and counted again with `--include-suspect`.
fn assert_suspect(f: &Fixture, n: i64, bad: &str, rule: &str) {
    let day = f.day(n);
    assert_eq!(rules(&day), vec![(bad.to_string(), rule)], "{day:?}");
    assert_eq!(day.servers.excluded, 1);
    assert_eq!(day.servers.up, 1);
    assert_eq!(day.users.total, 1000, "only the good server");

    let with = f.day_with(
        n,
        &Filter {
            software: None,
            include_suspect: true,
        },
    );
    assert_eq!(with.servers.excluded, 0);
    assert_eq!(with.servers.up, 2);
    assert!(with.excluded.is_empty());
    assert_eq!(with.suspect_included.len(), 1);
    assert!(with
        .notes
        .iter()
        .any(|n| n.starts_with("Suspect data is included: 1 server")));
}

fn with_good_server(days: std::ops::RangeInclusive<i64>) -> Fixture {
    let f = Fixture::new(days.clone());
    f.steady("good.social", days, &stats("mastodon", 1000, 100));
    f
}

#[test]
fn suspect_negative_counts() {
    let f = with_good_server(0..=1);
    f.up("bad.social", 1, stats("mastodon", -3, 1));
    assert_suspect(&f, 1, "bad.social", "negative");
    assert_eq!(f.day(1).excluded[0].reason, "negative users_total (-3)");
}

#[test]
fn suspect_too_many_users() {
    let f = with_good_server(0..=1);
    f.up("bad.social", 1, stats("mastodon", 50_000_001, 1));
    assert_suspect(&f, 1, "bad.social", "too_many_users");
}

#[test]
fn suspect_active_above_total() {
    let f = with_good_server(0..=1);
    f.up("bad.social", 1, stats("mastodon", 10, 11));
    assert_suspect(&f, 1, "bad.social", "active_above_total");
}

#[test]
fn suspect_jump_only_the_leaping_snapshot() {
    let f = with_good_server(0..=3);
    f.steady("bad.social", 0..=1, &stats("mastodon", 100, 10));
    f.steady("bad.social", 2..=3, &stats("mastodon", 20_000, 10));
    assert_suspect(&f, 2, "bad.social", "jump");
    assert_eq!(
        f.day(2).excluded[0].reason,
        "users jumped from 100 to 20000 within 24 hours"
    );
    // The new level, reported again, is believed.
    assert_eq!(f.day(3).users.total, 21_000);
}

#[test]
fn suspect_stuck_counter() {
    let f = with_good_server(0..=70);
    for n in 0..=70 {
        let mut s = stats("mastodon", 500, 50);
        s.local_posts = Some(10_000 + n);
        f.up("bad.social", n, s);
    }
    assert_eq!(f.day(59).servers.excluded, 0, "59 days is not yet stuck");
    assert_suspect(&f, 60, "bad.social", "stuck");
    // Carried forward, a stuck reading stays suspect.
    assert_eq!(f.day(70).servers.excluded, 1);
}

#[test]
fn suspect_farm_of_new_servers() {
    let f = with_good_server(0..=4);
    for i in 0..6 {
        f.steady(
            &format!("s{i}.spamfarm.com"),
            2..=4,
            &stats("mastodon", 1, 1),
        );
    }
    // Five under one name on one day is allowed.
    for i in 0..5 {
        f.steady(&format!("s{i}.fine.net"), 2..=4, &stats("mastodon", 1, 1));
    }
    let day2 = f.day(2);
    assert_eq!(day2.servers.excluded, 6);
    assert!(rules(&day2)
        .iter()
        .all(|(d, r)| d.ends_with(".spamfarm.com") && *r == "farm"));
    assert_eq!(
        day2.servers.new,
        Some(5),
        "farm servers are not new servers"
    );
    assert_eq!(day2.servers.up, 6);
    assert_eq!(f.day(4).servers.excluded, 6, "on every day");
}

#[test]
fn errors_tell_the_user_what_to_do() {
    let f = Fixture::new(1..=5);
    f.up("a.social", 1, stats("mastodon", 1, 1));
    let build = |scope| report::build(&f.store, scope, &Filter::default()).unwrap_err();

    let err = build(Scope::Day(Some(d(0))));
    assert!(matches!(err, ReportError::UnknownDay { .. }));
    assert_eq!(
        err.to_string(),
        "there is no census for 2022-10-27: the database covers 2022-10-28 to 2022-11-01 \
         (UTC); pick a day in that range"
    );
    assert!(matches!(
        build(Scope::Day(Some(d(6)))),
        ReportError::UnknownDay { .. }
    ));
    let err = build(Scope::Period {
        since: d(4),
        until: Some(d(2)),
    });
    assert_eq!(
        err.to_string(),
        "--since 2022-10-31 is after --until 2022-10-29: swap the two days"
    );
    assert!(matches!(
        build(Scope::Period {
            since: d(0),
            until: None
        }),
        ReportError::UnknownDay { .. }
    ));

    let empty = Fixture::new([]);
    let err = report::build(&empty.store, Scope::Day(None), &Filter::default()).unwrap_err();
    assert!(matches!(err, ReportError::Store(StoreError::Empty { .. })));
    assert!(err.to_string().contains("run `fedicensus crawl` first"));
}

#[test]
fn a_locked_database_is_a_clear_error() {
    let f = Fixture::new([0]);
    let err = Store::open_existing(f.store.path()).err().expect("locked");
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
}

#[test]
fn rebuild_recomputes_the_rollup_and_first_up() {
    let f = Fixture::new(0..=2);
    f.steady("a.social", 0..=2, &stats("mastodon", 1, 1));
    let domain = Domain::parse("a.social").unwrap();
    let mut record = f.store.server(&domain).unwrap().unwrap();
    record.first_up = None;
    record.last_up = Some(noon(0));
    f.store.put_server(&record).unwrap();

    let summary = report::rebuild(&f.store).unwrap();
    assert_eq!(
        (summary.days, summary.servers, summary.servers_updated),
        (3, 1, 1)
    );
    let record = f.store.server(&domain).unwrap().unwrap();
    assert_eq!(
        (record.first_up, record.last_up),
        (Some(noon(0)), Some(noon(2)))
    );
    assert_eq!(report::rebuild(&f.store).unwrap().servers_updated, 0);
}

#[test]
fn json_has_the_contract_names() {
    let f = Fixture::new(0..=2);
    f.steady("a.social", 0..=2, &stats("mastodon", 100, 10));
    let one = serde_json::to_value(f.report(Scope::Day(Some(d(0))), &Filter::default())).unwrap();
    for key in [
        "date",
        "servers",
        "users",
        "posts",
        "coverage",
        "by_software",
        "excluded",
        "notes",
        "headline",
    ] {
        assert!(one.get(key).is_some(), "day lacks {key}: {one}");
    }
    assert_eq!(one["date"], "2022-10-27");
    assert_eq!(one["servers"]["new"], serde_json::Value::Null);
    for key in ["up", "observed", "carried_forward", "gone", "excluded"] {
        assert!(one["servers"][key].as_u64().is_some(), "{key}");
    }
    assert_eq!(one["users"]["active_halfyear"], 20);
    assert_eq!(one["posts"]["local"], 1000);
    assert_eq!(one["coverage"]["local_posts"], 1);
    assert_eq!(one["by_software"][0]["software"], "mastodon");

    let period = serde_json::to_value(f.period(0, 2)).unwrap();
    for key in [
        "since",
        "until",
        "new_users",
        "new_servers",
        "active_users",
        "total_users",
        "servers_up",
        "headline",
        "days",
    ] {
        assert!(period.get(key).is_some(), "period lacks {key}");
    }
    assert_eq!(period["days"].as_array().unwrap().len(), 3);
}

#[test]
fn csv_has_one_row_per_day_and_empty_baseline_new() {
    let f = Fixture::new(0..=1);
    f.steady("a.social", 0..=1, &stats("mastodon", 100, 10));
    let csv = render::csv::days_csv(&f.period(0, 1).days);
    assert_eq!(
        csv,
        "date,servers_up,servers_observed,servers_carried_forward,servers_new,servers_gone,\
         servers_excluded,users_total,active_month,active_halfyear,posts_local,\
         users_change_continuing,users_newly_counted,users_stopped_counting,signups_per_day,\
         signups_servers_reporting\n\
         2022-10-27,1,1,0,,0,0,100,10,20,1000,,,,0,0\n\
         2022-10-28,1,1,0,0,0,0,100,10,20,1000,0,0,0,0,0\n"
    );
}

#[test]
fn markdown_leads_with_headline_and_caveats() {
    let f = Fixture::new(0..=3);
    f.steady("a.social", 0..=3, &stats("mastodon", 2_000, 1_500));
    f.steady("b.social", 0..=1, &stats("pleroma", 10, 5));
    f.up("bad.social", 3, stats("mastodon", -1, 1));
    let md = render::markdown::markdown(&f.report(
        Scope::Period {
            since: d(0),
            until: None,
        },
        &Filter::default(),
    ));
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(
        lines[0],
        "# Fediverse census: October 27, 2022 to October 30, 2022"
    );
    assert_eq!(
        lines[2],
        "**No new users across the fediverse since October 27, along with no new servers. \
         That brings the total to 1,505 monthly active users on 2 servers.** No server \
         started or stopped counting, so all of the change is on servers counted on both \
         days. No counted server publishes its sign-ups. The count includes 1 server that did not answer on October 30, 2022 but did in the 7 days \
         before; 1 server was left out as suspect data; 2 of 2 servers reported monthly \
         active users."
    );
    for needle in [
        "| Monthly active users | 1,505 | 2 of 2 |",
        "| mastodon | 1 | 2,000 | 1,500 |",
        "- `bad.social`: negative users_total (-1)",
        "## Per day",
        "| 2022-10-27 | 2 | – | 0 | 2,010 | – | – | 0 | 1,505 |",
        "## Method",
    ] {
        assert!(md.contains(needle), "missing {needle:?} in\n{md}");
    }
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

fn assert_report_dir(dir: &Path, charts: &[&str]) {
    for name in ["report.md", "report.json", "days.csv", "index.html"] {
        assert!(dir.join(name).is_file(), "{name}");
    }
    for chart in charts {
        let svg = std::fs::read_to_string(dir.join(format!("{chart}.svg"))).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{chart}.svg"
        );
        let png = std::fs::read(dir.join(format!("{chart}.png"))).unwrap();
        assert_eq!(png_size(&png), render::charts::SIZE, "{chart}.png");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert!(json["headline"].is_string());
}

#[test]
fn report_dir_for_a_period_and_a_single_day() {
    let f = Fixture::new(0..=9);
    for i in 0..10 {
        let software = [
            "mastodon",
            "misskey",
            "lemmy",
            "pleroma",
            "akkoma",
            "gotosocial",
            "pixelfed",
            "peertube",
            "friendica",
            "bookwyrm",
        ][i];
        f.steady(
            &format!("s{i}.social"),
            i as i64..=9,
            &stats(software, 100 * (i as i64 + 1), 10),
        );
    }
    let out = tempfile::tempdir().unwrap();
    let period = f.report(
        Scope::Period {
            since: d(0),
            until: None,
        },
        &Filter::default(),
    );
    let written = render::write_report_dir(&period, &out.path().join("period")).unwrap();
    // The report files, the charts and new_servers.csv.
    assert_eq!(written.len(), 15);
    assert_report_dir(
        &out.path().join("period"),
        &["users", "servers", "new-servers", "software", "languages"],
    );
    // s1 to s9 were first up after the period's start: the full list, one per line.
    let new = std::fs::read_to_string(out.path().join("period/new_servers.csv")).unwrap();
    assert_eq!(new.lines().count(), 1 + 9, "{new}");
    assert!(
        new.lines()
            .nth(1)
            .unwrap()
            .starts_with("s9.social,2022-11-05,observed,"),
        "{new}"
    );

    // One day: no line chart of a single point.
    let one = f.report(Scope::Day(Some(d(0))), &Filter::default());
    let written = render::write_report_dir(&one, &out.path().join("one")).unwrap();
    assert_eq!(written.len(), 8);
    assert_report_dir(&out.path().join("one"), &["software", "languages"]);
    assert!(!out.path().join("one/users.svg").exists());

    // Ten software: the chart names the ninth and tenth together, as "2 others", and a
    // ninth alone by its name, as the table does.
    let svg = std::fs::read_to_string(out.path().join("period/software.svg")).unwrap();
    assert!(svg.contains("2 others") && !svg.contains(">other<"));
    let nine = f.report(
        Scope::Period {
            since: d(7),
            until: Some(d(8)),
        },
        &Filter::default(),
    );
    let svg = render::charts::Chart::Software.svg(&nine).unwrap();
    assert!(
        svg.contains("s8.social") || svg.contains("friendica"),
        "{svg}"
    );
    assert!(!svg.contains("others"));
}

#[test]
fn thin_and_empty_crawl_days_are_flagged_whatever_the_filter() {
    use fedicensus::report::headline::caveats;
    use fedicensus::report::Health;

    let f = Fixture::new(0..=2);
    f.up("a.social", 0, stats("pleroma", 10, 1));
    f.up("b.social", 0, stats("mastodon", 100, 10));
    f.up("c.social", 0, stats("mastodon", 100, 10));
    // Day 1: one of the three answers; day 2: a crawl ran and nothing answered.
    f.up("a.social", 1, stats("pleroma", 10, 1));

    assert_eq!(f.day(0).health, Health::Ok);
    let mastodon = Filter {
        software: Some("mastodon".into()),
        include_suspect: false,
    };
    for day1 in [f.day(1), f.day_with(1, &mastodon)] {
        assert_eq!(day1.health, Health::Thin);
        assert!(
            day1.notes
                .iter()
                .any(|n| n.contains("only 1 of the 3 servers that answered the day before")),
            "{:?}",
            day1.notes
        );
        assert!(caveats(&day1).starts_with("Warning: fewer than half"));
    }
    let day2 = f.day(2);
    assert_eq!(day2.health, Health::NothingReachable);
    assert_eq!(day2.servers.carried_forward, 3);
    assert!(caveats(&day2).starts_with("Warning: the crawls of October 29, 2022 reached no server"));

    // A census with nothing to count says so instead of announcing zero.
    let empty = Fixture::new(0..=0);
    let Report::Day(only) = empty.report(Scope::Day(None), &Filter::default()) else {
        panic!("a day report")
    };
    assert_eq!(
        only.headline,
        "There is no census for October 27, 2022: no server could be counted."
    );
    assert_eq!(only.day.health, Health::NothingReachable);
    assert!(!caveats(&only.day).contains("Every server counted answered"));
}

/// The rows of `fedicensus servers` for a day, as (domain, standing) pairs.
fn standings(f: &Fixture, scope: Scope, select: servers::Select) -> Vec<(String, String)> {
    let query = servers::Query {
        select,
        sort: servers::Sort::Domain,
        limit: None,
    };
    servers::list(&f.store, scope, &Filter::default(), &query)
        .unwrap()
        .into_iter()
        .map(|r| (r.domain.to_string(), r.standing.describe()))
        .collect()
}

#[test]
fn server_lists_match_the_days_counts_and_say_why() {
    let f = Fixture::new(0..=40);
    f.steady("a.social", 0..=40, &stats("mastodon", 1000, 100));
    f.steady("b.social", 0..=5, &stats("pleroma", 50, 5));
    f.steady("late.social", 3..=40, &stats("mastodon", 10, 1));
    f.steady("private.social", 0..=40, &stats("mastodon", 999, 99));
    f.up("c.social", 0, stats("mastodon", 10, 1));
    f.up("c.social", 39, stats("mastodon", -3, 1));
    let mut record = f
        .store
        .server(&Domain::parse("private.social").unwrap())
        .unwrap()
        .unwrap();
    record.status = Status::OptedOut {
        how: OptOut::Robots,
    };
    f.store.put_server(&record).unwrap();
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    use servers::Select;

    assert_eq!(
        standings(&f, Scope::Day(Some(d(9))), Select::Standing),
        pairs(&[
            ("a.social", "observed"),
            ("b.social", "carried forward from 2022-11-01"),
            ("late.social", "observed"),
            ("private.social", "opted out (robots)"),
        ]),
        "c.social, silent for 9 days, no longer stands"
    );
    assert_eq!(f.day(9).servers.carried_forward, 1);
    assert_eq!(
        standings(&f, Scope::Day(Some(d(13))), Select::Standing).len(),
        3
    );
    assert_eq!(
        standings(&f, Scope::Day(Some(d(3))), Select::New),
        pairs(&[("late.social", "observed")])
    );
    assert_eq!(f.day(3).servers.new, Some(1));
    let period = Scope::Period {
        since: d(0),
        until: Some(d(40)),
    };
    assert_eq!(
        standings(&f, period, Select::New).len() as u64,
        f.period(0, 40).new_servers
    );
    assert_eq!(
        standings(&f, Scope::Day(Some(d(30))), Select::Gone),
        pairs(&[("c.social", "silent since 2022-10-27")])
    );
    assert_eq!(f.day(30).servers.gone, 1);
    assert_eq!(
        standings(&f, Scope::Day(Some(d(35))), Select::Gone),
        pairs(&[("b.social", "silent since 2022-11-01")])
    );
    assert_eq!(
        standings(&f, period, Select::Suspect),
        pairs(&[("c.social", "suspect (negative)")])
    );
    assert_eq!(f.day(40).servers.excluded, 1);
}
