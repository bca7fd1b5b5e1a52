//! The per-day census, derived once and stored: what a report needs of a day, so a
//! report reads one small value per day instead of re-reading and re-judging 75 days
//! of history.
//!
//! A [`DaySummary`] holds, per software, the sums over the servers that count
//! ([`Part`]: observed, carried forward, new, users, posts, coverage, sign-ups and
//! languages), the same sums over the suspect servers apart, the servers gone that day,
//! the suspect list with reasons, and the growth since the day before summed by where
//! each server counts on both days ([`GrowthCell`]). Any report filter (`--software`,
//! `--include-suspect`) is then a selection and a sum ([`assemble`]), equal to what
//! [`Census::day`] computes from the history (a property test checks that, field by
//! field).
//!
//! When it is computed: after every crawl run and every bulk load ([`settle`]), for
//! each day of the census that has no stored summary. A write that can change a past
//! day removes that day's summary (see `store` module docs: a snapshot on day W
//! reaches days W..=W+[`WINDOW_DAYS`]; a change of a server's first-up time, opt-out or
//! alias status reaches every day from its first-up day), and a report computes the
//! days that lack one in memory with the same code, without writing.
//!
//! Computing days costs one pass over the blocks of the days concerned and the
//! [`WINDOW_DAYS`] before them, one group of servers at a time (memory: one group's
//! window, not the whole census).
//!
//! Types: [`DaySummary`], [`Part`], [`SoftwareDay`], [`StoredFlag`], [`NewServer`], [`GrowthCell`],
//! [`Side`]; functions [`derive_days`], [`assemble`], [`settle`], [`summaries`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::day::Day;
use crate::domain::Domain;
use crate::report::servers::Numbers;
use crate::report::stats::{
    self, Census, Coverage, DayReport, Entry, Filter, Flagged, Growth, LanguageRow, Moves,
    NoteContext, PostCounts, RowCounts, ServerCounts, Signups, SoftwareRow, Turnout, UserCounts,
    CARRY_DAYS,
};
use crate::report::suspect;
use crate::report::window::{Reading, Window};
use crate::report::WINDOW_DAYS;
use crate::store::{ServerRecord, Store, StoreError};

/// What a set of counting servers adds up to on one day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// Servers that answered on the day.
    pub observed: u64,
    /// Servers silent on the day that answered within the [`CARRY_DAYS`] before.
    pub carried_forward: u64,
    /// Servers observed on the day whose first successful snapshot was taken that day.
    pub new: u64,
    /// Their users, monthly and half-year active users.
    pub users: UserCounts,
    /// Their local posts.
    pub posts: PostCounts,
    /// How many of them reported each number, and declared a language.
    pub coverage: Coverage,
    /// The weekly sign-ups of those that publish them.
    pub signups: Signups,
    /// By declared language.
    pub languages: BTreeMap<String, LanguageRow>,
}

/// One software's part of a day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SoftwareDay {
    /// Servers that count.
    pub clean: Part,
    /// Servers that would count but are suspect.
    pub suspect: Part,
    /// Servers that reached [`stats::GONE_DAYS`] silent days (suspect or not).
    pub gone: u64,
}

/// A suspect server of the day, with its software so a `--software` report can select.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredFlag {
    /// The suspect server.
    pub domain: Domain,
    /// The software of its reading, as keyed in [`DaySummary::software`].
    pub software: String,
    /// The rule's machine name, one of [`suspect::RULES`].
    pub rule: String,
    /// The reason in words, with the offending numbers.
    pub reason: String,
}

/// A server first up and observed on the day (not opted out, suspect or not): one row
/// of a period's list of new servers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewServer {
    /// The server first up on the day.
    pub domain: Domain,
    /// Whether its reading is suspect (then in `flagged` with its rule).
    pub suspect: bool,
    /// The numbers of its reading that day (flattened into the stored object).
    #[serde(flatten)]
    pub numbers: Numbers,
}

/// Everything a report needs of one day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DaySummary {
    /// Each software's part of the day, by software name (lowercased).
    pub software: BTreeMap<String, SoftwareDay>,
    /// In domain order.
    pub flagged: Vec<StoredFlag>,
    /// Every server's answers, for the day's [`stats::Health`].
    pub turnout: Turnout,
    /// The servers that count on the day or the day before (with suspect data
    /// included), summed by where they count on each, for the day's [`Growth`].
    pub growth: Vec<GrowthCell>,
    /// The servers new on the day, in domain order.
    pub new_servers: Vec<NewServer>,
}

/// Where a server would count on a day (with suspect data included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Side {
    /// The software of its reading on that day.
    pub software: String,
    /// Whether it is suspect on that day (its reading, or a spam farm).
    pub suspect: bool,
}

/// The servers that stand as `before` on the day before and as `after` on the day
/// (`None`: not counting), and their users on each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrowthCell {
    /// Where the servers would count on the day before.
    pub before: Option<Side>,
    /// Where they would count on the day.
    pub after: Option<Side>,
    /// How many servers stand so, and their users on each day.
    pub moves: Moves,
}

impl Part {
    fn count(&mut self, entry: &Entry, d: Day) {
        if entry.silent == 0 {
            self.observed += 1;
            self.new += u64::from(entry.is_new(d));
        } else {
            self.carried_forward += 1;
        }
        let r = entry.reading;
        let add = |sum: &mut i64, covered: &mut u64, value: Option<i64>| {
            if let Some(v) = value {
                *sum = sum.saturating_add(v);
                *covered += 1;
            }
        };
        let c = &mut self.coverage;
        add(&mut self.users.total, &mut c.users_total, r.users_total);
        add(
            &mut self.users.active_month,
            &mut c.active_month,
            r.active_month,
        );
        add(
            &mut self.users.active_halfyear,
            &mut c.active_halfyear,
            r.active_halfyear,
        );
        add(&mut self.posts.local, &mut c.local_posts, r.local_posts);
        stats::add_languages(&mut self.languages, &mut self.coverage, r);
        self.signups.add(r);
    }

    fn absorb(&mut self, other: &Part) {
        self.observed += other.observed;
        self.carried_forward += other.carried_forward;
        self.new += other.new;
        let sum = |a: &mut i64, b: i64| *a = a.saturating_add(b);
        sum(&mut self.users.total, other.users.total);
        sum(&mut self.users.active_month, other.users.active_month);
        sum(&mut self.users.active_halfyear, other.users.active_halfyear);
        sum(&mut self.posts.local, other.posts.local);
        let c = &mut self.coverage;
        c.users_total += other.coverage.users_total;
        c.active_month += other.coverage.active_month;
        c.active_halfyear += other.coverage.active_halfyear;
        c.local_posts += other.coverage.local_posts;
        c.languages += other.coverage.languages;
        self.signups.absorb(&other.signups);
        for (language, row) in &other.languages {
            let mine = self
                .languages
                .entry(language.clone())
                .or_insert_with(|| LanguageRow {
                    language: row.language.clone(),
                    counts: RowCounts::default(),
                });
            mine.counts.absorb(&row.counts);
        }
    }

    fn servers(&self) -> u64 {
        self.observed + self.carried_forward
    }
}

impl DaySummary {
    /// Adds the servers of `census` (built with suspect data included) on day `d`.
    fn add(&mut self, census: &Census, d: Day) {
        self.turnout.add(census.turnout(d));
        for entry in census.entries(d).filter(|e| e.opted_out.is_none()) {
            let software = self
                .software
                .entry(entry.reading.software.to_string())
                .or_default();
            if entry.is_gone() {
                software.gone += 1;
            }
            if !entry.is_recent() {
                continue;
            }
            if entry.is_new(d) {
                self.new_servers.push(NewServer {
                    domain: entry.domain.clone(),
                    suspect: entry.verdict.is_some(),
                    numbers: Numbers::of(&entry),
                });
            }
            match entry.verdict {
                Some(reason) => {
                    software.suspect.count(&entry, d);
                    self.flagged.push(StoredFlag {
                        domain: entry.domain.clone(),
                        software: entry.reading.software.to_string(),
                        rule: reason.rule().to_string(),
                        reason: reason.to_string(),
                    });
                }
                None => software.clean.count(&entry, d),
            }
        }
        let side = |s: Option<(&Reading, bool)>| {
            s.map(|(r, suspect)| Side {
                software: r.software.to_string(),
                suspect,
            })
        };
        for (before, after) in census.transitions(d.add_days(-1), d) {
            let (b, a) = (side(before), side(after));
            let i = match self
                .growth
                .iter()
                .position(|c| c.before == b && c.after == a)
            {
                Some(i) => i,
                None => {
                    self.growth.push(GrowthCell {
                        before: b,
                        after: a,
                        moves: Moves::default(),
                    });
                    self.growth.len() - 1
                }
            };
            self.growth[i]
                .moves
                .add(before.map(|(r, _)| r), after.map(|(r, _)| r));
        }
    }
}

/// The report of day `d` from its summary, counting what `filter` says.
pub fn assemble(
    summary: &DaySummary,
    d: Day,
    baseline: Day,
    crawl_days: &BTreeSet<Day>,
    filter: &Filter,
) -> Result<DayReport, StoreError> {
    let only = filter.software_name();
    let selected = |software: &str| only.as_deref().is_none_or(|s| s == software);
    let (mut total, gone, by_software) = counted(summary, filter, &selected);
    let mut by_language: Vec<LanguageRow> =
        std::mem::take(&mut total.languages).into_values().collect();
    stats::sort_languages(&mut by_language);
    let growth = (d > baseline).then(|| growth(summary, filter, &selected));
    let flagged = flagged(summary, &selected)?;
    let context = NoteContext {
        baseline,
        crawl_days,
        software: only.as_deref(),
        include_suspect: filter.include_suspect,
    };
    let (health, notes) = stats::notes(d, &context, &summary.turnout, flagged.len());
    let (excluded, suspect_included) = if filter.include_suspect {
        (Vec::new(), flagged)
    } else {
        (flagged, Vec::new())
    };
    Ok(DayReport {
        date: d,
        servers: ServerCounts {
            up: total.servers(),
            observed: total.observed,
            carried_forward: total.carried_forward,
            new: (d != baseline).then_some(total.new),
            gone,
            excluded: excluded.len() as u64,
        },
        users: total.users,
        posts: total.posts,
        coverage: total.coverage,
        by_software,
        by_language,
        growth,
        signups: total.signups,
        excluded,
        suspect_included,
        health,
        notes,
    })
}

/// The sums of the servers `filter` counts (clean ones, and suspect ones if it includes
/// them) of the `selected` software, how many of those are gone, and the per-software rows.
fn counted(
    summary: &DaySummary,
    filter: &Filter,
    selected: &dyn Fn(&str) -> bool,
) -> (Part, u64, Vec<SoftwareRow>) {
    let mut total = Part::default();
    let mut gone = 0;
    let mut by_software = Vec::new();
    for (name, day) in summary.software.iter().filter(|(n, _)| selected(n)) {
        gone += day.gone;
        let mut part = day.clean.clone();
        if filter.include_suspect {
            part.absorb(&day.suspect);
        }
        if part.servers() > 0 {
            by_software.push(SoftwareRow {
                software: name.clone(),
                counts: RowCounts {
                    servers: part.servers(),
                    users_total: part.users.total,
                    active_month: part.users.active_month,
                },
            });
        }
        total.absorb(&part);
    }
    stats::sort_software(&mut by_software);
    (total, gone, by_software)
}

/// The day's growth under `filter`: each stored cell of servers moving between the
/// same two sides counts on a side if that side's software is `selected` and its
/// reading counts (not suspect, or suspect data included).
fn growth(summary: &DaySummary, filter: &Filter, selected: &dyn Fn(&str) -> bool) -> Growth {
    let counts = |side: &Option<Side>| {
        side.as_ref()
            .is_some_and(|s| selected(&s.software) && (!s.suspect || filter.include_suspect))
    };
    let mut growth = Growth::default();
    for cell in &summary.growth {
        growth.add_moves(counts(&cell.before), counts(&cell.after), &cell.moves);
    }
    growth
}

/// The day's suspect servers of the `selected` software; a rule this build does not
/// know means the summary is not ours to read.
fn flagged(
    summary: &DaySummary,
    selected: &dyn Fn(&str) -> bool,
) -> Result<Vec<Flagged>, StoreError> {
    summary
        .flagged
        .iter()
        .filter(|f| selected(&f.software))
        .map(|f| {
            let rule = suspect::RULES
                .into_iter()
                .find(|r| *r == f.rule)
                .ok_or_else(|| StoreError::Corrupt {
                    path: Default::default(),
                    detail: format!("unknown suspect rule '{}' in a day summary", f.rule),
                })?;
            Ok(Flagged {
                domain: f.domain.clone(),
                rule,
                reason: f.reason.clone(),
            })
        })
        .collect()
}

/// Computes the summaries of `days` (ascending) from the history, one group of
/// servers at a time.
pub fn derive_days(
    store: &Store,
    records: &[ServerRecord],
    days: &[Day],
) -> Result<BTreeMap<Day, DaySummary>, StoreError> {
    let mut out: BTreeMap<Day, DaySummary> =
        days.iter().map(|&d| (d, DaySummary::default())).collect();
    let (Some(&first), Some(&last)) = (days.first(), days.last()) else {
        return Ok(out);
    };
    let farms = suspect::farms(records);
    let by_name: HashMap<&Domain, &ServerRecord> = records.iter().map(|r| (&r.domain, r)).collect();
    let everything = Filter {
        software: None,
        include_suspect: true,
    };
    for group in 0..store.groups() {
        let window = Window::load_group(store, group, first.add_days(-WINDOW_DAYS), last)?;
        let members: Vec<ServerRecord> = window
            .servers
            .keys()
            .filter_map(|d| by_name.get(d).map(|r| (*r).clone()))
            .collect();
        let group_farms = window
            .servers
            .keys()
            .filter_map(|d| Some((d.clone(), farms.get(d)?.clone())))
            .collect();
        let census = Census::judged(
            window,
            &members,
            group_farms,
            &[],
            first.add_days(-1 - CARRY_DAYS),
            &everything,
        );
        for (&d, summary) in out.iter_mut() {
            summary.add(&census, d);
        }
    }
    for summary in out.values_mut() {
        summary.flagged.sort_by(|a, b| a.domain.cmp(&b.domain));
    }
    Ok(out)
}

/// The summaries of `from..=to`: stored ones as they are, the others computed (and
/// not stored: reports never write).
pub fn summaries(
    store: &Store,
    from: Day,
    to: Day,
) -> Result<BTreeMap<Day, DaySummary>, StoreError> {
    let mut out = stored(store, from, to)?;
    let missing: Vec<Day> = Day::range(from, to)
        .filter(|d| !out.contains_key(d))
        .collect();
    if !missing.is_empty() {
        let records: Vec<ServerRecord> = store.servers().collect::<Result<_, _>>()?;
        out.extend(derive_days(store, &records, &missing)?);
    }
    Ok(out)
}

fn stored(store: &Store, from: Day, to: Day) -> Result<BTreeMap<Day, DaySummary>, StoreError> {
    store
        .derived_range(from, to)?
        .into_iter()
        .map(|(day, bytes)| {
            let summary = serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
                path: store.path().to_path_buf(),
                detail: format!("undecodable day summary for {day}: {e}"),
            })?;
            Ok((day, summary))
        })
        .collect()
}

/// Seals the crawler's fresh snapshots into blocks and derives and stores the summary
/// of every census day that lacks one: run after every crawl and bulk load. Returns
/// how many days were derived.
pub fn settle(store: &Store) -> Result<usize, StoreError> {
    store.seal()?;
    let Some((first, last)) = census_span(store)? else {
        return Ok(0);
    };
    let have = stored(store, first, last)?;
    let missing: Vec<Day> = Day::range(first, last)
        .filter(|d| !have.contains_key(d))
        .collect();
    write_days(store, &missing, |day, bytes| store.put_derived(day, bytes))?;
    store.flush()?;
    Ok(missing.len())
}

/// Recomputes every day's summary into a new tree and switches to it in one step: a
/// crash before the switch leaves the old summaries in use.
pub fn rebuild_summaries(store: &Store) -> Result<usize, StoreError> {
    let Some((first, last)) = census_span(store)? else {
        return Ok(0);
    };
    let days: Vec<Day> = Day::range(first, last).collect();
    let next = store.next_derived()?;
    write_days(store, &days, |day, bytes| next.put(day, bytes))?;
    store.switch_derived(next)?;
    Ok(days.len())
}

/// Derives `days` in slices (bounding memory) and hands each summary to `put`.
fn write_days(
    store: &Store,
    days: &[Day],
    mut put: impl FnMut(Day, Vec<u8>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    if days.is_empty() {
        return Ok(());
    }
    let records: Vec<ServerRecord> = store.servers().collect::<Result<_, _>>()?;
    for slice in days.chunks(SLICE_DAYS) {
        for (day, summary) in derive_days(store, &records, slice)? {
            put(
                day,
                serde_json::to_vec(&summary).expect("summaries serialize"),
            )?;
        }
    }
    Ok(())
}

/// Days derived together: the cost of a slice is its days plus [`WINDOW_DAYS`].
const SLICE_DAYS: usize = 128;

/// The first crawl day through the last day with a crawl or a snapshot.
fn census_span(store: &Store) -> Result<Option<(Day, Day)>, StoreError> {
    let crawl_days = store.crawl_days()?;
    let Some(&first) = crawl_days.first() else {
        return Ok(None);
    };
    let last = crawl_days
        .last()
        .copied()
        .into_iter()
        .chain(store.last_day()?)
        .max()
        .unwrap_or(first);
    Ok(Some((first, last)))
}
