"""The compliance views and learning through the C ABI: My Compliance with RAG rows and
percentages, a certification subscribed, enrolled and completed turning the Red row Green,
My e-Learning, subscriptions, Team Compliance for the manager, recorded and local
competences, and learning refusals."""

from __future__ import annotations

import pytest

import esr_ffi
from conftest import CLASS, CR, EASSESS, PART1, PART2, SYSTEM, VPD, World
from esr_ffi import EsrActor, CalendarDate, ComplianceStatus, EsrError, Need, Performance, PlayResult


def conflict_row(w: World, compliance: esr_ffi.PersonCompliance) -> esr_ffi.ComplianceRow:
    (row,) = [r for r in compliance.assignments[0].rows if r.competence == w.conflict]
    return row


def test_a_certification_turns_my_red_row_green(w: World) -> None:
    me = w.smartcard(w.emma)
    who = EsrActor.USER(session=me)
    e = w.emma.employee_number
    mine = w.esr.my_compliance(me, None)
    assert mine.employee_number == e
    assert mine.as_of == w.esr.uk_today()
    assert (mine.summary.essential, mine.summary.red, mine.summary.percent) == (1, 1, 0.0)
    row = conflict_row(w, mine)
    assert (row.status, row.need, row.held, row.expiry) == (ComplianceStatus.RED, Need.ESSENTIAL, False, None)
    assert [c.name for c in w.esr.certifications_for(VPD, w.conflict)] == [CR]

    sub = w.esr.subscribe(who, VPD, e, CR)
    assert sub.certification == CR and sub.cycle == 1
    assert isinstance(sub.status, esr_ffi.SubscriptionStatus.SUBSCRIBED)
    assert sub.status.due == CalendarDate(year=2029, month=11, day=21)
    assert not sub.status.overdue
    with pytest.raises(EsrError.LearningRefused):
        w.esr.play(who, VPD, e, CR, PART1, PlayResult.COMPLETED())
    for course in (PART1, PART2, EASSESS):
        enrolled = w.esr.enrol(who, VPD, e, CR, course, CLASS)
        assert (enrolled.course, enrolled.class_name, enrolled.performance) == (
            course, CLASS, Performance.NOT_ATTEMPTED)
    saved = w.esr.play(who, VPD, e, CR, PART1, PlayResult.PROGRESS(percent=40))
    assert (saved.enrolment.performance, saved.enrolment.progress) == (Performance.IN_PROGRESS, 40)
    for course in (PART1, PART2):
        done = w.esr.play(who, VPD, e, CR, course, PlayResult.COMPLETED())
        assert done.awarded is None and done.enrolment.completed_on == w.esr.uk_today()
    with pytest.raises(EsrError.LearningRefused) as refused:
        w.esr.play(who, VPD, e, CR, EASSESS, PlayResult.COMPLETED())
    assert "eAssessment" in refused.value.message
    failed = w.esr.play(who, VPD, e, CR, EASSESS, PlayResult.FAILED(score=40))
    assert (failed.enrolment.performance, failed.enrolment.score) == (Performance.FAILED, 40)
    passed = w.esr.play(who, VPD, e, CR, EASSESS, PlayResult.PASSED(score=90))
    assert passed.awarded is not None
    assert passed.awarded.competence == w.conflict
    assert passed.awarded.level == "1 - Assessed"
    assert passed.enrolment.attempts == 2

    mine = w.esr.my_compliance(me, None)
    assert (mine.summary.green, mine.summary.red, mine.summary.percent) == (1, 0, 100.0)
    row = conflict_row(w, mine)
    assert row.status == ComplianceStatus.GREEN and row.held
    assert row.expiry == passed.awarded.expiry

    (view,) = w.esr.subscriptions(who, VPD, e)
    assert isinstance(view.status, esr_ffi.SubscriptionStatus.CERTIFIED)
    assert [x.course for x in view.enrolments] == [PART1, PART2, EASSESS]
    learning = w.esr.my_elearning(me, True)
    assert {x.course for x in learning} == {PART1, PART2, EASSESS}
    assert all(x.mandatory and x.completed_on is not None for x in learning)


def test_compliance_as_of_a_later_day_turns_amber_then_red(w: World) -> None:
    me = w.smartcard(w.emma)
    w.esr.record_competence(SYSTEM, VPD, w.emma.employee_number, esr_ffi.NewCompetenceRecord(
        competence=w.conflict, achieved=CalendarDate(year=2026, month=1, day=10),
        expiry=esr_ffi.RecordExpiry.ON(date=CalendarDate(year=2027, month=1, day=9)), level=None))
    assert conflict_row(w, w.esr.my_compliance(me, None)).status == ComplianceStatus.AMBER
    later = w.esr.my_compliance(me, CalendarDate(year=2027, month=1, day=10))
    assert later.as_of == CalendarDate(year=2027, month=1, day=10)
    assert conflict_row(w, later).status == ComplianceStatus.RED
    assert later.summary.percent == 0.0
    with pytest.raises(EsrError.InvalidInput):
        w.esr.my_compliance(me, CalendarDate(year=2027, month=13, day=1))


def test_team_compliance_shows_the_managers_team(w: World) -> None:
    boss = w.smartcard(w.mia)
    w.esr.record_competence(SYSTEM, VPD, w.emma.employee_number, esr_ffi.NewCompetenceRecord(
        competence=w.conflict, achieved=w.esr.uk_today(),
        expiry=esr_ffi.RecordExpiry.REFRESHER(), level="1 - Assessed"))
    team = w.esr.team_compliance(boss, None)
    assert team.as_of == w.esr.uk_today()
    (member,) = team.members
    assert (member.given_name, member.family_name, member.employee_number, member.depth) == (
        "Emma", "Conroy", w.emma.employee_number, 1)
    assert member.compliance.counts.percent == 100.0
    assert member.compliance.org_unit == "Ward 5"
    assert member.compliance.rows[0].status == ComplianceStatus.GREEN
    with pytest.raises(EsrError.NotPermitted) as e:
        w.esr.team_compliance(w.smartcard(w.emma), None)
    assert "Team Compliance" in e.value.message


def test_unsubscribing_cancels_and_a_second_subscription_is_refused(w: World) -> None:
    e = w.emma.employee_number
    w.esr.subscribe(SYSTEM, VPD, e, CR)
    with pytest.raises(EsrError.LearningRefused):
        w.esr.subscribe(SYSTEM, VPD, e, CR)
    w.esr.unsubscribe(SYSTEM, VPD, e, CR)
    (view,) = w.esr.subscriptions(SYSTEM, VPD, e)
    assert isinstance(view.status, esr_ffi.SubscriptionStatus.CANCELLED)
    assert view.status.on == w.esr.uk_today()
    with pytest.raises(EsrError.NotFound) as missing:
        w.esr.subscribe(SYSTEM, VPD, e, "No Such Certification")
    assert "No Such Certification" in missing.value.message


def test_a_local_competence_can_be_defined_and_required(w: World) -> None:
    name = "297|LOCAL|Ward 5 Induction|"
    w.esr.define_competence(SYSTEM, VPD, esr_ffi.CompetenceDefinition(
        name=name, refresher_months=12, active=True))
    (d,) = [c for c in w.esr.competence_catalogue(VPD) if c.name == name]
    assert (d.refresher_months, d.active) == (12, True)
    w.esr.set_requirement(SYSTEM, VPD, name, esr_ffi.RequirementTarget.POSITION(
        position=f"{VPD}|Staff Nurse|Ward 5|"), False)
    rows = w.esr.my_compliance(w.smartcard(w.emma), None).assignments[0].rows
    (row,) = [r for r in rows if r.competence == name]
    assert (row.need, row.status) == (Need.DESIRABLE, None)
    w.esr.set_requirement(SYSTEM, VPD, name, esr_ffi.RequirementTarget.JOB(job="Staff Nurse"), True)
    with pytest.raises(EsrError.InvalidInput):
        w.esr.define_competence(SYSTEM, VPD, esr_ffi.CompetenceDefinition(
            name="no pipes", refresher_months=None, active=True))
    with pytest.raises(EsrError.NotFound):
        w.esr.set_requirement(SYSTEM, VPD, "297|LOCAL|Never Defined|",
                              esr_ffi.RequirementTarget.ORG_UNIT(unit="Ward 5"), True)
