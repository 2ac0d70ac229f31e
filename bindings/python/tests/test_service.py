"""The service from Python: a whole trust walked through, passcodes on the manual clock,
account recovery, compliance, threads, secrets kept out of repr, and every exception type."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest

import esr
from esr import Esr, ManualClock, Outbox, Person, Session
from test_secrets import without_digests

VPD = "297"
MOBILE = "07700 900374"
PASSWORD = "correct horse battery staple"
START = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
CARD = "CARD-0001"
MANAGER_URP = "Manager Self Service (Payroll Approvals Required)"
UNITS = [
    ("Trust HQ", None),
    ("Medicine", "Trust HQ"),
    ("Ward 5", "Medicine"),
    ("Ward 6", "Medicine"),
]


@dataclass
class World:
    """A trust: two user administrators, a Caldicott guardian, a manager and her team."""

    esr: Esr
    clock: ManualClock
    outbox: Outbox
    admin_a: Person
    admin_b: Person
    guardian: Person
    mary: Person
    ann: Person
    ben: Person
    cat: Person
    admin_session: Session

    def hscn(self, person: Person) -> Session:
        return self.esr.log_in_with_smartcard(person.username, CARD)

    def web(self, person: Person) -> Session:
        return self.esr.log_in_with_password(person.username, PASSWORD)

    def give_mobile(self, person: Person) -> None:
        s = self.hscn(person)
        c = self.esr.request_mobile_code(s, MOBILE)
        code = self.outbox.last_code_to(MOBILE)
        assert code is not None
        assert self.esr.verify_passcode(s, c, code)
        self.clock.advance(timedelta(minutes=1))  # past the resend interval for this number


def build() -> World:
    clock = esr.ManualClock(START)
    outbox = esr.Outbox()
    service = esr.Esr(
        clock=clock,
        sms_sender=outbox,
        email_sender=outbox,
        fast_password_hashing=True,
        passcode_key=bytes(range(0x42, 0x62)),
    )
    service.create_trust(VPD, "Northfield NHS Trust", automatic_internet_access=True, upgrade_manager=True)
    for unit, parent in UNITS:
        service.add_org_unit("trust set-up", VPD, unit, unit, parent)
    n = iter(range(1, 100))

    def staff(given: str, family: str, unit: str, supervisor: esr.Person | None = None) -> esr.Person:
        number = f"{VPD}{next(n):05}"
        p = service.add_person(
            "recruitment feed",
            VPD,
            employee_number=number,
            given_name=given,
            family_name=family,
            date_of_birth=date(1985, 3, 14),
            recruitment_email=f"staff{number}@nhs.net",
        )
        service.set_password("recruitment feed", p.username, PASSWORD)
        service.add_assignment(
            "recruitment feed",
            VPD,
            number=number,
            employee_number=number,
            title="Staff Nurse",
            position=f"{VPD}|Staff Nurse|{unit}|",
            org_unit=unit,
            supervisor=None if supervisor is None else supervisor.employee_number,
        )
        return p

    admin_a = staff("Alice", "Adams", "Trust HQ")
    admin_b = staff("Bernard", "Brown", "Trust HQ")
    guardian = staff("Gwen", "Guardian", "Trust HQ")
    grants = service.bootstrap_user_administrators(VPD, [admin_a.username, admin_b.username], "go-live")
    assert [g.urp for g in grants] == ["Local HRMS Systems and User Administration"] * 2
    admin_session = service.log_in_with_smartcard(admin_a.username, CARD)
    mary = staff("Mary", "Manager", "Ward 5")
    service.grant_urp(
        admin_session,
        mary.username,
        MANAGER_URP,
        reason="runs Ward 5",
        caldicott_guardian=guardian.employee_number,
        caldicott_reference="CG-2026-001",
    )
    ann = staff("Ann", "Able", "Ward 5", mary)
    ben = staff("Ben", "Baker", "Ward 5", mary)
    cat = staff("Cat", "Cole", "Ward 6")
    return World(service, clock, outbox, admin_a, admin_b, guardian, mary, ann, ben, cat, admin_session)


@pytest.fixture
def w() -> World:
    return build()


def competence(w: World, title: str) -> str:
    names = [d.name for d in w.esr.competence_catalogue(VPD) if title in d.name]
    assert len(names) == 1, names
    return names[0]


# ----- the whole trust ---------------------------------------------------------------------


def test_whole_trust_walk(w: World) -> None:
    t = w.esr.trust(VPD)
    assert t.name == "Northfield NHS Trust" and t.settings.automatic_internet_access
    assert {u.id for u in w.esr.trust(VPD).org_units} == {u for u, _ in UNITS}
    assert len(w.esr.people(VPD)) == 7
    assert MANAGER_URP in w.esr.held_urps(w.mary.username)
    grant = [g for g in w.esr.grants_of(w.mary.username) if g.urp == MANAGER_URP][0]
    assert grant.active and grant.org_units is None and "CG-2026-001" in grant.approval

    # Log in on each channel.
    hscn = w.hscn(w.mary)
    web = w.web(w.mary)
    assert hscn.channel == esr.Channel.HSCN and web.channel == esr.Channel.INTERNET
    assert not web.upgraded and web.expires_at == START + timedelta(hours=12)
    assert len(w.esr.live_sessions(w.mary.username)) == 2

    # Access decisions per channel.
    assert w.esr.decide(hscn, "Team Compliance")
    on_web = w.esr.decide(web, "Team Compliance")
    assert not on_web and on_web.reason is not None and "upgrade" in on_web.reason
    assert "My Compliance" in w.esr.functions(web)
    assert not w.esr.decide(w.web(w.ann), "Assign URPs")

    # Register a mobile by code, from HSCN only.
    with pytest.raises(esr.NotPermittedError):
        w.esr.request_mobile_code(web, MOBILE)
    c = w.esr.request_mobile_code(hscn, MOBILE)
    assert c.purpose == esr.Purpose.REGISTER_MOBILE and c.status == esr.ChallengeStatus.PENDING
    assert c.masked_destination == "xxxxxxx374" and c.message.endswith("xxxxxxx374")
    assert c.time_left == timedelta(minutes=10) and c.attempts_left == 5
    code = w.outbox.last_code_to(MOBILE)
    assert code is not None and len(code) == 6
    registered = w.esr.verify_passcode(hscn, c, code)
    assert registered and registered.outcome == "approved"
    assert registered.mobile_masked == "xxxxxxx374" and not registered.mobile_changed
    assert w.esr.person(VPD, w.mary.employee_number).mobile_masked == "xxxxxxx374"

    # Upgrade the internet session by code: a wrong code first costs an attempt.
    w.clock.advance(timedelta(minutes=1))  # a code went to this number moments ago
    w.esr.check_upgrade(web)
    up = w.esr.request_upgrade_code(web)
    right = w.outbox.last_code_to(MOBILE)
    assert right is not None
    wrong = "000000" if right != "000000" else "111111"
    first = w.esr.verify_passcode(web, up, wrong)
    assert not first and first.outcome == "wrong code" and first.attempts_left == 4
    assert w.esr.passcode_status(web, up).attempts_left == 4
    with pytest.raises(esr.InvalidInputError):
        w.esr.verify_passcode(web, up, "12ab")  # wrong shape: no attempt spent
    assert w.esr.passcode_status(web, up.id).attempts_left == 4
    done = w.esr.verify_passcode(web, up.id, right, purpose=esr.Purpose.UPGRADE_SESSION)
    assert done and done.session is not None and done.session.upgraded
    assert w.esr.session(web).upgraded
    assert w.esr.decide(web, "Team Compliance")
    assert w.esr.verify_passcode(web, up, right).outcome == "already used"
    with pytest.raises(esr.ConflictError):
        w.esr.request_upgrade_code(web)

    # Records and the team.
    team = w.esr.team(hscn)
    assert [(m.family_name, m.depth) for m in team] == [("Able", 1), ("Baker", 1)]
    record = w.esr.view_record(hscn, w.ann.employee_number)
    assert record.basis == "line manager" and record.assignments[0].supervisor == w.mary.employee_number
    access = w.esr.record_access(w.mary.username, VPD, w.ann.employee_number)
    assert access.can_view and not w.esr.record_access(w.mary.username, VPD, w.cat.employee_number).can_view
    changed = w.esr.change_details(w.hscn(w.ann), w.ann.employee_number, given_name="Anne")
    assert changed.given_name == "Anne"

    # Log out; the audit trail verifies and records what happened.
    w.esr.log_out(web)
    with pytest.raises(esr.SessionExpiredError, match="ended"):
        w.esr.session(web)
    assert w.esr.live_sessions(w.mary.username) == [hscn]
    read_back = w.esr.live_sessions(w.mary.username)[0]
    assert read_back.audit_ref == hscn.audit_ref and hash(read_back) == hash(hscn)
    with pytest.raises(esr.InvalidInputError, match="only the session's holder"):
        read_back.expose_id()  # the store keeps only a hash of the id
    head = w.esr.verify_audit(VPD)
    assert head.seq == len(w.esr.audit_trail(VPD, 1, 10_000))
    assert w.esr.verify_audit(VPD, anchor=head).hash == head.hash
    report = w.esr.urp_audit_report(w.admin_session, VPD)
    assert any(r.urp == MANAGER_URP and r.username == w.mary.username for r in report)


def test_admin_settings_and_account_states(w: World) -> None:
    s = w.admin_session
    settings = w.esr.set_upgrade_access("set-up", VPD, manager=True, professional=True)
    assert settings.upgrade_professional
    assert "Team Compliance" in w.esr.set_portlet("set-up", VPD, "Team Compliance", True).enabled_portlets
    assert w.esr.add_local_bi_portlet("set-up", VPD, "Bank spend").local_bi_portlets == ["Bank spend"]
    assert w.esr.remove_local_bi_portlet("set-up", VPD, "Bank spend").local_bi_portlets == []
    assert not w.esr.set_automatic_internet_access("set-up", VPD, False).automatic_internet_access
    with pytest.raises(esr.LogInRefusedError):
        w.web(w.cat)  # no internet access any more
    w.esr.approve_internet_access(s, w.cat.username)
    assert w.esr.account(w.cat.username).internet_access_approved
    w.web(w.cat)
    w.esr.set_sms_template("set-up", VPD, "{code} is your {trust} code, valid {minutes} minutes")
    assert w.esr.suspend_account(s, w.cat.username, "investigation").state == esr.AccountState.SUSPENDED
    assert w.esr.reinstate_account(s, w.cat.username, "cleared").state == esr.AccountState.ACTIVE
    moved = w.esr.set_supervisor("feed", VPD, w.cat.employee_number, w.mary.employee_number)
    assert moved.supervisor == w.mary.employee_number
    assert [a.number for a in w.esr.assignments_of(VPD, w.cat.employee_number)] == [w.cat.employee_number]
    revoked = w.esr.revoke_urp(s, w.mary.username, MANAGER_URP, "moved on")
    assert not revoked.active and revoked.revoke_reason == "moved on"
    ended = w.esr.end_account(s, w.cat.username, "leaver")
    assert ended.state == esr.AccountState.ENDED and str(ended.state) == "ended"


# ----- passcodes on the manual clock -------------------------------------------------------


def test_code_expires_at_ten_minutes(w: World) -> None:
    w.give_mobile(w.mary)
    web = w.web(w.mary)
    c = w.esr.request_upgrade_code(web)
    code = w.outbox.last_code_to(MOBILE)
    assert code is not None
    w.clock.advance(timedelta(minutes=9, seconds=59))
    st = w.esr.passcode_status(web, c)
    assert st.status == esr.ChallengeStatus.PENDING and st.time_left == timedelta(seconds=1)
    w.clock.advance(timedelta(seconds=1))
    assert w.esr.passcode_status(web, c).status == esr.ChallengeStatus.EXPIRED
    out = w.esr.verify_passcode(web, c, code)
    assert not out and out.outcome == "expired"
    assert not w.esr.session(web).upgraded


def test_resend_supersedes_and_is_rate_limited(w: World) -> None:
    w.give_mobile(w.mary)
    web = w.web(w.mary)
    c = w.esr.request_upgrade_code(web)
    with pytest.raises(esr.RateLimitedError) as e:
        w.esr.resend_passcode(web, c)
    assert e.value.retry_after_seconds > 0
    w.clock.advance(timedelta(minutes=1))
    again = w.esr.resend_passcode(web, c)
    assert again.id != c.id and w.esr.passcode_status(web, c).status == esr.ChallengeStatus.SUPERSEDED


def test_threads_verify_concurrently_and_exactly_one_wins(w: World) -> None:
    w.give_mobile(w.mary)
    web = w.web(w.mary)
    c = w.esr.request_upgrade_code(web)
    code = w.outbox.last_code_to(MOBILE)
    assert code is not None
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def verify() -> None:
        barrier.wait()
        o = w.esr.verify_passcode(web, c, code)
        with lock:
            outcomes.append(o.outcome)

    threads = [threading.Thread(target=verify) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already used"] * 7 + ["approved"]


def test_threads_share_one_service(w: World) -> None:
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(20):
                s = w.esr.log_in_with_smartcard(w.ann.username, f"CARD-{i}")
                assert w.esr.decide(s, "My Compliance")
                w.esr.log_out(s)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    w.esr.verify_audit(VPD)


def test_python_callables_as_senders() -> None:
    texts: list[esr.SmsMessage] = []
    mails: list[esr.EmailMessage] = []
    clock = esr.ManualClock(START)
    service = esr.Esr(
        clock=clock, sms_sender=texts.append, email_sender=mails.append, fast_password_hashing=True,
        ephemeral_passcode_key=True,
    )
    service.create_trust(VPD, "Northfield")
    service.add_org_unit("set-up", VPD, "HQ", "HQ")
    p = service.add_person(
        "feed", VPD, employee_number="29700001", given_name="Emma", family_name="Conroy",
        date_of_birth=date(1985, 3, 14), recruitment_email="emma.conroy@nhs.net",
    )
    s = service.log_in_with_smartcard(p.username, CARD)
    c = service.request_mobile_code(s, MOBILE)
    assert len(texts) == 1 and texts[0].to.masked == "xxxxxxx374" and texts[0].vpd == VPD
    assert texts[0].to.expose_e164() == "+447700900374"
    code = "".join(ch for ch in texts[0].expose_text() if ch.isdigit())[:6]
    assert service.verify_passcode(s, c, code)

    service.request_username_reminder(VPD, "emma.conroy@nhs.net", date(1985, 3, 14))
    assert len(mails) == 1 and mails[0].kind == "username reminder" and mails[0].username == p.username
    assert mails[0].expose_token() in mails[0].text("https://esr.example/reset?t=")

    def broken(_: object) -> None:
        raise RuntimeError("gateway on fire")

    failing = esr.Esr(clock=clock, sms_sender=broken, fast_password_hashing=True, ephemeral_passcode_key=True)
    failing.create_trust(VPD, "Northfield")
    failing.add_org_unit("set-up", VPD, "HQ", "HQ")
    q = failing.add_person(
        "feed", VPD, employee_number="29700001", given_name="Emma", family_name="Conroy",
        date_of_birth=date(1985, 3, 14), recruitment_email="emma.conroy@nhs.net",
    )
    fs = failing.log_in_with_smartcard(q.username, CARD)
    with pytest.raises(esr.DeliveryError, match="raised RuntimeError") as refused:
        failing.request_mobile_code(fs, MOBILE)
    # The gateway's own text (which may quote the number or the code) stays in its exception,
    # chained as the cause, and out of esr's message.
    assert "gateway on fire" not in str(refused.value)
    assert isinstance(refused.value.__cause__, RuntimeError)
    assert str(refused.value.__cause__) == "gateway on fire"
    with pytest.raises(TypeError, match="sms_sender"):
        esr.Esr(sms_sender=42)  # type: ignore[arg-type]


# ----- account recovery --------------------------------------------------------------------


def test_recovery_links(w: World) -> None:
    email = w.ann.recruitment_email
    said = w.esr.request_username_reminder(VPD, email, date(1985, 3, 14))
    assert said == w.esr.request_username_reminder(VPD, "nobody@nhs.net", date(1985, 3, 14))
    mail = w.outbox.last_email_to(email)
    assert mail is not None and mail.username == w.ann.username
    assert mail.link_expires_at == START + timedelta(hours=4)
    token = mail.expose_token()
    assert w.esr.reset_password_with_link(token, "a brand new passphrase") == w.ann.username
    w.esr.log_in_with_password(w.ann.username, "a brand new passphrase")
    with pytest.raises(esr.RecoveryLinkError, match="link") as used:
        w.esr.reset_password_with_link(token, "another new passphrase")
    assert used.value.reason == "already_used"

    # Lock Ben out, then unlock him with a link; a link past its 4 hours is refused.
    for _ in range(5):
        with pytest.raises(esr.LogInRefusedError):
            w.esr.log_in_with_password(w.ben.username, "wrong password!")
    with pytest.raises(esr.AccountLockedError):
        w.esr.log_in_with_password(w.ben.username, PASSWORD)
    assert w.esr.account(w.ben.username).state == esr.AccountState.LOCKED
    w.esr.request_unlock_link(VPD, w.ben.recruitment_email, date(1985, 3, 14))
    late = w.outbox.last_email_to(w.ben.recruitment_email)
    assert late is not None and late.kind == "unlock account"
    w.clock.advance(timedelta(hours=4))
    with pytest.raises(esr.RecoveryLinkError) as expired:
        w.esr.unlock_with_link(late.expose_token())
    assert expired.value.reason == "expired"
    w.esr.request_unlock_link(VPD, w.ben.recruitment_email, date(1985, 3, 14))
    fresh = w.outbox.last_email_to(w.ben.recruitment_email)
    assert fresh is not None
    assert w.esr.unlock_with_link(fresh.expose_token()) == w.ben.username
    w.web(w.ben)


# ----- compliance --------------------------------------------------------------------------


def test_compliance_rows_and_team_roll_up(w: World) -> None:
    fire = competence(w, "Fire Safety - 1 Year")
    ig = competence(w, "Information Governance - 1 Year")
    for c in (fire, ig):
        w.esr.set_requirement("learning", VPD, c, org_unit="Medicine")
    assert {r.competence for r in w.esr.requirements(VPD)} == {fire, ig}
    w.esr.record_competence("learning", VPD, w.ann.employee_number, fire, achieved=date(2026, 6, 1))
    w.esr.record_competence("learning", VPD, w.ann.employee_number, ig, achieved=date(2025, 12, 20))
    w.esr.record_competence(
        "learning", VPD, w.ben.employee_number, fire, achieved=date(2025, 12, 31), expiry=date(2026, 12, 31)
    )
    recs = w.esr.competence_records("learning", VPD, w.ann.employee_number)
    assert {(r.competence, r.expiry) for r in recs} == {(fire, date(2027, 6, 1)), (ig, date(2026, 12, 20))}

    mine = w.esr.my_compliance(w.web(w.ann))
    assert mine.as_of == date(2026, 11, 22)
    rows = {r.competence: r for r in mine.assignments[0].rows}
    assert rows[fire].status == esr.ComplianceStatus.GREEN and rows[fire].held
    assert rows[ig].status == esr.ComplianceStatus.AMBER and rows[ig].expiry == date(2026, 12, 20)
    assert mine.summary.percent == 100.0 and mine.summary.amber == 1

    team = w.esr.team_compliance(w.hscn(w.mary))
    by_name = {m.family_name: m.compliance.counts for m in team.members}
    assert by_name["Able"].percent == 100.0
    assert (by_name["Baker"].green, by_name["Baker"].amber, by_name["Baker"].red) == (0, 1, 1)
    assert by_name["Baker"].percent == 50.0
    later = w.esr.team_compliance(w.hscn(w.mary), as_of=date(2027, 1, 1))
    assert {m.family_name: m.compliance.counts.red for m in later.members} == {"Able": 1, "Baker": 2}
    assert w.esr.person_compliance(w.hscn(w.mary), w.ben.employee_number).summary.red == 1

    report = w.esr.compliance_report("learning", VPD)
    medicine = [r for r in report.by_unit if r.key == "Medicine"][0]
    assert medicine.assignments == 4 and medicine.counts.essential == 8
    assert report.trust.essential == 8 and report.target == w.esr.compliance_settings(VPD).target_percent
    assert "Employee Number" in w.esr.compliance_matrix("learning", VPD)

    w.esr.set_compliance_settings("learning", VPD, target_percent=95, amber_months=1)
    assert w.esr.compliance_settings(VPD).amber_months == 1
    assert w.esr.my_compliance(w.web(w.ann)).summary.amber == 1
    w.esr.remove_requirement("learning", VPD, ig, org_unit="Medicine")
    assert [r.competence for r in w.esr.requirements(VPD)] == [fire]


def test_catalogue_equivalences_and_import(w: World) -> None:
    local = f"{VPD}|LOCAL|Ward Fire Drill|"
    w.esr.define_competence("learning", VPD, local, refresher_months=12)
    fire = competence(w, "Fire Safety - 1 Year")
    assert any(d.name == local and d.refresher_months == 12 for d in w.esr.competence_catalogue(VPD))
    w.esr.add_equivalence("learning", VPD, local, fire)
    assert w.esr.equivalences(VPD) == [(local, fire)]
    w.esr.set_requirement("learning", VPD, fire, position=f"{VPD}|Staff Nurse|Ward 6|")
    w.esr.record_competence("learning", VPD, w.cat.employee_number, local, achieved=date(2026, 10, 1), expiry="never")
    row = w.esr.my_compliance(w.web(w.cat)).assignments[0].rows[0]
    assert row.satisfied_by == local and row.never_expires and row.status == esr.ComplianceStatus.GREEN
    w.esr.remove_equivalence("learning", VPD, local, fire)
    assert w.esr.equivalences(VPD) == []

    e = w.cat.employee_number
    csv = f"Employee Number,Competency Name,Expiry Date,VPD\n{e},{fire},30-Nov-2028,297\n"
    summary = w.esr.import_competences("learning", VPD, csv.encode())
    assert summary.imported == 1 and summary.skipped == [] and summary.encoding == "utf-8"
    bad = csv + "99999999,NHS|CSTF|Fire Safety - 1 Year|,30-Nov-2028,297\n"
    with pytest.raises(esr.ImportRejectedError, match="line 3"):
        w.esr.import_competences("learning", VPD, bad.encode())
    partial = w.esr.import_competences("learning", VPD, bad.encode(), skip_bad_rows=True)
    assert [p.line for p in partial.skipped] == [3]


# ----- shapes: enums, dates, repr ----------------------------------------------------------


def test_enums_print_and_compare_as_expected() -> None:
    assert esr.Channel.HSCN == esr.Channel.HSCN and esr.Channel.HSCN != esr.Channel.INTERNET
    assert repr(esr.ComplianceStatus.AMBER) == "ComplianceStatus.AMBER"
    assert str(esr.ComplianceStatus.AMBER) == "Amber"
    assert str(esr.AccountState.LOCKED) == "locked"
    assert len({esr.Purpose.UPGRADE_SESSION, esr.Purpose.UPGRADE_SESSION, esr.Purpose.RESET_PASSWORD}) == 2
    assert "Team Compliance" in esr.function_names()


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(esr.InvalidInputError, match="naive"):
        esr.ManualClock(datetime(2026, 11, 22, 9, 0))
    clock = esr.ManualClock(datetime(2026, 11, 22, 10, 0, tzinfo=timezone(timedelta(hours=1))))
    assert clock.now() == START and clock.now().tzinfo is not None
    with pytest.raises(esr.InvalidInputError, match="naive"):
        clock.set(datetime(2026, 1, 1))
    clock.set(START + timedelta(days=1))
    assert esr.Esr(clock=clock).uk_today() == date(2026, 11, 23)


def test_repr_never_shows_a_secret(w: World) -> None:
    w.give_mobile(w.mary)
    web = w.web(w.mary)
    c = w.esr.request_upgrade_code(web)
    code = w.outbox.last_code_to(MOBILE)
    sms = w.outbox.last_sms_to(MOBILE)
    assert code is not None and sms is not None
    wrong = w.esr.verify_passcode(web, c, "000000" if code != "000000" else "111111")
    right = w.esr.verify_passcode(web, c, code)
    w.esr.request_username_reminder(VPD, w.ann.recruitment_email, date(1985, 3, 14))
    mail = w.outbox.last_email_to(w.ann.recruitment_email)
    assert mail is not None
    token = mail.expose_token()
    secrets = [code, token, web.expose_id(), "7700900374", "+447700900374", PASSWORD]
    shown = [
        repr(x)
        for x in [
            web, w.esr.session(web), c, sms, mail, wrong, right, w.outbox, w.esr,
            w.esr.person(VPD, w.mary.employee_number), w.esr.account(w.mary.username),
            esr.MobileNumber(MOBILE), w.esr.audit_trail(VPD), w.esr.live_sessions(w.mary.username),
        ]
    ] + [str(sms.to), str(w.esr.audit_trail(VPD))]
    for text in shown:
        # A random code may turn up inside an audit hash: digits are looked for outside them.
        digits_seen = without_digests(text)
        for secret in secrets:
            assert secret not in (digits_seen if secret.isdigit() else text), (secret, text)
    assert "xxxxxxx374" in repr(sms) and "redacted" in repr(mail)
    assert w.esr.resume_session(web.expose_id()) == web


# ----- every exception type ----------------------------------------------------------------


def test_every_exception_type_is_reachable(w: World) -> None:
    def raises(kind: type[esr.EsrError], f: object) -> esr.EsrError:
        assert callable(f)
        with pytest.raises(kind) as e:
            f()
        assert isinstance(e.value, esr.EsrError) and str(e.value)
        return e.value

    raises(esr.InvalidInputError, lambda: w.esr.trust("29"))
    raises(esr.InvalidInputError, lambda: w.esr.set_password("feed", w.ann.username, "short"))
    raises(esr.NotFoundError, lambda: w.esr.trust("999"))
    raises(esr.NotFoundError, lambda: w.esr.person(VPD, "29799999"))
    raises(esr.ConflictError, lambda: w.esr.create_trust(VPD, "again"))
    raises(esr.LogInRefusedError, lambda: w.esr.log_in_with_password(w.ann.username, "not the password"))
    ended = w.hscn(w.ann)
    w.esr.log_out(ended)
    raises(esr.SessionExpiredError, lambda: w.esr.functions(ended))
    w.clock.advance(timedelta(hours=13))
    raises(esr.SessionExpiredError, lambda: w.esr.functions(w.admin_session))
    admin = w.hscn(w.admin_a)
    raises(esr.NotPermittedError, lambda: w.esr.grant_urp(w.hscn(w.ann), w.ben.username, MANAGER_URP, reason="x"))
    raises(esr.NotPermittedError, lambda: w.esr.view_record(w.web(w.ben), w.ann.employee_number))
    raises(esr.PasscodeRefusedError, lambda: w.esr.passcode_status(admin, "0" * 32))
    raises(esr.PasscodeRefusedError, lambda: w.esr.unlock_with_link("not-a-token"))
    w.outbox.fail_with("gateway down")
    raises(esr.DeliveryError, lambda: w.esr.request_mobile_code(admin, MOBILE))
    w.outbox.fail_with(None)
    head = w.esr.verify_audit(VPD)
    raises(esr.AuditBrokenError, lambda: w.esr.verify_audit(VPD, anchor=esr.AuditHead(head.seq, "0" * 64)))
    raises(esr.NotPermittedError, lambda: w.esr.compliance_report(w.web(w.ann), VPD))
    # The hierarchy as documented in the stubs.
    for sub, base in [
        (esr.ImportRejectedError, esr.InvalidInputError),
        (esr.AccountLockedError, esr.LogInRefusedError),
        (esr.RateLimitedError, esr.PasscodeRefusedError),
        (esr.ImportRejectedError, esr.BulkInputError),
        (esr.BulkInputError, esr.InvalidInputError),
        (esr.RecoveryLinkError, esr.PasscodeRefusedError),
        (esr.RecoveryLinkRefusedError, esr.PasscodeRefusedError),
        (esr.StorageError, esr.EsrError),
        (esr.BusyError, esr.StorageError),
        (esr.InternalError, esr.EsrError),
    ]:
        assert issubclass(sub, base)


def test_every_kind_of_core_error_has_its_own_named_exception() -> None:
    # The core's ErrorKind::ALL, each with the class it raises: distinct classes under
    # EsrError, named after the kind (not_permitted: NotPermittedError), exported from esr.
    kinds = esr._esr._error_kinds()
    assert len(kinds) >= 16
    classes = [cls for _, cls in kinds]
    assert len(set(classes)) == len(classes)
    for code, cls in kinds:
        assert issubclass(cls, esr.EsrError) and cls is not esr.EsrError
        assert cls.__name__ == "".join(w.capitalize() for w in code.split("_")) + "Error"
        assert getattr(esr, cls.__name__) is cls and cls.__name__ in esr.__all__
    # The earlier names are aliases of the renamed classes.
    assert esr.LogInError is esr.LogInRefusedError
    assert esr.SessionError is esr.SessionExpiredError
    assert esr.PasscodeError is esr.PasscodeRefusedError
    assert esr.AuditError is esr.AuditBrokenError


def test_slow_calls_release_the_interpreter() -> None:
    # A real Argon2id hash takes tens of milliseconds. While one thread hashes inside esr,
    # another keeps running Python: its longest pause stays far below the hash's duration.
    service = esr.Esr()
    service.create_trust(VPD, "Northfield")
    service.add_org_unit("set-up", VPD, "HQ", "HQ")
    p = service.add_person(
        "feed", VPD, employee_number="29700001", given_name="Emma", family_name="Conroy",
        date_of_birth=date(1985, 3, 14), recruitment_email="emma.conroy@nhs.net",
    )
    started = threading.Event()
    took: list[float] = []

    def hash_passwords() -> None:
        started.set()
        t0 = time.perf_counter()
        for _ in range(3):
            service.set_password("feed", p.username, PASSWORD)
        took.append(time.perf_counter() - t0)

    worker = threading.Thread(target=hash_passwords)
    worker.start()
    started.wait()
    longest, last = 0.0, time.perf_counter()
    while worker.is_alive():
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    worker.join()
    one_hash = took[0] / 3
    # Were the interpreter held, the pause would last at least one whole hash.
    assert longest < one_hash / 2, (longest, one_hash)
