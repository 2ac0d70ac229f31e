//! Stateful property tests of the three state machines (an account, a certification
//! subscription, a passcode challenge): random sequences of operations, with a clock that moves
//! only when told to, applied to the service beside a small reference model. After every step
//! the service must agree with the model, no state the rules forbid may be reached, and every
//! refused operation must leave stored state (and the audit trail) exactly as it was; at the end
//! the audit chain verifies.
//!
//! `passcode_properties.rs` covers upgrade codes under relaxed limits and the lock with the
//! defaults; `certification_properties.rs` the completion rule of awards. These add the other
//! purposes, sessions and the send limits, account recovery, and the subscription lifecycle.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::chrono::{DateTime, TimeDelta, Utc};
use esr_core::{
    access::*, compliance::*, learning::*, passcode::*, people::*, store::*, urp::*, values::*, *,
};
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, RngAlgorithm, TestRng, TestRunner};
use std::collections::BTreeMap;

/// How often each interesting thing happened over all cases, so that no property holds only
/// because the sequences never reach it.
type Counts = BTreeMap<&'static str, u32>;

fn bump(counts: &mut Counts, what: &'static str) {
    *counts.entry(what).or_default() += 1;
}

/// What a refusal may touch: nothing. Stored state of the trust (audit aside), the user's
/// challenges, and the audit trail's length.
#[derive(Debug, PartialEq)]
struct Stored {
    rest: Snapshot,
    challenges: Vec<esr_core::passcode::Challenge>,
    audit_len: usize,
}

fn stored(fx: &Fixture, u: &Username) -> Stored {
    let mut rest = fx.snapshot(fx.vpd());
    let audit = std::mem::take(&mut rest.audit);
    let since = start() - TimeDelta::days(1);
    let challenges = fx
        .esr
        .store()
        .transaction(|tx| tx.challenges_of(u, since))
        .unwrap();
    Stored {
        rest,
        challenges,
        audit_len: audit.len(),
    }
}

/// `after` is `before` with `audited` more audit entries and nothing else changed.
#[track_caller]
fn unchanged(before: &Stored, after: &Stored, audited: usize, ctx: &str) {
    assert_eq!(
        after.audit_len,
        before.audit_len + audited,
        "{ctx}: the audit trail grew by {} instead of {audited}",
        after.audit_len - before.audit_len
    );
    assert!(
        before.rest == after.rest && before.challenges == after.challenges,
        "{ctx}: a refusal changed stored state"
    );
}

fn pick(n: usize, len: usize) -> Option<usize> {
    (len > 0).then(|| n % len)
}

/// Send-limit model: the sends a limit counts are those in `(now - window, now]`.
fn in_window(times: &[DateTime<Utc>], now: DateTime<Utc>, window: TimeDelta) -> usize {
    times
        .iter()
        .filter(|t| **t > now - window && **t <= now)
        .count()
}

/// The limit a new send would break, if any (most sends in the window, then spacing).
fn send_refusal(
    times: &[DateTime<Utc>],
    now: DateTime<Utc>,
    p: &PasscodePolicy,
) -> Option<&'static str> {
    if in_window(times, now, p.send_window) >= p.max_sends as usize {
        return Some("too many sends");
    }
    if times
        .iter()
        .filter(|t| **t <= now)
        .any(|t| now - *t < p.min_resend_interval)
    {
        return Some("too soon");
    }
    None
}

#[track_caller]
fn assert_send_refusal(r: &Error, why: &str, ctx: &str) {
    match why {
        "too many sends" => assert!(matches!(r, Error::TooManySends { .. }), "{ctx}: {r:?}"),
        _ => assert!(matches!(r, Error::ResendTooSoon { .. }), "{ctx}: {r:?}"),
    }
}

/// A model challenge's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    Pending,
    Approved,
    Superseded,
    Dead,
}

fn status(st: St, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> ChallengeStatus {
    match st {
        St::Pending if now >= expires_at => ChallengeStatus::Expired,
        St::Pending => ChallengeStatus::Pending,
        St::Approved => ChallengeStatus::Approved,
        St::Superseded => ChallengeStatus::Superseded,
        St::Dead => ChallengeStatus::MaxAttemptsReached,
    }
}

/// Runs `cases` random sequences through `machine` (from a fixed seed; failures are persisted
/// next to this file and replayed first, as `proptest!` does), then checks that every event in `reached` happened in some case.
fn run<T: std::fmt::Debug>(
    cases: u32,
    strategy: impl Strategy<Value = T>,
    machine: impl Fn(&T, &mut Counts),
    reached: &[&str],
) {
    let counts = std::cell::RefCell::new(Counts::new());
    // A fixed seed, so that the coverage check below is stable from run to run.
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig {
            cases,
            failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
                "tests/proptest-regressions/state_machines.txt",
            ))),
            ..ProptestConfig::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let result = runner.run(&strategy, |input| {
        machine(&input, &mut counts.borrow_mut());
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let counts = counts.into_inner();
    eprintln!("{counts:?}");
    for what in reached {
        assert!(
            counts.get(what).copied().unwrap_or(0) > 0,
            "no case reached {what:?}: {counts:?}"
        );
    }
}

// ===== the account ===============================================================================

const PASSWORDS: [&str; 3] = [PASSWORD, "second pass phrase", "third pass phrase!"];
/// Refused by the password policy.
const WEAK: &str = "short";
const MAX_FAILED: u32 = 3;

#[derive(Debug, Clone)]
enum AccountOp {
    /// Log in with the n-th password (3: one never set).
    LogIn(usize),
    AdminUnlock,
    /// An administrator sets the n-th password (3: a weak one).
    AdminSetPassword(usize),
    /// Forgotten username (a reset link) or unlock link; with the right date of birth or not.
    RequestLink {
        unlock: bool,
        right_dob: bool,
    },
    /// Use the n-th link to reset (with the m-th password, 3: weak) or to unlock.
    UseLink {
        link: usize,
        unlock: bool,
        password: usize,
    },
    /// The n-th link with its secret altered.
    TamperLink(usize),
    ApproveInternet,
    AutomaticInternet(bool),
    Advance(i64),
    ToLinkExpiry(usize, bool),
}

fn account_op() -> impl Strategy<Value = AccountOp> {
    prop_oneof![
        6 => (0usize..4).prop_map(AccountOp::LogIn),
        1 => Just(AccountOp::AdminUnlock),
        1 => (0usize..4).prop_map(AccountOp::AdminSetPassword),
        4 => (any::<bool>(), prop::bool::weighted(0.85))
            .prop_map(|(unlock, right_dob)| AccountOp::RequestLink { unlock, right_dob }),
        4 => (any::<usize>(), any::<bool>(), 0usize..4)
            .prop_map(|(link, unlock, password)| AccountOp::UseLink { link, unlock, password }),
        1 => any::<usize>().prop_map(AccountOp::TamperLink),
        1 => Just(AccountOp::ApproveInternet),
        1 => any::<bool>().prop_map(AccountOp::AutomaticInternet),
        2 => (0i64..=120).prop_map(AccountOp::Advance),
        2 => (0i64..=3 * 3600).prop_map(AccountOp::Advance),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(i, exact)| AccountOp::ToLinkExpiry(i, exact)),
    ]
}

#[derive(Debug)]
struct Link {
    token: String,
    id: ChallengeId,
    unlock: bool,
    expires_at: DateTime<Utc>,
    st: St,
    attempts: u32,
}

#[derive(Debug)]
struct AccountModel {
    locked: bool,
    failed: u32,
    password: usize,
    automatic: bool,
    approved: bool,
    links: Vec<Link>,
    link_sends: Vec<DateTime<Utc>>,
}

fn account_machine(ops: &[AccountOp], n: &mut Counts) {
    let fx = Fixture::builder()
        .max_failed_logins(MAX_FAILED)
        .settings(settings(true, false, false))
        .build();
    let (esr, v) = (&fx.esr, fx.vpd());
    let emma = fx.staff("Emma", "Conroy", "Ward 5", None);
    let u = emma.username().clone();
    let email = format!("staff{}@nhs.net", emma.employee());
    let address: EmailAddress = email.parse().unwrap();
    let dob = emma.person.date_of_birth;
    let policy = PasscodePolicy::default();
    let mut m = AccountModel {
        locked: false,
        failed: 0,
        password: 0,
        automatic: true,
        approved: false,
        links: Vec::new(),
        link_sends: Vec::new(),
    };
    for (step, op) in ops.iter().enumerate() {
        let ctx = format!("step {step} {op:?}");
        let now = fx.clock.now();
        let before = stored(&fx, &u);
        // Ok(n): the operation went through, or was refused with a record of it, adding n
        // audit entries; Err(e): refused, and nothing may change.
        let refused: Option<Error> = match op {
            AccountOp::LogIn(i) => {
                let pw = PASSWORDS.get(*i).copied().unwrap_or("never this password");
                let r = esr.log_in_with_password(&u.to_string(), &Password::new(pw));
                let right = *i == m.password;
                if m.locked {
                    // "Locked" is said only to someone who gives the right password.
                    let expected = if right {
                        Error::AccountLocked(u.clone())
                    } else {
                        Error::InvalidCredentials
                    };
                    assert_eq!(r, Err(expected), "{ctx}");
                    bump(n, "refused while locked");
                    r.err()
                } else if !right {
                    m.failed += 1;
                    if m.failed >= MAX_FAILED {
                        m.locked = true;
                        bump(n, "locked by failures");
                    }
                    // The locking guess answers as any wrong password does.
                    assert_eq!(r.as_ref().err(), Some(&Error::InvalidCredentials), "{ctx}");
                    if m.locked {
                        // The lock ends every session of the account.
                        assert!(esr.live_sessions(&u).unwrap().is_empty(), "{ctx}");
                    } else {
                        // Recorded: the failure.
                        unchanged_but(&fx, &u, &before, 1, &ctx);
                    }
                    None
                } else if !(m.automatic || m.approved) {
                    assert_eq!(r, Err(Error::NoInternetAccess(u.clone())), "{ctx}");
                    bump(n, "no internet access");
                    r.err()
                } else {
                    let s = r.unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
                    assert_eq!(s.username, u);
                    bump(n, "logged in");
                    m.failed = 0;
                    None
                }
            }
            AccountOp::AdminUnlock => {
                let r = esr.unlock_account(&system(), &u, "service desk");
                if m.locked {
                    r.unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
                    bump(n, "admin unlock");
                    m.locked = false;
                    m.failed = 0;
                    None
                } else {
                    assert!(
                        matches!(r, Err(Error::InvalidTransition { .. })),
                        "{ctx}: {r:?}"
                    );
                    r.err()
                }
            }
            AccountOp::AdminSetPassword(i) => {
                let pw = PASSWORDS.get(*i).copied().unwrap_or(WEAK);
                let r = esr.set_password(&system(), &u, &Password::new(pw));
                if *i < PASSWORDS.len() {
                    r.unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
                    m.password = *i;
                    None
                } else {
                    assert!(matches!(r, Err(Error::WeakPassword(_))), "{ctx}: {r:?}");
                    bump(n, "weak password");
                    r.err()
                }
            }
            AccountOp::RequestLink { unlock, right_dob } => {
                let sent_before = fx.outbox.len();
                let day = if *right_dob {
                    dob
                } else {
                    dob.succ_opt().unwrap()
                };
                let r = if *unlock {
                    esr.request_unlock_link(v, &email, day)
                } else {
                    esr.request_username_reminder(v, &email, day)
                };
                assert_eq!(
                    r,
                    Ok(RecoveryRequested),
                    "{ctx}: the answer is always the same"
                );
                let sends = *right_dob && send_refusal(&m.link_sends, now, &policy).is_none();
                assert_eq!(fx.outbox.len(), sent_before + usize::from(sends), "{ctx}");
                if *right_dob && !sends {
                    bump(n, "link send limited");
                }
                if sends {
                    for l in m.links.iter_mut() {
                        if l.unlock == *unlock && l.st == St::Pending && now < l.expires_at {
                            l.st = St::Superseded;
                        }
                    }
                    let mail = fx.outbox.last_email_to(&address).unwrap();
                    let token = mail.expose_token().expose().to_owned();
                    assert_eq!(mail.link_expires_at, now + TimeDelta::hours(4), "{ctx}");
                    m.links.push(Link {
                        id: token[..32].parse().unwrap(),
                        token,
                        unlock: *unlock,
                        expires_at: now + TimeDelta::hours(4),
                        st: St::Pending,
                        attempts: 0,
                    });
                    m.link_sends.push(now);
                }
                None
            }
            AccountOp::UseLink {
                link,
                unlock,
                password,
            } => {
                let Some(i) = pick(*link, m.links.len()) else {
                    continue;
                };
                let pw = PASSWORDS.get(*password).copied().unwrap_or(WEAK);
                let token = m.links[i].token.clone();
                let r = if *unlock {
                    esr.unlock_with_link(&token)
                } else {
                    esr.reset_password_with_link(&token, &Password::new(pw))
                };
                let l = &m.links[i];
                let expected = if !*unlock && *password >= PASSWORDS.len() {
                    Some(Error::WeakPassword("it must be at least 8 characters long"))
                } else if l.unlock != *unlock {
                    Some(Error::RecoveryLinkRefused(LinkProblem::NotRecognised))
                } else {
                    match status(l.st, l.expires_at, now) {
                        ChallengeStatus::Pending => None,
                        ChallengeStatus::Approved => {
                            Some(Error::RecoveryLinkRefused(LinkProblem::AlreadyUsed))
                        }
                        ChallengeStatus::Superseded => {
                            Some(Error::RecoveryLinkRefused(LinkProblem::Superseded))
                        }
                        ChallengeStatus::Expired => {
                            Some(Error::RecoveryLinkRefused(LinkProblem::Expired))
                        }
                        ChallengeStatus::MaxAttemptsReached => {
                            Some(Error::RecoveryLinkRefused(LinkProblem::NotRecognised))
                        }
                    }
                };
                match expected {
                    Some(e) => {
                        assert_eq!(r.as_ref().err(), Some(&e), "{ctx}");
                        bump(
                            n,
                            match e {
                                Error::WeakPassword(_) => "weak password",
                                _ if l.unlock != *unlock => "link for the other purpose",
                                Error::RecoveryLinkRefused(LinkProblem::AlreadyUsed) => {
                                    "link already used"
                                }
                                Error::RecoveryLinkRefused(LinkProblem::Expired) => "link expired",
                                Error::RecoveryLinkRefused(LinkProblem::Superseded) => {
                                    "link superseded"
                                }
                                _ => "link exhausted",
                            },
                        );
                        r.err()
                    }
                    None => {
                        assert_eq!(r, Ok(u.clone()), "{ctx}");
                        bump(
                            n,
                            if *unlock {
                                "link used to unlock"
                            } else {
                                "link used to reset"
                            },
                        );
                        for (j, other) in m.links.iter_mut().enumerate() {
                            if j == i {
                                other.st = St::Approved;
                            } else if other.st == St::Pending && now < other.expires_at {
                                other.st = St::Superseded;
                            }
                        }
                        if !*unlock {
                            m.password = *password;
                        }
                        m.locked = false;
                        m.failed = 0;
                        None
                    }
                }
            }
            AccountOp::TamperLink(i) => {
                let Some(i) = pick(*i, m.links.len()) else {
                    continue;
                };
                let l = &mut m.links[i];
                let mut bad = l.token.clone();
                let last = if bad.ends_with('0') { "1" } else { "0" };
                bad.replace_range(bad.len() - 1.., last);
                let r = if l.unlock {
                    esr.unlock_with_link(&bad)
                } else {
                    esr.reset_password_with_link(&bad, &Password::new(PASSWORDS[0]))
                };
                let st = status(l.st, l.expires_at, now);
                let problem = match st {
                    ChallengeStatus::Pending => LinkProblem::NotRecognised,
                    ChallengeStatus::Approved => LinkProblem::AlreadyUsed,
                    ChallengeStatus::Superseded => LinkProblem::Superseded,
                    ChallengeStatus::Expired => LinkProblem::Expired,
                    ChallengeStatus::MaxAttemptsReached => LinkProblem::NotRecognised,
                };
                assert_eq!(r, Err(Error::RecoveryLinkRefused(problem)), "{ctx}");
                if st == ChallengeStatus::Pending {
                    // A wrong secret is counted against the link, and audited.
                    l.attempts += 1;
                    bump(n, "wrong link secret");
                    if l.attempts >= policy.max_attempts {
                        l.st = St::Dead;
                    }
                    let after = stored(&fx, &u);
                    assert_eq!(after.audit_len, before.audit_len + 1, "{ctx}");
                    assert!(
                        after.rest == before.rest,
                        "{ctx}: a wrong link changed the account"
                    );
                    None
                } else {
                    r.err()
                }
            }
            AccountOp::ApproveInternet => {
                esr.approve_internet_access(&system(), &u).unwrap();
                m.approved = true;
                None
            }
            AccountOp::AutomaticInternet(on) => {
                esr.set_automatic_internet_access(&system(), v, *on)
                    .unwrap();
                m.automatic = *on;
                None
            }
            AccountOp::Advance(secs) => {
                fx.clock.advance(TimeDelta::seconds(*secs));
                None
            }
            AccountOp::ToLinkExpiry(i, exact) => {
                let Some(i) = pick(*i, m.links.len()) else {
                    continue;
                };
                let mut to = m.links[i].expires_at;
                if !exact {
                    to -= TimeDelta::milliseconds(1);
                }
                if to > now {
                    fx.clock.set(to);
                }
                None
            }
        };
        if let Some(e) = &refused {
            unchanged(
                &before,
                &stored(&fx, &u),
                0,
                &format!("{ctx} refused with {e:?}"),
            );
        }
        // The stored account is the model's; a locked account has reached the threshold.
        let now = fx.clock.now();
        let acc = esr.account(&u).unwrap();
        let state = if m.locked {
            AccountState::Locked
        } else {
            AccountState::Active
        };
        assert_eq!(acc.state, state, "{ctx}");
        assert_eq!(acc.failed_logins, m.failed, "{ctx}");
        assert!(
            acc.failed_logins <= MAX_FAILED,
            "{ctx}: failures counted past the lock"
        );
        assert_eq!(acc.internet_access_approved, m.approved, "{ctx}");
        // Every link's stored status is the model's: a used, superseded, exhausted or expired
        // link never comes back.
        for l in &m.links {
            let c = fx
                .esr
                .store()
                .transaction(|tx| tx.challenge(&l.id))
                .unwrap()
                .unwrap();
            assert_eq!(
                c.status_at(now),
                status(l.st, l.expires_at, now),
                "{ctx} {l:?}"
            );
            assert_eq!(c.expires_at, l.expires_at, "{ctx}: a link's expiry moved");
        }
        let approved = m.links.iter().filter(|l| l.st == St::Approved).count();
        let approved_stored = stored(&fx, &u)
            .challenges
            .iter()
            .filter(|c| c.status == ChallengeStatus::Approved)
            .count();
        assert_eq!(approved, approved_stored, "{ctx}");
    }
    // Sends never exceeded the limits.
    for t in &m.link_sends {
        assert!(in_window(&m.link_sends, *t, policy.send_window) <= policy.max_sends as usize);
    }
    esr.verify_audit(v).unwrap();
}

/// A refusal that is recorded: only `audited` entries are added, nothing else stored changes
/// but the account's failure count and state, which the model checks.
#[track_caller]
fn unchanged_but(fx: &Fixture, u: &Username, before: &Stored, audited: usize, ctx: &str) {
    let after = stored(fx, u);
    assert_eq!(after.audit_len, before.audit_len + audited, "{ctx}");
    assert_eq!(after.challenges, before.challenges, "{ctx}");
    assert_eq!(after.rest.sessions, before.rest.sessions, "{ctx}");
    assert_eq!(after.rest.grants, before.rest.grants, "{ctx}");
    assert_eq!(after.rest.people, before.rest.people, "{ctx}");
}

// ===== the passcode challenge ====================================================================

const NUMBER: &str = "07700 900417";

/// Tight enough that sequences reach every limit.
fn tight() -> PasscodePolicy {
    PasscodePolicy {
        max_attempts: 3,
        max_failures: 4,
        max_sends: 4,
        ..PasscodePolicy::default()
    }
}

#[derive(Debug, Clone)]
enum CodeOp {
    /// An upgrade code in the n-th internet session.
    IssueUpgrade(usize),
    /// A code to register (or re-confirm) the number, from the HSCN session.
    IssueRegister,
    Resend(usize),
    VerifyRight(usize),
    VerifyWrong(usize),
    /// A wrong code for the newest challenge (as a guesser would).
    VerifyWrongNewest,
    /// The n-th challenge with the m-th challenge's code.
    VerifyCodeOf(usize, usize),
    /// The right code, but named with another purpose.
    VerifyOtherPurpose(usize),
    /// The right code, from a session it was not issued in.
    VerifyOtherSession(usize, usize),
    NewInternetSession,
    AdminClear,
    Advance(i64),
    ToExpiry(usize, bool),
}

fn code_op() -> impl Strategy<Value = CodeOp> {
    prop_oneof![
        4 => (0usize..3).prop_map(CodeOp::IssueUpgrade),
        3 => Just(CodeOp::IssueRegister),
        2 => any::<usize>().prop_map(CodeOp::Resend),
        3 => any::<usize>().prop_map(CodeOp::VerifyRight),
        3 => any::<usize>().prop_map(CodeOp::VerifyWrong),
        4 => Just(CodeOp::VerifyWrongNewest),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| CodeOp::VerifyCodeOf(a, b)),
        1 => any::<usize>().prop_map(CodeOp::VerifyOtherPurpose),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| CodeOp::VerifyOtherSession(a, b)),
        1 => Just(CodeOp::NewInternetSession),
        2 => Just(CodeOp::AdminClear),
        3 => (0i64..=60).prop_map(CodeOp::Advance),
        2 => (0i64..=400).prop_map(CodeOp::Advance),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(i, exact)| CodeOp::ToExpiry(i, exact)),
    ]
}

#[derive(Debug)]
struct Code {
    id: ChallengeId,
    code: String,
    /// Index into the model's sessions.
    session: usize,
    purpose: Purpose,
    expires_at: DateTime<Utc>,
    st: St,
    attempts: u32,
    approvals: u32,
}

#[derive(Debug)]
struct CodeModel {
    /// Session 0 is the HSCN one; the others are internet sessions, with whether upgraded.
    sessions: Vec<(SessionId, bool)>,
    codes: Vec<Code>,
    sends: Vec<DateTime<Utc>>,
    registered: bool,
    failures: u32,
    locked: bool,
}

fn same_family(a: Purpose, b: Purpose) -> bool {
    let mobile = |p| matches!(p, Purpose::RegisterMobile | Purpose::ChangeMobile);
    a == b || (mobile(a) && mobile(b))
}

fn other_code(code: &str) -> String {
    let mut b = code.as_bytes().to_vec();
    b[0] = if b[0] == b'9' { b'0' } else { b[0] + 1 };
    String::from_utf8(b).unwrap()
}

impl CodeModel {
    /// What issuing a code for `purpose` in session `k` should do: `Err` with the refusal's
    /// name, or `Ok`.
    fn predict_issue(
        &self,
        k: usize,
        purpose: Purpose,
        now: DateTime<Utc>,
        p: &PasscodePolicy,
    ) -> std::result::Result<(), &'static str> {
        if purpose == Purpose::UpgradeSession {
            if self.sessions[k].1 {
                return Err("already upgraded");
            }
            if !self.registered {
                return Err("no mobile");
            }
        }
        if self.locked {
            return Err("locked");
        }
        if let Some(why) = send_refusal(&self.sends, now, p) {
            return Err(why);
        }
        Ok(())
    }

    fn issued(
        &mut self,
        k: usize,
        purpose: Purpose,
        c: &PasscodeChallenge,
        code: String,
        now: DateTime<Utc>,
    ) {
        for old in self.codes.iter_mut() {
            if old.session == k
                && same_family(old.purpose, purpose)
                && old.st == St::Pending
                && now < old.expires_at
            {
                old.st = St::Superseded;
            }
        }
        self.codes.push(Code {
            id: c.id,
            code,
            session: k,
            purpose,
            expires_at: now + TimeDelta::minutes(10),
            st: St::Pending,
            attempts: 0,
            approvals: 0,
        });
        self.sends.push(now);
    }
}

#[track_caller]
fn assert_issue_refusal(r: &Error, why: &str, u: &Username, ctx: &str) {
    match why {
        "already upgraded" => assert_eq!(r, &Error::AlreadyUpgraded, "{ctx}"),
        "no mobile" => assert_eq!(
            r,
            &Error::UpgradeNotAvailable(UpgradeBlocker::NoRegisteredMobile),
            "{ctx}"
        ),
        "locked" => assert_eq!(r, &Error::StepUpLocked(u.clone()), "{ctx}"),
        why => assert_send_refusal(r, why, ctx),
    }
}

fn passcode_machine(ops: &[CodeOp], n: &mut Counts) {
    let policy = tight();
    let fx = Fixture::builder()
        .settings(settings(true, true, false))
        .passcodes(policy)
        .build();
    let (esr, v) = (&fx.esr, fx.vpd());
    let mia = fx.staff("Mia", "Moss", "Ward 5", None);
    fx.grant(
        mia.username(),
        Urp::ManagerSelfServicePayrollApprovalsNotRequired,
        GrantScope::WholeTrust,
    );
    let u = mia.username().clone();
    let number: MobileNumber = NUMBER.parse().unwrap();
    let mut m = CodeModel {
        sessions: vec![(fx.hscn(&u), false), (fx.internet(&u).unwrap().id, false)],
        codes: Vec::new(),
        sends: Vec::new(),
        registered: false,
        failures: 0,
        locked: false,
    };
    for (step, op) in ops.iter().enumerate() {
        let ctx = format!("step {step} {op:?}");
        let now = fx.clock.now();
        let before = stored(&fx, &u);
        let sessions = m.sessions.len();
        let internet = |n: usize| 1 + n % (sessions - 1);
        let mut refused: Option<Error> = None;
        // Entries a recorded (not refused) outcome that changes nothing else adds.
        let mut audited_only: Option<usize> = None;
        match op {
            CodeOp::IssueUpgrade(_) | CodeOp::IssueRegister | CodeOp::Resend(_) => {
                let (k, purpose, r) = match op {
                    CodeOp::IssueUpgrade(n) => {
                        let k = internet(*n);
                        (
                            k,
                            Purpose::UpgradeSession,
                            esr.request_upgrade_code(m.sessions[k].0),
                        )
                    }
                    CodeOp::IssueRegister => {
                        let p = if m.registered {
                            Purpose::ChangeMobile
                        } else {
                            Purpose::RegisterMobile
                        };
                        (0, p, esr.request_mobile_code(m.sessions[0].0, NUMBER))
                    }
                    CodeOp::Resend(i) => {
                        let Some(i) = pick(*i, m.codes.len()) else {
                            continue;
                        };
                        let c = &m.codes[i];
                        let r = esr.resend_passcode(m.sessions[c.session].0, &c.id);
                        if c.st == St::Approved {
                            assert!(
                                matches!(
                                    r,
                                    Err(Error::InvalidInput {
                                        what: "challenge",
                                        ..
                                    })
                                ),
                                "{ctx}: {r:?}"
                            );
                            refused = r.err();
                            (c.session, c.purpose, Err(Error::AlreadyUpgraded))
                        } else {
                            (c.session, c.purpose, r)
                        }
                    }
                    _ => unreachable!(),
                };
                if refused.is_none() {
                    match (m.predict_issue(k, purpose, now, &policy), r) {
                        (Ok(()), Ok(c)) => {
                            assert_eq!(c.purpose, purpose, "{ctx}");
                            assert_eq!(c.expires_at, now + TimeDelta::minutes(10), "{ctx}");
                            assert_eq!(c.attempts_left, policy.max_attempts, "{ctx}");
                            let code = fx.outbox.last_code_to(&number).unwrap();
                            bump(n, "issued");
                            m.issued(k, purpose, &c, code, now);
                        }
                        (Err(why), Err(e)) => {
                            assert_issue_refusal(&e, why, &u, &ctx);
                            bump(n, why);
                            refused = Some(e);
                        }
                        (want, got) => panic!("{ctx}: expected {want:?}, got {got:?}"),
                    }
                }
            }
            CodeOp::VerifyRight(_)
            | CodeOp::VerifyWrong(_)
            | CodeOp::VerifyCodeOf(..)
            | CodeOp::VerifyOtherPurpose(_)
            | CodeOp::VerifyOtherSession(..)
            | CodeOp::VerifyWrongNewest => {
                let i = match op {
                    CodeOp::VerifyRight(i)
                    | CodeOp::VerifyWrong(i)
                    | CodeOp::VerifyCodeOf(i, _)
                    | CodeOp::VerifyOtherPurpose(i)
                    | CodeOp::VerifyOtherSession(i, _) => pick(*i, m.codes.len()),
                    _ => m.codes.len().checked_sub(1),
                };
                let Some(i) = i else {
                    continue;
                };
                let (own, code, purpose, session) = {
                    let c = &m.codes[i];
                    let own = m.sessions[c.session].0;
                    match op {
                        CodeOp::VerifyRight(_) => (true, c.code.clone(), c.purpose, own),
                        CodeOp::VerifyWrong(_) | CodeOp::VerifyWrongNewest => {
                            (true, other_code(&c.code), c.purpose, own)
                        }
                        CodeOp::VerifyCodeOf(_, j) => {
                            let j = j % m.codes.len();
                            (true, m.codes[j].code.clone(), c.purpose, own)
                        }
                        CodeOp::VerifyOtherPurpose(_) => {
                            let p = if c.purpose == Purpose::UpgradeSession {
                                Purpose::ChangeMobile
                            } else {
                                Purpose::UpgradeSession
                            };
                            (false, c.code.clone(), p, own)
                        }
                        CodeOp::VerifyOtherSession(_, n) => {
                            let k = (c.session + 1 + n % (sessions - 1)) % sessions;
                            (false, c.code.clone(), c.purpose, m.sessions[k].0)
                        }
                        _ => unreachable!(),
                    }
                };
                let out = esr.verify_passcode(session, &m.codes[i].id, purpose, &code);
                let out = out.unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
                let mut counted = false;
                let c = &mut m.codes[i];
                let expected = if !own {
                    VerifyOutcome::UnknownChallenge
                } else if m.locked {
                    VerifyOutcome::Locked
                } else {
                    match status(c.st, c.expires_at, now) {
                        ChallengeStatus::Approved => VerifyOutcome::AlreadyUsed,
                        ChallengeStatus::Superseded => VerifyOutcome::Superseded,
                        ChallengeStatus::Expired => VerifyOutcome::Expired,
                        ChallengeStatus::MaxAttemptsReached => VerifyOutcome::TooManyAttempts,
                        ChallengeStatus::Pending if code == c.code => {
                            c.st = St::Approved;
                            c.approvals += 1;
                            // An approval does not reset the failure count.
                            if c.purpose == Purpose::UpgradeSession {
                                m.sessions[c.session].1 = true;
                            } else {
                                m.registered = true;
                            }
                            out.clone()
                        }
                        ChallengeStatus::Pending => {
                            counted = true;
                            c.attempts += 1;
                            let dead = c.attempts >= policy.max_attempts;
                            if dead {
                                c.st = St::Dead;
                            }
                            m.failures += 1;
                            if m.failures >= policy.max_failures {
                                m.locked = true;
                                bump(n, "step-up locked");
                                // The guess that locks says so.
                                VerifyOutcome::Locked
                            } else if dead {
                                // The guess that kills the challenge says so.
                                VerifyOutcome::TooManyAttempts
                            } else {
                                VerifyOutcome::WrongCode {
                                    attempts_left: policy.max_attempts - c.attempts,
                                }
                            }
                        }
                    }
                };
                assert_eq!(out, expected, "{ctx}");
                bump(
                    n,
                    match &out {
                        VerifyOutcome::Approved(Approved::SessionUpgraded(_)) => "approved upgrade",
                        VerifyOutcome::Approved(_) => "approved registration",
                        VerifyOutcome::WrongCode { .. } => "wrong code",
                        VerifyOutcome::Expired => "expired",
                        VerifyOutcome::AlreadyUsed => "already used",
                        VerifyOutcome::Superseded => "superseded",
                        VerifyOutcome::TooManyAttempts => "too many attempts",
                        VerifyOutcome::Locked => "locked outcome",
                        VerifyOutcome::UnknownChallenge => "unknown challenge",
                    },
                );
                if out.is_approved() {
                    // Never twice, never at or after expiry, never past the attempt limit.
                    assert_eq!(c.approvals, 1, "{ctx}");
                    assert!(now < c.expires_at, "{ctx}");
                    assert!(c.attempts < policy.max_attempts, "{ctx}");
                }
                if !counted && !out.is_approved() {
                    audited_only = Some(1);
                }
            }
            CodeOp::NewInternetSession => {
                m.sessions.push((fx.internet(&u).unwrap().id, false));
            }
            CodeOp::AdminClear => {
                let r = esr.clear_step_up_lock(&system(), &u, "service desk");
                if m.locked {
                    let acc = r.unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
                    assert!(!acc.step_up_locked && acc.passcode_failures == 0, "{ctx}");
                    m.locked = false;
                    m.failures = 0;
                    bump(n, "lock cleared");
                } else {
                    assert!(
                        matches!(
                            r,
                            Err(Error::InvalidInput {
                                what: "step-up lock",
                                ..
                            })
                        ),
                        "{ctx}: {r:?}"
                    );
                    refused = r.err();
                }
            }
            CodeOp::Advance(secs) => fx.clock.advance(TimeDelta::seconds(*secs)),
            CodeOp::ToExpiry(i, exact) => {
                let Some(i) = pick(*i, m.codes.len()) else {
                    continue;
                };
                let mut to = m.codes[i].expires_at;
                if !exact {
                    to -= TimeDelta::milliseconds(1);
                }
                if to > now {
                    fx.clock.set(to);
                }
            }
        }
        let after = stored(&fx, &u);
        if let Some(e) = &refused {
            unchanged(&before, &after, 0, &format!("{ctx} refused with {e:?}"));
        }
        if let Some(n) = audited_only {
            unchanged(&before, &after, n, &ctx);
        }
        // After every step: each challenge as the model has it, expiries unmoved; the account's
        // lock and failures, the sessions' upgrades and the number as the model has them.
        let now = fx.clock.now();
        for c in &m.codes {
            let st = esr.passcode_status(m.sessions[c.session].0, &c.id).unwrap();
            assert_eq!(st.status, status(c.st, c.expires_at, now), "{ctx} {c:?}");
            assert_eq!(st.expires_at, c.expires_at, "{ctx}: an expiry moved");
            assert_eq!(
                st.attempts_left,
                policy.max_attempts.saturating_sub(c.attempts),
                "{ctx}"
            );
            assert!(c.approvals <= 1, "{ctx}");
        }
        let acc = esr.account(&u).unwrap();
        assert_eq!(acc.step_up_locked, m.locked, "{ctx}");
        assert_eq!(acc.passcode_failures, m.failures, "{ctx}");
        assert!(m.failures <= policy.max_failures, "{ctx}");
        for (id, up) in &m.sessions {
            assert_eq!(esr.session(*id).unwrap().is_upgraded(), *up, "{ctx}");
        }
        assert_eq!(
            esr.person(v, mia.employee()).unwrap().mobile.is_some(),
            m.registered,
            "{ctx}"
        );
        // No window ever held more sends than the limit.
        for t in &m.sends {
            assert!(
                in_window(&m.sends, *t, policy.send_window) <= policy.max_sends as usize,
                "{ctx}"
            );
        }
        assert_eq!(
            fx.outbox.len(),
            m.sends.len(),
            "{ctx}: a text went unaccounted for"
        );
    }
    esr.verify_audit(v).unwrap();
}

// ===== the subscription ==========================================================================

const CERT: &str = "297 Core Skills - NHS Conflict Resolution - 3 Years";
const COURSES: [(&str, ComponentKind); 3] = [
    ("Part 1", ComponentKind::Course),
    ("Part 2", ComponentKind::Course),
    ("eAssessment", ComponentKind::EAssessment),
];
const CLASSES: [&str; 2] = ["e-Learning", "Classroom"];

#[derive(Debug, Clone)]
enum SubOp {
    Subscribe,
    Unsubscribe,
    Enrol(usize, usize),
    Play(usize, PlayResult),
    /// Learning reported outside the certification flow.
    Report(usize, PlayResult),
    AdvanceDays(u32),
}

fn play_result() -> impl Strategy<Value = PlayResult> {
    prop_oneof![
        1 => (0u8..=100).prop_map(PlayResult::Progress),
        3 => Just(PlayResult::Completed),
        3 => (0u8..=100).prop_map(PlayResult::Passed),
        1 => (0u8..=100).prop_map(PlayResult::Failed),
    ]
}

fn sub_op() -> impl Strategy<Value = SubOp> {
    prop_oneof![
        2 => Just(SubOp::Subscribe),
        1 => Just(SubOp::Unsubscribe),
        4 => (0usize..3, 0usize..2).prop_map(|(c, k)| SubOp::Enrol(c, k)),
        3 => (0usize..3, play_result()).prop_map(|(c, r)| SubOp::Play(c, r)),
        // The result that completes the component (Completed for a course, Passed for the
        // eAssessment), so that sequences reach awards and renewals.
        5 => (0usize..3, 50u8..=100).prop_map(|(c, score)| SubOp::Play(c, match COURSES[c].1 {
            ComponentKind::Course => PlayResult::Completed,
            ComponentKind::EAssessment => PlayResult::Passed(score),
        })),
        1 => (0usize..3, play_result()).prop_map(|(c, r)| SubOp::Report(c, r)),
        3 => (0u32..=40).prop_map(SubOp::AdvanceDays),
    ]
}

/// Sequences of operations, with runs that enrol in every component or complete every one,
/// so that sequences reach awards and renewals.
fn sub_ops() -> impl Strategy<Value = Vec<SubOp>> {
    let all = |f: fn(usize) -> SubOp| (0..3).map(f).collect::<Vec<_>>();
    prop::collection::vec(
        prop_oneof![
            8 => sub_op().prop_map(|o| vec![o]),
            1 => Just(all(|c| SubOp::Enrol(c, 0))),
            1 => Just(all(|c| SubOp::Play(c, match COURSES[c].1 {
                ComponentKind::Course => PlayResult::Completed,
                ComponentKind::EAssessment => PlayResult::Passed(90),
            }))),
        ],
        1..40,
    )
    .prop_map(|runs| runs.into_iter().flatten().collect())
}

fn short_certification(v: VpdCode, renewable: bool) -> Certification {
    Certification {
        vpd: v,
        name: CERT.into(),
        competence: cstf("NHS Conflict Resolution (England) - 3 Years").unwrap(),
        level: CompetenceLevel::assessed(),
        validity_days: 60,
        completion_window_days: 30,
        renewal: renewable.then_some(Renewal {
            window_days: 20,
            base: ExpiryBase::PreviousExpiry,
        }),
        mandatory: true,
        components: COURSES
            .iter()
            .map(|(c, kind)| Component {
                course: (*c).into(),
                kind: *kind,
                classes: CLASSES.iter().map(|s| (*s).into()).collect(),
            })
            .collect(),
        completion_rule: CompletionRule::AllComponents,
    }
}

/// What of the learner's a learning operation may touch.
#[derive(Debug, PartialEq)]
struct Learning {
    subscriptions: Vec<SubscriptionView>,
    records: Vec<CompetenceRecord>,
    audit_len: usize,
}

fn learning(fx: &Fixture, e: &EmployeeNumber) -> Learning {
    let v = fx.vpd();
    Learning {
        subscriptions: fx.esr.subscriptions(&system(), v, e).unwrap(),
        records: fx.esr.competence_records(&system(), v, e).unwrap(),
        audit_len: fx.audit(v).len(),
    }
}

fn kind(s: Option<&Subscription>) -> &'static str {
    match s.map(|s| s.state) {
        None => "none",
        Some(SubscriptionState::InProgress) => "in progress",
        Some(SubscriptionState::Certified) => "certified",
        Some(SubscriptionState::Cancelled(_)) => "cancelled",
    }
}

/// The name of a transition, for the counts.
fn transition(from: &str, to: &str) -> &'static str {
    match (from, to) {
        ("none", "in progress") => "none -> in progress",
        ("in progress", "certified") => "in progress -> certified",
        ("certified", "in progress") => "certified -> in progress",
        ("in progress", "cancelled") => "in progress -> cancelled",
        ("certified", "cancelled") => "certified -> cancelled",
        ("cancelled", "in progress") => "cancelled -> in progress",
        _ => "another transition",
    }
}

fn subscription_machine(renewable: bool, ops: &[SubOp], n: &mut Counts) {
    let fx = Fixture::new();
    let (esr, v) = (&fx.esr, fx.vpd());
    let emma = fx.staff("Emma", "Conroy", "Ward 5", None);
    let e = emma.employee().clone();
    let competence = cstf("NHS Conflict Resolution (England) - 3 Years").unwrap();
    esr.set_requirement(
        &system(),
        Requirement {
            vpd: v,
            target: RequirementTarget::Position(emma.assignment.position.clone()),
            competence: competence.clone(),
            essential: true,
            min_level: None,
        },
    )
    .unwrap();
    let cert = short_certification(v, renewable);
    esr.define_certification(&system(), cert.clone()).unwrap();
    let actor = system();
    for (step, op) in ops.iter().enumerate() {
        let ctx = format!("step {step} {op:?}");
        let before = learning(&fx, &e);
        let sub_before = before.subscriptions.first().map(|s| s.subscription.clone());
        let status_before = before.subscriptions.first().map(|s| s.status);
        let (result, awarded): (std::result::Result<(), Error>, Option<CompetenceRecord>) = match op
        {
            SubOp::Subscribe => {
                let r = esr.subscribe(&actor, v, &e, CERT);
                let want = check_action(LearningAction::Subscribe, CERT, status_before);
                assert_eq!(
                    r.is_ok(),
                    want.is_ok(),
                    "{ctx}: {r:?} but the rules say {want:?}"
                );
                (r.map(|_| ()), None)
            }
            SubOp::Unsubscribe => {
                let r = esr.unsubscribe(&actor, v, &e, CERT);
                let want = check_action(LearningAction::Unsubscribe, CERT, status_before);
                assert_eq!(
                    r.is_ok(),
                    want.is_ok(),
                    "{ctx}: {r:?} but the rules say {want:?}"
                );
                (r.map(|_| ()), None)
            }
            SubOp::Enrol(c, k) => {
                let r = esr.enrol(&actor, v, &e, CERT, COURSES[*c].0, CLASSES[*k]);
                if check_enrol(&cert, status_before).is_err() {
                    assert!(r.is_err(), "{ctx}: enrolled against the rules: {r:?}");
                }
                (r.map(|_| ()), None)
            }
            SubOp::Play(c, res) => {
                let r = esr.play(&actor, v, &e, CERT, COURSES[*c].0, *res);
                if check_action(LearningAction::Play, CERT, status_before).is_err() {
                    assert!(r.is_err(), "{ctx}: played against the rules: {r:?}");
                }
                match r {
                    Ok(o) => (Ok(()), o.awarded),
                    Err(e) => (Err(e), None),
                }
            }
            SubOp::Report(c, res) => {
                match esr.record_learning(&actor, v, &e, COURSES[*c].0, *res) {
                    Ok(LearningOutcome::Recorded { outcome, .. }) => (Ok(()), outcome.awarded),
                    Ok(LearningOutcome::NotRecorded(_)) => {
                        // Reported explicitly and audited, but nothing of the learner's changes.
                        let after = learning(&fx, &e);
                        assert_eq!(after.subscriptions, before.subscriptions, "{ctx}");
                        assert_eq!(after.records, before.records, "{ctx}");
                        (Ok(()), None)
                    }
                    Err(e) => (Err(e), None),
                }
            }
            SubOp::AdvanceDays(d) => {
                fx.clock.advance(TimeDelta::days(i64::from(*d)));
                (Ok(()), None)
            }
        };
        let after = learning(&fx, &e);
        if let Err(err) = &result {
            assert!(
                after == before,
                "{ctx}: the refusal {err:?} changed the learner's state"
            );
        }
        let sub_after = after.subscriptions.first().map(|s| s.subscription.clone());
        // Only the allowed transitions of the stored state.
        let (from, to) = (kind(sub_before.as_ref()), kind(sub_after.as_ref()));
        let allowed = from == to
            || matches!(
                (from, to, op),
                ("none" | "cancelled", "in progress", SubOp::Subscribe)
                    | ("in progress" | "certified", "cancelled", SubOp::Unsubscribe)
                    | (
                        "in progress",
                        "certified",
                        SubOp::Play(..) | SubOp::Report(..)
                    )
                    | ("certified", "in progress", SubOp::Enrol(..))
            );
        assert!(allowed, "{ctx}: {from} -> {to}");
        if from != to {
            bump(n, transition(from, to));
        }
        if result.is_err() {
            bump(n, "refused");
        }
        if let (Some(a), Some(b)) = (&sub_before, &sub_after) {
            assert!(b.cycle >= a.cycle, "{ctx}: the cycle went back");
            // A new subscription after a cancellation starts without a certified period;
            // otherwise the period changes only with an award.
            let fresh = matches!(op, SubOp::Subscribe) && b.certified.is_none();
            if a.certified != b.certified && !fresh {
                let rec = awarded
                    .as_ref()
                    .unwrap_or_else(|| panic!("{ctx}: certified period changed without an award"));
                let p = b.certified.unwrap();
                assert_eq!(Some(p.expiry), rec.expiry, "{ctx}");
            }
        }
        if let Some(rec) = &awarded {
            assert_eq!(to, "certified", "{ctx}: an award without certification");
            assert!(
                rec.expiry.is_some_and(|x| x >= rec.achieved),
                "{ctx}: {rec:?}"
            );
            assert_eq!(after.records.len(), before.records.len() + 1, "{ctx}");
        } else {
            assert_eq!(
                after.records, before.records,
                "{ctx}: a record appeared without an award"
            );
        }
        if let Some(p) = sub_after.as_ref().and_then(|s| s.certified) {
            assert!(p.expiry >= p.completed, "{ctx}");
        }
        // Compliance reflects the award at once: the requirement's row is compliant exactly
        // while the newest award is in date.
        let s = fx.hscn(emma.username());
        let mine = esr.my_compliance(s, None).unwrap();
        esr.log_out(s).unwrap();
        let row = mine.assignments[0]
            .rows
            .iter()
            .find(|r| r.competence == competence)
            .unwrap();
        let today = esr.uk_today();
        let in_date = after
            .records
            .iter()
            .filter_map(|r| r.expiry)
            .max()
            .is_some_and(|x| x >= today);
        let compliant = matches!(
            row.status,
            Some(ComplianceStatus::Green | ComplianceStatus::Amber)
        );
        assert_eq!(compliant, in_date, "{ctx}: {row:?}");
        if !after.records.is_empty() && !in_date {
            bump(n, "award out of date");
        }
    }
    esr.verify_audit(v).unwrap();
}

#[test]
fn account_lifecycle_follows_the_rules() {
    run(
        100,
        prop::collection::vec(account_op(), 1..40),
        |ops, n| account_machine(ops, n),
        &[
            "locked by failures",
            "refused while locked",
            "logged in",
            "no internet access",
            "admin unlock",
            "link used to reset",
            "link used to unlock",
            "link already used",
            "link expired",
            "link superseded",
            "link for the other purpose",
            "wrong link secret",
            "link send limited",
            "weak password",
        ],
    );
}

#[test]
fn passcode_challenges_follow_the_rules() {
    run(
        100,
        prop::collection::vec(code_op(), 1..50),
        |ops, n| passcode_machine(ops, n),
        &[
            "approved upgrade",
            "approved registration",
            "wrong code",
            "too many attempts",
            "expired",
            "superseded",
            "already used",
            "unknown challenge",
            "step-up locked",
            "locked outcome",
            "lock cleared",
            "too many sends",
            "too soon",
            "already upgraded",
            "no mobile",
        ],
    );
}

#[test]
fn subscriptions_follow_the_rules() {
    run(
        100,
        (any::<bool>(), sub_ops()),
        |(renewable, ops), n| subscription_machine(*renewable, ops, n),
        &[
            "none -> in progress",
            "in progress -> certified",
            "certified -> in progress",
            "in progress -> cancelled",
            "certified -> cancelled",
            "cancelled -> in progress",
            "refused",
            "award out of date",
        ],
    );
}
