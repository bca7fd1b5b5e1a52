//! The stored per-day summaries against the oracle: random histories (late writes,
//! bulk loads, opt-outs and their reversal, outages, every suspect rule, spam farms)
//! are written in random order with summaries derived at random points; every day's
//! report, from stored summaries and from ones computed on the fly, must equal what
//! `Census` computes from the full history, field by field, under every filter.

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;

use fedicensus::day::Day;
use fedicensus::domain::Domain;
use fedicensus::outcome::OptOut;
use fedicensus::report::{self, derive, Filter, Report, ReportError, Scope};
use fedicensus::snapshot::{ServerStats, Snapshot};
use fedicensus::store::{ServerRecord, Store};

mod common;

fn d(n: i64) -> Day {
    Day::from_ymd(2024, 1, 1).unwrap().add_days(n)
}

/// Eight servers under three registrable domains: six under `farm.social` make a
/// spam farm when they are first up on one day.
fn name(server: usize) -> Domain {
    let registrable = ["farm.social", "farm.social", "a.social", "b.social"][server % 4];
    Domain::parse(&format!("s{server}.{registrable}")).unwrap()
}

/// What one reading says; `kind` picks a plain reading or one that breaks a rule.
fn stats(server: usize, day: i64, kind: u8, users: i64) -> ServerStats {
    let mut s = ServerStats {
        software: ["mastodon", "lemmy", "pleroma"][server % 3].into(),
        users_total: Some(users),
        active_month: Some(users / 4),
        active_halfyear: (!server.is_multiple_of(5)).then_some(users / 2),
        local_posts: Some(users * 10 + day),
        // Only some servers publish sign-ups; declared languages change between
        // readings, and one list has a tag that is not a language.
        registrations_week: server.is_multiple_of(2).then_some(users / 20 + day),
        languages: [
            vec!["en".into()],
            vec!["de-DE".into(), "en".into(), "<x>".into()],
            vec![],
        ][(server + usize::from(kind)) % 3]
            .clone(),
        ..Default::default()
    };
    match kind {
        0 => s.users_total = Some(-3),
        1 => s.users_total = Some(60_000_000),
        2 => s.active_month = Some(users + 1),
        3 => s.users_total = Some(users * 10 + 20_000),
        // A counter that never moves while posts grow: stuck after 60 days.
        4 | 5 => s.active_month = Some(7),
        6 => s.local_posts = None,
        _ => {}
    }
    s
}

#[derive(Debug, Clone)]
enum Write {
    /// `server` answered on `day` at `hour`.
    Up {
        server: usize,
        day: i64,
        hour: i64,
        kind: u8,
        users: i64,
    },
    /// `server` opts out (`true`) or answers again and opts back in.
    OptOut { server: usize, out: bool, day: i64 },
    /// Derive and store the missing summaries, as a crawl's end does.
    Settle,
}

#[derive(Debug, Clone)]
struct History {
    /// Days on which a crawl ran (the census spans the first to the last).
    crawls: Vec<i64>,
    writes: Vec<Write>,
    /// Whether the readings go through the bulk path instead of the crawler's.
    bulk: bool,
}

fn history() -> impl Strategy<Value = History> {
    (5i64..100, any::<bool>()).prop_flat_map(|(days, bulk)| {
        let up = (0usize..8, 0..days, 0i64..24, 0u8..24, 1i64..2_000).prop_map(
            |(server, day, hour, kind, users)| Write::Up {
                server,
                day,
                hour,
                kind,
                users,
            },
        );
        let other = prop_oneof![
            (0usize..8, any::<bool>(), 0..days).prop_map(|(server, out, day)| Write::OptOut {
                server,
                out,
                day
            }),
            Just(Write::Settle),
        ];
        let writes = proptest::collection::vec(prop_oneof![8 => up, 1 => other], 1..160);
        let crawls = proptest::collection::vec(0..days, 1..(days as usize + 1));
        (crawls, writes).prop_map(move |(mut crawls, writes)| {
            crawls.sort();
            crawls.dedup();
            History {
                crawls,
                writes,
                bulk,
            }
        })
    })
}

fn noon(day: i64) -> DateTime<Utc> {
    d(day).start() + Duration::hours(12)
}

fn apply(store: &Store, history: &History) {
    for &day in &history.crawls {
        let mut run = store
            .start_run(noon(day), noon(day), serde_json::json!({}))
            .unwrap();
        run.ended = Some(noon(day) + Duration::hours(1));
        store.put_run(&run).unwrap();
    }
    for write in &history.writes {
        match *write {
            Write::Up {
                server,
                day,
                hour,
                kind,
                users,
            } => {
                let domain = name(server);
                let at = d(day).start() + Duration::hours(hour);
                let stats = stats(server, day, kind, users);
                let mut record = store
                    .server(&domain)
                    .unwrap()
                    .unwrap_or_else(|| ServerRecord::discovered(domain.clone(), at, None));
                record.record_up(at, &stats, []);
                let snapshot = Snapshot { domain, at, stats };
                if history.bulk {
                    store.put_snapshots(&[snapshot]).unwrap();
                    store.put_server(&record).unwrap();
                } else {
                    store.record_visit(&[record], &snapshot).unwrap();
                }
            }
            Write::OptOut { server, out, day } => {
                let domain = name(server);
                let Some(mut record) = store.server(&domain).unwrap() else {
                    continue;
                };
                if out {
                    record.record_opt_out(noon(day), OptOut::Robots);
                } else {
                    record.status = fedicensus::store::Status::Up;
                }
                store.put_server(&record).unwrap();
            }
            Write::Settle => {
                derive::settle(store).unwrap();
            }
        }
    }
}

/// The census's days: the first crawl through the last.
fn span(history: &History) -> (Day, Day) {
    (d(history.crawls[0]), d(*history.crawls.last().unwrap()))
}

fn check_every_day(store: &Store, history: &History) {
    let (since, until) = span(history);
    for (software, include_suspect) in [
        (None, false),
        (Some("Lemmy"), false),
        (None, true),
        (Some("mastodon"), true),
    ] {
        let filter = Filter {
            software: software.map(str::to_string),
            include_suspect,
        };
        let scope = Scope::Period {
            since,
            until: Some(until),
        };
        let built = match report::build(store, scope, &filter) {
            Ok(Report::Period(p)) => p,
            Ok(Report::Day(_)) => unreachable!("a period"),
            // Refused only when no server ever ran it.
            Err(ReportError::UnknownSoftware { .. }) => {
                let name = filter.software_name();
                assert!(store.servers().all(|r| r.unwrap().software != name));
                continue;
            }
            Err(e) => panic!("{e}"),
        };
        let expected = common::oracle::period(store, since, until, &filter);
        for (got, want) in built.days.iter().zip(&expected.days) {
            assert_eq!(got, want, "day {} with {filter:?}", want.date);
        }
        assert_eq!(built.days.len(), expected.days.len());
        // The period's growth split, sign-ups and waves with their top servers.
        assert_eq!(built, expected, "the period with {filter:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn stored_days_equal_the_census(history in history()) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        apply(&store, &history);
        // Some days stored, some stale-and-removed, some never derived: computed.
        check_every_day(&store, &history);
        derive::settle(&store).unwrap();
        let (since, until) = span(&history);
        prop_assert_eq!(
            store.derived_range(since, until).unwrap().len(),
            Day::range(since, until).count(),
            "every census day has a stored summary after settling"
        );
        check_every_day(&store, &history);
        // A rebuild recomputes the same days.
        report::rebuild(&store).unwrap();
        check_every_day(&store, &history);
    }
}
