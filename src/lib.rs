//! fedicensus counts the fediverse.
//!
//! The modules follow the data flow:
//! discover ([`seeds`], peer lists in [`parse::peers`]) → fetch ([`fetch`]: politeness
//! and safety) → parse ([`parse`]: NodeInfo and server APIs) → store ([`store`]: sled)
//! → report ([`report`]: every statistic, defined once) → render ([`render`]: Markdown,
//! JSON, CSV, charts, HTML) → serve ([`serve`]: the HTTP API and dashboard). [`crawl`] drives the first four; [`sim`] is the simulated
//! fediverse used by the tests, the demo and the benchmarks.
//!
//! Shared vocabulary: [`domain::Domain`], [`day::Day`], [`snapshot::Snapshot`], and
//! [`text::clean`] for any text a server sends.

pub mod bench;
pub mod cli;
pub mod crawl;
pub mod daily;
pub mod day;
pub mod demo;
pub mod domain;
pub mod echo;
pub mod fetch;
pub mod outcome;
pub mod parse;
pub mod render;
pub mod report;
pub mod seeds;
pub mod serve;
pub mod sim;
pub mod snapshot;
pub mod store;
pub mod text;
