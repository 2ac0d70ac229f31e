"""The three workflows of issue 22 from Python: an access request from the subject to the
granted URP, the six-monthly URP review, and a competence a learner claims for approval; with
a refusal of each."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_service import MANAGER_URP, VPD, World, build, competence

import esr

EXTRA_URP = "Manager Self Service (Payroll Approvals not Required)"


@pytest.fixture
def w() -> World:
    return build()


# ----- access requests ---------------------------------------------------------------------


def test_an_access_request_from_raising_to_the_grant(w: World) -> None:
    ann = w.hscn(w.ann)
    r = w.esr.request_access(ann, w.ann.username, EXTRA_URP, reason="covers Mary's leave")
    assert r.status == "awaiting_authorisation" and r.route == "line_manager"
    assert r.subject == w.ann.username and r.urp == EXTRA_URP and r.org_units is None
    assert r.missing_prerequisites == ["as_number"] and r.prerequisites == []
    assert [m.id for m in w.esr.my_access_requests(ann)] == [r.id]

    # Mary, Ann's line manager, authorises it from her worklist.
    mary = w.hscn(w.mary)
    assert [m.id for m in w.esr.access_requests_to_authorise(mary)] == [r.id]
    items = w.esr.notifications(mary, open_only=True, kind="access_request_to_authorise")
    assert [n.item for n in items] == [r.id]
    w.esr.act_on_notification(mary, items[0].id, "approve")
    r = w.esr.access_request(w.admin_session, VPD, r.id)
    assert r.status == "authorised" and r.decided_by == w.mary.employee_number
    assert [m.id for m in w.esr.access_requests_to_grant(w.admin_session)] == [r.id]

    # No grant before Finance's AS number is recorded.
    with pytest.raises(esr.EsrError):
        w.esr.grant_access_request(w.admin_session, r.id)
    assert EXTRA_URP not in w.esr.held_urps(w.ann.username)
    r = w.esr.record_access_prerequisite("finance feed", VPD, r.id, "as_number", "AS123456")
    assert r.missing_prerequisites == []
    assert [(p.prerequisite, p.reference) for p in r.prerequisites] == [("as_number", "AS123456")]

    g = w.esr.grant_access_request(w.admin_session, r.id)
    assert g.urp == EXTRA_URP and g.holder == w.ann.username and g.active
    assert EXTRA_URP in w.esr.held_urps(w.ann.username)
    r = w.esr.access_request(ann, VPD, r.id)
    assert r.status == "granted" and r.grant == g.id
    assert w.esr.access_requests_to_grant(w.admin_session) == []


def test_an_exception_goes_to_the_caldicott_guardian(w: World) -> None:
    cat = w.hscn(w.cat)
    with pytest.raises(esr.InvalidInputError):
        w.esr.request_access(cat, w.cat.username, EXTRA_URP, reason="x", exception="no manager")
    w.esr.set_caldicott_guardian(w.admin_session, VPD, w.guardian.employee_number)
    r = w.esr.request_access(
        cat, w.cat.username, EXTRA_URP, reason="runs Ward 6 nights", exception="Ward 6 has no manager"
    )
    assert r.route == "caldicott_guardian" and r.exception == "Ward 6 has no manager"
    gwen = w.hscn(w.guardian)
    assert [m.id for m in w.esr.access_requests_to_authorise(gwen)] == [r.id]
    r = w.esr.authorise_access_request(gwen, r.id)
    assert r.status == "authorised" and r.decided_by == w.guardian.employee_number


def test_an_access_request_refused_by_the_wrong_person_then_rejected(w: World) -> None:
    ann = w.hscn(w.ann)
    r = w.esr.request_access(ann, w.ann.username, EXTRA_URP, reason="covers Mary's leave")
    ben, mary = w.hscn(w.ben), w.hscn(w.mary)  # logging in is audited: before counting
    before = len(w.esr.audit_trail(VPD, 1, 1_000_000))
    with pytest.raises(esr.NotPermittedError):
        w.esr.authorise_access_request(ben, r.id)
    with pytest.raises(esr.NotPermittedError):
        w.esr.authorise_access_request(ann, r.id)
    with pytest.raises(esr.InvalidInputError):
        w.esr.reject_access_request(mary, r.id, "")
    with pytest.raises(esr.InvalidInputError):
        w.esr.record_access_prerequisite("finance feed", VPD, r.id, "pin number", "1")
    assert len(w.esr.audit_trail(VPD, 1, 1_000_000)) == before
    assert w.esr.access_request(ann, VPD, r.id).status == "awaiting_authorisation"

    r = w.esr.reject_access_request(w.hscn(w.mary), r.id, "Ben covers instead")
    assert r.status == "rejected" and r.rejection_reason == "Ben covers instead"
    with pytest.raises(esr.EsrError):
        w.esr.authorise_access_request(w.hscn(w.mary), r.id)


def test_an_access_request_expires(w: World) -> None:
    ann = w.hscn(w.ann)
    r = w.esr.request_access(ann, w.ann.username, EXTRA_URP, reason="covers Mary's leave")
    w.clock.set(r.expires_at + timedelta(seconds=1))
    assert w.esr.access_request("service desk", VPD, r.id).status == "expired"


# ----- the URP review ----------------------------------------------------------------------


def test_a_urp_review_from_opening_to_completion(w: World) -> None:
    status = w.esr.urp_review_status(w.admin_session, VPD)
    assert status.open is None and status.undecided == 0 and status.description
    review = w.esr.open_urp_review(w.admin_session)
    assert not review.complete and review.undecided == len(review.items) > 0
    assert all(i.decision is None for i in review.items)
    mary_item = [i for i in review.items if i.holder == w.mary.username and i.urp == MANAGER_URP]
    assert len(mary_item) == 1
    status = w.esr.urp_review_status(w.admin_session, VPD)
    assert status.open == review.id and status.undecided == review.undecided

    # Only one review at a time; nobody without Assign URPs decides.
    with pytest.raises(esr.ConflictError):
        w.esr.open_urp_review(w.admin_session)
    with pytest.raises(esr.NotPermittedError):
        w.esr.confirm_urp_grant(w.hscn(w.ann), review.id, mary_item[0].grant)
    with pytest.raises(esr.InvalidInputError):
        w.esr.revoke_urp_in_review(w.admin_session, review.id, mary_item[0].grant, "")

    admin_b = w.hscn(w.admin_b)
    for item in review.items:
        if item.grant == mary_item[0].grant:  # each access to .items makes new objects
            continue
        who = admin_b if item.holder == w.admin_a.username else w.admin_session
        review = w.esr.confirm_urp_grant(who, review.id, item.grant)
    review = w.esr.revoke_urp_in_review(w.admin_session, review.id, mary_item[0].grant, "moved to Ward 9")
    assert review.complete and review.undecided == 0 and review.completed_at is not None
    decided = {i.grant: (i.decision, i.reason) for i in review.items}
    assert decided[mary_item[0].grant] == ("revoked", "moved to Ward 9")
    assert MANAGER_URP not in w.esr.held_urps(w.mary.username)
    status = w.esr.urp_review_status(w.admin_session, VPD)
    assert status.open is None and status.last_completed == review.completed_at and not status.overdue
    assert [r.id for r in w.esr.urp_reviews(w.admin_session, VPD)] == [review.id]


# ----- competences claimed for approval ----------------------------------------------------


def test_a_claimed_competence_approved_and_another_rejected(w: World) -> None:
    fire = competence(w, "Fire Safety - 1 Year")
    ig = competence(w, "Information Governance - 1 Year")
    ann = w.hscn(w.ann)
    achieved = w.clock.now().date() - timedelta(days=3)
    c1 = w.esr.claim_competence(ann, fire, achieved=achieved, evidence="certificate FS-42")
    c2 = w.esr.claim_competence(ann, ig, achieved=achieved, evidence="e-learning at my last trust")
    assert c1.state == "awaiting_approval" and c1.evidence == "certificate FS-42"
    assert c1.competence == fire and c1.expiry == "refresher" and c1.employee_number == w.ann.employee_number
    assert fire not in [r.competence for r in w.esr.competence_records(ann, VPD, w.ann.employee_number)]

    mary = w.hscn(w.mary)
    assert {c.id for c in w.esr.competence_claims_to_approve(mary)} == {c1.id, c2.id}
    waiting = w.esr.competences_awaiting_approval(mary, VPD, w.ann.employee_number)
    assert {c.id for c in waiting} == {c1.id, c2.id}

    # The learner and a colleague may not approve; a rejection needs a reason.
    with pytest.raises(esr.NotPermittedError):
        w.esr.approve_competence_claim(ann, c1.id)
    with pytest.raises(esr.NotPermittedError):
        w.esr.approve_competence_claim(w.hscn(w.ben), c1.id)
    with pytest.raises(esr.InvalidInputError):
        w.esr.reject_competence_claim(mary, c2.id, "")

    done = w.esr.approve_competence_claim(mary, c1.id)
    assert done.state == "approved" and done.decided_by == w.mary.username
    assert fire in [r.competence for r in w.esr.competence_records(ann, VPD, w.ann.employee_number)]
    no = w.esr.reject_competence_claim(mary, c2.id, "not an NHS course")
    assert no.state == "rejected" and no.reason == "not an NHS course"
    assert ig not in [r.competence for r in w.esr.competence_records(ann, VPD, w.ann.employee_number)]
    assert w.esr.competences_awaiting_approval(ann, VPD, w.ann.employee_number) == []
    states = {c.id: c.state for c in w.esr.competence_claims_of(ann, VPD, w.ann.employee_number)}
    assert states == {c1.id: "approved", c2.id: "rejected"}
    with pytest.raises(esr.ConflictError):
        w.esr.approve_competence_claim(mary, c2.id)


def test_a_claim_dated_in_the_future_is_refused(w: World) -> None:
    fire = competence(w, "Fire Safety - 1 Year")
    ann = w.hscn(w.ann)
    with pytest.raises(esr.InvalidInputError):
        w.esr.claim_competence(ann, fire, achieved=w.clock.now().date() + timedelta(days=2), evidence="x")
    assert w.esr.competence_claims_of(ann, VPD, w.ann.employee_number) == []
