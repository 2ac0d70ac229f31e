//! The integration tests of esr-sqlite, built as one test binary with a module per area.

mod conformance;
mod durability;
mod restart;
mod sessions;
mod two_connections;
