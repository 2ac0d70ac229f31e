//! The service's certification and enrolment operations: defining certifications; subscribing,
//! enrolling, playing and unsubscribing; the award of the competence when the completion rule is
//! met (through the compliance code, in the same transaction, so compliance changes at once);
//! learning reported without a subscription; My e-Learning.
//!
//! Who may act: defining a certification needs Learning administration. A learner acts on their
//! own learning with My e-Learning (self-service); acting on someone else's learning (an
//! administrator enrolling a member of staff) needs Learning administration, the function of
//! Local Learning Administration ("certifications, classes and enrolments"). A system actor (an
//! e-learning content feed) is trusted and named in the audit trail.

use crate::access::{AccessDecision, decide};
use crate::audit::{AuditActor, AuditEvent};
use crate::compliance::{
    CompetenceName, CompetenceOwner, CompetenceRecord, NewCompetenceRecord, RecordExpiry,
};
use crate::compliance::{active_competence, record_competence_in};
use crate::error::{Error, Result};
use crate::learning::exact_text;
use crate::learning::{
    Allowed, Certification, CertificationPath, CertifiedPeriod, ComponentKind, ComponentStatus,
    Enrolment, LearningAction, MY_ELEARNING_LIMIT, NotRecordedReason, Performance, PlayResult,
    Subscription, SubscriptionState, SubscriptionStatus, award_expiry, check_action, check_enrol,
    completion_met, plus_days, subscription_status,
};
use crate::service::permitted;
use crate::service::{
    Actor, Esr, audit, context, person_of, session_context, trust_of, user_actor,
};
use crate::store::{Store, StoreTx};
use crate::urp::Function;
use crate::values::Clock;
use crate::values::format_esr_date;
use crate::values::uk_date;
use crate::values::{EmployeeNumber, SessionId, VpdCode};
use chrono::{DateTime, Utc};

/// A subscription as the learner sees it: its status computed for today, and the components of
/// its current cycle.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SubscriptionView {
    /// The stored subscription.
    pub subscription: Subscription,
    /// Its status today.
    pub status: SubscriptionStatus,
    /// The enrolments of the current cycle, in the certification's component order.
    pub enrolments: Vec<Enrolment>,
}

/// What playing a component did.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PlayOutcome {
    /// The enrolment after the result.
    pub enrolment: Enrolment,
    /// The competence record created when this result met the completion rule.
    pub awarded: Option<CompetenceRecord>,
}

/// What became of learning reported by [`Esr::record_learning`]: recorded against a
/// certification, or explicitly not recorded, with the reason (never silently dropped).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum LearningOutcome {
    /// Recorded against this certification.
    Recorded {
        /// The certification.
        certification: String,
        /// What it did.
        outcome: Box<PlayOutcome>,
    },
    /// Not recorded against any certification (and audited as such).
    NotRecorded(NotRecordedReason),
}

impl<S: Store, C: Clock> Esr<S, C> {
    /// Defines a certification, or redefines one of the same name (needs Learning
    /// administration). Its competence must be active in the trust's catalogue; see
    /// [`Certification`] for what else is checked. Audited.
    pub fn define_certification(&self, actor: &Actor, certification: Certification) -> Result<()> {
        certification.check()?;
        let vpd = certification.vpd;
        if let CompetenceOwner::Local(owner) = certification.competence.owner()
            && owner != vpd
        {
            return Err(Error::CrossTrust {
                what: format!("competence {}", certification.competence),
                expected: vpd,
                found: owner,
            });
        }
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = crate::service::authorise(tx, actor, vpd, Function::AdministerLearning, now)?;
            trust_of(tx, vpd)?;
            active_competence(tx, vpd, &certification.competence)?;
            tx.put_certification(&certification)?;
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::CertificationDefined {
                    certification: certification.name.clone(),
                    competence: certification.competence.to_string(),
                    validity_days: u64::from(certification.validity_days),
                },
            )
        })
    }

    /// The trust's certifications, by name.
    pub fn certifications(&self, vpd: VpdCode) -> Result<Vec<Certification>> {
        crate::store::read_mostly(&self.store, |tx| {
            trust_of(tx, vpd)?;
            tx.certifications(vpd)
        })
    }

    /// Find Learning: the trust's certifications that award `competence`, by name.
    pub fn certifications_for(
        &self,
        vpd: VpdCode,
        competence: &CompetenceName,
    ) -> Result<Vec<Certification>> {
        Ok(self
            .certifications(vpd)?
            .into_iter()
            .filter(|c| c.competence == *competence)
            .collect())
    }

    /// Subscribes a learner to a certification: its certification path begins, due within its
    /// completion window. Refused when already subscribed (a cancelled subscription may be
    /// renewed by subscribing again, which starts afresh). Audited.
    pub fn subscribe(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        employee: &EmployeeNumber,
        certification: &str,
    ) -> Result<Subscription> {
        let now = self.clock.now();
        let today = uk_date(now);
        self.store.transaction(|tx| {
            let who = learner(tx, actor, vpd, employee, now)?;
            let cert = certification_of(tx, vpd, certification)?;
            let old = tx.subscription(vpd, employee, certification)?;
            let status = old.as_ref().map(|s| subscription_status(s, &cert, today));
            check_action(LearningAction::Subscribe, &cert.name, status)?;
            let sub = Subscription {
                vpd,
                employee_number: employee.clone(),
                certification: cert.name.clone(),
                subscribed_on: today,
                cycle: old.map_or(1, |o| o.cycle.saturating_add(1)),
                path: CertificationPath::Certification,
                due: plus_days(today, cert.completion_window_days)?,
                state: SubscriptionState::InProgress,
                certified: None,
                changed_at: now,
            };
            tx.put_subscription(&sub)?;
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::Subscribed {
                    subject: employee.clone(),
                    certification: cert.name.clone(),
                },
            )?;
            Ok(sub)
        })
    }

    /// Unsubscribes: the subscription is cancelled and nothing more is recorded or awarded
    /// against it (competences already awarded stay). Refused when not subscribed. Audited.
    pub fn unsubscribe(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        employee: &EmployeeNumber,
        certification: &str,
    ) -> Result<Subscription> {
        let now = self.clock.now();
        let today = uk_date(now);
        self.store.transaction(|tx| {
            let who = learner(tx, actor, vpd, employee, now)?;
            let cert = certification_of(tx, vpd, certification)?;
            let old = tx.subscription(vpd, employee, certification)?;
            let status = old.as_ref().map(|s| subscription_status(s, &cert, today));
            check_action(LearningAction::Unsubscribe, &cert.name, status)?;
            let Some(mut sub) = old else {
                return Err(Error::Storage("a checked subscription vanished".into()));
            };
            sub.state = SubscriptionState::Cancelled(today);
            sub.changed_at = now;
            tx.put_subscription(&sub)?;
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::Unsubscribed {
                    subject: employee.clone(),
                    certification: cert.name.clone(),
                },
            )?;
            Ok(sub)
        })
    }

    /// Enrols a subscribed learner in a class of a component ("Choose or Enrol in class"): the
    /// component is Planned and Not Attempted. Once a renewable certification's renewal window is
    /// open (or it has expired), enrolling begins the next cycle: the recertification path
    /// inside the window, the certification path after expiry. Refused when not subscribed,
    /// cancelled, certified with the window shut, expired and not renewable, or already enrolled
    /// in the component this cycle. Audited.
    pub fn enrol(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        employee: &EmployeeNumber,
        certification: &str,
        course: &str,
        class: &str,
    ) -> Result<Enrolment> {
        exact_text("course", course)?;
        exact_text("class", class)?;
        let now = self.clock.now();
        let today = uk_date(now);
        self.store.transaction(|tx| {
            let who = learner(tx, actor, vpd, employee, now)?;
            let cert = certification_of(tx, vpd, certification)?;
            let component = cert
                .component(course)
                .ok_or_else(|| Error::UnknownComponent {
                    certification: cert.name.clone(),
                    course: course.to_owned(),
                })?;
            if !component.classes.iter().any(|c| c == class) {
                return Err(Error::invalid(
                    "class",
                    format!(
                        "{course:?} has no class {class:?}; choose one of: {}",
                        component.classes.join(", ")
                    ),
                ));
            }
            let old = tx.subscription(vpd, employee, certification)?;
            let status = old.as_ref().map(|s| subscription_status(s, &cert, today));
            let allowed = check_enrol(&cert, status)?;
            let Some(mut sub) = old else {
                return Err(Error::Storage("a checked subscription vanished".into()));
            };
            if let Allowed::NewCycle(path) = allowed {
                sub.cycle = sub.cycle.saturating_add(1);
                sub.path = path;
                sub.state = SubscriptionState::InProgress;
                sub.due = match (path, sub.certified) {
                    (CertificationPath::Recertification, Some(p)) => p.expiry,
                    _ => plus_days(today, cert.completion_window_days)?,
                };
                sub.changed_at = now;
                tx.put_subscription(&sub)?;
            }
            if let Some(e) = cycle_enrolments(tx, &sub)?
                .into_iter()
                .find(|e| e.course == course)
            {
                return Err(Error::LearningRefused {
                    action: LearningAction::Enrol,
                    certification: cert.name.clone(),
                    state: format!(
                        "you are enrolled in {course} ({}) already, {}",
                        e.class, e.performance
                    ),
                    hint: "play it from the certification or My e-Learning".into(),
                });
            }
            let enrolment = Enrolment {
                vpd,
                employee_number: employee.clone(),
                certification: cert.name.clone(),
                cycle: sub.cycle,
                course: course.to_owned(),
                kind: component.kind,
                class: class.to_owned(),
                mandatory: cert.mandatory,
                enrolled_at: now,
                status: ComponentStatus::Planned,
                performance: Performance::NotAttempted,
                progress: 0,
                attempts: 0,
                score: None,
            };
            tx.put_enrolment(&enrolment)?;
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::Enrolled {
                    subject: employee.clone(),
                    certification: cert.name.clone(),
                    cycle: u64::from(sub.cycle),
                    course: course.to_owned(),
                    class: class.to_owned(),
                },
            )?;
            Ok(enrolment)
        })
    }

    /// Plays an enrolled component and records its result: progress saved (and resumable), a
    /// course Completed, an eAssessment Passed or Failed (and retried after Failed). When the
    /// result meets the certification's completion rule, the certification is complete: the
    /// competence is recorded with its expiry (by the expiry base rule) in the same transaction,
    /// so compliance reflects it at once. Every date is the UK local date. Audited.
    pub fn play(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        employee: &EmployeeNumber,
        certification: &str,
        course: &str,
        result: PlayResult,
    ) -> Result<PlayOutcome> {
        exact_text("course", course)?;
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = learner(tx, actor, vpd, employee, now)?;
            let cert = certification_of(tx, vpd, certification)?;
            let outcome = play_in(tx, who, &cert, employee, course, result, now)?;
            self.tell_awarded(tx, &cert, employee, &outcome, now)?;
            Ok(outcome)
        })
    }

    /// Learning reported for a course from outside a certification's page (an e-learning
    /// content feed, or the learner playing a course found in the catalogue). It is recorded
    /// against the first certification, by name, that has the course and whose subscription
    /// takes it; otherwise it is reported as [`LearningOutcome::NotRecorded`] with the reason,
    /// and audited as such: nothing is silently dropped.
    pub fn record_learning(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        employee: &EmployeeNumber,
        course: &str,
        result: PlayResult,
    ) -> Result<LearningOutcome> {
        exact_text("course", course)?;
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = learner(tx, actor, vpd, employee, now)?;
            let having: Vec<Certification> = tx
                .certifications(vpd)?
                .into_iter()
                .filter(|c| c.component(course).is_some())
                .collect();
            let mut reason = NotRecordedReason::NoCertification;
            let mut subscribed = false;
            for cert in &having {
                if tx.subscription(vpd, employee, &cert.name)?.is_none() {
                    continue;
                }
                match play_in(tx, who.clone(), cert, employee, course, result, now) {
                    Ok(outcome) => {
                        self.tell_awarded(tx, cert, employee, &outcome, now)?;
                        return Ok(LearningOutcome::Recorded {
                            certification: cert.name.clone(),
                            outcome: Box::new(outcome),
                        });
                    }
                    Err(e @ Error::LearningRefused { .. }) => {
                        if !subscribed {
                            reason = NotRecordedReason::Refused {
                                certification: cert.name.clone(),
                                why: e.to_string(),
                            };
                        }
                        subscribed = true;
                    }
                    Err(e) => return Err(e),
                }
            }
            if !subscribed && !having.is_empty() {
                reason = NotRecordedReason::NotSubscribed {
                    certifications: having.iter().map(|c| c.name.clone()).collect(),
                };
            }
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::LearningNotRecorded {
                    subject: employee.clone(),
                    course: course.to_owned(),
                    reason: reason.to_string(),
                },
            )?;
            Ok(LearningOutcome::NotRecorded(reason))
        })
    }

    /// A learner's subscriptions (cancelled included), each with its status today and the
    /// enrolments of its current cycle, by certification name. A user reading someone else's
    /// learning needs Learning administration, and the read is audited.
    pub fn subscriptions(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        employee: &EmployeeNumber,
    ) -> Result<Vec<SubscriptionView>> {
        let now = self.clock.now();
        let today = uk_date(now);
        crate::store::read_mostly(&self.store, |tx| {
            let (who, other) = learner_for(tx, actor, vpd, employee, now)?;
            if other {
                audit(
                    tx,
                    vpd,
                    now,
                    who,
                    AuditEvent::RecordViewed {
                        subject: employee.clone(),
                        basis: "Learning administration (learning)".to_owned(),
                    },
                )?;
            }
            let mut out = Vec::new();
            for sub in tx.subscriptions_of(vpd, employee)? {
                let cert = certification_of(tx, vpd, &sub.certification)?;
                let mut enrolments = cycle_enrolments(tx, &sub)?;
                enrolments.sort_by_key(|e| {
                    cert.components
                        .iter()
                        .position(|c| c.course == e.course)
                        .unwrap_or(usize::MAX)
                });
                out.push(SubscriptionView {
                    status: subscription_status(&sub, &cert, today),
                    subscription: sub,
                    enrolments,
                });
            }
            Ok(out)
        })
    }

    /// My e-Learning: the session's user's enrolments, most recent first, at most twenty
    /// ([`MY_ELEARNING_LIMIT`]); only mandatory learning when `mandatory_only`. Enrolments of a
    /// cancelled subscription, and unfinished ones of a superseded cycle, are not shown. Needs My
    /// e-Learning.
    pub fn my_elearning(&self, session: SessionId, mandatory_only: bool) -> Result<Vec<Enrolment>> {
        let now = self.clock.now();
        crate::store::read_mostly(&self.store, |tx| {
            let (s, _, acc, _) = permitted(tx, session, Function::ELearning, now)?;
            let vpd = s.vpd;
            let employee = acc.employee_number;
            // Enrolments of a cancelled subscription, and the unfinished ones of a superseded
            // cycle, can no longer be played: they are not shown.
            let current: Vec<(String, u32)> = tx
                .subscriptions_of(vpd, &employee)?
                .into_iter()
                .filter(|x| !matches!(x.state, SubscriptionState::Cancelled(_)))
                .map(|x| (x.certification, x.cycle))
                .collect();
            let shown = |e: &Enrolment| {
                current
                    .iter()
                    .any(|(c, cycle)| *c == e.certification && (*cycle == e.cycle || e.is_done()))
            };
            Ok(tx
                .enrolments_of(vpd, &employee)?
                .into_iter()
                .rev()
                .filter(|e| !mandatory_only || e.mandatory)
                .filter(|e| shown(e))
                .take(MY_ELEARNING_LIMIT)
                .collect())
        })
    }
}

/// Who may act on `employee`'s learning: themselves with My e-Learning, anyone else with
/// Learning administration; a system actor is trusted.
fn learner(
    tx: &mut dyn StoreTx,
    actor: &Actor,
    vpd: VpdCode,
    employee: &EmployeeNumber,
    now: DateTime<Utc>,
) -> Result<AuditActor> {
    Ok(learner_for(tx, actor, vpd, employee, now)?.0)
}

/// [`learner`], and whether the actor is a user acting on someone else's learning.
fn learner_for(
    tx: &mut dyn StoreTx,
    actor: &Actor,
    vpd: VpdCode,
    employee: &EmployeeNumber,
    now: DateTime<Utc>,
) -> Result<(AuditActor, bool)> {
    trust_of(tx, vpd)?;
    let mut other = false;
    let who = match actor {
        Actor::System(p) => AuditActor::System(p.clone()),
        Actor::Session(id) => {
            let (s, trust, acc, held) = session_context(tx, *id, now)?;
            if s.vpd != vpd {
                return Err(Error::CrossTrust {
                    what: format!("session of {}", s.username),
                    expected: vpd,
                    found: s.vpd,
                });
            }
            other = acc.employee_number != *employee;
            let function = if other {
                Function::AdministerLearning
            } else {
                Function::ELearning
            };
            if let AccessDecision::Denied(denial) =
                decide(function, &context(&s, &trust, &acc, &held))
            {
                return Err(Error::NotPermitted { function, denial });
            }
            user_actor(&s)
        }
    };
    person_of(tx, vpd, employee)?;
    Ok((who, other))
}

/// The certification named `name`: a name no certification could have (too long, control
/// characters, surrounding spaces) is refused as [`Error::InvalidInput`] before the lookup.
fn certification_of(tx: &dyn StoreTx, vpd: VpdCode, name: &str) -> Result<Certification> {
    exact_text("certification", name)?;
    tx.certification(vpd, name)?
        .ok_or_else(|| Error::UnknownCertification {
            vpd,
            name: name.to_owned(),
        })
}

/// The enrolments of the subscription's current cycle.
fn cycle_enrolments(tx: &dyn StoreTx, sub: &Subscription) -> Result<Vec<Enrolment>> {
    Ok(tx
        .enrolments_of(sub.vpd, &sub.employee_number)?
        .into_iter()
        .filter(|e| e.certification == sub.certification && e.cycle == sub.cycle)
        .collect())
}

impl<S: Store, C: Clock> Esr<S, C> {
    /// Tells the learner of a certification awarded by `outcome`, if it awarded one.
    fn tell_awarded(
        &self,
        tx: &mut dyn StoreTx,
        cert: &Certification,
        employee: &EmployeeNumber,
        outcome: &PlayOutcome,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if let Some(record) = &outcome.awarded {
            let about = match record.expiry {
                Some(e) => format!("{}: valid until {}", cert.name, format_esr_date(e)),
                None => cert.name.clone(),
            };
            self.raise(
                tx,
                cert.vpd,
                now,
                employee,
                crate::notify::NotificationKind::CertificationAwarded {
                    certification: cert.name.clone(),
                },
                about,
                None,
            )?;
        }
        Ok(())
    }
}

/// Plays a component inside a transaction: every check comes before the first write, so a
/// refusal writes nothing.
fn play_in(
    tx: &mut dyn StoreTx,
    who: AuditActor,
    cert: &Certification,
    employee: &EmployeeNumber,
    course: &str,
    result: PlayResult,
    now: DateTime<Utc>,
) -> Result<PlayOutcome> {
    let vpd = cert.vpd;
    let today = uk_date(now);
    if cert.component(course).is_none() {
        return Err(Error::UnknownComponent {
            certification: cert.name.clone(),
            course: course.to_owned(),
        });
    }
    let old = tx.subscription(vpd, employee, &cert.name)?;
    let status = old.as_ref().map(|s| subscription_status(s, cert, today));
    check_action(LearningAction::Play, &cert.name, status)?;
    let Some(mut sub) = old else {
        return Err(Error::Storage("a checked subscription vanished".into()));
    };
    let mut cycle = cycle_enrolments(tx, &sub)?;
    let Some(i) = cycle.iter().position(|e| e.course == course) else {
        return Err(Error::LearningRefused {
            action: LearningAction::Play,
            certification: cert.name.clone(),
            state: format!("you are not enrolled in {course} on this {}", sub.path),
            hint: "choose or enrol in a class first".into(),
        });
    };
    cycle[i].apply(result, today)?;
    let enrolment = cycle[i].clone();
    tx.put_enrolment(&enrolment)?;
    let performance = match enrolment.performance {
        Performance::InProgress => format!("In Progress, {}%", enrolment.progress),
        p => match enrolment.score {
            Some(s) => format!("{p}, score {s}%"),
            None => p.to_string(),
        },
    };
    let event = if enrolment.is_done() {
        AuditEvent::ComponentCompleted {
            subject: employee.clone(),
            certification: cert.name.clone(),
            course: course.to_owned(),
            performance,
        }
    } else {
        AuditEvent::LearningProgress {
            subject: employee.clone(),
            certification: cert.name.clone(),
            course: course.to_owned(),
            performance,
        }
    };
    audit(tx, vpd, now, who.clone(), event)?;
    let mut awarded = None;
    if enrolment.is_done() && completion_met(cert, &cycle) {
        let expiry = award_expiry(cert, sub.certified, today)?;
        // A passed eAssessment completes its course on its own: mark the courses done.
        for e in cycle.iter_mut().filter(|e| !e.is_done()) {
            if e.kind == ComponentKind::Course {
                e.status = ComponentStatus::Completed(today);
                tx.put_enrolment(e)?;
            }
        }
        let record = record_competence_in(
            tx,
            vpd,
            who.clone(),
            employee,
            NewCompetenceRecord {
                competence: cert.competence.clone(),
                achieved: today,
                expiry: RecordExpiry::On(expiry),
                level: cert.level.clone(),
            },
            today,
            now,
        )?;
        sub.state = SubscriptionState::Certified;
        sub.certified = Some(CertifiedPeriod {
            completed: today,
            expiry,
        });
        sub.changed_at = now;
        tx.put_subscription(&sub)?;
        audit(
            tx,
            vpd,
            now,
            who,
            AuditEvent::CertificationAwarded {
                subject: employee.clone(),
                certification: cert.name.clone(),
                path: sub.path.to_string(),
                completed: format_esr_date(today),
                expiry: format_esr_date(expiry),
            },
        )?;
        awarded = Some(record);
    }
    Ok(PlayOutcome { enrolment, awarded })
}
