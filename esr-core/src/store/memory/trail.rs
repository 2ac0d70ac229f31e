//! A trust's audit trail in memory, kept in fixed-size chunks.
//!
//! One `Vec` for the whole trail doubles as it grows: each doubling copies every entry into
//! freshly zeroed memory, and on a trail of hundreds of thousands of entries that copy (and
//! the kernel zeroing its pages) cost more than the rest of a short request. Chunks are
//! allocated once at their full size and never moved, so an append only ever touches the
//! memory of its own entry.

use crate::audit::AuditEntry;
use std::collections::VecDeque;

/// Entries in a chunk (about 300 KB of entries each).
const CHUNK: usize = 1024;

/// The entries of one trust's trail, oldest first.
#[derive(Debug, Default)]
pub(super) struct Trail {
    /// Every chunk is non-empty; only the newest one is appended to, up to its capacity.
    chunks: VecDeque<Vec<AuditEntry>>,
}

impl Trail {
    pub(super) fn first(&self) -> Option<&AuditEntry> {
        self.chunks.front().and_then(|c| c.first())
    }

    pub(super) fn last(&self) -> Option<&AuditEntry> {
        self.chunks.back().and_then(|c| c.last())
    }

    pub(super) fn push(&mut self, entry: AuditEntry) {
        match self.chunks.back_mut() {
            Some(c) if c.len() < c.capacity() => c.push(entry),
            _ => {
                let mut c = Vec::with_capacity(CHUNK);
                c.push(entry);
                self.chunks.push_back(c);
            }
        }
    }

    /// Removes the newest entry (a rolled-back append).
    pub(super) fn pop(&mut self) -> Option<AuditEntry> {
        let c = self.chunks.back_mut()?;
        let e = c.pop();
        if c.is_empty() {
            self.chunks.pop_back();
        }
        e
    }

    /// The entries from position `start` (0 for the oldest kept), oldest first.
    pub(super) fn iter_from(&self, start: usize) -> impl Iterator<Item = &AuditEntry> {
        let mut skip = start;
        let mut first_chunk = self.chunks.len();
        for (i, c) in self.chunks.iter().enumerate() {
            if skip < c.len() {
                first_chunk = i;
                break;
            }
            skip -= c.len();
        }
        self.chunks
            .range(first_chunk..)
            .flat_map(|c| c.iter())
            .skip(skip)
    }

    /// Removes and answers the oldest `n` entries (an archived prefix).
    pub(super) fn drain_prefix(&mut self, n: usize) -> Vec<AuditEntry> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let Some(c) = self.chunks.front_mut() else {
                break;
            };
            let take = (n - out.len()).min(c.len());
            out.extend(c.drain(..take));
            if c.is_empty() {
                self.chunks.pop_front();
            }
        }
        out
    }

    /// Puts a prefix removed by [`Trail::drain_prefix`] back in front (a rolled-back removal).
    pub(super) fn restore_prefix(&mut self, prefix: Vec<AuditEntry>) {
        if !prefix.is_empty() {
            self.chunks.push_front(prefix);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditActor, AuditEvent, AuditHead};
    use chrono::{TimeZone, Utc};

    fn trail(n: u64) -> Trail {
        let vpd = "297".parse().unwrap();
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut t = Trail::default();
        let mut head = AuditHead::EMPTY;
        for _ in 0..n {
            let e = AuditEntry::after_keyed(
                head,
                vpd,
                at,
                AuditActor::Anonymous,
                AuditEvent::TrustCreated { name: "T".into() },
                None,
            );
            head = AuditHead {
                seq: e.seq,
                hash: e.hash,
            };
            t.push(e);
        }
        t
    }

    fn seqs(t: &Trail, from: usize) -> Vec<u64> {
        t.iter_from(from).map(|e| e.seq).collect()
    }

    #[test]
    fn appends_cross_chunks_in_order() {
        let n = 2 * CHUNK as u64 + 5;
        let t = trail(n);
        assert_eq!(seqs(&t, 0), (1..=n).collect::<Vec<_>>());
        assert_eq!(
            seqs(&t, CHUNK + 3),
            ((CHUNK as u64 + 4)..=n).collect::<Vec<_>>()
        );
        assert!(seqs(&t, n as usize).is_empty());
        assert_eq!(t.first().map(|e| e.seq), Some(1));
        assert_eq!(t.last().map(|e| e.seq), Some(n));
    }

    #[test]
    fn pops_and_prefixes_round_trip() {
        let n = CHUNK as u64 + 2;
        let mut t = trail(n);
        assert_eq!(t.pop().map(|e| e.seq), Some(n));
        assert_eq!(t.pop().map(|e| e.seq), Some(n - 1));
        assert_eq!(t.pop().map(|e| e.seq), Some(n - 2));
        assert_eq!(t.last().map(|e| e.seq), Some(n - 3));
        let prefix = t.drain_prefix(CHUNK - 10);
        assert_eq!(prefix.len(), CHUNK - 10);
        assert_eq!(t.first().map(|e| e.seq), Some(CHUNK as u64 - 9));
        assert_eq!(seqs(&t, 0).len(), 9);
        t.restore_prefix(prefix);
        assert_eq!(seqs(&t, 0), (1..=n - 3).collect::<Vec<_>>());
        let mut empty = trail(1);
        assert!(empty.pop().is_some());
        assert!(empty.pop().is_none() && empty.last().is_none());
    }
}
