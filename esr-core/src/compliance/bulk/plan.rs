//! The scorer's requirement-building step: which bits each assignment needs, and which bits each
//! holding can fill, from the requirement targets (position, organisation unit inherited down
//! the hierarchy, job), the essential flags, the minimum levels and the equivalences. Every
//! decision is one of the service's rule functions ([`Needed::merge`],
//! [`equivalence_closure`], [`meets_minimum`]), applied to ids instead of names.
//!
//! A bit stands for a (competency, minimum level) pair that some requirement names: a holding
//! sets the bit when it is of that competency or of one that satisfies it, at a level that
//! meets the minimum. Without levels or equivalences this is one bit per competency, as before.

use super::{
    AssignmentColumns, BulkId, BulkRules, Csr, IdHasher, IdMap, NO_SLOT, RequirementColumns,
};
use crate::compliance::{Need, Needed, equivalence_closure, meets_minimum};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

/// One requirement row, its target already a slot of its target kind.
type Row = (u32, u32, Needed); // (target slot, competency slot, need)

/// What the assignments need and what the holdings can fill.
pub(super) struct Plan<I> {
    /// Competencies some requirement names, to slots.
    pub(super) comps: IdMap,
    /// Each competency slot's id.
    pub(super) comp_ids: Vec<Option<I>>,
    /// Words of 64 bits per set.
    pub(super) words: usize,
    /// Each profile's essential bits (`words` each).
    pub(super) essential: Vec<u64>,
    /// Each profile's rows for the detail: (competency slot, bit, need), by competency slot.
    pub(super) items: Csr<(u32, u32, Need)>,
    /// Positions to profiles, when profiles are per position (no unit or job requirements).
    pub(super) positions: IdMap,
    /// Each assignment's profile, when profiles are not per position (`NO_SLOT`: none).
    pub(super) profile_of: Option<Vec<u32>>,
    /// What a holding of a competency can fill.
    pub(super) fills: Fills,
}

/// Set in a first (word, mask) when the holding fills other words too.
pub(super) const MORE: u32 = 1 << 31;

/// The bits a holding can set.
// One per scoring: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
pub(super) enum Fills {
    /// One bit per competency, no minimum: the bit is the competency's slot.
    Direct,
    /// Held competency ids (those that satisfy something required) to their (bit, minimum
    /// rank) lists, and the same as (word, mask) lists for each level rank a holding may have
    /// (`ranks` of them; a higher rank fills what the highest minimum fills), so that a
    /// holding sets its bits a word at a time.
    Expanded {
        held: IdMap,
        bits: Csr<(u32, u8)>,
        ranks: usize,
        /// The first (word, mask) of each (held, rank), read without indirection: a holding
        /// rarely fills bits in more than one word.
        first: Vec<(u32, u64)>,
        /// The others.
        masks: Csr<(u32, u64)>,
    },
}

impl Fills {
    /// Calls `f(bit, meets)` for each bit a holding of `c` at level `rank` can fill.
    #[inline(always)]
    pub(super) fn each(&self, comps: &IdMap, c: i64, rank: u8, mut f: impl FnMut(u32, bool)) {
        match self {
            Self::Direct => {
                if let Some(s) = comps.get(c) {
                    f(s, true);
                }
            }
            Self::Expanded { held, bits, .. } => {
                if let Some(h) = held.get(c) {
                    for &(bit, min) in bits.get(h as usize) {
                        f(bit, meets_minimum(rank, min));
                    }
                }
            }
        }
    }
}

fn needed_at(essential: Option<&[bool]>, min: Option<&[u8]>, k: usize) -> Needed {
    Needed::of(
        essential.is_none_or(|e| e.get(k).copied().unwrap_or(true)),
        min.and_then(|m| m.get(k).copied()).unwrap_or(0),
    )
}

/// Rows of one target kind, and its target ids to slots.
fn rows_of<I: BulkId>(
    comps: &IdMap,
    target: &[I],
    competency: &[I],
    essential: Option<&[bool]>,
    min: Option<&[u8]>,
) -> (IdMap, Vec<Row>) {
    let targets = IdMap::build(target.iter().map(|t| t.to_i64()));
    let rows = target
        .iter()
        .zip(competency)
        .enumerate()
        .filter_map(|(k, (t, c))| {
            Some((
                targets.get(t.to_i64())?,
                comps.get(c.to_i64())?,
                needed_at(essential, min, k),
            ))
        })
        .collect();
    (targets, rows)
}

/// The rows of one target, by competency slot.
fn grouped(len: usize, rows: &[Row]) -> Csr<(u32, Needed)> {
    let mut csr = Csr::build(len, rows.iter().map(|&(t, c, n)| (t, (c, n))));
    for t in 0..len {
        csr.get_mut(t).sort_unstable_by_key(|x| x.0);
    }
    csr
}

impl<I: BulkId> Plan<I> {
    pub(super) fn build(
        requirements: &RequirementColumns<'_, I>,
        rules: &BulkRules<'_, I>,
        assignments: &[AssignmentColumns<'_, I>],
    ) -> Self {
        let unit_req = rules.org_unit_requirements.as_ref();
        let job_req = rules.job_requirements.as_ref();
        let all_comps = requirements
            .competency_id
            .iter()
            .chain(unit_req.map_or(&[][..], |r| r.competency_id))
            .chain(job_req.map_or(&[][..], |r| r.competency_id));
        let comps = IdMap::build(all_comps.clone().map(|c| c.to_i64()));
        let mut comp_ids: Vec<Option<I>> = vec![None; comps.len()];
        for c in all_comps {
            if let Some(s) = comps.get(c.to_i64()) {
                comp_ids[s as usize].get_or_insert(*c);
            }
        }
        let (positions, pos_rows) = rows_of(
            &comps,
            requirements.position_id,
            requirements.competency_id,
            rules.position_requirements.essential,
            rules.position_requirements.min_level,
        );
        let (units, unit_rows) = unit_req.map_or_else(
            || (IdMap::build(std::iter::empty()), Vec::new()),
            |r| {
                rows_of(
                    &comps,
                    r.target_id,
                    r.competency_id,
                    r.essential,
                    r.min_level,
                )
            },
        );
        let (jobs, job_rows) = job_req.map_or_else(
            || (IdMap::build(std::iter::empty()), Vec::new()),
            |r| {
                rows_of(
                    &comps,
                    r.target_id,
                    r.competency_id,
                    r.essential,
                    r.min_level,
                )
            },
        );

        // Bits: one per (competency, minimum) named; a competency's own slot when every
        // minimum is 0.
        let levels = pos_rows
            .iter()
            .chain(&unit_rows)
            .chain(&job_rows)
            .any(|r| r.2.min_rank > 0);
        // `bit_list` in (competency, minimum) order; a competency's bits are
        // `bit_list[bits_from[c]..bits_from[c + 1]]`, a handful at most: a scan finds one
        // (a hash per profile row cost more than the rest of building the profiles).
        let mut bit_list: Vec<(u32, u8)> = Vec::new();
        let mut bits_from: Vec<u32> = Vec::new();
        if levels {
            let mut pairs: Vec<(u32, u8)> = pos_rows
                .iter()
                .chain(&unit_rows)
                .chain(&job_rows)
                .map(|r| (r.1, r.2.min_rank))
                .collect();
            pairs.sort_unstable();
            pairs.dedup();
            bit_list = pairs;
            bits_from = vec![0; comps.len() + 1];
            for &(c, _) in &bit_list {
                bits_from[c as usize + 1] += 1;
            }
            for c in 0..comps.len() {
                bits_from[c + 1] += bits_from[c];
            }
        }
        let bit = |c: u32, min: u8| -> u32 {
            if !levels {
                return c;
            }
            let from = bits_from.get(c as usize).copied().unwrap_or(0);
            let to = bits_from.get(c as usize + 1).copied().unwrap_or(from);
            (from..to)
                .find(|&b| bit_list[b as usize] == (c, min))
                .unwrap_or(c)
        };
        let nbits = if levels { bit_list.len() } else { comps.len() };
        let words = nbits.div_ceil(64).max(1);

        // Profiles: what an assignment needs, merged from every requirement that applies.
        let pos_reqs = grouped(positions.len(), &pos_rows);
        let unit_reqs = grouped(units.len(), &unit_rows);
        let job_reqs = grouped(jobs.len(), &job_rows);
        let mut essential: Vec<u64> = Vec::new();
        let mut item_pairs: Vec<(u32, (u32, u32, Need))> = Vec::new();
        // One buffer for every profile's rows (a profile is built for each distinct target
        // combination: tens of thousands on a trust's data).
        let mut merged: Vec<(u32, Needed)> = Vec::new();
        let mut add_profile = |lists: &mut dyn Iterator<Item = &[(u32, Needed)]>| -> u32 {
            let p = (essential.len() / words) as u32;
            essential.resize(essential.len() + words, 0);
            merged.clear();
            for l in lists {
                merged.extend_from_slice(l);
            }
            merged.sort_unstable_by_key(|x| x.0);
            let mut k = 0;
            while k < merged.len() {
                let (c, mut n) = merged[k];
                k += 1;
                while k < merged.len() && merged[k].0 == c {
                    n = n.merge(merged[k].1);
                    k += 1;
                }
                let b = bit(c, n.min_rank);
                if n.need == Need::Essential {
                    essential[p as usize * words + b as usize / 64] |= 1 << (b % 64);
                }
                item_pairs.push((p, (c, b, n.need)));
            }
            p
        };
        let profile_of = if unit_rows.is_empty() && job_rows.is_empty() {
            for pos in 0..positions.len() {
                add_profile(&mut std::iter::once(pos_reqs.get(pos)));
            }
            None
        } else {
            let parents = parents_of(rules);
            let units_of = rules.assignment_org_unit;
            let jobs_of = rules.assignment_job;
            let mut seen: HashMap<(u32, i64, u32), u32, BuildHasherDefault<IdHasher>> =
                HashMap::with_capacity_and_hasher(positions.len(), Default::default());
            let mut ancestry: Vec<i64> = Vec::new();
            // An assignment's unit and job usually follow from its position: per position
            // slot (and one for none), the raw (unit, job) last seen with it and their
            // profile answer without hashing (`NO_SLOT`: none seen yet).
            let mut last_of_position = vec![(0i64, 0i64, NO_SLOT); positions.len() + 1];
            let m = assignments.iter().map(|a| a.position_id.len()).sum();
            let mut out = Vec::with_capacity(m);
            let units_of = units_of.filter(|_| !unit_rows.is_empty());
            let mut k = 0;
            for a in assignments {
                for pos in a.position_id {
                    let pos = positions.get(pos.to_i64()).unwrap_or(NO_SLOT);
                    let unit = units_of.and_then(|u| u.get(k)).map(|u| u.to_i64());
                    let raw_job = jobs_of
                        .and_then(|j| j.get(k))
                        .map_or(i64::MIN, |j| j.to_i64());
                    k += 1;
                    let raw = (unit.unwrap_or(i64::MIN), raw_job);
                    let last = &mut last_of_position[(pos as usize).min(positions.len())];
                    if last.2 != NO_SLOT && (last.0, last.1) == raw {
                        out.push(last.2);
                        continue;
                    }
                    let job = jobs.get(raw_job).unwrap_or(NO_SLOT);
                    let key = (pos, raw.0, job);
                    let p = match seen.get(&key) {
                        Some(p) => *p,
                        None => {
                            ancestry.clear();
                            if let Some(u) = unit {
                                ancestry_into(&parents, u, &mut ancestry);
                            }
                            let mut lists = std::iter::once(pos_reqs.get(pos as usize))
                                .chain(
                                    ancestry
                                        .iter()
                                        .filter_map(|u| units.get(*u))
                                        .map(|u| unit_reqs.get(u as usize)),
                                )
                                .chain(std::iter::once(job_reqs.get(job as usize)));
                            let p = add_profile(&mut lists);
                            seen.insert(key, p);
                            p
                        }
                    };
                    *last = (raw.0, raw.1, p);
                    out.push(p);
                }
            }
            Some(out)
        };
        let nprofiles = essential.len() / words;
        let items = Csr::build(nprofiles, item_pairs.into_iter());

        // What each held competency can fill: itself and everything it satisfies, at each
        // minimum named.
        let fills = if !levels && rules.equivalences.is_none() {
            Fills::Direct
        } else {
            let mut comp_bits: Vec<Vec<(u32, u8)>> = vec![Vec::new(); comps.len()];
            if levels {
                for (b, &(c, min)) in bit_list.iter().enumerate() {
                    comp_bits[c as usize].push((b as u32, min));
                }
            } else {
                for (c, v) in comp_bits.iter_mut().enumerate() {
                    v.push((c as u32, 0));
                }
            }
            let satisfied_by = rules.equivalences.as_ref().map(|e| {
                equivalence_closure(
                    e.competency_id
                        .iter()
                        .zip(e.satisfies_competency_id)
                        .map(|(h, s)| (h.to_i64(), s.to_i64())),
                )
            });
            let mut pairs: Vec<(i64, (u32, u8))> = Vec::new();
            for (s, id) in comp_ids.iter().enumerate() {
                let Some(id) = id else { continue };
                let id = id.to_i64();
                let others = satisfied_by
                    .as_ref()
                    .and_then(|m| m.get(&id))
                    .into_iter()
                    .flatten();
                for h in std::iter::once(&id).chain(others) {
                    pairs.extend(comp_bits[s].iter().map(|b| (*h, *b)));
                }
            }
            let held = IdMap::build(pairs.iter().map(|p| p.0));
            let bits = Csr::build(
                held.len(),
                pairs.iter().filter_map(|(h, b)| Some((held.get(*h)?, *b))),
            );
            let ranks = usize::from(bit_list.iter().map(|b| b.1).max().unwrap_or(0)) + 1;
            let mut word_masks: Vec<(u32, (u32, u64))> = Vec::new();
            let mut first = vec![(0u32, 0u64); held.len() * ranks];
            for h in 0..held.len() {
                for r in 0..ranks {
                    let mut by_word: Vec<(u32, u64)> = Vec::new();
                    for &(bit, min) in bits.get(h) {
                        if meets_minimum(r as u8, min) {
                            match by_word.iter_mut().find(|w| w.0 == bit / 64) {
                                Some(w) => w.1 |= 1 << (bit % 64),
                                None => by_word.push((bit / 64, 1 << (bit % 64))),
                            }
                        }
                    }
                    let at = h * ranks + r;
                    let more = if by_word.len() > 1 { MORE } else { 0 };
                    let mut by_word = by_word.into_iter();
                    if let Some((word, mask)) = by_word.next() {
                        first[at] = (word | more, mask);
                    }
                    word_masks.extend(by_word.map(|w| (at as u32, w)));
                }
            }
            let masks = Csr::build(held.len() * ranks, word_masks.into_iter());
            Fills::Expanded {
                held,
                bits,
                ranks,
                first,
                masks,
            }
        };
        Self {
            comps,
            comp_ids,
            words,
            essential,
            items,
            positions,
            profile_of,
            fills,
        }
    }

    /// The profile of assignment `k` in position `pos`.
    #[inline]
    pub(super) fn profile(&self, k: usize, pos: I) -> Option<u32> {
        match &self.profile_of {
            None => self.positions.get(pos.to_i64()),
            Some(p) => p.get(k).copied().filter(|p| *p != NO_SLOT),
        }
    }
}

/// Each unit's parent.
type Parents = HashMap<i64, i64, BuildHasherDefault<IdHasher>>;

/// Each unit's parent, from the `org_units` table (a null parent, or one equal to the unit, is
/// a root).
fn parents_of<I: BulkId>(rules: &BulkRules<'_, I>) -> Parents {
    let mut parents = Parents::default();
    if let Some(t) = &rules.org_units {
        for (k, (u, p)) in t.org_unit_id.iter().zip(t.parent_id).enumerate() {
            let has_parent = t.parent_validity.as_ref().is_none_or(|v| v.get(k));
            if has_parent && u.to_i64() != p.to_i64() {
                parents.insert(u.to_i64(), p.to_i64());
            }
        }
    }
    parents
}

/// The unit and every unit above it, as [`crate::org::Trust::ancestry`] walks them (a cycle
/// stops at the first unit seen twice).
fn ancestry_into(parents: &Parents, unit: i64, out: &mut Vec<i64>) {
    let mut cur = Some(unit);
    while let Some(u) = cur {
        if out.contains(&u) || out.len() > parents.len() {
            break;
        }
        out.push(u);
        cur = parents.get(&u).copied();
    }
}
