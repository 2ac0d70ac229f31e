//! The integration tests of esr-sqlite, built as one test binary with a module per area.

mod authenticators;
mod conformance;
mod durability;
mod restart;
mod two_connections;
