//! Python shapes of certifications and enrolment: the definition (certification, components,
//! renewal), the learner's subscription and its status computed on read, enrolments, what
//! playing a component reports, and what became of learning reported without a certification.

use crate::types::{CompetenceRecord, parse, py_enum, record};
use esr_core::chrono::{DateTime, NaiveDate, Utc};
use esr_core::{VpdCode, compliance::CompetenceLevel};
use pyo3::prelude::*;

py_enum!(
    /// A component of a certification: a course, or an eAssessment.
    ComponentKind: esr_core::learning::ComponentKind {
        /// A course: done when Completed.
        Course = "COURSE",
        /// An eAssessment: done only when Passed.
        EAssessment = "E_ASSESSMENT",
    }
);
py_enum!(
    /// When a certification is complete.
    CompletionRule: esr_core::learning::CompletionRule {
        /// Every component: each course Completed, each eAssessment Passed.
        AllComponents = "ALL_COMPONENTS" => "all components",
        /// A passed eAssessment completes its course on its own.
        PassedAssessmentCompletesCourse = "PASSED_ASSESSMENT_COMPLETES_COURSE"
            => "a passed eAssessment completes its course",
    }
);
py_enum!(
    /// Where a renewed certification's expiry is counted from.
    ExpiryBase: esr_core::learning::ExpiryBase {
        /// Always from the completion date.
        CompletionDate = "COMPLETION_DATE" => "completion date",
        /// From the previous expiry when renewed inside the window (the anniversary is kept).
        PreviousExpiry = "PREVIOUS_EXPIRY" => "previous expiry",
    }
);
py_enum!(
    /// Which path a subscription is working on.
    CertificationPath: esr_core::learning::CertificationPath {
        /// The first certification, or again after an expiry.
        Certification = "CERTIFICATION",
        /// A renewal inside the window.
        Recertification = "RECERTIFICATION",
    }
);
py_enum!(
    /// A component's performance status.
    Performance: esr_core::learning::Performance {
        /// Not started.
        NotAttempted = "NOT_ATTEMPTED",
        /// Started; progress is saved.
        InProgress = "IN_PROGRESS",
        /// A course finished.
        Completed = "COMPLETED",
        /// An eAssessment passed.
        Passed = "PASSED",
        /// An eAssessment failed: it may be retried.
        Failed = "FAILED",
    }
);
py_enum!(
    /// A component's status (the date it was completed is Enrolment.completed_on).
    ComponentStatus {
        /// Enrolled, not yet done.
        Planned = "PLANNED" => "Planned",
        /// Done.
        Completed = "COMPLETED" => "Completed",
    }
);
py_enum!(
    /// The state a subscription is stored in (what it looks like today is SubscriptionStatus).
    SubscriptionState {
        /// Working on a path.
        InProgress = "IN_PROGRESS" => "in progress",
        /// The last path was completed and the competence awarded.
        Certified = "CERTIFIED" => "certified",
        /// Unsubscribed (on Subscription.cancelled_on).
        Cancelled = "CANCELLED" => "cancelled",
    }
);
py_enum!(
    /// The kind of a SubscriptionStatus.
    SubscriptionStatusKind {
        /// Working on the certification path.
        Subscribed = "SUBSCRIBED" => "subscribed",
        /// Certified, the renewal window not yet open.
        Certified = "CERTIFIED" => "certified",
        /// Certified and inside the renewal window.
        RenewalWindowOpen = "RENEWAL_WINDOW_OPEN" => "renewal window open",
        /// The award expired.
        Expired = "EXPIRED" => "expired",
        /// Unsubscribed.
        Cancelled = "CANCELLED" => "cancelled",
    }
);
py_enum!(
    /// Why learning was not recorded against any certification.
    NotRecordedKind {
        /// No certification of the trust has the course.
        NoCertification = "NO_CERTIFICATION" => "no certification",
        /// Certifications have the course, but the learner subscribes to none of them.
        NotSubscribed = "NOT_SUBSCRIBED" => "not subscribed",
        /// Subscribed, but the subscription refuses it.
        Refused = "REFUSED" => "refused",
    }
);

record!(
    /// One component of a certification, with the classes a learner can choose from.
    Component { course: String, kind: ComponentKind, classes: Vec<String> }
    /// A component: its course name, course or eAssessment, and the classes offered.
    #[new]
    fn new(course: String, kind: ComponentKind, classes: Vec<String>) -> Self {
        Self { course, kind, classes }
    }
);
record!(
    /// How a renewable certification is renewed.
    Renewal { window_days: u32, base: ExpiryBase }
    /// The renewal window opens `window_days` before expiry; `base`: where the renewed
    /// expiry is counted from.
    #[new]
    #[pyo3(signature = (window_days, base=ExpiryBase::CompletionDate))]
    fn new(window_days: u32, base: ExpiryBase) -> Self {
        Self { window_days, base }
    }
);
record!(
    /// A learning certification of a trust: awards a competence at a level.
    Certification {
        vpd: String,
        name: String,
        competence: String,
        level: String,
        validity_days: u32,
        completion_window_days: u32,
        renewal: Option<Renewal>,
        mandatory: bool,
        components: Vec<Component>,
        completion_rule: CompletionRule,
    }
);
record!(
    /// One award of a certification.
    CertifiedPeriod { completed: NaiveDate, expiry: NaiveDate }
);
record!(
    /// A learner's subscription to a certification, as stored.
    Subscription {
        vpd: String,
        employee_number: String,
        certification: String,
        subscribed_on: NaiveDate,
        cycle: u32,
        path: CertificationPath,
        due: NaiveDate,
        state: SubscriptionState,
        cancelled_on: Option<NaiveDate>,
        certified: Option<CertifiedPeriod>,
        changed_at: DateTime<Utc>,
    }
);
record!(
    /// One component of one cycle of a subscription, in the class chosen.
    Enrolment {
        vpd: String,
        employee_number: String,
        certification: String,
        cycle: u32,
        course: String,
        kind: ComponentKind,
        class_name: String,
        mandatory: bool,
        enrolled_at: DateTime<Utc>,
        status: ComponentStatus,
        completed_on: Option<NaiveDate>,
        performance: Performance,
        progress: u8,
        attempts: u32,
        score: Option<u8>,
    }
);
record!(
    /// What a subscription looks like on a date, computed when read; str() is the core's
    /// wording ("renewal window open, certified until 30-Nov-2028").
    SubscriptionStatus {
        kind: SubscriptionStatusKind,
        due: Option<NaiveDate>,
        overdue: bool,
        expiry: Option<NaiveDate>,
        window_opens: Option<NaiveDate>,
        renewing: bool,
        cancelled_on: Option<NaiveDate>,
        text: String,
    }
    fn __str__(&self) -> String {
        self.text.clone()
    }
);
record!(
    /// A subscription as the learner sees it: its status today and the enrolments of its
    /// current cycle.
    SubscriptionView { subscription: Subscription, status: SubscriptionStatus, enrolments: Vec<Enrolment> }
);
record!(
    /// What playing a component did: the enrolment after it, and the competence record
    /// created when it met the completion rule.
    PlayOutcome { enrolment: Enrolment, awarded: Option<CompetenceRecord> }
);
record!(
    /// Why learning was not recorded; str() is the core's wording.
    NotRecordedReason {
        kind: NotRecordedKind,
        certifications: Vec<String>,
        why: Option<String>,
        message: String,
    }
    fn __str__(&self) -> String {
        self.message.clone()
    }
);
record!(
    /// What became of reported learning: recorded against a certification (true), or not
    /// recorded with the reason (false). Never silently dropped.
    LearningOutcome {
        recorded: bool,
        certification: Option<String>,
        outcome: Option<PlayOutcome>,
        reason: Option<NotRecordedReason>,
    }
    fn __bool__(&self) -> bool {
        self.recorded
    }
);

/// What playing a component reports: PlayResult.progress(60), PlayResult.completed(),
/// PlayResult.passed(85) or PlayResult.failed(40) (percentages).
#[pyclass(frozen, eq, hash, from_py_object, module = "esr._esr")]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PlayResult {
    inner: PlayKind,
}

/// The core's PlayResult, hashable.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum PlayKind {
    Progress(u8),
    Completed,
    Passed(u8),
    Failed(u8),
}

impl From<PlayResult> for esr_core::learning::PlayResult {
    fn from(r: PlayResult) -> Self {
        match r.inner {
            PlayKind::Progress(p) => Self::Progress(p),
            PlayKind::Completed => Self::Completed,
            PlayKind::Passed(s) => Self::Passed(s),
            PlayKind::Failed(s) => Self::Failed(s),
        }
    }
}

#[pymethods]
impl PlayResult {
    /// Closed part-way (the Home icon): progress saved, in percent (0–99).
    #[staticmethod]
    fn progress(percent: u8) -> Self {
        Self {
            inner: PlayKind::Progress(percent),
        }
    }
    /// A course finished.
    #[staticmethod]
    fn completed() -> Self {
        Self {
            inner: PlayKind::Completed,
        }
    }
    /// An eAssessment passed, with its score in percent.
    #[staticmethod]
    fn passed(score: u8) -> Self {
        Self {
            inner: PlayKind::Passed(score),
        }
    }
    /// An eAssessment failed, with its score in percent.
    #[staticmethod]
    fn failed(score: u8) -> Self {
        Self {
            inner: PlayKind::Failed(score),
        }
    }
    /// "progress", "completed", "passed" or "failed".
    #[getter]
    fn kind(&self) -> &'static str {
        match self.inner {
            PlayKind::Progress(_) => "progress",
            PlayKind::Completed => "completed",
            PlayKind::Passed(_) => "passed",
            PlayKind::Failed(_) => "failed",
        }
    }
    /// The progress or score in percent (None for completed).
    #[getter]
    fn percent(&self) -> Option<u8> {
        match self.inner {
            PlayKind::Progress(p) | PlayKind::Passed(p) | PlayKind::Failed(p) => Some(p),
            PlayKind::Completed => None,
        }
    }
    fn __repr__(&self) -> String {
        match self.percent() {
            Some(p) => format!("PlayResult.{}({p})", self.kind()),
            None => format!("PlayResult.{}()", self.kind()),
        }
    }
}

impl Certification {
    /// The core's certification, checked by the core when defined.
    pub(crate) fn to_core(&self) -> PyResult<esr_core::learning::Certification> {
        let vpd: VpdCode = parse(&self.vpd)?;
        Ok(esr_core::learning::Certification {
            vpd,
            name: self.name.clone(),
            competence: parse(&self.competence)?,
            level: parse::<CompetenceLevel>(&self.level)?,
            validity_days: self.validity_days,
            completion_window_days: self.completion_window_days,
            renewal: self.renewal.as_ref().map(|r| esr_core::learning::Renewal {
                window_days: r.window_days,
                base: r.base.into(),
            }),
            mandatory: self.mandatory,
            components: self
                .components
                .iter()
                .map(|c| esr_core::learning::Component {
                    course: c.course.clone(),
                    kind: c.kind.into(),
                    classes: c.classes.clone(),
                })
                .collect(),
            completion_rule: self.completion_rule.into(),
        })
    }
}

impl From<esr_core::learning::Certification> for Certification {
    fn from(c: esr_core::learning::Certification) -> Self {
        Self {
            vpd: c.vpd.to_string(),
            name: c.name,
            competence: c.competence.to_string(),
            level: c.level.to_string(),
            validity_days: c.validity_days,
            completion_window_days: c.completion_window_days,
            renewal: c.renewal.map(|r| Renewal {
                window_days: r.window_days,
                base: r.base.into(),
            }),
            mandatory: c.mandatory,
            components: c
                .components
                .into_iter()
                .map(|x| Component {
                    course: x.course,
                    kind: x.kind.into(),
                    classes: x.classes,
                })
                .collect(),
            completion_rule: c.completion_rule.into(),
        }
    }
}

impl From<esr_core::learning::Subscription> for Subscription {
    fn from(s: esr_core::learning::Subscription) -> Self {
        let (state, cancelled_on) = match s.state {
            esr_core::learning::SubscriptionState::InProgress => {
                (SubscriptionState::InProgress, None)
            }
            esr_core::learning::SubscriptionState::Certified => {
                (SubscriptionState::Certified, None)
            }
            esr_core::learning::SubscriptionState::Cancelled(on) => {
                (SubscriptionState::Cancelled, Some(on))
            }
        };
        Self {
            vpd: s.vpd.to_string(),
            employee_number: s.employee_number.to_string(),
            certification: s.certification,
            subscribed_on: s.subscribed_on,
            cycle: s.cycle,
            path: s.path.into(),
            due: s.due,
            state,
            cancelled_on,
            certified: s.certified.map(|p| CertifiedPeriod {
                completed: p.completed,
                expiry: p.expiry,
            }),
            changed_at: s.changed_at,
        }
    }
}

impl From<esr_core::learning::Enrolment> for Enrolment {
    fn from(e: esr_core::learning::Enrolment) -> Self {
        let (status, completed_on) = match e.status {
            esr_core::learning::ComponentStatus::Planned => (ComponentStatus::Planned, None),
            esr_core::learning::ComponentStatus::Completed(on) => {
                (ComponentStatus::Completed, Some(on))
            }
        };
        Self {
            vpd: e.vpd.to_string(),
            employee_number: e.employee_number.to_string(),
            certification: e.certification,
            cycle: e.cycle,
            course: e.course,
            kind: e.kind.into(),
            class_name: e.class,
            mandatory: e.mandatory,
            enrolled_at: e.enrolled_at,
            status,
            completed_on,
            performance: e.performance.into(),
            progress: e.progress,
            attempts: e.attempts,
            score: e.score,
        }
    }
}

impl From<esr_core::learning::SubscriptionStatus> for SubscriptionStatus {
    fn from(s: esr_core::learning::SubscriptionStatus) -> Self {
        use esr_core::learning::SubscriptionStatus as S;
        let blank = Self {
            kind: SubscriptionStatusKind::Subscribed,
            due: None,
            overdue: false,
            expiry: None,
            window_opens: None,
            renewing: false,
            cancelled_on: None,
            text: s.to_string(),
        };
        match s {
            S::Subscribed { due, overdue } => Self {
                due: Some(due),
                overdue,
                ..blank
            },
            S::Certified {
                expiry,
                window_opens,
            } => Self {
                kind: SubscriptionStatusKind::Certified,
                expiry: Some(expiry),
                window_opens,
                ..blank
            },
            S::RenewalWindowOpen { expiry, renewing } => Self {
                kind: SubscriptionStatusKind::RenewalWindowOpen,
                expiry: Some(expiry),
                renewing,
                ..blank
            },
            S::Expired { expiry, renewing } => Self {
                kind: SubscriptionStatusKind::Expired,
                expiry: Some(expiry),
                renewing,
                ..blank
            },
            S::Cancelled { on } => Self {
                kind: SubscriptionStatusKind::Cancelled,
                cancelled_on: Some(on),
                ..blank
            },
        }
    }
}

impl From<esr_core::learning::SubscriptionView> for SubscriptionView {
    fn from(v: esr_core::learning::SubscriptionView) -> Self {
        Self {
            subscription: v.subscription.into(),
            status: v.status.into(),
            enrolments: v.enrolments.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<esr_core::learning::PlayOutcome> for PlayOutcome {
    fn from(o: esr_core::learning::PlayOutcome) -> Self {
        Self {
            enrolment: o.enrolment.into(),
            awarded: o.awarded.map(Into::into),
        }
    }
}

impl From<esr_core::learning::NotRecordedReason> for NotRecordedReason {
    fn from(r: esr_core::learning::NotRecordedReason) -> Self {
        use esr_core::learning::NotRecordedReason as R;
        let message = r.to_string();
        let (kind, certifications, why) = match r {
            R::NoCertification => (NotRecordedKind::NoCertification, Vec::new(), None),
            R::NotSubscribed { certifications } => {
                (NotRecordedKind::NotSubscribed, certifications, None)
            }
            R::Refused { certification, why } => {
                (NotRecordedKind::Refused, vec![certification], Some(why))
            }
        };
        Self {
            kind,
            certifications,
            why,
            message,
        }
    }
}

impl From<esr_core::learning::LearningOutcome> for LearningOutcome {
    fn from(o: esr_core::learning::LearningOutcome) -> Self {
        match o {
            esr_core::learning::LearningOutcome::Recorded {
                certification,
                outcome,
            } => Self {
                recorded: true,
                certification: Some(certification),
                outcome: Some((*outcome).into()),
                reason: None,
            },
            esr_core::learning::LearningOutcome::NotRecorded(why) => Self {
                recorded: false,
                certification: None,
                outcome: None,
                reason: Some(why.into()),
            },
        }
    }
}

/// A level as ESR prints it, or the default ("Not Assessed"); InvalidInputError if unknown.
pub(crate) fn level_or_default(level: Option<&str>) -> PyResult<String> {
    Ok(match level {
        Some(l) => parse::<CompetenceLevel>(l)?.to_string(),
        None => CompetenceLevel::default().to_string(),
    })
}

/// Adds the certification and enrolment classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ComponentKind>()?;
    m.add_class::<CompletionRule>()?;
    m.add_class::<ExpiryBase>()?;
    m.add_class::<CertificationPath>()?;
    m.add_class::<Performance>()?;
    m.add_class::<ComponentStatus>()?;
    m.add_class::<SubscriptionState>()?;
    m.add_class::<SubscriptionStatusKind>()?;
    m.add_class::<NotRecordedKind>()?;
    m.add_class::<Component>()?;
    m.add_class::<Renewal>()?;
    m.add_class::<Certification>()?;
    m.add_class::<CertifiedPeriod>()?;
    m.add_class::<Subscription>()?;
    m.add_class::<Enrolment>()?;
    m.add_class::<SubscriptionStatus>()?;
    m.add_class::<SubscriptionView>()?;
    m.add_class::<PlayOutcome>()?;
    m.add_class::<NotRecordedReason>()?;
    m.add_class::<LearningOutcome>()?;
    m.add_class::<PlayResult>()?;
    m.add("MY_ELEARNING_LIMIT", esr_core::learning::MY_ELEARNING_LIMIT)?;
    m.add("MAX_LEARNING_DAYS", esr_core::learning::MAX_LEARNING_DAYS)?;
    Ok(())
}
