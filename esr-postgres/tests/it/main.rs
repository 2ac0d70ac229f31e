//! esr-postgres against a real PostgreSQL server, whose URL is in `ESR_POSTGRES_URL`.

mod common;
mod conformance;
mod processes;
