//! Response bodies per server software, shaped after the captured payloads in
//! `tests/fixtures/real/` (see its SOURCES.md): NodeInfo discovery and documents, the Mastodon
//! instance API, Misskey's federation list, Lemmy's federated instances, robots.txt, HTML
//! pages, and the deliberately hostile bodies (oversized, gzip bomb).
//!
//! Functions only; the one type, [`NodeInfoDoc`], names where a NodeInfo document lives.
//! `host` parameters are the name the request came in on (a split server's web domain), used
//! for absolute URLs; identity fields (`uri`, `domain`) always name [`SimServer::domain`].

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Map, Value};

use super::world::{Behaviour, Kind, SimServer};

/// Page size cap of Misskey's `federation/instances`.
pub(crate) const MISSKEY_MAX_LIMIT: usize = 100;
/// Misskey's default page size when the request names none.
pub(crate) const MISSKEY_DEFAULT_LIMIT: usize = 30;

const MIB: usize = 1024 * 1024;

/// A NodeInfo document a server links from `/.well-known/nodeinfo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NodeInfoDoc {
    /// Schema version, "1.0" … "2.1".
    pub version: &'static str,
    pub path: &'static str,
}

const fn doc(version: &'static str, path: &'static str) -> NodeInfoDoc {
    NodeInfoDoc { version, path }
}

/// The documents a server links, in the order real servers list them.
pub(crate) fn nodeinfo_docs(s: &SimServer) -> &'static [NodeInfoDoc] {
    if s.has(&Behaviour::NodeInfoAtOddPath) {
        return const { &[doc("2.1", "/api/nodeinfo")] };
    }
    match s.kind {
        Kind::Mastodon => const { &[doc("2.0", "/nodeinfo/2.0")] },
        Kind::Pleroma | Kind::Akkoma => {
            const {
                &[
                    doc("2.0", "/nodeinfo/2.0.json"),
                    doc("2.1", "/nodeinfo/2.1.json"),
                ]
            }
        }
        Kind::Misskey => const { &[doc("2.1", "/nodeinfo/2.1"), doc("2.0", "/nodeinfo/2.0")] },
        Kind::GoToSocial => const { &[doc("2.0", "/nodeinfo/2.0"), doc("2.1", "/nodeinfo/2.1")] },
        Kind::Lemmy | Kind::PeerTube => const { &[doc("2.0", "/nodeinfo/2.0.json")] },
        Kind::Friendica => const { &[doc("1.0", "/nodeinfo/1.0"), doc("2.0", "/nodeinfo/2.0")] },
        Kind::Pixelfed => const { &[doc("2.0", "/api/nodeinfo/2.0.json")] },
        Kind::NotFediverse => &[],
    }
}

pub(crate) fn well_known(s: &SimServer, host: &str) -> Value {
    if let Some(n) = s.find(|b| match b {
        Behaviour::ManyNodeInfoLinks(n) => Some(*n),
        _ => None,
    }) {
        let links: Vec<Value> = (0..n)
            .map(|i| {
                json!({
                    "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                    "href": format!("https://{host}/nodeinfo/missing-{i}"),
                })
            })
            .collect();
        return json!({ "links": links });
    }
    let links: Vec<Value> = nodeinfo_docs(s)
        .iter()
        .map(|d| {
            json!({
                "rel": format!("http://nodeinfo.diaspora.software/ns/schema/{}", d.version),
                "href": format!("https://{host}{}", d.path),
            })
        })
        .collect();
    match links.first() {
        Some(first) if s.has(&Behaviour::WellKnownLinksObject) => json!({ "links": first }),
        _ => json!({ "links": links }),
    }
}

/// A count, as a string where the server has that habit.
fn num(s: &SimServer, n: i64) -> Value {
    if s.has(&Behaviour::NumbersAsStrings) {
        Value::String(n.to_string())
    } else {
        n.into()
    }
}

/// Whether NodeInfo reports the active-user counts (GoToSocial never does).
pub(crate) fn nodeinfo_has_active(s: &SimServer) -> bool {
    s.kind != Kind::GoToSocial && !s.has(&Behaviour::OnlyTotal)
}

fn usage(s: &SimServer) -> Value {
    let mut users = Map::new();
    users.insert("total".into(), num(s, s.users_total));
    if nodeinfo_has_active(s) {
        users.insert("activeHalfyear".into(), num(s, s.active_halfyear));
        users.insert("activeMonth".into(), num(s, s.active_month));
    }
    let mut usage = json!({ "users": users, "localPosts": num(s, s.local_posts) });
    if matches!(s.kind, Kind::Lemmy | Kind::PeerTube | Kind::Friendica) {
        usage["localComments"] = num(s, s.local_posts / 3);
    }
    usage
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn metadata(s: &SimServer) -> Option<Value> {
    let mut meta = match s.kind {
        Kind::Lemmy | Kind::GoToSocial => Map::new(),
        Kind::Misskey => object(json!({
            "nodeName": s.domain,
            "nodeDescription": "A small Misskey server.",
            "maintainer": { "name": "admin", "email": format!("admin@{}", s.domain) },
            "langs": [],
            "disableRegistration": !s.open_registrations,
            "maxNoteTextLength": 3000,
        })),
        Kind::PeerTube => object(json!({
            "taxonomy": { "postsName": "Videos" },
            "nodeName": s.domain,
            "nodeDescription": "A PeerTube instance.",
        })),
        _ => object(json!({ "nodeName": s.domain, "nodeDescription": "" })),
    };
    if s.has(&Behaviour::NodeInfoPrivate) {
        meta.insert("private".into(), true.into());
    }
    // Lemmy 0.18 sends no metadata key at all rather than an empty object.
    (s.kind != Kind::Lemmy || !meta.is_empty()).then_some(Value::Object(meta))
}

/// The NodeInfo document of schema `version` ("1.0" uses the 1.x protocols object).
pub(crate) fn nodeinfo(s: &SimServer, version: &str) -> Value {
    let protocols: Vec<&str> = if s.kind == Kind::Friendica {
        vec!["dfrn", "activitypub", "diaspora"]
    } else {
        vec!["activitypub"]
    };
    let (name, version_claimed) = s.software();
    let mut software = json!({ "name": name, "version": version_claimed });
    let mut out = json!({
        "version": version,
        "openRegistrations": s.open_registrations,
    });
    if version.starts_with('1') {
        out["protocols"] = json!({ "inbound": protocols, "outbound": protocols });
    } else {
        out["protocols"] = json!(protocols);
    }
    if version == "2.1" {
        software["repository"] = format!("https://example.org/{}", s.kind.software_name()).into();
    }
    out["software"] = software;
    if s.kind != Kind::Lemmy {
        out["services"] = json!({ "inbound": [], "outbound": [] });
    }
    if !s.has(&Behaviour::NoUsage) {
        out["usage"] = usage(s);
    }
    if let Some(meta) = metadata(s) {
        out["metadata"] = meta;
    }
    out
}

/// The `version` of the Mastodon-compatible API, with the "compatible" wrappers real
/// non-Mastodon servers use.
fn api_version(kind: Kind) -> String {
    match kind {
        Kind::Pleroma | Kind::Akkoma => {
            format!("2.7.2 (compatible; {} {})", title(kind), kind.version())
        }
        Kind::Pixelfed => format!("3.5.3 (compatible; Pixelfed {})", kind.version()),
        Kind::Friendica => format!("2.8.0 (compatible; Friendica {})", kind.version()),
        _ => kind.version().to_owned(),
    }
}

fn title(kind: Kind) -> &'static str {
    match kind {
        Kind::Mastodon => "Mastodon",
        Kind::Pleroma => "Pleroma",
        Kind::Akkoma => "Akkoma",
        Kind::Misskey => "Misskey",
        Kind::Lemmy => "Lemmy",
        Kind::GoToSocial => "GoToSocial",
        Kind::PeerTube => "PeerTube",
        Kind::Friendica => "Friendica",
        Kind::Pixelfed => "Pixelfed",
        Kind::NotFediverse => "Website",
    }
}

/// The name the instance API gives: the server's own, unless it claims another.
fn claimed_name(s: &SimServer) -> &str {
    s.find(|b| match b {
        Behaviour::ClaimsDomain(name) => Some(name.as_str()),
        _ => None,
    })
    .unwrap_or(&s.domain)
}

/// `/api/v1/instance`.
pub(crate) fn instance_v1(s: &SimServer, host: &str) -> Value {
    let uri = match s.kind {
        Kind::Pleroma | Kind::Akkoma => format!("https://{}", claimed_name(s)),
        _ => claimed_name(s).to_owned(),
    };
    json!({
        "uri": uri,
        "title": title(s.kind),
        "short_description": "",
        "description": format!("A {} server.", title(s.kind)),
        "email": format!("admin@{}", s.domain),
        "version": api_version(s.kind),
        "urls": { "streaming_api": format!("wss://{host}") },
        "stats": {
            "user_count": num(s, s.users_total),
            "status_count": num(s, s.local_posts),
            "domain_count": s.peers.len(),
        },
        "thumbnail": format!("https://{host}/packs/media/images/preview.png"),
        "languages": s.languages,
        "registrations": s.open_registrations,
        "approval_required": false,
        "invites_enabled": true,
        "contact_account": null,
        "rules": [],
    })
}

/// `/api/v2/instance`; `domain` names the apex of a split server.
pub(crate) fn instance_v2(s: &SimServer, host: &str) -> Value {
    json!({
        "domain": claimed_name(s),
        "title": title(s.kind),
        "version": api_version(s.kind),
        "source_url": format!("https://example.org/{}", s.kind.software_name()),
        "description": format!("A {} server.", title(s.kind)),
        "usage": { "users": { "active_month": num(s, s.active_month) } },
        "thumbnail": { "url": format!("https://{host}/packs/media/images/preview.png") },
        "languages": s.languages,
        "configuration": { "urls": { "streaming": format!("wss://{host}") } },
        "registrations": {
            "enabled": s.open_registrations,
            "approval_required": false,
            "message": null,
        },
        "contact": { "email": format!("admin@{}", s.domain), "account": null },
        "rules": [],
    })
}

/// `/api/v1/instance/activity`: 12 weeks, newest first, every value a string as Mastodon
/// sends them. `now` is a Unix time; weeks start on Mondays 00:00 UTC.
pub(crate) fn activity(s: &SimServer, now: i64) -> Value {
    const WEEK: i64 = 7 * 24 * 3600;
    // The Unix epoch fell on a Thursday.
    let monday = now - (now + 3 * 24 * 3600).rem_euclid(WEEK);
    let weeks: Vec<Value> = (0..12)
        .map(|i| {
            json!({
                "week": (monday - i * WEEK).to_string(),
                "statuses": (s.local_posts / 52).to_string(),
                "logins": (s.active_month * 3 / 4).to_string(),
                "registrations": s.registrations_week.unwrap_or(s.users_total / 100).to_string(),
            })
        })
        .collect();
    Value::Array(weeks)
}

/// `/api/v1/instance/peers`.
pub(crate) fn mastodon_peers(s: &SimServer) -> Value {
    json!(s.served_peers())
}

/// One page of Misskey's `POST /api/federation/instances`; `lookup` fills the counts of
/// hosts the world knows.
pub(crate) fn misskey_instances<'w>(
    s: &SimServer,
    offset: usize,
    limit: usize,
    host_filter: Option<&str>,
    lookup: &(dyn Fn(&str) -> Option<&'w SimServer> + Sync),
) -> Value {
    let page: Vec<Value> = s
        .served_peers()
        .iter()
        .enumerate()
        .filter(|(_, h)| host_filter.is_none_or(|f| h.contains(f)))
        .skip(offset)
        .take(limit)
        .map(|(i, h)| {
            let known = lookup(h);
            json!({
                "id": format!("9r{i:08x}"),
                "firstRetrievedAt": "2024-03-01T12:00:00.000Z",
                "host": h,
                "usersCount": known.map_or(0, |k| k.users_total),
                "notesCount": known.map_or(0, |k| k.local_posts),
                "followingCount": 0,
                "followersCount": 0,
                "isNotResponding": false,
                "isSuspended": false,
                "isBlocked": false,
                "softwareName": known.map(|k| k.kind.software_name()),
                "softwareVersion": known.map(|k| k.kind.version()),
                "openRegistrations": known.map(|k| k.open_registrations),
                "name": null,
                "description": null,
                "maintainerName": null,
                "maintainerEmail": null,
                "iconUrl": null,
                "faviconUrl": null,
                "themeColor": null,
                "infoUpdatedAt": null,
                "latestRequestReceivedAt": null,
            })
        })
        .collect();
    Value::Array(page)
}

/// Lemmy's `/api/v3/federated_instances`.
pub(crate) fn lemmy_federated<'w>(
    s: &SimServer,
    lookup: &(dyn Fn(&str) -> Option<&'w SimServer> + Sync),
) -> Value {
    let entry = |(i, domain): (usize, &String)| {
        let mut e = json!({
            "id": i + 2,
            "domain": domain,
            "published": "2024-01-15T10:00:00.000000Z",
            "updated": "2024-06-01T00:00:01.229322Z",
        });
        if let Some(known) = lookup(domain) {
            e["software"] = known.kind.software_name().into();
            e["version"] = known.kind.version().into();
        }
        e
    };
    let linked: Vec<Value> = s.served_peers().iter().enumerate().map(entry).collect();
    let blocked: Vec<Value> = s.blocked.iter().enumerate().map(entry).collect();
    json!({ "federated_instances": { "linked": linked, "allowed": [], "blocked": blocked } })
}

pub(crate) fn robots(s: &SimServer) -> Option<&str> {
    if let Some(text) = s.find(|b| match b {
        Behaviour::RobotsTxt(text) => Some(text.as_str()),
        _ => None,
    }) {
        Some(text)
    } else if s.has(&Behaviour::RobotsDisallowAll) {
        Some("User-agent: *\nDisallow: /\n")
    } else if s.has(&Behaviour::RobotsDisallowFedicensus) {
        Some("User-agent: fedicensus\nDisallow: /\n\nUser-agent: *\nDisallow:\n")
    } else {
        None
    }
}

pub(crate) fn html_page(heading: &str, text: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{heading}</title></head>\
         <body><h1>{heading}</h1><p>{text}</p></body></html>\n"
    )
}

/// A 20 MiB peer list of distinct, well-formed names a crawler must never get to read.
pub(crate) fn oversized_peers() -> Bytes {
    static BODY: OnceLock<Bytes> = OnceLock::new();
    BODY.get_or_init(|| {
        let mut body = String::with_capacity(20 * MIB + 64);
        body.push('[');
        let mut i = 0u64;
        while body.len() < 20 * MIB {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&format!("\"n{i:07}.flood-peers.net\""));
            i += 1;
        }
        body.push(']');
        Bytes::from(body)
    })
    .clone()
}

/// The JSON array of a [`Behaviour::PeerFlood`]: `entry` repeated (`{n}` replaced by
/// the index) while the whole stays within `bytes`. Built once per flood and shared.
pub(crate) fn peer_flood(entry: &str, bytes: usize) -> Bytes {
    static BODIES: OnceLock<Mutex<HashMap<(String, usize), Bytes>>> = OnceLock::new();
    let bodies = BODIES.get_or_init(Mutex::default);
    let key = (entry.to_owned(), bytes);
    if let Some(body) = lock(bodies).get(&key) {
        return body.clone();
    }
    // The quoted, escaped entry, split where the index goes.
    let quoted = Value::from(entry).to_string();
    let numbered = quoted.contains("{n}");
    let (head, tail) = quoted.split_once("{n}").unwrap_or((&quoted, ""));
    let mut body = String::with_capacity(bytes);
    body.push('[');
    let mut item = String::new();
    for n in 0u64.. {
        item.clear();
        item.push_str(head);
        if numbered {
            item.push_str(&n.to_string());
        }
        item.push_str(tail);
        if body.len() + item.len() + 2 > bytes {
            break;
        }
        if n > 0 {
            body.push(',');
        }
        body.push_str(&item);
    }
    body.push(']');
    let body = Bytes::from(body);
    lock(bodies).insert(key, body.clone());
    body
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A valid 3 MiB NodeInfo document (the bulk is its description).
pub(crate) fn oversized_nodeinfo() -> Bytes {
    static BODY: OnceLock<Bytes> = OnceLock::new();
    BODY.get_or_init(|| {
        let s = SimServer::new("bloated.invalid", Kind::Mastodon).with_usage(1, 1, 1, 1);
        let mut doc = nodeinfo(&s, "2.0");
        doc["metadata"]["nodeDescription"] = "x".repeat(3 * MIB).into();
        Bytes::from(doc.to_string())
    })
    .clone()
}

/// Gzip of a 64 MiB NodeInfo-looking document, built once on first use (it takes a moment,
/// so call it off the async workers).
pub(crate) fn gzip_bomb() -> Bytes {
    static BODY: OnceLock<Bytes> = OnceLock::new();
    BODY.get_or_init(|| {
        let head = br#"{"version":"2.0","software":{"name":"mastodon","version":"4.3.2"},"protocols":["activitypub"],"usage":{"users":{"total":1}},"metadata":{"nodeDescription":""#;
        let tail = br#""}}"#;
        let spaces = vec![b' '; MIB];
        let build = || -> std::io::Result<Vec<u8>> {
            let mut gz = GzEncoder::new(Vec::new(), Compression::best());
            gz.write_all(head)?;
            for _ in 0..64 {
                gz.write_all(&spaces)?;
            }
            gz.write_all(tail)?;
            gz.finish()
        };
        // Writing into a Vec cannot fail; an empty body would still be refused as non-JSON.
        Bytes::from(build().unwrap_or_default())
    })
    .clone()
}
