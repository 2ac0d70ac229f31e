use std::path::PathBuf;

/// The committed seed corpus of a fuzz target.
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let data = std::fs::read(&p).unwrap();
            (p, data)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out
}

fn run(target: &str, entry: fn(&[u8])) {
    for (path, data) in corpus(target) {
        let r = std::panic::catch_unwind(|| entry(&data));
        assert!(r.is_ok(), "{target} failed on {}", path.display());
    }
}

#[test]
fn username_over_its_seeds() {
    run("username", super::username);
}
#[test]
fn vpd_code_over_its_seeds() {
    run("vpd_code", super::vpd_code);
}
#[test]
fn competence_name_over_its_seeds() {
    run("competence_name", super::competence_name);
}
#[test]
fn phone_number_over_its_seeds() {
    run("phone_number", super::phone_number);
}
#[test]
fn identifiers_over_their_seeds() {
    run("identifiers", super::identifiers);
}
#[test]
fn csv_import_over_its_seeds() {
    run("csv_import", super::csv_import);
}
#[test]
fn passcode_verify_over_its_seeds() {
    run("passcode_verify", super::passcode_verify);
}

#[cfg(feature = "serde")]
#[test]
fn serde_over_its_seeds() {
    run("serde", super::serde);
}

/// The names of the types in `dir`'s sources that implement `Deserialize`: derived (under
/// the `serde` feature), by `string_serde!`, by hand, or by the identifier macros of ids.rs.
fn deserialize_types(dir: &std::path::Path, out: &mut std::collections::BTreeSet<String>) {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            deserialize_types(&path, out);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = src.lines().map(str::trim).collect();
        for (i, line) in lines.iter().enumerate() {
            let mut name = None;
            if line.contains("cfg_attr(feature = \"serde\"") && line.contains("Deserialize") {
                name = lines[i + 1..].iter().find_map(|l| {
                    l.strip_prefix("pub struct ")
                        .or_else(|| l.strip_prefix("pub enum "))
                        .map(ident)
                });
            } else if let Some(rest) = line
                .strip_prefix("string_serde!(")
                .or_else(|| line.strip_prefix("crate::values::string_serde!("))
            {
                name = Some(ident(rest));
            } else if let Some((_, rest)) = line.split_once("serde::Deserialize<'de> for ") {
                name = Some(ident(rest));
            } else if *line == "text_id!(" || *line == "random_id!(" {
                name = lines[i + 1..]
                    .iter()
                    .find(|l| !l.starts_with("///") && !l.starts_with("#["))
                    .map(|l| ident(l));
            }
            if let Some(n) = name.filter(|n| !n.is_empty()) {
                out.insert(n);
            }
        }
    }
}

/// Fails when a public type that implements `Deserialize` is missing from the serde
/// target's list (or the list names one that no longer does).
#[cfg(feature = "serde")]
#[test]
fn the_serde_target_covers_every_deserialize_type() {
    let mut found = std::collections::BTreeSet::new();
    deserialize_types(
        &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
    );
    let listed: std::collections::BTreeSet<String> = super::SERDE_TYPES
        .iter()
        .map(|(n, _)| n.split('<').next().unwrap().trim().to_owned())
        .collect();
    assert!(found.len() > 100, "the scan found only {found:?}");
    let missing: Vec<_> = found.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&found).collect();
    assert!(
        missing.is_empty(),
        "add to SERDE_TYPES in fuzzing.rs: {missing:?}"
    );
    assert!(extra.is_empty(), "not Deserialize any more: {extra:?}");
}

#[test]
fn entry_points_accept_odd_input() {
    for s in ["", "\u{0}\u{ffff}", "Seán O'Brien", "297", "\r\n\r\n"] {
        for entry in [
            super::username,
            super::vpd_code,
            super::competence_name,
            super::phone_number,
            super::identifiers,
            super::csv_import,
            super::passcode_verify,
        ] {
            entry(s.as_bytes());
        }
    }
    super::username(&[0xff, 0xfe]);
}

#[test]
fn lines_are_counted_as_a_csv_reader_counts_them() {
    assert_eq!(super::lines_in(b""), 1);
    assert_eq!(super::lines_in(b"a\nb\r\nc\rd"), 4);
}

#[test]
fn a_code_shows_only_as_a_number_of_its_own() {
    assert!(super::shows_code("code 123456.", "123456"));
    assert!(!super::shows_code("ab123456cd 91234567", "123456"));
}
