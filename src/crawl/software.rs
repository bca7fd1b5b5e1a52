//! Which server APIs a server offers, by its NodeInfo software name.
//!
//! Asking a server for an API it does not have costs it a request and us a 404, so the
//! crawler asks only what the software is known to serve.
//!
//! Types: [`Capabilities`], [`PeerApi`].

/// How a software publishes the servers it knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PeerApi {
    /// `GET /api/v1/instance/peers` (Mastodon and compatibles).
    Mastodon,
    /// `POST /api/federation/instances`, paginated (the Misskey family).
    Misskey,
    /// `GET /api/v3/federated_instances`, `linked` only (Lemmy).
    Lemmy,
}

/// The APIs to ask beyond NodeInfo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Capabilities {
    /// `/api/v1/instance` and `/api/v2/instance`.
    pub(crate) instance_api: bool,
    /// `/api/v1/instance/activity` (weekly registrations).
    pub(crate) activity: bool,
    pub(crate) peers: Option<PeerApi>,
}

/// Mastodon itself and forks that keep its whole API.
const MASTODON: &[&str] = &["mastodon", "hometown", "glitchsoc", "fedibird", "kmyblue"];
/// Other software implementing the Mastodon client API, peers included.
const MASTODON_COMPATIBLE: &[&str] = &[
    "pleroma",
    "akkoma",
    "gotosocial",
    "pixelfed",
    "friendica",
    "takahe",
    "snac",
    "bookwyrm",
    "mitra",
    "smithereen",
    "iceshrimp.net",
    "incestoid",
    "microblogpub",
];
/// The Misskey family; some forks also carry a Mastodon-compatible instance API.
const MISSKEY: &[&str] = &[
    "misskey",
    "calckey",
    "foundkey",
    "meisskey",
    "cherrypick",
    "sharkey",
    "firefish",
    "iceshrimp",
    "catodon",
];
const MISSKEY_WITH_MASTODON_API: &[&str] = &["sharkey", "firefish", "iceshrimp", "catodon"];

impl Capabilities {
    pub(crate) fn of(software: &str) -> Capabilities {
        let is = |list: &[&str]| list.contains(&software);
        if is(MASTODON) {
            Capabilities {
                instance_api: true,
                activity: true,
                peers: Some(PeerApi::Mastodon),
            }
        } else if is(MASTODON_COMPATIBLE) {
            Capabilities {
                instance_api: true,
                activity: false,
                peers: Some(PeerApi::Mastodon),
            }
        } else if is(MISSKEY) {
            Capabilities {
                instance_api: is(MISSKEY_WITH_MASTODON_API),
                activity: false,
                peers: Some(PeerApi::Misskey),
            }
        } else if software == "lemmy" {
            Capabilities {
                peers: Some(PeerApi::Lemmy),
                ..Capabilities::default()
            }
        } else {
            Capabilities::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        assert_eq!(Capabilities::of("mastodon").peers, Some(PeerApi::Mastodon));
        assert!(Capabilities::of("mastodon").activity);
        assert!(!Capabilities::of("akkoma").activity);
        assert_eq!(Capabilities::of("misskey").peers, Some(PeerApi::Misskey));
        assert!(!Capabilities::of("misskey").instance_api);
        assert!(Capabilities::of("sharkey").instance_api);
        assert_eq!(Capabilities::of("lemmy").peers, Some(PeerApi::Lemmy));
        assert_eq!(Capabilities::of("peertube"), Capabilities::default());
    }
}
