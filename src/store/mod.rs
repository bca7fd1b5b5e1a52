//! Durable history in sled: every snapshot ever taken, the state of every known server
//! and every crawl run, in format 2.
//!
//! Trees (key layouts in `keys`, the snapshot encoding in `codec`):
//! - `servers`: domain → [`ServerRecord`] (JSON)
//! - `ids` / `names`: domain ↔ compact server id; `strings`: text ↔ id for software
//!   names, versions, NodeInfo schemas and languages (see `intern`)
//! - `blocks`: (day, group of `keys::GROUP` servers) → every snapshot those servers
//!   gave that day, as one compact binary block: the full history, written in bulk
//! - `fresh`: (day, server, instant) → one snapshot the crawler recorded and not yet
//!   sealed into its block; [`Store::seal`] moves them (one block per transaction), and
//!   every read merges them, so a snapshot is visible the moment it is written
//! - `days`: day → nothing: the days that hold snapshots
//! - `runs`: run id → [`RunRecord`] (JSON)
//! - `meta`: `format` → the on-disk format version ([`FORMAT`])
//!
//! A snapshot is identified by (server, instant): storing it again replaces it when the
//! crawler records it ([`Store::record_visit`], a re-run with the same `--at`) and is a
//! no-op on the bulk path ([`Store::put_snapshots`]). A server's numbers for a day are
//! its latest snapshot of that day ([`Store::day_snapshots`]).
//!
//! Writes become durable at [`Store::flush`]; the crawler flushes in the background
//! about once a second (`crawl::commit`), so a SIGKILL loses at most the visits of the
//! last second, never a snapshot whose flush completed. sled holds an exclusive file
//! lock, so a second process fails at once with [`StoreError::Locked`]. A format-1
//! database (JSON values per snapshot) is converted by `upgrade` when opened for
//! writing, or by `fedicensus upgrade`; read-only opens refuse it with a message naming
//! that command.
//!
//! Types: [`Store`], [`StoreError`], and the records in [`record`].

pub(crate) mod codec;
pub(crate) mod intern;
pub(crate) mod keys;
pub mod record;
pub(crate) mod upgrade;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use crate::day::Day;
use crate::domain::Domain;
use crate::snapshot::{ServerStats, Snapshot};
use codec::Row;
use intern::{Interned, Interner};
pub use record::{RunRecord, ServerRecord, Status};
use sled::transaction::{TransactionError, TransactionResult};

/// sled's page cache: bounded so a crawl of 100,000+ domains stays within a few
/// hundred MiB (sled's default is 1 GiB).
const CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// The on-disk format this build writes and understands.
pub const FORMAT: u32 = 2;

/// How many days after its own a snapshot can change a derived day: a reading counts
/// for up to 30 days (gone) and judges the readings of the 67 days after it, which
/// count for 7 more, and a day's growth compares it with the day before (the
/// reporter's window, `report::WINDOW_DAYS`).
pub const REACH_DAYS: i64 = 75;

/// Why the database cannot be used; each message tells the user what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process (a crawl, a report, `serve`) has the database open: sled holds an
    /// exclusive lock on it.
    #[error(
        "the database {path} is locked by another fedicensus process (sled holds an exclusive \
         lock on {path}/db); wait for that run to finish, or point --db elsewhere"
    )]
    Locked {
        /// The database directory (`--db`).
        path: PathBuf,
    },
    /// Nothing, or an empty directory, at the path, for a command that reads an existing
    /// database.
    #[error("there is no database at {path}: run `fedicensus crawl` first, or pass --db DIR")]
    Missing {
        /// The database directory (`--db`).
        path: PathBuf,
    },
    /// The database holds no crawl run that ended, so there is no day to report or export.
    #[error("the database at {path} holds no crawl yet: run `fedicensus crawl` first")]
    Empty {
        /// The database directory (`--db`).
        path: PathBuf,
    },
    /// The path is a file, a directory of other files, or another program's sled database:
    /// it was left untouched.
    #[error(
        "{path} is not a fedicensus database (a file, a directory of other files, or another program's database) and was left untouched; \
         pass --db with a fedicensus database, or a new or empty directory for a new one"
    )]
    NotADatabase {
        /// The path given as the database (`--db`).
        path: PathBuf,
    },
    /// sled reported corruption, or a tree, key or value of ours cannot be read.
    #[error(
        "the database at {path} is corrupt ({detail}); keep a copy of the directory and \
         restore it from a backup, or start a new one with --db"
    )]
    Corrupt {
        /// The database directory (`--db`).
        path: PathBuf,
        /// What could not be read, and where.
        detail: String,
    },
    /// Written by a newer fedicensus, in a format this build cannot read.
    #[error(
        "the database at {path} was written by a newer fedicensus (format {found}, this \
         build reads {FORMAT}); upgrade fedicensus"
    )]
    TooNew {
        /// The database directory (`--db`).
        path: PathBuf,
        /// The database's format version, above [`FORMAT`].
        found: u32,
    },
    /// An older format, opened without converting it (for a report or `server`):
    /// `fedicensus upgrade`, or a crawl, converts it.
    #[error(
        "the database at {path} is in format {found}, this build uses format {FORMAT}: run \
         `fedicensus --db {path} upgrade` once to convert it (nothing is lost; a crawl also \
         converts it)"
    )]
    Outdated {
        /// The database directory (`--db`).
        path: PathBuf,
        /// The database's format version, below [`FORMAT`].
        found: u32,
    },
    /// Any other failure of sled or of the file system (permissions, a full disk, …).
    #[error("cannot use the database at {path}: {source}")]
    Io {
        /// The database directory (`--db`).
        path: PathBuf,
        /// sled's error (file system errors come wrapped in it).
        #[source]
        source: sled::Error,
    },
}

/// The result of a store operation: a [`StoreError`] says what went wrong and what to do.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An open database. Cheap to clone (sled trees and the interner are shared).
#[derive(Clone)]
pub struct Store {
    path: PathBuf,
    db: sled::Db,
    servers: sled::Tree,
    ids: sled::Tree,
    names: sled::Tree,
    strings: sled::Tree,
    blocks: sled::Tree,
    fresh: sled::Tree,
    days: sled::Tree,
    runs: sled::Tree,
    meta: sled::Tree,
    /// The tree of per-day summaries in use (named in `meta`; `rebuild` switches it).
    derived: Arc<RwLock<sled::Tree>>,
    interner: Arc<Mutex<Interner>>,
}

/// A server's first and last snapshot instants.
pub type Span = (Domain, DateTime<Utc>, DateTime<Utc>);

/// Fresh snapshots of one (group, day) on their way into the block.
struct Pending {
    slot: (u32, Day),
    keys: Vec<sled::IVec>,
    rows: Vec<Row>,
}

/// One server's latest snapshot of a day, reduced to what a comparison of two days
/// needs (see [`Store::day_counts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCount {
    /// The server's id in this database (dense, in order of first snapshot).
    pub server: u32,
    /// The server's canonical name.
    pub domain: Domain,
    /// As stored: the reporter cleans it as it cleans every software name.
    pub software: Arc<str>,
    /// Registered users, as in [`ServerStats::users_total`]: `None` if the server did not
    /// say.
    pub users_total: Option<i64>,
}

/// A tree of per-day summaries being rebuilt, not yet in use.
pub struct NextDerived {
    name: String,
    tree: sled::Tree,
    path: PathBuf,
}

impl NextDerived {
    /// Stores `day`'s encoded summary in the new tree (not read until the switch).
    pub fn put(&self, day: Day, summary: Vec<u8>) -> Result<()> {
        self.tree
            .insert(day.to_key(), summary)
            .map(drop)
            .map_err(|e| classify(&self.path, e))
    }
}

/// What an open may do to an older format.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Older {
    Upgrade,
    Refuse,
}

/// The format marker of the database whose `meta` tree this is, writing the current one
/// into a new database (`create`); a database without one is not ours.
fn read_format(meta: &sled::Tree, path: &Path, create: bool) -> Result<u32> {
    match meta.get("format").map_err(|e| classify(path, e))? {
        None if !create => Err(StoreError::NotADatabase {
            path: path.to_path_buf(),
        }),
        None => {
            meta.insert("format", &FORMAT.to_be_bytes())
                .map_err(|e| classify(path, e))?;
            Ok(FORMAT)
        }
        Some(v) => <[u8; 4]>::try_from(v.as_ref())
            .map(u32::from_be_bytes)
            .map_err(|_| StoreError::Corrupt {
                path: path.to_path_buf(),
                detail: "unreadable format marker".into(),
            }),
    }
}

impl Store {
    /// Opens the database at `path`, creating it if `path` is missing or an empty
    /// directory, and upgrading an older format (for crawls). Anything else that is not
    /// a database is refused before a file is created.
    pub fn open(path: &Path) -> Result<Store> {
        match Found::at(path)? {
            Found::Nothing => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| StoreError::Io {
                        path: path.to_path_buf(),
                        source: e.into(),
                    })?;
                }
                Self::open_inner(path, Older::Upgrade)
            }
            Found::Database => Self::open_inner(path, Older::Upgrade),
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

    /// Opens an existing database (for reports and `server`): a missing one is an
    /// error, not a new empty database; anything that is not a fedicensus database is
    /// refused untouched, and an older format with the command that converts it.
    /// Opening writes nothing, so a report works on a full disk.
    pub fn open_existing(path: &Path) -> Result<Store> {
        Self::existing(path, Older::Refuse)
    }

    /// Opens an existing database and converts an older format (`upgrade`, `rebuild`).
    pub fn open_upgrading(path: &Path) -> Result<Store> {
        Self::existing(path, Older::Upgrade)
    }

    fn existing(path: &Path, older: Older) -> Result<Store> {
        match Found::at(path)? {
            Found::Nothing => Err(StoreError::Missing {
                path: path.to_path_buf(),
            }),
            Found::Database => Self::open_inner(path, older),
            Found::Other => Err(StoreError::NotADatabase {
                path: path.to_path_buf(),
            }),
        }
    }

    /// Opens sled at `path`. With [`Older::Upgrade`] (writable opens), missing trees
    /// and the format marker are created and an older format is converted; with
    /// [`Older::Refuse`], a database lacking them is not ours and is refused, and
    /// nothing is written.
    fn open_inner(path: &Path, older: Older) -> Result<Store> {
        let create = older == Older::Upgrade;
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
        let meta = tree("meta")?;
        let found = read_format(&meta, path, create)?;
        let path_buf = path.to_path_buf();
        if found > FORMAT {
            return Err(StoreError::TooNew {
                path: path_buf,
                found,
            });
        }
        if found < FORMAT && older == Older::Refuse {
            return Err(StoreError::Outdated {
                path: path_buf,
                found,
            });
        }
        let derived_name = match meta.get("derived").map_err(|e| classify(path, e))? {
            Some(name) => String::from_utf8_lossy(&name).into_owned(),
            None => "derived".to_string(),
        };
        let store = Store {
            derived: Arc::new(RwLock::new(tree(&derived_name)?)),
            meta: meta.clone(),
            path: path_buf,
            servers: tree("servers")?,
            ids: tree("ids")?,
            names: tree("names")?,
            strings: tree("strings")?,
            blocks: tree("blocks")?,
            fresh: tree("fresh")?,
            days: tree("days")?,
            runs: tree("runs")?,
            db: db.clone(),
            interner: Arc::default(),
        };
        store.load_interner()?;
        if older == Older::Upgrade {
            if found < FORMAT {
                upgrade::from_format_1(&store, &meta)?;
            }
            // Also the leftovers of an upgrade that crashed after its format switch.
            upgrade::drop_format_1(&store)?;
        }
        Ok(store)
    }

    /// The database directory.
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

    fn corrupt(&self, detail: String) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            detail,
        }
    }

    fn decode<T: DeserializeOwned>(&self, tree: &str, key: &[u8], value: &[u8]) -> Result<T> {
        serde_json::from_slice(value).map_err(|e| {
            self.corrupt(format!(
                "undecodable entry in tree '{tree}' at key {}: {e}",
                String::from_utf8_lossy(key)
            ))
        })
    }

    fn bad_key(&self, tree: &str, key: &[u8]) -> StoreError {
        self.corrupt(format!(
            "malformed key in tree '{tree}': {}",
            String::from_utf8_lossy(key)
        ))
    }

    fn interner(&self) -> MutexGuard<'_, Interner> {
        // A panic elsewhere cannot leave the maps half-updated: each update is one
        // insert after its write succeeded.
        self.interner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn load_interner(&self) -> Result<()> {
        let mut interner = self.interner();
        for (n, entry) in self.names.iter().enumerate() {
            let (k, v) = entry.map_err(|e| self.err(e))?;
            let domain = std::str::from_utf8(&v)
                .ok()
                .and_then(|d| Domain::from_stored(d).ok());
            match (keys::id_from(&k), domain) {
                (Some(id), Some(domain)) if id as usize == n => interner.add_server(domain),
                _ => return Err(self.bad_key("names", &k)),
            }
        }
        for (n, entry) in self.strings.range(keys::string_id(0)..).enumerate() {
            let (k, v) = entry.map_err(|e| self.err(e))?;
            match (keys::id_from(&k[1..]), std::str::from_utf8(&v)) {
                (Some(id), Ok(text)) if id as usize == n => interner.add_string(text),
                _ => return Err(self.bad_key("strings", &k)),
            }
        }
        Ok(())
    }

    // ---- servers ----

    /// The record of the name `domain`, or `None` if the database does not know it.
    pub fn server(&self, domain: &Domain) -> Result<Option<ServerRecord>> {
        let key = domain.as_str().as_bytes();
        match self.servers.get(key).map_err(|e| self.err(e))? {
            Some(v) => self.decode("servers", key, &v).map(Some),
            None => Ok(None),
        }
    }

    /// Writes the record under its domain, replacing the old one, and drops the stored
    /// day summaries the change can alter.
    pub fn put_server(&self, record: &ServerRecord) -> Result<()> {
        self.invalidate_records(std::slice::from_ref(record))?;
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

    /// How many names the database knows (servers, aliases and dead names).
    pub fn server_count(&self) -> usize {
        self.servers.len()
    }

    // ---- ids ----

    /// The rows for `snapshots`, assigning ids to names and strings seen for the first
    /// time (written before any snapshot that uses them).
    fn rows(&self, snapshots: &[Snapshot]) -> Result<Vec<Row>> {
        let mut interner = self.interner();
        snapshots
            .iter()
            .map(|s| self.row(&mut interner, s))
            .collect()
    }

    fn row(&self, interner: &mut Interner, snapshot: &Snapshot) -> Result<Row> {
        let server = match interner.server(&snapshot.domain) {
            Interned::Known(id) => id,
            Interned::New(id) => {
                let name = snapshot.domain.as_str().as_bytes();
                self.names
                    .insert(keys::id(id), name)
                    .and_then(|_| self.ids.insert(name, &keys::id(id)))
                    .map_err(|e| self.err(e))?;
                interner.add_server(snapshot.domain.clone());
                id
            }
        };
        let stats = &snapshot.stats;
        let mut text = |s: &str| self.string_id(interner, s);
        Ok(Row {
            server,
            at: snapshot.at.timestamp_millis(),
            software: text(&stats.software)?,
            version: stats.version.as_deref().map(&mut text).transpose()?,
            users_total: stats.users_total,
            active_month: stats.active_month,
            active_halfyear: stats.active_halfyear,
            local_posts: stats.local_posts,
            open_registrations: stats.open_registrations,
            registrations_week: stats.registrations_week,
            schema: stats.schema.as_deref().map(&mut text).transpose()?,
            languages: stats
                .languages
                .iter()
                .map(|l| text(l))
                .collect::<Result<_>>()?,
            sources: stats.sources.clone(),
            origin: stats.origin.as_deref().map(&mut text).transpose()?,
        })
    }

    fn string_id(&self, interner: &mut Interner, text: &str) -> Result<u32> {
        match interner.string(text) {
            Interned::Known(id) => Ok(id),
            Interned::New(id) => {
                self.strings
                    .insert(keys::string_id(id), text.as_bytes())
                    .and_then(|_| self.strings.insert(keys::string(text), &keys::id(id)))
                    .map_err(|e| self.err(e))?;
                interner.add_string(text);
                Ok(id)
            }
        }
    }

    /// The snapshot a row stands for.
    fn snapshot(&self, interner: &Interner, row: &Row) -> Result<Snapshot> {
        let text = |id: u32| {
            interner
                .text(id)
                .map(|t| t.to_string())
                .ok_or_else(|| self.corrupt(format!("unknown string id {id} in a snapshot")))
        };
        let domain = interner
            .name(row.server)
            .ok_or_else(|| self.corrupt(format!("unknown server id {} in a snapshot", row.server)))?
            .clone();
        let at = DateTime::from_timestamp_millis(row.at)
            .ok_or_else(|| self.corrupt(format!("instant {} out of range", row.at)))?;
        Ok(Snapshot {
            domain,
            at,
            stats: ServerStats {
                software: text(row.software)?,
                version: row.version.map(text).transpose()?,
                users_total: row.users_total,
                active_month: row.active_month,
                active_halfyear: row.active_halfyear,
                local_posts: row.local_posts,
                open_registrations: row.open_registrations,
                registrations_week: row.registrations_week,
                schema: row.schema.map(text).transpose()?,
                languages: row
                    .languages
                    .iter()
                    .map(|&l| text(l))
                    .collect::<Result<_>>()?,
                sources: row.sources.clone(),
                origin: row.origin.map(text).transpose()?,
            },
        })
    }

    fn snapshots_of(&self, rows: &[Row]) -> Result<Vec<Snapshot>> {
        let interner = self.interner();
        rows.iter().map(|r| self.snapshot(&interner, r)).collect()
    }

    // ---- writing snapshots ----

    /// Stores one snapshot on the bulk path (see [`Store::put_snapshots`]).
    pub fn put_snapshot(&self, snapshot: &Snapshot) -> Result<()> {
        self.put_snapshots(std::slice::from_ref(snapshot)).map(drop)
    }

    /// The bulk write path (imports, benchmarks, the upgrade): merges `snapshots` into
    /// their blocks, each block read and written once per call. A snapshot already
    /// stored (same server, same instant) is left as it is. Returns how many were new.
    ///
    /// Not transactional across blocks: each block is replaced whole, so a crash leaves
    /// every block either before or after the call, and repeating the call completes it.
    pub fn put_snapshots(&self, snapshots: &[Snapshot]) -> Result<usize> {
        let mut groups: BTreeMap<(u32, Day), Vec<Row>> = BTreeMap::new();
        for (row, s) in self.rows(snapshots)?.into_iter().zip(snapshots) {
            groups
                .entry((keys::group_of(row.server), Day::of(s.at)))
                .or_default()
                .push(row);
        }
        let mut touched: Vec<Day> = groups.keys().map(|(_, day)| *day).collect();
        touched.sort();
        touched.dedup();
        for &day in &touched {
            self.invalidate(day, Some(day.add_days(REACH_DAYS)))?;
        }
        let mut added = 0;
        let mut batch = sled::Batch::default();
        let mut days = sled::Batch::default();
        let check_fresh = !self.fresh.is_empty();
        for ((group, day), mut new) in groups {
            codec::sort_rows(&mut new, false);
            if check_fresh {
                new.retain(|r| !self.in_fresh(day, r).unwrap_or(false));
            }
            let key = keys::block(group, day);
            let old = self.block(&key, day)?;
            let (merged, n) = codec::merge(old, new, false);
            if n > 0 {
                added += n;
                batch.insert(&key, codec::encode_block(&merged, day_start(day)));
                days.insert(&day.to_key(), &[]);
            }
        }
        self.blocks.apply_batch(batch).map_err(|e| self.err(e))?;
        self.days.apply_batch(days).map_err(|e| self.err(e))?;
        Ok(added)
    }

    fn in_fresh(&self, day: Day, row: &Row) -> Result<bool> {
        let at = DateTime::from_timestamp_millis(row.at).unwrap_or_default();
        self.fresh
            .contains_key(keys::fresh(day, row.server, at))
            .map_err(|e| self.err(e))
    }

    /// Stores what one visit learned, atomically: the server records it changed and
    /// the snapshot (in `fresh`, until [`Store::seal`]). A crash leaves all of it or
    /// none of it, so a record never claims a snapshot that is not there. The same
    /// server at the same instant again replaces the snapshot.
    pub fn record_visit(&self, records: &[ServerRecord], snapshot: &Snapshot) -> Result<()> {
        use sled::transaction::ConflictableTransactionError;
        use sled::Transactional;

        let encoded: Vec<(&[u8], Vec<u8>)> = records
            .iter()
            .map(|r| {
                (
                    r.domain.as_str().as_bytes(),
                    serde_json::to_vec(r).expect("records serialize"),
                )
            })
            .collect();
        let day = Day::of(snapshot.at);
        // Stale summaries go first: a crash after this and before the write only costs
        // a recomputation.
        self.invalidate_records(records)?;
        self.invalidate(day, Some(day.add_days(REACH_DAYS)))?;
        let row = self.rows(std::slice::from_ref(snapshot))?.remove(0);
        let key = keys::fresh(day, row.server, snapshot.at);
        let value = codec::encode_block(std::slice::from_ref(&row), day_start(day));
        let result =
            (&self.servers, &self.fresh, &self.days).transaction(|(servers, fresh, days)| {
                for (key, value) in &encoded {
                    servers.insert(*key, value.as_slice())?;
                }
                fresh.insert(&key, value.as_slice())?;
                days.insert(&day.to_key(), &[])?;
                Ok::<(), ConflictableTransactionError<()>>(())
            });
        self.committed(result)
    }

    /// The outcome of a transaction that never aborts.
    fn committed(&self, result: TransactionResult<(), ()>) -> Result<()> {
        match result {
            Ok(()) => Ok(()),
            Err(TransactionError::Storage(e)) => Err(self.err(e)),
            Err(TransactionError::Abort(())) => unreachable!("the transaction never aborts"),
        }
    }

    /// Moves every snapshot in `fresh` into its block, one (group, day) per
    /// transaction, so a crash during a seal leaves each snapshot in exactly one of
    /// the two places. Returns how many snapshots were moved.
    pub fn seal(&self) -> Result<usize> {
        let mut moved = 0;
        let mut pending: Option<Pending> = None;
        for entry in self.fresh.iter() {
            let (k, v) = entry.map_err(|e| self.err(e))?;
            let (day, server) = keys::split_fresh(&k).ok_or_else(|| self.bad_key("fresh", &k))?;
            let slot = (keys::group_of(server), day);
            if pending.as_ref().is_some_and(|p| p.slot != slot) {
                moved += self.seal_block(pending.take().expect("checked"))?;
            }
            let rows = self.decode_rows("fresh", &k, &v, day)?;
            let p = pending.get_or_insert_with(|| Pending {
                slot,
                keys: Vec::new(),
                rows: Vec::new(),
            });
            p.keys.push(k);
            p.rows.extend(rows);
        }
        if let Some(p) = pending {
            moved += self.seal_block(p)?;
        }
        Ok(moved)
    }

    fn seal_block(&self, pending: Pending) -> Result<usize> {
        use sled::transaction::ConflictableTransactionError;
        use sled::Transactional;

        let Pending {
            slot: (group, day),
            keys: fresh_keys,
            mut rows,
        } = pending;
        codec::sort_rows(&mut rows, true);
        let key = keys::block(group, day);
        let (merged, _) = codec::merge(self.block(&key, day)?, rows, true);
        let value = codec::encode_block(&merged, day_start(day));
        let result = (&self.blocks, &self.fresh).transaction(|(blocks, fresh)| {
            blocks.insert(&key, value.as_slice())?;
            for k in &fresh_keys {
                fresh.remove(k)?;
            }
            Ok::<(), ConflictableTransactionError<()>>(())
        });
        self.committed(result).map(|()| fresh_keys.len())
    }

    // ---- reading snapshots ----

    /// The rows of one block (empty when there is none).
    fn block(&self, key: &[u8], day: Day) -> Result<Vec<Row>> {
        match self.blocks.get(key).map_err(|e| self.err(e))? {
            Some(v) => self.decode_rows("blocks", key, &v, day),
            None => Ok(Vec::new()),
        }
    }

    fn decode_rows(&self, tree: &str, key: &[u8], value: &[u8], day: Day) -> Result<Vec<Row>> {
        codec::decode_block(value, day_start(day))
            .map_err(|e| self.corrupt(format!("{e} in tree '{tree}' at key {key:?}")))
    }

    /// Every row of `day`, sealed or fresh, sorted by (server, instant).
    fn day_rows(&self, day: Day) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        // Groups follow the day in the key, so the rows come sorted by server.
        for entry in self.blocks.scan_prefix(day.to_key()) {
            let (k, v) = entry.map_err(|e| self.err(e))?;
            rows.extend(self.decode_rows("blocks", &k, &v, day)?);
        }
        let fresh = self.fresh_rows(self.fresh.scan_prefix(day.to_key()))?;
        if fresh.is_empty() {
            return Ok(rows);
        }
        Ok(codec::merge(rows, fresh, true).0)
    }

    fn fresh_rows(&self, entries: sled::Iter) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        for entry in entries {
            let (k, v) = entry.map_err(|e| self.err(e))?;
            let (day, _) = keys::split_fresh(&k).ok_or_else(|| self.bad_key("fresh", &k))?;
            rows.extend(self.decode_rows("fresh", &k, &v, day)?);
        }
        codec::sort_rows(&mut rows, true);
        Ok(rows)
    }

    /// One server's snapshots, oldest first.
    pub fn history(&self, domain: &Domain) -> impl Iterator<Item = Result<Snapshot>> + '_ {
        let snapshots = self
            .history_rows(domain)
            .and_then(|rows| self.snapshots_of(&rows));
        each(snapshots).into_iter()
    }

    fn history_rows(&self, domain: &Domain) -> Result<Vec<Row>> {
        let Some(id) = self.interner().server_id(domain) else {
            return Ok(Vec::new());
        };
        let mut rows = Vec::new();
        for day in self.stored_days() {
            let day = day?;
            let block = self.block(&keys::block(keys::group_of(id), day), day)?;
            rows.extend(block.into_iter().filter(|r| r.server == id));
        }
        let mut fresh = self.fresh_rows(self.fresh.iter())?;
        fresh.retain(|r| r.server == id);
        let mut rows = codec::merge(rows, fresh, true).0;
        rows.sort_by_key(|r| r.at);
        Ok(rows)
    }

    /// Every snapshot, day by day (within a day by server id, then instant), streaming:
    /// one day is in memory at a time. For rebuilds and the upgrade.
    pub fn all_snapshots(&self) -> impl Iterator<Item = Result<Snapshot>> + '_ {
        self.stored_days().flat_map(move |day| {
            each(
                day.and_then(|day| self.day_rows(day))
                    .and_then(|rows| self.snapshots_of(&rows)),
            )
        })
    }

    /// Every snapshot taken on the days `since..=until`, day by day (within a day in
    /// (domain, instant) order), streaming: one day is in memory at a time. For exports.
    pub fn snapshots_between(
        &self,
        since: Day,
        until: Day,
    ) -> impl Iterator<Item = Result<Snapshot>> + '_ {
        let days = self.days.range(since.to_key()..until.add_days(1).to_key());
        self.days_of(days).flat_map(move |day| {
            let mut snapshots = day
                .and_then(|day| self.day_rows(day))
                .and_then(|rows| self.snapshots_of(&rows));
            if let Ok(snapshots) = &mut snapshots {
                snapshots.sort_by(|a, b| (&a.domain, a.at).cmp(&(&b.domain, b.at)));
            }
            each(snapshots)
        })
    }

    /// The days that hold snapshots, ascending.
    fn stored_days(&self) -> impl Iterator<Item = Result<Day>> + '_ {
        self.days_of(self.days.iter())
    }

    /// The days named by the keys of the `days` tree that `entries` walks.
    fn days_of(&self, entries: sled::Iter) -> impl Iterator<Item = Result<Day>> + '_ {
        entries.keys().map(move |k| {
            let k = k.map_err(|e| self.err(e))?;
            <[u8; 4]>::try_from(k.as_ref())
                .map(Day::from_key)
                .map_err(|_| self.bad_key("days", &k))
        })
    }

    /// How many snapshots are stored.
    pub fn snapshot_count(&self) -> usize {
        if self.fresh.is_empty() {
            // Each block starts with its row count: no need to decode the rows.
            self.blocks
                .iter()
                .values()
                .filter_map(|v| codec::row_count(&v.ok()?))
                .sum()
        } else {
            self.all_snapshots().count()
        }
    }

    /// Each server's latest snapshot taken on `day`, in name order.
    pub fn day_snapshots(&self, day: Day) -> Result<Vec<Snapshot>> {
        let mut rows = self.day_rows(day)?;
        // Rows are sorted by (server, instant): a server's last row is its latest.
        rows.reverse();
        rows.dedup_by_key(|r| r.server);
        let mut snapshots = self.snapshots_of(&rows)?;
        snapshots.sort_by(|a, b| a.domain.cmp(&b.domain));
        Ok(snapshots)
    }

    /// Each server's latest snapshot of `day` reduced to its software and users, in
    /// server-id order. Copies no string (names and software come from the dictionaries
    /// in memory), so comparing a few days server by server reads them cheaply.
    pub fn day_counts(&self, day: Day) -> Result<Vec<DayCount>> {
        let mut rows = self.day_rows(day)?;
        // Rows are sorted by (server, instant): a server's last row is its latest.
        rows.reverse();
        rows.dedup_by_key(|r| r.server);
        let interner = self.interner();
        rows.iter()
            .rev()
            .map(|r| {
                let domain = interner.name(r.server).ok_or_else(|| {
                    self.corrupt(format!("unknown server id {} in a snapshot", r.server))
                })?;
                let software = interner.text(r.software).ok_or_else(|| {
                    self.corrupt(format!("unknown string id {} in a snapshot", r.software))
                })?;
                Ok(DayCount {
                    server: r.server,
                    domain: domain.clone(),
                    software: software.clone(),
                    users_total: r.users_total,
                })
            })
            .collect()
    }

    /// Each server's first and last snapshot instant (by server name), from one pass
    /// over every block: what `rebuild` checks the records against.
    pub fn spans(&self) -> Result<Vec<Span>> {
        let mut spans: Vec<Option<(i64, i64)>> = Vec::new();
        let mut widen = |r: &Row| {
            let i = r.server as usize;
            if spans.len() <= i {
                spans.resize(i + 1, None);
            }
            let s = spans[i].get_or_insert((r.at, r.at));
            *s = (s.0.min(r.at), s.1.max(r.at));
        };
        for entry in self.blocks.iter() {
            let (k, v) = entry.map_err(|e| self.err(e))?;
            let (_, day) = keys::split_block(&k).ok_or_else(|| self.bad_key("blocks", &k))?;
            self.decode_rows("blocks", &k, &v, day)?
                .iter()
                .for_each(&mut widen);
        }
        self.fresh_rows(self.fresh.iter())?
            .iter()
            .for_each(&mut widen);
        let interner = self.interner();
        let instant = |ms: i64| DateTime::from_timestamp_millis(ms).unwrap_or_default();
        Ok(spans
            .into_iter()
            .enumerate()
            .filter_map(|(id, s)| {
                let (first, last) = s?;
                Some((
                    interner.name(id as u32)?.clone(),
                    instant(first),
                    instant(last),
                ))
            })
            .collect())
    }

    /// Each server's latest snapshot of each day in `from..=to`, for the servers of
    /// one group, day by day (within a day by server id).
    pub fn group_days(&self, group: u32, from: Day, to: Day) -> Result<Vec<(Day, Vec<Snapshot>)>> {
        let mut days: BTreeMap<Day, Vec<Row>> = BTreeMap::new();
        for day in Day::range(from, to) {
            let rows = self.block(&keys::block(group, day), day)?;
            if !rows.is_empty() {
                days.insert(day, rows);
            }
        }
        if !self.fresh.is_empty() {
            let mut fresh =
                self.fresh_rows(self.fresh.range(from.to_key()..to.add_days(1).to_key()))?;
            fresh.retain(|r| keys::group_of(r.server) == group);
            for row in fresh {
                let day = Day::of(DateTime::from_timestamp_millis(row.at).unwrap_or_default());
                let rows = days.entry(day).or_default();
                *rows = codec::merge(std::mem::take(rows), vec![row], true).0;
            }
        }
        let interner = self.interner();
        days.into_iter()
            .map(|(day, mut rows)| {
                rows.reverse();
                rows.dedup_by_key(|r| r.server);
                rows.reverse();
                let snapshots = rows
                    .iter()
                    .map(|r| self.snapshot(&interner, r))
                    .collect::<Result<_>>()?;
                Ok((day, snapshots))
            })
            .collect()
    }

    /// How many groups of servers hold snapshots (group ids are `0..groups()`).
    pub fn groups(&self) -> u32 {
        let servers = self.interner().server_count();
        servers.div_ceil(keys::GROUP)
    }

    /// The last day that holds a snapshot.
    pub fn last_day(&self) -> Result<Option<Day>> {
        let last = self.days.last().map_err(|e| self.err(e))?;
        Ok(last.and_then(|(k, _)| Some(Day::from_key(k.as_ref().try_into().ok()?))))
    }

    // ---- per-day summaries ----

    fn derived(&self) -> sled::Tree {
        self.derived
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The stored summaries of the days in `from..=to` (days without one are absent).
    pub fn derived_range(&self, from: Day, to: Day) -> Result<Vec<(Day, sled::IVec)>> {
        self.derived()
            .range(from.to_key()..=to.to_key())
            .map(|entry| {
                let (k, v) = entry.map_err(|e| self.err(e))?;
                let day =
                    <[u8; 4]>::try_from(k.as_ref()).map_err(|_| self.bad_key("derived", &k))?;
                Ok((Day::from_key(day), v))
            })
            .collect()
    }

    /// Stores `day`'s encoded summary in the tree in use, replacing any.
    pub fn put_derived(&self, day: Day, summary: Vec<u8>) -> Result<()> {
        self.derived()
            .insert(day.to_key(), summary)
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Removes the summaries of the days `from..=to` (`to` None: every later day).
    fn invalidate(&self, from: Day, to: Option<Day>) -> Result<()> {
        let derived = self.derived();
        let range = match to {
            Some(to) => derived.range(from.to_key()..=to.to_key()),
            None => derived.range(from.to_key()..),
        };
        for key in range.keys() {
            derived
                .remove(key.map_err(|e| self.err(e))?)
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// Removes the summaries a change of these records can alter: a different first-up
    /// time, opt-out or alias status changes every day from the server's first up.
    fn invalidate_records(&self, records: &[ServerRecord]) -> Result<()> {
        for record in records {
            let old = self.server(&record.domain)?;
            if let Some(from) = record.reach_of_change(old.as_ref()) {
                self.invalidate(from, None)?;
            }
        }
        Ok(())
    }

    /// A new, empty tree for a rebuild of the summaries.
    pub fn next_derived(&self) -> Result<NextDerived> {
        let current = self.meta.get("derived").map_err(|e| self.err(e))?;
        let name = if current.as_deref() == Some(b"derived.b") {
            "derived.a"
        } else {
            "derived.b"
        };
        // A leftover of a rebuild that crashed before its switch.
        self.db.drop_tree(name).map_err(|e| self.err(e))?;
        let tree = self.db.open_tree(name).map_err(|e| self.err(e))?;
        Ok(NextDerived {
            name: name.to_string(),
            tree,
            path: self.path.clone(),
        })
    }

    /// Makes a rebuilt tree of summaries the one in use, in one durable step, and
    /// drops the old one.
    pub fn switch_derived(&self, next: NextDerived) -> Result<()> {
        self.flush()?;
        let old_name = self.meta.get("derived").map_err(|e| self.err(e))?;
        self.meta
            .insert("derived", next.name.as_bytes())
            .map_err(|e| self.err(e))?;
        self.flush()?;
        *self.derived.write().unwrap_or_else(|e| e.into_inner()) = next.tree;
        let old_name = old_name.map_or("derived".to_string(), |n| {
            String::from_utf8_lossy(&n).into_owned()
        });
        self.db
            .drop_tree(old_name.as_bytes())
            .map_err(|e| self.err(e))?;
        Ok(())
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

    /// Writes the run record under its id, replacing the old one (a run's end rewrites its
    /// start).
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

/// A list, or its error as the only item: for iterators of results.
fn each<T>(items: Result<Vec<T>>) -> Vec<Result<T>> {
    match items {
        Ok(items) => items.into_iter().map(Ok).collect(),
        Err(e) => vec![Err(e)],
    }
}

/// The first instant of `day` in Unix milliseconds: the base of a block's instants.
fn day_start(day: Day) -> i64 {
    day.start().timestamp_millis()
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
                version: Some("4.3.2".into()),
                users_total: Some(users),
                languages: vec!["en".into(), "de".into()],
                sources: vec![Source::NodeInfo, Source::InstanceV2],
                ..Default::default()
            },
        }
    }

    fn visit(store: &Store, snapshot: &Snapshot) {
        store.record_visit(&[], snapshot).unwrap();
    }

    #[test]
    fn history_and_days_from_blocks_and_fresh() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        visit(&store, &snap("a.social", "2022-10-27T10:00:00Z", 10));
        visit(&store, &snap("a.social", "2022-10-27T18:00:00Z", 12));
        // An older snapshot arriving late must not replace the day's latest.
        visit(&store, &snap("a.social", "2022-10-27T12:00:00Z", 11));
        assert_eq!(store.seal().unwrap(), 3);
        visit(&store, &snap("a.social", "2022-10-28T01:00:00Z", 13));
        visit(&store, &snap("b.social", "2022-10-27T05:00:00Z", 5));
        // The same instant again replaces instead of duplicating, sealed or not.
        visit(&store, &snap("b.social", "2022-10-27T05:00:00Z", 6));
        visit(&store, &snap("a.social", "2022-10-27T10:00:00Z", 10));

        let check = |store: &Store| {
            let a = Domain::parse("a.social").unwrap();
            let users: Vec<i64> = store
                .history(&a)
                .map(|s| s.unwrap().stats.users_total.unwrap())
                .collect();
            assert_eq!(users, vec![10, 11, 12, 13]);
            assert_eq!(store.snapshot_count(), 5);
            assert_eq!(store.all_snapshots().count(), 5);
            let day = Day::from_ymd(2022, 10, 27).unwrap();
            let got: Vec<(String, i64)> = store
                .day_snapshots(day)
                .unwrap()
                .iter()
                .map(|s| (s.domain.to_string(), s.stats.users_total.unwrap()))
                .collect();
            assert_eq!(got, vec![("a.social".into(), 12), ("b.social".into(), 6)]);
        };
        check(&store);
        store.seal().unwrap();
        check(&store);
        let first = store.history(&Domain::parse("b.social").unwrap()).next();
        assert_eq!(
            first.unwrap().unwrap(),
            snap("b.social", "2022-10-27T05:00:00Z", 6)
        );
    }

    #[test]
    fn bulk_writes_count_only_new_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let batch: Vec<Snapshot> = (0..600)
            .map(|i| snap(&format!("s{i}.social"), "2022-10-27T10:00:00Z", i))
            .collect();
        assert_eq!(store.put_snapshots(&batch).unwrap(), 600);
        assert_eq!(store.put_snapshots(&batch[100..300]).unwrap(), 0);
        let mut changed = batch[5].clone();
        changed.stats.users_total = Some(-1);
        assert_eq!(store.put_snapshots(&[changed]).unwrap(), 0, "a no-op");
        assert_eq!(store.snapshot_count(), 600);
        let day = store.day_snapshots(Day::of(batch[0].at)).unwrap();
        assert_eq!(day.len(), 600);
        assert!(day.contains(&batch[5]));
    }

    #[test]
    fn bulk_puts_store_each_instant_once_and_ranges_stream_by_day() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let first = [
            snap("b.social", "2024-01-02T08:00:00Z", 1),
            snap("a.social", "2024-01-02T09:00:00Z", 2),
            snap("a.social", "2024-01-01T09:00:00Z", 3),
            snap("a.social", "2024-01-02T07:00:00Z", 4),
        ];
        assert_eq!(store.put_snapshots(&first).unwrap(), 4);
        let mut again = first.to_vec();
        again[0].stats.users_total = Some(99);
        again.push(snap("c.social", "2024-01-03T00:00:00Z", 5));
        assert_eq!(
            store.put_snapshots(&again).unwrap(),
            1,
            "only c.social is new"
        );
        let b = Domain::parse("b.social").unwrap();
        assert_eq!(
            store.history(&b).next().unwrap().unwrap(),
            first[0],
            "kept as it was"
        );
        let day2 = Day::from_ymd(2024, 1, 2).unwrap();
        assert_eq!(
            store.day_snapshots(day2).unwrap(),
            vec![first[1].clone(), first[0].clone()]
        );

        let between = |from: Day, to: Day| -> Vec<(String, i64)> {
            store
                .snapshots_between(from, to)
                .map(|s| {
                    let s = s.unwrap();
                    (s.domain.to_string(), s.stats.users_total.unwrap())
                })
                .collect()
        };
        let pairs = |v: &[(&str, i64)]| {
            v.iter()
                .map(|(d, n)| (d.to_string(), *n))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            between(
                Day::from_ymd(2023, 1, 1).unwrap(),
                Day::from_ymd(2025, 1, 1).unwrap()
            ),
            pairs(&[
                ("a.social", 3),
                ("a.social", 4),
                ("a.social", 2),
                ("b.social", 1),
                ("c.social", 5)
            ])
        );
        assert_eq!(
            between(day2, day2),
            pairs(&[("a.social", 4), ("a.social", 2), ("b.social", 1)])
        );
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
            visit(&store, &snap("a.social", "2022-10-27T10:00:00Z", 10));
            store
                .put_snapshot(&snap("b.social", "2022-10-27T10:00:00Z", 10))
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
        assert_eq!(store.snapshot_count(), 2);
        assert_eq!(
            store.history(&Domain::parse("b.social").unwrap()).count(),
            1
        );
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
        let s = snap("b.social", "2022-10-27T10:00:00Z", 1);
        store.put_snapshot(&s).unwrap();
        store
            .blocks
            .insert(keys::block(0, Day::of(s.at)), &b"\x02\x09"[..])
            .unwrap();
        let err = store.day_snapshots(Day::of(s.at)).unwrap_err().to_string();
        assert!(err.contains("corrupt") && err.contains("blocks"), "{err}");
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
    fn a_newer_format_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let db = sled::open(&path).unwrap();
            db.open_tree("meta")
                .unwrap()
                .insert("format", &9u32.to_be_bytes())
                .unwrap();
            db.flush().unwrap();
        }
        let err = Store::open(&path).err().expect("refused").to_string();
        assert!(err.contains("newer fedicensus (format 9"), "{err}");
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
        assert_eq!(store.day_snapshots(day).unwrap(), vec![snapshot]);
    }
}
