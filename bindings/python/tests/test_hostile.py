"""No panic crosses the Python boundary: every public callable of esr, fed hostile values.

Every function, constructor and method of the compiled module that takes an argument has a
case in CASES (a valid call on a small trust); test_every_public_callable_has_a_hostile_case
fails when one has none, or when a case's arguments are not the callable's, so a new function
or argument must be covered. Each argument in turn is replaced by every value of HOSTILE
(huge, empty, NUL, lone-surrogate strings, None, wrong types, negative and huge ints, dates and
instants at the ends of their ranges and with odd time zones, ...), the others kept valid. The
call must then either raise an esr.EsrError, or a TypeError / ValueError / OverflowError that
names the argument (Python's convention for a value of the wrong type or out of a C type's
range) -- never pyo3's PanicException, a SystemError or a crash -- with a short message, and
leave the trust's state as it was; or succeed without changing state. Values no call may accept
(a 10 MB string, a NUL, a lone surrogate, an arbitrary object) must not change anything.

The bulk functions get Arrow inputs of their own (nulls, wrong dtypes, mismatched lengths, empty
tables, pandas/polars/pyarrow with nulls), and the clock is moved to the ends of its range to
check that every time rule refuses instead of overflowing.
"""

from __future__ import annotations

import atexit
import inspect
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import esr
import esr._esr as native

VPD = "297"
START = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
MOBILE = "07700 900374"
PASSWORD = "correct horse battery staple"
COMPETENCE = "297|LOCAL|Sepsis Awareness - 1 Year|"
CERT = "297 Sepsis Awareness"
COURSE = "297 Sepsis Awareness - e-Learning"
CLASS = "e-Learning"
HOLDER_URP = "Manager Self Service (Payroll Approvals Required)"


class NoOffset(tzinfo):
    """A tzinfo that gives no offset: an aware-looking datetime that is really naive."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None


HUGE = "x" * 10_000_000
EAST = timezone(timedelta(hours=23, minutes=59))
WEST = timezone(-timedelta(hours=23, minutes=59))

# (label, value). Every value is fed to every argument, so each is also a wrong type for most.
HOSTILE: list[tuple[str, Any]] = [
    ("huge", HUGE),
    ("huge-unicode", "é" * 3_000_000),
    ("empty", ""),
    ("blank", "   "),
    ("nul", "297\x00"),
    ("control", "a\nb\x7f"),
    ("surrogate", "\ud800"),
    ("none", None),
    ("int", 7),
    ("float", 1.5),
    ("nan", float("nan")),
    ("bytes", b"297"),
    ("bad-utf8", b"\xff\xfe\x00"),
    ("huge-bytes", b"\xff" * 10_000_000),
    ("object", object()),
    ("list", ["297"]),
    ("list-of-huge", [HUGE]),
    ("list-of-none", [None]),
    ("tuple", ("297", b"")),
    ("dict", {"a": 1}),
    ("-1", -1),
    ("0", 0),
    ("2**32", 2**32),
    ("2**63", 2**63),
    ("-2**63-1", -(2**63) - 1),
    ("2**64", 2**64),
    ("2**200", 2**200),
    ("-2**200", -(2**200)),
    ("date.min", date.min),
    ("date.max", date.max),
    ("datetime.min", datetime.min.replace(tzinfo=timezone.utc)),
    ("datetime.max", datetime.max.replace(tzinfo=timezone.utc)),
    ("naive", datetime(2026, 1, 1)),
    ("east-max", datetime.max.replace(tzinfo=EAST)),
    ("west-min", datetime.min.replace(tzinfo=WEST)),
    ("west-max", datetime.max.replace(tzinfo=WEST)),
    ("no-offset", datetime(2026, 1, 1, tzinfo=NoOffset())),
    ("timedelta.max", timedelta.max),
    ("timedelta.min", timedelta.min),
    ("-1s", timedelta(seconds=-1)),
]

# No argument of any call may accept these and change anything.
MUST_REFUSE = {"huge", "huge-unicode", "nul", "surrogate", "object", "list-of-huge"}

# (callable, argument, label) that may succeed and change state, and why.
MAY_ACCEPT: dict[tuple[str, str, str], str] = {
    # A password is compared or hashed as bytes: a NUL is one more character of it.
    ("Esr.set_password", "password", "nul"): "NUL is a password character",
    ("Esr.reset_password_with_link", "password", "nul"): "NUL is a password character",
}

# Refusals that change state by design: (callable, exception class) -> why.
STATEFUL_REFUSALS: dict[tuple[str, type[BaseException]], str] = {
    # A wrong password is a failed log-in: audited, and counted towards the lockout.
    ("Esr.log_in_with_password", esr.LogInRefusedError): "a failed log-in is audited and counted",
    # A wrong current password is a failed log-in too.
    ("Esr.change_password", esr.LogInRefusedError): "a wrong current password is audited and counted",
}

# The message of a refusal is for people: it never echoes a huge input back.
MAX_MESSAGE = 2_000

# Arguments that may be a file's path, where an OSError is the answer to one that cannot be opened.
PATH_ARGUMENTS = {
    ("read_competence_csv", "source"),
    ("Esr.import_competences", "csv"),
    ("score_files", "assignments"),
    ("score_files", "requirements"),
    ("score_files", "holdings"),
    ("score_files", "org_units"),
    ("score_files", "org_unit_requirements"),
    ("score_files", "job_requirements"),
    ("score_files", "equivalences"),
}


@dataclass
class World:
    """A trust with two user administrators and a nurse with a mobile, a reset link, a
    competence, a requirement, a certification she is subscribed to, and live sessions."""

    esr: esr.Esr
    clock: esr.ManualClock
    outbox: esr.Outbox
    admin: esr.Person
    nurse: esr.Person
    admin_hscn: esr.Session
    nurse_web: esr.Session
    nurse_hscn: esr.Session
    challenge: esr.PasscodeChallenge
    token: str
    head: esr.AuditHead


def build() -> World:
    clock = esr.ManualClock(START)
    outbox = esr.Outbox()
    s = esr.Esr(
        clock=clock,
        sms_sender=outbox,
        email_sender=outbox,
        fast_password_hashing=True,
        passcode_key=bytes(range(0x42, 0x62)),
    )
    s.create_trust(VPD, "Northfield NHS Trust", automatic_internet_access=True, upgrade_manager=True)
    s.add_org_unit("set-up", VPD, "Ward 5", "Ward 5")
    people = []
    for i, (given, family) in enumerate([("Ann", "Admin"), ("Bob", "Admin"), ("Jo", "Smith")]):
        p = s.add_person(
            "feed",
            VPD,
            employee_number=f"2970000{i + 1}",
            given_name=given,
            family_name=family,
            date_of_birth=date(1980, 1, 1 + i),
            recruitment_email=f"{given.lower()}@nhs.net",
        )
        s.add_assignment(
            "feed",
            VPD,
            number=f"1000000{i + 1}",
            employee_number=p.employee_number,
            title="Staff Nurse",
            position="297|Staff Nurse|Ward 5|",
            org_unit="Ward 5",
            supervisor="10000001" if i else None,
        )
        s.set_password("feed", p.username, PASSWORD)
        people.append(p)
    admin, second, nurse = people
    s.bootstrap_user_administrators(VPD, [admin.username, second.username], "founding administrators")
    admin_hscn = s.log_in_with_smartcard(admin.username, "CARD-0001")
    s.grant_urp(admin_hscn, nurse.username, HOLDER_URP, reason="runs Ward 5", line_manager=admin.employee_number)
    nurse_hscn = s.log_in_with_smartcard(nurse.username, "CARD-0002")
    c = s.request_mobile_code(nurse_hscn, MOBILE)
    code = outbox.last_code_to(MOBILE)
    assert code is not None and s.verify_passcode(nurse_hscn, c, code)
    clock.advance(timedelta(minutes=1))
    nurse_web = s.log_in_with_password(nurse.username, PASSWORD)
    challenge = s.request_upgrade_code(nurse_web)
    s.request_username_reminder(VPD, "jo@nhs.net", date(1980, 1, 3))
    mail = outbox.last_email_to("jo@nhs.net")
    assert mail is not None
    s.define_competence("set-up", VPD, COMPETENCE, refresher_months=12)
    s.set_requirement("set-up", VPD, COMPETENCE, org_unit="Ward 5")
    s.define_certification(
        "set-up",
        VPD,
        CERT,
        competence=COMPETENCE,
        validity_days=365,
        completion_window_days=30,
        components=[esr.Component(COURSE, esr.ComponentKind.COURSE, [CLASS])],
    )
    s.subscribe("set-up", VPD, nurse.employee_number, CERT)
    return World(
        s, clock, outbox, admin, nurse, admin_hscn, nurse_web, nurse_hscn, challenge,
        mail.expose_token(), s.verify_audit(VPD),
    )


def snapshot(w: World) -> tuple[Any, ...]:
    """What a refused call must leave as it was: the audit trail (every change is audited), the
    accounts, what was sent, the clock, and whether a second trust appeared."""
    trail = w.esr.audit_trail(VPD, 1, 1_000_000)
    accounts = [repr(w.esr.account(p.username)) for p in w.esr.people(VPD)]
    try:
        w.esr.trust("298")
        other = True
    except esr.NotFoundError:
        other = False
    return (len(trail), trail[-1].hash if trail else "", accounts, len(w.outbox), w.clock.now(), other)


def sample_csv() -> str:
    return (
        "Employee Number,Competence Name,Achieved Date,Expiry Date\n"
        f"29700003,{COMPETENCE},01-Nov-2026,01-Nov-2027\n"
    )


# qualified name -> (the callable, valid keyword arguments) on a world.
Case = Callable[[World], tuple[Callable[..., Any], dict[str, Any]]]
PLAY = esr.PlayResult.completed()

# Authenticator apps
TOTP_KEY = ("totp-1", bytes(range(0x21, 0x41)))
TOTP_URI = "otpauth://totp/Northfield:297JSMITH01?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


def _keyed(w: World) -> esr.Esr:
    w.esr.set_authenticator_keys(TOTP_KEY)
    return w.esr


def _enrolment(w: World) -> esr.AuthenticatorEnrolment:
    return _keyed(w).enrol_authenticator(w.nurse_hscn)


CASES: dict[str, Case] = {
    # authenticator apps
    "Esr.set_authenticator_keys": lambda w: (
        w.esr.set_authenticator_keys, dict(current=TOTP_KEY, retired=[("totp-0", bytes(range(0x22, 0x42)))])
    ),
    "Esr.enrol_authenticator": lambda w: (_keyed(w).enrol_authenticator, dict(session=w.nurse_hscn)),
    "Esr.confirm_authenticator": lambda w: (
        (_enrolment(w), w.esr.confirm_authenticator)[1], dict(session=w.nurse_hscn, code="000000")
    ),
    "Esr.upgrade_with_authenticator": lambda w: (
        _keyed(w).upgrade_with_authenticator, dict(session=w.nurse_web, code="000000")
    ),
    "Esr.second_factors": lambda w: (w.esr.second_factors, dict(session=w.nurse_web)),
    "Esr.remove_authenticator": lambda w: (
        (_enrolment(w), w.esr.remove_authenticator)[1],
        dict(actor="feed", username=w.nurse.username, reason="lost phone"),
    ),
    "AuthenticatorEnrolment.qr_png": lambda w: (_enrolment(w).qr_png, dict(scale=4)),
    "Totp.__new__": lambda w: (esr.Totp, dict(uri=TOTP_URI)),
    "Totp.code_at": lambda w: (esr.Totp(TOTP_URI).code_at, dict(at=1_795_338_000)),
    "Totp.seconds_left": lambda w: (esr.Totp(TOTP_URI).seconds_left, dict(at=1_795_338_000)),
    # module functions and constructors
    "username_stem": lambda w: (esr.username_stem, dict(given_name="Sean", surname="O'Brien")),
    "allowed_functions": lambda w: (
        esr.allowed_functions,
        dict(
            urps=[HOLDER_URP], channel="hscn", upgraded=False, automatic_internet_access=False,
            upgrade_manager=False, upgrade_professional=False, internet_access_approved=False,
        ),
    ),
    "Username.__new__": lambda w: (esr.Username, dict(text="297ECONROY01")),
    "MobileNumber.__new__": lambda w: (esr.MobileNumber, dict(text=MOBILE)),
    "AuditHead.__new__": lambda w: (esr.AuditHead, dict(seq=w.head.seq, hash=w.head.hash)),
    "Component.__new__": lambda w: (
        esr.Component, dict(course=COURSE, kind=esr.ComponentKind.COURSE, classes=[CLASS])
    ),
    "Renewal.__new__": lambda w: (esr.Renewal, dict(window_days=30, base=esr.ExpiryBase.COMPLETION_DATE)),
    "ManualClock.__new__": lambda w: (esr.ManualClock, dict(start=START)),
    "ManualClock.set": lambda w: (w.clock.set, dict(instant=START)),
    "ManualClock.advance": lambda w: (w.clock.advance, dict(delta=timedelta(seconds=1))),
    "PlayResult.progress": lambda w: (esr.PlayResult.progress, dict(percent=50)),
    "PlayResult.passed": lambda w: (esr.PlayResult.passed, dict(score=90)),
    "PlayResult.failed": lambda w: (esr.PlayResult.failed, dict(score=10)),
    "Outbox.last_code_to": lambda w: (w.outbox.last_code_to, dict(mobile=MOBILE)),
    "Outbox.last_sms_to": lambda w: (w.outbox.last_sms_to, dict(mobile=MOBILE)),
    "Outbox.last_email_to": lambda w: (w.outbox.last_email_to, dict(address="jo@nhs.net")),
    "Outbox.fail_with": lambda w: (w.outbox.fail_with, dict(reason=None)),
    "EmailMessage.text": lambda w: (
        _mail(w).text, dict(link_base="https://esr.example/reset")
    ),
    "Esr.__new__": lambda w: (
        esr.Esr,
        dict(
            clock=w.clock, sms_sender=w.outbox, email_sender=w.outbox, passcode_key=b"k" * 31 + b"!",
            passcode_key_id="key-1", ephemeral_passcode_key=False, max_failed_logins=5,
            session_lifetime=timedelta(hours=1), internet_idle_timeout=timedelta(minutes=15),
            hscn_idle_timeout=timedelta(minutes=45), recovery_answer_time=timedelta(0),
            passcode_digits=6, passcode_max_attempts=5, passcode_max_failures=20,
            passcode_failure_window=timedelta(hours=24), passcode_max_sends=5,
            passcode_send_window=timedelta(minutes=10),
            passcode_min_resend_interval=timedelta(seconds=30), fast_password_hashing=True,
        ),
    ),
    "Esr.set_passcode_keys": lambda w: (
        w.esr.set_passcode_keys, dict(current=("key-2", bytes(range(0x43, 0x63))), retired=[("key-1", bytes(range(0x42, 0x62)))])
    ),
    # trusts
    "Esr.create_trust": lambda w: (
        w.esr.create_trust,
        dict(vpd="298", name="Southfield NHS Trust", automatic_internet_access=False,
             upgrade_manager=False, upgrade_professional=False),
    ),
    "Esr.trust": lambda w: (w.esr.trust, dict(vpd=VPD)),
    "Esr.add_org_unit": lambda w: (
        w.esr.add_org_unit, dict(actor="set-up", vpd=VPD, unit="Ward 6", name="Ward 6", parent="Ward 5")
    ),
    "Esr.set_automatic_internet_access": lambda w: (
        w.esr.set_automatic_internet_access, dict(actor="set-up", vpd=VPD, on=False)
    ),
    "Esr.set_upgrade_access": lambda w: (
        w.esr.set_upgrade_access, dict(actor="set-up", vpd=VPD, manager=False, professional=True)
    ),
    "Esr.set_portlet": lambda w: (
        w.esr.set_portlet, dict(actor="set-up", vpd=VPD, portlet="Absence", on=False)
    ),
    "Esr.add_local_bi_portlet": lambda w: (
        w.esr.add_local_bi_portlet, dict(actor="set-up", vpd=VPD, name="Bank spend")
    ),
    "Esr.remove_local_bi_portlet": lambda w: (
        w.esr.remove_local_bi_portlet, dict(actor="set-up", vpd=VPD, name="Bank spend")
    ),
    "Esr.set_sms_template": lambda w: (
        w.esr.set_sms_template,
        dict(actor="set-up", vpd=VPD, template="Your code is {code}; it lasts {minutes} minutes"),
    ),
    # people, accounts, assignments
    "Esr.add_person": lambda w: (
        w.esr.add_person,
        dict(actor="feed", vpd=VPD, employee_number="29700009", given_name="Emma",
             family_name="Conroy", date_of_birth=date(1985, 3, 14),
             recruitment_email="emma.conroy@nhs.net"),
    ),
    "Esr.person": lambda w: (w.esr.person, dict(vpd=VPD, employee_number=w.nurse.employee_number)),
    "Esr.people": lambda w: (w.esr.people, dict(vpd=VPD)),
    "Esr.account": lambda w: (w.esr.account, dict(username=w.nurse.username)),
    "Esr.add_assignment": lambda w: (
        w.esr.add_assignment,
        dict(actor="feed", vpd=VPD, number="10000009", employee_number=w.nurse.employee_number,
             title="Sister", position="297|Sister|Ward 5|", org_unit="Ward 5", supervisor="10000001"),
    ),
    "Esr.set_supervisor": lambda w: (
        w.esr.set_supervisor, dict(actor="feed", vpd=VPD, number="10000003", supervisor="10000002")
    ),
    "Esr.assignments_of": lambda w: (
        w.esr.assignments_of, dict(vpd=VPD, employee_number=w.nurse.employee_number)
    ),
    "Esr.set_password": lambda w: (
        w.esr.set_password, dict(actor="feed", username=w.nurse.username, password="a new passphrase")
    ),
    "Esr.approve_internet_access": lambda w: (
        w.esr.approve_internet_access, dict(actor="feed", username=w.nurse.username)
    ),
    "Esr.unlock_account": lambda w: (
        w.esr.unlock_account, dict(actor="feed", username=w.nurse.username, reason="asked")
    ),
    "Esr.suspend_account": lambda w: (
        w.esr.suspend_account, dict(actor="feed", username=w.nurse.username, reason="investigation")
    ),
    "Esr.reinstate_account": lambda w: (
        w.esr.reinstate_account, dict(actor="feed", username=w.nurse.username, reason="cleared")
    ),
    "Esr.end_account": lambda w: (
        w.esr.end_account, dict(actor="feed", username=w.nurse.username, reason="leaver")
    ),
    # sessions and access
    "Esr.log_in_with_password": lambda w: (
        w.esr.log_in_with_password, dict(username=w.nurse.username, password=PASSWORD)
    ),
    "Esr.log_in_with_smartcard": lambda w: (
        w.esr.log_in_with_smartcard, dict(username=w.nurse.username, card_id="CARD-0002")
    ),
    "Esr.log_out": lambda w: (w.esr.log_out, dict(session=w.nurse_web)),
    "Esr.session": lambda w: (w.esr.session, dict(session=w.nurse_web)),
    "Esr.resume_session": lambda w: (w.esr.resume_session, dict(session_id=w.nurse_web.expose_id())),
    "Esr.live_sessions": lambda w: (w.esr.live_sessions, dict(username=w.nurse.username)),
    "Esr.functions": lambda w: (w.esr.functions, dict(session=w.nurse_web)),
    "Esr.decide": lambda w: (w.esr.decide, dict(session=w.nurse_web, function="My Compliance")),
    "Esr.check_upgrade": lambda w: (w.esr.check_upgrade, dict(session=w.nurse_web)),
    "Esr.upgrade_session_verified_by_caller": lambda w: (
        w.esr.upgrade_session_verified_by_caller, dict(session=w.nurse_web, method="authenticator app")
    ),
    "Esr.register_mobile_verified_by_caller": lambda w: (
        w.esr.register_mobile_verified_by_caller, dict(session=w.nurse_hscn, mobile="07700 900375")
    ),
    # URPs
    "Esr.bootstrap_user_administrators": lambda w: (
        w.esr.bootstrap_user_administrators,
        dict(vpd=VPD, holders=[w.admin.username, w.nurse.username], reason="again"),
    ),
    "Esr.grant_urp": lambda w: (
        w.esr.grant_urp,
        dict(session=w.admin_hscn, holder=w.nurse.username, urp=HOLDER_URP, reason="new manager",
             org_units=["Ward 5"], line_manager=w.admin.employee_number, caldicott_guardian=None,
             caldicott_reference=None),
    ),
    "Esr.revoke_urp": lambda w: (
        w.esr.revoke_urp,
        dict(session=w.admin_hscn, holder=w.nurse.username, urp="Employee Self Service", reason="x"),
    ),
    "Esr.grants_of": lambda w: (w.esr.grants_of, dict(username=w.nurse.username)),
    "Esr.held_urps": lambda w: (w.esr.held_urps, dict(username=w.nurse.username)),
    "Esr.urp_audit_report": lambda w: (w.esr.urp_audit_report, dict(actor=w.admin_hscn, vpd=VPD)),
    # records
    "Esr.record_access": lambda w: (
        w.esr.record_access, dict(actor="feed", vpd=VPD, employee_number=w.nurse.employee_number)
    ),
    "Esr.view_record": lambda w: (
        w.esr.view_record, dict(session=w.nurse_web, employee_number=w.nurse.employee_number)
    ),
    "Esr.change_details": lambda w: (
        w.esr.change_details,
        dict(session=w.nurse_web, employee_number=w.nurse.employee_number, given_name="Joanne",
             family_name=None, recruitment_email=None),
    ),
    "Esr.team": lambda w: (w.esr.team, dict(session=w.admin_hscn)),
    # notifications and approvals
    "Esr.notification_count": lambda w: (w.esr.notification_count, dict(session=w.nurse_hscn)),
    "Esr.notifications": lambda w: (
        w.esr.notifications, dict(session=w.nurse_hscn, open_only=True, kind="urp_granted")
    ),
    "Esr.act_on_notification": lambda w: (
        w.esr.act_on_notification,
        dict(session=w.nurse_hscn, notification="00" * 16, action="acknowledge", reason=None),
    ),
    "Esr.request_details_change": lambda w: (
        w.esr.request_details_change,
        dict(session=w.nurse_hscn, employee_number=w.nurse.employee_number, given_name="Joanne",
             family_name=None, recruitment_email=None),
    ),
    "Esr.request_assignment_change": lambda w: (
        w.esr.request_assignment_change,
        dict(session=w.nurse_hscn, employee_number=w.nurse.employee_number,
             assignment=w.nurse.employee_number, weekly_minutes=2250, position=None,
             supervisor=None, ended_on=None),
    ),
    "Esr.pending_change": lambda w: (
        w.esr.pending_change, dict(session=w.nurse_hscn, change="00" * 16)
    ),
    "Esr.expire_pending_changes": lambda w: (
        w.esr.expire_pending_changes, dict(actor="feed", vpd=VPD)
    ),
    # access requests, URP review, competence claims
    "Esr.request_access": lambda w: (
        w.esr.request_access,
        dict(actor=w.nurse_hscn, subject=w.nurse.username, urp="Supervisor Self Service",
             reason="covers the ward manager", org_units=["Ward 5"], exception=None),
    ),
    "Esr.authorise_access_request": lambda w: (
        w.esr.authorise_access_request, dict(session=w.admin_hscn, request="00" * 16)
    ),
    "Esr.reject_access_request": lambda w: (
        w.esr.reject_access_request, dict(session=w.admin_hscn, request="00" * 16, reason="not needed")
    ),
    "Esr.record_access_prerequisite": lambda w: (
        w.esr.record_access_prerequisite,
        dict(actor="finance feed", vpd=VPD, request="00" * 16, prerequisite="as_number",
             reference="AS123456"),
    ),
    "Esr.grant_access_request": lambda w: (
        w.esr.grant_access_request, dict(session=w.admin_hscn, request="00" * 16)
    ),
    "Esr.access_request": lambda w: (
        w.esr.access_request, dict(actor=w.admin_hscn, vpd=VPD, request="00" * 16)
    ),
    "Esr.my_access_requests": lambda w: (w.esr.my_access_requests, dict(session=w.nurse_hscn)),
    "Esr.access_requests_to_authorise": lambda w: (
        w.esr.access_requests_to_authorise, dict(session=w.admin_hscn)
    ),
    "Esr.access_requests_to_grant": lambda w: (
        w.esr.access_requests_to_grant, dict(session=w.admin_hscn)
    ),
    "Esr.set_caldicott_guardian": lambda w: (
        w.esr.set_caldicott_guardian,
        dict(actor=w.admin_hscn, vpd=VPD, guardian=w.admin.employee_number),
    ),
    "Esr.open_urp_review": lambda w: (w.esr.open_urp_review, dict(session=w.admin_hscn)),
    "Esr.confirm_urp_grant": lambda w: (
        w.esr.confirm_urp_grant, dict(session=w.admin_hscn, review="00" * 16, grant="00" * 16)
    ),
    "Esr.revoke_urp_in_review": lambda w: (
        w.esr.revoke_urp_in_review,
        dict(session=w.admin_hscn, review="00" * 16, grant="00" * 16, reason="left the ward"),
    ),
    "Esr.urp_review_status": lambda w: (w.esr.urp_review_status, dict(actor=w.admin_hscn, vpd=VPD)),
    "Esr.urp_reviews": lambda w: (w.esr.urp_reviews, dict(actor=w.admin_hscn, vpd=VPD)),
    "Esr.claim_competence": lambda w: (
        w.esr.claim_competence,
        dict(session=w.nurse_hscn, competence=COMPETENCE, achieved=date(2026, 11, 1),
             evidence="certificate 42", expiry=None, level=None),
    ),
    "Esr.competences_awaiting_approval": lambda w: (
        w.esr.competences_awaiting_approval,
        dict(actor=w.admin_hscn, vpd=VPD, employee_number=w.nurse.employee_number),
    ),
    "Esr.competence_claims_of": lambda w: (
        w.esr.competence_claims_of,
        dict(actor=w.nurse_hscn, vpd=VPD, employee_number=w.nurse.employee_number),
    ),
    "Esr.competence_claims_to_approve": lambda w: (
        w.esr.competence_claims_to_approve, dict(session=w.admin_hscn)
    ),
    "Esr.approve_competence_claim": lambda w: (
        w.esr.approve_competence_claim, dict(session=w.admin_hscn, claim="00" * 16)
    ),
    "Esr.reject_competence_claim": lambda w: (
        w.esr.reject_competence_claim, dict(session=w.admin_hscn, claim="00" * 16, reason="no evidence")
    ),
    # audit
    "Esr.audit_trail": lambda w: (w.esr.audit_trail, dict(vpd=VPD, start=1, limit=10)),
    "Esr.verify_audit": lambda w: (w.esr.verify_audit, dict(vpd=VPD, anchor=w.head)),
    # passcodes
    "Esr.request_mobile_code": lambda w: (
        w.esr.request_mobile_code, dict(session=w.nurse_hscn, mobile="07700 900375")
    ),
    "Esr.request_upgrade_code": lambda w: (w.esr.request_upgrade_code, dict(session=w.nurse_web)),
    "Esr.resend_passcode": lambda w: (
        w.esr.resend_passcode, dict(session=w.nurse_web, challenge=w.challenge)
    ),
    "Esr.passcode_status": lambda w: (
        w.esr.passcode_status, dict(session=w.nurse_web, challenge=w.challenge.id)
    ),
    "Esr.verify_passcode": lambda w: (
        w.esr.verify_passcode,
        dict(session=w.nurse_web, challenge=w.challenge, code="000000",
             purpose=esr.Purpose.UPGRADE_SESSION),
    ),
    "Esr.clear_step_up_lock": lambda w: (
        w.esr.clear_step_up_lock, dict(actor="feed", username=w.nurse.username, reason="cleared")
    ),
    # sessions
    "Esr.sessions_of": lambda w: (w.esr.sessions_of, dict(actor="feed", username=w.nurse.username)),
    "Esr.end_session": lambda w: (
        w.esr.end_session, dict(actor="feed", username=w.nurse.username, reference="00" * 8)
    ),
    "Esr.end_all_sessions": lambda w: (
        w.esr.end_all_sessions,
        dict(actor="feed", username=w.nurse.username, except_reference="00" * 8),
    ),
    "Esr.change_password": lambda w: (
        w.esr.change_password,
        dict(session=w.nurse_web, current=PASSWORD, new="a new passphrase here"),
    ),
    # account recovery
    "Esr.request_username_reminder": lambda w: (
        w.esr.request_username_reminder,
        dict(vpd=VPD, email="jo@nhs.net", date_of_birth=date(1980, 1, 3)),
    ),
    "Esr.request_unlock_link": lambda w: (
        w.esr.request_unlock_link, dict(vpd=VPD, email="jo@nhs.net", date_of_birth=date(1980, 1, 3))
    ),
    "Esr.reset_password_with_link": lambda w: (
        w.esr.reset_password_with_link, dict(token=w.token, password="a new passphrase")
    ),
    "Esr.unlock_with_link": lambda w: (w.esr.unlock_with_link, dict(token=w.token)),
    # compliance
    "Esr.competence_catalogue": lambda w: (w.esr.competence_catalogue, dict(vpd=VPD)),
    "Esr.define_competence": lambda w: (
        w.esr.define_competence,
        dict(actor="set-up", vpd=VPD, name="297|LOCAL|Blood Transfusion - 2 Years|",
             refresher_months=24, active=True),
    ),
    "Esr.set_requirement": lambda w: (
        w.esr.set_requirement,
        dict(actor="set-up", vpd=VPD, competence=COMPETENCE, position=None, org_unit=None,
             job="Staff Nurse", essential=True, min_level="1 - Assessed"),
    ),
    "Esr.remove_requirement": lambda w: (
        w.esr.remove_requirement,
        dict(actor="set-up", vpd=VPD, competence=COMPETENCE, position=None, org_unit="Ward 5", job=None),
    ),
    "Esr.requirements": lambda w: (w.esr.requirements, dict(vpd=VPD)),
    "Esr.add_equivalence": lambda w: (
        w.esr.add_equivalence,
        dict(actor="set-up", vpd=VPD, held=COMPETENCE, satisfies="NHS|CSTF|Fire Safety - 1 Year|"),
    ),
    "Esr.remove_equivalence": lambda w: (
        w.esr.remove_equivalence,
        dict(actor="set-up", vpd=VPD, held=COMPETENCE, satisfies="NHS|CSTF|Fire Safety - 1 Year|"),
    ),
    "Esr.equivalences": lambda w: (w.esr.equivalences, dict(vpd=VPD)),
    "Esr.compliance_settings": lambda w: (w.esr.compliance_settings, dict(vpd=VPD)),
    "Esr.set_compliance_settings": lambda w: (
        w.esr.set_compliance_settings, dict(actor="set-up", vpd=VPD, target_percent=90, amber_months=2)
    ),
    "Esr.record_competence": lambda w: (
        w.esr.record_competence,
        dict(actor="feed", vpd=VPD, employee_number=w.nurse.employee_number, competence=COMPETENCE,
             achieved=date(2026, 11, 1), expiry="refresher", level=None),
    ),
    "Esr.competence_records": lambda w: (
        w.esr.competence_records, dict(actor="feed", vpd=VPD, employee_number=w.nurse.employee_number)
    ),
    "Esr.import_competences": lambda w: (
        w.esr.import_competences,
        dict(actor="feed", vpd=VPD, csv=sample_csv().encode(), skip_bad_rows=False, encoding=None),
    ),
    "Esr.my_compliance": lambda w: (w.esr.my_compliance, dict(session=w.nurse_web, as_of=None)),
    "Esr.person_compliance": lambda w: (
        w.esr.person_compliance,
        dict(session=w.admin_hscn, employee_number=w.nurse.employee_number, as_of=date(2026, 12, 1)),
    ),
    "Esr.team_compliance": lambda w: (
        w.esr.team_compliance, dict(session=w.admin_hscn, as_of=date(2026, 12, 1))
    ),
    "Esr.compliance_report": lambda w: (
        w.esr.compliance_report, dict(actor="feed", vpd=VPD, as_of=date(2026, 12, 1))
    ),
    "Esr.compliance_matrix": lambda w: (
        w.esr.compliance_matrix, dict(actor="feed", vpd=VPD, as_of=date(2026, 12, 1))
    ),
    # certifications and enrolment
    "Esr.define_certification": lambda w: (
        w.esr.define_certification,
        dict(actor="set-up", vpd=VPD, name="297 Blood Transfusion", competence=COMPETENCE,
             validity_days=730, completion_window_days=60,
             components=[esr.Component("297 Transfusion", esr.ComponentKind.E_ASSESSMENT, [CLASS])],
             level=None, renewal=esr.Renewal(30), mandatory=True,
             completion_rule=esr.CompletionRule.ALL_COMPONENTS),
    ),
    "Esr.certifications": lambda w: (w.esr.certifications, dict(vpd=VPD)),
    "Esr.certifications_for": lambda w: (w.esr.certifications_for, dict(vpd=VPD, competence=COMPETENCE)),
    "Esr.subscribe": lambda w: (
        w.esr.subscribe,
        dict(actor="feed", vpd=VPD, employee_number=w.admin.employee_number, certification=CERT),
    ),
    "Esr.unsubscribe": lambda w: (
        w.esr.unsubscribe,
        dict(actor="feed", vpd=VPD, employee_number=w.nurse.employee_number, certification=CERT),
    ),
    "Esr.enrol": lambda w: (
        w.esr.enrol,
        dict(actor="feed", vpd=VPD, employee_number=w.nurse.employee_number, certification=CERT,
             course=COURSE, class_name=CLASS),
    ),
    "Esr.play": lambda w: (
        w.esr.play,
        dict(actor="feed", vpd=VPD, employee_number=w.nurse.employee_number, certification=CERT,
             course=COURSE, result=PLAY),
    ),
    "Esr.record_learning": lambda w: (
        w.esr.record_learning,
        dict(actor="feed", vpd=VPD, employee_number=w.nurse.employee_number, course=COURSE, result=PLAY),
    ),
    "Esr.subscriptions": lambda w: (
        w.esr.subscriptions, dict(actor="feed", vpd=VPD, employee_number=w.nurse.employee_number)
    ),
    "Esr.my_elearning": lambda w: (w.esr.my_elearning, dict(session=w.nurse_web, mandatory_only=True)),
    # bulk (see also the Arrow cases below)
    "score_compliance": lambda w: (
        esr.score_compliance, dict(**dict(zip(("assignments", "requirements", "holdings"), _tables())),
                                   as_of=date(2026, 11, 23), amber_months=3, **_rule_tables(),
                                   output=None, threads=None)
    ),
    "compliance_detail": lambda w: (
        esr.compliance_detail, dict(**dict(zip(("assignments", "requirements", "holdings"), _tables())),
                                    as_of=date(2026, 11, 23), amber_months=3, held_not_required=True,
                                    **_rule_tables(), output=None, threads=None)
    ),
    "score_files": lambda w: (
        esr.score_files, dict(**dict(zip(("assignments", "requirements", "holdings"), _table_files())),
                              as_of=date(2026, 11, 23), amber_months=3, detail=False,
                              held_not_required=False, **_rule_tables(), output=None, threads=None,
                              vpd=None, encoding=None)
    ),
    "read_competence_csv": lambda w: (
        esr.read_competence_csv,
        dict(source=sample_csv().encode(), vpd=VPD, skip_bad_rows=False, encoding=None, output=None),
    ),
}


def _mail(w: World) -> esr.EmailMessage:
    mail = w.outbox.last_email_to("jo@nhs.net")
    assert mail is not None
    return mail


def _tables() -> tuple[pa.Table, pa.Table, pa.Table]:
    return (
        pa.table({"assignment_id": [100, 101], "person_id": [1, 2], "position_id": [10, 10]}),
        pa.table({"position_id": [10], "competency_id": [7]}),
        pa.table(
            {
                "person_id": [1, 2],
                "competency_id": [7, 7],
                "expiry": pa.array([date(2027, 1, 1), None], pa.date32()),
            }
        ),
    )


def _rule_tables() -> dict[str, pa.Table]:
    """The full rules' optional tables, valid for _tables() (the assignments have no org unit
    or job columns, so only the equivalence reaches a result)."""
    return {
        "org_units": pa.table({"org_unit_id": [1, 2], "parent_id": pa.array([None, 1], pa.int64())}),
        "org_unit_requirements": pa.table({"org_unit_id": [1], "competency_id": [7]}),
        "job_requirements": pa.table({"job": [3], "competency_id": [7]}),
        "equivalences": pa.table({"competency_id": [8], "satisfies_competency_id": [7]}),
    }


_FILES: list[Path] = []


def _table_files() -> list[Path]:
    """The three tables of _tables() as Parquet files, written once for the session."""
    if not _FILES:
        d = Path(tempfile.mkdtemp(prefix="esr-hostile-"))
        atexit.register(shutil.rmtree, d, ignore_errors=True)
        for name, t in zip(("assignments", "requirements", "holdings"), _tables()):
            pq.write_table(t, d / f"{name}.parquet")
            _FILES.append(d / f"{name}.parquet")
    return list(_FILES)


def public_callables() -> dict[str, inspect.Signature]:
    """Every public function, constructor, method and static method of the compiled module,
    with its signature."""
    out: dict[str, inspect.Signature] = {}
    for name in sorted(dir(native)):
        if name.startswith("_"):
            continue
        obj = getattr(native, name)
        if isinstance(obj, type):
            if issubclass(obj, BaseException):
                continue
            if getattr(obj, "__text_signature__", None) is not None:
                out[f"{name}.__new__"] = inspect.signature(obj)
            for attr, member in vars(obj).items():
                if attr.startswith("_") or isinstance(member, obj) or not callable(member):
                    continue
                out[f"{name}.{attr}"] = inspect.signature(getattr(obj, attr))
        elif callable(obj):
            out[name] = inspect.signature(obj)
    return out


def parameters(sig: inspect.Signature) -> set[str]:
    return {p for p in sig.parameters if p != "self"}


def test_every_public_callable_has_a_hostile_case() -> None:
    found = public_callables()
    takes_input = {name for name, sig in found.items() if parameters(sig)}
    missing = sorted(takes_input - set(CASES))
    assert not missing, f"public callables with no hostile case in CASES: {missing}"
    stale = sorted(set(CASES) - takes_input)
    assert not stale, f"CASES names callables that take no input or no longer exist: {stale}"
    w = build()
    for name in sorted(takes_input):
        _, kwargs = CASES[name](w)
        assert set(kwargs) == parameters(found[name]), f"{name}: give every argument a valid value"
    # The callables without input are called once each: they must not fail either.
    targets: dict[str, Any] = {
        "Esr": w.esr, "ManualClock": w.clock, "Outbox": w.outbox, "Session": w.nurse_web,
        "EmailMessage": _mail(w), "MobileNumber": esr.MobileNumber(MOBILE),
        "SmsMessage": w.outbox.last_sms_to(MOBILE), "PlayResult": esr.PlayResult,
        # Authenticator apps
        "AuthenticatorEnrolment": _enrolment(w), "Totp": esr.Totp(TOTP_URI),
    }
    for name in sorted(set(found) - takes_input):
        owner, _, attr = name.partition(".")
        if attr == "__new__":
            getattr(native, owner)()
            continue
        getattr(targets.get(owner, native), attr or owner)()


def check_refusal(name: str, arg: str, label: str, e: BaseException) -> None:
    """A refusal is an esr error, or a TypeError / ValueError / OverflowError naming the argument,
    with a message of reasonable length."""
    text = " ".join([str(e), *getattr(e, "__notes__", [])])
    where = f"{name}({arg}={label})"
    assert not isinstance(e, SystemError), f"{where}: SystemError {text[:300]}"
    assert isinstance(e, Exception), f"{where}: {type(e).__module__}.{type(e).__name__} {text[:300]}"
    if (name, arg) in PATH_ARGUMENTS and isinstance(e, OSError):
        # A path that cannot be opened: Python's convention, the message names the path (cut
        # to 200 characters, so a 10 MB "path" is not echoed whole).
        assert len(text) < MAX_MESSAGE, f"{where}: {text[:300]}"
        return
    assert len(text) < MAX_MESSAGE, f"{where}: a {len(text)}-character message: {text[:300]}"
    if isinstance(e, esr.EsrError):
        assert str(e), f"{where}: an empty message"
        return
    assert isinstance(e, (TypeError, ValueError, OverflowError)), (
        f"{where}: {type(e).__name__}: {text[:300]}"
    )
    assert re.search(rf"\b{arg}\b", text), f"{where}: the message does not name {arg!r}: {text[:300]}"


def hostile_calls(name: str) -> Iterator[tuple[str, str]]:
    _, kwargs = CASES[name](build())
    for arg in kwargs:
        for label, _ in HOSTILE:
            yield arg, label


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_values(name: str) -> None:
    w = build()
    values = dict(HOSTILE)
    accepted: list[str] = []
    for arg, label in hostile_calls(name):
        fn, kwargs = CASES[name](w)
        kwargs[arg] = values[label]
        before = snapshot(w)
        try:
            fn(**kwargs)
        except BaseException as e:  # noqa: BLE001 - PanicException is a BaseException
            check_refusal(name, arg, label, e)
            if any(name == n and isinstance(e, t) for n, t in STATEFUL_REFUSALS):
                w = build()
                continue
            assert snapshot(w) == before, f"{name}({arg}={label}) was refused but changed state"
            continue
        if snapshot(w) != before:
            if label in MUST_REFUSE and (name, arg, label) not in MAY_ACCEPT:
                accepted.append(f"{arg}={label}")
            w = build()
    assert not accepted, f"{name} accepted and stored hostile values: {accepted}"


# ----- the ends of time -------------------------------------------------------------------

EXTREME_INSTANTS = [
    datetime.min.replace(tzinfo=timezone.utc),
    datetime(1, 1, 2, tzinfo=timezone.utc),
    datetime(9999, 12, 30, tzinfo=timezone.utc),
    datetime.max.replace(tzinfo=timezone.utc),
    datetime.max.replace(tzinfo=WEST),
]


@pytest.mark.parametrize("instant", EXTREME_INSTANTS, ids=str)
def test_every_time_rule_refuses_at_the_ends_of_time(instant: datetime) -> None:
    """With the clock at the ends of its range, every call that reads it gives an answer or an
    esr error: no date arithmetic overflows into a panic."""
    w = build()
    try:
        w.clock.set(instant)
    except (ValueError, OverflowError, esr.EsrError):
        return
    calls = [n for n in sorted(CASES) if n.startswith("Esr.") and n != "Esr.__new__"]
    for name in calls:
        try:
            # A case's set-up (an enrolment, say) reads the clock too: it may be refused.
            fn, kwargs = CASES[name](w)
            fn(**kwargs)
        except BaseException as e:  # noqa: BLE001
            text = " ".join([str(e), *getattr(e, "__notes__", [])])
            assert isinstance(e, esr.EsrError), f"{name} at {instant}: {type(e).__name__} {text[:300]}"
    try:
        w.clock.advance(timedelta(days=2))
    except BaseException as e:  # noqa: BLE001
        check_refusal("ManualClock.advance", "delta", "2 days", e)


@pytest.mark.parametrize(
    "lifetime", [timedelta.max, timedelta.min, timedelta(0), timedelta(seconds=-1), timedelta(days=10**9 // 86400 * 3)],
    ids=str,
)
def test_extreme_session_lifetimes(lifetime: timedelta) -> None:
    """A session lifetime at the ends of timedelta's range is refused, or works."""
    try:
        s = esr.Esr(clock=esr.ManualClock(START), session_lifetime=lifetime, fast_password_hashing=True)
    except BaseException as e:  # noqa: BLE001
        check_refusal("Esr.__new__", "session_lifetime", str(lifetime), e)
        return
    s.create_trust(VPD, "Northfield NHS Trust")
    s.add_org_unit("set-up", VPD, "Ward 5", "Ward 5")
    p = s.add_person(
        "feed", VPD, employee_number="29700001", given_name="Jo", family_name="Smith",
        date_of_birth=date(1980, 1, 1), recruitment_email="jo@nhs.net",
    )
    try:
        session = s.log_in_with_smartcard(p.username, "CARD-0001")
        s.functions(session)
    except BaseException as e:  # noqa: BLE001
        assert isinstance(e, esr.EsrError), f"{type(e).__name__}: {e}"


# ----- Arrow inputs to the bulk scorer --------------------------------------------------------


class Exporter:
    """An object offering the Arrow PyCapsule interface, answering with `stream` / `array`."""

    def __init__(self, stream: Callable[[], Any] | None = None, array: Callable[[], Any] | None = None):
        if stream is not None:
            self.__arrow_c_stream__ = lambda requested_schema=None: stream()
        if array is not None:
            self.__arrow_c_array__ = lambda requested_schema=None: array()


def _raise() -> Any:
    raise RuntimeError("the exporter failed")


def _mixed_stream() -> Any:
    """A stream whose second batch does not have the stream's schema."""
    good = pa.record_batch({"assignment_id": [1], "person_id": [1], "position_id": [10]})
    bad = pa.record_batch({"assignment_id": ["x"], "person_id": [1], "position_id": [10]})
    return pa.RecordBatchReader.from_batches(good.schema, iter([good, bad])).__arrow_c_stream__()


def arrow_cases() -> Iterator[tuple[str, tuple[Any, Any, Any]]]:
    a, r, h = _tables()
    yield "nulls in assignment ids", (
        pa.table({"assignment_id": [100, None], "person_id": [1, 2], "position_id": [10, 10]}), r, h)
    yield "nulls in person ids", (
        pa.table({"assignment_id": [100, 101], "person_id": [None, 2], "position_id": [10, None]}), r, h)
    yield "nulls in competency ids", (a, pa.table({"position_id": [10], "competency_id": [None]}), h)
    yield "a null-typed column", (
        a, r, pa.table({"person_id": [1], "competency_id": [7], "expiry": pa.nulls(1)}))
    yield "all-null ids", (
        pa.table({"assignment_id": pa.nulls(2, pa.int64()), "person_id": [1, 2], "position_id": [10, 10]}), r, h)
    yield "string ids with nulls", (
        a, pa.table({"position_id": [10], "competency_id": pa.array([None], pa.string())}),
        pa.table({"person_id": [1], "competency_id": pa.array(["x"]), "expiry": pa.array([None], pa.date32())}))
    yield "float ids", (
        pa.table({"assignment_id": [1.5, 2.0], "person_id": [1, 2], "position_id": [10, 10]}), r, h)
    yield "negative ids", (
        pa.table({"assignment_id": [-1, -2], "person_id": [-1, 2], "position_id": [-10, 10]}), r, h)
    yield "ids past 2**63", (
        pa.table({"assignment_id": pa.array([2**64 - 1, 0], pa.uint64()), "person_id": [1, 2], "position_id": [10, 10]}), r, h)
    yield "bool ids", (
        pa.table({"assignment_id": [True, False], "person_id": [1, 2], "position_id": [10, 10]}), r, h)
    yield "string expiry", (
        a, r, pa.table({"person_id": [1], "competency_id": [7], "expiry": ["2027-01-01"]}))
    yield "timestamp expiry", (
        a, r, pa.table({"person_id": [1], "competency_id": [7], "expiry": pa.array([datetime(2027, 1, 1)], pa.timestamp("us"))}))
    yield "date64 expiry at the ends", (
        a, r, pa.table({"person_id": [1, 2], "competency_id": [7, 7],
                        "expiry": pa.array([date.min, date.max], pa.date64())}))
    yield "date32 at its ends", (
        a, r, pa.table({"person_id": [1, 2], "competency_id": [7, 7],
                        "expiry": pa.array([-(2**31), 2**31 - 1], pa.int32()).cast(pa.date32())}))
    yield "missing column", (pa.table({"assignment_id": [1], "person_id": [1]}), r, h)
    yield "no columns", (pa.table({}), r, h)
    yield "empty tables", (a.slice(0, 0), r.slice(0, 0), h.slice(0, 0))
    yield "mismatched chunked lengths", (
        pa.Table.from_batches([pa.record_batch({"assignment_id": [1, 2], "person_id": [1, 2], "position_id": [1, 2]})]),
        r, h)
    yield "duplicate column names", (
        pa.Table.from_arrays([pa.array([1]), pa.array([1]), pa.array([1]), pa.array([2])],
                             names=["assignment_id", "person_id", "position_id", "position_id"]), r, h)
    yield "nested column", (
        pa.table({"assignment_id": [[1], [2]], "person_id": [1, 2], "position_id": [10, 10]}), r, h)
    yield "dictionary ids", (
        a, r, pa.table({"person_id": [1], "competency_id": pa.array(["7"]).dictionary_encode(),
                        "expiry": pa.array([None], pa.date32())}))
    yield "pandas with nulls", (
        pd.DataFrame({"assignment_id": [100, None], "person_id": [1, 2], "position_id": [10, 10]}), r, h)
    yield "pandas object column", (
        pd.DataFrame({"assignment_id": [object(), object()], "person_id": [1, 2], "position_id": [10, 10]}), r, h)
    yield "polars with nulls", (
        pl.DataFrame({"assignment_id": [100, None], "person_id": [1, 2], "position_id": [10, 10]}), r, h)
    yield "polars null expiry", (
        a, r, pl.DataFrame({"person_id": [1], "competency_id": [7], "expiry": [None]}))
    yield "a stream changing schema", (Exporter(stream=_mixed_stream), r, h)
    yield "an exporter that raises", (Exporter(stream=_raise), r, h)
    yield "an exporter giving an int", (Exporter(stream=lambda: 42), r, h)
    yield "an exporter giving another capsule", (
        Exporter(stream=lambda: pa.array([1]).__arrow_c_array__()[0]), r, h)
    yield "an array exporter that raises", (Exporter(array=_raise), r, h)
    yield "an array exporter giving a plain array", (Exporter(array=pa.array([1, 2]).__arrow_c_array__), r, h)
    yield "an array exporter giving one capsule", (Exporter(array=lambda: pa.array([1]).__arrow_c_array__()[0]), r, h)
    yield "a list, not a table", ([1, 2, 3], r, h)
    yield "None", (None, r, h)
    yield "a string", ("assignments.csv", r, h)


@pytest.mark.parametrize("label", [label for label, _ in arrow_cases()])
def test_hostile_arrow_inputs(label: str) -> None:
    tables = dict(arrow_cases())[label]
    for as_of in (date(2026, 11, 23), date.min, date.max):
        for amber in (0, 3, 2**31, -1):
            try:
                esr.score_compliance(*tables, as_of, amber)
            except BaseException as e:  # noqa: BLE001
                check_refusal("score_compliance", _guilty(e), label, e)


def _guilty(e: BaseException) -> str:
    """The argument a refusal of score_compliance must name (its tables are named by role)."""
    text = " ".join([str(e), *getattr(e, "__notes__", [])])
    for arg in ("assignments", "requirements", "holdings", "amber_months", "as_of"):
        if re.search(rf"\b{arg}\b", text):
            return arg
    return "assignments"
