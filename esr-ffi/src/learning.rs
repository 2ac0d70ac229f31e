//! Certifications and enrolment as records: a certification's definition, subscriptions with
//! their status for today, enrolments (My e-Learning rows), and what playing a component did.

use crate::error::EsrError;
use crate::types::{CalendarDate, CompetenceRecord, to_system};
use std::time::SystemTime;

/// Course or eAssessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ComponentKind {
    /// A course: done when Completed.
    Course,
    /// An eAssessment: done only when Passed.
    EAssessment,
}

impl From<esr_core::learning::ComponentKind> for ComponentKind {
    fn from(k: esr_core::learning::ComponentKind) -> Self {
        match k {
            esr_core::learning::ComponentKind::Course => Self::Course,
            esr_core::learning::ComponentKind::EAssessment => Self::EAssessment,
        }
    }
}

impl From<ComponentKind> for esr_core::learning::ComponentKind {
    fn from(k: ComponentKind) -> Self {
        match k {
            ComponentKind::Course => Self::Course,
            ComponentKind::EAssessment => Self::EAssessment,
        }
    }
}

/// One component of a certification, with the classes a learner can choose from.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ComponentDefinition {
    /// The course's name, unique within the certification.
    pub course: String,
    /// Course or eAssessment.
    pub kind: ComponentKind,
    /// The classes offered (`e-Learning`); at least one.
    pub classes: Vec<String>,
}

/// When a certification is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum CompletionRule {
    /// Every course Completed and every eAssessment Passed.
    AllComponents,
    /// Passing every eAssessment completes the certification on its own.
    PassedAssessmentCompletesCourse,
}

/// Where a renewed certification's expiry is counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ExpiryBase {
    /// From the completion date.
    CompletionDate,
    /// From the previous expiry when renewed inside the window.
    PreviousExpiry,
}

/// How a renewable certification is renewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct RenewalRule {
    /// The renewal window opens this many days before expiry.
    pub window_days: u32,
    /// Where the renewed expiry is counted from.
    pub base: ExpiryBase,
}

/// A learning certification of a trust.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CertificationDefinition {
    /// The name, unique within the trust.
    pub name: String,
    /// The competence awarded on completion (active in the trust's catalogue).
    pub competence: String,
    /// The level awarded, as ESR prints it (`None`: "Not Assessed").
    pub level: Option<String>,
    /// The award is valid for this many days.
    pub validity_days: u32,
    /// It must be completed within this many days of subscribing.
    pub completion_window_days: u32,
    /// `None`: not renewable.
    pub renewal: Option<RenewalRule>,
    /// Whether it is mandatory learning.
    pub mandatory: bool,
    /// Its components, in the order shown.
    pub components: Vec<ComponentDefinition>,
    /// When it is complete.
    pub completion_rule: CompletionRule,
}

impl CertificationDefinition {
    pub(crate) fn to_core(
        &self,
        vpd: esr_core::VpdCode,
    ) -> Result<esr_core::learning::Certification, EsrError> {
        Ok(esr_core::learning::Certification {
            vpd,
            name: self.name.clone(),
            competence: self.competence.parse()?,
            level: self
                .level
                .as_deref()
                .map(str::parse)
                .transpose()?
                .unwrap_or_default(),
            validity_days: self.validity_days,
            completion_window_days: self.completion_window_days,
            renewal: self.renewal.map(|r| esr_core::learning::Renewal {
                window_days: r.window_days,
                base: match r.base {
                    ExpiryBase::CompletionDate => esr_core::learning::ExpiryBase::CompletionDate,
                    ExpiryBase::PreviousExpiry => esr_core::learning::ExpiryBase::PreviousExpiry,
                },
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
            completion_rule: match self.completion_rule {
                CompletionRule::AllComponents => esr_core::learning::CompletionRule::AllComponents,
                CompletionRule::PassedAssessmentCompletesCourse => {
                    esr_core::learning::CompletionRule::PassedAssessmentCompletesCourse
                }
            },
        })
    }
}

impl From<esr_core::learning::Certification> for CertificationDefinition {
    fn from(c: esr_core::learning::Certification) -> Self {
        Self {
            name: c.name,
            competence: c.competence.to_string(),
            level: Some(c.level.to_string()),
            validity_days: c.validity_days,
            completion_window_days: c.completion_window_days,
            renewal: c.renewal.map(|r| RenewalRule {
                window_days: r.window_days,
                base: match r.base {
                    esr_core::learning::ExpiryBase::CompletionDate => ExpiryBase::CompletionDate,
                    esr_core::learning::ExpiryBase::PreviousExpiry => ExpiryBase::PreviousExpiry,
                },
            }),
            mandatory: c.mandatory,
            components: c
                .components
                .into_iter()
                .map(|k| ComponentDefinition {
                    course: k.course,
                    kind: k.kind.into(),
                    classes: k.classes,
                })
                .collect(),
            completion_rule: match c.completion_rule {
                esr_core::learning::CompletionRule::AllComponents => CompletionRule::AllComponents,
                esr_core::learning::CompletionRule::PassedAssessmentCompletesCourse => {
                    CompletionRule::PassedAssessmentCompletesCourse
                }
            },
        }
    }
}

/// What playing a component reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PlayResult {
    /// Closed part-way: progress saved, in percent (0–99).
    Progress {
        /// Percent done.
        percent: u8,
    },
    /// A course finished (an eAssessment must be passed instead).
    Completed,
    /// An eAssessment passed, with its score in percent.
    Passed {
        /// The score.
        score: u8,
    },
    /// An eAssessment failed, with its score in percent.
    Failed {
        /// The score.
        score: u8,
    },
}

impl From<PlayResult> for esr_core::learning::PlayResult {
    fn from(r: PlayResult) -> Self {
        match r {
            PlayResult::Progress { percent } => Self::Progress(percent),
            PlayResult::Completed => Self::Completed,
            PlayResult::Passed { score } => Self::Passed(score),
            PlayResult::Failed { score } => Self::Failed(score),
        }
    }
}

/// A component's performance status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
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

impl From<esr_core::learning::Performance> for Performance {
    fn from(p: esr_core::learning::Performance) -> Self {
        match p {
            esr_core::learning::Performance::NotAttempted => Self::NotAttempted,
            esr_core::learning::Performance::InProgress => Self::InProgress,
            esr_core::learning::Performance::Completed => Self::Completed,
            esr_core::learning::Performance::Passed => Self::Passed,
            esr_core::learning::Performance::Failed => Self::Failed,
        }
    }
}

/// One enrolled component: a row of My e-Learning.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Enrolment {
    /// The learner's employee number.
    pub employee_number: String,
    /// The certification.
    pub certification: String,
    /// The subscription's cycle it belongs to (from 1).
    pub cycle: u32,
    /// The course.
    pub course: String,
    /// Course or eAssessment.
    pub kind: ComponentKind,
    /// The class chosen.
    pub class_name: String,
    /// Whether it is mandatory learning.
    pub mandatory: bool,
    /// When enrolled.
    pub enrolled_at: SystemTime,
    /// When it was done, if it is.
    pub completed_on: Option<CalendarDate>,
    /// Performance status.
    pub performance: Performance,
    /// Saved progress, in percent.
    pub progress: u8,
    /// eAssessment attempts made to a result.
    pub attempts: u32,
    /// The last eAssessment score, in percent.
    pub score: Option<u8>,
}

impl From<esr_core::learning::Enrolment> for Enrolment {
    fn from(e: esr_core::learning::Enrolment) -> Self {
        Self {
            employee_number: e.employee_number.to_string(),
            certification: e.certification,
            cycle: e.cycle,
            course: e.course,
            kind: e.kind.into(),
            class_name: e.class,
            mandatory: e.mandatory,
            enrolled_at: to_system(e.enrolled_at),
            completed_on: match e.status {
                esr_core::learning::ComponentStatus::Completed(d) => Some(d.into()),
                esr_core::learning::ComponentStatus::Planned => None,
            },
            performance: e.performance.into(),
            progress: e.progress,
            attempts: e.attempts,
            score: e.score,
        }
    }
}

/// A subscription's status on a day, computed when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SubscriptionStatus {
    /// Working on the certification path, due by `due`.
    Subscribed {
        /// Due date.
        due: CalendarDate,
        /// Whether the due date has passed.
        overdue: bool,
    },
    /// Certified, valid through `expiry`.
    Certified {
        /// Valid through.
        expiry: CalendarDate,
        /// When the renewal window opens (`None`: not renewable).
        window_opens: Option<CalendarDate>,
    },
    /// Certified and inside the renewal window.
    RenewalWindowOpen {
        /// Valid through.
        expiry: CalendarDate,
        /// Whether the recertification path has begun.
        renewing: bool,
    },
    /// The award expired.
    Expired {
        /// The last day it was valid.
        expiry: CalendarDate,
        /// Whether a new path has begun.
        renewing: bool,
    },
    /// Unsubscribed.
    Cancelled {
        /// When.
        on: CalendarDate,
    },
}

impl From<esr_core::learning::SubscriptionStatus> for SubscriptionStatus {
    fn from(s: esr_core::learning::SubscriptionStatus) -> Self {
        use esr_core::learning::SubscriptionStatus as S;
        match s {
            S::Subscribed { due, overdue } => Self::Subscribed {
                due: due.into(),
                overdue,
            },
            S::Certified {
                expiry,
                window_opens,
            } => Self::Certified {
                expiry: expiry.into(),
                window_opens: window_opens.map(Into::into),
            },
            S::RenewalWindowOpen { expiry, renewing } => Self::RenewalWindowOpen {
                expiry: expiry.into(),
                renewing,
            },
            S::Expired { expiry, renewing } => Self::Expired {
                expiry: expiry.into(),
                renewing,
            },
            S::Cancelled { on } => Self::Cancelled { on: on.into() },
        }
    }
}

/// A learner's subscription to a certification.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LearningSubscription {
    /// The learner's employee number.
    pub employee_number: String,
    /// The certification.
    pub certification: String,
    /// When (last) subscribed.
    pub subscribed_on: CalendarDate,
    /// The current cycle, from 1.
    pub cycle: u32,
    /// The current path is due by this date.
    pub due: CalendarDate,
    /// Its status today (by the service's clock).
    pub status: SubscriptionStatus,
    /// The current cycle's enrolments, in the certification's component order.
    pub enrolments: Vec<Enrolment>,
}

impl From<esr_core::learning::SubscriptionView> for LearningSubscription {
    fn from(v: esr_core::learning::SubscriptionView) -> Self {
        let s = v.subscription;
        Self {
            employee_number: s.employee_number.to_string(),
            certification: s.certification,
            subscribed_on: s.subscribed_on.into(),
            cycle: s.cycle,
            due: s.due.into(),
            status: v.status.into(),
            enrolments: v.enrolments.into_iter().map(Into::into).collect(),
        }
    }
}

/// What playing a component did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PlayOutcome {
    /// The enrolment after the result.
    pub enrolment: Enrolment,
    /// The competence record awarded when this result completed the certification.
    pub awarded: Option<CompetenceRecord>,
}

impl From<esr_core::learning::PlayOutcome> for PlayOutcome {
    fn from(p: esr_core::learning::PlayOutcome) -> Self {
        Self {
            enrolment: p.enrolment.into(),
            awarded: p.awarded.map(Into::into),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn play_results_carry_their_numbers() {
        assert_eq!(
            esr_core::learning::PlayResult::from(PlayResult::Passed { score: 90 }),
            esr_core::learning::PlayResult::Passed(90)
        );
        assert_eq!(
            esr_core::learning::PlayResult::from(PlayResult::Progress { percent: 40 }),
            esr_core::learning::PlayResult::Progress(40)
        );
        assert_eq!(
            esr_core::learning::PlayResult::from(PlayResult::Completed),
            esr_core::learning::PlayResult::Completed
        );
    }

    #[test]
    fn subscription_statuses_keep_their_dates() {
        let d = |m, day| esr_core::chrono::NaiveDate::from_ymd_opt(2027, m, day).unwrap();
        let cal = |m, day| CalendarDate {
            year: 2027,
            month: m,
            day,
        };
        assert_eq!(
            SubscriptionStatus::from(esr_core::learning::SubscriptionStatus::Certified {
                expiry: d(3, 1),
                window_opens: Some(d(1, 31)),
            }),
            SubscriptionStatus::Certified {
                expiry: cal(3, 1),
                window_opens: Some(cal(1, 31)),
            }
        );
        assert_eq!(
            SubscriptionStatus::from(esr_core::learning::SubscriptionStatus::Subscribed {
                due: d(5, 2),
                overdue: true,
            }),
            SubscriptionStatus::Subscribed {
                due: cal(5, 2),
                overdue: true,
            }
        );
        assert_eq!(
            SubscriptionStatus::from(esr_core::learning::SubscriptionStatus::Cancelled {
                on: d(6, 3)
            }),
            SubscriptionStatus::Cancelled { on: cal(6, 3) }
        );
    }

    #[test]
    fn a_definition_round_trips_through_the_core() {
        let vpd: esr_core::VpdCode = "297".parse().unwrap();
        let def = CertificationDefinition {
            name: "297 Fire".into(),
            competence: "297|LOCAL|Fire Safety|".into(),
            level: Some("1 - Assessed".into()),
            validity_days: 365,
            completion_window_days: 30,
            renewal: Some(RenewalRule {
                window_days: 30,
                base: ExpiryBase::PreviousExpiry,
            }),
            mandatory: true,
            components: vec![ComponentDefinition {
                course: "297 Fire - eAssessment".into(),
                kind: ComponentKind::EAssessment,
                classes: vec!["e-Learning".into()],
            }],
            completion_rule: CompletionRule::PassedAssessmentCompletesCourse,
        };
        assert_eq!(
            CertificationDefinition::from(def.to_core(vpd).unwrap()),
            def
        );
    }

    #[test]
    fn a_definition_with_a_bad_level_or_competence_is_refused() {
        let vpd: esr_core::VpdCode = "297".parse().unwrap();
        let mut def = CertificationDefinition {
            name: "Fire".into(),
            competence: String::new(),
            level: None,
            validity_days: 365,
            completion_window_days: 30,
            renewal: None,
            mandatory: true,
            components: vec![],
            completion_rule: CompletionRule::AllComponents,
        };
        assert!(matches!(
            def.to_core(vpd),
            Err(EsrError::InvalidInput { .. })
        ));
        def.competence = "297|LOCAL|Fire Safety|".into();
        def.level = Some("not a level".into());
        assert!(matches!(
            def.to_core(vpd),
            Err(EsrError::InvalidInput { .. })
        ));
    }
}
