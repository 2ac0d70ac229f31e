//! Text keys for the bulk scorer: ESR's assignment and employee numbers, positions and
//! competence names turned into dense integers.

use crate::error::{Error, Result};
use std::collections::HashMap;

/// Text keys as dense integer ids, for the scorer: each distinct string gets 0, 1, 2, … in the
/// order it is first interned. ESR writes assignment numbers (`20000001-1`), employee numbers
/// and positions as text; a binding interns each key's strings (one interner per key, shared
/// by the tables that join on it) and hands the scorer the ids.
#[derive(Debug, Default, Clone)]
pub struct KeyInterner<'a> {
    ids: HashMap<&'a str, u32, foldhash::fast::FixedState>,
    keys: Vec<&'a str>,
}

impl<'a> KeyInterner<'a> {
    /// An empty interner.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of `key`, giving it the next one when it is new. Refused after 2³¹ − 1 distinct
    /// keys, which is more than the scorer's `i32` ids can count.
    pub fn intern(&mut self, key: &'a str) -> Result<u32> {
        if let Some(id) = self.ids.get(key) {
            return Ok(*id);
        }
        let id = u32::try_from(self.keys.len())
            .ok()
            .filter(|id| *id < i32::MAX as u32)
            .ok_or_else(|| Error::BulkInput {
                reason: "more than 2,147,483,646 distinct text ids in one column; use integer ids"
                    .to_owned(),
            })?;
        self.ids.insert(key, id);
        self.keys.push(key);
        Ok(id)
    }

    /// The id of `key` if it has been interned.
    #[inline]
    pub fn get(&self, key: &str) -> Option<u32> {
        self.ids.get(key).copied()
    }

    /// An id that no key has: [`KeyInterner::len`] when nothing more is interned; give it to
    /// keys of one table that the other never mentions.
    pub fn unknown(&self) -> u32 {
        self.keys.len() as u32
    }

    /// Distinct keys interned.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether nothing has been interned.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key with id `id`.
    pub fn key(&self, id: u32) -> Option<&'a str> {
        self.keys.get(id as usize).copied()
    }
}
