//! Learning certifications and enrolment: the flows that award competences and so change
//! compliance.
//!
//! - A [`Certification`] awards a competence at a level; it has a validity, a completion window,
//!   is renewable or not ([`Renewal`], [`ExpiryBase`]), and is made of [`Component`]s (courses
//!   and an eAssessment).
//! - A learner's [`Subscription`] moves between stored states; what it looks like on a date
//!   (subscribed, certified, renewal window open, expired, cancelled) is
//!   [`subscription_status`], computed when read, never by a scheduled job. [`check_action`]
//!   guards every transition.
//! - An [`Enrolment`] is one component in one chosen class: [`ComponentStatus`] Planned →
//!   Completed, [`Performance`] Not Attempted → In Progress → Completed, Passed or Failed.
//! - When the completion rule is met ([`completion_met`]) the competence is awarded with its
//!   expiry ([`award_expiry`]) in the same transaction, so compliance changes at once.
//! - Learning reported without a subscription is not recorded against the certification, and
//!   the answer says so ([`LearningOutcome`], [`NotRecordedReason`]) instead of dropping it.
//!
//! The operations are methods on [`Esr`](crate::Esr):
//! [`Esr::define_certification`](crate::Esr::define_certification) (Learning administration),
//! [`Esr::certifications`](crate::Esr::certifications),
//! [`Esr::certifications_for`](crate::Esr::certifications_for) (Find Learning),
//! [`Esr::subscribe`](crate::Esr::subscribe), [`Esr::unsubscribe`](crate::Esr::unsubscribe),
//! [`Esr::enrol`](crate::Esr::enrol), [`Esr::play`](crate::Esr::play),
//! [`Esr::record_learning`](crate::Esr::record_learning),
//! [`Esr::subscriptions`](crate::Esr::subscriptions) and
//! [`Esr::my_elearning`](crate::Esr::my_elearning) (at most [`MY_ELEARNING_LIMIT`], most recent
//! first). A learner acts on their own learning; acting on someone else's needs Learning
//! administration.

mod certification;
mod ops;

pub use certification::*;
pub use ops::*;
