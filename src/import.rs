//! `fedicensus import`: backfills snapshots from CSV or JSON Lines written by another
//! crawler, an older census or another fedicensus (the columns of a `snapshots`
//! export; only `domain`, `taken_at` and `users_total` are required).
//!
//! An import reads its file twice: first to check every row, then to store them. A bad
//! row (unknown column, bad domain, bad instant, unparseable number) stops the import
//! before anything is written, naming its line, unless `--skip-invalid` skips and
//! counts it. Every domain goes through [`Domain::parse`], as the crawler's names do.
//! A snapshot of one server at one instant is stored once, so importing a file again
//! adds nothing. The servers' records (first and last up, software) and a run record
//! for each day imported follow, so the reporter treats imported history like crawled
//! history.
//!
//! Types: [`Format`], [`Options`], [`Summary`], [`RowError`]; function [`import`].

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

use crate::day::Day;
use crate::domain::Domain;
use crate::export::csv::LIST_SEPARATOR;
use crate::export::rows::{CRAWL_SOURCE, SNAPSHOT_COLUMNS};
use crate::snapshot::{ServerStats, Snapshot};
use crate::store::{RunRecord, ServerRecord, Store};

/// Snapshots stored per call to [`Store::put_snapshots`].
const BATCH: usize = 20_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Csv,
    Jsonl,
}

impl Format {
    /// The format a file name says (`.csv`, `.jsonl`, `.ndjson`).
    pub(crate) fn of_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) file: PathBuf,
    pub(crate) format: Format,
    /// The source recorded on every snapshot; default: the row's `source` column, else
    /// the file's name.
    pub(crate) source: Option<String>,
    pub(crate) skip_invalid: bool,
    /// Check every row and stop: nothing is stored.
    pub(crate) dry_run: bool,
}

/// What an import did. Field names are a contract (`--json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Summary {
    /// Data rows read (the header not counted).
    pub(crate) rows: u64,
    /// Snapshots stored that the database did not hold.
    pub(crate) added: u64,
    /// Rows that were already in the database (or repeated in the file).
    pub(crate) already_known: u64,
    /// Invalid rows skipped (`--skip-invalid`).
    pub(crate) skipped: u64,
    /// Servers whose record was created or changed.
    pub(crate) servers: u64,
    /// Days that became census days.
    pub(crate) new_days: u64,
}

/// A row that cannot be imported, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub(crate) struct RowError {
    pub(crate) line: u64,
    pub(crate) problem: String,
}

/// Imports `options.file` into `store`.
pub(crate) fn import(store: &Store, options: &Options) -> anyhow::Result<Summary> {
    check_file(options)?;
    let default_source = options.source.clone().unwrap_or_else(|| {
        options
            .file
            .file_name()
            .map_or_else(|| "import".into(), |n| n.to_string_lossy().into_owned())
    });
    let mut reader = Reader::new(options, &default_source);
    let mut summary = Summary::default();
    // First pass: every row is checked before anything is stored.
    reader
        .each::<RowError>(|parsed| {
            summary.rows += 1;
            match parsed {
                Ok(_) => Ok(()),
                Err(_) if options.skip_invalid => {
                    summary.skipped += 1;
                    Ok(())
                }
                Err(e) => Err(e),
            }
        })
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: {e}; nothing was imported: fix the row, or pass --skip-invalid to skip \
             such rows",
                options.file.display()
            )
        })?;
    if options.dry_run {
        return Ok(summary);
    }
    // Second pass: a thread parses the file again while this one stores what it parsed
    // (storing is the slower half, so the second parse costs no wall time).
    let mut servers = Servers::default();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let (parsed_batches, batches) = std::sync::mpsc::sync_channel::<Vec<Snapshot>>(2);
        let parser = scope.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            // A failed send means the storing side stopped on an error it reports.
            let stopped = || anyhow::anyhow!("the import stopped");
            reader.each::<anyhow::Error>(|parsed| {
                if let Ok(snapshot) = parsed {
                    batch.push(snapshot);
                    if batch.len() == BATCH {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                        parsed_batches.send(full).map_err(|_| stopped())?;
                    }
                }
                Ok(())
            })?;
            parsed_batches.send(batch).map_err(|_| stopped())
        });
        for mut batch in batches {
            summary.added += store.put_snapshots(&batch)? as u64;
            batch.drain(..).for_each(|s| servers.saw(s));
        }
        parser.join().expect("parsing never panics")
    })?;
    summary.already_known = summary.rows - summary.skipped - summary.added;
    summary.servers = servers.write(store)?;
    summary.new_days = record_days(store, &servers.days, &default_source, options)?;
    store.flush()?;
    Ok(summary)
}

/// One clear line for a file that cannot be imported at all (missing, unreadable, a
/// directory, another format): callers check before opening the database.
pub(crate) fn check_file(options: &Options) -> anyhow::Result<()> {
    let (path, format) = (options.file.as_path(), options.format);
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}: check the path", path.display()))?;
    if meta.is_dir() {
        bail!("{} is a directory: give the file to import", path.display());
    }
    let mut head = [0u8; 4];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .with_context(|| format!("cannot read {}", path.display()))?;
    let head = &head[..n];
    if head == b"PAR1" {
        bail!(
            "{} is a Parquet file; import reads CSV or JSON Lines (export those with \
             --format csv or jsonl)",
            path.display()
        );
    }
    let json_like = head.first() == Some(&b'{');
    match format {
        Format::Csv if json_like => bail!(
            "{} looks like JSON Lines, not CSV: pass --format jsonl",
            path.display()
        ),
        Format::Jsonl if !json_like && n > 0 => bail!(
            "{} is not JSON Lines (it does not start with a JSON object): pass --format \
             csv if it is CSV",
            path.display()
        ),
        _ => Ok(()),
    }
}

/// The columns an import understands: those of a snapshots export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Domain,
    TakenAt,
    UsersTotal,
    ActiveMonth,
    ActiveHalfyear,
    LocalPosts,
    Software,
    Version,
    OpenRegistrations,
    RegistrationsWeek,
    Languages,
    Schema,
    Source,
}

const FIELDS: [Field; 13] = [
    Field::Domain,
    Field::TakenAt,
    Field::UsersTotal,
    Field::ActiveMonth,
    Field::ActiveHalfyear,
    Field::LocalPosts,
    Field::Software,
    Field::Version,
    Field::OpenRegistrations,
    Field::RegistrationsWeek,
    Field::Languages,
    Field::Schema,
    Field::Source,
];

const REQUIRED: [Field; 3] = [Field::Domain, Field::TakenAt, Field::UsersTotal];

impl Field {
    fn name(self) -> &'static str {
        SNAPSHOT_COLUMNS[self as usize].name
    }

    fn named(name: &str) -> Result<Field, String> {
        FIELDS
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = FIELDS.iter().map(|f| f.name()).collect();
                format!("unknown column '{name}' (known: {})", known.join(", "))
            })
    }
}

/// One cell as read: text (CSV, or a JSON string/number/bool), a list (JSON array), or
/// nothing (an empty CSV cell, JSON null or an absent key).
enum Cell<'a> {
    Text(std::borrow::Cow<'a, str>),
    List(Vec<String>),
}

/// Turns rows into snapshots, remembering parsed domain names (a history repeats each
/// name once per day, and full normalization is the costly part).
struct Parser<'s> {
    names: HashMap<String, Domain>,
    default_source: &'s str,
}

impl Parser<'_> {
    fn snapshot<'a>(
        &mut self,
        cells: impl Iterator<Item = (Field, Option<Cell<'a>>)>,
    ) -> Result<Snapshot, String> {
        let mut domain = None;
        let mut at = None;
        let mut stats = ServerStats::default();
        let mut source = None;
        for (field, cell) in cells {
            let Some(cell) = cell else { continue };
            let text = match &cell {
                Cell::Text(t) if t.trim().is_empty() => continue,
                Cell::Text(t) => t.trim(),
                Cell::List(_) if field != Field::Languages => {
                    return Err(format!("{} is a list; expected one value", field.name()))
                }
                Cell::List(_) => "",
            };
            let int = || {
                text.parse::<i64>()
                    .map(Some)
                    .map_err(|_| format!("{} '{text}' is not a whole number", field.name()))
            };
            match field {
                Field::Domain => domain = Some(self.domain(text)?),
                Field::TakenAt => at = Some(instant(text)?),
                Field::UsersTotal => stats.users_total = int()?,
                Field::ActiveMonth => stats.active_month = int()?,
                Field::ActiveHalfyear => stats.active_halfyear = int()?,
                Field::LocalPosts => stats.local_posts = int()?,
                Field::RegistrationsWeek => stats.registrations_week = int()?,
                Field::Software => stats.software = text.to_lowercase(),
                Field::Version => stats.version = Some(text.to_owned()),
                Field::Schema => stats.schema = Some(text.to_owned()),
                Field::Source => source = Some(text.to_owned()),
                Field::OpenRegistrations => {
                    stats.open_registrations = Some(match text.to_ascii_lowercase().as_str() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(format!("open_registrations '{text}' is not true or false"))
                        }
                    })
                }
                Field::Languages => {
                    stats.languages = match cell {
                        Cell::List(items) => items,
                        Cell::Text(t) => t
                            .split(LIST_SEPARATOR)
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned)
                            .collect(),
                    }
                }
            }
        }
        let domain = domain.ok_or("domain is empty")?;
        let at = at.ok_or("taken_at is empty")?;
        if stats.users_total.is_none() {
            return Err("users_total is empty".into());
        }
        stats.origin = Some(source.unwrap_or_else(|| self.default_source.to_owned()));
        if stats.origin.as_deref() == Some(CRAWL_SOURCE) {
            // Exported by a fedicensus from its own crawls: still recorded as imported.
            stats.origin = Some(format!("{CRAWL_SOURCE} ({})", self.default_source));
        }
        Ok(Snapshot { domain, at, stats })
    }

    fn domain(&mut self, text: &str) -> Result<Domain, String> {
        if let Some(d) = self.names.get(text) {
            return Ok(d.clone());
        }
        let d = Domain::parse(text).map_err(|e| format!("domain '{text}': {e}"))?;
        self.names.insert(text.to_owned(), d.clone());
        Ok(d)
    }
}

/// An instant in RFC 3339 (`2022-11-07T12:00:00Z`), or `YYYY-MM-DD HH:MM:SS[.fff]` with
/// an optional offset, taken as UTC without one (as spreadsheets and SQL engines write
/// it). Kept to the millisecond, as the store keeps it.
fn instant(text: &str) -> Result<DateTime<Utc>, String> {
    let parsed = DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_rfc3339(&text.replacen(' ', "T", 1)))
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").map(|t| t.and_utc())
        })
        .map_err(|_| {
            format!(
                "taken_at '{text}' is not an instant: write RFC 3339, e.g. 2022-11-07T12:00:00Z"
            )
        })?;
    DateTime::from_timestamp_millis(parsed.timestamp_millis())
        .ok_or_else(|| format!("taken_at '{text}' is out of range"))
}

/// Reads the file, once per call to [`Reader::each`].
struct Reader<'s> {
    path: PathBuf,
    format: Format,
    parser: Parser<'s>,
    forced_source: Option<String>,
}

type Parsed = Result<Snapshot, RowError>;

impl<'s> Reader<'s> {
    fn new(options: &Options, default_source: &'s str) -> Reader<'s> {
        Reader {
            path: options.file.clone(),
            format: options.format,
            parser: Parser {
                names: HashMap::new(),
                default_source,
            },
            forced_source: options.source.clone(),
        }
    }

    /// Calls `f` with each data row parsed; stops at the first error `f` returns, or at
    /// a file-level problem (an unknown or missing column, an unreadable line).
    fn each<E: From<RowError>>(
        &mut self,
        mut f: impl FnMut(Parsed) -> Result<(), E>,
    ) -> Result<(), E> {
        let file = File::open(&self.path).map_err(|e| RowError {
            line: 0,
            problem: format!("cannot read the file: {e}"),
        })?;
        let forced = self.forced_source.clone();
        let override_source = |mut s: Snapshot| {
            if let Some(name) = &forced {
                s.stats.origin = Some(name.clone());
            }
            s
        };
        match self.format {
            Format::Csv => self.each_csv(file, &mut |p| f(p.map(override_source))),
            Format::Jsonl => self.each_jsonl(file, &mut |p| f(p.map(override_source))),
        }
    }

    fn each_csv<E: From<RowError>>(
        &mut self,
        file: File,
        f: &mut dyn FnMut(Parsed) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut csv = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(BufReader::with_capacity(1 << 20, file));
        let at_line = |line: u64| move |problem: String| RowError { line, problem };
        let header = csv
            .headers()
            .map_err(|e| at_line(1)(format!("unreadable header: {e}")))?;
        let fields: Vec<Field> = header
            .iter()
            .map(|name| Field::named(name.trim()))
            .collect::<Result<_, _>>()
            .map_err(at_line(1))?;
        check_required(&fields).map_err(at_line(1))?;
        let mut record = csv::StringRecord::new();
        loop {
            let line = csv.position().line();
            match csv.read_record(&mut record) {
                Ok(false) => return Ok(()),
                Err(e) => return Err(at_line(line)(format!("unreadable row: {e}")).into()),
                Ok(true) => {}
            }
            let parsed = if record.len() != fields.len() {
                Err(format!(
                    "{} values where the header names {} columns",
                    record.len(),
                    fields.len()
                ))
            } else {
                self.parser.snapshot(
                    fields
                        .iter()
                        .zip(record.iter())
                        .map(|(f, v)| (*f, Some(Cell::Text(v.into())))),
                )
            };
            f(parsed.map_err(at_line(line)))?;
        }
    }

    fn each_jsonl<E: From<RowError>>(
        &mut self,
        file: File,
        f: &mut dyn FnMut(Parsed) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut text = String::new();
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut line = 0;
        loop {
            text.clear();
            line += 1;
            let read = reader.read_line(&mut text).map_err(|e| RowError {
                line,
                problem: format!("unreadable line: {e}"),
            })?;
            if read == 0 {
                return Ok(());
            }
            if text.trim().is_empty() {
                continue;
            }
            let parsed = self.jsonl_row(&text);
            f(parsed.map_err(|problem| RowError { line, problem }))?;
        }
    }

    fn jsonl_row(&mut self, text: &str) -> Result<Snapshot, String> {
        let object: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|e| format!("not a JSON object: {e}"))?;
        let mut cells = Vec::with_capacity(object.len());
        for (name, value) in &object {
            let field = Field::named(name)?;
            let cell = match value {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some(Cell::Text(s.as_str().into())),
                serde_json::Value::Number(n) => Some(Cell::Text(n.to_string().into())),
                serde_json::Value::Bool(b) => Some(Cell::Text(b.to_string().into())),
                serde_json::Value::Array(items) => Some(Cell::List(
                    items
                        .iter()
                        .map(|i| i.as_str().map(str::to_owned).ok_or("a list of strings"))
                        .collect::<Result<_, _>>()
                        .map_err(|e| format!("{name} must be {e}"))?,
                )),
                serde_json::Value::Object(_) => return Err(format!("{name} is an object")),
            };
            cells.push((field, cell));
        }
        let fields: Vec<Field> = cells.iter().map(|(f, _)| *f).collect();
        check_required(&fields)?;
        self.parser.snapshot(cells.into_iter())
    }
}

fn check_required(fields: &[Field]) -> Result<(), String> {
    match REQUIRED.iter().find(|r| !fields.contains(r)) {
        Some(missing) => Err(format!("the required column {} is missing", missing.name())),
        None => Ok(()),
    }
}

/// The servers and days an import touched, kept while it runs: O(servers + days).
#[derive(Default)]
struct Servers {
    /// Per server: the first and the latest snapshot imported.
    seen: HashMap<Domain, (DateTime<Utc>, Snapshot)>,
    /// Per day: the earliest instant imported.
    days: BTreeMap<Day, DateTime<Utc>>,
}

impl Servers {
    fn saw(&mut self, s: Snapshot) {
        let day = self.days.entry(Day::of(s.at)).or_insert(s.at);
        *day = (*day).min(s.at);
        match self.seen.get_mut(&s.domain) {
            Some((first, latest)) => {
                *first = (*first).min(s.at);
                if s.at > latest.at {
                    *latest = s;
                }
            }
            None => {
                self.seen.insert(s.domain.clone(), (s.at, s));
            }
        }
    }

    /// Brings each server's record up to date as the crawler would have, had it read
    /// these snapshots: first and last up, and (if the latest imported snapshot is newer
    /// than the record's latest visit) its software and status. Returns how many records
    /// changed.
    fn write(&self, store: &Store) -> anyhow::Result<u64> {
        let mut changed = 0;
        for (domain, (first, latest)) in &self.seen {
            let existing = store.server(domain)?;
            let mut record = existing
                .clone()
                .unwrap_or_else(|| ServerRecord::discovered(domain.clone(), *first, None));
            record.first_discovered = record.first_discovered.min(*first);
            if record.last_attempt.is_none_or(|t| t <= latest.at) {
                record.record_up(latest.at, &latest.stats, []);
            }
            record.first_up = Some(record.first_up.map_or(*first, |t| t.min(*first)));
            record.last_up = Some(record.last_up.map_or(latest.at, |t| t.max(latest.at)));
            if existing.as_ref() != Some(&record) {
                store.put_server(&record)?;
                changed += 1;
            }
        }
        Ok(changed)
    }
}

/// Makes each imported day a census day (the reporter reports only days with a run),
/// with a run record that says where its data came from. Returns how many days were
/// new.
fn record_days(
    store: &Store,
    days: &BTreeMap<Day, DateTime<Utc>>,
    source: &str,
    options: &Options,
) -> anyhow::Result<u64> {
    let known = store.crawl_days()?;
    let now = Utc::now();
    let mut added = 0;
    for (day, at) in days
        .iter()
        .filter(|(d, _)| known.binary_search(*d).is_err())
    {
        let mut run: RunRecord = store.start_run(
            *at,
            now,
            serde_json::json!({"import": options.file.display().to_string(), "source": source}),
        )?;
        run.ended = Some(now);
        store.put_run(&run)?;
        added += 1;
        tracing::debug!(%day, "imported day recorded as a census day");
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parser() -> Parser<'static> {
        Parser {
            names: HashMap::new(),
            default_source: "file.csv",
        }
    }

    fn row(cells: &[(Field, &'static str)]) -> Result<Snapshot, String> {
        parser().snapshot(
            cells
                .iter()
                .map(|(f, v)| (*f, Some(Cell::Text((*v).into())))),
        )
    }

    #[test]
    fn instants_in_the_shapes_tools_write() {
        let noon: DateTime<Utc> = "2022-11-07T12:00:00Z".parse().unwrap();
        for text in [
            "2022-11-07T12:00:00Z",
            "2022-11-07T13:00:00+01:00",
            "2022-11-07 12:00:00",
            "2022-11-07 12:00:00.000",
            "2022-11-07 12:00:00+00:00",
        ] {
            assert_eq!(instant(text), Ok(noon), "{text}");
        }
        assert_eq!(
            instant("2022-11-07T12:00:00.123456Z")
                .unwrap()
                .timestamp_subsec_micros(),
            123_000,
            "kept to the millisecond, as stored"
        );
        assert!(instant("2022-11-07").unwrap_err().contains("RFC 3339"));
    }

    #[test]
    fn rows_normalize_names_and_keep_unknowns_unknown() {
        let s = row(&[
            (Field::Domain, "Mastodon.Social."),
            (Field::TakenAt, "2022-11-07T12:00:00Z"),
            (Field::UsersTotal, "12"),
            (Field::ActiveMonth, ""),
            (Field::Software, "Mastodon"),
            (Field::Languages, "en; de"),
            (Field::OpenRegistrations, "FALSE"),
        ])
        .unwrap();
        assert_eq!(s.domain.as_str(), "mastodon.social");
        assert_eq!(s.stats.users_total, Some(12));
        assert_eq!(s.stats.active_month, None);
        assert_eq!(s.stats.software, "mastodon");
        assert_eq!(s.stats.languages, ["en", "de"]);
        assert_eq!(s.stats.open_registrations, Some(false));
        assert_eq!(s.stats.origin.as_deref(), Some("file.csv"));
        let bad = |cells: &[(Field, &'static str)]| row(cells).unwrap_err();
        let base = [
            (Field::TakenAt, "2022-11-07T12:00:00Z"),
            (Field::UsersTotal, "1"),
        ];
        assert!(bad(&[&base[..], &[(Field::Domain, "localhost")]].concat())
            .starts_with("domain 'localhost'"));
        assert_eq!(
            bad(&[
                (Field::Domain, "a.social"),
                base[0],
                (Field::UsersTotal, "1.5")
            ]),
            "users_total '1.5' is not a whole number"
        );
        assert_eq!(bad(&base), "domain is empty");
    }
}
