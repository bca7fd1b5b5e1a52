//! Byte layouts of the keys in each tree, chosen so the scans the reporter needs are
//! range scans: one server's history is a prefix, one day's rollup is a prefix.
//!
//! - snapshots: `domain 0x00 millis` (millis: big-endian i64 with the sign bit flipped)
//! - daily: `day domain` (day: [`Day::to_key`])
//! - runs: big-endian run id

use chrono::{DateTime, Utc};

use crate::day::Day;
use crate::domain::Domain;

pub fn instant(at: DateTime<Utc>) -> [u8; 8] {
    ((at.timestamp_millis() as u64) ^ (1 << 63)).to_be_bytes()
}

pub fn instant_from(bytes: &[u8]) -> Option<DateTime<Utc>> {
    let raw: [u8; 8] = bytes.try_into().ok()?;
    DateTime::from_timestamp_millis((u64::from_be_bytes(raw) ^ (1 << 63)) as i64)
}

/// The prefix under which all snapshots of `domain` sort. The 0x00 separator cannot
/// occur in a domain, so `a.social` never shares a prefix with `a.social.example`.
pub fn history_prefix(domain: &Domain) -> Vec<u8> {
    let mut key = Vec::with_capacity(domain.as_str().len() + 9);
    key.extend_from_slice(domain.as_str().as_bytes());
    key.push(0);
    key
}

pub fn snapshot(domain: &Domain, at: DateTime<Utc>) -> Vec<u8> {
    let mut key = history_prefix(domain);
    key.extend_from_slice(&instant(at));
    key
}

/// Splits a snapshot key into its domain text and instant.
pub fn split_snapshot(key: &[u8]) -> Option<(&str, DateTime<Utc>)> {
    let sep = key.len().checked_sub(9)?;
    if key.get(sep) != Some(&0) {
        return None;
    }
    let domain = std::str::from_utf8(&key[..sep]).ok()?;
    Some((domain, instant_from(&key[sep + 1..])?))
}

pub fn daily(day: Day, domain: &Domain) -> Vec<u8> {
    let mut key = Vec::with_capacity(4 + domain.as_str().len());
    key.extend_from_slice(&day.to_key());
    key.extend_from_slice(domain.as_str().as_bytes());
    key
}

pub fn split_daily(key: &[u8]) -> Option<(Day, &str)> {
    let day: [u8; 4] = key.get(..4)?.try_into().ok()?;
    Some((Day::from_key(day), std::str::from_utf8(&key[4..]).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_sort_and_round_trip() {
        let a = DateTime::from_timestamp_millis(-5).unwrap();
        let b = DateTime::from_timestamp_millis(0).unwrap();
        let c = DateTime::from_timestamp_millis(1_700_000_000_000).unwrap();
        assert!(instant(a) < instant(b) && instant(b) < instant(c));
        assert_eq!(instant_from(&instant(c)), Some(c));
    }

    #[test]
    fn snapshot_keys_split() {
        let d = Domain::parse("a.social").unwrap();
        let at = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        let key = snapshot(&d, at);
        assert_eq!(split_snapshot(&key), Some(("a.social", at)));
        assert!(key.starts_with(&history_prefix(&d)));
        let longer = Domain::parse("a.social.example.com").unwrap();
        assert!(!snapshot(&longer, at).starts_with(&history_prefix(&d)));
        assert_eq!(split_snapshot(b"short"), None);
    }
}
