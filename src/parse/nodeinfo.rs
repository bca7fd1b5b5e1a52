//! NodeInfo documents (schemas 1.0 to 2.2): what software a server runs and how many use it.
//!
//! Types: [`NodeInfo`].

use serde_json::Value;

use super::wellknown::SchemaVersion;
use super::{json_object, lenient, ParseError};

/// What we keep of a NodeInfo document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeInfo {
    /// The schema version the document declares, when it is one we know (Iceshrimp.NET once
    /// wrote its own version there).
    pub schema: Option<String>,
    /// Trimmed and lowercased (`Iceshrimp.NET` → `iceshrimp.net`); `"unknown"` if missing.
    pub software_name: String,
    /// `software.version`.
    pub software_version: Option<String>,
    /// `protocols`; 1.x's `inbound` and `outbound` lists merged without repeats.
    pub protocols: Vec<String>,
    /// `usage.users.total`: registered users.
    pub users_total: Option<i64>,
    /// `usage.users.activeMonth`: users active in the last 30 days.
    pub active_month: Option<i64>,
    /// `usage.users.activeHalfyear`: users active in the last 180 days.
    pub active_halfyear: Option<i64>,
    /// `usage.localPosts`: posts made on this server.
    pub local_posts: Option<i64>,
    /// `openRegistrations`: whether sign-ups are open.
    pub open_registrations: Option<bool>,
    /// `metadata.nodeName`, else 2.2's `instance.name`: the server's display name.
    pub node_name: Option<String>,
    /// The server asks not to be listed (`metadata.private`, Hubzilla's
    /// `metadata.hide_in_statistics`).
    pub private: bool,
}

/// Reads a NodeInfo document. A JSON object without `software` (NodeInfo2, Matrix, other
/// APIs) is a [`ParseError::Shape`], not an empty NodeInfo.
pub fn parse_nodeinfo(body: &[u8]) -> Result<NodeInfo, ParseError> {
    let root = json_object(body, "a NodeInfo document")?;
    let software = match lenient::path(&root, &["software"]) {
        Some(software @ Value::Object(_)) => software,
        Some(other) => {
            return Err(ParseError::Shape(format!(
                "software is {}, not an object",
                lenient::kind(other)
            )))
        }
        None => {
            return Err(ParseError::Shape(
                "no software object: not a NodeInfo document".to_owned(),
            ))
        }
    };
    let users = |key| lenient::int(lenient::path(&root, &["usage", "users", key]));
    let metadata = |key| lenient::path(&root, &["metadata", key]);
    Ok(NodeInfo {
        schema: lenient::text(lenient::path(&root, &["version"]))
            .filter(|v| SchemaVersion::from_number(v).is_some()),
        software_name: lenient::text(lenient::path(software, &["name"]))
            .map_or_else(|| "unknown".to_owned(), |name| name.to_lowercase()),
        software_version: lenient::text(lenient::path(software, &["version"])),
        protocols: protocols(lenient::path(&root, &["protocols"])),
        users_total: users("total"),
        active_month: users("activeMonth"),
        active_halfyear: users("activeHalfyear"),
        local_posts: lenient::int(lenient::path(&root, &["usage", "localPosts"])),
        open_registrations: lenient::bool(lenient::path(&root, &["openRegistrations"])),
        // NodeInfo 2.2 adds a top-level `instance.name`; every earlier server used metadata.
        node_name: lenient::text(metadata("nodeName"))
            .or_else(|| lenient::text(lenient::path(&root, &["instance", "name"]))),
        private: lenient::bool(metadata("private")) == Some(true)
            || lenient::bool(metadata("hide_in_statistics")) == Some(true),
    })
}

/// NodeInfo 2.x lists protocols; 1.x split them into `inbound` and `outbound` lists, which
/// we merge without repeats.
fn protocols(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(split @ Value::Object(_)) => {
            let mut merged: Vec<String> = Vec::new();
            for direction in ["inbound", "outbound"] {
                for protocol in lenient::texts(lenient::path(split, &[direction])) {
                    if !merged.contains(&protocol) {
                        merged.push(protocol);
                    }
                }
            }
            merged
        }
        other => lenient::texts(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> NodeInfo {
        parse_nodeinfo(body.as_bytes()).unwrap()
    }

    #[test]
    fn reads_a_plain_2_0_document() {
        let ni = parse(
            r#"{"version":"2.0","software":{"name":" Mastodon ","version":"4.2.8"},
            "protocols":["activitypub"],"services":{"outbound":[],"inbound":[]},
            "usage":{"users":{"total":2,"activeMonth":1,"activeHalfyear":2},"localPosts":4},
            "openRegistrations":false,"metadata":{"nodeName":"pc.cafe"}}"#,
        );
        assert_eq!(
            ni,
            NodeInfo {
                schema: Some("2.0".into()),
                software_name: "mastodon".into(),
                software_version: Some("4.2.8".into()),
                protocols: vec!["activitypub".into()],
                users_total: Some(2),
                active_month: Some(1),
                active_halfyear: Some(2),
                local_posts: Some(4),
                open_registrations: Some(false),
                node_name: Some("pc.cafe".into()),
                private: false,
            }
        );
    }

    #[test]
    fn protocols_1_x_objects_are_merged() {
        let ni = parse(
            r#"{"version":"1.0","software":{"name":"diaspora"},
            "protocols":{"inbound":["diaspora","gnusocial"],"outbound":["diaspora","zot"]}}"#,
        );
        assert_eq!(ni.protocols, ["diaspora", "gnusocial", "zot"]);
    }

    #[test]
    fn users_in_odd_shapes_give_no_counts() {
        for users in ["{}", "[]", "[1,2]", "null", "\"12\""] {
            let ni = parse(&format!(
                r#"{{"software":{{"name":"misskey"}},"usage":{{"users":{users},"localPosts":{{"all":3}}}}}}"#
            ));
            assert_eq!(
                (ni.users_total, ni.active_month, ni.active_halfyear),
                (None, None, None)
            );
            assert_eq!(ni.local_posts, None);
        }
    }

    #[test]
    fn strings_typos_and_negatives() {
        let ni = parse(
            r#"{"software":{"name":"Funkwhale"},"usage":{"users":{"total":"16",
            "activeHalfYear":-3,"activeMonth":2.0},"localPosts":" 60 "},"openRegistrations":"true",
            "metaData":{"nodeName":"  "}}"#,
        );
        assert_eq!(ni.software_name, "funkwhale");
        assert_eq!(ni.users_total, Some(16));
        assert_eq!(ni.active_halfyear, Some(-3));
        assert_eq!(ni.active_month, Some(2));
        assert_eq!(ni.local_posts, Some(60));
        assert_eq!(ni.open_registrations, Some(true));
        assert_eq!(ni.node_name, None);
        assert_eq!(ni.schema, None);
    }

    #[test]
    fn bad_schema_version_and_missing_name() {
        let ni = parse(r#"{"version":"2024.1-alpha","software":{"version":"2024.1-alpha"}}"#);
        assert_eq!(ni.schema, None);
        assert_eq!(ni.software_name, "unknown");
        assert_eq!(ni.software_version.as_deref(), Some("2024.1-alpha"));
        assert!(ni.protocols.is_empty());
    }

    #[test]
    fn private_flags() {
        let private = |meta: &str| {
            parse(&format!(
                r#"{{"software":{{"name":"x"}},"metadata":{meta}}}"#
            ))
            .private
        };
        assert!(private(r#"{"private":true}"#));
        assert!(private(r#"{"private":"true"}"#));
        assert!(private(r#"{"private":1}"#));
        assert!(private(r#"{"hide_in_statistics":true}"#));
        assert!(!private(r#"{"private":false,"hide_in_statistics":"0"}"#));
        assert!(!private("[]"));
    }

    #[test]
    fn node_name_from_2_2_instance() {
        let ni = parse(r#"{"version":"2.2","instance":{"name":"FI𝑓F"},"software":{"name":"x"}}"#);
        assert_eq!(ni.node_name.as_deref(), Some("FI𝑓F"));
        assert_eq!(ni.schema.as_deref(), Some("2.2"));
    }

    #[test]
    fn not_nodeinfo_is_a_shape_error() {
        for body in [
            "[]",
            "42",
            r#"{"server":{"name":"Synapse","version":"0.33.8"}}"#,
            r#"{"software":"mastodon"}"#,
            r#"{"software":null}"#,
        ] {
            assert!(
                matches!(parse_nodeinfo(body.as_bytes()), Err(ParseError::Shape(_))),
                "{body}"
            );
        }
        assert!(matches!(
            parse_nodeinfo(b"{\"software\":"),
            Err(ParseError::NotJson(_))
        ));
    }
}
