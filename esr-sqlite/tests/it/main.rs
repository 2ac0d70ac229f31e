//! The integration tests of esr-sqlite, built as one test binary with a module per area.

mod audit_tamper;
mod authenticators;
mod conformance;
mod durability;
mod outbox_crash;
mod restart;
mod sessions;
mod two_connections;
