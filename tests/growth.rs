//! Where growth came from, sign-ups, languages and growth waves, over histories written
//! straight into a temporary store (the demo's simulated wave is tested end to end in
//! `daily_demo.rs`).

use fedicensus::render;
use fedicensus::render::charts::Chart;
use fedicensus::report::stats::{Growth, LanguageRow, RowCounts, ServerUsers};
use fedicensus::report::waves::Measure;
use fedicensus::report::{self, Filter, PeriodReport, Report, Scope};
use fedicensus::snapshot::ServerStats;

mod common;

use common::history::{d, stats, Fixture};

fn period(f: &Fixture, since: i64, until: i64) -> PeriodReport {
    match report::build(
        &f.store,
        Scope::Period {
            since: d(since),
            until: Some(d(until)),
        },
        &Filter::default(),
    )
    .unwrap()
    {
        Report::Period(p) => p,
        Report::Day(_) => panic!("a period report"),
    }
}

/// Days 0 to 20 of:
/// - `a.social`: 1,000 + 10·n users, no languages, no sign-ups published;
/// - `b.social`: 500 users, answers on days 0 to 5 only (stops counting on day 13);
/// - `c.social`: first answers on day 15, with 3,000 users;
/// - `d.social`: 2,000 users, declares `de` and `en-GB`, publishes 70 sign-ups a week.
fn split_history() -> Fixture {
    let f = Fixture::new(0..=20);
    for n in 0..=20 {
        f.up("a.social", n, stats("mastodon", 1_000 + 10 * n, 100));
        f.up(
            "d.social",
            n,
            ServerStats {
                languages: vec!["de".into(), "en-GB".into(), "<b>".into()],
                registrations_week: Some(70),
                ..stats("mastodon", 2_000, 100)
            },
        );
    }
    for n in 0..=5 {
        f.up("b.social", n, stats("pleroma", 500, 50));
    }
    for n in 15..=20 {
        f.up("c.social", n, stats("misskey", 3_000, 300));
    }
    f
}

fn part(servers: u64, users: i64) -> ServerUsers {
    ServerUsers { servers, users }
}

#[test]
fn new_users_split_into_growth_discovery_and_loss() {
    let f = split_history();
    let p = period(&f, 0, 20);
    assert_eq!(p.new_users, 2_700);
    assert_eq!(
        p.growth,
        Growth {
            continuing: part(2, 200),
            newly_counted: part(1, 3_000),
            stopped_counting: part(1, 500),
        }
    );
    assert_eq!(p.growth.total(), p.new_users);
    // 20 days of 70 sign-ups a week.
    assert_eq!(p.signups.estimated, 200);
    assert_eq!(p.signups.servers_reporting, 1);
    assert_eq!(p.signups.users_covered, 2_000);
    assert_eq!(
        p.headline_split,
        "Of this change, 200 happened on servers counted on both days, 3,000 are the \
         existing users of 1 server newly counted (found by the census, not sign-ups) and \
         500 left with 1 server no longer counted. The 1 of 3 servers that publish sign-ups \
         report about 200 sign-ups (they have 2,000 users)."
    );

    // Each day is split against the day before, and the days add up to the period.
    let day = |n: i64| p.days[n as usize].growth.unwrap();
    assert_eq!(day(15).newly_counted, part(1, 3_000));
    assert_eq!(day(13).stopped_counting, part(1, 500));
    assert_eq!(
        day(12).stopped_counting,
        part(0, 0),
        "carried forward on day 12"
    );
    assert_eq!(day(7).continuing, part(3, 10));
    let sum: i64 = p.days[1..].iter().map(|d| d.growth.unwrap().total()).sum();
    assert_eq!(sum, p.new_users);
    assert_eq!(
        p.days[0].growth, None,
        "the census's first day has nothing before it"
    );
    assert_eq!(p.days[20].signups.per_day(), 10);

    // A period that starts later compares with its own first day.
    let later = period(&f, 14, 20);
    assert_eq!(later.growth.newly_counted, part(1, 3_000));
    assert_eq!(later.growth.stopped_counting, part(0, 0));
    assert_eq!(later.growth.total(), later.new_users);

    // Every format carries the split.
    let report = Report::Period(p);
    let md = render::markdown::markdown(&report);
    assert!(md.contains(&format!(
        "**{}** {}",
        report.headline(),
        match &report {
            Report::Period(p) => &p.headline_split,
            Report::Day(_) => unreachable!(),
        }
    )));
    assert!(
        md.contains("| Existing users of newly counted servers (found, not joined) | 1 | +3,000 |")
    );
    assert!(
        md.contains("| Sign-ups reported by the servers that publish them | 1 of 3 | about 200 |")
    );
    let json: serde_json::Value = serde_json::from_str(&render::json(&report)).unwrap();
    assert_eq!(json["growth"]["newly_counted"]["users"], 3_000);
    assert_eq!(json["growth"]["stopped_counting"]["servers"], 1);
    assert_eq!(json["signups"]["estimated"], 200);
    let csv = render::csv::days_csv(report.days());
    let header = csv.lines().next().unwrap();
    assert!(header.ends_with(
        "users_change_continuing,users_newly_counted,users_stopped_counting,signups_per_day,\
         signups_servers_reporting"
    ));
    assert!(
        csv.lines().nth(16).unwrap().ends_with(",10,3000,0,10,1"),
        "{csv}"
    );
}

#[test]
fn languages_as_declared_with_coverage() {
    let f = split_history();
    let day = period(&f, 19, 20).days.pop().unwrap();
    let row = |language: &str| LanguageRow {
        language: language.into(),
        counts: RowCounts {
            servers: 1,
            users_total: 2_000,
            active_month: 100,
        },
    };
    // "en-GB" is English; "<b>" is no language.
    assert_eq!(day.by_language, [row("de"), row("en")]);
    assert_eq!(day.coverage.languages, 1);
    assert_eq!(day.servers.up, 3);
    let mut md = String::new();
    render::markdown::languages(&mut md, &day);
    assert!(md.contains("1 of 3 servers declared at least one language"));
    assert!(md.contains("| de | 1 | 2,000 | 100 |"));
    assert!(!md.contains("<b>"));
}

/// Days 0 to 40 of steady servers; `grow(n)` is the growth of `grower.social` on day n.
fn wave_history(grow: impl Fn(i64) -> i64, newcomers_on: Option<i64>) -> Fixture {
    let f = Fixture::new(0..=40);
    let mut users = 10_000;
    for n in 0..=40 {
        users += if n == 0 { 0 } else { grow(n) };
        f.up("grower.social", n, stats("mastodon", users, 1_000));
        f.up("steady.social", n, stats("mastodon", 5_000, 500));
        if Some(n) == newcomers_on {
            for k in 0..4 {
                f.up(
                    &format!("new{k}.example{k}.org"),
                    n,
                    stats("gotosocial", 2, 1),
                );
            }
        }
        if newcomers_on.is_some_and(|day| n > day) {
            for k in 0..4 {
                f.up(
                    &format!("new{k}.example{k}.org"),
                    n,
                    stats("gotosocial", 2, 1),
                );
            }
        }
    }
    f
}

#[test]
fn a_flat_history_has_no_wave() {
    let flat = wave_history(|_| 0, None);
    assert_eq!(period(&flat, 0, 40).waves, []);
    // Steady growth is not a wave either.
    let steady = wave_history(|n| 100 + n % 3, None);
    let p = period(&steady, 0, 40);
    assert_eq!(p.waves, []);
    assert!(render::markdown::markdown(&Report::Period(p)).contains("No day of the period"));
}

#[test]
fn a_surge_is_named_with_its_peak_size_and_contributors() {
    let surge = |n: i64| match n {
        25 => 800,
        26 => 1_500,
        27 => 600,
        _ => 100,
    };
    let f = wave_history(surge, Some(26));
    let p = period(&f, 0, 40);
    assert_eq!(p.waves.len(), 1, "{:?}", p.waves);
    let w = &p.waves[0];
    assert_eq!((w.start, w.peak, w.end), (d(25), d(26), d(27)));
    assert_eq!(w.name, "Wave of November 21 to 23");
    assert_eq!(w.measures, [Measure::NewUsers, Measure::NewServers]);
    // 2,900 on grower.social and 8 on the four newcomers.
    assert_eq!(w.new_users, 2_908);
    assert_eq!(w.new_servers, 4);
    assert_eq!(w.top_servers[0].domain.as_str(), "grower.social");
    assert_eq!(w.top_servers[0].users, 2_900);
    assert_eq!(w.top_servers.len(), 5);
    assert!(w.top_servers[1..].iter().all(|c| c.users == 2));

    let report = Report::Period(p.clone());
    for chart in [Chart::Users, Chart::NewServers] {
        let text = chart.describe(&report);
        assert!(
            text.ends_with(" Shaded: Wave of November 21 to 23."),
            "{text}"
        );
    }
    assert!(!Chart::Servers.describe(&report).contains("Shaded"));
    let md = render::markdown::markdown(&report);
    assert!(md.contains(
        "| Wave of November 21 to 23 | 2022-11-21 | 2022-11-22 | 2022-11-23 | +2,908 | 4 | \
         `grower.social` (+2,900)"
    ));
    // The rule needs a week of history before a day: a short period has no waves.
    assert_eq!(period(&f, 20, 27).waves, []);
}
