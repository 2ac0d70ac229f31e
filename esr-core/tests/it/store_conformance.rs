//! The storage conformance kit against the in-memory store: the reference implementation passes
//! every contract. (Runs with `--features testkit`.)

esr_core::store_conformance_tests!(esr_core::InMemoryStore::new());

#[test]
fn run_all_runs_every_contract_in_one_call() {
    esr_core::store::testkit::run_all(esr_core::InMemoryStore::new);
}
