//! # The guide: the domain and the library's decisions
//!
//! This module holds no code. It is the library's own account of the NHS Electronic Staff
//! Record (ESR) self-service core that it models, and of the decisions it makes where the
//! domain leaves room, with links to the items that enforce each rule. It is written for a
//! newcomer: an NHS trust's developer embedding the library, a binding author, or someone
//! changing a rule.
//!
//! | page | what it covers |
//! |---|---|
//! | [`domain`] | trusts, people and accounts, assignments, URPs, channels and access levels, passcodes and the upgrade, sessions, recovery, record visibility, compliance, certifications, the audit trail; each rule as the library enforces it |
//! | [`decisions`] | no I/O, the injected clock and RNG, storage behind a contract, the secrets policy, errors, the size limits, what is deliberately left out |
//! | [`store_contract`] | what a storage adapter must promise, and why each point is there |
//! | [`audit`] | the keyed audit chain, checkpoints and archives, and exactly what tampering is and is not detected |
//! | [`delivery`] | how texted codes and e-mailed links leave the library: the SMS and e-mail gateways |
//!
//! # Where the code is
//!
//! Each area of the domain is a public module with its types, its rules as named pure
//! functions, and the area's operations on [`Esr`](crate::Esr) (in the area's private
//! `ops.rs`, shown on [`Esr`](crate::Esr)'s page):
//!
//! | area | module | operations on `Esr` (examples) |
//! |---|---|---|
//! | identifiers, usernames, mobile numbers, limits, clock, RNG | [`values`](crate::values) | none: the bottom layer |
//! | trusts, organisation units, trust settings | [`org`](crate::org) | [`create_trust`](crate::Esr::create_trust), [`set_upgrade_access`](crate::Esr::set_upgrade_access) |
//! | people, accounts, assignments, record visibility | [`people`](crate::people) | [`add_person`](crate::Esr::add_person), [`view_record`](crate::Esr::view_record) |
//! | channels, sessions, the access decision, the upgrade | [`access`](crate::access) | [`log_in_with_password`](crate::Esr::log_in_with_password), [`decide`](crate::Esr::decide) |
//! | URPs, functions, grants, the URP audit report | [`urp`](crate::urp) | [`grant_urp`](crate::Esr::grant_urp), [`urp_audit_report`](crate::Esr::urp_audit_report) |
//! | one-time passcodes, keys, delivery, account recovery | [`passcode`](crate::passcode) | [`request_upgrade_code`](crate::Esr::request_upgrade_code), [`verify_passcode`](crate::Esr::verify_passcode) |
//! | the tamper-evident audit trail | [`audit`](crate::audit) | [`verify_audit`](crate::Esr::verify_audit), [`checkpoint`](crate::Esr::checkpoint), [`archive_before`](crate::Esr::archive_before) |
//! | competences, requirements, compliance, CSV, bulk scoring | [`compliance`](crate::compliance) | [`my_compliance`](crate::Esr::my_compliance), [`import_competences`](crate::Esr::import_competences) |
//! | certifications, subscriptions, enrolment | [`learning`](crate::learning) | [`subscribe`](crate::Esr::subscribe), [`play`](crate::Esr::play) |
//! | storage traits, the in-memory store, the conformance kit | [`store`](crate::store) | none: behind every operation |
//! | the service itself: [`Esr`](crate::Esr), [`Config`](crate::Config), [`Actor`](crate::Actor) | [`service`](crate::service) | [`Esr::with_config`](crate::Esr::with_config) |
//!
//! Dependencies run one way: `values` at the bottom, the areas above it, `service` on top.
//!
//! # Reading the rendered guide
//!
//! `cargo doc --open -p esr-core`, then `esr_core::guide` in the sidebar. The pages are
//! checked by `RUSTDOCFLAGS="-D warnings" cargo doc -p esr-core --no-deps --all-features`,
//! which fails on a link to an item that no longer exists, so a renamed rule breaks the
//! build of the docs instead of leaving the guide wrong.

pub mod audit;
pub mod decisions;
pub mod delivery;
pub mod domain;
pub mod store_contract;
