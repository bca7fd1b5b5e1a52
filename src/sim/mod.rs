//! The simulated fediverse used by the tests, the demo and the benchmarks: many fake
//! servers behind one loopback port, dispatched by `Host`, each knowing its true numbers.
//!
//! Modules: [`world`] (the data model and the standard scenario), [`scenarios`] (the
//! growth wave and generated worlds), [`truth`] (what an honest crawler must find),
//! `payloads` (response bodies per software), [`server`] (the HTTP side and its request
//! log), `tls` (its test CA and per-host certificates) and [`dns`] (a DNS server for
//! the simulated names). The main types are re-exported here: [`World`], [`SimServer`],
//! [`Kind`], [`Behaviour`], [`RawAnswer`], [`NetShape`], [`Truth`], [`SimHandle`],
//! [`RequestRecord`], [`serve`], [`serve_http`], [`serve_https`] and [`bind_port_443`].

pub mod dns;
mod payloads;
pub mod scenarios;
pub mod server;
mod tls;
pub mod truth;
pub mod world;

pub use scenarios::NetShape;
pub use server::{bind_port_443, serve, serve_http, serve_https, RequestRecord, SimHandle};
pub use truth::{normalize_domain, Truth};
pub use world::{Behaviour, Kind, RawAnswer, SimServer, World};
