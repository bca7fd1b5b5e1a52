//! Bounds for the numeric flags: every number a user can pass is checked by clap
//! against a range the program can honor, so a typo is a usage error (exit 2) that
//! names the range, never a panic deep in the rate limiter or the timer.
//!
//! Integer flags use clap's own ranges (`value_parser!(u32).range(..)`) with the
//! limits here; decimal flags use [`per_host_rps`] and [`timeout_secs`].
//!
//! Types: none; the limits and the parsers.

use std::ops::RangeInclusive;

/// Requests per second to one host: from one every 1,000 seconds to 1,000 a second
/// (the rate limiter's period must stay a positive whole number of nanoseconds).
pub(crate) const PER_HOST_RPS: RangeInclusive<f64> = 0.001..=1000.0;
/// A request's time budget, in seconds: a tenth of a second to an hour.
pub(crate) const TIMEOUT_SECS: RangeInclusive<f64> = 0.1..=3600.0;
/// Requests in flight in total.
pub(crate) const CONCURRENCY: RangeInclusive<i64> = 1..=10_000;
/// Known domains at which discovery stops (`--max-servers`).
pub(crate) const MAX_SERVERS: RangeInclusive<i64> = 1..=100_000_000;
/// New domains per registrable domain per run (`--max-new-per-domain`).
pub(crate) const MAX_NEW_PER_DOMAIN: RangeInclusive<i64> = 1..=1_000_000;
/// New domains one server's peer list may introduce per run (`--max-new-per-server`).
pub(crate) const MAX_NEW_PER_SERVER: RangeInclusive<i64> = 1..=1_000_000;
/// Servers of a benchmark's generated world.
pub(crate) const BENCH_SERVERS: RangeInclusive<u64> = 1..=10_000_000;

pub(crate) fn per_host_rps(s: &str) -> Result<f64, String> {
    decimal(s, PER_HOST_RPS)
}

pub(crate) fn timeout_secs(s: &str) -> Result<f64, String> {
    decimal(s, TIMEOUT_SECS)
}

/// A decimal number within `range`; the error names the range (clap quotes the input).
fn decimal(s: &str, range: RangeInclusive<f64>) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if range.contains(&v) => Ok(v),
        _ => Err(format!(
            "expected a number from {} to {}",
            range.start(),
            range.end()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_outside_their_range_are_refused() {
        assert_eq!(per_host_rps("2.5"), Ok(2.5));
        assert_eq!(timeout_secs("3600"), Ok(3600.0));
        for bad in ["1e10", "0", "-1", "NaN", "inf", "0.0001", "x", ""] {
            let err = per_host_rps(bad).unwrap_err();
            assert_eq!(err, "expected a number from 0.001 to 1000", "{bad}");
        }
        assert!(timeout_secs("1e300").is_err());
        assert!(timeout_secs("0.01").is_err());
    }

    /// The slowest rate still gives the rate limiter a whole, positive period.
    #[test]
    fn the_rate_bounds_give_a_usable_period() {
        for rps in [*PER_HOST_RPS.start(), *PER_HOST_RPS.end()] {
            let period = std::time::Duration::from_secs_f64(1.0 / rps);
            assert!(
                period >= std::time::Duration::from_micros(999),
                "{rps}: {period:?}"
            );
        }
    }
}
