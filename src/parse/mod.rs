//! Parsers for what fediverse servers serve: pure functions over `&[u8]`, no I/O.
//!
//! Every parser is lenient about the many ways real servers bend the formats (see
//! `tests/fixtures/real/SOURCES.md`) and never panics, whatever the body holds.
//!
//! - [`wellknown`]: `/.well-known/nodeinfo` discovery documents.
//! - [`nodeinfo`]: NodeInfo 1.0–2.2 documents.
//! - [`instance`]: Mastodon-compatible `/api/v1/instance`, `/api/v2/instance` and
//!   `/api/v1/instance/activity`.
//! - [`peers`]: peer lists (Mastodon, Misskey, Lemmy).
//!
//! Types: [`ParseError`], the one error every parser returns.

pub mod instance;
mod lenient;
pub mod nodeinfo;
pub mod peers;
pub mod wellknown;

use serde_json::error::Category;

/// Why a body could not be read as the document a parser expects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The body is not JSON at all (HTML error pages, truncated bodies, bare fragments).
    #[error("body is not valid JSON: {0}")]
    NotJson(String),
    /// The body is JSON but not the document asked for (an error object, another API's answer).
    #[error("JSON is not the expected document: {0}")]
    Shape(String),
    /// A well-known document without any link to a NodeInfo schema we know, with an http(s) href.
    #[error(
        "well-known document has no usable NodeInfo link (known schema rel with an http(s) href)"
    )]
    NoNodeInfoLink,
}

impl From<serde_json::Error> for ParseError {
    /// serde_json reports type mismatches as `Data` errors: the JSON itself was fine, so
    /// those are shape problems, while syntax and early-EOF errors mean it was never JSON.
    fn from(err: serde_json::Error) -> Self {
        match err.classify() {
            Category::Data => ParseError::Shape(err.to_string()),
            Category::Io | Category::Syntax | Category::Eof => ParseError::NotJson(err.to_string()),
        }
    }
}

/// Parses `body` as a JSON object, naming `what` was expected when it is another JSON type.
fn json_object(body: &[u8], what: &str) -> Result<serde_json::Value, ParseError> {
    let value: serde_json::Value = serde_json::from_slice(body)?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(ParseError::Shape(format!(
            "{what} must be a JSON object, got {}",
            lenient::kind(&value)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert!(matches!(
            peers::PeerSet::new().read_mastodon(deep.as_bytes()),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(
            nodeinfo::parse_nodeinfo(deep.as_bytes()),
            Err(ParseError::NotJson(_))
        ));
    }

    #[test]
    fn errors_explain_themselves() {
        let err = wellknown::parse_wellknown(b"<html>").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("body is not valid JSON: expected value"));
        let err = nodeinfo::parse_nodeinfo(b"[]").unwrap_err();
        assert_eq!(
            err.to_string(),
            "JSON is not the expected document: a NodeInfo document must be a JSON object, got an array"
        );
    }
}
