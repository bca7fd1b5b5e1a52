//! Mastodon-compatible instance APIs, which most fediverse software imitates:
//! `/api/v1/instance`, `/api/v2/instance` and `/api/v1/instance/activity`.
//!
//! Types: [`InstanceV1`], [`InstanceV2`], [`ActivityWeek`].

use std::cmp::Reverse;

use serde_json::Value;

use super::{json_object, lenient, ParseError};

/// What we keep of `/api/v1/instance`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceV1 {
    /// The bare host (Pleroma and Akkoma write `https://host`); a `:port` is kept.
    pub uri: Option<String>,
    /// `version`, often a Mastodon version the software claims to be compatible with.
    pub version: Option<String>,
    /// `stats.user_count`: registered users.
    pub user_count: Option<i64>,
    /// `stats.status_count`: posts by the server's users.
    pub status_count: Option<i64>,
    /// `stats.domain_count`: servers this one knows of.
    pub domain_count: Option<i64>,
    /// `languages`: the languages the server declares.
    pub languages: Vec<String>,
    /// `registrations`: whether sign-ups are open.
    pub registrations: Option<bool>,
}

/// What we keep of `/api/v2/instance`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceV2 {
    /// The bare host; a `:port` is kept.
    pub domain: Option<String>,
    /// `version`, often a Mastodon version the software claims to be compatible with.
    pub version: Option<String>,
    /// `usage.users.active_month`: monthly active users.
    pub active_month: Option<i64>,
    /// `languages`: the languages the server declares.
    pub languages: Vec<String>,
    /// `registrations.enabled` (or a bare boolean `registrations`): whether sign-ups are
    /// open.
    pub registrations_enabled: Option<bool>,
}

/// One week of `/api/v1/instance/activity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityWeek {
    /// Unix time of the week's start.
    pub week: i64,
    /// `statuses`: posts created that week.
    pub statuses: Option<i64>,
    /// `logins`: user logins that week.
    pub logins: Option<i64>,
    /// `registrations`: sign-ups that week.
    pub registrations: Option<i64>,
}

/// Reads `/api/v1/instance`; every field may be missing (micro.blog serves five keys).
pub fn parse_instance_v1(body: &[u8]) -> Result<InstanceV1, ParseError> {
    let root = json_object(body, "an /api/v1/instance document")?;
    let stat = |key| lenient::int(lenient::path(&root, &["stats", key]));
    Ok(InstanceV1 {
        uri: host(lenient::path(&root, &["uri"])),
        version: lenient::text(lenient::path(&root, &["version"])),
        user_count: stat("user_count"),
        status_count: stat("status_count"),
        domain_count: stat("domain_count"),
        languages: lenient::texts(lenient::path(&root, &["languages"])),
        registrations: lenient::bool(lenient::path(&root, &["registrations"])),
    })
}

/// Reads `/api/v2/instance`.
pub fn parse_instance_v2(body: &[u8]) -> Result<InstanceV2, ParseError> {
    let root = json_object(body, "an /api/v2/instance document")?;
    // v2 nests the flag in `registrations.enabled`; a server still sending v1's bare
    // boolean there means the same thing.
    let registrations = lenient::path(&root, &["registrations"]);
    let registrations_enabled = match registrations {
        Some(nested @ Value::Object(_)) => lenient::bool(lenient::path(nested, &["enabled"])),
        flat => lenient::bool(flat),
    };
    Ok(InstanceV2 {
        domain: host(lenient::path(&root, &["domain"])),
        version: lenient::text(lenient::path(&root, &["version"])),
        active_month: lenient::int(lenient::path(&root, &["usage", "users", "active_month"])),
        languages: lenient::texts(lenient::path(&root, &["languages"])),
        registrations_enabled,
    })
}

/// Reads `/api/v1/instance/activity`, newest week first. Mastodon sends every value as a
/// string; entries without a readable `week` are skipped.
pub fn parse_activity(body: &[u8]) -> Result<Vec<ActivityWeek>, ParseError> {
    let root: Value = serde_json::from_slice(body)?;
    let Value::Array(entries) = root else {
        return Err(ParseError::Shape(format!(
            "activity must be a JSON array, got {}",
            lenient::kind(&root)
        )));
    };
    let mut weeks: Vec<ActivityWeek> = entries
        .iter()
        .filter_map(|entry| {
            let count = |key| lenient::int(lenient::path(entry, &[key]));
            Some(ActivityWeek {
                week: count("week")?,
                statuses: count("statuses"),
                logins: count("logins"),
                registrations: count("registrations"),
            })
        })
        .collect();
    weeks.sort_by_key(|w| Reverse(w.week));
    Ok(weeks)
}

/// Reduces a URI-ish string to its host and optional port: drops an http(s) scheme and
/// anything from the first `/`, `?` or `#` on.
fn host(value: Option<&Value>) -> Option<String> {
    let text = lenient::text(value)?;
    let rest = ["https://", "http://"]
        .iter()
        .find_map(|scheme| {
            let (prefix, rest) = text.split_at_checked(scheme.len())?;
            prefix.eq_ignore_ascii_case(scheme).then_some(rest)
        })
        .unwrap_or(&text);
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    (!host.is_empty()).then(|| host.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn host_strips_scheme_and_path_but_keeps_port() {
        let h = |s: &str| host(Some(&json!(s)));
        assert_eq!(h("mastodon.social").as_deref(), Some("mastodon.social"));
        assert_eq!(h("https://pleroma.local").as_deref(), Some("pleroma.local"));
        assert_eq!(h("HTTP://x.example/path?q#f").as_deref(), Some("x.example"));
        assert_eq!(h(" localhost:3000 ").as_deref(), Some("localhost:3000"));
        assert_eq!(h("https://").as_deref(), None);
        assert_eq!(
            h("https:/é").as_deref(),
            Some("https:"),
            "non-ASCII is sliced safely"
        );
        assert_eq!(host(Some(&json!(null))), None);
    }

    #[test]
    fn v1_reads_stats_even_as_strings() {
        let v1 = parse_instance_v1(
            br#"{"uri":"https://pixelfed.social/","version":"3.5.3 (compatible; Pixelfed 0.12.3)",
            "stats":{"user_count":119267,"status_count":"29662653","domain_count":-1},
            "languages":["en"],"registrations":true,"contact_account":[]}"#,
        )
        .unwrap();
        assert_eq!(
            v1,
            InstanceV1 {
                uri: Some("pixelfed.social".into()),
                version: Some("3.5.3 (compatible; Pixelfed 0.12.3)".into()),
                user_count: Some(119267),
                status_count: Some(29662653),
                domain_count: Some(-1),
                languages: vec!["en".into()],
                registrations: Some(true),
            }
        );
    }

    #[test]
    fn v1_survives_missing_everything() {
        let v1 = parse_instance_v1(br#"{"contact_account":null,"stats":null}"#).unwrap();
        assert_eq!(v1.uri, None);
        assert_eq!(v1.user_count, None);
        assert!(v1.languages.is_empty());
        assert!(matches!(
            parse_instance_v1(b"[]"),
            Err(ParseError::Shape(_))
        ));
        assert!(matches!(
            parse_instance_v1(b"<html>"),
            Err(ParseError::NotJson(_))
        ));
    }

    #[test]
    fn v2_registrations_nested_or_flat() {
        let v2 = parse_instance_v2(
            br#"{"domain":"localhost:3000","usage":{"users":{"active_month":"7"}},
            "registrations":{"enabled":false},"contact":{"account":null}}"#,
        )
        .unwrap();
        assert_eq!(
            v2,
            InstanceV2 {
                domain: Some("localhost:3000".into()),
                version: None,
                active_month: Some(7),
                languages: vec![],
                registrations_enabled: Some(false),
            }
        );
        let flat = parse_instance_v2(br#"{"registrations":true}"#).unwrap();
        assert_eq!(flat.registrations_enabled, Some(true));
    }

    #[test]
    fn activity_sorted_newest_first_skipping_weekless_entries() {
        let weeks = parse_activity(
            br#"[{"week":"100","statuses":"5","logins":"2","registrations":"1"},
            {"statuses":"9"},{"week":"soon"},7,
            {"week":200,"statuses":"x"}]"#,
        )
        .unwrap();
        assert_eq!(
            weeks,
            [
                ActivityWeek {
                    week: 200,
                    statuses: None,
                    logins: None,
                    registrations: None
                },
                ActivityWeek {
                    week: 100,
                    statuses: Some(5),
                    logins: Some(2),
                    registrations: Some(1)
                },
            ]
        );
        assert!(matches!(
            parse_activity(br#"{"error":"nope"}"#),
            Err(ParseError::Shape(_))
        ));
    }
}
