"""Certifications and enrolment from Python: a Red Conflict Resolution row turned Green,
learning reported without a subscription, refusals with the core's message, the renewal window
computed on read with the manual clock, My e-Learning, and secrets kept out of repr."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest

import esr
from esr import (
    ComponentKind,
    Esr,
    ExpiryBase,
    ManualClock,
    NotRecordedKind,
    Performance,
    Person,
    PlayResult,
    Session,
    SubscriptionStatusKind,
)

VPD = "297"
PASSWORD = "correct horse battery staple"
CARD = "CARD-0001"
START = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
TODAY = date(2026, 11, 22)
CR = "297 Core Skills - NHS Conflict Resolution - 3 Years"
PART1 = "297 NHS Conflict Resolution - Part 1"
PART2 = "297 NHS Conflict Resolution - Part 2"
EASSESS = "297 NHS Conflict Resolution - eAssessment"
CLASS = "e-Learning"
LEARNING = "learning and development team"


@dataclass
class World:
    """A trust whose Ward 5 must hold Conflict Resolution, with the certification that awards it."""

    esr: Esr
    clock: ManualClock
    emma: Person
    fred: Person
    conflict: str

    def session(self, person: Person) -> Session:
        return self.esr.log_in_with_smartcard(person.username, CARD)

    def today(self) -> date:
        return self.esr.uk_today()


def competence(service: Esr, title: str) -> str:
    names = [d.name for d in service.competence_catalogue(VPD) if title in d.name]
    assert len(names) == 1, names
    return names[0]


def cr_components() -> list[esr.Component]:
    return [
        esr.Component(PART1, ComponentKind.COURSE, [CLASS, "Classroom, Seminar Room 2"]),
        esr.Component(PART2, ComponentKind.COURSE, [CLASS]),
        esr.Component(EASSESS, ComponentKind.E_ASSESSMENT, [CLASS]),
    ]


@pytest.fixture
def w() -> World:
    clock = esr.ManualClock(START)
    service = esr.Esr(clock=clock, fast_password_hashing=True)
    service.create_trust(VPD, "Northfield NHS Trust")
    service.add_org_unit("trust set-up", VPD, "Ward 5", "Ward 5")

    def staff(number: str, given: str, family: str) -> Person:
        p = service.add_person(
            "recruitment feed",
            VPD,
            employee_number=number,
            given_name=given,
            family_name=family,
            date_of_birth=date(1985, 3, 14),
            recruitment_email=f"staff{number}@nhs.net",
        )
        service.add_assignment(
            "recruitment feed",
            VPD,
            number=number,
            employee_number=number,
            title="Staff Nurse",
            position=f"{VPD}|Staff Nurse|Ward 5|",
            org_unit="Ward 5",
        )
        return p

    emma = staff("29700001", "Emma", "Conroy")
    fred = staff("29700002", "Fred", "Fisher")
    conflict = competence(service, "NHS Conflict Resolution (England) - 3 Years")
    service.set_requirement(LEARNING, VPD, conflict, org_unit="Ward 5")
    service.define_certification(
        LEARNING,
        VPD,
        CR,
        competence=conflict,
        level="1 - Assessed",
        validity_days=1095,
        completion_window_days=1095,
        renewal=esr.Renewal(90, ExpiryBase.PREVIOUS_EXPIRY),
        mandatory=True,
        components=cr_components(),
    )
    return World(service, clock, emma, fred, conflict)


def row_status(w: World, person: Person) -> esr.ComplianceStatus | None:
    rows = w.esr.my_compliance(w.session(person)).assignments[0].rows
    (row,) = [r for r in rows if r.competence == w.conflict]
    return row.status


def certify(w: World, actor: Session | str, person: Person) -> esr.PlayOutcome:
    e = person.employee_number
    for course in (PART1, PART2, EASSESS):
        w.esr.enrol(actor, VPD, e, CR, course, CLASS)
    for course in (PART1, PART2):
        assert w.esr.play(actor, VPD, e, CR, course, PlayResult.completed()).awarded is None
    return w.esr.play(actor, VPD, e, CR, EASSESS, PlayResult.passed(90))


# ----- the whole flow ----------------------------------------------------------------------


def test_red_row_turns_green(w: World) -> None:
    me = w.session(w.emma)
    e = w.emma.employee_number
    assert w.esr.my_compliance(me).summary.red == 1
    assert row_status(w, w.emma) == esr.ComplianceStatus.RED

    # Find Learning, and the definition read back as defined.
    (found,) = w.esr.certifications_for(VPD, w.conflict)
    assert found.name == CR and found.level == "1 - Assessed" and found.mandatory
    assert found.renewal is not None and found.renewal.window_days == 90
    assert found.renewal.base == ExpiryBase.PREVIOUS_EXPIRY
    assert found.completion_rule == esr.CompletionRule.ALL_COMPONENTS
    assert [(c.course, c.kind) for c in found.components] == [
        (PART1, ComponentKind.COURSE),
        (PART2, ComponentKind.COURSE),
        (EASSESS, ComponentKind.E_ASSESSMENT),
    ]
    assert found.components[0].classes == [CLASS, "Classroom, Seminar Room 2"]
    assert [c.name for c in w.esr.certifications(VPD)] == [CR]
    assert w.esr.certifications_for(VPD, competence(w.esr, "Fire Safety - 1 Year")) == []

    sub = w.esr.subscribe(me, VPD, e, CR)
    assert sub.state == esr.SubscriptionState.IN_PROGRESS and sub.cycle == 1
    assert sub.path == esr.CertificationPath.CERTIFICATION
    assert sub.subscribed_on == TODAY and sub.due == TODAY + timedelta(days=1095)
    assert sub.certified is None and sub.cancelled_on is None

    enrolled = [w.esr.enrol(me, VPD, e, CR, c, CLASS) for c in (PART1, PART2, EASSESS)]
    assert [x.class_name for x in enrolled] == [CLASS] * 3
    assert all(x.status == esr.ComponentStatus.PLANNED and x.completed_on is None for x in enrolled)
    assert all(x.performance == Performance.NOT_ATTEMPTED and x.mandatory for x in enrolled)
    (view,) = w.esr.subscriptions(me, VPD, e)
    assert view.status.kind == SubscriptionStatusKind.SUBSCRIBED
    assert view.status.due == sub.due and not view.status.overdue
    assert str(view.status).startswith("subscribed, due")
    assert [x.course for x in view.enrolments] == [PART1, PART2, EASSESS]

    saved = w.esr.play(me, VPD, e, CR, PART1, PlayResult.progress(60))
    assert saved.enrolment.performance == Performance.IN_PROGRESS and saved.enrolment.progress == 60
    done = w.esr.play(me, VPD, e, CR, PART1, PlayResult.completed()).enrolment
    assert done.status == esr.ComponentStatus.COMPLETED and done.completed_on == TODAY
    assert w.esr.play(me, VPD, e, CR, PART2, PlayResult.completed()).awarded is None
    failed = w.esr.play(me, VPD, e, CR, EASSESS, PlayResult.failed(40))
    assert failed.enrolment.performance == Performance.FAILED and failed.enrolment.attempts == 1
    assert failed.enrolment.score == 40 and failed.awarded is None
    assert row_status(w, w.emma) == esr.ComplianceStatus.RED

    passed = w.esr.play(me, VPD, e, CR, EASSESS, PlayResult.passed(85))
    assert passed.enrolment.performance == Performance.PASSED and passed.enrolment.attempts == 2
    award = passed.awarded
    assert award is not None and award.competence == w.conflict
    assert award.achieved == TODAY and award.expiry == TODAY + timedelta(days=1095)
    assert award.level == "1 - Assessed"

    after = w.esr.my_compliance(w.session(w.emma))
    assert after.summary.red == 0 and after.summary.percent == 100.0
    assert row_status(w, w.emma) == esr.ComplianceStatus.GREEN
    (view,) = w.esr.subscriptions(me, VPD, e)
    assert view.subscription.state == esr.SubscriptionState.CERTIFIED
    assert view.subscription.certified is not None
    assert view.subscription.certified.completed == TODAY
    assert view.status.kind == SubscriptionStatusKind.CERTIFIED
    assert view.status.expiry == award.expiry
    assert view.status.window_opens == award.expiry - timedelta(days=90)
    assert str(view.status) == view.status.text and str(view.status).startswith("certified until")


def test_learning_without_a_subscription_is_reported_not_recorded(w: World) -> None:
    feed = "e-learning content feed"
    e = w.emma.employee_number

    unknown = w.esr.record_learning(feed, VPD, e, "999 Not A Course", PlayResult.completed())
    assert not unknown and not unknown.recorded and unknown.outcome is None
    assert unknown.reason is not None and unknown.reason.kind == NotRecordedKind.NO_CERTIFICATION
    assert str(unknown.reason) == "no certification includes this course"

    out = w.esr.record_learning(w.session(w.emma), VPD, e, PART1, PlayResult.completed())
    assert not out and out.certification is None
    reason = out.reason
    assert reason is not None and reason.kind == NotRecordedKind.NOT_SUBSCRIBED
    assert reason.certifications == [CR] and reason.why is None
    assert str(reason) == reason.message and "subscribe before playing the learning" in reason.message
    # Nothing was recorded: no subscription, no enrolment, no competence.
    assert w.esr.subscriptions(feed, VPD, e) == []
    assert w.esr.competence_records(feed, VPD, e) == []

    # Subscribed but not enrolled in the course: refused, with the core's reason.
    w.esr.subscribe(feed, VPD, e, CR)
    refused = w.esr.record_learning(feed, VPD, e, PART1, PlayResult.completed())
    assert refused.reason is not None and refused.reason.kind == NotRecordedKind.REFUSED
    assert refused.reason.certifications == [CR]
    assert refused.reason.why is not None and "not enrolled" in refused.reason.why

    # Enrolled: recorded against the certification.
    w.esr.enrol(feed, VPD, e, CR, PART1, CLASS)
    recorded = w.esr.record_learning(feed, VPD, e, PART1, PlayResult.completed())
    assert recorded and recorded.certification == CR and recorded.reason is None
    assert recorded.outcome is not None
    assert recorded.outcome.enrolment.performance == Performance.COMPLETED


def test_refused_transitions_raise_with_the_core_message(w: World) -> None:
    me = w.session(w.emma)
    e = w.emma.employee_number
    with pytest.raises(esr.LearningRefusedError) as not_subscribed:
        w.esr.enrol(me, VPD, e, CR, PART1, CLASS)
    assert str(not_subscribed.value) == (
        f'you cannot enrol in "{CR}" now: you are not subscribed to it; '
        "subscribe to the certification first, or your learning will not be recorded"
    )
    sub = w.esr.subscribe(me, VPD, e, CR)
    with pytest.raises(esr.LearningRefusedError) as twice:
        w.esr.subscribe(me, VPD, e, CR)
    assert str(twice.value) == (
        f'you cannot subscribe to "{CR}" now: the subscription is subscribed, due 21-Nov-2029; '
        "you are subscribed already; enrol in its components from the certification"
    )
    assert isinstance(twice.value, esr.ConflictError) and isinstance(twice.value, esr.EsrError)
    assert issubclass(esr.LearningRefusedError, esr.ConflictError)

    w.esr.enrol(me, VPD, e, CR, PART1, CLASS)
    with pytest.raises(esr.LearningRefusedError, match="a course is completed, not passed or failed"):
        w.esr.play(me, VPD, e, CR, PART1, PlayResult.passed(90))
    with pytest.raises(esr.LearningRefusedError, match="not enrolled in"):
        w.esr.play(me, VPD, e, CR, PART2, PlayResult.completed())
    with pytest.raises(esr.InvalidInputError, match="progress"):
        w.esr.play(me, VPD, e, CR, PART1, PlayResult.progress(100))
    with pytest.raises(esr.NotFoundError, match="has no certification"):
        w.esr.subscribe(me, VPD, e, "297 No Such Certification")
    with pytest.raises(esr.NotFoundError, match="has no component"):
        w.esr.enrol(me, VPD, e, CR, "297 Not A Course", CLASS)
    with pytest.raises(esr.InvalidInputError, match="renewal window"):
        w.esr.define_certification(
            LEARNING, VPD, "297 Too Long A Window", competence=w.conflict, validity_days=30,
            completion_window_days=30, renewal=esr.Renewal(31), components=cr_components(),
        )
    with pytest.raises(esr.InvalidInputError):
        w.esr.define_certification(
            LEARNING, VPD, "297 Bad Level", competence=w.conflict, validity_days=30,
            completion_window_days=30, components=cr_components(), level="Expert",
        )
    # Someone else's learning needs Learning administration.
    with pytest.raises(esr.NotPermittedError):
        w.esr.subscribe(w.session(w.fred), VPD, e, CR)
    # The refusals left the stored state as it was.
    (view,) = w.esr.subscriptions(me, VPD, e)
    assert repr(view.subscription) == repr(sub)
    assert [(x.course, x.performance) for x in view.enrolments] == [(PART1, Performance.NOT_ATTEMPTED)]
    assert [c.name for c in w.esr.certifications(VPD)] == [CR]


def test_renewal_window_status_is_computed_on_read(w: World) -> None:
    e = w.emma.employee_number
    w.esr.subscribe(LEARNING, VPD, e, CR)
    award = certify(w, LEARNING, w.emma).awarded
    assert award is not None and award.expiry is not None
    expiry = award.expiry
    opens = expiry - timedelta(days=90)

    def status() -> esr.SubscriptionStatus:
        (view,) = w.esr.subscriptions(LEARNING, VPD, e)
        return view.status

    # The day before the window opens (09:00 UTC is the same UK day): still certified.
    w.clock.set(datetime(opens.year, opens.month, opens.day, 9, 0, tzinfo=timezone.utc) - timedelta(days=1))
    assert status().kind == SubscriptionStatusKind.CERTIFIED
    with pytest.raises(esr.LearningRefusedError, match="until the renewal window opens on"):
        w.esr.enrol(LEARNING, VPD, e, CR, PART1, CLASS)
    # Nothing was stored in between: the window opens by reading on the next day.
    w.clock.advance(timedelta(days=1))
    s = status()
    assert s.kind == SubscriptionStatusKind.RENEWAL_WINDOW_OPEN and not s.renewing
    assert s.expiry == expiry and str(s).startswith("renewal window open, certified until")
    with pytest.raises(esr.LearningRefusedError, match="enrol in the components again"):
        w.esr.play(LEARNING, VPD, e, CR, PART1, PlayResult.completed())

    # Enrolling begins the recertification path (cycle 2); renewing inside the window keeps
    # the anniversary (expiry counted from the previous expiry).
    again = w.esr.enrol(LEARNING, VPD, e, CR, PART1, CLASS)
    assert again.cycle == 2
    (view,) = w.esr.subscriptions(LEARNING, VPD, e)
    assert view.subscription.path == esr.CertificationPath.RECERTIFICATION
    assert view.status.kind == SubscriptionStatusKind.RENEWAL_WINDOW_OPEN and view.status.renewing
    for course in (PART2, EASSESS):
        w.esr.enrol(LEARNING, VPD, e, CR, course, CLASS)
    for course in (PART1, PART2):
        w.esr.play(LEARNING, VPD, e, CR, course, PlayResult.completed())
    renewed = w.esr.play(LEARNING, VPD, e, CR, EASSESS, PlayResult.passed(95)).awarded
    assert renewed is not None and renewed.expiry == expiry + timedelta(days=1095)
    assert renewed.expiry is not None

    # Past the renewed expiry, read again: expired, and the row is Red.
    later = renewed.expiry + timedelta(days=1)
    w.clock.set(datetime(later.year, later.month, later.day, 9, 0, tzinfo=timezone.utc))
    s = status()
    assert s.kind == SubscriptionStatusKind.EXPIRED and s.expiry == renewed.expiry and not s.renewing
    assert row_status(w, w.emma) == esr.ComplianceStatus.RED

    # Unsubscribing cancels; the status says so.
    cancelled = w.esr.unsubscribe(LEARNING, VPD, e, CR)
    assert cancelled.state == esr.SubscriptionState.CANCELLED and cancelled.cancelled_on == later
    assert status().kind == SubscriptionStatusKind.CANCELLED and status().cancelled_on == later


def test_my_elearning_limit_order_and_mandatory_filter(w: World) -> None:
    e = w.emma.employee_number
    total = esr.MY_ELEARNING_LIMIT + 5
    for i in range(total):
        name = f"297 Local Course Certification {i:02}"
        course = f"297 Local Course {i:02}"
        w.esr.define_certification(
            LEARNING, VPD, name, competence=w.conflict, validity_days=365, completion_window_days=365,
            components=[esr.Component(course, ComponentKind.COURSE, [CLASS])], mandatory=i % 2 == 0,
        )
        w.esr.subscribe(LEARNING, VPD, e, name)
        w.esr.enrol(LEARNING, VPD, e, name, course, CLASS)
        w.clock.advance(timedelta(minutes=1))
    me = w.session(w.emma)

    shown = w.esr.my_elearning(me)
    assert len(shown) == esr.MY_ELEARNING_LIMIT == 20
    assert [x.course for x in shown] == [f"297 Local Course {i:02}" for i in reversed(range(5, total))]
    assert [x.enrolled_at for x in shown] == sorted((x.enrolled_at for x in shown), reverse=True)

    mandatory = w.esr.my_elearning(me, mandatory_only=True)
    assert all(x.mandatory for x in mandatory)
    assert [x.course for x in mandatory] == [
        f"297 Local Course {i:02}" for i in reversed(range(total)) if i % 2 == 0
    ]
    # Another learner sees only their own.
    assert w.esr.my_elearning(w.session(w.fred)) == []


# ----- shapes: enums, results, repr --------------------------------------------------------


def test_enums_and_results_print_and_compare_as_expected() -> None:
    assert str(Performance.NOT_ATTEMPTED) == "Not Attempted" and repr(Performance.FAILED) == "Performance.FAILED"
    assert str(ComponentKind.E_ASSESSMENT) == "eAssessment"
    assert repr(ComponentKind.E_ASSESSMENT) == "ComponentKind.E_ASSESSMENT"
    assert str(esr.CertificationPath.RECERTIFICATION) == "recertification path"
    assert str(ExpiryBase.PREVIOUS_EXPIRY) == "previous expiry"
    assert str(esr.ComponentStatus.PLANNED) == "Planned"
    assert str(SubscriptionStatusKind.RENEWAL_WINDOW_OPEN) == "renewal window open"
    assert len({Performance.PASSED, Performance.PASSED, Performance.FAILED}) == 2
    assert PlayResult.passed(90) == PlayResult.passed(90) and PlayResult.passed(90) != PlayResult.failed(90)
    assert len({PlayResult.completed(), PlayResult.completed()}) == 1
    assert repr(PlayResult.progress(60)) == "PlayResult.progress(60)"
    assert repr(PlayResult.completed()) == "PlayResult.completed()"
    assert (PlayResult.failed(40).kind, PlayResult.failed(40).percent) == ("failed", 40)
    with pytest.raises(OverflowError):
        PlayResult.passed(300)
    assert esr.Renewal(30).base == ExpiryBase.COMPLETION_DATE


def test_repr_never_shows_a_secret(w: World) -> None:
    me = w.session(w.emma)
    e = w.emma.employee_number
    w.esr.subscribe(me, VPD, e, CR)
    outcome = certify(w, me, w.emma)
    not_recorded = w.esr.record_learning(me, VPD, w.emma.employee_number, PART1, PlayResult.completed())
    things: list[object] = [
        w.esr.certifications(VPD),
        w.esr.subscriptions(me, VPD, e),
        w.esr.my_elearning(me),
        outcome,
        not_recorded,
    ]
    secret = me.expose_id()
    for thing in things:
        text = repr(thing)
        assert secret not in text and PASSWORD not in text, text
    assert repr(outcome).startswith("PlayOutcome(enrolment=Enrolment(vpd='297'")
    assert "status=ComponentStatus.COMPLETED" in repr(outcome)
    assert "kind=NotRecordedKind.REFUSED" in repr(not_recorded)
