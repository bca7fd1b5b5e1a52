//! Domain lists given by the operator: seeds to start discovery from, and exclusions
//! (domains that, with their subdomains, are never contacted).
//!
//! Format: one domain a line; blank lines and `#` comments (whole-line or trailing)
//! are allowed. A bad line is reported with its line number and skipped, never fatal.
//!
//! Types: [`DomainList`], [`LineProblem`], [`Exclusions`].

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use crate::domain::{Domain, DomainError};

/// The usable domains of a list, in file order without duplicates, and its bad lines.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DomainList {
    /// Valid names, normalized, in file order, each once.
    pub domains: Vec<Domain>,
    /// The lines that are not domains, in file order.
    pub problems: Vec<LineProblem>,
}

/// A line that is not a domain.
#[derive(Debug, Clone, PartialEq)]
pub struct LineProblem {
    /// Line number, counting from 1.
    pub line: usize,
    /// The line, clipped for echoing (see `crate::echo::clip`).
    pub text: String,
    /// Why the line is not a domain.
    pub error: DomainError,
}

impl fmt::Display for LineProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: '{}': {}", self.line, self.text, self.error)
    }
}

impl DomainList {
    /// Reads a list's text: comments, blank lines and repeats are dropped, bad lines
    /// collected.
    pub fn parse(text: &str) -> DomainList {
        let mut list = DomainList::default();
        let mut seen = HashSet::new();
        for (index, line) in text.lines().enumerate() {
            let entry = line.split('#').next().unwrap_or("").trim();
            if entry.is_empty() {
                continue;
            }
            match Domain::parse(entry) {
                Ok(domain) => {
                    if seen.insert(domain.clone()) {
                        list.domains.push(domain);
                    }
                }
                Err(error) => list.problems.push(LineProblem {
                    line: index + 1,
                    text: crate::echo::clip(entry),
                    error,
                }),
            }
        }
        list
    }

    /// Reads a list file; the error names the file.
    pub fn read(path: &Path) -> anyhow::Result<DomainList> {
        let bytes = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", path.display()))?;
        Ok(DomainList::parse(&text))
    }
}

/// Domains never contacted, each covering its subdomains.
#[derive(Debug, Default, Clone)]
pub struct Exclusions {
    domains: HashSet<Domain>,
}

impl Exclusions {
    /// Excludes each of `domains` and its subdomains.
    pub fn new(domains: impl IntoIterator<Item = Domain>) -> Exclusions {
        Exclusions {
            domains: domains.into_iter().collect(),
        }
    }

    /// True when `domain` or any parent of it is excluded: one lookup per label, so a
    /// long opt-out list costs nothing per peer.
    pub fn covers(&self, domain: &Domain) -> bool {
        let name = domain.as_str();
        std::iter::once(name)
            .chain(name.match_indices('.').map(|(i, _)| &name[i + 1..]))
            .any(|suffix| Domain::parse(suffix).is_ok_and(|parent| self.domains.contains(&parent)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_blanks_duplicates_and_bad_lines() {
        let list = DomainList::parse(
            "# seeds\n\nmastodon.social\n  Pixelfed.Social.  # trailing comment\nlocalhost\nmastodon.social\nhttps://x.social/\n",
        );
        let names: Vec<&str> = list.domains.iter().map(Domain::as_str).collect();
        assert_eq!(names, ["mastodon.social", "pixelfed.social"]);
        assert_eq!(list.problems.len(), 2);
        assert_eq!(list.problems[0].line, 5);
        assert_eq!(list.problems[1].line, 7);
        assert!(list.problems[0]
            .to_string()
            .starts_with("line 5: 'localhost'"));
    }

    #[test]
    fn exclusions_cover_subdomains() {
        let ex = Exclusions::new([Domain::parse("spamfarm.xyz").unwrap()]);
        for (name, covered) in [
            ("spamfarm.xyz", true),
            ("node1.spamfarm.xyz", true),
            ("a.b.spamfarm.xyz", true),
            ("notspamfarm.xyz", false),
            ("spamfarm.xyz.evil.com", false),
        ] {
            assert_eq!(ex.covers(&Domain::parse(name).unwrap()), covered, "{name}");
        }
    }
}
