//! The one place where snapshots become bytes and back: format 2's compact binary rows
//! and the blocks that group them.
//!
//! A [`Row`] is one snapshot with its server and strings replaced by integer ids (see
//! [`super::intern`]). A block is every row of one group of servers on one UTC day,
//! sorted by (server id, instant), written as:
//!
//! ```text
//! block  := 0x02 varint(rows) row*
//! row    := varint(server − previous server)        (the first row: server − 0)
//!           zigzag(at − previous at)                 (milliseconds; the first: at − day start)
//!           varint(flags) varint(software)
//!           [varint(version)] [zigzag(users_total)] [zigzag(active_month)]
//!           [zigzag(active_halfyear)] [zigzag(local_posts)] [zigzag(registrations_week)]
//!           [varint(schema)] [varint(languages) varint(language)*] [varint(sources)]
//!           [varint(origin)]
//! flags  := bit 0 version, 1 users_total, 2 active_month, 3 active_halfyear,
//!           4 local_posts, 5 open_registrations known, 6 open_registrations value,
//!           7 registrations_week, 8 schema, 9 languages, 10 sources, 11 origin
//! sources:= count | code₀ << 3 | code₁ << 5 | …  (NodeInfo 0, InstanceV1 1,
//!           InstanceV2 2, Activity 3; order kept)
//! ```
//!
//! varint is LEB128 (7 bits a byte, low first); zigzag maps signed to unsigned so small
//! magnitudes of either sign take one byte. A typical snapshot takes about 15 bytes.
//!
//! Types: [`Row`], [`CodecError`]; functions [`encode_block`], [`decode_block`],
//! [`row_count`], [`merge`], [`sort_rows`].

use crate::snapshot::Source;

/// The first byte of every block, so a later encoding can be told apart.
const BLOCK_TAG: u8 = 0x02;

/// One snapshot, with the server and every string as an id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Row {
    pub(crate) server: u32,
    /// Unix milliseconds.
    pub(crate) at: i64,
    pub(crate) software: u32,
    pub(crate) version: Option<u32>,
    pub(crate) users_total: Option<i64>,
    pub(crate) active_month: Option<i64>,
    pub(crate) active_halfyear: Option<i64>,
    pub(crate) local_posts: Option<i64>,
    pub(crate) open_registrations: Option<bool>,
    pub(crate) registrations_week: Option<i64>,
    pub(crate) schema: Option<u32>,
    pub(crate) languages: Vec<u32>,
    pub(crate) sources: Vec<Source>,
    /// Where an imported snapshot came from, as a string id.
    pub(crate) origin: Option<u32>,
}

/// A block that does not decode: truncated, or from an unknown encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("undecodable snapshot block: {0}")]
pub(crate) struct CodecError(&'static str);

const VERSION: u32 = 1;
const USERS: u32 = 1 << 1;
const MONTH: u32 = 1 << 2;
const HALFYEAR: u32 = 1 << 3;
const POSTS: u32 = 1 << 4;
const OPEN_KNOWN: u32 = 1 << 5;
const OPEN: u32 = 1 << 6;
const REG_WEEK: u32 = 1 << 7;
const SCHEMA: u32 = 1 << 8;
const LANGUAGES: u32 = 1 << 9;
const SOURCES: u32 = 1 << 10;
const ORIGIN: u32 = 1 << 11;

/// Encodes `rows` (sorted by server then instant, all on the day starting at
/// `day_start` Unix milliseconds) as one block.
pub(crate) fn encode_block(rows: &[Row], day_start: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + rows.len() * 16);
    out.push(BLOCK_TAG);
    put(&mut out, rows.len() as u64);
    let (mut server, mut at) = (0u32, day_start);
    for row in rows {
        debug_assert!(row.server >= server, "rows must be sorted");
        put(&mut out, u64::from(row.server - server));
        put_signed(&mut out, row.at - at);
        (server, at) = (row.server, row.at);
        encode_row(&mut out, row);
    }
    out
}

fn encode_row(out: &mut Vec<u8>, row: &Row) {
    let numbers = [
        (VERSION, row.version.map(i64::from)),
        (USERS, row.users_total),
        (MONTH, row.active_month),
        (HALFYEAR, row.active_halfyear),
        (POSTS, row.local_posts),
        (REG_WEEK, row.registrations_week),
        (SCHEMA, row.schema.map(i64::from)),
    ];
    let mut flags = numbers
        .iter()
        .filter(|(_, v)| v.is_some())
        .fold(0, |f, (bit, _)| f | bit);
    if let Some(open) = row.open_registrations {
        flags |= OPEN_KNOWN | if open { OPEN } else { 0 };
    }
    if !row.languages.is_empty() {
        flags |= LANGUAGES;
    }
    if !row.sources.is_empty() {
        flags |= SOURCES;
    }
    if row.origin.is_some() {
        flags |= ORIGIN;
    }
    put(out, u64::from(flags));
    put(out, u64::from(row.software));
    for (bit, value) in numbers {
        match value {
            // Dictionary ids are unsigned; counts may be negative.
            Some(v) if bit == VERSION || bit == SCHEMA => put(out, v as u64),
            Some(v) => put_signed(out, v),
            None => {}
        }
    }
    if !row.languages.is_empty() {
        put(out, row.languages.len() as u64);
        for &l in &row.languages {
            put(out, u64::from(l));
        }
    }
    if !row.sources.is_empty() {
        put(out, pack_sources(&row.sources));
    }
    if let Some(origin) = row.origin {
        put(out, u64::from(origin));
    }
}

/// Decodes a block written by [`encode_block`] for the day starting at `day_start`.
pub(crate) fn decode_block(bytes: &[u8], day_start: i64) -> Result<Vec<Row>, CodecError> {
    let mut r = Reader { bytes, pos: 0 };
    if r.byte()? != BLOCK_TAG {
        return Err(CodecError("unknown block encoding"));
    }
    let n = r.varint()?;
    // Every row takes at least four bytes: a guard against absurd counts.
    if n > bytes.len() as u64 {
        return Err(CodecError("row count exceeds the block"));
    }
    let mut rows = Vec::with_capacity(n as usize);
    let (mut server, mut at) = (0u32, day_start);
    for _ in 0..n {
        server = server
            .checked_add(r.u32()?)
            .ok_or(CodecError("server id overflow"))?;
        at = at
            .checked_add(r.signed()?)
            .ok_or(CodecError("instant overflow"))?;
        rows.push(decode_row(&mut r, server, at)?);
    }
    if r.pos != bytes.len() {
        return Err(CodecError("trailing bytes"));
    }
    Ok(rows)
}

/// The number of rows in a block, read from its header alone.
pub(crate) fn row_count(bytes: &[u8]) -> Option<usize> {
    let mut r = Reader { bytes, pos: 0 };
    (r.byte().ok()? == BLOCK_TAG).then_some(())?;
    usize::try_from(r.varint().ok()?).ok()
}

fn decode_row(r: &mut Reader, server: u32, at: i64) -> Result<Row, CodecError> {
    let flags = r.u32()?;
    let mut row = Row {
        server,
        at,
        software: r.u32()?,
        ..Row::default()
    };
    let has = |bit: u32| flags & bit != 0;
    if has(VERSION) {
        row.version = Some(r.u32()?);
    }
    for (bit, field) in [
        (USERS, &mut row.users_total),
        (MONTH, &mut row.active_month),
        (HALFYEAR, &mut row.active_halfyear),
        (POSTS, &mut row.local_posts),
        (REG_WEEK, &mut row.registrations_week),
    ] {
        if has(bit) {
            *field = Some(r.signed()?);
        }
    }
    if has(OPEN_KNOWN) {
        row.open_registrations = Some(has(OPEN));
    }
    if has(SCHEMA) {
        row.schema = Some(r.u32()?);
    }
    if has(LANGUAGES) {
        let n = r.varint()?;
        if n > (r.bytes.len() - r.pos) as u64 {
            return Err(CodecError("language count exceeds the block"));
        }
        row.languages = (0..n).map(|_| r.u32()).collect::<Result<_, _>>()?;
    }
    if has(SOURCES) {
        row.sources = unpack_sources(r.varint()?)?;
    }
    if has(ORIGIN) {
        row.origin = Some(r.u32()?);
    }
    Ok(row)
}

/// Merges `new` rows into `old` (both sorted by server and instant). A row whose
/// (server, instant) is already there replaces it when `replace`, else is dropped.
/// Returns the merged rows and how many of `new` were not there before.
pub(crate) fn merge(old: Vec<Row>, new: Vec<Row>, replace: bool) -> (Vec<Row>, usize) {
    let mut out = Vec::with_capacity(old.len() + new.len());
    let mut added = 0;
    let mut old = old.into_iter().peekable();
    for row in new {
        while let Some(o) = old.next_if(|o| (o.server, o.at) < (row.server, row.at)) {
            out.push(o);
        }
        match old.next_if(|o| (o.server, o.at) == (row.server, row.at)) {
            Some(o) if !replace => out.push(o),
            Some(_) => out.push(row),
            None => {
                added += 1;
                out.push(row);
            }
        }
    }
    out.extend(old);
    (out, added)
}

/// Sorts rows by (server, instant) and keeps, of rows with equal keys, the last given
/// when `last_wins`, else the first.
pub(crate) fn sort_rows(rows: &mut Vec<Row>, last_wins: bool) {
    if last_wins {
        rows.reverse();
    }
    // Stable: among equal keys the preferred row comes first and survives dedup.
    rows.sort_by_key(|r| (r.server, r.at));
    rows.dedup_by_key(|r| (r.server, r.at));
}

fn source_code(s: Source) -> u64 {
    match s {
        Source::NodeInfo => 0,
        Source::InstanceV1 => 1,
        Source::InstanceV2 => 2,
        Source::Activity => 3,
    }
}

fn pack_sources(sources: &[Source]) -> u64 {
    // A snapshot lists each document at most once, so at most 4 (and 7 fit the count).
    let sources = &sources[..sources.len().min(7)];
    sources
        .iter()
        .enumerate()
        .fold(sources.len() as u64, |acc, (i, &s)| {
            acc | source_code(s) << (3 + 2 * i)
        })
}

fn unpack_sources(packed: u64) -> Result<Vec<Source>, CodecError> {
    let n = (packed & 7) as usize;
    (0..n)
        .map(|i| match (packed >> (3 + 2 * i)) & 3 {
            0 => Ok(Source::NodeInfo),
            1 => Ok(Source::InstanceV1),
            2 => Ok(Source::InstanceV2),
            _ => Ok(Source::Activity),
        })
        .collect()
}

fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_signed(out: &mut Vec<u8>, v: i64) {
    put(out, ((v << 1) ^ (v >> 63)) as u64);
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, CodecError> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or(CodecError("truncated block"))?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, CodecError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(CodecError("overlong varint"))
    }

    fn u32(&mut self) -> Result<u32, CodecError> {
        u32::try_from(self.varint()?).map_err(|_| CodecError("id out of range"))
    }

    fn signed(&mut self) -> Result<i64, CodecError> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn row(server: u32, at: i64) -> Row {
        Row {
            server,
            at,
            software: 1,
            users_total: Some(100),
            ..Row::default()
        }
    }

    #[test]
    fn a_typical_snapshot_is_small() {
        let day = 1_700_000_000_000 - 1_700_000_000_000 % 86_400_000;
        let rows: Vec<Row> = (0..256)
            .map(|s| Row {
                server: s,
                at: day + 43_200_000,
                software: 3,
                version: Some(17),
                users_total: Some(1200),
                active_month: Some(340),
                active_halfyear: Some(610),
                local_posts: Some(48_000),
                open_registrations: Some(true),
                schema: Some(2),
                sources: vec![Source::NodeInfo, Source::InstanceV2],
                ..Row::default()
            })
            .collect();
        let block = encode_block(&rows, day);
        assert!(block.len() < 256 * 20, "{} bytes", block.len());
        assert_eq!(decode_block(&block, day).unwrap(), rows);
    }

    #[test]
    fn merge_keeps_or_replaces_and_counts() {
        let old = vec![row(1, 10), row(3, 10)];
        let mut newer = row(3, 10);
        newer.users_total = Some(5);
        let (kept, added) = merge(old.clone(), vec![row(2, 10), newer.clone()], false);
        assert_eq!(added, 1);
        assert_eq!(kept, vec![row(1, 10), row(2, 10), row(3, 10)]);
        let (replaced, added) = merge(old, vec![newer.clone()], true);
        assert_eq!((replaced, added), (vec![row(1, 10), newer], 0));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [
            &b""[..],
            b"\x02",
            b"\x02\x05\x00",
            b"\x01\x00",
            b"\x02\xff\xff\xff",
        ] {
            assert!(decode_block(bytes, 0).is_err(), "{bytes:?}");
        }
    }

    fn any_row() -> impl Strategy<Value = Row> {
        (
            (
                0u32..5000,
                0i64..86_400_000,
                0u32..50,
                proptest::option::of(0u32..900),
            ),
            proptest::array::uniform4(proptest::option::of(any::<i64>())),
            (
                proptest::option::of(any::<bool>()),
                proptest::option::of(any::<i64>()),
                proptest::option::of(0u32..9),
                proptest::collection::vec(0u32..300, 0..4),
                proptest::collection::vec(0u8..4, 0..5),
                proptest::option::of(0u32..20),
            ),
        )
            .prop_map(
                |(
                    (server, at, software, version),
                    n,
                    (open, reg, schema, languages, src, origin),
                )| Row {
                    server,
                    at: 1_700_006_400_000 + at,
                    software,
                    version,
                    users_total: n[0],
                    active_month: n[1],
                    active_halfyear: n[2],
                    local_posts: n[3],
                    open_registrations: open,
                    registrations_week: reg,
                    schema,
                    languages,
                    sources: src
                        .into_iter()
                        .map(|c| {
                            [
                                Source::NodeInfo,
                                Source::InstanceV1,
                                Source::InstanceV2,
                                Source::Activity,
                            ][c as usize]
                        })
                        .collect(),
                    origin,
                },
            )
    }

    proptest! {
        #[test]
        fn blocks_round_trip(mut rows in proptest::collection::vec(any_row(), 0..40)) {
            sort_rows(&mut rows, true);
            let block = encode_block(&rows, 1_700_006_400_000);
            prop_assert_eq!(decode_block(&block, 1_700_006_400_000).unwrap(), rows);
        }
    }
}
