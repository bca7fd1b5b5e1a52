//! `/.well-known/nodeinfo` discovery: which NodeInfo documents a server offers, best first.
//!
//! Types: [`SchemaVersion`], [`NodeInfoLink`].

use std::cmp::Reverse;

use serde_json::Value;

use super::{json_object, lenient, ParseError};

/// Prefix of the link relation (minus scheme) naming a NodeInfo schema version.
const REL_PREFIX: &str = "nodeinfo.diaspora.software/ns/schema/";

/// The NodeInfo schema versions we can read, ordered so that a higher version is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SchemaVersion {
    /// Schema 1.0 (rel `…/ns/schema/1.0`).
    V1_0,
    /// Schema 1.1 (rel `…/ns/schema/1.1`).
    V1_1,
    /// Schema 2.0 (rel `…/ns/schema/2.0`).
    V2_0,
    /// Schema 2.1 (rel `…/ns/schema/2.1`).
    V2_1,
    /// Schema 2.2 (rel `…/ns/schema/2.2`), the newest.
    V2_2,
}

impl SchemaVersion {
    /// Every version, oldest first.
    pub const ALL: [SchemaVersion; 5] = [
        SchemaVersion::V1_0,
        SchemaVersion::V1_1,
        SchemaVersion::V2_0,
        SchemaVersion::V2_1,
        SchemaVersion::V2_2,
    ];

    /// The version number as written in rels and documents, e.g. `"2.1"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            SchemaVersion::V1_0 => "1.0",
            SchemaVersion::V1_1 => "1.1",
            SchemaVersion::V2_0 => "2.0",
            SchemaVersion::V2_1 => "2.1",
            SchemaVersion::V2_2 => "2.2",
        }
    }

    /// The version written as `number` (e.g. `"2.1"`), if it is one we know.
    pub fn from_number(number: &str) -> Option<SchemaVersion> {
        Self::ALL.into_iter().find(|v| v.as_str() == number)
    }

    /// The version a link relation names: `http(s)://nodeinfo.diaspora.software/ns/schema/X.Y`,
    /// with or without the trailing `#` some servers copy from the schema `id`.
    pub fn from_rel(rel: &str) -> Option<SchemaVersion> {
        let rel = rel.trim();
        let rel = rel
            .strip_prefix("https://")
            .or_else(|| rel.strip_prefix("http://"))?;
        let number = rel.strip_prefix(REL_PREFIX)?;
        Self::from_number(number.strip_suffix('#').unwrap_or(number))
    }
}

/// One NodeInfo document a server offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfoLink {
    /// The schema version the link's `rel` names.
    pub schema: SchemaVersion,
    /// The href as the server wrote it (trimmed); checked to be an absolute http(s) URL.
    pub href: String,
}

/// Reads a well-known document into its NodeInfo links, highest schema first (servers list
/// them in any order). Unknown rels (NodeInfo2, Mastodon's instance rel) are skipped.
pub fn parse_wellknown(body: &[u8]) -> Result<Vec<NodeInfoLink>, ParseError> {
    let root = json_object(body, "a well-known document")?;
    let listed: Vec<&Value> = match lenient::path(&root, &["links"]) {
        Some(Value::Array(links)) => links.iter().collect(),
        Some(link @ Value::Object(_)) => vec![link],
        None | Some(Value::Null) => Vec::new(),
        Some(other) => {
            return Err(ParseError::Shape(format!(
                "links is neither an array nor an object but {}",
                lenient::kind(other)
            )))
        }
    };
    // Old Hubzilla ran a list through PHP's json_encode: the first link became `links` and
    // the others landed beside it under the keys "0", "1", ...
    let siblings = root
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| {
            (!key.is_empty() && key.bytes().all(|b| b.is_ascii_digit())).then_some(value)
        });
    let mut links: Vec<NodeInfoLink> = listed
        .into_iter()
        .chain(siblings)
        .filter_map(link)
        .collect();
    if links.is_empty() {
        return Err(ParseError::NoNodeInfoLink);
    }
    links.sort_by_key(|l| Reverse(l.schema));
    Ok(links)
}

fn link(value: &Value) -> Option<NodeInfoLink> {
    let schema = SchemaVersion::from_rel(value.get("rel")?.as_str()?)?;
    let href = value.get("href")?.as_str()?.trim();
    // URL parsing would quietly drop tabs and newlines; a link carrying control
    // characters (which would reach logs and error messages) is not a usable link.
    if href.chars().any(char::is_control) {
        return None;
    }
    let url = url::Url::parse(href).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| NodeInfoLink {
        schema,
        href: href.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use SchemaVersion::*;

    fn schemas(body: &str) -> Vec<(SchemaVersion, String)> {
        parse_wellknown(body.as_bytes())
            .unwrap()
            .into_iter()
            .map(|l| (l.schema, l.href))
            .collect()
    }

    #[test]
    fn hrefs_with_control_characters_are_not_links() {
        // JSON escapes: the document carries an ESC and a newline.
        for href in [
            r"https://a.social/nodeinfo/2.0\u001b[2J",
            r"https://a.social/node\ninfo",
        ] {
            let body = format!(
                r#"{{"links":[{{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.0","href":"{href}"}}]}}"#
            );
            assert_eq!(
                parse_wellknown(body.as_bytes()),
                Err(ParseError::NoNodeInfoLink)
            );
        }
    }

    #[test]
    fn versions_order_and_print() {
        assert!(V2_2 > V2_1 && V2_1 > V2_0 && V2_0 > V1_1 && V1_1 > V1_0);
        let printed: Vec<_> = SchemaVersion::ALL.iter().map(|v| v.as_str()).collect();
        assert_eq!(printed, ["1.0", "1.1", "2.0", "2.1", "2.2"]);
        assert_eq!(SchemaVersion::from_number("2.3"), None);
    }

    #[test]
    fn rels_accept_https_and_trailing_hash() {
        let rel = |r| SchemaVersion::from_rel(r);
        assert_eq!(
            rel("http://nodeinfo.diaspora.software/ns/schema/2.0"),
            Some(V2_0)
        );
        assert_eq!(
            rel("https://nodeinfo.diaspora.software/ns/schema/2.1#"),
            Some(V2_1)
        );
        assert_eq!(rel("http://nodeinfo.diaspora.software/ns/schema/3.0"), None);
        assert_eq!(
            rel("https://www.w3.org/ns/activitystreams#Application"),
            None
        );
        assert_eq!(rel("nodeinfo.diaspora.software/ns/schema/2.0"), None);
    }

    #[test]
    fn links_come_best_first_and_unknown_rels_are_skipped() {
        let body = r#"{"links":[
            {"rel":"http://nodeinfo.diaspora.software/ns/schema/2.0","href":"https://a.example/ni/2.0"},
            {"rel":"https://www.w3.org/ns/activitystreams#Application","href":"https://a.example/actor"},
            {"rel":"https://joinmastodon.org/ns#instance","href":"https://a.example/"},
            {"rel":"http://nodeinfo.diaspora.software/ns/schema/2.1","href":" https://a.example/ni/2.1 "},
            {"rel":"http://nodeinfo.diaspora.software/ns/schema/1.0","href":"https://a.example/ni/1.0"}
        ]}"#;
        let got = schemas(body);
        assert_eq!(
            got,
            [
                (V2_1, "https://a.example/ni/2.1".to_owned()),
                (V2_0, "https://a.example/ni/2.0".to_owned()),
                (V1_0, "https://a.example/ni/1.0".to_owned()),
            ]
        );
    }

    #[test]
    fn links_as_single_object_and_hubzilla_siblings() {
        let single = r#"{"links":{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.0","href":"https://l.example/nodeinfo/2.0.json"}}"#;
        assert_eq!(
            schemas(single),
            [(V2_0, "https://l.example/nodeinfo/2.0.json".to_owned())]
        );
        let hubzilla = r#"{"links":{"rel":"http://nodeinfo.diaspora.software/ns/schema/1.0","href":"https://h.example/1.0"},
            "0":{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.0","href":"https://h.example/2.0"}}"#;
        let got: Vec<_> = schemas(hubzilla).into_iter().map(|(s, _)| s).collect();
        assert_eq!(got, [V2_0, V1_0]);
    }

    #[test]
    fn nothing_usable_is_no_link() {
        for body in [
            r#"{"links":[]}"#,
            r#"{}"#,
            r#"{"links":null}"#,
            r#"{"links":[{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.0"}]}"#,
            r#"{"links":[{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.0","href":"/nodeinfo/2.0"}]}"#,
            r#"{"links":[{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.0","href":"ftp://x.example/"}]}"#,
            r#"{"links":[{"rel":7,"href":"https://x.example/"}, 3, null]}"#,
            r#"{"links":[{"rel":"http://nodeinfo.diaspora.software/ns/schema/9.9","href":"https://x.example/"}]}"#,
        ] {
            assert_eq!(
                parse_wellknown(body.as_bytes()),
                Err(ParseError::NoNodeInfoLink),
                "{body}"
            );
        }
    }

    #[test]
    fn wrong_json_is_shape_and_garbage_is_not_json() {
        assert!(
            matches!(parse_wellknown(br#"{"links":"x"}"#), Err(ParseError::Shape(m)) if m.contains("links is neither"))
        );
        assert!(matches!(parse_wellknown(b"[]"), Err(ParseError::Shape(_))));
        assert!(matches!(
            parse_wellknown(br#""found":false"#),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(
            parse_wellknown(b"<html>"),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(parse_wellknown(b""), Err(ParseError::NotJson(_))));
    }
}
