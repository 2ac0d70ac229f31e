"""Notifications and approvals from Python (issue 22): a held change approved once, a
payroll change held for the manager's own line manager, refusals, and the channel rule."""

from __future__ import annotations

import pytest
from test_service import VPD, World, build

import esr


@pytest.fixture
def w() -> World:
    return build()


def admin_with_approvals(w: World) -> esr.Person:
    """Cat, given Administrator Self Service (Approvals Required) for Ward 5."""
    w.esr.grant_urp(
        w.admin_session,
        w.cat.username,
        "Administrator Self Service (Approvals Required)",
        reason="Ward 5 HR office",
        org_units=["Ward 5"],
        caldicott_guardian=w.guardian.employee_number,
        caldicott_reference="CG-2026-002",
    )
    return w.cat


def test_a_held_change_waits_for_the_line_manager(w: World) -> None:
    cat = w.hscn(admin_with_approvals(w))
    with pytest.raises(esr.NotPermittedError):
        w.esr.change_details(cat, w.ann.employee_number, family_name="Smith")
    held = w.esr.request_details_change(cat, w.ann.employee_number, family_name="Smith")
    assert held is not None
    assert held.status == "pending" and held.approver == w.mary.employee_number
    assert held.what == "surname"
    assert w.esr.person(VPD, w.ann.employee_number).family_name == "Able"

    mary = w.hscn(w.mary)
    items = w.esr.notifications(mary, open_only=True, kind="record_change_to_approve")
    assert len(items) == 1
    item = items[0]
    assert item.actions == ["approve", "reject"] and item.item == held.id
    assert w.esr.notification_count(mary) >= 1

    # Only Mary may act, and only as the notification allows.
    with pytest.raises(esr.NotPermittedError):
        w.esr.act_on_notification(w.hscn(w.ann), item.id, "approve")
    with pytest.raises(esr.InvalidInputError):
        w.esr.act_on_notification(mary, item.id, "reject")
    with pytest.raises(esr.InvalidInputError):
        w.esr.act_on_notification(mary, item.id, "acknowledge")

    done = w.esr.act_on_notification(mary, item.id, "approve")
    assert done.state == "actioned" and done.actions == []
    assert w.esr.person(VPD, w.ann.employee_number).family_name == "Smith"
    assert w.esr.pending_change(cat, held.id).status == "applied"
    with pytest.raises(esr.ConflictError):
        w.esr.act_on_notification(mary, item.id, "approve")
    ann = w.hscn(w.ann)
    assert [n.kind for n in w.esr.notifications(ann, open_only=True)] == ["record_changed"]


def test_a_rejected_change_keeps_its_reason(w: World) -> None:
    cat = w.hscn(admin_with_approvals(w))
    held = w.esr.request_details_change(cat, w.ann.employee_number, given_name="Annie")
    assert held is not None
    mary = w.hscn(w.mary)
    item = w.esr.notifications(mary, open_only=True, kind="record_change_to_approve")[0]
    w.esr.act_on_notification(mary, item.id, "reject", reason="not asked for")
    change = w.esr.pending_change(mary, held.id)
    assert change.status == "rejected" and change.reason == "not asked for"
    assert w.esr.person(VPD, w.ann.employee_number).given_name == "Ann"


def test_the_internet_shows_only_the_count_until_an_upgrade(w: World) -> None:
    cat = w.hscn(admin_with_approvals(w))
    w.esr.request_details_change(cat, w.ann.employee_number, family_name="Smith")
    w.give_mobile(w.mary)
    web = w.web(w.mary)
    assert w.esr.notification_count(web) >= 1
    assert w.esr.notifications(web) == []
    hscn_items = w.esr.notifications(w.hscn(w.mary), kind="record_change_to_approve")
    with pytest.raises(esr.NotPermittedError):
        w.esr.act_on_notification(web, hscn_items[0].id, "approve")
    c = w.esr.request_upgrade_code(web)
    code = w.outbox.last_code_to("07700 900374")
    assert code is not None
    assert w.esr.verify_passcode(web, c, code)
    kinds = {n.kind for n in w.esr.notifications(web)}
    assert "record_change_to_approve" in kinds and "urp_granted" not in kinds


def test_unknown_kind_and_action_are_refused(w: World) -> None:
    mary = w.hscn(w.mary)
    with pytest.raises(esr.InvalidInputError):
        w.esr.notifications(mary, kind="no_such_kind")
    with pytest.raises(esr.InvalidInputError):
        w.esr.act_on_notification(mary, "00" * 16, "maybe")
    with pytest.raises(esr.NotFoundError):
        w.esr.act_on_notification(mary, "00" * 16, "approve")
    with pytest.raises(esr.InvalidInputError):
        w.esr.request_assignment_change(mary, w.ann.employee_number, w.ann.employee_number)
