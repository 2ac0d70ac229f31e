//! The integration tests of esr-core, built as one test binary with a module per area (one
//! binary links esr-core once, where a binary per file linked it 17 times).
//!
//! Not here: `tests/csv_limits.rs`, which installs a counting global allocator and so needs a
//! process of its own (every other test's allocations would count towards its measurements).

#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod audit;
mod audit_archive;
mod authenticators;
mod certification_properties;
mod certifications;
mod channels;
mod compliance;
mod compliance_agreement;
mod concurrency;
mod limits;
mod notify;
mod outbox;
mod passcode_properties;
mod passcodes;
mod recovery;
mod secrets;
mod sessions;
mod state_machines;
/// The storage conformance kit (`esr_core::testkit`) exists only with the `testkit` feature:
/// `cargo test -p esr-core --features testkit --test it store_conformance::`.
#[cfg(feature = "testkit")]
mod store_conformance;
mod urps;
mod username_properties;
mod visibility;
// Workflows: access requests, the URP review, competences awaiting approval.
mod workflows;
