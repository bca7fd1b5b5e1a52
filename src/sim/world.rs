//! The simulated fediverse as plain data, plus the hand-built [`World::standard`] scenario.
//!
//! Types: [`World`] (servers and seed spellings), [`SimServer`] (one server's ground truth),
//! [`Kind`] (which software it imitates), [`Behaviour`] (quirks and failure modes, hostile
//! ones included), [`RawAnswer`] (answers that are not HTTP) and the
//! crate-internal `HostIndex` (host name → server, shared by the HTTP side and the truth).
//! Everything is `Clone + Debug` so tests and the demo can build worlds and edit them between
//! simulated days.

use std::collections::HashMap;

/// Which server software a [`SimServer`] imitates; decides its endpoints and payload shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// NodeInfo 2.0; `/api/v1/instance`, `/api/v2/instance`, the weekly activity API and
    /// the peer list `/api/v1/instance/peers`.
    Mastodon,
    /// NodeInfo 2.0 and 2.1 (`.json` paths); `/api/v1/instance` (its `uri` a URL) and the
    /// peer list; no `/api/v2/instance`.
    Pleroma,
    /// Pleroma's fork, served the same way as [`Kind::Pleroma`].
    Akkoma,
    /// NodeInfo 2.1 and 2.0; no Mastodon API; peers paged from
    /// `POST /api/federation/instances`.
    Misskey,
    /// NodeInfo 2.0 (`.json`); no Mastodon API; peers (`linked`) and `blocked` from
    /// `/api/v3/federated_instances`.
    Lemmy,
    /// NodeInfo 2.0 and 2.1 with only the total of users; both instance APIs; the peer list
    /// answers 401.
    GoToSocial,
    /// NodeInfo 2.0 (`.json`), its posts being videos; no instance API and no peer list.
    PeerTube,
    /// NodeInfo 1.0 and 2.0; both instance APIs (a "compatible" version) and the peer list.
    Friendica,
    /// NodeInfo 2.0 at `/api/nodeinfo/2.0.json`; both instance APIs and the peer list.
    Pixelfed,
    /// A plain website: no NodeInfo at all.
    NotFediverse,
}

impl Kind {
    /// Every kind, for scenario generators that pick one.
    pub const ALL: [Kind; 10] = [
        Kind::Mastodon,
        Kind::Pleroma,
        Kind::Akkoma,
        Kind::Misskey,
        Kind::Lemmy,
        Kind::GoToSocial,
        Kind::PeerTube,
        Kind::Friendica,
        Kind::Pixelfed,
        Kind::NotFediverse,
    ];

    /// NodeInfo `software.name`.
    pub fn software_name(self) -> &'static str {
        match self {
            Kind::Mastodon => "mastodon",
            Kind::Pleroma => "pleroma",
            Kind::Akkoma => "akkoma",
            Kind::Misskey => "misskey",
            Kind::Lemmy => "lemmy",
            Kind::GoToSocial => "gotosocial",
            Kind::PeerTube => "peertube",
            Kind::Friendica => "friendica",
            Kind::Pixelfed => "pixelfed",
            Kind::NotFediverse => "",
        }
    }

    /// NodeInfo `software.version`, shaped like the real release strings.
    pub fn version(self) -> &'static str {
        match self {
            Kind::Mastodon => "4.3.2",
            Kind::Pleroma => "2.6.3",
            Kind::Akkoma => "3.13.2",
            Kind::Misskey => "2024.11.0",
            Kind::Lemmy => "0.19.3",
            Kind::GoToSocial => "0.17.3+git-c0a4e1f",
            Kind::PeerTube => "6.3.3",
            Kind::Friendica => "2024.08",
            Kind::Pixelfed => "0.12.3",
            Kind::NotFediverse => "",
        }
    }

    /// Whether the Mastodon `/api/v1/instance` family (instance, peers) exists.
    pub fn serves_instance_v1(self) -> bool {
        matches!(
            self,
            Kind::Mastodon
                | Kind::Pleroma
                | Kind::Akkoma
                | Kind::GoToSocial
                | Kind::Pixelfed
                | Kind::Friendica
        )
    }

    /// Whether `/api/v2/instance` exists (Pleroma and Akkoma answer 404, as older releases do).
    pub fn serves_instance_v2(self) -> bool {
        matches!(
            self,
            Kind::Mastodon | Kind::GoToSocial | Kind::Pixelfed | Kind::Friendica
        )
    }
}

/// A quirk or failure mode; a server carries a list of them (combine where sensible).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Usage numbers (NodeInfo and `/api/v1/instance` stats) are JSON strings, like Pixelfed 0.11.
    NumbersAsStrings,
    /// NodeInfo has no `usage` object at all.
    NoUsage,
    /// NodeInfo `usage.users` has only `total` (GoToSocial always behaves like this).
    OnlyTotal,
    /// robots.txt `User-agent: *` / `Disallow: /`.
    RobotsDisallowAll,
    /// robots.txt disallows only the `fedicensus` user agent.
    RobotsDisallowFedicensus,
    /// NodeInfo `metadata.private` is true: the admin asked not to be counted.
    NodeInfoPrivate,
    /// Every path answers 410 Gone.
    Gone410,
    /// The first n requests to this host get 429 with `Retry-After: 1`.
    RateLimitedFirst(u32),
    /// Connections are closed without any response.
    Dead,
    /// Requests are accepted and never answered.
    Hang,
    /// Every answer (or hang-up) comes this many milliseconds late: network latency.
    Latency(u32),
    /// The peers endpoint answers a 20 MiB body.
    OversizedPeers,
    /// The peers endpoint (Mastodon's list, every page of Misskey's, Lemmy's `linked`)
    /// answers a JSON array of `bytes` bytes (at most) whatever is asked: `entry`
    /// repeated, with `{n}` replaced by the entry's index, so `"a"` floods with one junk
    /// name and `"d{n}.social"` with distinct made-up domains.
    PeerFlood {
        /// The array's element, `{n}` standing for its index.
        entry: String,
        /// The most bytes the whole JSON array may take.
        bytes: usize,
    },
    /// NodeInfo's `software` names this name and version instead of the kind's (unknown
    /// software, or hostile text: newlines, Markdown, escape sequences).
    Software {
        /// Served as NodeInfo `software.name`.
        name: String,
        /// Served as NodeInfo `software.version`.
        version: String,
    },
    /// The NodeInfo document is 3 MiB.
    OversizedNodeInfo,
    /// The NodeInfo document is a gzip bomb (~64 KiB expanding to 64 MiB).
    GzipBomb,
    /// Mastodon's LOCAL_DOMAIN/WEB_DOMAIN split: the server's `domain` is the apex, which
    /// redirects to `web`; `web` serves everything and names the apex as its domain.
    SplitDomain {
        /// The WEB_DOMAIN host that serves everything.
        web: String,
    },
    /// Over HTTPS, the certificate expired (plain HTTP: no effect).
    TlsExpired,
    /// Over HTTPS, the certificate is for another name (plain HTTP: no effect).
    TlsWrongName,
    /// Over HTTPS, the certificate is signed by a CA nobody trusts (plain HTTP: no effect).
    TlsUnknownIssuer,
    /// `/.well-known/nodeinfo` `links` is a single object, like some Lemmy releases.
    WellKnownLinksObject,
    /// The NodeInfo href points somewhere unusual (`/api/nodeinfo`).
    NodeInfoAtOddPath,
    /// robots.txt is this text (e.g. a hostile `Crawl-delay`).
    RobotsTxt(String),
    /// Every path but robots.txt answers `301` to the same path on this host.
    RedirectTo(String),
    /// The instance API names this as the server's `domain` (v2) and `uri` (v1).
    ClaimsDomain(String),
    /// Every request gets these bytes instead of an HTTP response (see [`RawAnswer`]).
    Raw(RawAnswer),
    /// Every path but robots.txt first redirects to itself `hops` times (`?hop=N`), each
    /// answer taking `delay_ms`.
    SlowRedirects {
        /// Redirects before the real answer.
        hops: u32,
        /// Milliseconds each answer (redirect or final) waits.
        delay_ms: u64,
    },
    /// Every path but robots.txt answers 429 with `Retry-After: N`.
    RetryAfterAlways(u64),
    /// `/.well-known/nodeinfo` lists this many NodeInfo links, none of which exists.
    ManyNodeInfoLinks(usize),
    /// The peers endpoint streams a body of this many bytes of padding (no peers), a
    /// 64 KiB chunk every `chunk_ms`; the sim counts such bodies streaming at once.
    PaddedPeers {
        /// Body length in bytes, all spaces.
        bytes: usize,
        /// Milliseconds before each 64 KiB chunk.
        chunk_ms: u64,
    },
}

/// A server that answers, but not in HTTP/1.1 (the reason `protocol` of the crawler).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawAnswer {
    /// A `Content-Length` of 1,000 and 10 bytes of body, then the connection closes.
    TruncatedBody,
    /// `Content-Length: banana`.
    BadContentLength,
    /// A bare body without status line or headers, as HTTP/0.9 servers answered.
    Http09,
    /// A status line that is not one.
    GarbageStatus,
}

impl RawAnswer {
    /// Every raw answer, e.g. for a world with one server giving each.
    pub const ALL: [RawAnswer; 4] = [
        RawAnswer::TruncatedBody,
        RawAnswer::BadContentLength,
        RawAnswer::Http09,
        RawAnswer::GarbageStatus,
    ];

    /// The bytes sent back, whatever was asked.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            RawAnswer::TruncatedBody => {
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\nUser-agent"
            }
            RawAnswer::BadContentLength => {
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: banana\r\n\r\nUser-agent: *\n"
            }
            RawAnswer::Http09 => b"User-agent: *\nDisallow:\n",
            RawAnswer::GarbageStatus => b"\x16\x03\x01 garbage \x00\xff\r\n\r\n",
        }
    }
}

/// One simulated server: its identity, its true numbers and how it misbehaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimServer {
    /// ASCII (punycode) canonical host it answers on; for a split domain, the apex.
    pub domain: String,
    /// The software it imitates.
    pub kind: Kind,
    /// Registered users: NodeInfo `usage.users.total` and `/api/v1/instance`
    /// `stats.user_count`.
    pub users_total: i64,
    /// Users active in the last 30 days: NodeInfo `activeMonth` and `/api/v2/instance`
    /// `usage.users.active_month`.
    pub active_month: i64,
    /// Users active in the last 180 days: NodeInfo `activeHalfyear`.
    pub active_halfyear: i64,
    /// Posts; videos for PeerTube.
    pub local_posts: i64,
    /// Whether sign-ups are open: NodeInfo `openRegistrations` and the instance APIs'
    /// `registrations`.
    pub open_registrations: bool,
    /// Languages served in the instance APIs' `languages`.
    pub languages: Vec<String>,
    /// Sign-ups in the last complete week for `/api/v1/instance/activity`; `None`: a
    /// hundredth of the users.
    pub registrations_week: Option<i64>,
    /// Raw peer entries as served, junk and duplicates allowed.
    pub peers: Vec<String>,
    /// Lemmy's blocked instances: served, but never to be contacted.
    pub blocked: Vec<String>,
    /// Its quirks and failure modes; empty for a well-behaved server.
    pub behaviour: Vec<Behaviour>,
}

impl SimServer {
    /// A well-behaved, empty, open server.
    pub fn new(domain: &str, kind: Kind) -> SimServer {
        SimServer {
            domain: domain.to_owned(),
            kind,
            users_total: 0,
            active_month: 0,
            active_halfyear: 0,
            local_posts: 0,
            open_registrations: true,
            languages: vec!["en".to_owned()],
            registrations_week: None,
            peers: Vec::new(),
            blocked: Vec::new(),
            behaviour: Vec::new(),
        }
    }

    /// Sets the true numbers: registered users, monthly and half-yearly actives, posts.
    pub fn with_usage(mut self, users: i64, month: i64, halfyear: i64, posts: i64) -> SimServer {
        self.users_total = users;
        self.active_month = month;
        self.active_halfyear = halfyear;
        self.local_posts = posts;
        self
    }

    /// Sets the languages the instance APIs declare.
    pub fn with_languages(mut self, languages: &[&str]) -> SimServer {
        self.languages = languages.iter().map(|&l| l.to_owned()).collect();
        self
    }

    /// Sets the raw peer entries it serves.
    pub fn with_peers<S: AsRef<str>>(mut self, peers: &[S]) -> SimServer {
        self.peers = peers.iter().map(|p| p.as_ref().to_owned()).collect();
        self
    }

    /// Sets Lemmy's blocked instances.
    pub fn with_blocked(mut self, blocked: &[&str]) -> SimServer {
        self.blocked = blocked.iter().map(|&b| b.to_owned()).collect();
        self
    }

    /// Adds a quirk or failure mode.
    pub fn with(mut self, behaviour: Behaviour) -> SimServer {
        self.behaviour.push(behaviour);
        self
    }

    /// Closes sign-ups.
    pub fn closed(mut self) -> SimServer {
        self.open_registrations = false;
        self
    }

    /// Whether it carries this behaviour, compared whole (a variant's data included).
    pub fn has(&self, behaviour: &Behaviour) -> bool {
        self.behaviour.contains(behaviour)
    }

    /// How many leading requests get 429 (0: none).
    pub fn rate_limit(&self) -> u32 {
        self.number(|b| match b {
            Behaviour::RateLimitedFirst(n) => Some(*n),
            _ => None,
        })
    }

    /// Milliseconds every answer is delayed by (0: none).
    pub fn latency_ms(&self) -> u32 {
        self.number(|b| match b {
            Behaviour::Latency(ms) => Some(*ms),
            _ => None,
        })
    }

    /// The number the first behaviour `pick` accepts carries (0: none does).
    fn number(&self, pick: impl Fn(&Behaviour) -> Option<u32>) -> u32 {
        self.behaviour.iter().find_map(pick).unwrap_or(0)
    }

    /// The first behaviour `pick` selects, e.g. `s.find(|b| match b { … })`.
    pub fn find<'s, T>(&'s self, pick: impl Fn(&'s Behaviour) -> Option<T>) -> Option<T> {
        self.behaviour.iter().find_map(pick)
    }

    /// The WEB_DOMAIN of a split-domain server.
    pub fn web_domain(&self) -> Option<&str> {
        self.behaviour.iter().find_map(|b| match b {
            Behaviour::SplitDomain { web } => Some(web.as_str()),
            _ => None,
        })
    }

    /// NodeInfo `software.name` and `software.version`.
    pub fn software(&self) -> (&str, &str) {
        self.behaviour
            .iter()
            .find_map(|b| match b {
                Behaviour::Software { name, version } => Some((name.as_str(), version.as_str())),
                _ => None,
            })
            .unwrap_or((self.kind.software_name(), self.kind.version()))
    }

    /// The flood its peers endpoint answers instead of its list, if any.
    pub fn peer_flood(&self) -> Option<(&str, usize)> {
        self.behaviour.iter().find_map(|b| match b {
            Behaviour::PeerFlood { entry, bytes } => Some((entry.as_str(), *bytes)),
            _ => None,
        })
    }

    /// The peer entries a crawler can actually read from this server's peer endpoint when it
    /// answers: GoToSocial hides them (401), PeerTube and plain websites have no such
    /// endpoint, an oversized body must be refused whole, and a flood replaces the list
    /// (what a crawler keeps of a flood is bounded by its caps, not modelled here).
    pub fn served_peers(&self) -> &[String] {
        let readable = !matches!(
            self.kind,
            Kind::GoToSocial | Kind::PeerTube | Kind::NotFediverse
        ) && !self.has(&Behaviour::OversizedPeers)
            && self.peer_flood().is_none()
            && self
                .find(|b| matches!(b, Behaviour::PaddedPeers { .. }).then_some(()))
                .is_none();
        if readable {
            &self.peers
        } else {
            &[]
        }
    }
}

/// A whole simulated fediverse.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct World {
    /// Every simulated server; the sim answers for each one's domain (and a split server's
    /// web name).
    pub servers: Vec<SimServer>,
    /// Seed spellings as a seeds file would list them.
    pub seeds: Vec<String>,
}

/// Host name → index into [`World::servers`]; a split server is reachable under both names.
#[derive(Clone, Debug, Default)]
pub(crate) struct HostIndex(HashMap<String, usize>);

impl HostIndex {
    pub(crate) fn new(world: &World) -> HostIndex {
        let mut map = HashMap::with_capacity(world.servers.len());
        for (i, server) in world.servers.iter().enumerate() {
            map.insert(server.domain.clone(), i);
            if let Some(web) = server.web_domain() {
                map.insert(web.to_owned(), i);
            }
        }
        HostIndex(map)
    }

    pub(crate) fn find<'w>(&self, world: &'w World, host: &str) -> Option<&'w SimServer> {
        self.0.get(host).and_then(|&i| world.servers.get(i))
    }
}

/// A name of 300 characters made of legal 60-character labels, so only the total-length
/// rule (253) rejects it.
fn overlong_name() -> String {
    let label = "l".repeat(60);
    format!("{label}.{label}.{label}.{label}.{}.social", "l".repeat(52))
}

impl World {
    /// Every host name the sim answers for: each server's domain, and a split server's
    /// web name too.
    pub fn host_names(&self) -> impl Iterator<Item = &str> {
        self.servers
            .iter()
            .flat_map(|s| std::iter::once(s.domain.as_str()).chain(s.web_domain()))
    }

    /// The scenario the crawler tests use: every kind and every quirk, most servers reachable
    /// only through peer lists. See the module docs of `truth` for what an honest crawler
    /// must count here; the sim's own tests pin the numbers.
    pub fn standard() -> World {
        use Behaviour as B;
        use Kind as K;

        let junk: Vec<String> = [
            "127.0.0.1",
            "localhost",
            "10.0.0.1",
            "https://wrong-shape.social/about",
            "*.wild.social",
            "foo bar.social",
            "singlelabel",
            "example.com:8443",
            "",
            "12345",
        ]
        .into_iter()
        .map(str::to_owned)
        .chain([overlong_name()])
        .collect();
        let harbor_peers: Vec<String> = [
            "quietmoss.net",
            "lanternfish.io",
            "lanternfish.io",
            "Lanternfish.IO",
            "bücher.social",
            "LOUD-HARBOR.SOCIAL.",
            "sparkmarsh.xyz",
            "threadloom.net",
            "busyport.io",
            "deadreef.net",
            "slowtide.org",
            "nofollow-garden.org",
            "formerly-here.social",
            "plainbakery.com",
            "social.splitcove.net",
        ]
        .into_iter()
        .map(str::to_owned)
        .chain(junk.iter().cloned())
        .collect();
        // Misskey answers at most 100 instances a page; padding its list past that with
        // re-spellings of known hosts puts latecomer-glade.org on page two only.
        let known = [
            "harbor-town.social",
            "quietmoss.net",
            "LANTERNFISH.IO",
            "threadloom.net.",
        ];
        let sparkmarsh_peers: Vec<String> = known
            .iter()
            .cycle()
            .take(104)
            .map(|&h| h.to_owned())
            .chain(junk.iter().cloned())
            .chain(["latecomer-glade.org".to_owned()])
            .collect();

        let servers = vec![
            // Seeds.
            SimServer::new("harbor-town.social", K::Mastodon)
                .with_usage(1200, 340, 610, 48000)
                .with_peers(&harbor_peers),
            SimServer::new("quietmoss.net", K::Mastodon)
                .with_usage(800, 200, 400, 30000)
                .closed()
                .with_peers(&[
                    "harbor-town.social",
                    "copperkettle.fr",
                    "tinyburrow.net",
                    "petalframe.com",
                    "oldcircle.de",
                    "reelcanal.org",
                    "veiledpond.fr",
                    "zipstorm.io",
                    "bloatedinfo.xyz",
                    "floodgate-hub.com",
                    "splitcove.net",
                    "oddpath-lodge.net",
                    "silentbay.org",
                    "fernhollow.xyz",
                    "xn--bcher-kva.social",
                ]),
            // Counted through peer lists.
            SimServer::new("lanternfish.io", K::Mastodon)
                .with_usage(150, 40, 90, 6000)
                .with_peers(&["harbor-town.social", "hushmeadow.de"]),
            SimServer::new("copperkettle.fr", K::Mastodon)
                .with_usage(60, 12, 30, 2500)
                .with_peers(&["linkraft.org", "paperwiki.org"]),
            SimServer::new("xn--bcher-kva.social", K::Mastodon)
                .with_usage(90, 30, 50, 3100)
                .with_peers(&["harbor-town.social"]),
            SimServer::new("loud-harbor.social", K::Mastodon).with_usage(45, 10, 20, 900),
            SimServer::new("busyport.io", K::Mastodon)
                .with_usage(300, 80, 150, 12000)
                .with_peers(&["harbor-town.social"])
                .with(B::RateLimitedFirst(2)),
            SimServer::new("silentbay.org", K::Mastodon)
                .with_usage(70, 15, 35, 2000)
                .with(B::NoUsage),
            SimServer::new("floodgate-hub.com", K::Mastodon)
                .with_usage(25, 5, 10, 400)
                .with(B::OversizedPeers),
            SimServer::new("splitcove.net", K::Mastodon)
                .with_usage(500, 120, 260, 21000)
                .with_peers(&["quietmoss.net"])
                .with(B::SplitDomain {
                    web: "social.splitcove.net".to_owned(),
                }),
            SimServer::new("sparkmarsh.xyz", K::Misskey)
                .with_usage(400, 90, 180, 75000)
                .with_peers(&sparkmarsh_peers),
            SimServer::new("latecomer-glade.org", K::Mastodon).with_usage(33, 7, 14, 700),
            SimServer::new("threadloom.net", K::Lemmy)
                .with_usage(2000, 450, 900, 8000)
                .with_peers(&["harbor-town.social", "linkraft.org", "quietmoss.net"])
                .with_blocked(&["grimspam.social", "trollden.net"]),
            SimServer::new("linkraft.org", K::Lemmy)
                .with_usage(350, 60, 140, 1500)
                .with_peers(&["threadloom.net"])
                .with_blocked(&["trollden.net"])
                .with(B::WellKnownLinksObject),
            SimServer::new("tinyburrow.net", K::GoToSocial)
                .with_usage(5, 3, 4, 600)
                .closed()
                .with_peers(&["lonely-isle.net"]),
            SimServer::new("fernhollow.xyz", K::Pleroma)
                .with_usage(40, 9, 20, 3000)
                .with_peers(&["quietmoss.net"])
                .with(B::OnlyTotal),
            SimServer::new("oddpath-lodge.net", K::Akkoma)
                .with_usage(20, 6, 11, 4400)
                .with_peers(&["quietmoss.net"])
                .with(B::NodeInfoAtOddPath),
            SimServer::new("petalframe.com", K::Pixelfed)
                .with_usage(16, 4, 8, 60)
                .with(B::NumbersAsStrings),
            SimServer::new("oldcircle.de", K::Friendica)
                .with_usage(190, 35, 85, 7900)
                .with_peers(&["quietmoss.net"]),
            SimServer::new("reelcanal.org", K::PeerTube).with_usage(30, 8, 15, 420),
            // Opted out: their peers must not be followed.
            SimServer::new("nofollow-garden.org", K::Mastodon)
                .with_usage(100, 20, 50, 1000)
                .with_peers(&["lonely-isle.net"])
                .with(B::RobotsDisallowAll),
            SimServer::new("hushmeadow.de", K::Misskey)
                .with_usage(80, 20, 40, 9000)
                .with_peers(&["lonely-isle.net"])
                .with(B::RobotsDisallowFedicensus),
            SimServer::new("veiledpond.fr", K::Pleroma)
                .with_usage(12, 3, 6, 500)
                .with_peers(&["lonely-isle.net"])
                .with(B::NodeInfoPrivate),
            SimServer::new("formerly-here.social", K::Mastodon)
                .with_usage(10, 0, 2, 300)
                .with(B::Gone410),
            // Failing.
            SimServer::new("deadreef.net", K::Mastodon)
                .with_usage(77, 7, 17, 777)
                .with(B::Dead),
            SimServer::new("slowtide.org", K::Akkoma)
                .with_usage(66, 6, 16, 666)
                .with(B::Hang),
            SimServer::new("bloatedinfo.xyz", K::Mastodon)
                .with_usage(55, 5, 15, 555)
                .with(B::OversizedNodeInfo),
            SimServer::new("zipstorm.io", K::Mastodon)
                .with_usage(44, 4, 14, 444)
                .with(B::GzipBomb),
            // Plain websites.
            SimServer::new("plainbakery.com", K::NotFediverse),
            SimServer::new("paperwiki.org", K::NotFediverse),
            // Only in Lemmy blocked lists, or linked from nobody a crawler may read.
            SimServer::new("grimspam.social", K::Mastodon).with_usage(9000, 9000, 9000, 9000),
            SimServer::new("trollden.net", K::Mastodon).with_usage(8000, 8000, 8000, 8000),
            SimServer::new("lonely-isle.net", K::Mastodon).with_usage(7000, 7000, 7000, 7000),
        ];
        World {
            servers,
            seeds: vec!["harbor-town.social".to_owned(), "QuietMoss.net".to_owned()],
        }
    }
}
