//! Every file in `tests/fixtures/real/` (provenance in its `SOURCES.md`) run through the
//! parsers, asserting the exact values it holds, or the specific error for broken ones.
//!
//! [`TABLE`] classifies every file once; a file on disk missing from the table (or a row
//! without its file) fails [`every_fixture_is_classified`], so no fixture is skipped silently.

use std::collections::BTreeSet;
use std::path::PathBuf;

use fedicensus::domain::Domain;
use fedicensus::parse::peers::PeerSet;
use fedicensus::parse::wellknown::SchemaVersion::{V1_0, V2_0, V2_1};
use fedicensus::parse::{instance, nodeinfo, wellknown, ParseError};

use Expect::*;
use Fail::*;

/// The parsers, so that a row can name which one it runs.
#[derive(Debug, Clone, Copy)]
enum P {
    WellKnown,
    NodeInfo,
    InstanceV1,
    InstanceV2,
    Activity,
    MastodonPeers,
    MisskeyInstances,
    LemmyFederated,
}

/// The error variants (their messages come from serde_json and are not pinned).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fail {
    NotJson,
    Shape,
    NoNodeInfoLink,
}

/// Expected NodeInfo, field for field.
struct Ni {
    schema: Option<&'static str>,
    name: &'static str,
    version: Option<&'static str>,
    protocols: &'static [&'static str],
    users: Option<i64>,
    month: Option<i64>,
    halfyear: Option<i64>,
    posts: Option<i64>,
    open: Option<bool>,
    node_name: Option<&'static str>,
    private: bool,
}

/// Expected counts of a bare NodeInfo `usage` object (library test fragments).
struct Usage {
    users: Option<i64>,
    month: Option<i64>,
    halfyear: Option<i64>,
    posts: Option<i64>,
}

struct V1 {
    uri: Option<&'static str>,
    version: Option<&'static str>,
    users: Option<i64>,
    statuses: Option<i64>,
    domains: Option<i64>,
    languages: &'static [&'static str],
    registrations: Option<bool>,
}

struct V2 {
    domain: Option<&'static str>,
    version: Option<&'static str>,
    active_month: Option<i64>,
    languages: &'static [&'static str],
    registrations_enabled: Option<bool>,
}

/// One activity week; every real fixture has all four values.
struct Week {
    week: i64,
    statuses: i64,
    logins: i64,
    registrations: i64,
}

/// What a fixture is and what our parsers must make of it.
enum Expect {
    /// A well-known document: its links, best first.
    WellKnown(&'static [(wellknown::SchemaVersion, &'static str)]),
    NodeInfo(Ni),
    /// Only a NodeInfo `usage` object: read once wrapped into a minimal document.
    UsageFragment(Usage),
    InstanceV1(V1),
    InstanceV2(V2),
    /// An activity list: its length, newest and oldest weeks.
    Activity {
        weeks: usize,
        newest: Week,
        oldest: Week,
    },
    /// A single activity entry (not a list): read once wrapped into an array.
    ActivityEntry(Week),
    /// A peer list: every name, in order.
    Peers(P, &'static [&'static str]),
    /// A payload of the endpoint the parser reads, which it must reject this way.
    Fails(P, Fail),
    /// Not a payload we parse; `checks` are what our parsers must still say about it.
    NotOurs {
        why: &'static str,
        checks: &'static [(P, Fail)],
    },
}

// One row per file reads as a table; rustfmt would spread each row over a dozen lines.
#[rustfmt::skip]
static TABLE: &[(&str, Expect)] = &[
    ("SOURCES.md", NotOurs { why: "provenance notes for this directory", checks: &[(P::NodeInfo, NotJson)] }),
    ("akkoma-api-v1-instance-miraiverse.json", InstanceV1(V1 { uri: Some("miraiverse.xyz"), version: Some("2.7.2 (compatible; Akkoma 3.13.2-0-g050bc74)"), users: Some(743), statuses: Some(52454), domains: Some(18983), languages: &["th", "en"], registrations: Some(true) })),
    ("akkoma-api-v1-instance.json", InstanceV1(V1 { uri: Some("social.thisworksonmycomputer.local"), version: Some("2.7.2 (compatible; Akkoma 3.10.4-0-gebfb617)"), users: Some(5), statuses: Some(16), domains: Some(5844), languages: &["en"], registrations: Some(true) })),
    ("bookwyrm-api-v1-instance.json", InstanceV1(V1 { uri: Some("bookwyrm.social"), version: Some("0.7.4"), users: Some(17429), statuses: Some(875357), domains: None, languages: &["en"], registrations: Some(true) })),
    ("catodon-api-v1-instance.json", InstanceV1(V1 { uri: Some("catodon.social"), version: Some("4.2.1 (compatible; Catodon 24.01-dev)"), users: Some(255), statuses: Some(16179), domains: Some(13102), languages: &[], registrations: Some(true) })),
    ("diaspora-statistics-json.json", NotOurs { why: "legacy diaspora /statistics.json, pre-NodeInfo", checks: &[(P::NodeInfo, Shape), (P::WellKnown, NoNodeInfoLink)] }),
    ("firefish-api-v1-instance.json", InstanceV1(V1 { uri: Some("social.thisworksonmycomputer.local"), version: Some("3.0.0 (compatible; Firefish 1.0.5-dev20)"), users: Some(413642), statuses: Some(21920403), domains: Some(14891), languages: &[], registrations: Some(true) })),
    ("firefish-api-v2-instance.json", InstanceV2(V2 { domain: Some("firefish.ranranhome.info"), version: Some("4.2.8 (compatible; Firefish 20240909)"), active_month: Some(8432), languages: &[], registrations_enabled: Some(true) })),
    ("friendica-api-v1-instance-venera.json", InstanceV1(V1 { uri: Some("venera.social"), version: Some("2.8.0 (compatible; Friendica 2024.06-rc)"), users: Some(2203), statuses: Some(133041), domains: Some(22354), languages: &["en-us"], registrations: Some(true) })),
    ("friendica-api-v1-instance.json", InstanceV1(V1 { uri: Some("social.thisworksonmycomputer.local"), version: Some("2.8.0 (compatible; Friendica 2023.05)"), users: Some(0), statuses: Some(0), domains: Some(0), languages: &["fr"], registrations: Some(true) })),
    ("friendica-api-v2-instance.json", InstanceV2(V2 { domain: Some("friendica.me"), version: Some("2.8.0 (compatible; Friendica 2024.08)"), active_month: Some(19), languages: &["en"], registrations_enabled: Some(false) })),
    ("gotosocial-api-v1-instance-peers-401.json", Fails(P::MastodonPeers, Shape)),
    ("gotosocial-api-v1-instance-peers.json", Peers(P::MastodonPeers, &["example.org", "fossbros-anonymous.io"])),
    ("gotosocial-api-v1-instance.json", InstanceV1(V1 { uri: Some("localhost:8080"), version: Some("0.0.0-testrig"), users: Some(5), statuses: Some(23), domains: Some(2), languages: &["nl", "en-gb"], registrations: Some(true) })),
    ("gotosocial-api-v2-instance-real.json", InstanceV2(V2 { domain: Some("social.browser.org"), version: Some("3.3.0"), active_month: Some(0), languages: &[], registrations_enabled: Some(true) })),
    ("gotosocial-api-v2-instance.json", InstanceV2(V2 { domain: Some("localhost:8080"), version: Some("0.0.0-testrig"), active_month: Some(0), languages: &["nl", "en-gb"], registrations_enabled: Some(true) })),
    ("iceshrimp-api-v1-instance.json", InstanceV1(V1 { uri: Some("iceshrimp.social"), version: Some("4.2.1 (compatible; Iceshrimp 2023.12.1)"), users: Some(72), statuses: Some(3994), domains: Some(13278), languages: &[], registrations: Some(true) })),
    ("iceshrimp-net-api-v1-instance.json", InstanceV1(V1 { uri: Some("example.com"), version: Some("4.2.1 (compatible; Iceshrimp.NET/2024.1-beta2.security3+e1d25a9231)"), users: Some(2), statuses: Some(45), domains: Some(1521), languages: &[], registrations: Some(false) })),
    ("lemmy-api-v3-federated_instances.json", Peers(P::LemmyFederated, &["test2.lemmy.ddenis.info"])),
    ("lemmy-api-v3-site.json", NotOurs { why: "Lemmy /api/v3/site", checks: &[(P::NodeInfo, Shape), (P::LemmyFederated, Shape), (P::MastodonPeers, Shape)] }),
    ("mastodon-api-v1-instance-2.4.0.json", InstanceV1(V1 { uri: Some("mastodon.local"), version: Some("2.4.0"), users: Some(159726), statuses: Some(6059606), domains: Some(4703), languages: &["en"], registrations: None })),
    ("mastodon-api-v1-instance-4.0.0rc1.json", InstanceV1(V1 { uri: Some("mastodon.social"), version: Some("4.0.0rc1"), users: Some(921487), statuses: Some(48629230), domains: Some(48722), languages: &["en"], registrations: Some(false) })),
    ("mastodon-api-v1-instance-4.6.4-local.json", InstanceV1(V1 { uri: Some("localhost:3000"), version: Some("4.6.4"), users: Some(4), statuses: Some(7), domains: Some(1), languages: &["en"], registrations: Some(true) })),
    ("mastodon-api-v1-instance-activity-2018.json", Activity { weeks: 2, newest: Week { week: 1526860800, statuses: 121188, logins: 8779, registrations: 1143 }, oldest: Week { week: 1526256000, statuses: 200229, logins: 10034, registrations: 1379 } }),
    ("mastodon-api-v1-instance-activity-4.6.4-local.json", Activity { weeks: 12, newest: Week { week: 1785592262, statuses: 18, logins: 4, registrations: 4 }, oldest: Week { week: 1778939462, statuses: 0, logins: 0, registrations: 0 } }),
    ("mastodon-api-v1-instance-activity-single.json", ActivityEntry(Week { week: 1574640000, statuses: 37125, logins: 14239, registrations: 542 })),
    ("mastodon-api-v1-instance-activity.json", Activity { weeks: 12, newest: Week { week: 1574640000, statuses: 37125, logins: 14239, registrations: 542 }, oldest: Week { week: 1567987200, statuses: 106029, logins: 19089, registrations: 2769 } }),
    ("mastodon-api-v1-instance-fediversespace.json", InstanceV1(V1 { uri: Some("mastodon.social"), version: Some("1.2.3"), users: Some(100), statuses: Some(100), domains: Some(55958), languages: &["en"], registrations: Some(true) })),
    ("mastodon-api-v1-instance-peers-4.6.4-local.json", Peers(P::MastodonPeers, &["chitter.xyz"])),
    ("mastodon-api-v1-instance-peers-401.json", Fails(P::MastodonPeers, Shape)),
    ("mastodon-api-v1-instance-peers-fediversespace.json", Peers(P::MastodonPeers, &["other.com"])),
    ("mastodon-api-v1-instance-peers.json", Peers(P::MastodonPeers, &["tilde.zone", "mspsocial.net", "conf.tube"])),
    ("mastodon-api-v1-instance-rc-version.json", InstanceV1(V1 { uri: Some("mastodon.local"), version: Some("2.4.1rc1"), users: Some(159726), statuses: Some(6059606), domains: Some(4703), languages: &["en"], registrations: None })),
    ("mastodon-api-v1-instance-rules-empty.json", NotOurs { why: "Mastodon /api/v1/instance/rules (empty array)", checks: &[(P::InstanceV1, Shape), (P::InstanceV2, Shape), (P::NodeInfo, Shape), (P::WellKnown, Shape)] }),
    ("mastodon-api-v1-instance.json", InstanceV1(V1 { uri: Some("mastodon.social"), version: Some("3.5.3"), users: Some(812303), statuses: Some(38151616), domains: Some(25255), languages: &["en"], registrations: Some(false) })),
    ("mastodon-api-v2-instance-4.0.0rc1.json", InstanceV2(V2 { domain: Some("mastodon.social"), version: Some("4.0.0rc1"), active_month: Some(148401), languages: &["en"], registrations_enabled: Some(false) })),
    ("mastodon-api-v2-instance-4.5.json", InstanceV2(V2 { domain: Some("mastodon.social"), version: Some("4.5.0-nightly.2025-10-30"), active_month: Some(259022), languages: &["en"], registrations_enabled: Some(true) })),
    ("mastodon-api-v2-instance-4.6.4-local.json", InstanceV2(V2 { domain: Some("localhost:3000"), version: Some("4.6.4"), active_month: Some(0), languages: &["en"], registrations_enabled: Some(true) })),
    ("mastodon-api-v2-instance-pr-build.json", InstanceV2(V2 { domain: Some("mastodon.social"), version: Some("4.3.0+pr-32577-ba659d5"), active_month: Some(234394), languages: &["en"], registrations_enabled: Some(true) })),
    ("mastodon-api-v2-instance-universeodon.json", InstanceV2(V2 { domain: Some("universeodon.com"), version: Some("4.2.7"), active_month: Some(6132), languages: &["en"], registrations_enabled: Some(true) })),
    ("mastodon-api-v2-instance.json", InstanceV2(V2 { domain: Some("mastodon.social"), version: Some("4.5.0-nightly.2025-07-11"), active_month: Some(279347), languages: &["en"], registrations_enabled: Some(true) })),
    ("matrix-synapse-federation-v1-version.json", NotOurs { why: "Matrix Synapse version, not fediverse", checks: &[(P::NodeInfo, Shape), (P::WellKnown, NoNodeInfoLink)] }),
    ("microdotblog-api-v1-instance.json", InstanceV1(V1 { uri: Some("micro.blog"), version: Some("2.1"), users: None, statuses: None, domains: None, languages: &[], registrations: None })),
    ("misskey-api-meta-fediversespace.json", NotOurs { why: "Misskey /api/meta", checks: &[(P::NodeInfo, Shape), (P::MisskeyInstances, Shape)] }),
    ("misskey-api-stats-fediversespace.json", NotOurs { why: "Misskey /api/stats", checks: &[(P::NodeInfo, Shape), (P::MisskeyInstances, Shape), (P::Activity, Shape)] }),
    ("misskey-api-v1-instance-peers-fediversespace.json", Peers(P::MastodonPeers, &["other.com"])),
    ("nodeinfo-1.0-diaspora.json", NodeInfo(Ni { schema: Some("1.0"), name: "diaspora", version: Some("0.7.4.0-pd0313756"), protocols: &["diaspora"], users: Some(348), month: Some(62), halfyear: Some(123), posts: Some(8522), open: Some(true), node_name: Some("I Like Toast"), private: false })),
    ("nodeinfo-1.0-schema.json", NotOurs { why: "NodeInfo JSON schema", checks: &[(P::NodeInfo, Shape)] }),
    ("nodeinfo-1.0-spec-example.json", NodeInfo(Ni { schema: Some("1.0"), name: "diaspora", version: Some("0.5.0"), protocols: &["diaspora"], users: Some(123), month: Some(23), halfyear: Some(42), posts: Some(500), open: Some(true), node_name: None, private: false })),
    ("nodeinfo-1.1-schema.json", NotOurs { why: "NodeInfo JSON schema", checks: &[(P::NodeInfo, Shape)] }),
    ("nodeinfo-1.1-spec-example.json", NodeInfo(Ni { schema: Some("1.1"), name: "diaspora", version: Some("0.5.0"), protocols: &["diaspora"], users: Some(123), month: Some(23), halfyear: Some(42), posts: Some(500), open: Some(true), node_name: None, private: false })),
    ("nodeinfo-2.0-akkoma-docs.json", NodeInfo(Ni { schema: Some("2.0"), name: "pleroma", version: Some("2.4.1"), protocols: &["activitypub"], users: Some(235), month: Some(70), halfyear: Some(129), posts: Some(27), open: Some(true), node_name: Some("Example"), private: false })),
    ("nodeinfo-2.0-akkoma.json", NodeInfo(Ni { schema: Some("2.0"), name: "akkoma", version: Some("3.12.2-0-g26a91d5"), protocols: &["activitypub"], users: Some(117), month: Some(27), halfyear: Some(36), posts: Some(26780), open: Some(true), node_name: Some("Coral Castle"), private: false })),
    ("nodeinfo-2.0-diaspora.json", NodeInfo(Ni { schema: Some("2.0"), name: "diaspora", version: Some("0.7.4.0-pd0313756"), protocols: &["diaspora"], users: Some(348), month: Some(62), halfyear: Some(123), posts: Some(8522), open: Some(true), node_name: Some("I Like Toast"), private: false })),
    ("nodeinfo-2.0-friendica-2024.json", NodeInfo(Ni { schema: Some("2.0"), name: "friendica", version: Some("2024.03-1557"), protocols: &["dfrn", "activitypub", "diaspora", "ostatus"], users: Some(558), month: Some(113), halfyear: Some(216), posts: Some(5266), open: Some(true), node_name: Some("Friendica Open Social Space"), private: false })),
    ("nodeinfo-2.0-friendica-empty-users.json", NodeInfo(Ni { schema: Some("2.0"), name: "friendica", version: Some("2024.03-1557"), protocols: &["dfrn", "activitypub", "diaspora", "ostatus"], users: None, month: None, halfyear: None, posts: None, open: Some(true), node_name: Some("Social Gibiris (The #Friendica Edition)"), private: false })),
    ("nodeinfo-2.0-friendica.json", NodeInfo(Ni { schema: Some("2.0"), name: "friendica", version: Some("2023.05-1518"), protocols: &["dfrn", "activitypub", "diaspora"], users: Some(1926), month: Some(352), halfyear: Some(854), posts: Some(79804), open: Some(true), node_name: Some("social.example.org 🍀"), private: false })),
    ("nodeinfo-2.0-gotosocial-0.16.json", NodeInfo(Ni { schema: Some("2.0"), name: "gotosocial", version: Some("0.16.0+git-f1cbf6f"), protocols: &["activitypub"], users: Some(5), month: None, halfyear: None, posts: Some(3010), open: Some(false), node_name: None, private: false })),
    ("nodeinfo-2.0-gotosocial.json", NodeInfo(Ni { schema: Some("2.0"), name: "gotosocial", version: Some("0.19.1+git-6574dc8"), protocols: &["activitypub"], users: Some(5), month: None, halfyear: None, posts: Some(5894), open: Some(false), node_name: None, private: false })),
    ("nodeinfo-2.0-lemmy-0.18.5.json", NodeInfo(Ni { schema: Some("2.0"), name: "lemmy", version: Some("0.18.5"), protocols: &["activitypub"], users: Some(149738), month: Some(10536), halfyear: Some(26917), posts: Some(234483), open: Some(true), node_name: None, private: false })),
    ("nodeinfo-2.0-mastodon-4.6.4-local.json", NodeInfo(Ni { schema: Some("2.0"), name: "mastodon", version: Some("4.6.4"), protocols: &["activitypub"], users: Some(4), month: Some(0), halfyear: Some(0), posts: Some(5), open: Some(true), node_name: Some("Mastodon"), private: false })),
    ("nodeinfo-2.0-mastodon-fosstodon.json", NodeInfo(Ni { schema: Some("2.0"), name: "mastodon", version: Some("4.4.2"), protocols: &["activitypub"], users: Some(62444), month: Some(8788), halfyear: Some(14000), posts: Some(4335412), open: Some(false), node_name: Some("Fosstodon"), private: false })),
    ("nodeinfo-2.0-mastodon-pccafe.json", NodeInfo(Ni { schema: Some("2.0"), name: "mastodon", version: Some("4.2.8"), protocols: &["activitypub"], users: Some(2), month: Some(2), halfyear: Some(2), posts: Some(4), open: Some(false), node_name: None, private: false })),
    ("nodeinfo-2.0-mastodon-social-2023.json", NodeInfo(Ni { schema: Some("2.0"), name: "mastodon", version: Some("4.1.2+nightly-20230523"), protocols: &["activitypub"], users: Some(1159186), month: Some(217235), halfyear: Some(468099), posts: Some(56694261), open: Some(true), node_name: None, private: false })),
    ("nodeinfo-2.0-mastodon-social-2024.json", NodeInfo(Ni { schema: Some("2.0"), name: "mastodon", version: Some("4.3.0-nightly.2024-04-30"), protocols: &["activitypub"], users: Some(1935016), month: Some(238223), halfyear: Some(618795), posts: Some(90175135), open: Some(true), node_name: Some("Mastodon"), private: false })),
    ("nodeinfo-2.0-mastodon-social-2025.json", NodeInfo(Ni { schema: Some("2.0"), name: "mastodon", version: Some("4.5.0-nightly.2025-07-17"), protocols: &["activitypub"], users: Some(2811979), month: Some(271572), halfyear: Some(807071), posts: Some(139167975), open: Some(true), node_name: Some("Mastodon"), private: false })),
    ("nodeinfo-2.0-mastodon-social-security.json", NodeInfo(Ni { schema: Some("2.0"), name: "mastodon", version: Some("4.3.0-nightly.2024-07-05-security"), protocols: &["activitypub"], users: Some(2001387), month: Some(229393), halfyear: Some(586512), posts: Some(96286820), open: Some(true), node_name: Some("Mastodon"), private: false })),
    ("nodeinfo-2.0-mastodon-social.json", NodeInfo(Ni { schema: Some("2.0"), name: "mastodon", version: Some("4.1.5+nightly-2023-07-28"), protocols: &["activitypub"], users: Some(1479509), month: Some(470481), halfyear: Some(776979), posts: Some(62251340), open: Some(true), node_name: None, private: false })),
    ("nodeinfo-2.0-peertube-blender.json", NodeInfo(Ni { schema: Some("2.0"), name: "peertube", version: Some("5.0.0"), protocols: &["activitypub"], users: Some(5), month: Some(0), halfyear: Some(2), posts: Some(1018), open: Some(false), node_name: Some("Blender Video"), private: false })),
    ("nodeinfo-2.0-pixelfed-0.12.3.json", NodeInfo(Ni { schema: Some("2.0"), name: "pixelfed", version: Some("0.12.3"), protocols: &["activitypub"], users: Some(116961), month: Some(9489), halfyear: Some(23421), posts: Some(28370424), open: Some(true), node_name: Some("pixelfed"), private: false })),
    ("nodeinfo-2.0-pixelfed-fediversespace.json", NodeInfo(Ni { schema: Some("2.0"), name: "pixelfed", version: Some("0.11.2"), protocols: &["activitypub"], users: Some(16), month: Some(2), halfyear: Some(16), posts: Some(60), open: Some(true), node_name: Some("Pixelfed"), private: false })),
    ("nodeinfo-2.0-pixelfed-social.json", NodeInfo(Ni { schema: Some("2.0"), name: "pixelfed", version: Some("0.12.0"), protocols: &["activitypub"], users: Some(112832), month: Some(8921), halfyear: Some(24366), posts: Some(24059868), open: Some(true), node_name: Some("pixelfed"), private: false })),
    ("nodeinfo-2.0-pleroma-2.6.3.json", NodeInfo(Ni { schema: Some("2.0"), name: "pleroma", version: Some("2.6.3"), protocols: &["activitypub"], users: Some(953), month: Some(50), halfyear: Some(96), posts: Some(434214), open: Some(false), node_name: Some("Stereophonic"), private: false })),
    ("nodeinfo-2.0-pleroma-docs.json", NodeInfo(Ni { schema: Some("2.0"), name: "pleroma", version: Some("2.4.1"), protocols: &["activitypub"], users: Some(235), month: Some(70), halfyear: Some(129), posts: Some(27), open: Some(true), node_name: Some("Example"), private: false })),
    ("nodeinfo-2.0-pleroma-shitposterclub.json", NodeInfo(Ni { schema: Some("2.0"), name: "pleroma", version: Some("2.5.51-9314-g9528fc46-shitposterclub"), protocols: &["activitypub"], users: Some(3382), month: Some(326), halfyear: Some(526), posts: Some(2556018), open: Some(false), node_name: None, private: false })),
    ("nodeinfo-2.0-schema.json", NotOurs { why: "NodeInfo JSON schema", checks: &[(P::NodeInfo, Shape)] }),
    ("nodeinfo-2.0-spec-example.json", NodeInfo(Ni { schema: Some("2.0"), name: "diaspora", version: Some("0.5.0"), protocols: &["diaspora"], users: Some(123), month: Some(23), halfyear: Some(42), posts: Some(500), open: Some(true), node_name: None, private: false })),
    ("nodeinfo-2.1-activity-relay.json", NodeInfo(Ni { schema: Some("2.1"), name: "activity-relay", version: Some("2.0.5"), protocols: &["activitypub"], users: Some(1), month: Some(1), halfyear: Some(1), posts: None, open: Some(true), node_name: None, private: false })),
    ("nodeinfo-2.1-akkoma-docs.json", NodeInfo(Ni { schema: Some("2.1"), name: "pleroma", version: Some("2.5.2"), protocols: &["activitypub"], users: Some(235), month: Some(70), halfyear: Some(129), posts: Some(27), open: Some(true), node_name: Some("Example"), private: false })),
    ("nodeinfo-2.1-catodon-2024.json", NodeInfo(Ni { schema: Some("2.1"), name: "catodon", version: Some("24.04-dev.2"), protocols: &["activitypub"], users: Some(298), month: Some(105), halfyear: Some(266), posts: Some(26893), open: Some(true), node_name: Some("Catodon Social"), private: false })),
    ("nodeinfo-2.1-catodon.json", NodeInfo(Ni { schema: Some("2.1"), name: "catodon", version: Some("24.04-dev.2"), protocols: &["activitypub"], users: Some(294), month: Some(139), halfyear: Some(292), posts: Some(22616), open: Some(true), node_name: Some("Catodon Social"), private: false })),
    ("nodeinfo-2.1-firefish-20240523.json", NodeInfo(Ni { schema: Some("2.1"), name: "firefish", version: Some("20240523"), protocols: &["activitypub"], users: Some(714), month: Some(69), halfyear: Some(257), posts: Some(30828), open: Some(true), node_name: Some("Calckey.world"), private: false })),
    ("nodeinfo-2.1-firefish.json", NodeInfo(Ni { schema: Some("2.1"), name: "firefish", version: Some("20240504"), protocols: &["activitypub"], users: Some(9), month: Some(7), halfyear: Some(7), posts: Some(23857), open: Some(false), node_name: Some("Firefish"), private: false })),
    ("nodeinfo-2.1-funkwhale-spec-example.json", NodeInfo(Ni { schema: Some("2.1"), name: "funkwhale", version: Some("1.4.0"), protocols: &["activitypub"], users: Some(0), month: Some(0), halfyear: Some(0), posts: Some(0), open: Some(true), node_name: Some("string"), private: true })),
    ("nodeinfo-2.1-iceshrimp-net.json", NodeInfo(Ni { schema: Some("2.1"), name: "iceshrimp.net", version: Some("2024.1-beta2.security3+e1d25a9231"), protocols: &["activitypub"], users: Some(2), month: Some(2), halfyear: Some(2), posts: Some(45), open: Some(false), node_name: Some("Iceshrimp.NET"), private: false })),
    ("nodeinfo-2.1-iceshrimp.json", NodeInfo(Ni { schema: Some("2.1"), name: "iceshrimp", version: Some("2023.12.7"), protocols: &["activitypub"], users: Some(185), month: Some(62), halfyear: Some(140), posts: Some(13748), open: Some(true), node_name: Some("Iceshrimp.social"), private: false })),
    ("nodeinfo-2.1-meisskey.json", NodeInfo(Ni { schema: Some("2.1"), name: "meisskey", version: Some("10.102.699-m544"), protocols: &["activitypub"], users: Some(1123), month: Some(89), halfyear: Some(305), posts: Some(268739), open: Some(true), node_name: Some("meisskey.one"), private: false })),
    ("nodeinfo-2.1-pleroma-docs.json", NodeInfo(Ni { schema: Some("2.1"), name: "pleroma", version: Some("2.4.1"), protocols: &["activitypub"], users: Some(235), month: Some(70), halfyear: Some(129), posts: Some(27), open: Some(true), node_name: Some("Example"), private: false })),
    ("nodeinfo-2.1-schema.json", NotOurs { why: "NodeInfo JSON schema", checks: &[(P::NodeInfo, Shape)] }),
    ("nodeinfo-2.1-sharkey.json", NodeInfo(Ni { schema: Some("2.1"), name: "sharkey", version: Some("2024.2.0-beta.12"), protocols: &["activitypub"], users: Some(1912), month: None, halfyear: None, posts: Some(209466), open: Some(true), node_name: Some("Blåhaj Zone"), private: false })),
    ("nodeinfo-2.1-smithereen.json", NodeInfo(Ni { schema: Some("2.1"), name: "smithereen", version: Some("0.8.1-dev.8.dirty+dd0249ed"), protocols: &["activitypub"], users: Some(253), month: Some(33), halfyear: Some(56), posts: Some(1790), open: Some(false), node_name: Some("Gregory's Server"), private: false })),
    ("nodeinfo-2.1-spec-example.json", NodeInfo(Ni { schema: Some("2.1"), name: "diaspora", version: Some("0.5.0"), protocols: &["diaspora"], users: Some(123), month: Some(23), halfyear: Some(42), posts: Some(500), open: Some(true), node_name: None, private: false })),
    ("nodeinfo-2.2-schema.json", NotOurs { why: "NodeInfo JSON schema (draft 2.2)", checks: &[(P::NodeInfo, Shape)] }),
    ("nodeinfo-2.2-spec-example.json", NodeInfo(Ni { schema: Some("2.2"), name: "diaspora", version: Some("0.5.0"), protocols: &["diaspora"], users: Some(123), month: Some(23), halfyear: Some(42), posts: Some(500), open: Some(true), node_name: Some("FI𝑓F fediverse"), private: false })),
    ("nodeinfo2-1.0-example.json", NotOurs { why: "NodeInfo2 fork (server.software, not software.name)", checks: &[(P::NodeInfo, Shape)] }),
    ("oddity-gotosocial-api-v1-instance-peers-filter-objects.json", Peers(P::MastodonPeers, &["example.org", "fossbros-anonymous.io", "o*g.*u**.t**.*or*t.*r**ev**", "replyguys.com"])),
    ("oddity-mastodon-api-v1-instance-null-contact.json", InstanceV1(V1 { uri: Some("mastodon.local"), version: Some("2.4.0"), users: Some(159726), statuses: Some(6059606), domains: Some(4703), languages: &["en"], registrations: None })),
    ("oddity-mastodon-api-v2-instance-minimal.json", InstanceV2(V2 { domain: Some("test.com"), version: Some("1.3.2"), active_month: Some(123456), languages: &[], registrations_enabled: Some(true) })),
    ("oddity-mastodon-api-v2-instance-missing-thumbnail-url.json", InstanceV2(V2 { domain: Some("mastodon.social"), version: Some("4.3.0+pr-32577-ba659d5"), active_month: Some(234394), languages: &["en"], registrations_enabled: Some(true) })),
    ("oddity-nodeinfo-2.0-lemmy-inflated-total.json", NodeInfo(Ni { schema: Some("2.0"), name: "lemmy", version: Some("0.17.3"), protocols: &["activitypub"], users: Some(74234), month: Some(5), halfyear: Some(5), posts: Some(2), open: Some(true), node_name: None, private: false })),
    ("oddity-nodeinfo-2.0-microdotblog-metaData.json", NodeInfo(Ni { schema: Some("2.0"), name: "microdotblog", version: Some("2.1"), protocols: &["activitypub"], users: Some(167066), month: Some(4082), halfyear: Some(37040), posts: Some(7853386), open: Some(true), node_name: None, private: false })),
    ("oddity-nodeinfo-2.0-minimal-no-usage.json", NodeInfo(Ni { schema: Some("2.0"), name: "gotosocial", version: Some("0.19.1"), protocols: &["activitypub"], users: None, month: None, halfyear: None, posts: None, open: Some(false), node_name: None, private: false })),
    ("oddity-nodeinfo-2.1-pleroma-localposts-object.json", NodeInfo(Ni { schema: Some("2.1"), name: "pleroma", version: Some("0.7.4.0-pd0313756"), protocols: &["activitypub"], users: Some(348), month: None, halfyear: None, posts: None, open: Some(true), node_name: None, private: false })),
    ("oddity-nodeinfo-iceshrimp-net-bad-version.json", NodeInfo(Ni { schema: None, name: "iceshrimp.net", version: Some("2024.1-alpha"), protocols: &["activitypub"], users: Some(2), month: Some(2), halfyear: Some(2), posts: Some(17), open: Some(false), node_name: Some("Iceshrimp.NET"), private: false })),
    ("oddity-nodeinfo-usage-empty-users.json", UsageFragment(Usage { users: None, month: None, halfyear: None, posts: None })),
    ("oddity-nodeinfo-usage-garbage.json", UsageFragment(Usage { users: None, month: None, halfyear: None, posts: None })),
    ("oddity-nodeinfo-usage-strings.json", UsageFragment(Usage { users: Some(149738), month: Some(10536), halfyear: Some(26917), posts: Some(234483) })),
    ("oddity-wellknown-nodeinfo-404-body-not-json.txt", Fails(P::WellKnown, NotJson)),
    ("oddity-wellknown-nodeinfo-hubzilla-buggy.json", WellKnown(&[(V2_0, "https://example.com/nodeinfo/2.0"), (V1_0, "https://example.com/nodeinfo/1.0")])),
    ("oddity-wellknown-nodeinfo-lemmy-links-object.json", WellKnown(&[(V2_0, "https://lemmy.ml/nodeinfo/2.0.json")])),
    ("oddity-wellknown-nodeinfo-links-object.json", WellKnown(&[(V1_0, "https://example.com/nodeinfo/1.0")])),
    ("oddity-wellknown-nodeinfo-microdotblog-links-object.json", WellKnown(&[(V2_0, "https://micro.blog/mastodon/nodeinfo/2.0")])),
    ("pixelfed-api-v1-instance-tokyo.json", InstanceV1(V1 { uri: Some("pixelfed.tokyo"), version: Some("3.5.3 (compatible; Pixelfed 0.12.1)"), users: Some(4271), statuses: Some(384710), domains: Some(5701), languages: &["ja"], registrations: Some(true) })),
    ("pixelfed-api-v1-instance.json", InstanceV1(V1 { uri: Some("pixelfed.social"), version: Some("3.5.3 (compatible; Pixelfed 0.12.3)"), users: Some(119267), statuses: Some(29662653), domains: Some(26576), languages: &["en"], registrations: Some(true) })),
    ("pixelfed-api-v2-instance.json", InstanceV2(V2 { domain: Some("pixelfed.social"), version: Some("3.5.3 (compatible; Pixelfed 0.12.3)"), active_month: Some(8179), languages: &["en"], registrations_enabled: Some(false) })),
    ("pleroma-api-v1-instance-iamkonstantin.json", InstanceV1(V1 { uri: Some("m.iamkonstantin.eu"), version: Some("2.7.2 (compatible; Pleroma 2.5.0)"), users: Some(1), statuses: Some(971), domains: Some(10014), languages: &["en"], registrations: Some(false) })),
    ("pleroma-api-v1-instance-wienermobile.json", InstanceV1(V1 { uri: Some("wienermobile.rentals"), version: Some("2.7.2 (compatible; Pleroma 2.6.52-725-g987f44d8-2-6-2)"), users: Some(20), statuses: Some(627), domains: Some(5366), languages: &["en"], registrations: Some(true) })),
    ("pleroma-api-v1-instance.json", InstanceV1(V1 { uri: Some("pleroma.local"), version: Some("2.3.3 (compatible; Pleroma 0.9.0 ffa552f1a41c530a7eff25d27cf0a82e710067b6)"), users: Some(11), statuses: Some(127), domains: Some(5), languages: &[], registrations: None })),
    ("pleroma-api-v2-instance.json", InstanceV2(V2 { domain: Some("fgc.network"), version: Some("2.7.2 (compatible; Pleroma 2.7.0-70-g36d469cf)"), active_month: Some(288), languages: &["en"], registrations_enabled: Some(true) })),
    ("realworld-server-versions-pachli.json5", NotOurs { why: "crawler output in JSON5 (has a // comment)", checks: &[(P::NodeInfo, NotJson), (P::WellKnown, NotJson)] }),
    ("realworld-software-name-counts-lemmy-explorer.json", NotOurs { why: "crawler output: instances per software name", checks: &[(P::NodeInfo, Shape), (P::MastodonPeers, Shape)] }),
    ("sharkey-api-v1-instance.json", InstanceV1(V1 { uri: Some("plasmatrap.com"), version: Some("3.0.0 (compatible; Sharkey 2024.1.0.beta1)"), users: Some(179), statuses: Some(46109), domains: Some(229440), languages: &[], registrations: Some(true) })),
    ("smithereen-api-v1-instance.json", InstanceV1(V1 { uri: Some("friends.grishka.me"), version: Some("Smithereen 0.0.1-pre-alpha"), users: Some(100), statuses: Some(346), domains: Some(1248), languages: &[], registrations: Some(false) })),
    ("snac-api-v1-instance.json", InstanceV1(V1 { uri: Some("snac.bsd.cafe"), version: Some("4.0.0 (not true; really snac/2.55)"), users: Some(0), statuses: Some(0), domains: Some(0), languages: &["en"], registrations: Some(false) })),
    ("wellknown-nodeinfo-2.1-first.json", WellKnown(&[(V2_1, "https://example.org/nodeinfo/2.1"), (V2_0, "https://example.org/nodeinfo/2.0")])),
    ("wellknown-nodeinfo-akkoma.json", WellKnown(&[(V2_1, "https://example.com/nodeinfo/2.1.json"), (V2_0, "https://example.com/nodeinfo/2.0.json")])),
    ("wellknown-nodeinfo-example-org.json", WellKnown(&[(V2_0, "https://example.org/nodeinfo/2.0")])),
    ("wellknown-nodeinfo-gotosocial.json", WellKnown(&[(V2_1, "https://gts.superseriousbusiness.org/nodeinfo/2.1"), (V2_0, "https://gts.superseriousbusiness.org/nodeinfo/2.0")])),
    ("wellknown-nodeinfo-hollo.json", WellKnown(&[(V2_1, "https://hollo.social/nodeinfo/2.1")])),
    ("wellknown-nodeinfo-mastodon-pccafe.json", WellKnown(&[(V2_0, "https://pc.cafe/nodeinfo/2.0")])),
    ("wellknown-nodeinfo-mastodon.json", WellKnown(&[(V2_0, "http://localhost:3000/nodeinfo/2.0")])),
];

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real")
}

fn run(parser: P, body: &[u8]) -> Result<(), ParseError> {
    match parser {
        P::WellKnown => wellknown::parse_wellknown(body).map(drop),
        P::NodeInfo => nodeinfo::parse_nodeinfo(body).map(drop),
        P::InstanceV1 => instance::parse_instance_v1(body).map(drop),
        P::InstanceV2 => instance::parse_instance_v2(body).map(drop),
        P::Activity => instance::parse_activity(body).map(drop),
        P::MastodonPeers | P::MisskeyInstances | P::LemmyFederated => {
            peer_list(parser, body).map(drop)
        }
    }
}

fn peer_list(parser: P, body: &[u8]) -> Result<PeerSet, ParseError> {
    let mut set = PeerSet::new();
    match parser {
        P::MisskeyInstances => set.read_misskey_page(body),
        P::LemmyFederated => set.read_lemmy(body),
        _ => set.read_mastodon(body),
    }?;
    Ok(set)
}

fn fail_of(err: &ParseError) -> Fail {
    match err {
        ParseError::NotJson(_) => NotJson,
        ParseError::Shape(_) => Shape,
        ParseError::NoNodeInfoLink => NoNodeInfoLink,
    }
}

fn assert_fails(file: &str, parser: P, body: &[u8], want: Fail) {
    match run(parser, body) {
        Ok(()) => panic!("{file}: {parser:?} accepted it, expected {want:?}"),
        Err(err) => assert_eq!(fail_of(&err), want, "{file}: {parser:?} gave {err}"),
    }
}

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn activity_week(w: &Week) -> instance::ActivityWeek {
    instance::ActivityWeek {
        week: w.week,
        statuses: Some(w.statuses),
        logins: Some(w.logins),
        registrations: Some(w.registrations),
    }
}

fn check(file: &str, body: &[u8], expect: &Expect) {
    match expect {
        WellKnown(want) => {
            let got = wellknown::parse_wellknown(body).unwrap_or_else(|e| panic!("{file}: {e}"));
            let got: Vec<_> = got.iter().map(|l| (l.schema, l.href.as_str())).collect();
            assert_eq!(got, *want, "{file}");
        }
        NodeInfo(ni) => {
            let got = nodeinfo::parse_nodeinfo(body).unwrap_or_else(|e| panic!("{file}: {e}"));
            let want = nodeinfo::NodeInfo {
                schema: ni.schema.map(String::from),
                software_name: ni.name.to_owned(),
                software_version: ni.version.map(String::from),
                protocols: owned(ni.protocols),
                users_total: ni.users,
                active_month: ni.month,
                active_halfyear: ni.halfyear,
                local_posts: ni.posts,
                open_registrations: ni.open,
                node_name: ni.node_name.map(String::from),
                private: ni.private,
            };
            assert_eq!(got, want, "{file}");
        }
        UsageFragment(usage) => {
            assert_fails(file, P::NodeInfo, body, Shape);
            let mut doc = br#"{"software":{"name":"fragment"},"usage":"#.to_vec();
            doc.extend_from_slice(body);
            doc.push(b'}');
            let got = nodeinfo::parse_nodeinfo(&doc).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(
                (
                    got.users_total,
                    got.active_month,
                    got.active_halfyear,
                    got.local_posts
                ),
                (usage.users, usage.month, usage.halfyear, usage.posts),
                "{file}"
            );
        }
        InstanceV1(v1) => {
            let got = instance::parse_instance_v1(body).unwrap_or_else(|e| panic!("{file}: {e}"));
            let want = instance::InstanceV1 {
                uri: v1.uri.map(String::from),
                version: v1.version.map(String::from),
                user_count: v1.users,
                status_count: v1.statuses,
                domain_count: v1.domains,
                languages: owned(v1.languages),
                registrations: v1.registrations,
            };
            assert_eq!(got, want, "{file}");
        }
        InstanceV2(v2) => {
            let got = instance::parse_instance_v2(body).unwrap_or_else(|e| panic!("{file}: {e}"));
            let want = instance::InstanceV2 {
                domain: v2.domain.map(String::from),
                version: v2.version.map(String::from),
                active_month: v2.active_month,
                languages: owned(v2.languages),
                registrations_enabled: v2.registrations_enabled,
            };
            assert_eq!(got, want, "{file}");
        }
        Activity {
            weeks,
            newest,
            oldest,
        } => {
            let got = instance::parse_activity(body).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(got.len(), *weeks, "{file}");
            assert_eq!(got.first(), Some(&activity_week(newest)), "{file}");
            assert_eq!(got.last(), Some(&activity_week(oldest)), "{file}");
            assert!(
                got.windows(2).all(|w| w[0].week >= w[1].week),
                "{file}: not newest first"
            );
        }
        ActivityEntry(week) => {
            assert_fails(file, P::Activity, body, Shape);
            let wrapped = [b"[".as_slice(), body, b"]"].concat();
            let got = instance::parse_activity(&wrapped).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(got, [activity_week(week)], "{file}");
        }
        Peers(parser, entries) => {
            // The table lists the name entries as served; the crawler keeps the valid
            // ones, each once, and counts the rest as rejected.
            let got = peer_list(*parser, body).unwrap_or_else(|e| panic!("{file}: {e}"));
            let mut kept: Vec<Domain> = Vec::new();
            for name in entries.iter().filter_map(|e| Domain::parse(e).ok()) {
                if !kept.contains(&name) {
                    kept.push(name);
                }
            }
            let invalid = entries.iter().filter(|e| Domain::parse(e).is_err()).count();
            assert_eq!(got.names(), kept, "{file}");
            assert_eq!(got.rejected, invalid, "{file}");
        }
        Fails(parser, want) => assert_fails(file, *parser, body, *want),
        NotOurs { why, checks } => {
            assert!(
                !why.is_empty() && !checks.is_empty(),
                "{file}: say why and check something"
            );
            for (parser, want) in checks.iter() {
                assert_fails(file, *parser, body, *want);
            }
        }
    }
}

#[test]
fn every_fixture_is_classified() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(fixture_dir())
        .expect("fixture directory")
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let in_table: BTreeSet<String> = TABLE.iter().map(|(file, _)| file.to_string()).collect();
    assert_eq!(
        in_table.len(),
        TABLE.len(),
        "a file is listed twice in TABLE"
    );
    let unlisted: Vec<_> = on_disk.difference(&in_table).collect();
    let missing: Vec<_> = in_table.difference(&on_disk).collect();
    assert!(
        unlisted.is_empty(),
        "fixtures missing from TABLE: {unlisted:?}"
    );
    assert!(missing.is_empty(), "TABLE rows without a file: {missing:?}");
}

#[test]
fn every_fixture_parses_as_classified() {
    for (file, expect) in TABLE {
        let body =
            std::fs::read(fixture_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        check(file, &body, expect);
    }
}

#[test]
fn truncated_fixtures_never_panic() {
    let parsers = [
        P::WellKnown,
        P::NodeInfo,
        P::InstanceV1,
        P::InstanceV2,
        P::Activity,
        P::MastodonPeers,
        P::MisskeyInstances,
        P::LemmyFederated,
    ];
    for (file, _) in TABLE {
        let body =
            std::fs::read(fixture_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        // A cut every 61 bytes (and at the end) reaches every nesting depth without
        // parsing each file thousands of times.
        for cut in (0..body.len()).step_by(61).chain([body.len()]) {
            let prefix = body.get(..cut).unwrap_or_default();
            for parser in parsers {
                let _ = run(parser, prefix);
            }
        }
    }
}
