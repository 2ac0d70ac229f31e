//! Properties of one-time passcodes over random sequences of issues, resends, verifications and
//! clock moves: at most one verification of a challenge succeeds, nothing verifies at or after
//! its expiry, no expiry ever moves, the session is upgraded exactly when a code was approved,
//! and nothing is approved once step-up is locked.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::chrono::{DateTime, TimeDelta, Utc};
use esr_core::{passcode::*, store::*, urp::*, values::*, *};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use std::cell::Cell;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
enum Op {
    /// Ask for an upgrade code.
    Issue,
    /// "Code not received" on the n-th challenge (modulo how many there are).
    Resend(usize),
    /// The n-th challenge's own code.
    VerifyRight(usize),
    /// A wrong code for the n-th challenge.
    VerifyWrong(usize),
    /// The n-th challenge answered with the m-th challenge's code (an old text, say).
    VerifyWithCodeOf(usize, usize),
    /// Move the clock on by this many seconds.
    Advance(i64),
    /// Move the clock to the n-th challenge's expiry, or a millisecond before it.
    ToExpiry(usize, bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Issue),
        2 => any::<usize>().prop_map(Op::Resend),
        3 => any::<usize>().prop_map(Op::VerifyRight),
        3 => any::<usize>().prop_map(Op::VerifyWrong),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Op::VerifyWithCodeOf(a, b)),
        3 => (0i64..=700).prop_map(Op::Advance),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(i, exact)| Op::ToExpiry(i, exact)),
    ]
}

/// The model's view of a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Approved,
    Superseded,
    Dead,
}

#[derive(Debug)]
struct Model {
    id: ChallengeId,
    code: String,
    expires_at: DateTime<Utc>,
    state: State,
    attempts: u32,
}

impl Model {
    fn status_at(&self, now: DateTime<Utc>) -> ChallengeStatus {
        match self.state {
            State::Pending if now >= self.expires_at => ChallengeStatus::Expired,
            State::Pending => ChallengeStatus::Pending,
            State::Approved => ChallengeStatus::Approved,
            State::Superseded => ChallengeStatus::Superseded,
            State::Dead => ChallengeStatus::MaxAttemptsReached,
        }
    }
}

/// Limits loose enough not to dominate a sequence.
fn relaxed() -> PasscodePolicy {
    PasscodePolicy {
        max_sends: 100,
        min_resend_interval: TimeDelta::zero(),
        max_failures: 100,
        ..PasscodePolicy::default()
    }
}

/// A code of the same shape that is not `code`.
fn wrong(code: &str) -> String {
    let mut b = code.as_bytes().to_vec();
    let last = b.len() - 1;
    b[last] = if b[last] == b'9' { b'0' } else { b[last] + 1 };
    String::from_utf8(b).unwrap()
}

/// A family name of letters only, different for each `n`, so usernames never run out.
fn family(mut n: u32) -> String {
    let mut s = String::new();
    loop {
        s.push(char::from(b'a' + u8::try_from(n % 26).unwrap()));
        n /= 26;
        if n == 0 {
            break;
        }
    }
    let mut s = s.to_uppercase();
    s.push_str("son");
    s
}

/// A fresh manager who can upgrade over the internet, with a number of their own (so that
/// cases never share send budgets), and an internet session.
fn fresh_manager(fx: &Fixture, n: &Cell<u32>) -> (Staff, MobileNumber, SessionId) {
    let i = n.get();
    n.set(i + 1);
    let m = fx.staff("Maria", &family(i), "Ward 5", None);
    fx.grant(
        m.username(),
        Urp::ManagerSelfServicePayrollApprovalsNotRequired,
        GrantScope::WholeTrust,
    );
    let number: MobileNumber = format!("07700 900{:03}", i % 1000).parse().unwrap();
    let (v, e, num) = (m.person.vpd, m.employee().clone(), number.clone());
    fx.esr
        .store()
        .transaction(|tx| {
            let mut p = tx.person(v, &e)?.unwrap();
            p.mobile = Some(num.clone());
            tx.put_person(&p)
        })
        .unwrap();
    let s = fx.internet(m.username()).unwrap().id;
    (m, number, s)
}

/// 64 cases; failures are reported with their shrunk sequence (there is no source file for
/// proptest to persist them next to, as the runner is driven by hand to share one fixture).
fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(64)
    }
}

fn pick(n: usize, len: usize) -> Option<usize> {
    (len > 0).then(|| n % len)
}

#[test]
fn at_most_one_approval_per_challenge_never_after_expiry_and_no_expiry_moves() {
    let fx = Fixture::builder()
        .settings(settings(true, true, false))
        .passcodes(relaxed())
        .build();
    let counter = Cell::new(0);
    let approved_cases = Cell::new(0u32);
    let mut runner = TestRunner::new(config());
    let result = runner.run(&prop::collection::vec(op(), 1..40), |ops| {
        let (_m, number, s) = fresh_manager(&fx, &counter);
        let mut model: Vec<Model> = Vec::new();
        let mut approvals: BTreeMap<ChallengeId, u32> = BTreeMap::new();
        let mut upgraded = false;
        for (step, op) in ops.iter().enumerate() {
            let now = fx.clock.now();
            let ctx = format!("step {step} {op:?}");
            let issued = |r: Result<PasscodeChallenge>, model: &mut Vec<Model>| {
                let c = r.unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
                assert_eq!(c.issued_at, now);
                assert_eq!(c.expires_at, now + TimeDelta::minutes(10));
                assert_eq!(c.status, ChallengeStatus::Pending);
                for old in model.iter_mut() {
                    if old.state == State::Pending && now < old.expires_at {
                        old.state = State::Superseded;
                    }
                }
                model.push(Model {
                    id: c.id,
                    code: fx.outbox.last_code_to(&number).unwrap(),
                    expires_at: c.expires_at,
                    state: State::Pending,
                    attempts: 0,
                });
            };
            match op {
                Op::Issue => {
                    let r = fx.esr.request_upgrade_code(s);
                    if upgraded {
                        assert_eq!(r, Err(Error::AlreadyUpgraded), "{ctx}");
                    } else {
                        issued(r, &mut model);
                    }
                }
                Op::Resend(i) => {
                    let Some(i) = pick(*i, model.len()) else {
                        continue;
                    };
                    let r = fx.esr.resend_passcode(s, &model[i].id);
                    if model[i].state == State::Approved {
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
                    } else if upgraded {
                        assert_eq!(r, Err(Error::AlreadyUpgraded), "{ctx}");
                    } else {
                        issued(r, &mut model);
                    }
                }
                Op::VerifyRight(_) | Op::VerifyWrong(_) | Op::VerifyWithCodeOf(..) => {
                    let (i, code) = match *op {
                        Op::VerifyRight(i) => {
                            let Some(i) = pick(i, model.len()) else {
                                continue;
                            };
                            (i, model[i].code.clone())
                        }
                        Op::VerifyWrong(i) => {
                            let Some(i) = pick(i, model.len()) else {
                                continue;
                            };
                            (i, wrong(&model[i].code))
                        }
                        Op::VerifyWithCodeOf(i, j) => {
                            let (Some(i), Some(j)) = (pick(i, model.len()), pick(j, model.len()))
                            else {
                                continue;
                            };
                            (i, model[j].code.clone())
                        }
                        _ => unreachable!(),
                    };
                    let out = fx
                        .esr
                        .verify_passcode(s, &model[i].id, Purpose::UpgradeSession, &code)
                        .unwrap();
                    let c = &mut model[i];
                    let expected = match c.status_at(now) {
                        ChallengeStatus::Approved => VerifyOutcome::AlreadyUsed,
                        ChallengeStatus::Superseded => VerifyOutcome::Superseded,
                        ChallengeStatus::Expired => VerifyOutcome::Expired,
                        ChallengeStatus::MaxAttemptsReached => VerifyOutcome::TooManyAttempts,
                        ChallengeStatus::Pending if code == c.code => {
                            c.state = State::Approved;
                            upgraded = true;
                            out.clone()
                        }
                        ChallengeStatus::Pending => {
                            c.attempts += 1;
                            if c.attempts == 5 {
                                c.state = State::Dead;
                            }
                            VerifyOutcome::WrongCode {
                                attempts_left: 5 - c.attempts,
                            }
                        }
                    };
                    if out.is_approved() {
                        *approvals.entry(c.id).or_default() += 1;
                        assert_eq!(approvals[&c.id], 1, "{ctx}: approved twice");
                        assert!(now < c.expires_at, "{ctx}: approved at or after expiry");
                        assert!(
                            matches!(&out, VerifyOutcome::Approved(Approved::SessionUpgraded(up)) if up.id == s),
                            "{ctx}: {out:?}"
                        );
                    }
                    assert_eq!(out, expected, "{ctx}");
                }
                Op::Advance(secs) => fx.clock.advance(TimeDelta::seconds(*secs)),
                Op::ToExpiry(i, exact) => {
                    let Some(i) = pick(*i, model.len()) else {
                        continue;
                    };
                    let mut to = model[i].expires_at;
                    if !exact {
                        to -= TimeDelta::milliseconds(1);
                    }
                    if to > now {
                        fx.clock.set(to);
                    }
                }
            }
            // After every step: each challenge's expiry is where it was at issue, its status
            // is the model's, and the session is upgraded exactly when a code was approved.
            let now = fx.clock.now();
            for c in &model {
                let st = fx.esr.passcode_status(s, &c.id).unwrap();
                assert_eq!(st.expires_at, c.expires_at, "{ctx}: an expiry moved");
                assert_eq!(st.status, c.status_at(now), "{ctx}");
                assert_eq!(st.attempts_left, 5 - c.attempts, "{ctx}");
            }
            assert_eq!(
                fx.esr.session(s).unwrap().is_upgraded(),
                !approvals.is_empty(),
                "{ctx}"
            );
        }
        assert!(approvals.len() <= 1, "one session is upgraded at most once");
        if !approvals.is_empty() {
            approved_cases.set(approved_cases.get() + 1);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The sequences reach approvals, so the properties are not vacuous.
    assert!(approved_cases.get() > 0);
}

#[derive(Debug, Clone)]
enum LockOp {
    Issue,
    Resend(usize),
    VerifyRight(usize),
    VerifyWrong(usize),
    /// This many wrong codes in a row for the newest challenge (as a guesser would).
    VerifyWrongNewest(u32),
    Advance(i64),
    /// Log in again over the internet (an upgraded session cannot ask for codes).
    NewSession,
}

fn lock_op() -> impl Strategy<Value = LockOp> {
    prop_oneof![
        2 => Just(LockOp::Issue),
        2 => any::<usize>().prop_map(LockOp::Resend),
        1 => any::<usize>().prop_map(LockOp::VerifyRight),
        1 => any::<usize>().prop_map(LockOp::VerifyWrong),
        6 => (1u32..=5).prop_map(LockOp::VerifyWrongNewest),
        3 => (0i64..=700).prop_map(LockOp::Advance),
        1 => Just(LockOp::NewSession),
    ]
}

#[test]
fn with_the_default_limits_nothing_is_approved_once_step_up_is_locked() {
    let fx = Fixture::builder()
        .settings(settings(true, true, false))
        .build();
    let counter = Cell::new(0);
    let locked_cases = Cell::new(0u32);
    let mut runner = TestRunner::new(config());
    let result = runner.run(&prop::collection::vec(lock_op(), 30..60), |ops| {
        let (m, number, first) = fresh_manager(&fx, &counter);
        let mut session = first;
        // (session, id, code) of every challenge issued.
        let mut issued: Vec<(SessionId, ChallengeId, String)> = Vec::new();
        let mut failures = 0u32;
        let mut saw_locked = false;
        for (step, op) in ops.iter().enumerate() {
            let ctx = format!("step {step} {op:?}");
            let locked = failures >= 20;
            let sent = match op {
                LockOp::Issue => Some(fx.esr.request_upgrade_code(session)),
                LockOp::Resend(i) => pick(*i, issued.len()).map(|i| {
                    let (s, id, _) = &issued[i];
                    fx.esr.resend_passcode(*s, id)
                }),
                LockOp::VerifyRight(_) | LockOp::VerifyWrong(_) | LockOp::VerifyWrongNewest(_) => {
                    let (i, times) = match op {
                        LockOp::VerifyRight(i) | LockOp::VerifyWrong(i) => {
                            (pick(*i, issued.len()), 1)
                        }
                        LockOp::VerifyWrongNewest(n) => (issued.len().checked_sub(1), *n),
                        _ => unreachable!(),
                    };
                    let Some(i) = i else {
                        continue;
                    };
                    let (s, id, code) = &issued[i];
                    let code = match op {
                        LockOp::VerifyRight(_) => code.clone(),
                        _ => wrong(code),
                    };
                    for _ in 0..times {
                        let locked = failures >= 20;
                        let out = fx
                            .esr
                            .verify_passcode(*s, id, Purpose::UpgradeSession, &code)
                            .unwrap();
                        let after = fx.esr.account(m.username()).unwrap().passcode_failures;
                        if locked {
                            assert_eq!(out, VerifyOutcome::Locked, "{ctx}");
                        } else if after >= 20 {
                            assert_eq!(out, VerifyOutcome::Locked, "{ctx}: the locking guess");
                        } else {
                            assert_ne!(out, VerifyOutcome::Locked, "{ctx}");
                        }
                        match out {
                            VerifyOutcome::Locked => saw_locked = true,
                            VerifyOutcome::Approved(_) => {
                                assert!(!saw_locked, "{ctx}: approved after a Locked");
                                // An approval does not reset the count.
                                assert_eq!(after, failures, "{ctx}");
                            }
                            VerifyOutcome::WrongCode { .. } => {
                                assert_eq!(after, failures + 1, "{ctx}")
                            }
                            // The guess that kills a challenge counts; later ones do not.
                            VerifyOutcome::TooManyAttempts => {
                                assert!(after == failures || after == failures + 1, "{ctx}")
                            }
                            _ => assert_eq!(after, failures, "{ctx}"),
                        }
                        failures = after;
                    }
                    None
                }
                LockOp::Advance(secs) => {
                    fx.clock.advance(TimeDelta::seconds(*secs));
                    // Each step is under the 30-minute idle timeout; using the sessions keeps
                    // them open (this property is about step-up, not sessions).
                    for (s, _, _) in &issued {
                        let _ = fx.esr.session(*s);
                    }
                    let _ = fx.esr.session(session);
                    None
                }
                LockOp::NewSession => {
                    session = fx.internet(m.username()).unwrap().id;
                    None
                }
            };
            if let Some(r) = sent {
                match r {
                    Ok(c) => {
                        assert!(!locked, "{ctx}: a code was sent while step-up is locked");
                        let s = match op {
                            LockOp::Resend(i) => issued[i % issued.len()].0,
                            _ => session,
                        };
                        issued.push((s, c.id, fx.outbox.last_code_to(&number).unwrap()));
                    }
                    Err(
                        Error::AlreadyUpgraded
                        | Error::TooManySends { .. }
                        | Error::ResendTooSoon { .. }
                        | Error::InvalidInput {
                            what: "challenge", ..
                        },
                    ) => {}
                    Err(Error::StepUpLocked(u)) => {
                        assert!(locked, "{ctx}: locked too soon");
                        assert_eq!(&u, m.username());
                    }
                    Err(e) => panic!("{ctx}: {e:?}"),
                }
            }
            let acc = fx.esr.account(m.username()).unwrap();
            assert_eq!(acc.step_up_locked, failures >= 20, "{ctx}");
            assert_eq!(acc.passcode_failures, failures, "{ctx}");
        }
        if failures >= 20 {
            locked_cases.set(locked_cases.get() + 1);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Enough sequences reach the lock for the property to mean something.
    assert!(locked_cases.get() > 0, "no sequence locked step-up");
}
