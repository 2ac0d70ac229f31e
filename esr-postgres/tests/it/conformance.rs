//! The storage conformance kit against the PostgreSQL store: every contract, each on a new
//! schema.

use crate::common::fresh;

esr_core::store_conformance_tests!(fresh());
