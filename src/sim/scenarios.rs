//! Generated worlds: [`World::wave`] (a 30-day growth wave for the demo) and
//! [`World::generated`] / [`World::generated_on`] (any size and network shape, for
//! benchmarks: [`NetShape`]), plus [`fictional_domain`], the namer both use. Randomness
//! comes from the internal `SplitMix64`, so every world is a pure function of its
//! arguments.

use serde::Serialize;

use super::world::{Behaviour, Kind, SimServer, World};

/// The small, well-known PRNG; enough for scenario variety, and keeps the crate off `rand`.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-enough in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// A stateless draw for decisions that must not depend on how many draws came before, such
/// as "does server a list server b" or "is server a down on day d".
fn draw(a: u64, b: u64) -> u64 {
    SplitMix64(a.wrapping_mul(0x1000_0000_01B3) ^ b).next()
}

const ADJECTIVES: [&str; 16] = [
    "quiet", "amber", "copper", "misty", "velvet", "hollow", "silver", "drowsy", "brisk", "mossy",
    "tidal", "lunar", "rusty", "gentle", "windy", "cobalt",
];
const NOUNS: [&str; 16] = [
    "harbor", "meadow", "lantern", "thicket", "grove", "quarry", "otter", "burrow", "kettle",
    "orchard", "ferry", "marsh", "beacon", "hearth", "cove", "garden",
];
const TLDS: [&str; 8] = ["social", "net", "org", "com", "io", "de", "fr", "xyz"];

/// The i-th obviously fictional domain, each under its own registrable domain:
/// `quiet-harbor.social`, `amber-harbor.net`, …, then `quiet-harbor2.social` and so on.
pub fn fictional_domain(i: usize) -> String {
    let pairs = ADJECTIVES.len() * NOUNS.len();
    let adjective = ADJECTIVES[i % ADJECTIVES.len()];
    let noun = NOUNS[(i / ADJECTIVES.len()) % NOUNS.len()];
    let tld = TLDS[i % TLDS.len()];
    match i / pairs {
        0 => format!("{adjective}-{noun}.{tld}"),
        round => format!("{adjective}-{noun}{round}.{tld}"),
    }
}

/// Kinds weighted roughly like the real fediverse.
const FEDIVERSE_KINDS: [Kind; 13] = [
    Kind::Mastodon,
    Kind::Mastodon,
    Kind::Mastodon,
    Kind::Mastodon,
    Kind::Mastodon,
    Kind::Misskey,
    Kind::Lemmy,
    Kind::Pleroma,
    Kind::Akkoma,
    Kind::GoToSocial,
    Kind::PeerTube,
    Kind::Friendica,
    Kind::Pixelfed,
];

/// Servers of the wave present on day 0.
pub const WAVE_DAY0_SERVERS: usize = 60;
/// Ordinary servers of the wave by its last growth day.
pub const WAVE_POOL: usize = 112;
/// Last day on which the wave adds servers.
pub const WAVE_DAYS: u32 = 30;
/// Sign-ups accelerate after this day.
pub const WAVE_SURGE_AFTER: u32 = 10;
/// The day the spam farm appears, all at once.
pub const WAVE_SPAM_DAY: u32 = 17;
/// How many `node<k>.spamfarm.xyz` servers the farm has.
pub const WAVE_SPAM_NODES: usize = 8;
/// The day `tallclaims.social` claims 5,000,000 users (only that day).
pub const WAVE_FAKE_DAY: u32 = 20;
/// The wave server that claims an implausible user count on [`WAVE_FAKE_DAY`].
pub const WAVE_FAKE_DOMAIN: &str = "tallclaims.social";
/// The servers that are dead on some days.
pub const WAVE_FLAKY: [usize; 3] = [10, 11, 12];

const WAVE_SEED: u64 = 0x0F3D_1CE5_0000_0030;
const HUBS: usize = 3;
const FAKE: usize = 7;
const OPTED_OUT: usize = 20;

/// The stable traits of one wave server; its numbers on a day derive from these.
struct Profile {
    domain: String,
    kind: Kind,
    born: u32,
    base_users: i64,
    /// Sign-ups per day before the surge.
    daily: i64,
    active_pct: i64,
    posts_per_user: i64,
    languages: &'static [&'static str],
}

/// Declared language lists, weighted loosely like the real fediverse's (English
/// first, some servers declaring two, some none).
const LANGUAGES: [&[&str]; 10] = [
    &["en"],
    &["en"],
    &["en"],
    &["de"],
    &["ja"],
    &["fr", "en"],
    &["es"],
    &["pt-BR"],
    &["de", "en"],
    &[],
];

fn wave_profile(i: usize) -> Profile {
    let mut rng = SplitMix64(WAVE_SEED ^ i as u64);
    let born = if i < WAVE_DAY0_SERVERS {
        0
    } else {
        let spread = (i - WAVE_DAY0_SERVERS) * WAVE_DAYS as usize / (WAVE_POOL - WAVE_DAY0_SERVERS);
        1 + spread as u32
    };
    let kind = if i < HUBS || i == FAKE {
        Kind::Mastodon
    } else {
        rng.pick(&FEDIVERSE_KINDS)
    };
    let base_users = match (i, born) {
        (_, b) if b > 0 => 1,
        (i, _) if i < HUBS => 5000 + rng.below(15000) as i64,
        (FAKE, _) => 200,
        _ => {
            let scale = rng.pick(&[50, 200, 800, 3000]);
            scale + rng.below(scale as u64) as i64
        }
    };
    Profile {
        domain: if i == FAKE {
            WAVE_FAKE_DOMAIN.to_owned()
        } else {
            fictional_domain(i)
        },
        kind,
        born,
        base_users,
        daily: 1 + base_users.max(200) / 200 + rng.below(3) as i64,
        active_pct: 10 + rng.below(30) as i64,
        posts_per_user: 5 + rng.below(75) as i64,
        languages: rng.pick(&LANGUAGES),
    }
}

impl Profile {
    /// Users on `day` (a server not yet born has its base users).
    fn users_on(&self, day: u32) -> i64 {
        let age = i64::from(day.saturating_sub(self.born));
        let surge_days = i64::from(day.saturating_sub(self.born.max(WAVE_SURGE_AFTER)));
        self.base_users + self.daily * age + 3 * self.daily * surge_days
    }

    fn server_on(&self, day: u32) -> SimServer {
        let age = i64::from(day - self.born);
        let users = self.users_on(day);
        let active = users * self.active_pct / 100;
        let halfyear = (users * (self.active_pct + 20) / 100).min(users);
        let mut server = SimServer::new(&self.domain, self.kind)
            .with_usage(
                users,
                active,
                halfyear,
                users * self.posts_per_user + 7 * self.daily * age,
            )
            .with_languages(self.languages);
        // The sign-ups of the last 7 days, as Mastodon's weekly activity reports them.
        server.registrations_week = Some(users - self.users_on(day.saturating_sub(7)));
        server
    }
}

fn spam_domain(k: usize) -> String {
    format!("node{k}.spamfarm.xyz")
}

impl World {
    /// Day `day` of a 30-day growth wave: 60 servers on day 0 growing to 120 by day 30
    /// (two newcomers a day, plus the spam farm), sign-ups surging after day 10, three flaky
    /// servers dead on some days, eight `node<k>.spamfarm.xyz` servers appearing together on
    /// day 17 and `tallclaims.social` claiming 5,000,000 users on day 20 only. Users never
    /// shrink from one day to the next except that claim; new servers show up in the hubs'
    /// peer lists the day they are born, and peer lists only grow.
    pub fn wave(day: u32) -> World {
        let profiles: Vec<Profile> = (0..WAVE_POOL)
            .map(wave_profile)
            .filter(|p| p.born <= day)
            .collect();
        let spam: Vec<String> = if day >= WAVE_SPAM_DAY {
            (1..=WAVE_SPAM_NODES).map(spam_domain).collect()
        } else {
            Vec::new()
        };
        let mut servers: Vec<SimServer> = profiles
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut s = p.server_on(day);
                let peers: Vec<&str> = profiles
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i && (i < HUBS || draw(i as u64, j as u64) % 100 < 8))
                    .map(|(_, q)| q.domain.as_str())
                    .chain(spam.iter().map(String::as_str).filter(|_| i < HUBS))
                    .collect();
                s = s.with_peers(&peers);
                if i == FAKE && day == WAVE_FAKE_DAY {
                    s.users_total = 5_000_000;
                }
                if i == OPTED_OUT {
                    s = s.with(Behaviour::RobotsDisallowAll);
                }
                if WAVE_FLAKY.contains(&i) && draw(i as u64, u64::from(day)).is_multiple_of(4) {
                    s = s.with(Behaviour::Dead);
                }
                s
            })
            .collect();
        servers.extend(spam.iter().enumerate().map(|(k, domain)| {
            let others: Vec<&str> = spam
                .iter()
                .filter(|d| *d != domain)
                .map(String::as_str)
                .collect();
            let users = 2 + k as i64 + i64::from(day - WAVE_SPAM_DAY);
            SimServer::new(domain, Kind::Mastodon)
                .with_usage(users, users, users, users * 40)
                .with_peers(&others)
        }));
        World {
            servers,
            seeds: profiles[..2].iter().map(|p| p.domain.clone()).collect(),
        }
    }

    /// `n` servers of random kinds (about 5% plain websites, 3% dead), each listing the next
    /// two in a ring plus six random others, seeded from the first server (never dead).
    pub fn generated(n: usize, seed: u64) -> World {
        World::generated_on(n, seed, &NetShape::default(), 0)
    }

    /// [`World::generated`] with the network behaviour of `shape`, on day `day` of its
    /// outages (day 0 has none). The same arguments always give the same world, and the
    /// servers, kinds and numbers do not depend on the shape.
    pub fn generated_on(n: usize, seed: u64, shape: &NetShape, day: u32) -> World {
        let mut rng = SplitMix64(seed);
        // The network shape draws from a stream of its own, so it changes nothing else.
        let mut net = SplitMix64(seed ^ NET_SALT);
        let domains: Vec<String> = (0..n).map(fictional_domain).collect();
        let servers = (0..n)
            .map(|i| {
                let kind = match i {
                    0 => Kind::Mastodon,
                    _ if rng.below(20) == 0 => Kind::NotFediverse,
                    _ => rng.pick(&FEDIVERSE_KINDS),
                };
                let users = rng.pick(&[10u64, 100, 1000, 10000]);
                let users = (users + rng.below(users)) as i64;
                let active = users * (5 + rng.below(40) as i64) / 100;
                let peers: Vec<&str> = [1, 2]
                    .into_iter()
                    .map(|step| (i + step) % n)
                    .chain((0..6).map(|_| rng.below(n as u64) as usize))
                    .filter(|&j| j != i)
                    .map(|j| domains[j].as_str())
                    .collect();
                let mut s = SimServer::new(&domains[i], kind)
                    .with_usage(users, active, (active * 2).min(users), users * 30)
                    .with_peers(&peers);
                // One draw decides refusing, hanging or neither (the seed is always fine).
                let fate = if i > 0 { rng.below(100) } else { 100 };
                let refusing = fate < u64::from(shape.refusing_pct);
                let hanging = !refusing && fate < u64::from(shape.refusing_pct + shape.hanging_pct);
                let (low, high) = shape.latency_ms;
                let latency = low + net.below(u64::from(high.saturating_sub(low)) + 1) as u32;
                if refusing || (i > 0 && shape.down_on(seed, i, day)) {
                    s = s.with(Behaviour::Dead);
                } else if hanging {
                    s = s.with(Behaviour::Hang);
                }
                if latency > 0 {
                    s = s.with(Behaviour::Latency(latency));
                }
                s
            })
            .collect();
        World {
            servers,
            seeds: domains.into_iter().take(1).collect(),
        }
    }
}

const NET_SALT: u64 = 0x4E45_5400_0000_0000;
const OUTAGE_SALT: u64 = 0x0D7A_6E00;

/// How the servers of a generated world behave on the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct NetShape {
    /// Each server answers after a fixed latency drawn from this range, in milliseconds.
    pub latency_ms: (u32, u32),
    /// Percent of servers (never the seed) that close every connection unanswered.
    pub refusing_pct: u32,
    /// Percent of servers (never the seed) that accept every request and never answer.
    pub hanging_pct: u32,
    /// Per mille of servers that start an outage (closed connections) on any day after
    /// day 0; each server's outages last the same 1 to [`MAX_OUTAGE_DAYS`] days.
    pub outages_per_mille: u32,
}

/// The longest outage of a generated world.
pub const MAX_OUTAGE_DAYS: u32 = 25;

impl Default for NetShape {
    /// [`World::generated`]'s: no latency, 3% refusing, nothing hanging, no outages.
    fn default() -> Self {
        NetShape {
            latency_ms: (0, 0),
            refusing_pct: 3,
            hanging_pct: 0,
            outages_per_mille: 0,
        }
    }
}

impl NetShape {
    /// Whether server `i` is in an outage on `day`.
    fn down_on(&self, seed: u64, i: usize, day: u32) -> bool {
        if self.outages_per_mille == 0 {
            return false;
        }
        let length = 1 + (draw(seed ^ OUTAGE_SALT, i as u64) % u64::from(MAX_OUTAGE_DAYS)) as u32;
        let first_start = day.saturating_sub(length - 1).max(1);
        (first_start..=day).any(|start| {
            draw(seed ^ OUTAGE_SALT ^ i as u64, u64::from(start)) % 1000
                < u64::from(self.outages_per_mille)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::fictional_domain;
    use crate::sim::normalize_domain;
    use std::collections::BTreeSet;

    #[test]
    fn fictional_domains_are_distinct_and_valid() {
        let names: BTreeSet<String> = (0..5000).map(fictional_domain).collect();
        assert_eq!(names.len(), 5000);
        assert!(names
            .iter()
            .all(|n| normalize_domain(n).as_ref() == Some(n)));
    }
}
