//! Ground truth: what an honest crawler must find in a [`World`].
//!
//! Types: [`Truth`] (the expected census) and [`Usage`] (one server's numbers as a crawler
//! can read them); functions [`normalize_domain`] and [`reported_usage`]; [`World::truth`].
//!
//! Discovery: breadth-first from the seeds over peer links. Peers are read only from
//! servers that are counted (answered, not opted out, not failed) and only where the
//! software exposes them ([`SimServer::served_peers`]: GoToSocial hides them, PeerTube has
//! none, an oversized body is refused whole). Lemmy `blocked` lists are never followed.
//! Entries are normalised like a seeds file: trimmed, one trailing dot dropped, IDNA-mapped
//! to lowercase ASCII; junk (IP addresses, single labels, ports, schemes/paths, wildcards,
//! spaces, empty, over 253 characters) is rejected. A split domain's web name is the same
//! server as its apex.
//!
//! Classification, first match wins: dead, hanging, answering raw non-HTTP bytes, always
//! 429, or redirecting slowly (the sim's chains are built to outlast a request's
//! `--timeout`) → failed; 410 everywhere or robots.txt disallowing `fedicensus` → opted
//! out; redirecting everything to another name → that name is reached instead (like a
//! peer) and this one is not counted; no NodeInfo (plain website, or a name the sim does
//! not know, which gets the sim's 404 page) → not fediverse; oversized NodeInfo, a gzip
//! bomb or only dead NodeInfo links → failed; `metadata.private` → opted out; otherwise
//! counted (a rate-limited server counts: it answers after `Retry-After`; an oversized or
//! padded peer list does not stop the count). A counted server that claims another name
//! is counted under it when the name lies under its registrable domain and is not a world
//! server that opts out. `--exclude` is the crawler's, not the world's: tests that use it
//! state what changes.
//!
//! Numbers of a counted server: NodeInfo usage first; where NodeInfo lacks a field, the
//! Mastodon API fills it (`/api/v1/instance` `stats.user_count` → users,
//! `stats.status_count` → posts, `/api/v2/instance` `usage.users.active_month` → active
//! month); a field missing everywhere contributes 0. A split domain counts once, under its
//! apex.
//!
//! The truth is that of a plain-HTTP crawl: the TLS behaviours (`TlsExpired`,
//! `TlsWrongName`, `TlsUnknownIssuer`) only act over HTTPS, where such a server fails
//! `tls` instead.
//!
//! `never_contact` holds every name an honest crawler sends no request to: names only in
//! Lemmy blocked lists, the hosts junk entries would naively yield, and world servers that
//! are not reachable through readable peer lists.

use std::collections::{BTreeSet, VecDeque};

use super::payloads::{self, nodeinfo_has_active};
use super::world::{Behaviour, HostIndex, Kind, SimServer, World};

/// The census an honest crawler produces for a world.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Truth {
    /// Canonical domains counted.
    pub counted: BTreeSet<String>,
    /// Registered users, summed over the counted servers ([`Usage::users_total`]).
    pub users_total: i64,
    /// Users active in the last 30 days, summed over the counted servers.
    pub active_month: i64,
    /// Users active in the last 180 days, summed over the counted servers.
    pub active_halfyear: i64,
    /// Posts, summed over the counted servers.
    pub local_posts: i64,
    /// Reached names that opt out: 410 everywhere, robots.txt disallowing `fedicensus`, or
    /// NodeInfo `metadata.private`.
    pub opted_out: BTreeSet<String>,
    /// Reached names without NodeInfo: plain websites and names the sim does not know.
    pub not_fediverse: BTreeSet<String>,
    /// Reached names whose visit must fail (dead, hanging, hostile; rules in the module
    /// docs).
    pub failed: BTreeSet<String>,
    /// Names that must not appear in any request.
    pub never_contact: BTreeSet<String>,
}

/// One server's numbers as an honest crawler reads them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Registered users: NodeInfo `usage.users.total`, else `/api/v1/instance`
    /// `stats.user_count`; 0 when neither serves it.
    pub users_total: i64,
    /// Users active in the last 30 days: NodeInfo `activeMonth`, else `/api/v2/instance`
    /// `usage.users.active_month`; 0 when neither serves it.
    pub active_month: i64,
    /// Users active in the last 180 days: NodeInfo `activeHalfyear`, else 0.
    pub active_halfyear: i64,
    /// Posts: NodeInfo `usage.localPosts`, else `/api/v1/instance` `stats.status_count`;
    /// 0 when neither serves it.
    pub local_posts: i64,
}

/// The canonical ASCII host for a peer or seed entry, or `None` for junk.
pub fn normalize_domain(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
    let ascii = idna::domain_to_ascii(trimmed).ok()?;
    let labels: Vec<&str> = ascii.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    // A TLD starting with a letter rules out IPv4 addresses and bare numbers.
    let tld_ok = labels
        .last()
        .is_some_and(|tld| tld.starts_with(|c: char| c.is_ascii_lowercase()));
    (ascii.len() <= 253 && labels.len() >= 2 && labels.iter().all(label_ok) && tld_ok)
        .then_some(ascii)
}

/// The host a careless crawler would contact for a junk entry, e.g. `wild.social` for
/// `*.wild.social`.
fn naive_host(raw: &str) -> String {
    let s = raw.trim().to_lowercase();
    let s = s.split_once("://").map_or(s.as_str(), |(_, rest)| rest);
    let s = s.split('/').next().unwrap_or_default();
    let s = s.split(':').next().unwrap_or_default();
    let s = s.strip_prefix("*.").unwrap_or(s);
    s.trim_end_matches('.').to_owned()
}

/// Numbers of `s` per the module rules (NodeInfo first, Mastodon API fills gaps).
pub fn reported_usage(s: &SimServer) -> Usage {
    let nodeinfo = !s.has(&Behaviour::NoUsage);
    let active = nodeinfo && nodeinfo_has_active(s);
    let v1 = s.kind.serves_instance_v1();
    let v2 = s.kind.serves_instance_v2();
    let pick = |available: bool, n: i64| if available { n } else { 0 };
    Usage {
        users_total: pick(nodeinfo || v1, s.users_total),
        active_month: pick(active || v2, s.active_month),
        active_halfyear: pick(active, s.active_halfyear),
        local_posts: pick(nodeinfo || v1, s.local_posts),
    }
}

enum Outcome<'w> {
    Counted(&'w SimServer),
    OptedOut,
    NotFediverse,
    Failed,
    RedirectsTo(&'w str),
}

/// Whether `s` never answers a visit usefully, whatever it serves.
fn hostile_failure(s: &SimServer) -> bool {
    s.has(&Behaviour::Dead)
        || s.has(&Behaviour::Hang)
        || s.find(|b| {
            matches!(
                b,
                Behaviour::Raw(_)
                    | Behaviour::RetryAfterAlways(_)
                    | Behaviour::SlowRedirects { .. }
                    | Behaviour::ManyNodeInfoLinks(_)
            )
            .then_some(())
        })
        .is_some()
}

/// Whether `s`'s robots.txt keeps `fedicensus` from its NodeInfo.
fn robots_opt_out(s: &SimServer) -> bool {
    payloads::robots(s).is_some_and(|text| {
        !crate::fetch::robots::Robots::parse("fedicensus", text.as_bytes())
            .allows("/.well-known/nodeinfo")
    })
}

fn outcome(server: Option<&SimServer>) -> Outcome<'_> {
    let Some(s) = server else {
        return Outcome::NotFediverse;
    };
    let any = |bs: &[Behaviour]| bs.iter().any(|b| s.has(b));
    if hostile_failure(s) {
        Outcome::Failed
    } else if s.has(&Behaviour::Gone410) || robots_opt_out(s) {
        Outcome::OptedOut
    } else if let Some(to) = s.find(|b| match b {
        Behaviour::RedirectTo(to) => Some(to.as_str()),
        _ => None,
    }) {
        Outcome::RedirectsTo(to)
    } else if s.kind == Kind::NotFediverse {
        Outcome::NotFediverse
    } else if any(&[Behaviour::OversizedNodeInfo, Behaviour::GzipBomb]) {
        Outcome::Failed
    } else if s.has(&Behaviour::NodeInfoPrivate) {
        Outcome::OptedOut
    } else {
        Outcome::Counted(s)
    }
}

impl World {
    /// The name `s` is counted under: its claim if that may be counted (module docs).
    fn counted_name(&self, index: &HostIndex, s: &SimServer) -> String {
        use crate::domain::Domain;
        let claim = s.find(|b| match b {
            Behaviour::ClaimsDomain(name) => Domain::parse(name).ok(),
            _ => None,
        });
        let own = Domain::parse(&s.domain).ok();
        match (claim, own) {
            (Some(claim), Some(own))
                if claim.registrable() == own.registrable()
                    && !index.find(self, claim.as_str()).is_some_and(|c| {
                        matches!(outcome(Some(c)), Outcome::OptedOut)
                            || c.has(&Behaviour::NodeInfoPrivate)
                    }) =>
            {
                claim.to_string()
            }
            _ => s.domain.clone(),
        }
    }

    /// The census an honest crawler must produce; rules in the module docs.
    pub fn truth(&self) -> Truth {
        let index = HostIndex::new(self);
        let canonical = |raw: &str| {
            normalize_domain(raw).map(|d| index.find(self, &d).map_or(d, |s| s.domain.clone()))
        };
        let mut truth = Truth::default();
        let mut reached = BTreeSet::new();
        let mut queue = VecDeque::new();
        let mut unfollowed = Vec::new();
        for seed in &self.seeds {
            if let Some(d) = canonical(seed) {
                if reached.insert(d.clone()) {
                    queue.push_back(d);
                }
            }
        }
        while let Some(domain) = queue.pop_front() {
            let s = match outcome(index.find(self, &domain)) {
                Outcome::OptedOut => {
                    truth.opted_out.insert(domain);
                    continue;
                }
                Outcome::NotFediverse => {
                    truth.not_fediverse.insert(domain);
                    continue;
                }
                Outcome::Failed => {
                    truth.failed.insert(domain);
                    continue;
                }
                Outcome::RedirectsTo(to) => {
                    if let Some(d) = canonical(to).filter(|d| reached.insert(d.clone())) {
                        queue.push_back(d);
                    }
                    continue;
                }
                Outcome::Counted(s) => s,
            };
            truth.counted.insert(self.counted_name(&index, s));
            let usage = reported_usage(s);
            truth.users_total += usage.users_total;
            truth.active_month += usage.active_month;
            truth.active_halfyear += usage.active_halfyear;
            truth.local_posts += usage.local_posts;
            for raw in s.served_peers() {
                match canonical(raw) {
                    Some(d) if reached.insert(d.clone()) => queue.push_back(d),
                    Some(_) => {}
                    None => {
                        unfollowed.push(raw.trim().to_lowercase());
                        unfollowed.push(naive_host(raw));
                    }
                }
            }
            unfollowed.extend(s.blocked.iter().filter_map(|b| canonical(b)));
        }
        let world_names = self
            .servers
            .iter()
            .flat_map(|s| [Some(s.domain.as_str()), s.web_domain()])
            .flatten()
            .map(str::to_owned);
        truth.never_contact = unfollowed
            .into_iter()
            .chain(world_names)
            .filter(|name| {
                !name.is_empty()
                    && !reached.contains(name)
                    && !index
                        .find(self, name)
                        .is_some_and(|s| reached.contains(&s.domain))
            })
            .collect();
        truth
    }
}

#[cfg(test)]
mod tests {
    use super::{naive_host, normalize_domain};

    #[test]
    fn normalizes_spellings_of_one_host() {
        for raw in ["bücher.social", "XN--BCHER-KVA.social.", " Bücher.Social "] {
            assert_eq!(
                normalize_domain(raw).as_deref(),
                Some("xn--bcher-kva.social")
            );
        }
        assert_eq!(
            normalize_domain("LOUD-HARBOR.SOCIAL.").as_deref(),
            Some("loud-harbor.social")
        );
    }

    #[test]
    fn rejects_junk() {
        let overlong = format!("{}.social", vec!["a".repeat(60); 5].join("."));
        for raw in [
            "",
            "127.0.0.1",
            "10.0.0.1",
            "localhost",
            "singlelabel",
            "12345",
            "*.wild.social",
            "foo bar.social",
            "https://wrong-shape.social/about",
            "example.com:8443",
            "-dash.social",
            overlong.as_str(),
        ] {
            assert_eq!(normalize_domain(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn naive_hosts_of_junk() {
        assert_eq!(
            naive_host("https://wrong-shape.social/about"),
            "wrong-shape.social"
        );
        assert_eq!(naive_host("*.wild.social"), "wild.social");
        assert_eq!(naive_host("example.com:8443"), "example.com");
    }
}
