//! Property tests (proptest) over everything that reads remote input: the domain
//! normalizer, the NodeInfo, well-known, instance and peer-list parsers, and robots.txt.
//! No input may panic; normalization is idempotent; kept text is clean. A short pass
//! runs in `cargo test` (case counts kept modest for a 2-core CI); set `PROPTEST_CASES`
//! for a longer run. Crashers found are pinned as named tests at the end.

use proptest::prelude::*;
use serde_json::{json, Value};

use fedicensus::domain::Domain;
use fedicensus::fetch::robots::{Robots, MAX_CRAWL_DELAY};
use fedicensus::parse::peers::{PeerSet, MAX_PEERS};
use fedicensus::parse::{instance, nodeinfo, wellknown};
use fedicensus::text::{clean, MAX_TEXT_CHARS};

/// `cases` per property, unless `PROPTEST_CASES` asks for a longer run.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Strings that look like host names often enough to reach every rule of the normalizer.
fn hostish() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9ü.*:/_ -]{0,24}",
        "([a-zA-Z0-9-]{1,12}\\.){1,4}(social|com|co\\.uk|xn--p1ai|рф|local|zz|1)\\.?",
        "(xn--[a-z0-9-]{1,12}\\.)?[a-zA-Zß-ÿ]{1,10}\\.(de|org)",
    ]
}

/// Arbitrary JSON, shallow and small, with the strings and numbers servers get wrong.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        hostish().prop_map(Value::from),
        "[0-9 .,e+-]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    "[a-zA-Z_]{1,12}",
                    Just("software".to_string()),
                    Just("name".to_string()),
                    Just("version".to_string()),
                    Just("usage".to_string()),
                    Just("users".to_string()),
                    Just("links".to_string()),
                    Just("domain".to_string()),
                    Just("host".to_string()),
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn assert_clean(text: &str) {
    assert!(
        !text.is_empty() && text.chars().count() <= MAX_TEXT_CHARS,
        "{text:?}"
    );
    assert!(!text.chars().any(|c| c.is_control()), "{text:?}");
    assert_eq!(text.trim(), text);
}

fn every_parser(body: &[u8]) {
    let _ = wellknown::parse_wellknown(body);
    if let Ok(info) = nodeinfo::parse_nodeinfo(body) {
        assert_clean(&info.software_name);
        info.software_version.as_deref().map(assert_clean);
        info.node_name.as_deref().map(assert_clean);
    }
    if let Ok(v1) = instance::parse_instance_v1(body) {
        v1.version.as_deref().map(assert_clean);
    }
    if let Ok(v2) = instance::parse_instance_v2(body) {
        v2.version.as_deref().map(assert_clean);
    }
    let _ = instance::parse_activity(body);
    let mut set = PeerSet::new();
    let _ = set.read_mastodon(body);
    let _ = set.read_misskey_page(body);
    let _ = set.read_lemmy(body);
    assert!(set.names().len() <= MAX_PEERS);
    for name in set.names() {
        assert_eq!(Domain::parse(name.as_str()).as_ref(), Ok(name));
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn domain_normalization_is_idempotent(raw in hostish()) {
        if let Ok(domain) = Domain::parse(&raw) {
            // What reports and the store show of a name reads back as the same name.
            let shown = domain.to_string();
            let again = Domain::parse(&shown);
            prop_assert_eq!(again.as_ref(), Ok(&domain));
            let stored = Domain::from_stored(domain.as_str());
            prop_assert_eq!(stored.as_ref(), Ok(&domain));
            prop_assert!(domain.as_str().len() <= 253);
        }
    }

    #[test]
    fn clean_is_idempotent_and_bounded(raw in any::<String>()) {
        if let Some(text) = clean(&raw) {
            assert_clean(&text);
            prop_assert_eq!(clean(&text), Some(text));
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn no_byte_string_panics_a_parser(body in prop::collection::vec(any::<u8>(), 0..256)) {
        every_parser(&body);
    }

    #[test]
    fn no_json_panics_a_parser(value in json_value()) {
        every_parser(value.to_string().as_bytes());
    }

    #[test]
    fn nodeinfo_shaped_documents_keep_clean_text(
        name in any::<String>(),
        version in json_value(),
        usage in json_value(),
    ) {
        let doc = json!({"software": {"name": name, "version": version}, "usage": usage});
        every_parser(doc.to_string().as_bytes());
        let wrapped = json!({"links": [{"rel": name, "href": version}], "domain": usage});
        every_parser(wrapped.to_string().as_bytes());
    }

    #[test]
    fn peer_lists_keep_only_valid_distinct_names(
        entries in prop::collection::vec(prop_oneof![json_value(), hostish().prop_map(Value::from)], 0..40),
    ) {
        let body = Value::from(entries.clone()).to_string();
        let mut set = PeerSet::new();
        let read = set.read_mastodon(body.as_bytes()).unwrap();
        prop_assert_eq!(read.entries, entries.len());
        let mut distinct = set.names().to_vec();
        distinct.sort();
        distinct.dedup();
        prop_assert_eq!(distinct.len(), set.names().len());
        prop_assert!(set.rejected + set.names().len() <= entries.len());
    }

    #[test]
    fn no_robots_txt_panics(
        lines in prop::collection::vec(
            prop_oneof![
                any::<String>(),
                "(User-agent|Disallow|Allow|Crawl-delay|Sitemap): ?[ -~]{0,20}",
                "Crawl-delay: ?[0-9eE+.-]{1,30}",
            ],
            0..8,
        ),
        path in "/[ -~]{0,20}",
    ) {
        let body = lines.join("\n");
        for agent in ["fedicensus/0.1", "*", ""] {
            let robots = Robots::parse(agent, body.as_bytes());
            let _ = robots.allows(&path);
            prop_assert!(robots.crawl_delay().is_none_or(|d| d <= MAX_CRAWL_DELAY));
        }
    }
}

/// Found by `no_robots_txt_panics` (and the adversarial probe of issue 7): a Crawl-delay
/// beyond what a `Duration` holds panicked instead of being capped.
#[test]
fn regression_huge_crawl_delay_is_capped() {
    for delay in ["1e30", "18446744073709551616", "3.5e38"] {
        let body = format!("User-agent: *\nCrawl-delay: {delay}\n");
        let robots = Robots::parse("fedicensus/0.1", body.as_bytes());
        assert_eq!(robots.crawl_delay(), Some(MAX_CRAWL_DELAY), "{delay}");
    }
}
