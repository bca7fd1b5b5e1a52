//! One visit to one server: NodeInfo (robots.txt is read first by the fetcher, for every
//! host the visit reaches), its peer list, then the server APIs its software offers, and
//! the rest of a paged peer list, in that order; only NodeInfo can end the visit. All its
//! requests share one [`Session`]: its deadline and its origin.
//!
//! Peers come before the APIs, and each document's names are handed to the crawl as soon
//! as it is read ([`Discovered`]), because discovery sets the pace of a crawl's start: a
//! name found one request earlier is visited one request earlier, and so are the names
//! its own list holds. A paged list (Misskey's) reads its first page there and the rest
//! after the APIs, so a slow list cannot spend the visit's deadline before the server's
//! numbers are read. Names are handed over only once NodeInfo was read, so only servers
//! that answered as fediverse servers introduce names, as before.
//!
//! Which number wins when documents disagree: NodeInfo is primary (it is what every
//! fediverse software serves and what other censuses read); the Mastodon API only fills
//! fields NodeInfo lacks (`stats.user_count` → users, `stats.status_count` → posts,
//! `usage.users.active_month` → monthly actives).
//!
//! The canonical name of a server is the `domain` of `/api/v2/instance`, else the
//! `uri` of `/api/v1/instance`, else the host that served NodeInfo. A name claimed by
//! the API is accepted only under the registrable domain of the host that served it,
//! so no server can file its numbers under somebody else's name, and only if a visit to
//! that name would be let through (not excluded, not opted out, robots.txt allowing).
//!
//! A well-known document yields at most [`MAX_NODEINFO_CANDIDATES`] NodeInfo documents
//! to try, best schema first.
//!
//! Types: [`Visit`], [`VisitResult`], [`UpVisit`], [`Discovered`] (sent on a
//! [`PeerSender`]); function [`visit`].

use std::collections::BTreeSet;
use std::ops::Range;

use reqwest::StatusCode;
use url::Url;

use super::software::{Capabilities, PeerApi};
use crate::domain::Domain;
use crate::fetch::{Contact, FetchError, Fetcher, Session};
use crate::outcome::{FailureReason, OptOut};
use crate::parse::instance::{self, ActivityWeek, InstanceV1, InstanceV2};
use crate::parse::nodeinfo::{self, NodeInfo};
use crate::parse::peers::{self, Found, PeerSet};
use crate::parse::{wellknown, ParseError};
use crate::snapshot::{ServerStats, Source};

/// Cap of the well-known NodeInfo document and of each NodeInfo document, in decoded
/// bytes (robots.txt has its own: [`crate::fetch::robots::ROBOTS_CAP`]).
pub const NODEINFO_CAP: usize = 1024 * 1024;
/// Cap of each instance API document (`/api/v1/instance`, `/api/v2/instance`,
/// `/api/v1/instance/activity`), in decoded bytes.
pub const INSTANCE_CAP: usize = 1024 * 1024;
/// Cap of a peer list, and of each Misskey federation page, in decoded bytes.
pub const PEERS_CAP: usize = 16 * 1024 * 1024;
/// Misskey federation pages asked per visit (100 servers a page); paging also stops at
/// a short page or one that adds no new name.
pub const MISSKEY_MAX_PAGES: usize = 50;
const MISSKEY_PAGE: usize = 100;
/// NodeInfo documents tried per visit: a server offers one per schema it speaks, and a
/// well-known document listing hundreds must not cost hundreds of requests.
pub const MAX_NODEINFO_CANDIDATES: usize = 3;

/// What a visit found.
#[derive(Debug)]
pub struct Visit {
    /// The name as it was visited.
    pub domain: Domain,
    /// How the visit ended.
    pub result: VisitResult,
}

/// Peer names one visit read, handed to the crawl while the visit goes on.
#[derive(Debug)]
pub struct Discovered {
    /// The visited name whose list held them.
    pub via: Domain,
    /// The names read since the last hand-over, with the counts of rejected and skipped
    /// entries.
    pub peers: Found,
}

/// Where visits hand their [`Discovered`] names.
pub type PeerSender = tokio::sync::mpsc::UnboundedSender<Discovered>;

/// How a visit ended.
#[derive(Debug)]
pub enum VisitResult {
    /// The server answered as a fediverse server: its numbers and names.
    Up(Box<UpVisit>),
    /// The visited name asked not to be counted (robots.txt, 410 or 451, NodeInfo
    /// `private`) or is excluded (`--exclude`).
    OptedOut(OptOut),
    /// No NodeInfo could be read; the error carries the failure reason.
    Failed(FetchError),
}

/// What a visit to a server that answered found.
#[derive(Debug)]
pub struct UpVisit {
    /// The name its numbers are filed under (see the module doc).
    pub canonical: Domain,
    /// Other names this server answered under in this visit (never the canonical one).
    pub aliases: BTreeSet<Domain>,
    /// The server's numbers: NodeInfo's, gaps filled from the Mastodon API.
    pub stats: ServerStats,
}

/// Ends a visit early with a result.
type Step<T> = Result<T, VisitResult>;

/// Visits `domain` and reports what it found; never fails: every problem is a
/// [`VisitResult`] (a panic is caught by the crawl). `contact` is how the first request
/// (robots.txt, unless it was read earlier this run) is made; once anything is answered,
/// the rest of the visit is [`Contact::Known`]. Peer names go to `found` as they are read.
pub async fn visit(
    fetcher: &Fetcher,
    domain: Domain,
    contact: Contact,
    found: PeerSender,
) -> Visit {
    let session = fetcher.session(domain.clone(), contact);
    let mut peers = Peers {
        set: PeerSet::new(),
        via: domain.clone(),
        to: found,
    };
    let result = match run(&session, &mut peers).await {
        Ok(up) => VisitResult::Up(Box::new(up)),
        Err(end) => end,
    };
    Visit { domain, result }
}

/// A visit's peer list, handed over document by document.
struct Peers {
    set: PeerSet,
    via: Domain,
    to: PeerSender,
}

impl Peers {
    /// Sends what was read since the last call.
    fn hand_over(&mut self) {
        let found = self.set.take();
        if !found.is_empty() {
            // Only an interrupted crawl stops listening, and it drops its visits anyway.
            let _ = self.to.send(Discovered {
                via: self.via.clone(),
                peers: found,
            });
        }
    }
}

fn failed(reason: FailureReason, detail: impl Into<String>) -> VisitResult {
    VisitResult::Failed(FetchError::new(reason, detail))
}

/// A required document could not be had: the visited server opted out if the request
/// was refused for its own name, otherwise the visit failed.
fn ended(session: &Session<'_>, error: FetchError) -> VisitResult {
    match &error.refused {
        Some(refusal) if refusal.host == *session.origin() => VisitResult::OptedOut(refusal.how),
        _ => VisitResult::Failed(error),
    }
}

/// 410 and 451 are how a server says it is gone or may not be listed.
fn gone(status: StatusCode) -> bool {
    status == StatusCode::GONE || status == StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS
}

async fn run(session: &Session<'_>, peers: &mut Peers) -> Step<UpVisit> {
    let domain = session.origin();
    let (info, schema, info_host) = read_nodeinfo(session).await?;
    if info.private {
        return Err(VisitResult::OptedOut(OptOut::NodeInfoPrivate));
    }

    let caps = Capabilities::of(&info.software_name);
    let more_pages = match caps.peers {
        Some(api) => read_peers(session, &info_host, api, peers).await,
        None => None,
    };
    let (mut v1, mut v2, mut activity) = (None, None, Vec::new());
    if caps.instance_api {
        v2 = optional(
            session,
            &info_host,
            "/api/v2/instance",
            instance::parse_instance_v2,
        )
        .await;
        v1 = optional(
            session,
            &info_host,
            "/api/v1/instance",
            instance::parse_instance_v1,
        )
        .await;
    }
    if caps.activity {
        activity = optional(
            session,
            &info_host,
            "/api/v1/instance/activity",
            instance::parse_activity,
        )
        .await
        .unwrap_or_default();
    }
    if let Some(page) = more_pages {
        read_misskey(session, &info_host, page..MISSKEY_MAX_PAGES, peers).await;
    }

    let canonical = canonical_name(session, &info_host, v2.as_ref(), v1.as_ref()).await;
    let aliases = [domain, &info_host]
        .into_iter()
        .filter(|name| **name != canonical)
        .cloned()
        .collect();
    Ok(UpVisit {
        canonical,
        aliases,
        stats: merge(info, schema, v1, v2, &activity),
    })
}

/// Finds and reads the best NodeInfo document: its parsed form, the schema read and the
/// host that served it.
async fn read_nodeinfo(session: &Session<'_>) -> Step<(NodeInfo, String, Domain)> {
    let domain = session.origin();
    let page = session
        .get(domain, "/.well-known/nodeinfo", NODEINFO_CAP)
        .await
        .map_err(|e| ended(session, e))?;
    if gone(page.status) {
        return Err(VisitResult::OptedOut(OptOut::Gone));
    }
    if page.status.is_server_error() {
        return Err(failed(
            FailureReason::HttpStatus,
            format!("/.well-known/nodeinfo answered {}", page.status),
        ));
    }
    if !page.status.is_success() {
        return Err(failed(
            FailureReason::NotFediverse,
            format!("/.well-known/nodeinfo answered {}", page.status),
        ));
    }
    let links = wellknown::parse_wellknown(&page.body).map_err(|e| {
        failed(
            FailureReason::NotFediverse,
            format!("/.well-known/nodeinfo: {e}"),
        )
    })?;
    let wellknown_host = page.host.clone();
    // The page holds a request slot: let it go before asking for anything else.
    drop(page);

    let mut last = failed(FailureReason::NotFediverse, "no usable NodeInfo link");
    for link in links.into_iter().take(MAX_NODEINFO_CANDIDATES) {
        let Some((host, path)) = link_target(&link.href, domain, &wellknown_host) else {
            last = failed(
                FailureReason::Invalid,
                format!("NodeInfo link {} points to another server", link.href),
            );
            continue;
        };
        let doc = match session.get(&host, &path, NODEINFO_CAP).await {
            Ok(doc) => doc,
            Err(e) if e.refused.is_some() => return Err(ended(session, e)),
            Err(e) => {
                last = VisitResult::Failed(e);
                continue;
            }
        };
        if gone(doc.status) {
            return Err(VisitResult::OptedOut(OptOut::Gone));
        }
        if !doc.status.is_success() {
            last = failed(
                FailureReason::HttpStatus,
                format!("{path} answered {}", doc.status),
            );
            continue;
        }
        match nodeinfo::parse_nodeinfo(&doc.body) {
            Ok(info) => return Ok((info, link.schema.as_str().to_string(), doc.host.clone())),
            Err(e) => last = failed(FailureReason::Invalid, format!("{path}: {e}")),
        }
    }
    Err(last)
}

/// The host and path a NodeInfo link points to, if we may follow it: the visited name,
/// or the host the well-known document was redirected to. The link's scheme and port
/// are not used: requests keep this crawl's scheme.
fn link_target(href: &str, domain: &Domain, wellknown_host: &Domain) -> Option<(Domain, String)> {
    let url = Url::parse(href).ok()?;
    let host = Domain::parse(url.host_str()?).ok()?;
    if host != *domain && host != *wellknown_host {
        return None;
    }
    let mut path = url.path().to_string();
    if let Some(query) = url.query() {
        path.push('?');
        path.push_str(query);
    }
    Some((host, path))
}

/// A document that only adds detail: any failure just means we do without it.
async fn optional<T, E: std::fmt::Display>(
    session: &Session<'_>,
    host: &Domain,
    path: &str,
    parse: fn(&[u8]) -> Result<T, E>,
) -> Option<T> {
    match session.get(host, path, INSTANCE_CAP).await {
        Ok(page) if page.status.is_success() => match parse(&page.body) {
            Ok(doc) => Some(doc),
            Err(e) => {
                tracing::debug!(%host, path, error = %e, "unusable optional document");
                None
            }
        },
        Ok(page) => {
            tracing::debug!(%host, path, status = %page.status, "optional document not served");
            None
        }
        Err(e) => {
            tracing::debug!(%host, path, error = %e, "optional document failed");
            None
        }
    }
}

/// Reads the peer list, or a paged list's first page, handing the names over; 401/403/404
/// and failures just mean no peers. Returns the page to go on from when a paged list has
/// more.
async fn read_peers(
    session: &Session<'_>,
    host: &Domain,
    api: PeerApi,
    peers: &mut Peers,
) -> Option<usize> {
    let (path, read): (_, ReadList) = match api {
        PeerApi::Mastodon => ("/api/v1/instance/peers", PeerSet::read_mastodon),
        PeerApi::Lemmy => ("/api/v3/federated_instances", PeerSet::read_lemmy),
        PeerApi::Misskey => return read_misskey(session, host, 0..1, peers).await,
    };
    if let Ok(page) = session.get(host, path, PEERS_CAP).await {
        if page.status.is_success() {
            if let Err(e) = read_list(&mut peers.set, page.body, read).await {
                tracing::debug!(%host, path, error = %e, "unusable peer list");
            }
        }
    }
    peers.hand_over();
    None
}

/// Reads `pages` of Misskey's federation list, handing each page's names over; returns
/// the next page when the list may go on past them.
async fn read_misskey(
    session: &Session<'_>,
    host: &Domain,
    pages: Range<usize>,
    peers: &mut Peers,
) -> Option<usize> {
    for page in pages.clone() {
        let query = serde_json::json!({"limit": MISSKEY_PAGE, "offset": page * MISSKEY_PAGE});
        let answer = session
            .post_json(host, "/api/federation/instances", &query, PEERS_CAP)
            .await
            .ok()
            .filter(|answer| answer.status.is_success())?;
        let read = read_list(&mut peers.set, answer.body, PeerSet::read_misskey_page).await;
        peers.hand_over();
        // A server answering every page alike (or with junk) adds nothing new: asking
        // further would only cost both sides.
        let read = read.ok()?;
        if read.entries < MISSKEY_PAGE || read.added == 0 {
            return None;
        }
    }
    (pages.end < MISSKEY_MAX_PAGES).then_some(pages.end)
}

/// One of the [`PeerSet`] readers.
type ReadList = fn(&mut PeerSet, &[u8]) -> Result<peers::Read, ParseError>;

/// Bodies up to this size are parsed in place; larger ones on the blocking pool.
const INLINE_PARSE: usize = 256 * 1024;

/// Reads a peer-list body into `peers`. A large list takes a fraction of a second to
/// parse, which must not stall the other visits on this runtime worker, so it is parsed
/// on tokio's blocking pool.
async fn read_list(
    peers: &mut PeerSet,
    body: bytes::Bytes,
    read: ReadList,
) -> Result<peers::Read, ParseError> {
    if body.len() <= INLINE_PARSE {
        return read(peers, &body);
    }
    let mut set = std::mem::take(peers);
    let parsed = tokio::task::spawn_blocking(move || {
        let result = read(&mut set, &body);
        (set, result)
    })
    .await;
    match parsed {
        Ok((set, result)) => {
            *peers = set;
            result
        }
        Err(e) => Err(ParseError::Shape(format!(
            "the peer list was not read: {e}"
        ))),
    }
}

/// See the module doc: the first claimed name that may be counted, else the host that
/// served NodeInfo.
async fn canonical_name(
    session: &Session<'_>,
    info_host: &Domain,
    v2: Option<&InstanceV2>,
    v1: Option<&InstanceV1>,
) -> Domain {
    for name in claims(session.origin(), info_host, v2, v1) {
        match session.may_claim(&name).await {
            Ok(()) => return name,
            Err(e) => tracing::debug!(%name, error = %e, "claimed name not accepted"),
        }
    }
    info_host.clone()
}

/// The names the API claims, best first, that lie under the registrable domain of the
/// visited name or of the host that served NodeInfo.
fn claims(
    visited: &Domain,
    info_host: &Domain,
    v2: Option<&InstanceV2>,
    v1: Option<&InstanceV1>,
) -> Vec<Domain> {
    [
        v2.and_then(|v| v.domain.as_deref()),
        v1.and_then(|v| v.uri.as_deref()),
    ]
    .into_iter()
    .flatten()
    .filter_map(|name| Domain::parse(name).ok())
    .filter(|name| {
        name.registrable() == info_host.registrable() || name.registrable() == visited.registrable()
    })
    .collect()
}

/// Combines the documents into one [`ServerStats`] (rules in the module doc).
fn merge(
    info: NodeInfo,
    schema: String,
    v1: Option<InstanceV1>,
    v2: Option<InstanceV2>,
    activity: &[ActivityWeek],
) -> ServerStats {
    let mut sources = vec![Source::NodeInfo];
    let mut stats = ServerStats {
        software: info.software_name,
        version: info.software_version,
        users_total: info.users_total,
        active_month: info.active_month,
        active_halfyear: info.active_halfyear,
        local_posts: info.local_posts,
        open_registrations: info.open_registrations,
        registrations_week: None,
        schema: Some(schema),
        languages: Vec::new(),
        sources: Vec::new(),
        origin: None,
    };
    if let Some(v2) = v2 {
        sources.push(Source::InstanceV2);
        stats.active_month = stats.active_month.or(v2.active_month);
        stats.open_registrations = stats.open_registrations.or(v2.registrations_enabled);
        stats.languages = v2.languages;
    }
    if let Some(v1) = v1 {
        sources.push(Source::InstanceV1);
        stats.users_total = stats.users_total.or(v1.user_count);
        stats.local_posts = stats.local_posts.or(v1.status_count);
        stats.open_registrations = stats.open_registrations.or(v1.registrations);
        if stats.languages.is_empty() {
            stats.languages = v1.languages;
        }
    }
    // The first entry is the week in progress; the second is the last complete one.
    if let Some(week) = activity.get(1) {
        sources.push(Source::Activity);
        stats.registrations_week = week.registrations;
    }
    stats.sources = sources;
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Domain {
        Domain::parse(s).unwrap()
    }

    #[test]
    fn canonical_prefers_v2_then_v1_within_the_registrable_domain() {
        let v2 = InstanceV2 {
            domain: Some("example.social".into()),
            ..Default::default()
        };
        let v1 = InstanceV1 {
            uri: Some("www.example.social".into()),
            ..Default::default()
        };
        let host = d("social.example.social");
        assert_eq!(
            claims(&host, &host, Some(&v2), Some(&v1)),
            [d("example.social"), d("www.example.social")]
        );
        assert_eq!(
            claims(&host, &host, None, Some(&v1)),
            [d("www.example.social")]
        );
        assert!(claims(&host, &host, None, None).is_empty());
        let hijack = InstanceV2 {
            domain: Some("mastodon.social".into()),
            ..Default::default()
        };
        assert!(claims(&host, &host, Some(&hijack), None).is_empty());
        let port = InstanceV2 {
            domain: Some("localhost:3000".into()),
            ..Default::default()
        };
        assert!(claims(&host, &host, Some(&port), None).is_empty());
    }

    #[test]
    fn links_stay_on_the_server() {
        let me = d("a.social");
        let web = d("www.a.social");
        assert_eq!(
            link_target("https://a.social/nodeinfo/2.0?x=1", &me, &me),
            Some((me.clone(), "/nodeinfo/2.0?x=1".into()))
        );
        assert_eq!(
            link_target("https://www.a.social/nodeinfo/2.1.json", &me, &web),
            Some((web.clone(), "/nodeinfo/2.1.json".into()))
        );
        assert_eq!(
            link_target("https://evil.example.com/nodeinfo", &me, &me),
            None
        );
        assert_eq!(
            link_target("http://localhost:3000/nodeinfo/2.0", &me, &me),
            None
        );
        assert_eq!(link_target("/nodeinfo/2.0", &me, &me), None);
    }

    #[test]
    fn nodeinfo_wins_and_the_api_fills_gaps() {
        let info = NodeInfo {
            software_name: "mastodon".into(),
            users_total: Some(10),
            active_month: None,
            ..Default::default()
        };
        let v1 = InstanceV1 {
            user_count: Some(99),
            status_count: Some(500),
            ..Default::default()
        };
        let v2 = InstanceV2 {
            active_month: Some(7),
            ..Default::default()
        };
        let weeks = [
            ActivityWeek {
                week: 2,
                statuses: None,
                logins: None,
                registrations: Some(1),
            },
            ActivityWeek {
                week: 1,
                statuses: None,
                logins: None,
                registrations: Some(4),
            },
        ];
        let s = merge(info, "2.0".into(), Some(v1), Some(v2), &weeks);
        assert_eq!(s.users_total, Some(10));
        assert_eq!(s.active_month, Some(7));
        assert_eq!(s.local_posts, Some(500));
        assert_eq!(s.registrations_week, Some(4));
        assert_eq!(
            s.sources,
            [
                Source::NodeInfo,
                Source::InstanceV2,
                Source::InstanceV1,
                Source::Activity
            ]
        );
    }
}
