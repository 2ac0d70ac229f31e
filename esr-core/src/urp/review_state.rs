//! The state of the six-monthly URP review that other operations read and update: its status,
//! a revocation noted on the open cycle, its completion, the review columns of the URP audit
//! report, and closing the worklist items a decision settles. Kept below `ops.rs` and
//! `workflow_ops.rs`, which both use it.

use crate::audit::{AuditActor, AuditEvent};
use crate::error::Result;
use crate::notify::{NotificationKind, NotificationState};
use crate::service::{account_of, audit, trust_of};
use crate::store::StoreTx;
use crate::urp::{
    ReviewDecision, ReviewOutcome, Urp, UrpGrant, UrpReview, UrpReviewStatus, grantor_of,
    is_extra_access, review_due_date, review_overdue,
};
use crate::values::{EmployeeNumber, GrantId, VpdCode, uk_date};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// The trust's review status at `now`, read in a transaction.
pub(crate) fn review_status_in(
    tx: &dyn StoreTx,
    vpd: VpdCode,
    now: DateTime<Utc>,
) -> Result<UrpReviewStatus> {
    let trust = trust_of(tx, vpd)?;
    let reviews = tx.urp_reviews(vpd)?;
    let last_completed = reviews.iter().filter_map(|r| r.completed_at).max();
    let open = reviews.iter().find(|r| r.completed_at.is_none());
    let due = review_due_date(last_completed, trust.created_at)?;
    Ok(UrpReviewStatus {
        last_completed,
        due,
        overdue: review_overdue(due, uk_date(now)),
        open: open.map(|r| r.id),
        undecided: open.map_or(0, UrpReview::undecided),
    })
}

/// Records on the open review (if it lists the grant undecided) that a grant was revoked
/// outside it, and completes the review if that was the last grant undecided. Called by every
/// revocation.
pub(crate) fn note_revocation_in_review(
    tx: &mut dyn StoreTx,
    g: &UrpGrant,
    who: &AuditActor,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(mut review) = tx
        .urp_reviews(g.vpd)?
        .into_iter()
        .find(|r| r.completed_at.is_none())
    else {
        return Ok(());
    };
    let Some(item) = review
        .items
        .iter_mut()
        .find(|i| i.grant == g.id && i.decision.is_none())
    else {
        return Ok(());
    };
    item.decision = Some(ReviewDecision {
        outcome: ReviewOutcome::Revoked {
            reason: g
                .revoked
                .as_ref()
                .map_or_else(String::new, |r| r.reason.clone()),
        },
        by: grantor_of(who),
        at: now,
    });
    tx.put_urp_review(&review)?;
    complete_if_decided(tx, &mut review, now, who.clone())
}

pub(crate) fn complete_if_decided(
    tx: &mut dyn StoreTx,
    review: &mut UrpReview,
    now: DateTime<Utc>,
    who: AuditActor,
) -> Result<()> {
    if review.completed_at.is_some() || review.undecided() > 0 {
        return Ok(());
    }
    review.completed_at = Some(now);
    tx.put_urp_review(review)?;
    let cycle = review.id.to_string();
    let admins = user_administrators_of(tx, review.vpd)?;
    close_notifications(
        tx,
        review.vpd,
        &admins,
        None,
        now,
        |k| matches!(k, NotificationKind::UrpReviewDue { cycle: c, .. } if *c == cycle),
    )?;
    let confirmed = review
        .items
        .iter()
        .filter(|i| {
            matches!(
                i.decision.as_ref().map(|d| &d.outcome),
                Some(ReviewOutcome::Confirmed)
            )
        })
        .count();
    review_step(
        tx,
        review,
        now,
        who,
        "completed",
        "",
        format!(
            "{confirmed} confirmed, {} revoked",
            review.items.len() - confirmed
        ),
    )
}

pub(crate) fn review_step(
    tx: &mut dyn StoreTx,
    review: &UrpReview,
    now: DateTime<Utc>,
    who: AuditActor,
    step: &str,
    subject: &str,
    detail: String,
) -> Result<()> {
    audit(
        tx,
        review.vpd,
        now,
        who,
        AuditEvent::WorkflowStep {
            workflow: "URP review".into(),
            item: review.id.to_string(),
            step: step.into(),
            subject: subject.into(),
            detail,
        },
    )
}

/// What the URP audit report shows of the review for each grant.
pub(crate) struct ReviewColumns {
    status: UrpReviewStatus,
    /// Per grant, the last time a review confirmed it.
    confirmed: std::collections::BTreeMap<GrantId, DateTime<Utc>>,
    /// Grants decided in the open cycle.
    decided_now: BTreeSet<GrantId>,
}

impl ReviewColumns {
    pub(crate) fn read(tx: &dyn StoreTx, vpd: VpdCode, now: DateTime<Utc>) -> Result<Self> {
        let status = review_status_in(tx, vpd, now)?;
        let mut confirmed = std::collections::BTreeMap::new();
        let mut decided_now = BTreeSet::new();
        for r in tx.urp_reviews(vpd)? {
            for i in &r.items {
                let Some(d) = &i.decision else { continue };
                if d.outcome == ReviewOutcome::Confirmed {
                    confirmed.insert(i.grant, d.at);
                }
                if Some(r.id) == status.open {
                    decided_now.insert(i.grant);
                }
            }
        }
        Ok(Self {
            status,
            confirmed,
            decided_now,
        })
    }

    pub(crate) fn of(&self, g: &UrpGrant) -> (Option<DateTime<Utc>>, String) {
        if !is_extra_access(g.urp) {
            return (None, "not reviewed (employee-level)".into());
        }
        let last = self.confirmed.get(&g.id).copied();
        let text = if self.decided_now.contains(&g.id) {
            "confirmed in the open review".to_owned()
        } else {
            self.status.describe()
        };
        (last, text)
    }
}

/// Everyone who holds or held Local HRMS Systems and User Administration in the trust.
pub(crate) fn user_administrators_of(
    tx: &dyn StoreTx,
    vpd: VpdCode,
) -> Result<BTreeSet<EmployeeNumber>> {
    let mut out = BTreeSet::new();
    for g in tx.grants(vpd)? {
        if g.urp == Urp::LocalHrmsSystemsAndUserAdministration && g.is_active() {
            out.insert(account_of(tx, &g.holder)?.employee_number);
        }
    }
    Ok(out)
}

/// Closes the open notifications of `people` (but `except`'s, which the notifications area
/// settles itself when it is the one acted on) whose kind matches `about`: the item they ask
/// about was decided.
pub(crate) fn close_notifications(
    tx: &mut dyn StoreTx,
    vpd: VpdCode,
    people: &BTreeSet<EmployeeNumber>,
    except: Option<&EmployeeNumber>,
    now: DateTime<Utc>,
    about: impl Fn(&NotificationKind) -> bool,
) -> Result<()> {
    for person in people {
        if Some(person) == except {
            continue;
        }
        for mut n in tx.notifications_of(vpd, person)? {
            if n.is_open_at(now) && about(&n.kind) {
                n.state = NotificationState::Closed;
                n.settled_at = Some(now);
                tx.put_notification(&n)?;
            }
        }
    }
    Ok(())
}
