//! fedicensus counts the fediverse.
//!
//! The modules follow the data flow:
//! discover ([`seeds`], peer lists in [`parse::peers`]) → fetch ([`fetch`]: politeness
//! and safety) → parse ([`parse`]: NodeInfo and server APIs) → store ([`store`]: sled)
//! → report ([`report`]: every statistic, defined once) → render ([`render`]: Markdown,
//! JSON, CSV, charts, HTML) → serve (`serve`: the HTTP API and dashboard). [`crawl`]
//! drives the first four; [`sim`] is the simulated fediverse used by the tests, the demo
//! and the benchmarks. `export` and `import` take the history out to other tools
//! (CSV, JSON Lines, Parquet) and back in.
//!
//! Shared vocabulary: [`domain::Domain`], [`day::Day`], [`snapshot::Snapshot`],
//! [`text::clean`] for any text a server sends, and [`number`] for numbers in prose
//! (the report's headline and notes, and every rendering).
//!
//! The public API is the pipeline's stages and the simulation, which the tests and the
//! benchmarks drive directly; the command itself ([`main`]: `cli`, and the jobs only
//! it runs: `daily`, `export`, `import`, `serve`, `echo`) and each stage's internals
//! (the store's encoding, the resolver, the capabilities table, …) are crate-private,
//! and `unreachable_pub` keeps them so.

#![warn(missing_docs, unreachable_pub)]

pub mod bench;
mod cli;
pub mod crawl;
mod daily;
pub mod day;
pub mod demo;
pub mod domain;
mod echo;
mod export;
pub mod fetch;
mod import;
pub mod number;
pub mod outcome;
pub mod parse;
pub mod render;
pub mod report;
pub mod seeds;
mod serve;
pub mod sim;
pub mod snapshot;
pub mod store;
pub mod text;

pub use cli::main;
