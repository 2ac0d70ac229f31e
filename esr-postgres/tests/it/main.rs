//! esr-postgres against a real PostgreSQL server, whose URL is in `ESR_POSTGRES_URL`.

#![allow(clippy::unwrap_used)]

mod common;
mod conformance;
mod processes;
mod schema;
#[cfg(feature = "tls")]
mod tls;
