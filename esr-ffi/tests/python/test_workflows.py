"""Notifications, changes held for approval and the three workflows through the C ABI (as
NotificationTests.swift and WorkflowTests.swift do from Swift): on the conftest trust Mia
manages Ward 5 (here also with Manager Self Service, payroll approvals required) for Alice,
her line manager and a user administrator with Bernard; Emma is on Mia's team."""

from __future__ import annotations

import pytest

import esr_ffi
from conftest import VPD, World
from esr_ffi import CalendarDate, EsrActor, EsrError

EXTRA = esr_ffi.Urp.MANAGER_SELF_SERVICE_PAYROLL_APPROVALS_NOT_REQUIRED
FINANCE = EsrActor.SYSTEM(process="finance feed")


def manager(w: World) -> esr_ffi.EsrSession:
    w.esr.grant_urp(w.smartcard(w.bernard), esr_ffi.UrpGrantRequest(
        holder=w.mia.username, urp=esr_ffi.Urp.MANAGER_SELF_SERVICE_PAYROLL_APPROVALS_REQUIRED,
        reason="runs Ward 5", org_units=None, verified_by_line_manager=w.alice.employee_number))
    return w.smartcard(w.mia)


def test_a_payroll_change_waits_for_the_managers_own_line_manager(w: World) -> None:
    mia = manager(w)
    held = w.esr.request_assignment_change(
        mia, w.emma.employee_number, w.emma.employee_number,
        esr_ffi.AssignmentChange.HOURS(weekly_minutes=2250))
    assert held is not None, "Payroll Approvals Required holds the change"
    assert (held.status, held.approver) == ("pending", w.alice.employee_number)
    alice = w.smartcard(w.alice)
    items = w.esr.notifications(alice, True, "record_change_to_approve")
    assert [i.item for i in items] == [held.id]
    assert items[0].actions == ["approve", "reject"]
    assert w.esr.notification_count(alice) >= 1
    with pytest.raises(EsrError.NotPermitted):
        w.esr.act_on_notification(w.smartcard(w.emma), items[0].id, esr_ffi.NotificationAction.APPROVE())
    # Over the internet without an upgrade, only the count shows.
    web = w.internet(w.alice)
    assert w.esr.notification_count(web) == w.esr.notification_count(alice)
    assert w.esr.notifications(web) == []
    done = w.esr.act_on_notification(alice, items[0].id, esr_ffi.NotificationAction.APPROVE())
    assert done.state == "actioned"
    assert w.esr.pending_change(alice, held.id).status == "applied"
    with pytest.raises(EsrError.Conflict):
        w.esr.act_on_notification(alice, items[0].id, esr_ffi.NotificationAction.APPROVE())
    told = w.esr.notifications(w.smartcard(w.emma), open_only=True)
    assert [n.kind for n in told] == ["record_changed"]
    assert w.esr.expire_pending_changes(EsrActor.SYSTEM(process="nightly"), VPD) == 0


def test_a_rejection_keeps_its_reason(w: World) -> None:
    mia = manager(w)
    held = w.esr.request_assignment_change(
        mia, w.emma.employee_number, w.emma.employee_number,
        esr_ffi.AssignmentChange.END(ended_on=CalendarDate(year=2026, month=12, day=31)))
    assert held is not None
    alice = w.smartcard(w.alice)
    (item,) = w.esr.notifications(alice, True, "record_change_to_approve")
    w.esr.act_on_notification(alice, item.id, esr_ffi.NotificationAction.REJECT(reason="still needed"))
    change = w.esr.pending_change(mia, held.id)
    assert (change.status, change.reason) == ("rejected", "still needed")


def test_a_person_changes_their_own_details_at_once(w: World) -> None:
    emma = w.smartcard(w.emma)
    assert w.esr.request_details_change(emma, w.emma.employee_number, given_name="Emily") is None
    assert w.esr.person(VPD, w.emma.employee_number).given_name == "Emily"


def test_an_access_request_from_raising_to_the_grant(w: World) -> None:
    emma = w.smartcard(w.emma)
    request = w.esr.request_access(EsrActor.USER(session=emma), esr_ffi.NewAccessRequest(
        subject=w.emma.username, urp=EXTRA, reason="covers Ward 5 nights"))
    assert (request.status, request.route) == ("awaiting_authorisation", "line_manager")
    assert request.missing_prerequisites == ["as_number"]
    assert [r.id for r in w.esr.my_access_requests(emma)] == [request.id]
    with pytest.raises(EsrError.NotPermitted):
        w.esr.authorise_access_request(emma, request.id)
    mia = w.smartcard(w.mia)
    assert [r.id for r in w.esr.access_requests_to_authorise(mia)] == [request.id]
    request = w.esr.authorise_access_request(mia, request.id)
    assert (request.status, request.decided_by) == ("authorised", w.mia.employee_number)
    admin = w.smartcard(w.bernard)
    assert [r.id for r in w.esr.access_requests_to_grant(admin)] == [request.id]
    with pytest.raises(EsrError):
        w.esr.grant_access_request(admin, request.id)
    request = w.esr.record_access_prerequisite(
        FINANCE, VPD, request.id, esr_ffi.AccessPrerequisite.AS_NUMBER, "AS123456")
    assert request.missing_prerequisites == []
    assert [p.reference for p in request.prerequisites] == ["AS123456"]
    grant = w.esr.grant_access_request(admin, request.id)
    request = w.esr.access_request(EsrActor.USER(session=emma), VPD, request.id)
    assert (request.status, request.grant) == ("granted", grant)
    assert w.esr.access_requests_to_grant(admin) == []


def test_an_access_request_rejected_and_an_exception_for_the_caldicott_guardian(w: World) -> None:
    emma = w.smartcard(w.emma)
    raised = w.esr.request_access(EsrActor.USER(session=emma), esr_ffi.NewAccessRequest(
        subject=w.emma.username, urp=EXTRA, reason="covers Ward 5 nights"))
    mia = w.smartcard(w.mia)
    with pytest.raises(EsrError.InvalidInput):
        w.esr.reject_access_request(mia, raised.id, "")
    rejected = w.esr.reject_access_request(mia, raised.id, "Ward 5 is covered")
    assert (rejected.status, rejected.rejection_reason) == ("rejected", "Ward 5 is covered")
    exceptional = esr_ffi.NewAccessRequest(
        subject=w.emma.username, urp=EXTRA, reason="runs Ward 6 nights", exception="Ward 6 has no manager")
    with pytest.raises(EsrError.InvalidInput):
        w.esr.request_access(EsrActor.USER(session=emma), exceptional)
    w.esr.set_caldicott_guardian(EsrActor.USER(session=w.smartcard(w.bernard)), VPD, w.alice.employee_number)
    raised = w.esr.request_access(EsrActor.USER(session=emma), exceptional)
    assert (raised.route, raised.exception) == ("caldicott_guardian", "Ward 6 has no manager")
    alice = w.smartcard(w.alice)
    assert [r.id for r in w.esr.access_requests_to_authorise(alice)] == [raised.id]
    assert w.esr.authorise_access_request(alice, raised.id).decided_by == w.alice.employee_number


def test_a_urp_review_from_opening_to_completion(w: World) -> None:
    alice, bernard = w.smartcard(w.alice), w.smartcard(w.bernard)
    review = w.esr.open_urp_review(alice)
    assert not review.complete and review.undecided == len(review.items)
    assert w.esr.urp_review_status(EsrActor.USER(session=alice), VPD).open == review.id
    with pytest.raises(EsrError.Conflict):
        w.esr.open_urp_review(alice)
    (mias,) = [i for i in review.items if i.holder == w.mia.username]
    with pytest.raises(EsrError.NotPermitted):
        w.esr.confirm_urp_grant(w.smartcard(w.emma), review.id, mias.grant)
    for item in review.items:
        if item.grant != mias.grant:
            # An administrator does not confirm their own grant.
            who = bernard if item.holder == w.alice.username else alice
            review = w.esr.confirm_urp_grant(who, review.id, item.grant)
    review = w.esr.revoke_urp_in_review(alice, review.id, mias.grant, "moved to Ward 9")
    assert review.complete and review.undecided == 0
    (decided,) = [i for i in review.items if i.grant == mias.grant]
    assert (decided.decision, decided.reason) == ("revoked", "moved to Ward 9")
    status = w.esr.urp_review_status(EsrActor.USER(session=alice), VPD)
    assert status.open is None and not status.overdue
    assert [r.id for r in w.esr.urp_reviews(EsrActor.USER(session=alice), VPD)] == [review.id]


def test_a_claimed_competence_approved_and_another_rejected(w: World) -> None:
    def named(title: str) -> str:
        (name,) = [d.name for d in w.esr.competence_catalogue(VPD) if title in d.name]
        return name

    emma, mia = w.smartcard(w.emma), w.smartcard(w.mia)
    achieved = CalendarDate(year=2026, month=11, day=19)

    def claim(title: str, evidence: str) -> esr_ffi.CompetenceClaimInfo:
        record = esr_ffi.NewCompetenceRecord(
            competence=named(title), achieved=achieved, expiry=esr_ffi.RecordExpiry.REFRESHER(), level=None)
        return w.esr.claim_competence(emma, record, evidence)

    first = claim("Fire Safety - 1 Year", "certificate FS-42")
    second = claim("Information Governance - 1 Year", "e-learning at my last trust")
    assert (first.state, first.employee_number) == ("awaiting_approval", w.emma.employee_number)
    assert {c.id for c in w.esr.competence_claims_to_approve(mia)} == {first.id, second.id}
    with pytest.raises(EsrError.NotPermitted):
        w.esr.approve_competence_claim(emma, first.id)
    with pytest.raises(EsrError.InvalidInput):
        w.esr.reject_competence_claim(mia, second.id, "")
    approved = w.esr.approve_competence_claim(mia, first.id)
    assert (approved.state, approved.decided_by) == ("approved", w.mia.username)
    rejected = w.esr.reject_competence_claim(mia, second.id, "not an NHS course")
    assert (rejected.state, rejected.reason) == ("rejected", "not an NHS course")
    me = EsrActor.USER(session=emma)
    assert w.esr.competences_awaiting_approval(me, VPD, w.emma.employee_number) == []
    with pytest.raises(EsrError.Conflict):
        w.esr.approve_competence_claim(mia, second.id)
    states = {c.id: c.state for c in w.esr.competence_claims_of(me, VPD, w.emma.employee_number)}
    assert states == {first.id: "approved", second.id: "rejected"}
