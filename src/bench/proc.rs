//! What this process costs, read from Linux's `/proc`: resident memory and its peak,
//! CPU time (in total and by thread name), the machine's CPU and memory, and a
//! directory's size on disk. Every reading is `None` where `/proc` is missing, so the
//! benchmarks still run elsewhere and say "n/a".
//!
//! [`output_with_peak_rss`] measures a child process instead (the crawler run as its
//! own binary by the tests), from the kernel's accounting when it is reaped.
//!
//! Types: none; functions only.

use std::path::Path;
use std::process::{Command, Output};

/// `/proc` reports CPU time in USER_HZ ticks, which Linux fixes at 100 for user space
/// whatever the kernel's own tick rate.
const TICKS_PER_SECOND: f64 = 100.0;

/// A `kB` field of `/proc/self/status` or `/proc/meminfo`, in bytes.
fn kib_field(file: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(file).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line[field.len()..]
        .trim_start_matches(':')
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Runs `command` to its end and returns its wall time in seconds, its peak resident
/// memory and whether it succeeded. The peak is polled from the child's
/// `/proc/PID/status` (VmHWM, a high-water mark) every millisecond: the kernel's own
/// accounting of a child (`wait4`) starts from the parent's peak at the fork.
pub fn run_child(command: &mut std::process::Command) -> std::io::Result<(f64, Option<u64>, bool)> {
    let clock = std::time::Instant::now();
    let mut child = command.spawn()?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = None;
    let status = loop {
        if let Some(hwm) = kib_field(&status_file, "VmHWM") {
            peak = peak.max(Some(hwm));
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    };
    Ok((clock.elapsed().as_secs_f64(), peak, status.success()))
}

/// Resident memory now.
pub fn rss() -> Option<u64> {
    kib_field("/proc/self/status", "VmRSS")
}

/// The most resident memory since the process started or since [`reset_peak_rss`].
pub fn peak_rss() -> Option<u64> {
    kib_field("/proc/self/status", "VmHWM")
}

/// Lowers the peak-RSS mark to the current RSS (Linux 4.0+), so a step's peak is its
/// own and not an earlier step's. Returns whether the kernel accepted.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// User plus system CPU seconds of the whole process, finished threads included.
pub fn cpu_seconds() -> Option<f64> {
    stat_cpu_seconds(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// CPU seconds of the live threads whose name starts with `prefix`.
pub fn thread_cpu_seconds(prefix: &str) -> Option<f64> {
    let mut total = 0.0;
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let named = std::fs::read_to_string(task.path().join("comm"))
            .is_ok_and(|name| name.starts_with(prefix));
        if named {
            let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
            total += stat_cpu_seconds(&stat)?;
        }
    }
    Some(total)
}

/// utime + stime from a `stat` line. The command name in parentheses may itself
/// contain spaces, so fields are counted from its closing parenthesis.
fn stat_cpu_seconds(stat: &str) -> Option<f64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user + system) as f64 / TICKS_PER_SECOND)
}

/// Runs `command` to completion like [`Command::output`] (stdin closed, stdout and
/// stderr captured) and also returns the child's peak resident memory in bytes: its
/// `ru_maxrss` as `wait4` reports it when the child is reaped.
#[cfg(unix)]
pub fn output_with_peak_rss(command: &mut Command) -> std::io::Result<(Output, Option<u64>)> {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    use std::process::{ExitStatus, Stdio};

    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr_pipe = child.stderr.take();
    // Both pipes are drained at once, so a child filling one never blocks on it.
    let stderr = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = stderr_pipe {
            let _ = pipe.read_to_end(&mut buf);
        }
        buf
    });
    let mut stdout = Vec::new();
    if let Some(mut pipe) = child.stdout.take() {
        pipe.read_to_end(&mut stdout)?;
    }
    let stderr = stderr.join().unwrap_or_default();
    let pid = libc::pid_t::try_from(child.id()).map_err(std::io::Error::other)?;
    let mut status = 0;
    loop {
        // SAFETY: wait4 only writes the status and the rusage struct we pass; the child
        // is ours and not waited for elsewhere (`child` is dropped without waiting).
        let mut usage = unsafe { std::mem::zeroed::<libc::rusage>() };
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            // Linux reports ru_maxrss in KiB.
            let peak = u64::try_from(usage.ru_maxrss).ok().map(|kib| kib * 1024);
            let status = ExitStatus::from_raw(status);
            return Ok((
                Output {
                    status,
                    stdout,
                    stderr,
                },
                peak,
            ));
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// Total RAM of the machine in bytes (`MemTotal` of `/proc/meminfo`).
pub fn memory_total() -> Option<u64> {
    kib_field("/proc/meminfo", "MemTotal")
}

/// The CPU's model name (the first `model name` of `/proc/cpuinfo`).
pub fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_owned())
}

/// Bytes the files under `dir` occupy on disk (allocated blocks, so sparse files count
/// what they really use).
pub fn disk_usage(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            disk_usage(&entry.path())?
        } else {
            allocated(&meta)
        };
    }
    Ok(total)
}

#[cfg(unix)]
fn allocated(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.blocks() * 512
}

#[cfg(not(unix))]
fn allocated(meta: &std::fs::Metadata) -> u64 {
    meta.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_count_from_the_name() {
        let stat = "42 (a (weird) name) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0";
        assert_eq!(stat_cpu_seconds(stat), Some(3.0));
    }

    #[cfg(unix)]
    #[test]
    fn a_child_s_peak_rss_is_measured() {
        let mut sh = Command::new("sh");
        sh.args(["-c", "echo out; echo err >&2; exit 3"]);
        let (output, peak) = output_with_peak_rss(&mut sh).unwrap();
        assert_eq!(output.status.code(), Some(3));
        assert_eq!(output.stdout, b"out\n");
        assert_eq!(output.stderr, b"err\n");
        assert!(peak.is_some_and(|p| p > 0 && p < 1 << 30), "{peak:?}");
    }

    #[test]
    fn disk_usage_sums_nested_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/a"), vec![1u8; 10_000]).unwrap();
        assert!(disk_usage(dir.path()).unwrap() >= 10_000);
    }
}
