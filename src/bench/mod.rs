//! Benchmarks anyone can rerun: [`crawl`] drives the real crawler against a simulated
//! fediverse on loopback, [`report`] writes a synthetic multi-year history through the
//! real store and times the reporter on it. They measure and print; nothing here judges
//! the numbers, so the tests run them at toy sizes only to keep the code alive.
//!
//! Modules: [`crawl`], [`report`], [`export`] (export and import), [`history`] (the
//! synthetic history), [`proc`] (memory, CPU and disk readings of this process).
//!
//! Types: [`Scratch`] (the benchmark's database directory), [`Machine`] (what the
//! numbers were measured on), [`Phase`] (one timed step), [`Table`] (the printed
//! form); functions [`bytes()`], [`seconds`], [`per_second`].

pub mod crawl;
pub mod export;
pub mod history;
pub mod proc;
pub mod report;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use serde::Serialize;

use crate::number::thousands;

/// Where a benchmark keeps its database: a fresh directory under the system temp
/// directory, removed when dropped, or a directory the caller asked to keep.
pub struct Scratch {
    dir: PathBuf,
    keep: bool,
}

impl Scratch {
    /// `keep`: use this directory and leave it behind; it must not hold anything yet,
    /// so a benchmark never writes into a real census.
    pub fn new(keep: Option<&Path>) -> anyhow::Result<Scratch> {
        let (dir, keep) = match keep {
            Some(dir) => {
                let occupied = std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some());
                if occupied {
                    bail!(
                        "--keep {}: the directory is not empty; name a new one",
                        dir.display()
                    );
                }
                (dir.to_path_buf(), true)
            }
            None => {
                let nanos = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.subsec_nanos());
                let name = format!("fedicensus-bench-{}-{nanos}", std::process::id());
                (std::env::temp_dir().join(name), false)
            }
        };
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Scratch { dir, keep })
    }

    /// The database directory inside the scratch directory.
    pub fn db(&self) -> PathBuf {
        self.dir.join("db")
    }

    /// The scratch directory itself: the database is its `db` subdirectory, and a benchmark
    /// puts its other files (seed list, exports) beside it.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory, if it outlives the benchmark.
    pub fn kept(&self) -> Option<PathBuf> {
        self.keep.then(|| self.dir.clone())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.keep {
            // Best effort: a leftover directory in the temp dir harms nobody.
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The machine the numbers come from, printed with them because they mean little
/// without it.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Logical CPUs this process may use (`available_parallelism`), 1 if unknown.
    pub cores: usize,
    /// CPU model, the `model name` of `/proc/cpuinfo`; `None` where that is unreadable.
    pub cpu: Option<String>,
    /// Total RAM in bytes, `MemTotal` of `/proc/meminfo`; `None` where that is unreadable.
    pub memory_bytes: Option<u64>,
}

impl Machine {
    /// Reads the machine this process runs on.
    pub fn this() -> Machine {
        Machine {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu: proc::cpu_model(),
            memory_bytes: proc::memory_total(),
        }
    }

    fn describe(&self) -> String {
        let mut text = format!("{} cores", self.cores);
        if let Some(cpu) = &self.cpu {
            text = format!("{text}, {cpu}");
        }
        if let Some(memory) = self.memory_bytes {
            text = format!("{text}, {} RAM", bytes(memory));
        }
        text
    }
}

/// One timed step and the most memory the process held during it.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    /// What the step did, as the table prints it (e.g. `write history`).
    pub name: String,
    /// Wall-clock seconds the step took (for a report run as its own process, the whole
    /// process's run).
    pub secs: f64,
    /// Peak RSS during the step where the kernel can reset the mark
    /// (`/proc/self/clear_refs`), else since the process started.
    pub peak_rss_bytes: Option<u64>,
}

impl Phase {
    /// Runs `step`, timing it and tracking its memory peak.
    pub fn measure<T>(name: impl Into<String>, step: impl FnOnce() -> T) -> (Phase, T) {
        proc::reset_peak_rss();
        let clock = Instant::now();
        let out = step();
        let phase = Phase {
            name: name.into(),
            secs: clock.elapsed().as_secs_f64(),
            peak_rss_bytes: proc::peak_rss(),
        };
        (phase, out)
    }

    fn row(&self) -> [String; 2] {
        [
            self.name.clone(),
            format!(
                "{:>10}   peak RSS {}",
                seconds(self.secs),
                optional_bytes(self.peak_rss_bytes)
            ),
        ]
    }
}

/// A titled two-column table for people; `--json` prints the result structs instead.
#[derive(Debug, Clone)]
pub struct Table {
    /// The benchmark and its parameters, then the machine on a second line.
    pub title: String,
    /// Label and value of each line, in print order.
    pub rows: Vec<[String; 2]>,
}

impl Table {
    fn new(title: String, machine: &Machine) -> Table {
        Table {
            title: format!("{title}\n  on {}", machine.describe()),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, label: &str, value: String) {
        self.rows.push([label.to_owned(), value]);
    }

    /// The closing rows of every benchmark: the database's size and where it was kept.
    fn database(&mut self, db_bytes: u64, kept: Option<&Path>) {
        self.row("DB size on disk", bytes(db_bytes));
        if let Some(dir) = kept {
            self.row("database kept in", dir.join("db").display().to_string());
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.title)?;
        let width = self.rows.iter().map(|[l, _]| l.len()).max().unwrap_or(0);
        for [label, value] in &self.rows {
            writeln!(f, "  {label:<width$}  {value}")?;
        }
        Ok(())
    }
}

/// `1536` → `"1.5 KiB"`: binary units, as `ps` and `du -h` count.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn optional_bytes(n: Option<u64>) -> String {
    n.map_or_else(|| "n/a".to_owned(), bytes)
}

/// Durations to a precision people read: milliseconds below a second.
pub fn seconds(secs: f64) -> String {
    if secs < 1.0 {
        format!("{:.0} ms", secs * 1000.0)
    } else {
        format!("{secs:.1} s")
    }
}

/// `count / secs`, 0 for an instant step rather than infinity.
pub fn per_second(count: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        count as f64 / secs
    } else {
        0.0
    }
}

fn count(n: u64) -> String {
    thousands(n as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_read_like_du() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
        assert_eq!(seconds(0.25), "250 ms");
        assert_eq!(seconds(12.34), "12.3 s");
        assert_eq!(per_second(10, 0.0), 0.0);
    }

    #[test]
    fn scratch_is_removed_unless_kept() {
        let scratch = Scratch::new(None).unwrap();
        let dir = scratch.dir().to_path_buf();
        assert!(dir.is_dir());
        drop(scratch);
        assert!(!dir.exists());

        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("kept");
        let kept = Scratch::new(Some(&dir)).unwrap();
        assert_eq!(kept.kept(), Some(dir.clone()));
        std::fs::write(kept.db(), "x").unwrap();
        drop(kept);
        assert!(dir.join("db").exists());
        assert!(
            Scratch::new(Some(&dir)).is_err(),
            "a non-empty directory is refused"
        );
    }
}
