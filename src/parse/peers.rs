//! Peer lists: the domains a server knows, which is how the crawler discovers servers.
//!
//! Lists can hold hundreds of thousands of entries (up to 16 MiB), so they are read with a
//! streaming serde visitor straight into `Vec<String>`, never through a `serde_json::Value`.
//! Junk entries (numbers, nulls, objects without a name) are skipped; the caller normalises
//! the names and counts the ones it rejects.
//!
//! Types: none public; the private serde seeds `List`, `Entry` and `KeyIs` do the work.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::ParseError;

/// `/api/v1/instance/peers` (Mastodon, GoToSocial, Pleroma…): an array of domain strings,
/// or of objects with a `domain` (GoToSocial with `?filter=`). An error object such as a
/// 401 body is a [`ParseError::Shape`].
pub fn parse_mastodon_peers(body: &[u8]) -> Result<Vec<String>, ParseError> {
    read_list(body, "domain")
}

/// Misskey's `POST /api/federation/instances`: an array of objects with a `host`.
pub fn parse_misskey_instances(body: &[u8]) -> Result<Vec<String>, ParseError> {
    read_list(body, "host")
}

/// Lemmy's `/api/v3/federated_instances`: only `federated_instances.linked`, never
/// `blocked` (servers Lemmy refuses) nor `allowed` (an allowlist, not peers). Items are
/// objects with a `domain` (0.18+) or plain strings (older). `federated_instances: null`
/// (federation disabled) is an empty list.
pub fn parse_lemmy_federated(body: &[u8]) -> Result<Vec<String>, ParseError> {
    let response: LemmyResponse = serde_json::from_slice(body)?;
    Ok(response
        .federated_instances
        .and_then(|lists| lists.linked)
        .map(|linked| linked.0)
        .unwrap_or_default())
}

#[derive(Deserialize)]
struct LemmyResponse {
    // `deserialize_with` makes a missing key an error (an error body is not a null list).
    #[serde(deserialize_with = "Option::deserialize")]
    federated_instances: Option<LemmyLists>,
}

#[derive(Deserialize)]
struct LemmyLists {
    linked: Option<Domains>,
}

struct Domains(Vec<String>);

impl<'de> Deserialize<'de> for Domains {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        List { key: "domain" }
            .deserialize(deserializer)
            .map(Domains)
    }
}

fn read_list(body: &[u8], key: &'static str) -> Result<Vec<String>, ParseError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let names = List { key }.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(names)
}

/// A JSON array of names, each a string or an object holding the name under `key`.
struct List {
    key: &'static str,
}

impl<'de> DeserializeSeed<'de> for List {
    type Value = Vec<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for List {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an array of names or of objects with a `{}`", self.key)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut names = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        let entry = Entry {
            key: Some(self.key),
        };
        while let Some(name) = seq.next_element_seed(entry)? {
            names.extend(name);
        }
        Ok(names)
    }
}

/// One value that may hold a name: a string is the name; an object holds it under `key`
/// (when given); anything else, or an object without it, holds none.
#[derive(Clone, Copy)]
struct Entry {
    key: Option<&'static str>,
}

impl<'de> DeserializeSeed<'de> for Entry {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Entry {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E>(self, name: &str) -> Result<Self::Value, E> {
        Ok(Some(name.to_owned()))
    }

    fn visit_string<E>(self, name: String) -> Result<Self::Value, E> {
        Ok(Some(name))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut name = None;
        while let Some(wanted) = map.next_key_seed(KeyIs(self.key))? {
            if wanted && name.is_none() {
                // The name itself must be a string: a nested object is junk, not searched.
                name = map.next_value_seed(Entry { key: None })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(name)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
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

    #[test]
    fn mastodon_strings_and_gotosocial_objects() {
        assert_eq!(
            parse_mastodon_peers(br#"["tilde.zone", "mspsocial.net"]"#).unwrap(),
            ["tilde.zone", "mspsocial.net"]
        );
        let objects = br#"[{"domain":"example.org"},
            {"domain":"o*g.*u**","suspended_at":"2021-06-09T10:34:55.000Z","severity":"suspend"},
            {"comment":"no domain"}]"#;
        assert_eq!(
            parse_mastodon_peers(objects).unwrap(),
            ["example.org", "o*g.*u**"]
        );
    }

    #[test]
    fn junk_entries_are_skipped() {
        let body = br#"["a.example", 3, null, true, 1.5, ["b.example"], {"domain": 7},
            {"domain": {"domain": "c.example"}}, {"host": "d.example"}, "e\u002eexample"]"#;
        assert_eq!(
            parse_mastodon_peers(body).unwrap(),
            ["a.example", "e.example"]
        );
        assert_eq!(
            parse_mastodon_peers(b" [ ] ").unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn error_objects_are_shape_and_garbage_is_not_json() {
        let err = parse_mastodon_peers(br#"{"error":"This API requires an authenticated user"}"#);
        assert!(matches!(err, Err(ParseError::Shape(m)) if m.contains("array")));
        assert!(matches!(
            parse_mastodon_peers(b"null"),
            Err(ParseError::Shape(_))
        ));
        assert!(matches!(
            parse_mastodon_peers(br#"["a"] x"#),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(
            parse_mastodon_peers(br#"["a""#),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(
            parse_mastodon_peers(b"<html>"),
            Err(ParseError::NotJson(_))
        ));
    }

    #[test]
    fn misskey_takes_host() {
        let body =
            br#"[{"id":"9a","host":"misskey.io","usersCount":5,"domain":"x"},{"host":null}]"#;
        assert_eq!(parse_misskey_instances(body).unwrap(), ["misskey.io"]);
        assert!(matches!(
            parse_misskey_instances(br#"{"error":{}}"#),
            Err(ParseError::Shape(_))
        ));
    }

    #[test]
    fn lemmy_linked_only() {
        let new =
            br#"{"federated_instances":{"linked":[{"id":2,"domain":"lemmy.ml","software":"lemmy"}],
            "allowed":[{"domain":"allowed.example"}],"blocked":[{"domain":"blocked.example"}]}}"#;
        assert_eq!(parse_lemmy_federated(new).unwrap(), ["lemmy.ml"]);
        let old = br#"{"federated_instances":{"blocked":["b.example"],"linked":["beehaw.org","lemmy.ml"]}}"#;
        assert_eq!(
            parse_lemmy_federated(old).unwrap(),
            ["beehaw.org", "lemmy.ml"]
        );
        for empty in [
            &br#"{"federated_instances":null}"#[..],
            br#"{"federated_instances":{"linked":null}}"#,
        ] {
            assert_eq!(parse_lemmy_federated(empty).unwrap(), Vec::<String>::new());
        }
        for shape in [
            &br#"{"error":"federation_disabled"}"#[..],
            b"[]",
            br#"{"federated_instances":[]}"#,
        ] {
            assert!(matches!(
                parse_lemmy_federated(shape),
                Err(ParseError::Shape(_))
            ));
        }
    }

    #[test]
    fn huge_lists_parse() {
        let body = format!(
            "[{}]",
            (0..200_000)
                .map(|i| format!("\"h{i}.example\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        let peers = parse_mastodon_peers(body.as_bytes()).unwrap();
        assert_eq!(peers.len(), 200_000);
        assert_eq!(peers.last().map(String::as_str), Some("h199999.example"));
    }
}
