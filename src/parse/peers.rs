//! Peer lists: the domains a server knows, which is how the crawler discovers servers.
//!
//! A list is whatever a server chooses to send (up to the 16 MiB body cap, which holds
//! four million `"a",` entries), so memory must be bounded by what is kept, not by what
//! is served. Entries are read one at a time as serde streams the JSON array
//! (`SeqAccess`), each checked on the spot through [`Domain::parse`]; only valid names
//! not seen before in this visit are kept. Junk (numbers, nulls, objects without a name,
//! invalid names) is counted and dropped; repeats cost nothing. Nothing else of a list
//! is ever allocated: no `serde_json::Value`, no vector of raw strings.
//!
//! Caps (per visit, across every page of it): at most [`MAX_PEERS`] names are kept, and
//! at most [`MAX_ENTRIES`] entries of one document (or [`MAX_PAGE_ENTRIES`] of one
//! Misskey page) are examined; the rest of the document is skipped unread and counted in
//! [`PeerSet::skipped`]. A document that turns out not to be a list (an error object, a
//! truncated body) adds nothing: what it had added is taken back.
//!
//! Types: [`PeerSet`] (the names of one visit and its counters), [`Read`] (what one
//! document added), [`Found`] (what was read since the crawl last took it); the private
//! serde seeds `List`, `Entry`, `Field`, `Nullable` and `KeyIs` do the work.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::ParseError;
use crate::domain::Domain;

/// Names one visit keeps. The largest real lists (mastodon.social, misskey.io) hold
/// well under this; a name costs about 100 bytes kept, so a visit keeps at most ~10 MB.
pub const MAX_PEERS: usize = 100_000;
/// Entries examined in one document, valid or not: bounds the CPU a list costs.
pub const MAX_ENTRIES: usize = 4 * MAX_PEERS;
/// Entries examined in one Misskey page: the crawler asks for 100 a page, so a page
/// with more is ignoring the request.
pub const MAX_PAGE_ENTRIES: usize = 1_000;
/// Distinct invalid entries remembered, so junk repeated a million times is judged once.
const JUNK_MEMO: usize = 4_096;

/// The distinct valid names read in one visit, in the order first served.
#[derive(Debug, Default)]
pub struct PeerSet {
    names: Vec<Domain>,
    seen: HashSet<Domain>,
    /// Invalid entries already judged (at most [`JUNK_MEMO`]).
    junk: HashSet<Box<str>>,
    /// Entries that are not valid public domain names.
    pub rejected: usize,
    /// Entries not examined because a cap was reached.
    pub skipped: usize,
}

/// What one document did to a [`PeerSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    /// Entries in the document's list (examined or skipped).
    pub entries: usize,
    /// Names that were new to the set.
    pub added: usize,
}

/// The names and counts a [`PeerSet`] read since they were last taken ([`PeerSet::take`]).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Found {
    /// Valid names new to the visit, in the order first served.
    pub names: Vec<Domain>,
    /// Entries that are not valid public domain names.
    pub rejected: usize,
    /// Entries not examined because a cap was reached.
    pub skipped: usize,
}

impl Found {
    /// True when nothing was read: no names, and no rejected or skipped entries.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.rejected == 0 && self.skipped == 0
    }
}

impl PeerSet {
    /// An empty set, for one visit.
    pub fn new() -> PeerSet {
        PeerSet::default()
    }

    /// The names kept and not taken yet, in the order first served.
    pub fn names(&self) -> &[Domain] {
        &self.names
    }

    /// Takes what was read since the previous take, so a visit can hand a paged list
    /// over page by page. The set still knows every name taken: a later page repeating
    /// one adds nothing, and [`MAX_PEERS`] counts them.
    pub fn take(&mut self) -> Found {
        Found {
            names: std::mem::take(&mut self.names),
            rejected: std::mem::take(&mut self.rejected),
            skipped: std::mem::take(&mut self.skipped),
        }
    }

    /// `/api/v1/instance/peers` (Mastodon, GoToSocial, Pleroma…): an array of domain
    /// strings, or of objects with a `domain` (GoToSocial with `?filter=`). An error
    /// object such as a 401 body is a [`ParseError::Shape`].
    pub fn read_mastodon(&mut self, body: &[u8]) -> Result<Read, ParseError> {
        let mark = self.mark();
        let result = stream(body, List::new(self, "domain", MAX_ENTRIES));
        self.settle(mark, result)
    }

    /// One page of Misskey's `POST /api/federation/instances`: an array of objects with
    /// a `host`.
    pub fn read_misskey_page(&mut self, body: &[u8]) -> Result<Read, ParseError> {
        let mark = self.mark();
        let result = stream(body, List::new(self, "host", MAX_PAGE_ENTRIES));
        self.settle(mark, result)
    }

    /// Lemmy's `/api/v3/federated_instances`: only `federated_instances.linked`, never
    /// `blocked` (servers Lemmy refuses) nor `allowed` (an allowlist, not peers). Items
    /// are objects with a `domain` (0.18+) or plain strings (older).
    /// `federated_instances: null` (federation disabled) is an empty list; a body without
    /// `federated_instances` (an error object) is a [`ParseError::Shape`].
    pub fn read_lemmy(&mut self, body: &[u8]) -> Result<Read, ParseError> {
        let mark = self.mark();
        let linked = Field {
            key: "linked",
            required: false,
            inner: Nullable(List::new(self, "domain", MAX_ENTRIES)),
        };
        let root = Field {
            key: "federated_instances",
            required: true,
            inner: Nullable(linked),
        };
        let result = stream(body, root);
        self.settle(mark, result)
    }

    fn mark(&self) -> (usize, usize, usize) {
        (self.names.len(), self.rejected, self.skipped)
    }

    /// Keeps what a document added if it parsed, else takes it back.
    fn settle(
        &mut self,
        (names, rejected, skipped): (usize, usize, usize),
        result: Result<usize, serde_json::Error>,
    ) -> Result<Read, ParseError> {
        match result {
            Ok(entries) => Ok(Read {
                entries,
                added: self.names.len() - names,
            }),
            Err(e) => {
                for name in self.names.drain(names..) {
                    self.seen.remove(&name);
                }
                (self.rejected, self.skipped) = (rejected, skipped);
                Err(e.into())
            }
        }
    }

    /// Takes one raw entry: kept if it is a valid name not seen before.
    fn offer(&mut self, raw: &str) {
        if self.seen.len() >= MAX_PEERS {
            self.skipped += 1;
            return;
        }
        // Most repeats are spelled exactly like the kept name or the junk already seen:
        // no need to normalize them again.
        if self.seen.contains(raw) {
            return;
        }
        if self.junk.contains(raw) {
            self.rejected += 1;
            return;
        }
        match Domain::parse(raw) {
            Ok(name) => {
                if self.seen.insert(name.clone()) {
                    self.names.push(name);
                }
            }
            Err(_) => {
                self.rejected += 1;
                if self.junk.len() < JUNK_MEMO {
                    self.junk.insert(raw.into());
                }
            }
        }
    }
}

/// Parses all of `body` with `seed`: one JSON value and nothing after it.
fn stream<S>(body: &[u8], seed: S) -> Result<usize, serde_json::Error>
where
    S: for<'de> DeserializeSeed<'de, Value = usize>,
{
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let entries = seed.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(entries)
}

/// A JSON array of names, each a string or an object holding the name under `key`;
/// gives the number of entries.
struct List<'a> {
    set: &'a mut PeerSet,
    key: &'static str,
    max_entries: usize,
}

impl<'a> List<'a> {
    fn new(set: &'a mut PeerSet, key: &'static str, max_entries: usize) -> List<'a> {
        List {
            set,
            key,
            max_entries,
        }
    }
}

impl<'de> DeserializeSeed<'de> for List<'_> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for List<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an array of names or of objects with a `{}`", self.key)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut entries = 0;
        while entries < self.max_entries {
            let entry = Entry {
                set: &mut *self.set,
                key: Some(self.key),
            };
            if seq.next_element_seed(entry)?.is_none() {
                return Ok(entries);
            }
            entries += 1;
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {
            entries += 1;
            self.set.skipped += 1;
        }
        Ok(entries)
    }
}

/// One value that may hold a name: a string is the name; an object holds it under `key`
/// (when given); anything else, or an object without it, is junk. Names go straight to
/// the set, borrowed from the body where they have no escapes.
struct Entry<'a> {
    set: &'a mut PeerSet,
    key: Option<&'static str>,
}

impl Entry<'_> {
    fn junk<E>(self) -> Result<(), E> {
        self.set.rejected += 1;
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Entry<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Entry<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E>(self, name: &str) -> Result<(), E> {
        self.set.offer(name);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut found = false;
        while let Some(wanted) = map.next_key_seed(KeyIs(self.key))? {
            if wanted && !found {
                found = true;
                // The name itself must be a string: a nested object is junk, not searched.
                map.next_value_seed(Entry {
                    set: &mut *self.set,
                    key: None,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if found {
            Ok(())
        } else {
            self.junk()
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.junk()
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.junk()
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        self.junk()
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        self.junk()
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.junk()
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.junk()
    }
}

/// The value under `key` of an object, read with `inner`; other keys are skipped. A
/// missing key is an error when `required`, else no entries.
struct Field<S> {
    key: &'static str,
    required: bool,
    inner: S,
}

impl<'de, S: DeserializeSeed<'de, Value = usize>> DeserializeSeed<'de> for Field<S> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, S: DeserializeSeed<'de, Value = usize>> Visitor<'de> for Field<S> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object with `{}`", self.key)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
        let mut inner = Some(self.inner);
        let mut entries = 0;
        while let Some(wanted) = map.next_key_seed(KeyIs(Some(self.key)))? {
            match inner.take_if(|_| wanted) {
                Some(seed) => entries = map.next_value_seed(seed)?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if inner.is_some() && self.required {
            return Err(de::Error::missing_field(self.key));
        }
        Ok(entries)
    }
}

/// `null` is no entries; anything else is read with the inner seed.
struct Nullable<S>(S);

impl<'de, S: DeserializeSeed<'de, Value = usize>> DeserializeSeed<'de> for Nullable<S> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de, Value = usize>> Visitor<'de> for Nullable<S> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("null or a value")
    }

    fn visit_none<E>(self) -> Result<usize, E> {
        Ok(0)
    }

    fn visit_unit<E>(self) -> Result<usize, E> {
        Ok(0)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        self.0.deserialize(deserializer)
    }
}

/// Tells whether an object key is the wanted one, without allocating the key.
struct KeyIs(Option<&'static str>);

impl<'de> DeserializeSeed<'de> for KeyIs {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<bool, E> {
        Ok(self.0 == Some(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(set: &PeerSet) -> Vec<&str> {
        set.names().iter().map(Domain::as_str).collect()
    }

    fn mastodon(body: &[u8]) -> Result<PeerSet, ParseError> {
        let mut set = PeerSet::new();
        set.read_mastodon(body)?;
        Ok(set)
    }

    #[test]
    fn mastodon_strings_and_gotosocial_objects() {
        let set = mastodon(br#"["tilde.zone", "mspsocial.net", "Tilde.Zone."]"#).unwrap();
        assert_eq!(names(&set), ["tilde.zone", "mspsocial.net"]);
        assert_eq!(set.rejected, 0);
        let objects = br#"[{"domain":"example.org"},
            {"domain":"o*g.*u**","suspended_at":"2021-06-09T10:34:55.000Z","severity":"suspend"},
            {"comment":"no domain"}]"#;
        let set = mastodon(objects).unwrap();
        assert_eq!(names(&set), ["example.org"]);
        assert_eq!(set.rejected, 2);
    }

    #[test]
    fn junk_entries_are_counted_and_dropped() {
        let body = br#"["a.example.org", 3, null, true, 1.5, ["b.example.org"], {"domain": 7},
            {"domain": {"domain": "c.example.org"}}, {"host": "d.example.org"}, "e\u002eexample.org",
            "localhost", "a.example.org"]"#;
        let set = mastodon(body).unwrap();
        assert_eq!(names(&set), ["a.example.org", "e.example.org"]);
        assert_eq!(set.rejected, 9);
        assert!(mastodon(b" [ ] ").unwrap().names().is_empty());
    }

    #[test]
    fn error_objects_are_shape_and_garbage_is_not_json() {
        let err = mastodon(br#"{"error":"This API requires an authenticated user"}"#);
        assert!(matches!(err, Err(ParseError::Shape(m)) if m.contains("array")));
        assert!(matches!(mastodon(b"null"), Err(ParseError::Shape(_))));
        assert!(matches!(
            mastodon(br#"["a.example.org"] x"#),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(
            mastodon(br#"["a.example.org""#),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(mastodon(b"<html>"), Err(ParseError::NotJson(_))));
    }

    #[test]
    fn a_failed_document_takes_back_what_it_added() {
        let mut set = PeerSet::new();
        set.read_mastodon(br#"["a.example.org"]"#).unwrap();
        assert!(set
            .read_mastodon(br#"["b.example.org", "junk", "a.example.org""#)
            .is_err());
        assert_eq!(names(&set), ["a.example.org"]);
        assert_eq!(set.rejected, 0);
        let read = set.read_mastodon(br#"["b.example.org"]"#).unwrap();
        assert_eq!(
            read,
            Read {
                entries: 1,
                added: 1
            }
        );
    }

    #[test]
    fn misskey_takes_host_and_pages_accumulate() {
        let mut set = PeerSet::new();
        let page =
            br#"[{"id":"9a","host":"misskey.io","usersCount":5,"domain":"x"},{"host":null}]"#;
        assert_eq!(
            set.read_misskey_page(page).unwrap(),
            Read {
                entries: 2,
                added: 1
            }
        );
        assert_eq!(
            set.read_misskey_page(page).unwrap(),
            Read {
                entries: 2,
                added: 0
            }
        );
        assert_eq!(names(&set), ["misskey.io"]);
        assert!(matches!(
            set.read_misskey_page(br#"{"error":{}}"#),
            Err(ParseError::Shape(_))
        ));
    }

    #[test]
    fn taken_pages_are_handed_over_once_and_still_count_towards_the_caps() {
        let mut set = PeerSet::new();
        set.read_misskey_page(
            br#"[{"host":"a.example.org"},{"host":"no"},{"host":"b.example.org"}]"#,
        )
        .unwrap();
        let first = set.take();
        let d = |s: &str| Domain::parse(s).unwrap();
        assert_eq!(first.names, [d("a.example.org"), d("b.example.org")]);
        assert_eq!((first.rejected, first.skipped), (1, 0));
        assert!(set.take().is_empty());
        // A later page repeating a taken name adds nothing: each name is found once.
        let read = set
            .read_misskey_page(br#"[{"host":"b.example.org"},{"host":"c.example.org"}]"#)
            .unwrap();
        assert_eq!(read.added, 1);
        assert_eq!(set.take().names, [d("c.example.org")]);

        let mut set = PeerSet::new();
        set.read_mastodon(flood(|i| format!("h{i}.example.org"), MAX_PEERS - 1).as_bytes())
            .unwrap();
        assert_eq!(set.take().names.len(), MAX_PEERS - 1);
        let rest = flood(|i| format!("x{i}.example.org"), 5);
        set.read_mastodon(rest.as_bytes()).unwrap();
        let last = set.take();
        assert_eq!((last.names.len(), last.skipped), (1, 4));
    }

    fn lemmy(body: &[u8]) -> Result<Vec<String>, ParseError> {
        let mut set = PeerSet::new();
        set.read_lemmy(body)?;
        Ok(set.names().iter().map(Domain::to_string).collect())
    }

    #[test]
    fn lemmy_linked_only() {
        let new =
            br#"{"federated_instances":{"linked":[{"id":2,"domain":"lemmy.ml","software":"lemmy"}],
            "allowed":[{"domain":"allowed.example.org"}],"blocked":[{"domain":"blocked.example.org"}]}}"#;
        assert_eq!(lemmy(new).unwrap(), ["lemmy.ml"]);
        let old = br#"{"federated_instances":{"blocked":["b.example.org"],"linked":["beehaw.org","lemmy.ml"]}}"#;
        assert_eq!(lemmy(old).unwrap(), ["beehaw.org", "lemmy.ml"]);
        for empty in [
            &br#"{"federated_instances":null}"#[..],
            br#"{"federated_instances":{"linked":null}}"#,
            br#"{"federated_instances":{"blocked":["b.example.org"]}}"#,
        ] {
            assert_eq!(lemmy(empty).unwrap(), Vec::<String>::new());
        }
        for shape in [
            &br#"{"error":"federation_disabled"}"#[..],
            b"[]",
            br#"{"federated_instances":[]}"#,
        ] {
            assert!(
                matches!(lemmy(shape), Err(ParseError::Shape(_))),
                "{shape:?}"
            );
        }
    }

    fn flood(entry: impl Fn(usize) -> String, n: usize) -> String {
        format!(
            "[{}]",
            (0..n)
                .map(|i| format!("\"{}\"", entry(i)))
                .collect::<Vec<_>>()
                .join(",")
        )
    }

    #[test]
    fn large_lists_parse_up_to_the_caps() {
        let set = mastodon(flood(|i| format!("h{i}.example.org"), 200_000).as_bytes()).unwrap();
        assert_eq!(set.names().len(), MAX_PEERS);
        assert_eq!(
            set.names().last().map(Domain::as_str),
            Some("h99999.example.org")
        );
        assert_eq!(set.skipped, 200_000 - MAX_PEERS);
    }

    #[test]
    fn junk_floods_keep_nothing_and_stop_being_examined() {
        let read_all = MAX_ENTRIES + 10;
        let mut set = PeerSet::new();
        let read = set
            .read_mastodon(flood(|_| "a".into(), read_all).as_bytes())
            .unwrap();
        assert_eq!(
            read,
            Read {
                entries: read_all,
                added: 0
            }
        );
        assert_eq!((set.rejected, set.skipped), (MAX_ENTRIES, 10));
        let page = flood(|i| format!("p{}.example.org", i % 3), MAX_PAGE_ENTRIES + 5);
        let read = set.read_misskey_page(page.as_bytes()).unwrap();
        assert_eq!(
            read,
            Read {
                entries: MAX_PAGE_ENTRIES + 5,
                added: 3
            }
        );
    }
}
