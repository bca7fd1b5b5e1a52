//! Durable history in sled: every snapshot ever taken, the state of every known server,
//! every crawl run, and a per-day rollup so reports never scan all history.
//!
//! Trees (key layouts in [`keys`]):
//! - `servers`: domain → [`ServerRecord`] (JSON)
//! - `snapshots`: (domain, instant) → [`ServerStats`] (JSON): the full history
//! - `daily`: (day, domain) → the server's latest snapshot taken on that day: the
//!   rollup the reporter reads. Derived from `snapshots`; [`Store::rebuild_daily`]
//!   recreates it.
//! - `runs`: run id → [`RunRecord`] (JSON)
//! - `meta`: `format` → the on-disk format version
//!
//! Writes become durable at [`Store::flush`]; the crawler flushes in the background about
//! once a second (`crawl::commit`), so a SIGKILL loses at most the visits of the last
//! second, never a snapshot whose flush completed. sled holds an exclusive file lock, so a second process fails at once with
//! [`StoreError::Locked`].
//!
//! Types: [`Store`], [`StoreError`], and the records in [`record`].

pub mod keys;
pub mod record;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::day::Day;
use crate::domain::Domain;
use crate::snapshot::{ServerStats, Snapshot};
pub use record::{RunRecord, ServerRecord, Status};

/// sled's page cache: bounded so a crawl of 100,000+ domains stays within a few
/// hundred MiB (sled's default is 1 GiB).
const CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// The on-disk format this build writes and understands.
const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the database {path} is locked by another fedicensus process (sled holds an exclusive \
         lock on {path}/db); wait for that run to finish, or point --db elsewhere"
    )]
    Locked { path: PathBuf },
    #[error("there is no database at {path}: run `fedicensus crawl` first, or pass --db DIR")]
    Missing { path: PathBuf },
    #[error("the database at {path} holds no crawl yet: run `fedicensus crawl` first")]
    Empty { path: PathBuf },
    #[error(
        "{path} is not a fedicensus database (it holds other files) and was left untouched; \
         pass --db with a fedicensus database, or a new or empty directory for a new one"
    )]
    NotADatabase { path: PathBuf },
    #[error(
        "the database at {path} is corrupt ({detail}); keep a copy of the directory and \
         restore it from a backup, or start a new one with --db"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "the database at {path} was written by a newer fedicensus (format {found}, this \
         build reads {FORMAT}); upgrade fedicensus"
    )]
    TooNew { path: PathBuf, found: u32 },
    #[error("cannot use the database at {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: sled::Error,
    },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The value of a `daily` entry: the instant is kept because the key only has the day.
/// Nested rather than flattened: serde buffers flattened structs through a map, which
/// made decoding the rollup the largest cost of a report.
#[derive(Serialize, Deserialize)]
struct DailyValue {
    at: DateTime<Utc>,
    stats: ServerStats,
}

/// An open database. Cheap to clone (sled trees are reference counted).
#[derive(Clone)]
pub struct Store {
    path: PathBuf,
    db: sled::Db,
    servers: sled::Tree,
    snapshots: sled::Tree,
    daily: sled::Tree,
    runs: sled::Tree,
}

impl Store {
    /// Opens the database at `path`, creating it if `path` is missing or an empty
    /// directory (for crawls). Anything else that is not a database is refused before
    /// a file is created.
    pub fn open(path: &Path) -> Result<Store> {
        match Found::at(path)? {
            Found::Nothing => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| StoreError::Io {
                        path: path.to_path_buf(),
                        source: e.into(),
                    })?;
                }
                Self::open_inner(path, true)
            }
            Found::Database => Self::open_inner(path, true),
            Found::Other => Err(StoreError::NotADatabase {
                path: path.to_path_buf(),
            }),
        }
    }

    /// Whether `path` holds anything (a database or other files), judged without
    /// opening it.
    pub fn exists(path: &Path) -> bool {
        !matches!(Found::at(path), Ok(Found::Nothing))
    }

    /// Opens an existing database (for reports, `server` and `rebuild`): a missing one
    /// is an error, not a new empty database, and anything that is not a fedicensus
    /// database is refused untouched. Opening writes nothing, so a report works on a
    /// full disk.
    pub fn open_existing(path: &Path) -> Result<Store> {
        match Found::at(path)? {
            Found::Nothing => Err(StoreError::Missing {
                path: path.to_path_buf(),
            }),
            Found::Database => Self::open_inner(path, false),
            Found::Other => Err(StoreError::NotADatabase {
                path: path.to_path_buf(),
            }),
        }
    }

    /// Opens sled at `path`. With `create`, missing trees and the format marker are
    /// created; without, a database lacking them is not ours and is refused, and
    /// nothing is written.
    fn open_inner(path: &Path, create: bool) -> Result<Store> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|e| classify(path, e))?;
        let names = db.tree_names();
        let has = |name: &str| names.iter().any(|n| n.as_ref() == name.as_bytes());
        // sled always has its default tree: any other tree without our marker belongs
        // to another program.
        if !has("meta") && (!create || names.len() > 1) {
            return Err(StoreError::NotADatabase {
                path: path.to_path_buf(),
            });
        }
        let tree = |name: &str| {
            if !create && !has(name) {
                return Err(StoreError::Corrupt {
                    path: path.to_path_buf(),
                    detail: format!("the tree '{name}' is missing"),
                });
            }
            db.open_tree(name).map_err(|e| classify(path, e))
        };
        let store = Store {
            path: path.to_path_buf(),
            servers: tree("servers")?,
            snapshots: tree("snapshots")?,
            daily: tree("daily")?,
            runs: tree("runs")?,
            db: db.clone(),
        };
        let meta = tree("meta")?;
        match meta.get("format").map_err(|e| classify(path, e))? {
            None if !create => {
                return Err(StoreError::NotADatabase {
                    path: path.to_path_buf(),
                })
            }
            None => {
                meta.insert("format", &FORMAT.to_be_bytes())
                    .map_err(|e| classify(path, e))?;
            }
            Some(v) => {
                let found = <[u8; 4]>::try_from(v.as_ref())
                    .map(u32::from_be_bytes)
                    .map_err(|_| StoreError::Corrupt {
                        path: path.to_path_buf(),
                        detail: "unreadable format marker".into(),
                    })?;
                if found > FORMAT {
                    return Err(StoreError::TooNew {
                        path: path.to_path_buf(),
                        found,
                    });
                }
            }
        }
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes the database after writes and opens it once more before leaving it.
    /// sled 0.34 has no read-only mode, and its first open after writes extends the
    /// file (it rewrites the unused tail of its last log segment) and writes a new
    /// snapshot file; later opens rewrite only those same bytes in place. Doing the
    /// first open here leaves nothing for a report or `server` to add: no file grows and
    /// no byte changes, so they work on a full disk.
    pub fn close(self) -> Result<()> {
        self.flush()?;
        let path = self.path.clone();
        drop(self);
        // sled releases its lock as its threads wind down: wait briefly for it.
        for attempt in 0.. {
            match sled::Config::new()
                .path(&path)
                .cache_capacity(CACHE_BYTES)
                .open()
            {
                Ok(db) => return db.flush().map(drop).map_err(|e| classify(&path, e)),
                Err(e) => match classify(&path, e) {
                    StoreError::Locked { .. } if attempt < 50 => {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                    other => return Err(other),
                },
            }
        }
        unreachable!("the loop returns")
    }

    /// Makes every write so far durable.
    pub fn flush(&self) -> Result<()> {
        self.db.flush().map(drop).map_err(|e| self.err(e))
    }

    fn err(&self, e: sled::Error) -> StoreError {
        classify(&self.path, e)
    }

    fn decode<T: DeserializeOwned>(&self, tree: &str, key: &[u8], value: &[u8]) -> Result<T> {
        serde_json::from_slice(value).map_err(|e| StoreError::Corrupt {
            path: self.path.clone(),
            detail: format!(
                "undecodable entry in tree '{tree}' at key {}: {e}",
                String::from_utf8_lossy(key)
            ),
        })
    }

    // ---- servers ----

    pub fn server(&self, domain: &Domain) -> Result<Option<ServerRecord>> {
        let key = domain.as_str().as_bytes();
        match self.servers.get(key).map_err(|e| self.err(e))? {
            Some(v) => self.decode("servers", key, &v).map(Some),
            None => Ok(None),
        }
    }

    pub fn put_server(&self, record: &ServerRecord) -> Result<()> {
        let value = serde_json::to_vec(record).expect("records serialize");
        self.servers
            .insert(record.domain.as_str().as_bytes(), value)
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Every known name, in name order.
    pub fn servers(&self) -> impl Iterator<Item = Result<ServerRecord>> + '_ {
        self.servers.iter().map(move |entry| {
            let (k, v) = entry.map_err(|e| self.err(e))?;
            self.decode("servers", &k, &v)
        })
    }

    pub fn server_count(&self) -> usize {
        self.servers.len()
    }

    // ---- snapshots ----

    /// Stores a snapshot and keeps the day's rollup pointing at the server's latest
    /// snapshot of that day. Storing the same (domain, instant) again overwrites it.
    ///
    /// Not transactional (bulk loads and rebuilds are about three times faster so); the
    /// crawler uses [`Store::record_visit`].
    pub fn put_snapshot(&self, snapshot: &Snapshot) -> Result<()> {
        let stats = serde_json::to_vec(&snapshot.stats).expect("stats serialize");
        self.snapshots
            .insert(keys::snapshot(&snapshot.domain, snapshot.at), stats)
            .map_err(|e| self.err(e))?;
        let (key, value) = daily_entry(snapshot);
        let old = self.daily.get(&key).map_err(|e| self.err(e))?;
        if supersedes(old.as_deref(), snapshot.at) {
            self.daily.insert(key, value).map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// Stores what one visit learned, atomically: the server records it changed, the
    /// snapshot and the day's rollup entry. A crash leaves all of it or none of it, so
    /// a record never claims a snapshot that is not there.
    pub fn record_visit(&self, records: &[ServerRecord], snapshot: &Snapshot) -> Result<()> {
        use sled::transaction::{ConflictableTransactionError, TransactionError};
        use sled::Transactional;

        let records: Vec<(&[u8], Vec<u8>)> = records
            .iter()
            .map(|r| {
                (
                    r.domain.as_str().as_bytes(),
                    serde_json::to_vec(r).expect("records serialize"),
                )
            })
            .collect();
        let snapshot_key = keys::snapshot(&snapshot.domain, snapshot.at);
        let stats = serde_json::to_vec(&snapshot.stats).expect("stats serialize");
        let (daily_key, daily_value) = daily_entry(snapshot);
        let result = (&self.servers, &self.snapshots, &self.daily).transaction(
            |(servers, snapshots, daily)| {
                for (key, value) in &records {
                    servers.insert(*key, value.as_slice())?;
                }
                snapshots.insert(snapshot_key.as_slice(), stats.as_slice())?;
                if supersedes(daily.get(&daily_key)?.as_deref(), snapshot.at) {
                    daily.insert(daily_key.as_slice(), daily_value.as_slice())?;
                }
                Ok::<(), ConflictableTransactionError<()>>(())
            },
        );
        match result {
            Ok(()) => Ok(()),
            Err(TransactionError::Storage(e)) => Err(self.err(e)),
            Err(TransactionError::Abort(())) => unreachable!("the transaction never aborts"),
        }
    }

    /// One server's snapshots, oldest first.
    pub fn history(&self, domain: &Domain) -> impl Iterator<Item = Result<Snapshot>> + '_ {
        let domain = domain.clone();
        self.snapshots
            .scan_prefix(keys::history_prefix(&domain))
            .map(move |entry| {
                let (k, v) = entry.map_err(|e| self.err(e))?;
                let (_, at) =
                    keys::split_snapshot(&k).ok_or_else(|| self.bad_key("snapshots", &k))?;
                Ok(Snapshot {
                    domain: domain.clone(),
                    at,
                    stats: self.decode("snapshots", &k, &v)?,
                })
            })
    }

    /// Every snapshot, in (domain, instant) order: for exports and rebuilds.
    pub fn all_snapshots(&self) -> impl Iterator<Item = Result<Snapshot>> + '_ {
        self.snapshots.iter().map(move |entry| {
            let (k, v) = entry.map_err(|e| self.err(e))?;
            let (domain, at) =
                keys::split_snapshot(&k).ok_or_else(|| self.bad_key("snapshots", &k))?;
            let domain = Domain::from_stored(domain).map_err(|_| self.bad_key("snapshots", &k))?;
            Ok(Snapshot {
                domain,
                at,
                stats: self.decode("snapshots", &k, &v)?,
            })
        })
    }

    pub fn snapshot_count(&self) -> usize {
        self.snapshots.len()
    }

    fn bad_key(&self, tree: &str, key: &[u8]) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            detail: format!(
                "malformed key in tree '{tree}': {}",
                String::from_utf8_lossy(key)
            ),
        }
    }

    /// Each server's latest snapshot taken on `day` (from the rollup: one prefix scan,
    /// whatever the length of the history).
    pub fn day_snapshots(&self, day: Day) -> Result<Vec<Snapshot>> {
        self.daily
            .scan_prefix(day.to_key())
            .map(|entry| {
                let (k, v) = entry.map_err(|e| self.err(e))?;
                let (_, domain) = keys::split_daily(&k).ok_or_else(|| self.bad_key("daily", &k))?;
                let domain = Domain::from_stored(domain).map_err(|_| self.bad_key("daily", &k))?;
                let value: DailyValue = self.decode("daily", &k, &v)?;
                Ok(Snapshot {
                    domain,
                    at: value.at,
                    stats: value.stats,
                })
            })
            .collect()
    }

    /// Recreates the daily rollup from the full history. Costs one pass over every
    /// snapshot; returns how many rollup entries were written.
    pub fn rebuild_daily(&self) -> Result<usize> {
        self.daily.clear().map_err(|e| self.err(e))?;
        // Snapshots come in (domain, instant) order, so the last one written for a
        // (day, domain) is that day's latest: no need to read the entry back.
        for snapshot in self.all_snapshots() {
            let (key, value) = daily_entry(&snapshot?);
            self.daily.insert(key, value).map_err(|e| self.err(e))?;
        }
        self.flush()?;
        Ok(self.daily.len())
    }

    // ---- runs ----

    /// Records the start of a run and returns it with its new id.
    pub fn start_run(
        &self,
        at: DateTime<Utc>,
        started: DateTime<Utc>,
        options: serde_json::Value,
    ) -> Result<RunRecord> {
        let id = self.db.generate_id().map_err(|e| self.err(e))?;
        let run = RunRecord {
            id,
            started,
            at,
            ended: None,
            options,
            summary: None,
        };
        self.put_run(&run)?;
        self.flush()?;
        Ok(run)
    }

    pub fn put_run(&self, run: &RunRecord) -> Result<()> {
        let value = serde_json::to_vec(run).expect("runs serialize");
        self.runs
            .insert(run.id.to_be_bytes(), value)
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunRecord>> {
        self.runs
            .iter()
            .map(|entry| {
                let (k, v) = entry.map_err(|e| self.err(e))?;
                self.decode("runs", &k, &v)
            })
            .collect()
    }

    /// The UTC days on which crawls were recorded (by their `--at` instant), ascending.
    /// Only runs that ended count: a run that crashed or was killed before its end is
    /// no census of its day.
    pub fn crawl_days(&self) -> Result<Vec<Day>> {
        let mut days: Vec<Day> = self
            .runs()?
            .iter()
            .filter(|r| r.ended.is_some())
            .map(|r| Day::of(r.at))
            .collect();
        days.sort();
        days.dedup();
        Ok(days)
    }
}

/// What a database path holds, judged from the directory listing alone (before sled
/// opens it, since opening creates files).
enum Found {
    /// Nothing yet: a missing path or an empty directory.
    Nothing,
    /// sled's files: its `conf` (which starts with `segment_size:`) and `db`.
    Database,
    Other,
}

impl Found {
    fn at(path: &Path) -> Result<Found> {
        let io = |e: std::io::Error| StoreError::Io {
            path: path.to_path_buf(),
            source: e.into(),
        };
        if !path.exists() {
            return Ok(Found::Nothing);
        }
        if !path.is_dir() {
            return Ok(Found::Other);
        }
        if std::fs::read_dir(path).map_err(io)?.next().is_none() {
            return Ok(Found::Nothing);
        }
        let mut conf = [0u8; 13];
        let sled_conf = std::fs::File::open(path.join("conf"))
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut conf))
            .is_ok_and(|()| &conf == b"segment_size:");
        Ok(if sled_conf && path.join("db").is_file() {
            Found::Database
        } else {
            Found::Other
        })
    }
}

/// The `daily` key and value for a snapshot.
fn daily_entry(snapshot: &Snapshot) -> (Vec<u8>, Vec<u8>) {
    let value = DailyValue {
        at: snapshot.at,
        stats: snapshot.stats.clone(),
    };
    (
        keys::daily(Day::of(snapshot.at), &snapshot.domain),
        serde_json::to_vec(&value).expect("daily serializes"),
    )
}

/// Whether a snapshot taken at `at` replaces the rollup entry `old`: the day keeps its
/// latest snapshot, whatever order they arrive in. An undecodable entry is replaced:
/// the rollup is derived data (`rebuild` recreates it).
fn supersedes(old: Option<&[u8]>, at: DateTime<Utc>) -> bool {
    /// Only the instant is needed; the stats are skipped unread.
    #[derive(Deserialize)]
    struct Instant {
        at: DateTime<Utc>,
    }
    old.and_then(|bytes| serde_json::from_slice::<Instant>(bytes).ok())
        .is_none_or(|old| old.at <= at)
}

/// Turns sled's errors into ones that tell the user what to do.
fn classify(path: &Path, e: sled::Error) -> StoreError {
    let path = path.to_path_buf();
    match e {
        sled::Error::Io(ref io)
            if io.kind() == std::io::ErrorKind::WouldBlock
                || io.to_string().contains("could not acquire lock") =>
        {
            StoreError::Locked { path }
        }
        sled::Error::Corruption { .. } | sled::Error::Unsupported(_) => StoreError::Corrupt {
            detail: e.to_string(),
            path,
        },
        other => StoreError::Io {
            path,
            source: other,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Source;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn snap(domain: &str, when: &str, users: i64) -> Snapshot {
        Snapshot {
            domain: Domain::from_stored(domain).unwrap(),
            at: at(when),
            stats: ServerStats {
                software: "mastodon".into(),
                users_total: Some(users),
                sources: vec![Source::NodeInfo],
                ..Default::default()
            },
        }
    }

    #[test]
    fn history_and_daily_rollup() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        store
            .put_snapshot(&snap("a.social", "2022-10-27T10:00:00Z", 10))
            .unwrap();
        store
            .put_snapshot(&snap("a.social", "2022-10-27T18:00:00Z", 12))
            .unwrap();
        // An older snapshot arriving late must not replace the day's latest.
        store
            .put_snapshot(&snap("a.social", "2022-10-27T12:00:00Z", 11))
            .unwrap();
        store
            .put_snapshot(&snap("a.social", "2022-10-28T01:00:00Z", 13))
            .unwrap();
        store
            .put_snapshot(&snap("b.social", "2022-10-27T05:00:00Z", 5))
            .unwrap();
        // The same instant again overwrites instead of duplicating.
        store
            .put_snapshot(&snap("b.social", "2022-10-27T05:00:00Z", 6))
            .unwrap();

        let a = Domain::parse("a.social").unwrap();
        let users: Vec<i64> = store
            .history(&a)
            .map(|s| s.unwrap().stats.users_total.unwrap())
            .collect();
        assert_eq!(users, vec![10, 11, 12, 13]);
        assert_eq!(store.snapshot_count(), 5);

        let day = Day::from_ymd(2022, 10, 27).unwrap();
        let rollup = store.day_snapshots(day).unwrap();
        let got: Vec<(String, i64)> = rollup
            .iter()
            .map(|s| (s.domain.to_string(), s.stats.users_total.unwrap()))
            .collect();
        assert_eq!(got, vec![("a.social".into(), 12), ("b.social".into(), 6)]);

        store.rebuild_daily().unwrap();
        assert_eq!(store.day_snapshots(day).unwrap(), rollup);
        assert_eq!(store.day_snapshots(day.add_days(1)).unwrap().len(), 1);
    }

    #[test]
    fn survives_reopen_and_reports_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        assert!(matches!(
            Store::open_existing(&path),
            Err(StoreError::Missing { .. })
        ));
        {
            let store = Store::open(&path).unwrap();
            store
                .put_snapshot(&snap("a.social", "2022-10-27T10:00:00Z", 10))
                .unwrap();
            let run = store
                .start_run(
                    at("2022-10-27T10:00:00Z"),
                    Utc::now(),
                    serde_json::json!({}),
                )
                .unwrap();
            assert_eq!(store.runs().unwrap(), vec![run.clone()]);
            // A run that never ended (killed, crashed) is no census of its day.
            assert_eq!(store.crawl_days().unwrap(), vec![]);
            let mut run = run;
            run.ended = Some(at("2022-10-27T11:00:00Z"));
            store.put_run(&run).unwrap();
            store.flush().unwrap();
        }
        let store = Store::open_existing(&path).unwrap();
        assert_eq!(store.snapshot_count(), 1);
        assert_eq!(
            store.crawl_days().unwrap(),
            vec![Day::from_ymd(2022, 10, 27).unwrap()]
        );
    }

    #[test]
    fn what_is_not_a_database_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("db"), b"my thesis").unwrap();
        for err in [Store::open(&path).err(), Store::open_existing(&path).err()] {
            assert!(
                matches!(err, Some(StoreError::NotADatabase { .. })),
                "{err:?}"
            );
        }
        let names: Vec<_> = std::fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["db"]);
        assert_eq!(std::fs::read(path.join("db")).unwrap(), b"my thesis");

        // A sled database of another program: refused by reports, and not adopted.
        let other = dir.path().join("other");
        sled::open(&other).unwrap().open_tree("theirs").unwrap();
        for err in [
            Store::open(&other).err(),
            Store::open_existing(&other).err(),
        ] {
            assert!(
                matches!(err, Some(StoreError::NotADatabase { .. })),
                "{err:?}"
            );
        }
    }

    #[test]
    fn corrupt_value_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        store.servers.insert("a.social", &b"{not json"[..]).unwrap();
        let err = store
            .server(&Domain::parse("a.social").unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("corrupt") && err.contains("servers"), "{err}");
    }

    #[test]
    fn second_open_is_locked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let _first = Store::open(&path).unwrap();
        let err = Store::open(&path).err().expect("second open must fail");
        assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
        assert!(err
            .to_string()
            .contains("locked by another fedicensus process"));
    }

    #[test]
    fn a_visit_is_recorded_with_its_records() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let snapshot = snap("a.social", "2022-10-27T10:00:00Z", 10);
        let mut record = ServerRecord::discovered(snapshot.domain.clone(), snapshot.at, None);
        record.record_up(snapshot.at, &snapshot.stats, []);
        store
            .record_visit(std::slice::from_ref(&record), &snapshot)
            .unwrap();
        assert_eq!(store.server(&snapshot.domain).unwrap(), Some(record));
        assert_eq!(store.history(&snapshot.domain).count(), 1);
        let day = Day::of(snapshot.at);
        assert_eq!(store.day_snapshots(day).unwrap(), vec![snapshot.clone()]);
        // A corrupt rollup entry is replaced, not fatal: the rollup is derived data.
        store
            .daily
            .insert(keys::daily(day, &snapshot.domain), &b"junk"[..])
            .unwrap();
        store.put_snapshot(&snapshot).unwrap();
        assert_eq!(store.day_snapshots(day).unwrap(), vec![snapshot]);
    }
}
