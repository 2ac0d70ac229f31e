//! Property: usernames generated through `add_person` never collide within a trust, always
//! parse back to themselves, and follow the rule whatever the names.

use esr_core::chrono::{NaiveDate, TimeZone, Utc};
use esr_core::{
    Actor, Esr, InMemoryStore, ManualClock, Username, org::TrustSettings, people::NewPerson,
    people::PersonName,
};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::collections::HashSet;

fn names() -> impl Strategy<Value = (String, String)> {
    // A small pool makes collisions of stems common; arbitrary text covers the rest.
    let given = prop_oneof![
        3 => prop::sample::select(vec!["Jo", "Joanne", "John", "Zoë", "Seán", "Li", "J"]).prop_map(String::from),
        1 => "\\PC{1,12}",
    ];
    let family = prop_oneof![
        3 => prop::sample::select(vec!["Smith", "smith", "SMITH", "Smith-Jones", "O'Brien", "Ng", "X", "Ó Súilleabháin", "Featherstonehaugh-Cholmondeley-Wolfeschlegelsteinhausenberger"]).prop_map(String::from),
        1 => "\\PC{1,40}",
    ];
    (given, family)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn generated_usernames_never_collide_and_parse_back(people in prop::collection::vec(names(), 1..60)) {
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap());
        let esr = Esr::with_rng(InMemoryStore::new(), clock, ChaCha20Rng::seed_from_u64(1));
        let feed = Actor::system("test").unwrap();
        let mut seen = HashSet::new();
        for vpd in ["297", "999"] {
            let vpd = vpd.parse().unwrap();
            esr.create_trust(vpd, "Trust", TrustSettings::default()).unwrap();
            for (i, (given, family)) in people.iter().enumerate() {
                let Ok(name) = PersonName::new(given, family) else { continue };
                let r = esr.add_person(&feed, vpd, NewPerson {
                    employee_number: format!("{}", 10_000_000 + i).parse().unwrap(),
                    name,
                    date_of_birth: NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(),
                    recruitment_email: format!("p{i}@nhs.net").parse().unwrap(),
                });
                match r {
                    Ok(p) => {
                        let u = p.username;
                        prop_assert_eq!(u.vpd(), vpd);
                        prop_assert!(seen.insert(u.clone()), "{} issued twice", u);
                        let text = u.to_string();
                        prop_assert_eq!(&text, &text.to_ascii_uppercase());
                        prop_assert_eq!(text.parse::<Username>().unwrap(), u);
                    }
                    // Names with no Latin letter at all are refused, and nothing is stored.
                    Err(esr_core::Error::InvalidInput { .. }) => {}
                    Err(e) => prop_assert!(false, "unexpected error {e}"),
                }
            }
        }
        let stored: usize = ["297", "999"]
            .iter()
            .map(|v| esr.people(v.parse().unwrap()).unwrap().len())
            .sum();
        prop_assert_eq!(stored, seen.len());
    }
}
