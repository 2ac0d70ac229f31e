//! Learning certifications and enrolment (DOMAIN.md, Certifications and enrolment): the model
//! and its pure rules, after Totara Learn's certifications.
//!
//! - A [`Certification`] awards a competence at a level. It is valid for a number of days, must
//!   be completed within a completion window, and is renewable or not: a renewable one has a
//!   [`Renewal`] window that opens a number of days before expiry and an [`ExpiryBase`].
//! - A learner's [`Subscription`] moves between stored states (working on a path, certified,
//!   cancelled); what a learner sees — subscribed, certified, renewal window open, expired,
//!   cancelled — is [`SubscriptionStatus`], computed from the stored state and the date when read,
//!   never by a scheduled job. [`check_action`] guards every transition.
//! - An [`Enrolment`] is one component (course or eAssessment) in one chosen class, for one
//!   cycle of the subscription: component status Planned → Completed, performance Not Attempted →
//!   In Progress → Completed / Passed / Failed, with progress saved and a retry after Failed.
//! - [`completion_met`] is the completion rule; [`award_expiry`] the expiry base rule.
//!
//! Every date is a UK local date ([`crate::values::uk_date`]).

use crate::compliance::{CompetenceLevel, CompetenceName};
use crate::error::{Error, Result};
use crate::values::limits::MAX_LEARNING_NAME_CHARS;
use crate::values::{EmployeeNumber, VpdCode, clean_text};
use chrono::{DateTime, Days, NaiveDate, Utc};
use std::collections::BTreeSet;
use std::fmt;

/// The longest validity, completion window or renewal window accepted, in days (ten years).
pub const MAX_LEARNING_DAYS: u32 = 3_660;
/// How many enrolments My e-Learning shows at most.
pub const MY_ELEARNING_LIMIT: usize = 20;

/// A component of a certification: a course, or an eAssessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ComponentKind {
    /// A course (`297 NHS Conflict Resolution - Part 1`): done when Completed.
    Course,
    /// An eAssessment: done only when Passed (completing it without passing is not enough).
    EAssessment,
}

impl fmt::Display for ComponentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Course => "course",
            Self::EAssessment => "eAssessment",
        })
    }
}

/// One component of a certification, with the classes a learner can choose from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Component {
    /// The course's name, unique within the certification (`297 NHS Conflict Resolution - Part 1`).
    pub course: String,
    /// Course or eAssessment.
    pub kind: ComponentKind,
    /// The classes offered (`e-Learning`, `Classroom, 12 January`); at least one.
    pub classes: Vec<String>,
}

/// When a certification is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum CompletionRule {
    /// Every component: each course Completed, each eAssessment Passed.
    #[default]
    AllComponents,
    /// As [`CompletionRule::AllComponents`], except that a passed eAssessment completes its
    /// course on its own ("if you pass, you do not need to complete this session"): passing
    /// every eAssessment completes the certification.
    PassedAssessmentCompletesCourse,
}

/// Where a renewed certification's expiry is counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ExpiryBase {
    /// Always from the completion date.
    #[default]
    CompletionDate,
    /// From the previous expiry when renewed inside the window, so the anniversary is kept
    /// (Totara's "use certification expiry date"); from the completion date when renewed after
    /// expiry.
    PreviousExpiry,
}

/// How a renewable certification is renewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Renewal {
    /// The renewal window opens this many days before expiry (1 up to the validity).
    pub window_days: u32,
    /// Where the renewed expiry is counted from.
    pub base: ExpiryBase,
}

/// A learning certification of a trust (`297 Core Skills - NHS Conflict Resolution - 3 Years`).
/// Keyed by trust and name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Certification {
    /// The trust.
    pub vpd: VpdCode,
    /// The name (the key within the trust).
    pub name: String,
    /// The competence awarded on completion.
    pub competence: CompetenceName,
    /// The level awarded (`1 - Assessed`).
    pub level: CompetenceLevel,
    /// "Completed certification is valid for N Day(s)": the award expires this many days after
    /// its base date.
    pub validity_days: u32,
    /// "You must complete this certification in N Day(s)": counted from subscribing, or from
    /// enrolling again after an expiry. A renewal inside the window is due by the current
    /// award's expiry.
    pub completion_window_days: u32,
    /// `None`: not renewable.
    pub renewal: Option<Renewal>,
    /// Whether it is mandatory learning (the My e-Learning filter).
    pub mandatory: bool,
    /// Its components, in the order shown.
    pub components: Vec<Component>,
    /// When it is complete.
    pub completion_rule: CompletionRule,
}

impl Certification {
    /// The component for this course.
    pub fn component(&self, course: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.course == course)
    }

    /// Checks the definition: names are one line of at most
    /// [`MAX_LEARNING_NAME_CHARS`] characters, periods from 1 to [`MAX_LEARNING_DAYS`] days, the
    /// renewal window no longer than the validity, at least one component, course names unique,
    /// each component with at least one class, and an eAssessment when a passed eAssessment is
    /// to complete the certification.
    pub(crate) fn check(&self) -> Result<()> {
        exact_text("certification name", &self.name)?;
        for (what, days) in [
            ("validity", self.validity_days),
            ("completion window", self.completion_window_days),
        ] {
            if !(1..=MAX_LEARNING_DAYS).contains(&days) {
                return Err(Error::invalid(
                    what,
                    format!("it must be from 1 to {MAX_LEARNING_DAYS} days"),
                ));
            }
        }
        if let Some(r) = self.renewal
            && !(1..=self.validity_days).contains(&r.window_days)
        {
            return Err(Error::invalid(
                "renewal window",
                format!(
                    "it opens {} days before expiry; it must be from 1 day up to the validity ({} days)",
                    r.window_days, self.validity_days
                ),
            ));
        }
        if self.components.is_empty() {
            return Err(Error::invalid(
                "certification components",
                "a certification needs at least one course or eAssessment",
            ));
        }
        let mut seen = BTreeSet::new();
        for c in &self.components {
            exact_text("course name", &c.course)?;
            if !seen.insert(c.course.as_str()) {
                return Err(Error::invalid(
                    "certification components",
                    format!("the course {:?} appears twice; name each once", c.course),
                ));
            }
            if c.classes.is_empty() {
                return Err(Error::invalid(
                    "classes",
                    format!("{:?} offers no class; offer at least one", c.course),
                ));
            }
            for class in &c.classes {
                exact_text("class name", class)?;
            }
        }
        if self.completion_rule == CompletionRule::PassedAssessmentCompletesCourse
            && !self
                .components
                .iter()
                .any(|c| c.kind == ComponentKind::EAssessment)
        {
            return Err(Error::invalid(
                "completion rule",
                "a passed eAssessment cannot complete a certification that has none; add one or use AllComponents",
            ));
        }
        Ok(())
    }
}

/// Checks a name is clean and given exactly (no surrounding spaces): what a certification's,
/// course's or class's name must be, so what a name looked up must be too.
pub(crate) fn exact_text(what: &'static str, s: &str) -> Result<()> {
    if clean_text(what, s, MAX_LEARNING_NAME_CHARS)? != s {
        return Err(Error::invalid(
            what,
            "it starts or ends with a space; remove it",
        ));
    }
    Ok(())
}

/// Which path a subscription is working on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum CertificationPath {
    /// The first certification (or again after an expiry).
    Certification,
    /// A renewal inside the window.
    Recertification,
}

impl fmt::Display for CertificationPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Certification => "certification path",
            Self::Recertification => "recertification path",
        })
    }
}

/// The state a subscription is stored in; what it looks like on a date is
/// [`SubscriptionStatus`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SubscriptionState {
    /// Working on a path: enrolling and playing components.
    InProgress,
    /// The last path was completed and the competence awarded ([`Subscription::certified`]).
    Certified,
    /// Unsubscribed on this date: nothing is recorded against it any more.
    Cancelled(NaiveDate),
}

/// One award of a certification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CertifiedPeriod {
    /// When the completion rule was met.
    pub completed: NaiveDate,
    /// The last day it is valid.
    pub expiry: NaiveDate,
}

/// A learner's subscription to a certification. Keyed by trust, employee number and
/// certification name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Subscription {
    /// The trust.
    pub vpd: VpdCode,
    /// The learner.
    pub employee_number: EmployeeNumber,
    /// The certification's name.
    pub certification: String,
    /// When (last) subscribed.
    pub subscribed_on: NaiveDate,
    /// The current cycle, from 1: each path taken (the first certification, each renewal) is one
    /// cycle, with its own enrolments.
    pub cycle: u32,
    /// The path of the current cycle.
    pub path: CertificationPath,
    /// The path is due to be completed by this date.
    pub due: NaiveDate,
    /// The stored state.
    pub state: SubscriptionState,
    /// The latest award, if any.
    pub certified: Option<CertifiedPeriod>,
    /// When it last changed.
    pub changed_at: DateTime<Utc>,
}

/// What a subscription looks like on a date, computed when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SubscriptionStatus {
    /// Subscribed and working on the certification path, due by `due` (`overdue` once past).
    Subscribed {
        /// Due date.
        due: NaiveDate,
        /// Whether the due date has passed.
        overdue: bool,
    },
    /// Certified, valid through `expiry`; a renewable one's window opens on `window_opens`.
    Certified {
        /// Valid through.
        expiry: NaiveDate,
        /// When the renewal window opens (`None`: not renewable).
        window_opens: Option<NaiveDate>,
    },
    /// Certified and inside the renewal window (renewing, when the recertification path has
    /// begun): still valid through `expiry`.
    RenewalWindowOpen {
        /// Valid through.
        expiry: NaiveDate,
        /// Whether the recertification path has begun (enrolled again).
        renewing: bool,
    },
    /// The award expired: the day after `expiry` onwards.
    Expired {
        /// The last day it was valid.
        expiry: NaiveDate,
        /// Whether a new path has begun (enrolled again).
        renewing: bool,
    },
    /// Unsubscribed.
    Cancelled {
        /// When.
        on: NaiveDate,
    },
}

impl fmt::Display for SubscriptionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::values::format_esr_date as d;
        match *self {
            Self::Subscribed { due, overdue } => {
                write!(f, "subscribed, due {}", d(due))?;
                if overdue {
                    f.write_str(" (overdue)")?;
                }
                Ok(())
            }
            Self::Certified { expiry, .. } => write!(f, "certified until {}", d(expiry)),
            Self::RenewalWindowOpen { expiry, renewing } => write!(
                f,
                "renewal window open, certified until {}{}",
                d(expiry),
                if renewing { " (renewing)" } else { "" }
            ),
            Self::Expired { expiry, renewing } => write!(
                f,
                "expired on {}{}",
                d(expiry),
                if renewing { " (recertifying)" } else { "" }
            ),
            Self::Cancelled { on } => write!(f, "cancelled on {}", d(on)),
        }
    }
}

/// The day `days` after `from`, or an error past the calendar's end.
pub(crate) fn plus_days(from: NaiveDate, days: u32) -> Result<NaiveDate> {
    from.checked_add_days(Days::new(u64::from(days)))
        .ok_or_else(|| Error::invalid("date", "it falls beyond the calendar's end"))
}

/// When the renewal window of an award expiring on `expiry` opens.
pub fn window_opens(renewal: &Renewal, expiry: NaiveDate) -> NaiveDate {
    expiry
        .checked_sub_days(Days::new(u64::from(renewal.window_days)))
        .unwrap_or(NaiveDate::MIN)
}

/// What `sub` looks like on `today` (never stored: computed when read).
pub fn subscription_status(
    sub: &Subscription,
    cert: &Certification,
    today: NaiveDate,
) -> SubscriptionStatus {
    let renewing = sub.state == SubscriptionState::InProgress;
    match (sub.state, sub.certified) {
        (SubscriptionState::Cancelled(on), _) => SubscriptionStatus::Cancelled { on },
        (_, Some(p)) if today > p.expiry => SubscriptionStatus::Expired {
            expiry: p.expiry,
            renewing,
        },
        (SubscriptionState::InProgress, Some(p)) => SubscriptionStatus::RenewalWindowOpen {
            expiry: p.expiry,
            renewing: true,
        },
        (SubscriptionState::Certified, Some(p)) => match cert.renewal {
            Some(r) if today >= window_opens(&r, p.expiry) => {
                SubscriptionStatus::RenewalWindowOpen {
                    expiry: p.expiry,
                    renewing: false,
                }
            }
            r => SubscriptionStatus::Certified {
                expiry: p.expiry,
                window_opens: r.map(|r| window_opens(&r, p.expiry)),
            },
        },
        // Working on the first path (a Certified state always has an award; treat one without
        // as in progress).
        (_, None) => SubscriptionStatus::Subscribed {
            due: sub.due,
            overdue: today > sub.due,
        },
    }
}

/// What a learner (or an administrator for them) asks of a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum LearningAction {
    /// Subscribe to the certification.
    Subscribe,
    /// Unsubscribe (cancel).
    Unsubscribe,
    /// Enrol in a class of a component.
    Enrol,
    /// Play a component: save progress, complete, pass or fail.
    Play,
}

impl fmt::Display for LearningAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Subscribe => "subscribe to",
            Self::Unsubscribe => "unsubscribe from",
            Self::Enrol => "enrol in",
            Self::Play => "play",
        })
    }
}

/// What an allowed action does to the subscription's cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    /// Nothing beyond the action itself.
    AsIs,
    /// Enrolling begins a new cycle on this path (a renewal in the window, or a new
    /// certification after expiry).
    NewCycle(CertificationPath),
}

/// The guard of every transition: whether `action` is allowed on a subscription in `status`
/// (`None`: not subscribed, or never), and if not, [`Error::LearningRefused`] saying what state
/// it was in and what to do.
pub fn check_action(
    action: LearningAction,
    certification: &str,
    status: Option<SubscriptionStatus>,
) -> Result<Allowed> {
    use crate::values::format_esr_date as d;
    use LearningAction as A;
    use SubscriptionStatus as S;
    let refuse = |state: String, hint: String| {
        Err(Error::LearningRefused {
            action,
            certification: certification.to_owned(),
            state: format!("the subscription is {state}"),
            hint,
        })
    };
    match (action, status) {
        (A::Subscribe, None | Some(S::Cancelled { .. })) => Ok(Allowed::AsIs),
        (A::Subscribe, Some(s)) => refuse(
            s.to_string(),
            "you are subscribed already; enrol in its components from the certification".into(),
        ),
        (_, None) => Err(Error::LearningRefused {
            action,
            certification: certification.to_owned(),
            state: "you are not subscribed to it".into(),
            hint: "subscribe to the certification first, or your learning will not be recorded"
                .into(),
        }),
        (_, Some(s @ S::Cancelled { .. })) => refuse(
            s.to_string(),
            "subscribe to it again to start a new certification path".into(),
        ),
        (A::Unsubscribe, Some(_)) => Ok(Allowed::AsIs),
        (A::Enrol | A::Play, Some(S::Subscribed { .. })) => Ok(Allowed::AsIs),
        (
            A::Enrol | A::Play,
            Some(S::RenewalWindowOpen { renewing: true, .. } | S::Expired { renewing: true, .. }),
        ) => Ok(Allowed::AsIs),
        (A::Enrol, Some(S::RenewalWindowOpen { .. })) => {
            Ok(Allowed::NewCycle(CertificationPath::Recertification))
        }
        // Whether a certification that is not renewable may be taken again: see `check_enrol`.
        (A::Enrol, Some(S::Expired { .. })) => {
            Ok(Allowed::NewCycle(CertificationPath::Certification))
        }
        (A::Play, Some(s @ (S::RenewalWindowOpen { .. } | S::Expired { .. }))) => refuse(
            s.to_string(),
            "enrol in the components again to begin the renewal, then play them".into(),
        ),
        (A::Enrol | A::Play, Some(s @ S::Certified { window_opens, .. })) => refuse(
            s.to_string(),
            match window_opens {
                Some(w) => format!("nothing to do until the renewal window opens on {}", d(w)),
                None => "it is not renewable; nothing more to do until it expires".into(),
            },
        ),
    }
}

/// [`check_action`] for enrolling, with the renewable rule: an expired certification that is
/// not renewable is not taken again on the same subscription.
pub fn check_enrol(cert: &Certification, status: Option<SubscriptionStatus>) -> Result<Allowed> {
    let allowed = check_action(LearningAction::Enrol, &cert.name, status)?;
    if let (Allowed::NewCycle(_), None, Some(s)) = (allowed, cert.renewal, status) {
        return Err(Error::LearningRefused {
            action: LearningAction::Enrol,
            certification: cert.name.clone(),
            state: format!("the subscription is {s}"),
            hint: "it is not renewable; unsubscribe and subscribe again to take it anew".into(),
        });
    }
    Ok(allowed)
}

/// A component's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ComponentStatus {
    /// Enrolled, not yet done.
    Planned,
    /// Done (on this date).
    Completed(NaiveDate),
}

impl fmt::Display for ComponentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Planned => f.write_str("Planned"),
            Self::Completed(_) => f.write_str("Completed"),
        }
    }
}

/// A component's performance status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Performance {
    /// Not started.
    NotAttempted,
    /// Started; progress is saved.
    InProgress,
    /// A course finished.
    Completed,
    /// An eAssessment passed.
    Passed,
    /// An eAssessment failed: it may be retried.
    Failed,
}

impl fmt::Display for Performance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotAttempted => "Not Attempted",
            Self::InProgress => "In Progress",
            Self::Completed => "Completed",
            Self::Passed => "Passed",
            Self::Failed => "Failed",
        })
    }
}

/// What playing a component reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PlayResult {
    /// The learner closed it part-way (the Home icon): progress saved, in percent (0–99).
    Progress(u8),
    /// A course finished (not valid for an eAssessment, which must be passed).
    Completed,
    /// An eAssessment passed, with its score in percent.
    Passed(u8),
    /// An eAssessment failed, with its score in percent.
    Failed(u8),
}

/// One component of one cycle of a subscription, in the class chosen. Keyed by trust, employee
/// number, certification, cycle and course.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Enrolment {
    /// The trust.
    pub vpd: VpdCode,
    /// The learner.
    pub employee_number: EmployeeNumber,
    /// The certification's name.
    pub certification: String,
    /// The subscription's cycle it belongs to.
    pub cycle: u32,
    /// The course.
    pub course: String,
    /// Course or eAssessment.
    pub kind: ComponentKind,
    /// The class chosen.
    pub class: String,
    /// Whether it is mandatory learning (from the certification).
    pub mandatory: bool,
    /// When enrolled.
    pub enrolled_at: DateTime<Utc>,
    /// Planned or Completed.
    pub status: ComponentStatus,
    /// Performance status.
    pub performance: Performance,
    /// Saved progress, in percent.
    pub progress: u8,
    /// How many times an eAssessment was attempted to a result.
    pub attempts: u32,
    /// The last eAssessment score, in percent.
    pub score: Option<u8>,
}

impl Enrolment {
    /// Whether the component is done (Completed).
    pub fn is_done(&self) -> bool {
        matches!(self.status, ComponentStatus::Completed(_))
    }

    /// Applies a play result on `today`: the performance transitions, with a clear error for a
    /// refused one. Saving progress keeps the best progress; a retry after Failed is allowed; a
    /// Completed or Passed component takes no more results.
    pub(crate) fn apply(&mut self, result: PlayResult, today: NaiveDate) -> Result<()> {
        let refuse = |hint: String| {
            Err(Error::LearningRefused {
                action: LearningAction::Play,
                certification: self.certification.clone(),
                state: format!("{} is {}", self.course, self.performance),
                hint,
            })
        };
        if matches!(
            self.performance,
            Performance::Completed | Performance::Passed
        ) {
            return refuse("it is done already; nothing more to record".into());
        }
        match (result, self.kind) {
            (PlayResult::Progress(p), _) => {
                if p > 99 {
                    return Err(Error::invalid(
                        "progress",
                        "it is a percentage from 0 to 99; report 100% as Completed or Passed",
                    ));
                }
                self.performance = Performance::InProgress;
                self.progress = self.progress.max(p);
            }
            (PlayResult::Completed, ComponentKind::Course) => {
                self.performance = Performance::Completed;
                self.progress = 100;
                self.status = ComponentStatus::Completed(today);
            }
            (PlayResult::Completed, ComponentKind::EAssessment) => {
                return refuse(
                    "an eAssessment is not passed by completing it; report Passed or Failed with the score".into(),
                );
            }
            (PlayResult::Passed(s) | PlayResult::Failed(s), _) if s > 100 => {
                return Err(Error::invalid("score", "it is a percentage from 0 to 100"));
            }
            (PlayResult::Passed(_) | PlayResult::Failed(_), ComponentKind::Course) => {
                return refuse(
                    "a course is completed, not passed or failed; report Completed".into(),
                );
            }
            (PlayResult::Passed(s), ComponentKind::EAssessment) => {
                self.performance = Performance::Passed;
                self.progress = 100;
                self.score = Some(s);
                self.attempts += 1;
                self.status = ComponentStatus::Completed(today);
            }
            (PlayResult::Failed(s), ComponentKind::EAssessment) => {
                self.performance = Performance::Failed;
                self.score = Some(s);
                self.attempts += 1;
                // A retry starts the assessment again.
                self.progress = 0;
            }
        }
        Ok(())
    }
}

/// Whether the completion rule of `cert` is met by the enrolments of one cycle.
pub fn completion_met(cert: &Certification, cycle: &[Enrolment]) -> bool {
    let state = |course: &str| cycle.iter().find(|e| e.course == course);
    let passed_all_assessments = cert
        .components
        .iter()
        .filter(|c| c.kind == ComponentKind::EAssessment)
        .all(|c| state(&c.course).is_some_and(|e| e.performance == Performance::Passed));
    match cert.completion_rule {
        CompletionRule::PassedAssessmentCompletesCourse => passed_all_assessments,
        CompletionRule::AllComponents => cert.components.iter().all(|c| {
            state(&c.course).is_some_and(|e| match c.kind {
                ComponentKind::Course => e.performance == Performance::Completed,
                ComponentKind::EAssessment => e.performance == Performance::Passed,
            })
        }),
    }
}

/// The expiry of an award completed on `completed`, given the previous award: counted from the
/// completion date, or, for [`ExpiryBase::PreviousExpiry`] when completed on or before the
/// previous expiry (inside the window), from the previous expiry. Never before `completed`.
pub fn award_expiry(
    cert: &Certification,
    previous: Option<CertifiedPeriod>,
    completed: NaiveDate,
) -> Result<NaiveDate> {
    let base = match (cert.renewal.map(|r| r.base), previous) {
        (Some(ExpiryBase::PreviousExpiry), Some(p)) if completed <= p.expiry => p.expiry,
        _ => completed,
    };
    plus_days(base, cert.validity_days)
}

/// Why learning was not recorded against any certification.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum NotRecordedReason {
    /// No certification of the trust has this course.
    NoCertification,
    /// Certifications have the course, but the learner subscribes to none of them.
    NotSubscribed {
        /// The certifications that have it, by name.
        certifications: Vec<String>,
    },
    /// Subscribed, but the subscription refuses it (cancelled, certified with the window shut,
    /// not enrolled in the course this cycle): the refusal's message.
    Refused {
        /// The certification.
        certification: String,
        /// Why, as the refusal says it.
        why: String,
    },
}

impl fmt::Display for NotRecordedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCertification => f.write_str("no certification includes this course"),
            Self::NotSubscribed { certifications } => write!(
                f,
                "not subscribed to a certification that includes it ({}); subscribe before playing the learning",
                certifications.join(", ")
            ),
            Self::Refused { certification, why } => write!(f, "{certification}: {why}"),
        }
    }
}

#[cfg(test)]
mod tests;
