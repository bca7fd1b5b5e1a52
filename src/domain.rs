//! Server names: the one gate every host name passes before fedicensus stores or
//! contacts it.
//!
//! Peer lists are written by thousands of independent programs and contain anything:
//! IP addresses, `localhost`, URLs, wildcards, ports, unicode, upper case, trailing dots.
//! [`Domain::parse`] turns an entry into a normalized name or says precisely why not, so
//! the rest of the crate can never request, store or count a malformed host.
//!
//! Types: [`Domain`] (always normalized), [`DomainError`] (why an entry was rejected).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The longest name DNS can carry in presentation form.
const MAX_LEN: usize = 253;
const MAX_LABEL: usize = 63;

/// A normalized, public DNS name of a server: lowercase, IDNA (punycode) ASCII, no
/// trailing dot, no port, at least one label below a known public suffix.
///
/// Cloning is cheap (a shared string), which matters with 100,000+ known domains.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Domain(Arc<str>);

/// Why a peer entry or a seed line is not a usable server name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// Nothing but white space, or nothing left after IDNA mapping.
    #[error("empty name")]
    Empty,
    /// Longer than DNS allows: over 253 characters in ASCII form.
    #[error("name is longer than {MAX_LEN} characters")]
    TooLong,
    /// A URL or address rather than a bare host: contains `/`, `?`, `#`, `@` or `\`.
    #[error("contains a scheme, path or query; give the bare host name")]
    NotABareHost,
    /// Contains `:`, i.e. `host:port`.
    #[error("contains a port; give the host name without ':port'")]
    HasPort,
    /// Contains white space inside the name.
    #[error("contains white space")]
    HasSpace,
    /// Contains `*`, as in `*.example.com`.
    #[error("wildcards are not server names")]
    Wildcard,
    /// An IPv4 or IPv6 address (bracketed or not), or a name whose last label is all
    /// digits (a shortened IPv4 spelling such as `10.1`).
    #[error("IP addresses are not crawled; give the server's domain name")]
    IpLiteral,
    /// A `localhost` label, or a name of a single label.
    #[error("'localhost' and single-label names are not public servers")]
    NotPublic,
    /// IDNA (UTS 46) refused the name; holds IDNA's explanation.
    #[error("invalid international name: {0}")]
    Idna(String),
    /// A label (held here) that is empty, over 63 characters, starts or ends with `-`, or
    /// has a character other than a lowercase ASCII letter, a digit or `-`.
    #[error("invalid label '{0}': labels are 1-63 letters, digits or inner hyphens")]
    InvalidLabel(String),
    /// The name (held here) does not end in a known public suffix.
    #[error("'{0}' is not under a known public suffix")]
    NoPublicSuffix(String),
    /// The name (held here) is itself a public suffix, e.g. `co.uk`.
    #[error("'{0}' is itself a public suffix, not a server")]
    IsPublicSuffix(String),
}

impl Domain {
    /// Normalizes `input` (trimmed) into a [`Domain`], or says why it cannot be one.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let raw = input.trim();
        if raw.is_empty() {
            return Err(DomainError::Empty);
        }
        if raw.chars().any(char::is_whitespace) {
            return Err(DomainError::HasSpace);
        }
        if raw.contains('*') {
            return Err(DomainError::Wildcard);
        }
        if raw.contains(['/', '?', '#', '@', '\\']) {
            return Err(DomainError::NotABareHost);
        }
        let unbracketed = raw.trim_start_matches('[').trim_end_matches(']');
        if unbracketed.parse::<IpAddr>().is_ok() {
            return Err(DomainError::IpLiteral);
        }
        if raw.contains(':') {
            return Err(DomainError::HasPort);
        }
        // No name needs more than four input bytes per character of its ASCII form:
        // refused before IDNA, so a 10 MB line costs nothing.
        if raw.len() > 4 * MAX_LEN + 1 {
            return Err(DomainError::TooLong);
        }
        let raw = raw.strip_suffix('.').unwrap_or(raw);
        // UTS 46 maps case and unicode spellings onto one ASCII form, so `Bücher.Social`,
        // `bücher.social` and `xn--bcher-kva.social` are one server.
        let ascii = idna::domain_to_ascii(raw).map_err(|e| DomainError::Idna(e.to_string()))?;
        Self::check_ascii(&ascii)?;
        Ok(Domain(ascii.into()))
    }

    /// The checks on a name already in ASCII form: length, labels, not `localhost` nor
    /// an IP spelling, below a known public suffix.
    fn check_ascii(ascii: &str) -> Result<(), DomainError> {
        if ascii.is_empty() {
            return Err(DomainError::Empty);
        }
        if ascii.len() > MAX_LEN {
            return Err(DomainError::TooLong);
        }
        let mut labels = 0;
        let mut last = "";
        for label in ascii.split('.') {
            let valid = !label.is_empty()
                && label.len() <= MAX_LABEL
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !valid {
                return Err(DomainError::InvalidLabel(label.to_string()));
            }
            if label == "localhost" {
                return Err(DomainError::NotPublic);
            }
            labels += 1;
            last = label;
        }
        if labels < 2 {
            return Err(DomainError::NotPublic);
        }
        // An all-numeric last label is a shortened IPv4 spelling (`10.1`) that `IpAddr`
        // does not parse but resolvers do.
        if last.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::IpLiteral);
        }
        match psl::suffix(ascii.as_bytes()) {
            Some(suffix) if suffix.is_known() => {
                if suffix.as_bytes().len() == ascii.len() {
                    return Err(DomainError::IsPublicSuffix(ascii.to_string()));
                }
            }
            _ => return Err(DomainError::NoPublicSuffix(ascii.to_string())),
        }
        Ok(())
    }

    /// Re-reads a name this crate stored: text already in normalized ASCII form (no
    /// punycode label, nothing IDNA would change) skips IDNA, which dominated the cost
    /// of reports that read millions of stored names, but passes every other check of
    /// [`Domain::parse`] (the public-suffix lookup among them costs about 34 ns a name,
    /// under 1% of a report); anything else goes through [`Domain::parse`]. So a
    /// damaged database still cannot produce a bad name.
    pub fn from_stored(text: &str) -> Result<Self, DomainError> {
        let plain = !text.starts_with("xn--")
            && !text.contains(".xn--")
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if plain {
            Self::check_ascii(text)?;
            Ok(Domain(text.into()))
        } else {
            Domain::parse(text)
        }
    }

    /// The normalized name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The registrable domain (one label below the public suffix), e.g.
    /// `social.example.co.uk` → `example.co.uk`. Many new servers under one registrable
    /// domain on one day is the signature of a spam farm or a crawler trap.
    pub fn registrable(&self) -> &str {
        psl::domain_str(&self.0).unwrap_or(&self.0)
    }
}

impl FromStr for Domain {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Domain::parse(s)
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Domain({})", self.0)
    }
}

/// Lets sets of names be searched with a raw `&str` (hash and equality are those of the
/// text).
impl std::borrow::Borrow<str> for Domain {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Domain {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Domain {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Domain {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        Domain::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        Domain::parse(s).unwrap().to_string()
    }

    #[test]
    fn normalizes_case_trailing_dot_and_unicode() {
        assert_eq!(ok("Mastodon.Social."), "mastodon.social");
        assert_eq!(ok("  bücher.social "), "xn--bcher-kva.social");
        assert_eq!(ok("BÜCHER.social"), "xn--bcher-kva.social");
        assert_eq!(ok("xn--bcher-kva.social"), "xn--bcher-kva.social");
        assert_eq!(ok("a.b.example.co.uk"), "a.b.example.co.uk");
    }

    #[test]
    fn rejects_what_is_not_a_public_host() {
        use DomainError::*;
        let cases: &[(&str, DomainError)] = &[
            ("", Empty),
            ("   ", Empty),
            ("127.0.0.1", IpLiteral),
            ("[::1]", IpLiteral),
            ("::1", IpLiteral),
            ("10.1", IpLiteral),
            ("localhost", NotPublic),
            ("foo.localhost", NotPublic),
            ("singlelabel", NotPublic),
            ("*.wild.social", Wildcard),
            ("https://x.social/path", NotABareHost),
            ("x.social/path", NotABareHost),
            ("user@x.social", NotABareHost),
            ("example.com:8443", HasPort),
            ("foo bar.social", HasSpace),
            ("-bad.social", InvalidLabel("-bad".into())),
            ("a..social", InvalidLabel("".into())),
            ("under_score.social", InvalidLabel("under_score".into())),
            (
                "server.invalidtld",
                NoPublicSuffix("server.invalidtld".into()),
            ),
            ("co.uk", IsPublicSuffix("co.uk".into())),
            ("social", NotPublic),
        ];
        for (input, want) in cases {
            assert_eq!(Domain::parse(input).as_ref(), Err(want), "{input:?}");
        }
        let long = format!("{}.social", "a.".repeat(130));
        assert_eq!(Domain::parse(&long), Err(TooLong));
        let long_label = format!("{}.social", "a".repeat(64));
        assert!(matches!(Domain::parse(&long_label), Err(InvalidLabel(_))));
    }

    #[test]
    fn registrable() {
        let d = Domain::parse("node3.spamfarm.xyz").unwrap();
        assert_eq!(d.registrable(), "spamfarm.xyz");
        assert_eq!(
            Domain::parse("a.b.example.co.uk").unwrap().registrable(),
            "example.co.uk"
        );
    }

    #[test]
    fn serde_round_trip_normalizes() {
        let d: Domain = serde_json::from_str("\"Example.COM.\"").unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"example.com\"");
        assert!(serde_json::from_str::<Domain>("\"localhost\"").is_err());
    }

    #[test]
    fn stored_names_round_trip() {
        for name in [
            "mastodon.social",
            "xn--bcher-kva.social",
            "a-b.example.co.uk",
        ] {
            let d = Domain::parse(name).unwrap();
            assert_eq!(Domain::from_stored(d.as_str()).unwrap(), d);
        }
        assert!(Domain::from_stored("LOCALHOST").is_err());
        assert!(Domain::from_stored("").is_err());
        assert!(Domain::from_stored("a..b").is_err());
    }

    #[test]
    fn stored_names_pass_every_check_of_parse() {
        use DomainError::*;
        let long = format!("{}.social", "a.".repeat(130));
        let long_label = format!("{}.social", "a".repeat(64));
        let cases: &[(&str, DomainError)] = &[
            ("10.0.0.1", IpLiteral),
            ("10.1", IpLiteral),
            ("foo.localhost", NotPublic),
            ("localhost.social", NotPublic),
            ("social", NotPublic),
            ("-bad.social", InvalidLabel("-bad".into())),
            ("bad-.social", InvalidLabel("bad-".into())),
            (".social", InvalidLabel("".into())),
            (
                "server.invalidtld",
                NoPublicSuffix("server.invalidtld".into()),
            ),
            ("co.uk", IsPublicSuffix("co.uk".into())),
            (&long, TooLong),
            (&long_label, InvalidLabel("a".repeat(64))),
        ];
        for (text, want) in cases {
            assert_eq!(Domain::from_stored(text).as_ref(), Err(want), "{text:?}");
        }
    }

    #[test]
    fn a_huge_line_is_refused_before_idna() {
        let huge = "ü".repeat(5_000_000);
        assert_eq!(Domain::parse(&huge), Err(DomainError::TooLong));
    }
}
