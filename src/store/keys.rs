//! Byte layouts of the keys in each tree (format 2), chosen so the reads the reporter
//! and the history need are point reads or range scans. Integers are big-endian so
//! keys sort as numbers.
//!
//! - blocks: `day group` (day: [`Day::to_key`]; group: server id / [`GROUP`], u32): a
//!   day's blocks are one prefix, and the blocks of each new day are appended at the
//!   end of the tree, so sled writes them once and never rewrites their pages.
//! - fresh: `day server instant` (server id u32, instant as in [`instant`])
//! - ids: domain text → server id; names: server id → domain text
//! - strings: `0x00 text` → string id; `0x01 id` → text
//! - days: day → nothing: the days that hold snapshots
//! - runs: big-endian run id
//!
//! Format 1 (read only by the upgrade): snapshots `domain 0x00 instant`.

use chrono::{DateTime, Utc};

use crate::day::Day;

/// Servers per block: about 4 KiB of snapshots per block and day, large enough that
/// sled stores few values, small enough that a block stays in one sled page.
pub(crate) const GROUP: u32 = 256;

pub(crate) fn instant(at: DateTime<Utc>) -> [u8; 8] {
    ((at.timestamp_millis() as u64) ^ (1 << 63)).to_be_bytes()
}

pub(crate) fn instant_from(bytes: &[u8]) -> Option<DateTime<Utc>> {
    let raw: [u8; 8] = bytes.try_into().ok()?;
    DateTime::from_timestamp_millis((u64::from_be_bytes(raw) ^ (1 << 63)) as i64)
}

pub(crate) fn group_of(server: u32) -> u32 {
    server / GROUP
}

pub(crate) fn block(group: u32, day: Day) -> [u8; 8] {
    let mut key = [0; 8];
    key[..4].copy_from_slice(&day.to_key());
    key[4..].copy_from_slice(&group.to_be_bytes());
    key
}

pub(crate) fn split_block(key: &[u8]) -> Option<(u32, Day)> {
    let key: [u8; 8] = key.try_into().ok()?;
    let group = u32::from_be_bytes(key[4..].try_into().ok()?);
    Some((group, Day::from_key(key[..4].try_into().ok()?)))
}

pub(crate) fn fresh(day: Day, server: u32, at: DateTime<Utc>) -> [u8; 16] {
    let mut key = [0; 16];
    key[..4].copy_from_slice(&day.to_key());
    key[4..8].copy_from_slice(&server.to_be_bytes());
    key[8..].copy_from_slice(&instant(at));
    key
}

/// The day and server of a `fresh` key.
pub(crate) fn split_fresh(key: &[u8]) -> Option<(Day, u32)> {
    let key: [u8; 16] = key.try_into().ok()?;
    Some((
        Day::from_key(key[..4].try_into().ok()?),
        u32::from_be_bytes(key[4..8].try_into().ok()?),
    ))
}

pub(crate) fn id(id: u32) -> [u8; 4] {
    id.to_be_bytes()
}

pub(crate) fn id_from(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

pub(crate) fn string(text: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(text.len() + 1);
    key.push(0);
    key.extend_from_slice(text.as_bytes());
    key
}

pub(crate) fn string_id(id: u32) -> [u8; 5] {
    let mut key = [1; 5];
    key[1..].copy_from_slice(&id.to_be_bytes());
    key
}

/// Splits a format-1 snapshot key into its domain text and instant.
pub(crate) fn split_v1_snapshot(key: &[u8]) -> Option<(&str, DateTime<Utc>)> {
    let sep = key.len().checked_sub(9)?;
    if key.get(sep) != Some(&0) {
        return None;
    }
    let domain = std::str::from_utf8(&key[..sep]).ok()?;
    Some((domain, instant_from(&key[sep + 1..])?))
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
    fn keys_split_and_sort() {
        let day = Day::from_ymd(2024, 6, 1).unwrap();
        assert_eq!(split_block(&block(7, day)), Some((7, day)));
        assert!(block(2, day) < block(1, day.add_days(1)));
        let at = day.start();
        assert_eq!(split_fresh(&fresh(day, 9, at)), Some((day, 9)));
        let mut v1 = b"a.social\0".to_vec();
        v1.extend_from_slice(&instant(at));
        assert_eq!(split_v1_snapshot(&v1), Some(("a.social", at)));
        assert_eq!(split_v1_snapshot(b"short"), None);
    }
}
