//! Entry points for the fuzz targets in `fuzz/` (one per target, each a one-liner there): each
//! takes arbitrary bytes and asserts the invariants the code under test promises, so that a
//! broken promise is a crash the fuzzer reports. Not part of the supported interface: built only
//! with the `fuzzing` feature (and in this crate's tests, which run every entry point over the
//! committed seed corpora in `fuzz/corpus/`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(feature = "serde")]
use crate::authenticator::{AuthenticatorPolicy, TotpAlgorithm, TotpParams};
use crate::notify::*;
use crate::{
    access::*, audit::*, compliance::*, learning::*, org::*, passcode::*, people::*, store::*,
    urp::*, values::*, *,
};
use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
// Outbox and retention.
#[cfg(feature = "serde")]
use crate::passcode::{
    DeliveryFailure, DeliveryRetries, MessageChannel, OutboxMessage, OutboxStatus, Relay,
};
#[cfg(feature = "serde")]
use crate::service::Retention;
#[cfg(feature = "serde")]
use crate::store::PurgeCounts;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

// ----- parsers ---------------------------------------------------------------------------------

/// Usernames: anything that parses is upper case and prints back byte for byte, its parts
/// rebuild it, and it reparses equal; any two name strings either build a stem or are refused,
/// and a built stem forms a valid username for every trust and sequence it accepts.
pub fn username(data: &[u8]) {
    let Some(s) = text(data) else {
        return;
    };
    if let Ok(u) = s.parse::<Username>() {
        let printed = u.to_string();
        assert_eq!(printed, s.trim().to_ascii_uppercase(), "the canonical form");
        assert_eq!(
            printed.parse::<Username>().ok(),
            Some(u.clone()),
            "{printed:?}"
        );
        assert_eq!(
            format!("{}{}{:02}", u.vpd(), u.stem(), u.sequence()),
            printed,
            "its parts rebuild it"
        );
        assert!(u.sequence() >= 1);
        assert!(u.stem().len() >= 2 && u.stem().bytes().all(|b| b.is_ascii_uppercase()));
    }
    let (given, family) = s.split_at(
        s.char_indices()
            .nth(s.chars().count() / 2)
            .map_or(0, |(i, _)| i),
    );
    if let Ok(stem) = UsernameStem::from_names(given, family) {
        let seq = u16::from(data.first().copied().unwrap_or(1));
        for vpd in ["297", "000", "999"] {
            let vpd: VpdCode = vpd.parse().unwrap();
            if let Ok(u) = Username::new(vpd, &stem, seq) {
                assert_eq!(u.vpd(), vpd);
                assert_eq!(u.stem(), stem.as_str());
                assert_eq!(u.sequence(), seq);
                assert_eq!(u.to_string().parse::<Username>().ok(), Some(u));
            }
        }
    }
}

/// VPD codes: exactly three ASCII digits parse, and print back as written; nothing else parses.
pub fn vpd_code(data: &[u8]) {
    let Some(s) = text(data) else {
        return;
    };
    let parsed = s.parse::<VpdCode>();
    let well_formed = s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit());
    assert_eq!(parsed.is_ok(), well_formed, "{s:?}: {parsed:?}");
    if let Ok(v) = parsed {
        assert_eq!(v.as_str(), s);
        assert_eq!(v.to_string(), s);
        assert_eq!(v.as_str().parse::<VpdCode>().ok(), Some(v));
    }
}

/// Competence names: what parses prints back byte for byte, its parts rebuild it, it is within
/// the length limit and free of control characters; the loose form (ESR's screens) of a name
/// reads back to the same name; the loose reader accepts nothing the strict parser would refuse.
pub fn competence_name(data: &[u8]) {
    let Some(s) = text(data) else {
        return;
    };
    if let Ok(c) = s.parse::<CompetenceName>() {
        assert_eq!(c.as_str(), s);
        assert_eq!(c.to_string(), s);
        assert!(s.chars().count() <= MAX_COMPETENCE_NAME_CHARS);
        assert!(!s.chars().any(char::is_control));
        assert_eq!(s.parse::<CompetenceName>().as_ref(), Ok(&c));
        let rebuilt = CompetenceName::new(c.owner(), c.framework(), c.title());
        assert_eq!(rebuilt.as_ref(), Ok(&c));
        let _ = c.refresher_months();
        if !c.framework().contains(')') {
            assert_eq!(parse_competence_loose(&c.display_name()).as_ref(), Ok(&c));
        }
        assert!(format!("{c:?}").contains(s));
    }
    if let Ok(c) = parse_competence_loose(s) {
        assert_eq!(c.as_str().parse::<CompetenceName>().as_ref(), Ok(&c));
    }
}

/// Phone numbers: anything accepted is E.164 (`+`, at most 15 digits), reparses equal from its
/// E.164 form, masks all but its last three digits, and never prints in full: neither `Debug`
/// nor `Display` contains its national number.
pub fn phone_number(data: &[u8]) {
    let Some(s) = text(data) else {
        return;
    };
    if let Ok(m) = s.parse::<MobileNumber>() {
        let e = m.expose_e164();
        assert!(e.starts_with('+'), "{e}");
        let digits = &e[1..];
        // E.164 allows at most 15 digits (libphonenumber's metadata accepts some very short
        // "mobile" numbers, such as +27 84145; the mask must still hide all but three digits).
        assert!(
            digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()),
            "{e}"
        );
        assert!(s.trim().chars().count() <= MAX_PHONE_CHARS);
        let masked = m.masked();
        assert!(masked.len() > 3 && masked.len() < digits.len(), "{masked}");
        let (xs, last) = masked.split_at(masked.len() - 3);
        assert!(xs.bytes().all(|b| b == b'x'), "{masked}");
        assert!(e.ends_with(last));
        let national = &e[e.len() - masked.len()..];
        for shown in [format!("{m:?}"), m.to_string()] {
            assert!(!shown.contains(national), "{shown} shows {national}");
            assert!(!shown.contains(digits));
        }
        assert_eq!(e.parse::<MobileNumber>().as_ref(), Ok(&m));
    }
}

/// The other identifiers: whatever parses prints back in a form that reparses equal.
pub fn identifiers(data: &[u8]) {
    let Some(s) = text(data) else {
        return;
    };
    if let Ok(e) = s.parse::<EmployeeNumber>() {
        assert_eq!(e.to_string().parse::<EmployeeNumber>().ok(), Some(e));
    }
    if let Ok(e) = s.parse::<AssignmentNumber>() {
        assert_eq!(e.to_string().parse::<AssignmentNumber>().ok(), Some(e));
    }
    if let Ok(e) = s.parse::<OrgUnitId>() {
        assert_eq!(e.to_string().parse::<OrgUnitId>().ok(), Some(e));
    }
    if let Ok(e) = s.parse::<PositionId>() {
        assert_eq!(e.to_string().parse::<PositionId>().ok(), Some(e));
    }
    if let Ok(e) = s.parse::<EmailAddress>() {
        assert_eq!(e.to_string().parse::<EmailAddress>().ok(), Some(e));
    }
    if let Ok(u) = s.parse::<Urp>() {
        assert_eq!(u.name().parse::<Urp>().ok(), Some(u));
    }
    if let Ok(d) = parse_esr_date(s) {
        assert_eq!(parse_esr_date(&format_esr_date(d)), Ok(d));
    }
}

// ----- competence import -----------------------------------------------------------------------

const FIXTURE_VPD: &str = "297";

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
}

fn system() -> Actor {
    Actor::system("fuzz").unwrap()
}

/// Lines in `data`, as a CSV reader counts them (a line ends at `\n`, `\r\n` or a lone `\r`).
fn lines_in(data: &[u8]) -> u64 {
    let mut n = 1;
    for (i, b) in data.iter().enumerate() {
        if *b == b'\n' || (*b == b'\r' && data.get(i + 1) != Some(&b'\n')) {
            n += 1;
        }
    }
    n
}

/// A bad row's line is a data line of the file (the header is line 1).
fn check_lines<'a>(problems: impl IntoIterator<Item = &'a ImportProblem>, lines: u64, ctx: &str) {
    let problems: Vec<&ImportProblem> = problems.into_iter().collect();
    let header_refusal = problems.len() == 1 && problems[0].line == 1;
    for p in &problems {
        assert!(
            header_refusal || (2..=lines + 1).contains(&p.line),
            "{ctx}: line {} of a {lines}-line file: {p}",
            p.line
        );
        assert!(!p.reason.is_empty(), "{ctx}: {p:?}");
    }
    assert!(
        problems.windows(2).all(|w| w[0].line <= w[1].line),
        "{ctx}: problems out of line order: {problems:?}"
    );
}

/// People of the import fixture: employee numbers the seeds use.
const IMPORT_PEOPLE: [(&str, &str, &str); 2] = [
    ("20000001", "Emma", "Conroy"),
    ("20000002", "Ravi", "Patel"),
];

fn import_fixture() -> Esr<InMemoryStore, ManualClock> {
    let esr = Esr::with_rng(
        InMemoryStore::new(),
        ManualClock::new(start()),
        <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(7),
    );
    let vpd: VpdCode = FIXTURE_VPD.parse().unwrap();
    esr.create_trust(vpd, "Fuzz Trust", TrustSettings::default())
        .unwrap();
    for (number, given, family) in IMPORT_PEOPLE {
        esr.add_person(
            &system(),
            vpd,
            NewPerson {
                employee_number: number.parse().unwrap(),
                name: PersonName::new(given, family).unwrap(),
                date_of_birth: NaiveDate::from_ymd_opt(1985, 3, 14).unwrap(),
                recruitment_email: format!("{number}@nhs.net").parse().unwrap(),
            },
        )
        .unwrap();
    }
    esr
}

/// The ESR competence importers, over arbitrary bytes: [`read_competence_export`] (refusing, and
/// skipping bad rows) and [`Esr::import_competences`] into a trust with two people and the
/// default catalogue.
///
/// - Every bad row's line is a line of the file (from 2; 1 only for a refused header), and bad
///   rows come in line order; rows read come in file order, each with a valid employee number,
///   competence name and expiry not before its achieved date.
/// - Without `skip_bad_rows`, either the whole file is good or it is refused.
/// - A refused import leaves the trust's records and audit trail unchanged; an accepted one
///   stores exactly `imported` records, one audit entry, and accounts for every row the reader
///   returned or listed (imported, merged or skipped).
pub fn csv_import(data: &[u8]) {
    let vpd: VpdCode = FIXTURE_VPD.parse().unwrap();
    let lines = lines_in(data);
    let mut read = None;
    for skip in [false, true] {
        let options = ImportOptions {
            skip_bad_rows: skip,
        };
        let ctx = format!("read_competence_export(skip_bad_rows: {skip})");
        match read_competence_export(vpd, data, options) {
            Ok((cols, problems)) => {
                assert!(skip || problems.is_empty(), "{ctx}: {problems:?}");
                check_lines(problems.iter(), lines, &ctx);
                let n = cols.len();
                assert_eq!(cols.is_empty(), n == 0);
                for len in [
                    cols.employee_number.len(),
                    cols.person_id.len(),
                    cols.competence.len(),
                    cols.achieved.len(),
                    cols.expiry.len(),
                    cols.level.len(),
                ] {
                    assert_eq!(len, n, "{ctx}: ragged columns");
                }
                assert!(
                    cols.line.windows(2).all(|w| w[0] < w[1]),
                    "{ctx}: {:?}",
                    cols.line
                );
                for i in 0..n {
                    assert!(
                        (2..=lines + 1).contains(&cols.line[i]),
                        "{ctx}: {:?}",
                        cols.line
                    );
                    let e: EmployeeNumber = cols.employee_number[i].parse().unwrap();
                    assert_eq!(e.as_str().parse::<i64>().ok(), Some(cols.person_id[i]));
                    let c: CompetenceName = cols.competence[i].parse().unwrap();
                    assert_eq!(c.as_str(), cols.competence[i]);
                    if let (Some(a), Some(x)) = (cols.achieved[i], cols.expiry[i]) {
                        assert!(
                            a <= x,
                            "{ctx}: expiry before achieved on line {}",
                            cols.line[i]
                        );
                    }
                    for d in [cols.achieved[i], cols.expiry[i]].into_iter().flatten() {
                        assert_eq!(date_from_days(d).map(days_since_epoch), Some(Ok(d)));
                    }
                }
                for p in problems.iter() {
                    assert!(
                        !cols.line.contains(&p.line),
                        "{ctx}: line {} both read and bad",
                        p.line
                    );
                }
                if skip {
                    read = Some((n, problems.len()));
                }
            }
            Err(Error::ImportRejected { problems }) => {
                assert!(!problems.is_empty(), "{ctx}: refused without a reason");
                check_lines(problems.iter(), lines, &ctx);
            }
            // Refusals of the file as a whole (too large, say) are fine; a panic is not.
            Err(_) => {}
        }
    }

    let esr = import_fixture();
    let people: Vec<EmployeeNumber> = IMPORT_PEOPLE
        .iter()
        .map(|(n, _, _)| n.parse().unwrap())
        .collect();
    let records = |esr: &Esr<InMemoryStore, ManualClock>| {
        people
            .iter()
            .map(|e| esr.competence_records(&system(), vpd, e).unwrap())
            .collect::<Vec<_>>()
    };
    for skip in [false, true] {
        let options = ImportOptions {
            skip_bad_rows: skip,
        };
        let ctx = format!("import_competences(skip_bad_rows: {skip})");
        let head = esr.verify_audit(vpd).unwrap();
        let before = records(&esr);
        match esr.import_competences(&system(), vpd, data, options) {
            Ok(summary) => {
                assert!(skip || summary.skipped.is_empty(), "{ctx}: {summary:?}");
                check_lines(summary.skipped.iter(), lines, &ctx);
                let after = records(&esr);
                let stored: usize = after.iter().map(Vec::len).sum();
                let stored_before: usize = before.iter().map(Vec::len).sum();
                assert!(stored >= stored_before, "{ctx}: records disappeared");
                if stored_before == 0 {
                    assert_eq!(stored, summary.imported, "{ctx}: {summary:?}");
                }
                assert!(
                    summary.imported >= stored - stored_before,
                    "{ctx}: {summary:?}"
                );
                for r in after.iter().flatten() {
                    assert!(r.expiry.is_none_or(|x| r.achieved <= x), "{ctx}: {r:?}");
                }
                let new_head = esr.verify_audit(vpd).unwrap();
                assert_eq!(
                    new_head.seq,
                    head.seq + 1,
                    "{ctx}: one audit entry per import"
                );
                // (Below the importers' cap on listed problems, every row is accounted for.)
                if skip
                    && let Some((rows, bad)) = read
                    && bad < 1000
                    && summary.skipped.len() < 1000
                {
                    assert_eq!(
                        rows + bad,
                        summary.imported + summary.merged_duplicates + summary.skipped.len(),
                        "{ctx}: rows read ({rows}) and bad ({bad}) are not all accounted for: {summary:?}"
                    );
                }
            }
            Err(e) => {
                if let Error::ImportRejected { problems } = &e {
                    assert!(!problems.is_empty(), "{ctx}: refused without a reason");
                    check_lines(problems.iter(), lines, &ctx);
                }
                assert_eq!(
                    records(&esr),
                    before,
                    "{ctx}: a refusal ({e}) changed records"
                );
                assert_eq!(
                    esr.verify_audit(vpd).unwrap(),
                    head,
                    "{ctx}: a refusal was audited"
                );
            }
        }
    }
}

// ----- passcodes -------------------------------------------------------------------------------

/// Reads the fuzzer's bytes as a stream of choices.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }
    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
}

/// The registered number of the passcode fixture's manager (Ofcom's drama range).
const MOBILE: &str = "07700 900374";

struct PasscodeFixture {
    esr: Esr<InMemoryStore, ManualClock>,
    clock: ManualClock,
    outbox: Arc<Outbox>,
    vpd: VpdCode,
    number: MobileNumber,
    /// The manager's internet session, and a second one of theirs.
    session: SessionId,
    other_session: SessionId,
}

fn passcode_policy() -> PasscodePolicy {
    PasscodePolicy {
        max_attempts: 3,
        max_failures: 8,
        max_sends: 6,
        min_resend_interval: TimeDelta::seconds(5),
        ..PasscodePolicy::default()
    }
}

/// A trust with two user administrators, a guardian, and a manager with Manager Self Service,
/// Upgrade Access, a registered number and two internet sessions.
fn passcode_fixture() -> PasscodeFixture {
    let clock = ManualClock::new(start());
    let outbox = Arc::new(Outbox::new());
    let esr = Esr::with_rng(
        InMemoryStore::new(),
        clock.clone(),
        <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(1),
    )
    .with_config(Config {
        password_hashing: PasswordHashing::insecure_fast_for_tests(),
        passcodes: passcode_policy(),
        recovery_answer_time: std::time::Duration::ZERO,
        ..Config::default()
    })
    .unwrap()
    .with_passcode_keys(PasscodeKeys::new(
        PasscodeKey::new("fuzz-1", b"key-42-abcdefghijklmnopqrstuvwxy").unwrap(),
    ))
    .with_sms_sender(outbox.clone());
    let vpd: VpdCode = FIXTURE_VPD.parse().unwrap();
    let settings = TrustSettings {
        automatic_internet_access: true,
        upgrade_access: UpgradeAccess {
            manager: true,
            professional: false,
        },
        ..TrustSettings::default()
    };
    esr.create_trust(vpd, "Fuzz Trust", settings).unwrap();
    let hq: OrgUnitId = "Trust HQ".parse().unwrap();
    esr.add_org_unit(&system(), vpd, hq.clone(), "Trust HQ", None)
        .unwrap();
    let password = Password::new("correct horse battery staple");
    let staff = |n: u32, given: &str, family: &str| {
        let number = format!("{vpd}{n:05}");
        let p = esr
            .add_person(
                &system(),
                vpd,
                NewPerson {
                    employee_number: number.parse().unwrap(),
                    name: PersonName::new(given, family).unwrap(),
                    date_of_birth: NaiveDate::from_ymd_opt(1985, 3, 14).unwrap(),
                    recruitment_email: format!("staff{number}@nhs.net").parse().unwrap(),
                },
            )
            .unwrap();
        esr.set_password(&system(), &p.username, &password).unwrap();
        esr.add_assignment(
            &system(),
            vpd,
            NewAssignment {
                number: number.parse().unwrap(),
                employee_number: p.employee_number.clone(),
                title: "Staff Nurse".into(),
                position: format!("{vpd}|Staff Nurse|Trust HQ|").parse().unwrap(),
                org_unit: hq.clone(),
                supervisor: None,
            },
        )
        .unwrap();
        p
    };
    let admin_a = staff(1, "Alice", "Adams");
    let admin_b = staff(2, "Bernard", "Brown");
    let guardian = staff(3, "Gwen", "Guardian");
    let manager = staff(4, "Maria", "Manager");
    esr.bootstrap_user_administrators(
        vpd,
        &[admin_a.username.clone(), admin_b.username.clone()],
        "trust go-live",
    )
    .unwrap();
    let card = SmartcardAuthentication::verified_by_caller("CARD-A").unwrap();
    let admin = esr.log_in_with_smartcard(&admin_a.username, &card).unwrap();
    esr.grant_urp(
        admin.id,
        GrantRequest {
            holder: manager.username.clone(),
            urp: Urp::ManagerSelfServicePayrollApprovalsNotRequired,
            scope: GrantScope::WholeTrust,
            approval: Approval::CaldicottException {
                approved_by: guardian.employee_number.clone(),
                reference: "CG-2026-001".into(),
            },
            reason: "manages Ward 5".into(),
        },
    )
    .unwrap();
    let number: MobileNumber = MOBILE.parse().unwrap();
    esr.store()
        .transaction(|tx| {
            let mut p = tx.person(vpd, &manager.employee_number)?.unwrap();
            p.mobile = Some(number.clone());
            tx.put_person(&p)
        })
        .unwrap();
    let u = manager.username.to_string();
    let session = esr.log_in_with_password(&u, &password).unwrap().id;
    let other_session = esr.log_in_with_password(&u, &password).unwrap().id;
    PasscodeFixture {
        esr,
        clock,
        outbox,
        vpd,
        number,
        session,
        other_session,
    }
}

/// What the fuzzer knows of an issued challenge.
#[derive(Debug)]
struct Issued {
    id: ChallengeId,
    code: String,
    expires_at: DateTime<Utc>,
    superseded: bool,
    wrong: u32,
    approved: bool,
}

/// The digits a typed code stands for: spaces and hyphens are ignored (as
/// `Passcode::typed` does); `None` when it is too long to be a code at all.
fn as_typed(code: &str) -> Option<String> {
    (code.len() <= 64).then(|| code.chars().filter(|c| !matches!(c, ' ' | '-')).collect())
}

/// A code near `code`: one digit changed, one added or dropped, padded, in full-width digits.
fn near_miss(code: &str, how: u8) -> String {
    let mut c: Vec<char> = code.chars().collect();
    let i = usize::from(how / 8) % c.len().max(1);
    match how % 8 {
        0 => {
            if let Some(d) = c.get_mut(i) {
                *d = if *d == '9' {
                    '0'
                } else {
                    char::from(*d as u8 + 1)
                };
            }
        }
        1 => c.push('0'),
        2 => {
            c.pop();
        }
        3 => return format!(" {code} "),
        4 => {
            return code
                .chars()
                .map(|d| char::from_u32(d as u32 - '0' as u32 + 0xFF10).unwrap_or(d))
                .collect();
        }
        5 => {
            let last = c.len().saturating_sub(1);
            c.swap(0, last);
        }
        6 => return format!("{code}\u{0}"),
        _ => return code.chars().rev().collect(),
    }
    c.into_iter().collect()
}

/// Whether `code` appears in `text` as a number of its own (not inside a longer run of digits
/// or hex).
fn shows_code(text: &str, code: &str) -> bool {
    text.match_indices(code).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + code.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

/// One-time passcodes over a sequence of operations decoded from the input: ask for an upgrade
/// code, resend one, verify with a real or random or neighbouring challenge id and the real code,
/// a near miss, another challenge's code or arbitrary text, from the session or another one of
/// the same user, for the right or a wrong purpose, and move the clock.
///
/// - Only the real code of a real, unexpired, unused, not superseded challenge with attempts
///   left, typed in its own session for its own purpose, approves; at most one approval per
///   challenge and per session (an upgraded session asks for no more codes).
/// - The real code on such a challenge does approve (unless step-up is locked).
/// - Wrong guesses never exceed the attempt limit, and `attempts_left` counts down from it.
/// - The audit chain verifies afterwards, and no code or full number appears in it, nor in any
///   outcome or challenge's `Debug`.
pub fn passcode_verify(data: &[u8]) {
    let fx = passcode_fixture();
    let esr = &fx.esr;
    let max = passcode_policy().max_attempts;
    let mut input = Bytes(data);
    let mut issued: Vec<Issued> = Vec::new();
    let mut upgraded = false;
    // The clock stays within 28 minutes of the start, so the session can never pass its
    // 30-minute idle timeout (kept to the minute, hence the margin) whatever the operations,
    // and every error stays a finding. (Tracking the session's last use in the model instead
    // still met a timeout: see the stop-26 note.)
    let idle_margin = TimeDelta::minutes(28);
    let mut locked = false;
    let mut shown = String::new();
    let mut steps = 0;
    while let Some(op) = input.byte() {
        steps += 1;
        if steps > 64 {
            break;
        }
        let now = fx.clock.now();
        let pick = |b: Option<u8>, n: usize| (n > 0).then(|| usize::from(b.unwrap_or(0)) % n);
        match op % 12 {
            // Ask for a code, or resend one.
            0 | 1 => {
                let r = if op % 12 == 0 {
                    esr.request_upgrade_code(fx.session)
                } else {
                    let Some(i) = pick(input.byte(), issued.len()) else {
                        continue;
                    };
                    esr.resend_passcode(fx.session, &issued[i].id)
                };
                shown.push_str(&format!("{r:?}"));
                if let Ok(c) = r {
                    assert!(!upgraded, "a code was issued for an upgraded session");
                    assert_eq!(c.purpose, Purpose::UpgradeSession);
                    assert_eq!(c.expires_at, now + CODE_LIFETIME);
                    assert!(
                        issued.iter().all(|x| x.id != c.id),
                        "a challenge id was reused"
                    );
                    for old in &mut issued {
                        if now < old.expires_at {
                            old.superseded = true;
                        }
                    }
                    let code = fx.outbox.last_code_to(&fx.number).unwrap();
                    issued.push(Issued {
                        id: c.id,
                        code,
                        expires_at: c.expires_at,
                        superseded: false,
                        wrong: 0,
                        approved: false,
                    });
                }
            }
            // Move the clock on (up to about 13 minutes a step; the sessions, of 12 hours and 30
            // minutes idle, stay live).
            2 => {
                let secs = i64::from(input.byte().unwrap_or(0)) * 3;
                let left = (start() + TimeDelta::hours(11) - now).num_seconds().max(0);
                let idle_left = (start() + idle_margin - now).num_seconds().max(0);
                fx.clock
                    .advance(TimeDelta::seconds(secs.min(left).min(idle_left)));
            }
            // Verify.
            _ => {
                let how = op % 12;
                let target = pick(input.byte(), issued.len());
                let arg = input.byte().unwrap_or(0);
                let (id, code, real) = match (how, target) {
                    // The real code.
                    (3 | 4, Some(i)) => (issued[i].id, issued[i].code.clone(), Some(i)),
                    // A near miss.
                    (5 | 6, Some(i)) => (issued[i].id, near_miss(&issued[i].code, arg), Some(i)),
                    // Another challenge's code.
                    (7, Some(i)) => {
                        let j = usize::from(arg) % issued.len();
                        (issued[i].id, issued[j].code.clone(), Some(i))
                    }
                    // Arbitrary text.
                    (8, Some(i)) => {
                        let len = usize::from(arg % 16);
                        let code = String::from_utf8_lossy(input.take(len)).into_owned();
                        (issued[i].id, code, Some(i))
                    }
                    // A neighbour of a real id, with the real code.
                    (9, Some(i)) => {
                        let mut b = *issued[i].id.as_bytes();
                        let k = usize::from(arg) % 16;
                        b[k] ^= 1 << (arg % 8);
                        (ChallengeId::from_bytes(b), issued[i].code.clone(), None)
                    }
                    // Random bytes as the id, and arbitrary text.
                    _ => {
                        let mut b = [0u8; 16];
                        let raw = input.take(16);
                        b[..raw.len()].copy_from_slice(raw);
                        let len = usize::from(arg % 16);
                        let code = String::from_utf8_lossy(input.take(len)).into_owned();
                        (ChallengeId::from_bytes(b), code, None)
                    }
                };
                // Purpose and session: usually the right ones.
                let variant = input.byte().unwrap_or(0);
                let purpose = match variant % 8 {
                    6 => Purpose::RegisterMobile,
                    7 => Purpose::ChangeMobile,
                    _ => Purpose::UpgradeSession,
                };
                let session = if variant % 8 == 5 {
                    fx.other_session
                } else {
                    fx.session
                };
                let right_place = purpose == Purpose::UpgradeSession && session == fx.session;
                let real = real.filter(|_| right_place);
                let r = esr.verify_passcode(session, &id, purpose, &code);
                shown.push_str(&format!("{r:?}"));
                let ctx = format!("step {steps}: {id} {code:?} {purpose:?} {issued:?} {r:?}");
                let out = match r {
                    Ok(out) => out,
                    Err(Error::InvalidInput { .. }) => {
                        // A code of the wrong shape: refused before it costs an attempt.
                        assert!(
                            as_typed(&code).is_none_or(
                                |t| t.len() != 6 || !t.bytes().all(|b| b.is_ascii_digit())
                            ),
                            "{ctx}"
                        );
                        continue;
                    }
                    Err(e) => panic!("{ctx}: unexpected error {e}"),
                };
                let Some(i) = real else {
                    assert_eq!(out, VerifyOutcome::UnknownChallenge, "{ctx}");
                    continue;
                };
                let c = &mut issued[i];
                let right_code = as_typed(&code).as_ref() == Some(&c.code);
                let live = !c.approved && !c.superseded && now < c.expires_at && c.wrong < max;
                match &out {
                    VerifyOutcome::Approved(_) => {
                        assert!(live && right_code && !upgraded, "{ctx}");
                        c.approved = true;
                        upgraded = true;
                    }
                    VerifyOutcome::WrongCode { attempts_left } => {
                        assert!(live && !right_code && !locked, "{ctx}");
                        c.wrong += 1;
                        // The guess that kills the challenge answers TooManyAttempts.
                        assert!(c.wrong < max, "{ctx}");
                        assert_eq!(*attempts_left, max - c.wrong, "{ctx}");
                    }
                    VerifyOutcome::Locked => {
                        assert!(!upgraded || c.approved, "{ctx}");
                        // The guess that locks step-up is counted, and answers Locked.
                        if !locked && live && !right_code {
                            c.wrong += 1;
                        }
                        locked = true;
                    }
                    VerifyOutcome::AlreadyUsed => assert!(c.approved, "{ctx}"),
                    VerifyOutcome::Superseded => assert!(c.superseded && !c.approved, "{ctx}"),
                    VerifyOutcome::Expired => assert!(now >= c.expires_at, "{ctx}"),
                    VerifyOutcome::TooManyAttempts => {
                        if c.wrong < max {
                            // This guess killed it.
                            assert!(live && !right_code && c.wrong + 1 == max, "{ctx}");
                            c.wrong += 1;
                        }
                    }
                    VerifyOutcome::UnknownChallenge => panic!("{ctx}"),
                }
                if live && right_code {
                    assert!(
                        matches!(out, VerifyOutcome::Approved(_) | VerifyOutcome::Locked),
                        "{ctx}: the real code did not approve"
                    );
                }
            }
        }
        // Every challenge's stored state agrees with what was seen.
        for c in &issued {
            let st = esr.passcode_status(fx.session, &c.id).unwrap();
            assert_eq!(
                st.status == ChallengeStatus::Approved,
                c.approved,
                "{c:?} {st:?}"
            );
            assert!(st.attempts_left <= max, "{st:?}");
            assert_eq!(st.attempts_left, max - c.wrong.min(max), "{c:?} {st:?}");
            shown.push_str(&format!("{st:?}"));
        }
    }
    esr.verify_audit(fx.vpd).unwrap();
    let audit = format!("{:?}", esr.audit_trail(fx.vpd, 1, usize::MAX).unwrap());
    let national = &fx.number.expose_e164()[3..];
    for place in [&audit, &shown] {
        assert!(!place.contains(national), "the full number leaked");
        for c in &issued {
            assert!(!shows_code(place, &c.code), "code {} leaked", c.code);
        }
    }
    let approvals: BTreeSet<ChallengeId> =
        issued.iter().filter(|c| c.approved).map(|c| c.id).collect();
    assert!(
        approvals.len() <= 1,
        "more than one approval in one session"
    );
    let by_id: BTreeMap<ChallengeId, usize> =
        issued.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    assert_eq!(by_id.len(), issued.len());
}

// ----- serde -----------------------------------------------------------------------------------

/// Whether a deserialised value is one its constructor would also build. Types whose every field
/// deserialises through a parser (the identifiers) need nothing more than the round trip.
#[cfg(feature = "serde")]
trait Valid {
    fn check_valid(&self) {}
}

#[cfg(feature = "serde")]
macro_rules! serde_types {
    (checked: $($c:ty),* ; plain: $($t:ty),* $(,)?) => {
        $( impl Valid for $t {} )*
        /// Every public type that implements `Deserialize`, with its round trip.
        const SERDE_TYPES: &[(&str, fn(&[u8]))] = &[
            $((stringify!($c), roundtrip::<$c>),)*
            $((stringify!($t), roundtrip::<$t>),)*
        ];
    };
}

#[cfg(feature = "serde")]
impl Valid for PersonName {
    fn check_valid(&self) {
        assert_eq!(
            PersonName::new(&self.given, &self.family).as_ref(),
            Ok(self)
        );
    }
}
#[cfg(feature = "serde")]
impl Valid for AmberWindow {
    fn check_valid(&self) {
        assert_eq!(AmberWindow::months(self.len_months()), Ok(*self));
    }
}
#[cfg(feature = "serde")]
impl Valid for SmsTemplate {
    fn check_valid(&self) {
        assert_eq!(SmsTemplate::new(self.as_str()).as_ref(), Ok(self));
    }
}
#[cfg(feature = "serde")]
impl Valid for ComplianceSettings {
    fn check_valid(&self) {
        self.amber_window.check_valid();
    }
}
#[cfg(feature = "serde")]
impl Valid for Username {
    fn check_valid(&self) {
        username(self.to_string().as_bytes());
    }
}
#[cfg(feature = "serde")]
impl Valid for VpdCode {
    fn check_valid(&self) {
        vpd_code(self.as_str().as_bytes());
    }
}
#[cfg(feature = "serde")]
impl Valid for CompetenceName {
    fn check_valid(&self) {
        competence_name(self.as_str().as_bytes());
    }
}

#[cfg(feature = "serde")]
serde_types!(
    // With a `Valid` check of their own (above).
    checked: PersonName, AmberWindow, SmsTemplate, ComplianceSettings, Username, VpdCode,
    CompetenceName;
    plain:
    // Identifiers and names (each deserialises through its parser).
    EmployeeNumber, AssignmentNumber, OrgUnitId, PositionId, SessionId, GrantId, EmailAddress,
    SessionRef, SessionKey, Urp, CompetenceLevel, ChallengeId, KeyId, PasscodeTag, AuditHash,
    // Access and sessions.
    Channel, Tier, Function, Denial, AccessDecision, UpgradeBlocker, Session, SessionSummary, Upgrade,
    SessionEnd, SessionEndReason,
    // People, accounts, assignments, organisation.
    Person, NewPerson, AccountState, Account, PasswordHashing, Assignment, NewAssignment, Trust,
    OrgUnit, TrustSettings, UpgradeAccess, NationalPortlet, DashboardConfig,
    // URPs and audit.
    UrpKind, GrantScope, Approval, ApprovalRefusal, Grantor, UrpGrant, Revocation, UrpReportRow,
    AuditActor, AuditEvent, AuditEntry, AuditHead, AuditCheckpoint, AuditArchiveSummary,
    // Service.
    Config, Actor, GrantRequest, RecordBasis, RecordAccess, PersonRecord, DetailsChange,
    TeamMember,
    // Passcodes.
    Purpose, ChallengeStatus, Challenge, PasscodePolicy, LinkProblem, PasscodeChallenge,
    // Competences and compliance.
    CompetenceOwner, CompetenceDefinition, RequirementTarget, Requirement, Equivalence,
    CompetenceRecord, RecordExpiry, NewCompetenceRecord, ImportProblem, ImportProblems, ImportOptions,
    ImportSummary, ComplianceStatus, Holding, Need, Needed, RedReason, ComplianceCounts,
    ComplianceRow,
    AssignmentCompliance, PersonCompliance, StatusChange, RollUp<OrgUnitId>, TeamComplianceMember,
    TeamCompliance, ComplianceReport,
    // Certifications and learning.
    ComponentKind, Component, CompletionRule, ExpiryBase, Renewal, Certification,
    CertificationPath, SubscriptionState, CertifiedPeriod, Subscription, SubscriptionStatus,
    LearningAction, ComponentStatus, Performance, PlayResult, Enrolment, NotRecordedReason,
    SubscriptionView, PlayOutcome, LearningOutcome,
    // Notifications and approvals.
    ActionName, ApprovalRoute, ChangeId, ChangeOutcome,
    ChangeStatus, Notification, NotificationAction,
    NotificationFilter, NotificationId, NotificationKind,
    NotificationState, NotificationType,
    NotificationView, NotificationVisibility,
    PendingChange, ProposedChange,
    // Workflows: access requests, the URP review, competences awaiting approval.
    AccessRequest, AccessRequestId, AccessRequestState, AccessRequestStatus, AccessRoute,
    NewAccessRequest, Prerequisite, RecordedPrerequisite, ReviewDecision, ReviewItem,
    ReviewOutcome, UrpReview, UrpReviewId, UrpReviewStatus, ClaimState, CompetenceClaim,
    CompetenceClaimId,
    // Outbox and retention.
    Relay, DeliveryRetries, MessageChannel, OutboxStatus, DeliveryFailure, OutboxMessage,
    PurgeCounts, Retention,
    // Authenticator apps.
    TotpAlgorithm, TotpParams, AuthenticatorPolicy,
);

/// Reads `json` as a `T`; whatever reads must be a value its constructor would build, print,
/// and read back to a value that prints the same.
#[cfg(feature = "serde")]
fn roundtrip<T>(json: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + Valid + std::fmt::Debug,
{
    let Ok(v) = serde_json::from_slice::<T>(json) else {
        return;
    };
    v.check_valid();
    let printed = serde_json::to_string(&v).expect("what was read serialises");
    let again: T = serde_json::from_str(&printed)
        .unwrap_or_else(|e| panic!("{printed} does not read back ({e}); read from {v:?}"));
    again.check_valid();
    assert_eq!(
        serde_json::to_string(&again).unwrap(),
        printed,
        "{v:?} / {again:?}"
    );
    let _ = format!("{v:?}");
}

/// Serde: the first byte picks one of the public types that implement `Deserialize` (see
/// `SERDE_TYPES`; a unit test keeps it complete), and the rest is read as that type's JSON.
/// Whatever reads is a value the type's constructor or parser would build, serialises, and
/// reads back to a value that serialises the same. Also: three of the identifiers and names
/// the parsers' own targets check get their checks.
#[cfg(feature = "serde")]
pub fn serde(data: &[u8]) {
    let Some((pick, json)) = data.split_first() else {
        return;
    };
    let (_, case) = SERDE_TYPES[usize::from(*pick) % SERDE_TYPES.len()];
    case(json);
    // The validated types and the parsers agree, whatever the pick.
    roundtrip::<Username>(json);
    roundtrip::<VpdCode>(json);
    roundtrip::<CompetenceName>(json);
    roundtrip::<PersonName>(json);
    roundtrip::<AmberWindow>(json);
    roundtrip::<SmsTemplate>(json);
    roundtrip::<ComplianceSettings>(json);
}

#[cfg(test)]
mod tests;
