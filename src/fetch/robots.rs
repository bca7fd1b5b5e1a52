//! robots.txt: the first thing asked of every host (also one reached only through a
//! redirect), and its answer is final for the run (kept by [`super::host::Host`]).
//!
//! Rules for our product token (the user agent up to its first `/`, e.g. `fedicensus`)
//! apply, else those for `*`. A missing robots.txt (4xx) allows everything; an
//! unparsable one is treated as missing, as RFC 9309 allows. `Crawl-delay` is honoured
//! up to [`MAX_CRAWL_DELAY`].
//!
//! Types: [`Robots`].

use std::time::Duration;

use texting_robots::Robot;

/// robots.txt bodies are read up to this size (decoded bytes).
pub const ROBOTS_CAP: usize = 512 * 1024;

/// A longer Crawl-delay is capped: a visit needs only a handful of requests.
pub const MAX_CRAWL_DELAY: Duration = Duration::from_secs(10);

/// The robots rules of one server.
pub struct Robots {
    rules: Option<Robot>,
}

impl Robots {
    /// Rules that allow every path: what a missing robots.txt (4xx) means.
    pub fn allow_all() -> Robots {
        Robots { rules: None }
    }

    /// Parses a robots.txt body for `user_agent`.
    pub fn parse(user_agent: &str, body: &[u8]) -> Robots {
        Robots {
            rules: Robot::new(product_token(user_agent), body).ok(),
        }
    }

    /// Whether our product token (else `*`) may fetch `path` (with its query); always true
    /// without usable rules.
    pub fn allows(&self, path: &str) -> bool {
        self.rules.as_ref().is_none_or(|r| r.allowed(path))
    }

    /// The pause the server asks for between requests, capped. The value is remote
    /// input: it is clamped before it becomes a `Duration`, so `1e30`, `NaN` or `-1` cannot
    /// overflow (a negative or non-number delay is ignored, an infinite one capped).
    pub fn crawl_delay(&self) -> Option<Duration> {
        let secs = self.rules.as_ref()?.delay?;
        // A delay too long for a `Duration` (or infinite) is just very long: capped,
        // never a panic. NaN is not above 0.
        (secs > 0.0).then(|| {
            Duration::try_from_secs_f32(secs).map_or(MAX_CRAWL_DELAY, |d| d.min(MAX_CRAWL_DELAY))
        })
    }
}

/// `fedicensus/0.1 (+https://…)` → `fedicensus`.
pub fn product_token(user_agent: &str) -> &str {
    let token = user_agent.split(['/', ' ']).next().unwrap_or(user_agent);
    if token.is_empty() {
        user_agent
    } else {
        token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UA: &str = "fedicensus/0.1.0 (+https://example.org)";

    #[test]
    fn disallow_all_and_targeted() {
        let all = Robots::parse(UA, b"User-agent: *\nDisallow: /\n");
        assert!(!all.allows("/.well-known/nodeinfo"));
        let us = Robots::parse(
            UA,
            b"User-agent: fedicensus\nDisallow: /\n\nUser-agent: *\nAllow: /\n",
        );
        assert!(!us.allows("/.well-known/nodeinfo"));
        let others = Robots::parse(UA, b"User-agent: GPTBot\nDisallow: /\n");
        assert!(others.allows("/.well-known/nodeinfo"));
        let api_only = Robots::parse(UA, b"User-agent: *\nDisallow: /api/\n");
        assert!(api_only.allows("/.well-known/nodeinfo"));
        assert!(!api_only.allows("/api/v1/instance/peers"));
    }

    #[test]
    fn crawl_delay_is_capped_and_garbage_allows() {
        let slow = Robots::parse(UA, b"User-agent: *\nCrawl-delay: 3600\n");
        assert_eq!(slow.crawl_delay(), Some(MAX_CRAWL_DELAY));
        for huge in ["1e30", "18446744073709551616", "inf", "3.4e38", "1e39"] {
            let robots = Robots::parse(
                UA,
                format!("User-agent: *\nCrawl-delay: {huge}\n").as_bytes(),
            );
            assert_eq!(robots.crawl_delay(), Some(MAX_CRAWL_DELAY), "{huge}");
        }
        for ignored in ["NaN", "-5", "0", "-inf", "soon"] {
            let robots = Robots::parse(
                UA,
                format!("User-agent: *\nCrawl-delay: {ignored}\n").as_bytes(),
            );
            assert_eq!(robots.crawl_delay(), None, "{ignored}");
        }
        let half = Robots::parse(UA, b"User-agent: *\nCrawl-delay: 0.5\n");
        assert_eq!(half.crawl_delay(), Some(Duration::from_millis(500)));
        let garbage = Robots::parse(UA, &[0xff, 0xfe, 0x00, b'\n']);
        assert!(garbage.allows("/"));
        assert_eq!(product_token("mybot"), "mybot");
        assert_eq!(product_token(UA), "fedicensus");
    }
}
