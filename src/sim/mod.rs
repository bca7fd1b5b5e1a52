//! The simulated fediverse used by the tests, the demo and the benchmarks: many fake
//! servers behind one loopback port, dispatched by `Host`, each knowing its true numbers.
//!
//! Modules: [`world`] (the data model and the standard scenario), [`scenarios`] (the
//! growth wave and generated worlds), [`truth`] (what an honest crawler must find),
//! `payloads` (response bodies per software) and [`server`] (the HTTP side and its request
//! log). The main types are re-exported here: [`World`], [`SimServer`], [`Kind`],
//! [`Behaviour`], [`RawAnswer`], [`Truth`], [`SimHandle`], [`RequestRecord`] and [`serve`].

mod payloads;
pub mod scenarios;
pub mod server;
pub mod truth;
pub mod world;

pub use server::{serve, RequestRecord, SimHandle};
pub use truth::{normalize_domain, Truth};
pub use world::{Behaviour, Kind, RawAnswer, SimServer, World};
