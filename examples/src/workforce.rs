//! A deterministic NHS-scale workforce as columns, for the bulk compliance scorer's benchmark and
//! the demonstration: people with one or two assignments in positions that require Core Skills
//! subjects and role-specific competences, and their competence holdings (some expired, some
//! expiring soon, most valid; older records of the same competence too).
//!
//! The same seed builds the same columns, whatever the number of threads used.

use esr_core::chrono::NaiveDate;
use esr_core::{
    compliance::AssignmentColumns, compliance::HoldingColumns, compliance::NO_EXPIRY,
    compliance::RequirementColumns, compliance::days_since_epoch,
};
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkforceSpec {
    /// Staff (people).
    pub people: usize,
    /// People per position, on average.
    pub people_per_position: usize,
    /// The date holdings' expiries are spread around.
    pub around: NaiveDate,
    /// The seed.
    pub seed: u64,
}

impl WorkforceSpec {
    /// The NHS in England: 1.4 million staff, about 1.6 million assignments and about 20 million
    /// holdings.
    pub fn nhs(seed: u64, around: NaiveDate) -> Self {
        Self {
            people: 1_400_000,
            people_per_position: 70,
            around,
            seed,
        }
    }
}

/// Competency ids of the ten Core Skills subjects: `CSTF_BASE..CSTF_BASE + 10`.
pub const CSTF_BASE: i64 = 1_000;
/// Competency ids of the role-specific competences: `ROLE_BASE..ROLE_BASE + ROLE_COMPETENCES`.
pub const ROLE_BASE: i64 = 2_000;
/// How many role-specific competences there are.
pub const ROLE_COMPETENCES: i64 = 30;

/// The generated tables, as columns (Arrow-shaped: `i64` ids, `Date32` expiries with
/// [`NO_EXPIRY`] for none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workforce {
    /// Assignment ids.
    pub assignment_id: Vec<i64>,
    /// The person of each assignment.
    pub assignment_person: Vec<i64>,
    /// The position of each assignment.
    pub assignment_position: Vec<i64>,
    /// Requirement rows: position.
    pub requirement_position: Vec<i64>,
    /// Requirement rows: competency.
    pub requirement_competency: Vec<i64>,
    /// Holding rows: person.
    pub holding_person: Vec<i64>,
    /// Holding rows: competency.
    pub holding_competency: Vec<i64>,
    /// Holding rows: expiry, days since 1970-01-01.
    pub holding_expiry: Vec<i32>,
}

impl Workforce {
    /// The assignments table.
    pub fn assignments(&self) -> AssignmentColumns<'_, i64> {
        AssignmentColumns {
            assignment_id: &self.assignment_id,
            person_id: &self.assignment_person,
            position_id: &self.assignment_position,
        }
    }
    /// The requirements table.
    pub fn requirements(&self) -> RequirementColumns<'_, i64> {
        RequirementColumns {
            position_id: &self.requirement_position,
            competency_id: &self.requirement_competency,
        }
    }
    /// The holdings table.
    pub fn holdings(&self) -> HoldingColumns<'_, i64> {
        HoldingColumns {
            person_id: &self.holding_person,
            competency_id: &self.holding_competency,
            expiry: &self.holding_expiry,
            expiry_validity: None,
            level: None,
        }
    }
}

/// People per block: each block has its own RNG stream, so blocks can be built in parallel and
/// the result does not depend on the number of threads.
const BLOCK: usize = 1 << 16;
/// Position ids start here.
const POSITION_BASE: i64 = 500_000;
/// Assignment ids start here.
const ASSIGNMENT_BASE: i64 = 10_000_000;

fn rng_for(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

/// Uniform in `0..n` (n > 0), by multiply-shift.
fn below(rng: &mut ChaCha8Rng, n: u32) -> u32 {
    ((u64::from(rng.next_u32()) * u64::from(n)) >> 32) as u32
}

/// Generates the workforce `spec` describes, on up to `threads` threads.
pub fn generate_workforce(spec: &WorkforceSpec, threads: usize) -> esr_core::Result<Workforce> {
    let positions = (spec.people / spec.people_per_position.max(1)).max(1);
    let around = days_since_epoch(spec.around)?;
    let mut w = Workforce::default();

    // Requirements: every position needs most Core Skills subjects and a few role-specific
    // competences.
    let mut rng = rng_for(spec.seed, 0);
    for p in 0..positions as i64 {
        for c in 0..10 {
            if below(&mut rng, 100) < 92 {
                w.requirement_position.push(POSITION_BASE + p);
                w.requirement_competency.push(CSTF_BASE + c);
            }
        }
        for _ in 0..below(&mut rng, 5) {
            w.requirement_position.push(POSITION_BASE + p);
            w.requirement_competency
                .push(ROLE_BASE + i64::from(below(&mut rng, ROLE_COMPETENCES as u32)));
        }
    }

    // People, block by block.
    let blocks = spec.people.div_ceil(BLOCK);
    let threads = threads.clamp(1, 64);
    let build = |b: usize| block(spec, positions, around, b);
    let parts: Vec<Workforce> = if threads == 1 {
        (0..blocks).map(build).collect()
    } else {
        std::thread::scope(|s| {
            let per = blocks.div_ceil(threads);
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let build = &build;
                    s.spawn(move || {
                        (t * per..((t + 1) * per).min(blocks))
                            .map(build)
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    };
    let total = |f: fn(&Workforce) -> usize| parts.iter().map(f).sum::<usize>();
    w.assignment_id
        .reserve(total(|p| p.assignment_person.len()));
    w.assignment_person
        .reserve(total(|p| p.assignment_person.len()));
    w.assignment_position
        .reserve(total(|p| p.assignment_person.len()));
    w.holding_person.reserve(total(|p| p.holding_person.len()));
    w.holding_competency
        .reserve(total(|p| p.holding_person.len()));
    w.holding_expiry.reserve(total(|p| p.holding_person.len()));
    for p in parts {
        let next = ASSIGNMENT_BASE + w.assignment_id.len() as i64;
        w.assignment_id
            .extend((0..p.assignment_person.len() as i64).map(|i| next + i));
        w.assignment_person.extend(p.assignment_person);
        w.assignment_position.extend(p.assignment_position);
        w.holding_person.extend(p.holding_person);
        w.holding_competency.extend(p.holding_competency);
        w.holding_expiry.extend(p.holding_expiry);
    }
    Ok(w)
}

/// One block of people: their assignments and holdings.
fn block(spec: &WorkforceSpec, positions: usize, around: i32, b: usize) -> Workforce {
    let mut rng = rng_for(spec.seed, b as u64 + 1);
    let lo = b * BLOCK;
    let hi = ((b + 1) * BLOCK).min(spec.people);
    let mut w = Workforce::default();
    let n = hi - lo;
    w.assignment_person.reserve(n + n / 6);
    w.holding_person.reserve(n * 15);
    w.holding_competency.reserve(n * 15);
    w.holding_expiry.reserve(n * 15);
    let positions = positions as u32;
    for person in lo..hi {
        let id = person as i64 + 1;
        // One assignment; one in seven has a second (bank) one.
        let main = i64::from(below(&mut rng, positions));
        w.assignment_person.push(id);
        w.assignment_position.push(POSITION_BASE + main);
        if below(&mut rng, 7) == 0 {
            w.assignment_person.push(id);
            w.assignment_position
                .push(POSITION_BASE + i64::from(below(&mut rng, positions)));
        }
        let mut hold = |rng: &mut ChaCha8Rng, c: i64| {
            // The current record: 3% never expire; the rest expire from four months ago to
            // nearly three years ahead. One in three also has an older, earlier-expiring record.
            let expiry = if below(rng, 100) < 3 {
                NO_EXPIRY
            } else {
                around - 120 + below(rng, 1_100) as i32
            };
            w.holding_person.push(id);
            w.holding_competency.push(c);
            w.holding_expiry.push(expiry);
            if below(rng, 3) == 0 && expiry != NO_EXPIRY {
                w.holding_person.push(id);
                w.holding_competency.push(c);
                w.holding_expiry.push(expiry - 365 - below(rng, 730) as i32);
            }
        };
        for c in 0..10 {
            if below(&mut rng, 100) < 93 {
                hold(&mut rng, CSTF_BASE + c);
            }
        }
        for _ in 0..=below(&mut rng, 4) {
            let c = ROLE_BASE + i64::from(below(&mut rng, ROLE_COMPETENCES as u32));
            hold(&mut rng, c);
        }
    }
    w
}
