//! Audit archives: a trail's prefix as JSON lines, one [`AuditEntry`] per line as serde writes
//! it, written by [`Esr::archive_before`](crate::Esr::archive_before) and checked by
//! [`verify_archive`].

use super::key::AuditKeys;
use super::trail::{AuditEntry, AuditHead, ChainVerifier};
use crate::error::{Error, Result};
use crate::values::VpdCode;

/// Writes `e` as one line.
pub(crate) fn write_line(out: &mut dyn std::io::Write, e: &AuditEntry) -> Result<()> {
    let io = |e: std::io::Error| Error::AuditArchive(format!("writing failed: {e}"));
    serde_json::to_writer(&mut *out, e)
        .map_err(|e| Error::AuditArchive(format!("encoding an entry failed: {e}")))?;
    out.write_all(b"\n").map_err(io)
}

/// Verifies an archive of the trail of `vpd` read from `reader` (JSON lines, one
/// [`AuditEntry`] each; blank lines are skipped) and returns its newest entry: each entry must
/// follow the one before it and carry its keyed hash under `keys` (unkeyed with `None`).
///
/// `from` is where the archive must start: [`AuditHead::EMPTY`] for the first archive, the
/// head the previous archive verified to for a later one; with `None` the first line's link
/// is taken on trust. Compare the head returned with the live trail's first entry's
/// `prev_hash` (or the next archive's start). An empty archive returns `from` (or
/// [`AuditHead::EMPTY`]). A line that is not an entry is refused as
/// [`Error::AuditChainBroken`]; a read failure as [`Error::AuditArchive`].
pub fn verify_archive(
    reader: impl std::io::BufRead,
    vpd: VpdCode,
    keys: Option<&AuditKeys>,
    from: Option<AuditHead>,
) -> Result<AuditHead> {
    let mut v: Option<ChainVerifier> = from.map(|h| ChainVerifier::with_keys(vpd, keys).resume(h));
    let mut seq_hint = from.map_or(1, |h| h.seq + 1);
    for line in reader.lines() {
        let line = line.map_err(|e| Error::AuditArchive(format!("reading failed: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let e: AuditEntry = serde_json::from_str(&line).map_err(|_| Error::AuditChainBroken {
            vpd,
            seq: seq_hint,
            reason: "a line of the archive is not an audit entry",
        })?;
        let v = v.get_or_insert_with(|| {
            ChainVerifier::with_keys(vpd, keys).resume(AuditHead {
                seq: e.seq.saturating_sub(1),
                hash: e.prev_hash,
            })
        });
        v.feed(&e)?;
        seq_hint = e.seq + 1;
    }
    Ok(v.map_or(from.unwrap_or(AuditHead::EMPTY), |v| v.head()))
}
