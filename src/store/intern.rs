//! Compact ids for server names and for the strings snapshots repeat (software names,
//! versions, NodeInfo schemas, languages), so a stored snapshot holds small integers.
//!
//! The trees `ids`/`names` (server name ↔ id) and `strings` (text ↔ id, see
//! [`super::keys`]) are the store of record; [`Interner`] is their copy in memory,
//! loaded when the store opens (one entry per server: a few MiB at 100,000 servers).
//! Ids are dense, in order of first appearance, and never reused. A new id is written
//! to its trees before any snapshot that uses it, so a crash never leaves a snapshot
//! whose name is unknown.
//!
//! Types: [`Interner`].

use std::collections::HashMap;
use std::sync::Arc;

use crate::domain::Domain;

/// Both dictionaries, in memory.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    ids: HashMap<Domain, u32>,
    names: Vec<Domain>,
    string_ids: HashMap<Arc<str>, u32>,
    strings: Vec<Arc<str>>,
}

/// Where a lookup found its id: already known, or newly assigned (to be written).
pub(crate) enum Interned {
    Known(u32),
    New(u32),
}

impl Interner {
    pub(crate) fn server_id(&self, domain: &Domain) -> Option<u32> {
        self.ids.get(domain).copied()
    }

    pub(crate) fn server(&self, domain: &Domain) -> Interned {
        match self.ids.get(domain) {
            Some(&id) => Interned::Known(id),
            None => Interned::New(self.names.len() as u32),
        }
    }

    /// Records a name under the id [`Interner::server`] assigned, once it is written.
    pub(crate) fn add_server(&mut self, domain: Domain) {
        self.ids.insert(domain.clone(), self.names.len() as u32);
        self.names.push(domain);
    }

    pub(crate) fn name(&self, id: u32) -> Option<&Domain> {
        self.names.get(id as usize)
    }

    pub(crate) fn server_count(&self) -> u32 {
        self.names.len() as u32
    }

    pub(crate) fn string(&self, text: &str) -> Interned {
        match self.string_ids.get(text) {
            Some(&id) => Interned::Known(id),
            None => Interned::New(self.strings.len() as u32),
        }
    }

    pub(crate) fn add_string(&mut self, text: &str) {
        let text: Arc<str> = Arc::from(text);
        self.string_ids
            .insert(text.clone(), self.strings.len() as u32);
        self.strings.push(text);
    }

    pub(crate) fn text(&self, id: u32) -> Option<&Arc<str>> {
        self.strings.get(id as usize)
    }
}
