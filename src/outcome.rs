//! Why visiting a server produced no snapshot.
//!
//! Types: [`FailureReason`] (a failed visit, in the categories the run summary counts),
//! [`OptOut`] (how a server asked not to be counted).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a visit did not produce a snapshot. The names are the keys of the run summary's
/// `failed` object, a contract with scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// The name did not resolve.
    Dns,
    /// No TCP connection, or the connection closed before an answer.
    Connect,
    /// The request (or the connection) took longer than `--timeout`.
    Timeout,
    /// The TLS handshake failed (bad or expired certificate, protocol error).
    Tls,
    /// The server answered a required document with an error status.
    HttpStatus,
    /// The host answered but serves no NodeInfo.
    NotFediverse,
    /// A response exceeded its size cap (also after decompression).
    TooLarge,
    /// A response was not the document it should be (bad JSON, wrong shape).
    Invalid,
    /// Too many redirects, or a redirect to something we never follow.
    Redirect,
    /// The name resolved only to loopback, private or other non-public addresses.
    ForbiddenAddress,
    /// The server kept answering 429/503 beyond our retry budget.
    RateLimited,
    /// The server answered, but not in valid HTTP: a garbage status line, HTTP/0.9, an
    /// invalid `Content-Length`, a body cut short. Someone is there, so it is not put on
    /// the unreachable back-off.
    Protocol,
    /// The crawler itself ran short (file descriptors, memory): not the server's fault,
    /// so it does not count towards the server's re-probe backoff.
    Local,
}

impl FailureReason {
    /// Every reason once: the run summary's `failed` object lists them all, 0 included.
    pub const ALL: [FailureReason; 13] = [
        FailureReason::Dns,
        FailureReason::Connect,
        FailureReason::Timeout,
        FailureReason::Tls,
        FailureReason::HttpStatus,
        FailureReason::NotFediverse,
        FailureReason::TooLarge,
        FailureReason::Invalid,
        FailureReason::Redirect,
        FailureReason::ForbiddenAddress,
        FailureReason::RateLimited,
        FailureReason::Protocol,
        FailureReason::Local,
    ];

    /// The snake_case name: the key in the run summary's `failed` object, and the form
    /// serde reads and writes.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::Dns => "dns",
            FailureReason::Connect => "connect",
            FailureReason::Timeout => "timeout",
            FailureReason::Tls => "tls",
            FailureReason::HttpStatus => "http_status",
            FailureReason::NotFediverse => "not_fediverse",
            FailureReason::TooLarge => "too_large",
            FailureReason::Invalid => "invalid",
            FailureReason::Redirect => "redirect",
            FailureReason::ForbiddenAddress => "forbidden_address",
            FailureReason::RateLimited => "rate_limited",
            FailureReason::Protocol => "protocol",
            FailureReason::Local => "local",
        }
    }

    /// Failures that say "nobody is there": no name, no connection, no answer in time,
    /// no TLS, no public address.
    pub fn is_unreachable(self) -> bool {
        matches!(
            self,
            FailureReason::Dns
                | FailureReason::Connect
                | FailureReason::Timeout
                | FailureReason::Tls
                | FailureReason::ForbiddenAddress
        )
    }

    /// Failures that put a name on the growing re-probe schedule: unreachable ones, and
    /// "no fediverse server is there" (the host answers but serves no NodeInfo: most such
    /// names come from junk or made-up peer entries, and probing them all on every run
    /// is what a peer-list flood would cost). A server that answers in any other way,
    /// even wrongly, is tried again on the next run.
    pub fn backs_off(self) -> bool {
        self.is_unreachable() || self == FailureReason::NotFediverse
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a server asked not to be counted. Such a server gets no request beyond the one
/// that told us, and appears in no total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptOut {
    /// robots.txt disallows our user agent (or `*`) for the paths we need.
    Robots,
    /// The server answered 410 Gone or 451 Unavailable For Legal Reasons.
    Gone,
    /// NodeInfo metadata says `private: true` or `hide_in_statistics: true`.
    NodeInfoPrivate,
    /// The operator listed the domain in `--exclude`.
    Excluded,
}

impl OptOut {
    /// Every kind once: the run summary's `opted_out` object lists them all, 0 included.
    pub const ALL: [OptOut; 4] = [
        OptOut::Robots,
        OptOut::Gone,
        OptOut::NodeInfoPrivate,
        OptOut::Excluded,
    ];

    /// The snake_case name: the key in the run summary's `opted_out` object, and the form
    /// serde reads and writes.
    pub fn as_str(self) -> &'static str {
        match self {
            OptOut::Robots => "robots",
            OptOut::Gone => "gone",
            OptOut::NodeInfoPrivate => "nodeinfo_private",
            OptOut::Excluded => "excluded",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_stored_under_their_summary_names() {
        for reason in FailureReason::ALL {
            let stored = serde_json::to_string(&reason).unwrap();
            assert_eq!(stored, format!("\"{}\"", reason.as_str()));
            assert_eq!(
                serde_json::from_str::<FailureReason>(&stored).unwrap(),
                reason
            );
        }
        // Records written before `protocol` existed name only the older reasons.
        let old: FailureReason = serde_json::from_str("\"connect\"").unwrap();
        assert_eq!(old, FailureReason::Connect);
        assert!(!FailureReason::Protocol.is_unreachable());
    }
}
