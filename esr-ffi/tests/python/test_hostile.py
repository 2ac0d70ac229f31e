"""No panic crosses the C ABI: every export of esr-ffi, fed hostile values through uniffi.

Every exported function and method that takes an argument has a case in CASES (a valid call on
the conftest trust); test_every_export_has_a_hostile_case fails when one has none, or when a
case's arguments are not the export's, so a new export or argument must be covered. Each
argument in turn -- and, inside a record or enum variant, each field in turn, recursively -- is
replaced by hostile values of its own type (huge, empty, NUL, control-character and
lone-surrogate strings; ints at 0, -1, 13, 32, the ends of i32, u32, i64 and u64 and past them;
dates with month 13, day 0 or year +-2^31; instants at datetime.min and datetime.max; empty and
huge lists; huge and invalid-UTF-8 bytes) and by values of other types. The call must then
succeed, or raise an EsrError case -- never uniffi's InternalError, which is how a Rust panic
surfaces -- leaving the service's state as it was; a value of the wrong type or out of its
integer type's range may instead be refused by the generated Python before it reaches Rust
(TypeError, ValueError, AttributeError, OverflowError), which Swift's type checker makes
impossible there. A 10 MB, NUL or lone-surrogate string must never be stored.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import struct
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import esr_ffi
from conftest import (
    _CONSTRUCTED, _OBJECTS, CLASS, CR, KEY, MOBILE, PART1, PASSWORD, START, SYSTEM, VPD, World, build_world,
    email_of,
)
from esr_ffi import CalendarDate, EsrActor, EsrError, EsrService

HUGE = "x" * 10_000_000
STRINGS: list[tuple[str, Any]] = [
    ("huge", HUGE),
    ("huge-unicode", "é" * 3_000_000),
    ("empty", ""),
    ("blank", "   "),
    ("nul", "297\x00"),
    ("control", "a\nb\x7f"),
    ("surrogate", "\ud800"),
]
INTS: list[tuple[str, Any]] = [
    ("0", 0),
    ("-1", -1),
    ("13", 13),
    ("32", 32),
    ("i32-max", 2**31 - 1),
    ("i32-min", -(2**31)),
    ("2**31", 2**31),
    ("u32-max", 2**32 - 1),
    ("2**32", 2**32),
    ("i64-max", 2**63 - 1),
    ("i64-min", -(2**63)),
    ("u64-max", 2**64 - 1),
    ("2**64", 2**64),
    ("2**200", 2**200),
]
TIMES: list[tuple[str, Any]] = [
    ("datetime.min", datetime.min.replace(tzinfo=timezone.utc)),
    ("datetime.max", datetime.max.replace(tzinfo=timezone.utc)),
    ("year-1", datetime(1, 1, 1, tzinfo=timezone.utc)),
    ("far-future", datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)),
    ("before-epoch", datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)),
    ("odd-zone", datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=23, minutes=59)))),
    ("naive", datetime(2026, 1, 1)),
]
BYTES: list[tuple[str, Any]] = [
    ("empty-bytes", b""),
    ("short-bytes", b"\x00" * 31),
    ("huge-bytes", b"\xff" * 10_000_000),
    ("bad-utf8", b"\xff\xfe\x00"),
]
WRONG: list[tuple[str, Any]] = [
    ("none", None),
    ("object", object()),
    ("float", 1.5),
    ("str-for-other", "7"),
    ("int-for-other", 7),
]
BAD_DATES: list[tuple[str, Any]] = [
    ("month-13", CalendarDate(year=2026, month=13, day=1)),
    ("month-0", CalendarDate(year=2026, month=0, day=1)),
    ("day-0", CalendarDate(year=2026, month=1, day=0)),
    ("feb-30", CalendarDate(year=2026, month=2, day=30)),
    ("year-2**31-1", CalendarDate(year=2**31 - 1, month=12, day=31)),
    ("year--2**31", CalendarDate(year=-(2**31), month=1, day=1)),
    ("year-0", CalendarDate(year=0, month=1, day=1)),
    ("year-10000", CalendarDate(year=10_000, month=1, day=1)),
]

# No argument may accept these and change anything.
MUST_REFUSE = {"huge", "huge-unicode", "nul", "surrogate"}

# Refusals that change state by design: (export, EsrError case) -> why.
STATEFUL_REFUSALS: dict[tuple[str, type[BaseException]], str] = {
    ("EsrService.log_in_with_password", EsrError.LogInRefused): "a failed log-in is counted",
    ("EsrService.log_in_with_password_async", EsrError.LogInRefused): "a failed log-in is counted",
    ("EsrService.change_password", EsrError.LogInRefused): "a wrong current password is counted",
}

# Python-side refusals by uniffi's generated code, before Rust is called (a bool field given
# None fails in struct.pack).
LOWERING = (TypeError, ValueError, AttributeError, OverflowError, struct.error)

# Fields of records an export reads nothing but an id from: what is in them cannot be stored.
UNREAD_FIELDS = {
    ("challenge", f)
    for f in ("masked_destination", "issued_at", "expires_at", "seconds_left", "status",
              "attempts_left", "message")
}


def is_record(value: Any) -> bool:
    """A uniffi record or enum variant: built from its fields by keyword."""
    if type(value).__module__ != "esr_ffi" or isinstance(value, BaseException):
        return False
    try:
        params = inspect.signature(type(value).__init__).parameters
    except (TypeError, ValueError):
        return False
    fields = [p for n, p in params.items() if n != "self"]
    return bool(fields) and all(
        p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and hasattr(value, p.name) for p in fields
    )


def fields_of(value: Any) -> list[str]:
    return [n for n in inspect.signature(type(value).__init__).parameters if n != "self"]


def rebuild(value: Any, field: str, new: Any) -> Any:
    kwargs = {n: getattr(value, n) for n in fields_of(value)}
    kwargs[field] = new
    return type(value)(**kwargs)


def hostile_like(value: Any, annotation: str = "") -> Iterator[tuple[str, Any]]:
    """Hostile values for an argument (or field) whose valid value is `value`."""
    if isinstance(value, bool):
        pass
    elif isinstance(value, str) or (value is None and "str" in annotation):
        yield from STRINGS
    elif isinstance(value, int) or (value is None and "int" in annotation):
        yield from INTS
    elif isinstance(value, bytes):
        yield from BYTES
    elif isinstance(value, datetime):
        yield from TIMES
    elif isinstance(value, CalendarDate) or (value is None and "CalendarDate" in annotation):
        yield from BAD_DATES
        if value is not None:
            for f in fields_of(value):
                for label, v in hostile_like(getattr(value, f)):
                    yield f"{f}={label}", rebuild(value, f, v)
    elif isinstance(value, list):
        yield "empty-list", []
        yield "huge-list", [value[0] if value else ""] * 100_000
        if value:
            for label, v in hostile_like(value[0]):
                yield f"[0]={label}", [v, *value[1:]]
    elif is_record(value):
        for f in fields_of(value):
            for label, v in hostile_like(getattr(value, f)):
                yield f"{f}={label}", rebuild(value, f, v)
    yield from WRONG


class Ctx:
    """The conftest world, with a live session of each kind, a pending challenge and a reset
    token."""

    def __init__(self) -> None:
        self.w: World = build_world()
        w = self.w
        self.hscn = w.smartcard(w.emma)
        self.challenge = w.esr.request_mobile_code(self.hscn, MOBILE)
        w.esr.advance_clock(120)
        self.web = w.internet(w.mia)
        w.esr.request_username_reminder(VPD, email_of(w.emma), esr_ffi.CalendarDate(year=1985, month=3, day=14))
        mail = w.esr.outbox().last_email_to(email_of(w.emma))
        assert mail is not None
        self.mail = mail
        self.token = mail.expose_token()
        sms = w.esr.outbox().last_sms_to(MOBILE)
        assert sms is not None
        self.sms = sms
        w.esr.subscribe(SYSTEM, VPD, w.emma.employee_number, CR)
        self.state: dict[str, Any] = {}

    def snapshot(self) -> tuple[Any, ...]:
        """What a refused call must leave as it was."""
        e = self.w.esr
        people = [str(e.person(VPD, p.employee_number)) for p in (self.w.alice, self.w.mia, self.w.emma)]
        return (
            people,
            str(e.subscriptions(SYSTEM, VPD, self.w.emma.employee_number)),
            len(e.competence_catalogue(VPD)),
            len(e.certifications_for(VPD, self.w.conflict)),
            str(e.session_info(self.hscn)),
            str(e.passcode_status(self.hscn, self.challenge)),
            e.outbox().message_count(),
            e.now(),
            str(e.my_compliance(self.hscn, None)),
        )


PERSON = lambda: esr_ffi.NewPerson(  # noqa: E731
    employee_number="29700009", given_name="Ann", family_name="Other",
    date_of_birth=CalendarDate(year=1990, month=1, day=2), recruitment_email="ann.other@nhs.net",
)
Case = Callable[[Ctx], tuple[Callable[..., Any], dict[str, Any]]]

def awaited(f: Callable[..., Any]) -> Callable[..., Any]:
    """An async export called to completion, so a hostile value meets the Rust code."""
    return lambda **kw: asyncio.run(f(**kw))


def in_scratch_dir(f: Callable[..., Any]) -> Callable[..., Any]:
    """A call that may create files, made from an empty directory that is removed after."""

    def run(**kw: Any) -> Any:
        here = os.getcwd()
        with tempfile.TemporaryDirectory() as scratch:
            os.chdir(scratch)
            try:
                return f(**kw)
            finally:
                os.chdir(here)

    return run


# ----- state the calls below need, built once for each Ctx (kept on it) --------------------------
# A set-up step refused (at the ends of time, say) leaves a placeholder id: the call is then
# refused for that reason, which is still a call that must not panic.

NO_ID = "00" * 16
TOTP_KEY_ID = "totp-1"
TOTP_SECRET = bytes(range(0x21, 0x41))
# RFC 6238 Appendix B's SHA-1 secret.
RFC_URI = "otpauth://totp/RFC:6238?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
EXTRA = esr_ffi.Urp.MANAGER_SELF_SERVICE_PAYROLL_APPROVALS_NOT_REQUIRED
FINANCE = EsrActor.SYSTEM(process="finance feed")


def once(c: Ctx, key: str, build: Callable[[], Any], fallback: Any) -> Any:
    """`build()` the first time for this Ctx; `fallback` when the service refuses it."""
    if key not in c.state:
        try:
            c.state[key] = build()
        except (EsrError, AssertionError, ValueError, OverflowError):
            return fallback
    return c.state[key]


def card(c: Ctx, who: str) -> esr_ffi.EsrSession:
    """An HSCN session of alice, bernard or mia, one per Ctx."""
    return once(c, f"card-{who}", lambda: c.w.smartcard(getattr(c.w, who)), c.hscn)


def keyed(c: Ctx) -> EsrService:
    once(c, "keys", lambda: c.w.esr.set_authenticator_keys(TOTP_KEY_ID, TOTP_SECRET, []), None)
    return c.w.esr


def enrolment(c: Ctx) -> Any:
    """Emma's authenticator enrolment (not yet confirmed)."""
    return once(c, "enrolment", lambda: keyed(c).enrol_authenticator(c.hscn), None)


def app_code(c: Ctx, uri: str) -> str:
    try:
        return esr_ffi.Totp(uri).code(c.w.esr.now())
    except (EsrError, OverflowError, ValueError):
        return "000000"


def enrolled(c: Ctx, who: str) -> str:
    """Enrols and confirms an authenticator app for mia or emma; the app's URI."""

    def build() -> str:
        session = card(c, "mia") if who == "mia" else c.hscn
        uri = keyed(c).enrol_authenticator(session).uri()
        assert c.w.esr.confirm_authenticator(session, app_code(c, uri)).approved
        c.w.esr.advance_clock(30)
        return uri

    return once(c, f"enrolled-{who}", build, RFC_URI)


def manager(c: Ctx) -> esr_ffi.EsrSession:
    """Mia, with Manager Self Service (payroll approvals required): her pay changes wait for
    Alice, her own line manager."""

    def build() -> esr_ffi.EsrSession:
        c.w.esr.grant_urp(card(c, "bernard"), esr_ffi.UrpGrantRequest(
            holder=c.w.mia.username, urp=esr_ffi.Urp.MANAGER_SELF_SERVICE_PAYROLL_APPROVALS_REQUIRED,
            reason="runs Ward 5", org_units=None, verified_by_line_manager=c.w.alice.employee_number))
        return c.w.smartcard(c.w.mia)

    return once(c, "manager", build, c.hscn)


def held_change(c: Ctx) -> str:
    """A change to Emma's hours held for Alice's approval."""

    def build() -> str:
        held = c.w.esr.request_assignment_change(
            manager(c), c.w.emma.employee_number, c.w.emma.employee_number,
            esr_ffi.AssignmentChange.HOURS(weekly_minutes=2250))
        assert held is not None
        return held.id

    return once(c, "held", build, NO_ID)


def change_to_approve(c: Ctx) -> str:
    """Alice's notification of the held change."""

    def build() -> str:
        change = held_change(c)
        (item,) = [n.id for n in c.w.esr.notifications(card(c, "alice"), True, None) if n.item == change]
        return item

    return once(c, "to-approve", build, NO_ID)


def access_request(c: Ctx) -> str:
    """Emma's request for an extra URP, awaiting Mia's authorisation."""
    return once(c, "request", lambda: c.w.esr.request_access(
        EsrActor.USER(session=c.hscn), NEW_REQUEST(c)).id, NO_ID)


def authorised_request(c: Ctx) -> str:
    """Another of Emma's requests, authorised by Mia, its AS number recorded."""

    def build() -> str:
        r = c.w.esr.request_access(EsrActor.USER(session=c.hscn), NEW_REQUEST(c, "Ward 5"))
        c.w.esr.authorise_access_request(card(c, "mia"), r.id)
        c.w.esr.record_access_prerequisite(FINANCE, VPD, r.id, esr_ffi.AccessPrerequisite.AS_NUMBER, "AS123456")
        return r.id

    return once(c, "authorised", build, NO_ID)


NEW_REQUEST = lambda c, unit=None: esr_ffi.NewAccessRequest(  # noqa: E731
    subject=c.w.emma.username, urp=EXTRA, reason="covers Ward 5 nights",
    org_units=None if unit is None else [unit], exception=None,
)


def review(c: Ctx) -> tuple[str, str]:
    """The open URP review, and Mia's grant in it (Alice may decide it)."""

    def build() -> tuple[str, str]:
        r = c.w.esr.open_urp_review(card(c, "alice"))
        (grant,) = [i.grant for i in r.items if i.holder == c.w.mia.username]
        return r.id, grant

    return once(c, "review", build, (NO_ID, NO_ID))


CLAIM = lambda c: esr_ffi.NewCompetenceRecord(  # noqa: E731
    competence=c.w.conflict, achieved=CalendarDate(year=2026, month=11, day=19),
    expiry=esr_ffi.RecordExpiry.REFRESHER(), level=None,
)


def claim(c: Ctx) -> str:
    """A competence Emma claimed, awaiting Mia's approval."""
    return once(c, "claim", lambda: c.w.esr.claim_competence(c.hscn, CLAIM(c), "certificate CR-42").id, NO_ID)



CSV = lambda c: (  # noqa: E731
    f"Employee Number,Competency Name,Expiry Date\n{c.w.emma.employee_number},"
    "NHS|CSTF|Fire Safety - 1 Year|,30-Nov-2028\n"
).encode()

CASES: dict[str, Case] = {
    "function_name": lambda c: (esr_ffi.function_name, dict(function=esr_ffi.Function.TEAM_COMPLIANCE)),
    "function_named": lambda c: (esr_ffi.function_named, dict(name="Team Compliance")),
    "urp_name": lambda c: (esr_ffi.urp_name, dict(urp=esr_ffi.Urp.SUPERVISOR_SELF_SERVICE)),
    "urp_named": lambda c: (esr_ffi.urp_named, dict(name="Supervisor Self Service")),
    "EsrService.open_sqlite": lambda c: (
        in_scratch_dir(esr_ffi.EsrService.open_sqlite),
        dict(path="esr.sqlite", passcode_key=KEY, sms_gateway=None, email_gateway=None),
    ),
    "EsrService.log_in_with_password_async": lambda c: (
        awaited(c.w.esr.log_in_with_password_async), dict(username=c.w.mia.username, password=PASSWORD)
    ),
    "EsrService.set_password_async": lambda c: (
        awaited(c.w.esr.set_password_async),
        dict(actor=SYSTEM, username=c.w.emma.username, password="a new passphrase"),
    ),
    "EsrService.reset_password_with_link_async": lambda c: (
        awaited(c.w.esr.reset_password_with_link_async), dict(token=c.token, password="a new passphrase")
    ),
    "EsrService.import_competences": lambda c: (
        c.w.esr.import_competences, dict(actor=SYSTEM, vpd=VPD, csv=CSV(c), skip_bad_rows=False)
    ),
    "EsrService.import_competences_async": lambda c: (
        awaited(c.w.esr.import_competences_async),
        dict(actor=SYSTEM, vpd=VPD, csv=CSV(c), skip_bad_rows=False),
    ),
    "mask_mobile_number": lambda c: (esr_ffi.mask_mobile_number, dict(text=MOBILE)),
    "parse_username": lambda c: (esr_ffi.parse_username, dict(text="297ECONROY01")),
    "username_stem": lambda c: (esr_ffi.username_stem, dict(given_name="Sean", surname="O'Brien")),
    "EsrService.__init__": lambda c: (
        esr_ffi.EsrService,
        dict(passcode_key=KEY, sms_gateway=None, email_gateway=None,
             settings=esr_ffi.ServiceSettings(internet_idle_timeout_seconds=900)),
    ),
    "EsrService.for_testing": lambda c: (
        esr_ffi.EsrService.for_testing,
        dict(passcode_key=KEY, start=START, sms_gateway=None, email_gateway=None, settings=None),
    ),
    "EsrService.advance_clock": lambda c: (c.w.esr.advance_clock, dict(seconds=60)),
    "EsrService.set_now": lambda c: (c.w.esr.set_now, dict(instant=START + timedelta(days=1))),
    "EsrService.create_trust": lambda c: (
        c.w.esr.create_trust,
        dict(vpd="298", name="Southfield NHS Trust", options=esr_ffi.TrustOptions(
            automatic_internet_access=True, upgrade_manager=False, upgrade_professional=False)),
    ),
    "EsrService.add_org_unit": lambda c: (
        c.w.esr.add_org_unit, dict(actor=SYSTEM, vpd=VPD, unit="Ward 6", name="Ward 6", parent="Trust HQ")
    ),
    "EsrService.add_person": lambda c: (
        c.w.esr.add_person, dict(actor=SYSTEM, vpd=VPD, person=PERSON())
    ),
    "EsrService.add_assignment": lambda c: (
        c.w.esr.add_assignment,
        dict(actor=SYSTEM, vpd=VPD, assignment=esr_ffi.NewAssignment(
            number="29700004-2", employee_number=c.w.emma.employee_number, title="Bank Nurse",
            position=f"{VPD}|Bank Nurse|Ward 5|", org_unit="Ward 5", supervisor="29700003")),
    ),
    "EsrService.person": lambda c: (c.w.esr.person, dict(vpd=VPD, employee_number=c.w.emma.employee_number)),
    "EsrService.set_password": lambda c: (
        c.w.esr.set_password, dict(actor=SYSTEM, username=c.w.emma.username, password="a new passphrase")
    ),
    "EsrService.approve_internet_access": lambda c: (
        c.w.esr.approve_internet_access, dict(actor=SYSTEM, username=c.w.emma.username)
    ),
    "EsrService.bootstrap_user_administrators": lambda c: (
        c.w.esr.bootstrap_user_administrators,
        dict(vpd=VPD, holders=[c.w.alice.username, c.w.emma.username], reason="again"),
    ),
    "EsrService.grant_urp": lambda c: (
        c.w.esr.grant_urp,
        dict(session=c.w.smartcard(c.w.alice), request=esr_ffi.UrpGrantRequest(
            holder=c.w.emma.username, urp=esr_ffi.Urp.SUPERVISOR_SELF_SERVICE, reason="covers Ward 5",
            org_units=["Ward 5"], verified_by_line_manager=c.w.mia.employee_number)),
    ),
    "EsrService.clear_step_up_lock": lambda c: (
        c.w.esr.clear_step_up_lock, dict(actor=SYSTEM, username=c.w.emma.username, reason="cleared")
    ),
    "EsrService.log_in_with_password": lambda c: (
        c.w.esr.log_in_with_password, dict(username=c.w.mia.username, password=PASSWORD)
    ),
    "EsrService.log_in_with_smartcard": lambda c: (
        c.w.esr.log_in_with_smartcard, dict(username=c.w.emma.username, card_id="CARD-1")
    ),
    "EsrService.log_out": lambda c: (c.w.esr.log_out, dict(session=c.web)),
    "EsrService.sessions_of": lambda c: (
        c.w.esr.sessions_of, dict(actor=SYSTEM, username=c.w.emma.username)
    ),
    "EsrService.end_session": lambda c: (
        c.w.esr.end_session, dict(actor=SYSTEM, username=c.w.emma.username, reference="00" * 8)
    ),
    "EsrService.end_all_sessions": lambda c: (
        c.w.esr.end_all_sessions,
        dict(actor=SYSTEM, username=c.w.emma.username, except_reference="00" * 8),
    ),
    "EsrService.change_password": lambda c: (
        c.w.esr.change_password,
        dict(session=c.web, current=PASSWORD, new_password="a new passphrase here"),
    ),
    "EsrService.session_info": lambda c: (c.w.esr.session_info, dict(session=c.web)),
    "EsrService.functions": lambda c: (c.w.esr.functions, dict(session=c.web)),
    "EsrService.decide": lambda c: (c.w.esr.decide, dict(session=c.web, function=esr_ffi.Function.MY_COMPLIANCE)),
    "EsrService.check_upgrade": lambda c: (c.w.esr.check_upgrade, dict(session=c.web)),
    "EsrService.request_mobile_code": lambda c: (
        c.w.esr.request_mobile_code, dict(session=c.hscn, mobile="07700 900375")
    ),
    "EsrService.request_upgrade_code": lambda c: (c.w.esr.request_upgrade_code, dict(session=c.web)),
    "EsrService.resend_passcode": lambda c: (
        c.w.esr.resend_passcode, dict(session=c.hscn, challenge=c.challenge)
    ),
    "EsrService.passcode_status": lambda c: (
        c.w.esr.passcode_status, dict(session=c.hscn, challenge=c.challenge)
    ),
    "EsrService.verify_passcode": lambda c: (
        c.w.esr.verify_passcode, dict(session=c.hscn, challenge=c.challenge, code="000000")
    ),
    "EsrService.request_username_reminder": lambda c: (
        c.w.esr.request_username_reminder,
        dict(vpd=VPD, email=email_of(c.w.emma), date_of_birth=CalendarDate(year=1985, month=3, day=14)),
    ),
    "EsrService.request_unlock_link": lambda c: (
        c.w.esr.request_unlock_link,
        dict(vpd=VPD, email=email_of(c.w.emma), date_of_birth=CalendarDate(year=1985, month=3, day=14)),
    ),
    "EsrService.reset_password_with_link": lambda c: (
        c.w.esr.reset_password_with_link, dict(token=c.token, password="a new passphrase")
    ),
    "EsrService.unlock_with_link": lambda c: (c.w.esr.unlock_with_link, dict(token=c.token)),
    "EsrService.competence_catalogue": lambda c: (c.w.esr.competence_catalogue, dict(vpd=VPD)),
    "EsrService.define_competence": lambda c: (
        c.w.esr.define_competence,
        dict(actor=SYSTEM, vpd=VPD, definition=esr_ffi.CompetenceDefinition(
            name="297|LOCAL|Blood Transfusion - 2 Years|", refresher_months=24, active=True)),
    ),
    "EsrService.set_requirement": lambda c: (
        c.w.esr.set_requirement,
        dict(actor=SYSTEM, vpd=VPD, competence=c.w.conflict,
             target=esr_ffi.RequirementTarget.JOB(job="Staff Nurse"), essential=True,
             min_level="1 - Assessed"),
    ),
    "EsrService.record_competence": lambda c: (
        c.w.esr.record_competence,
        dict(actor=SYSTEM, vpd=VPD, employee_number=c.w.emma.employee_number,
             record=esr_ffi.NewCompetenceRecord(
                 competence=c.w.conflict, achieved=CalendarDate(year=2026, month=1, day=9),
                 expiry=esr_ffi.RecordExpiry.ON(date=CalendarDate(year=2027, month=1, day=9)),
                 level="1 - Assessed")),
    ),
    "EsrService.my_compliance": lambda c: (
        c.w.esr.my_compliance, dict(session=c.hscn, as_of=CalendarDate(year=2026, month=12, day=1))
    ),
    "EsrService.team_compliance": lambda c: (
        c.w.esr.team_compliance, dict(session=c.w.smartcard(c.w.mia), as_of=None)
    ),
    "EsrService.define_certification": lambda c: (
        c.w.esr.define_certification,
        dict(actor=SYSTEM, vpd=VPD, certification=esr_ffi.CertificationDefinition(
            name="297 Blood Transfusion", competence=c.w.conflict, level=None, validity_days=730,
            completion_window_days=60,
            renewal=esr_ffi.RenewalRule(window_days=30, base=esr_ffi.ExpiryBase.COMPLETION_DATE),
            mandatory=False,
            components=[esr_ffi.ComponentDefinition(
                course="297 Transfusion", kind=esr_ffi.ComponentKind.COURSE, classes=[CLASS])],
            completion_rule=esr_ffi.CompletionRule.ALL_COMPONENTS)),
    ),
    "EsrService.certifications_for": lambda c: (
        c.w.esr.certifications_for, dict(vpd=VPD, competence=c.w.conflict)
    ),
    "EsrService.subscribe": lambda c: (
        c.w.esr.subscribe, dict(actor=SYSTEM, vpd=VPD, employee_number=c.w.mia.employee_number, certification=CR)
    ),
    "EsrService.unsubscribe": lambda c: (
        c.w.esr.unsubscribe,
        dict(actor=SYSTEM, vpd=VPD, employee_number=c.w.emma.employee_number, certification=CR),
    ),
    "EsrService.enrol": lambda c: (
        c.w.esr.enrol,
        dict(actor=SYSTEM, vpd=VPD, employee_number=c.w.emma.employee_number, certification=CR,
             course=PART1, class_name=CLASS),
    ),
    "EsrService.play": lambda c: (
        c.w.esr.play,
        dict(actor=SYSTEM, vpd=VPD, employee_number=c.w.emma.employee_number, certification=CR,
             course=PART1, result=esr_ffi.PlayResult.PROGRESS(percent=40)),
    ),
    "EsrService.subscriptions": lambda c: (
        c.w.esr.subscriptions, dict(actor=SYSTEM, vpd=VPD, employee_number=c.w.emma.employee_number)
    ),
    "EsrService.my_elearning": lambda c: (
        c.w.esr.my_elearning, dict(session=c.hscn, mandatory_only=True)
    ),
    "Outbox.fail_with": lambda c: (c.w.esr.outbox().fail_with, dict(reason=None)),
    "Outbox.last_code_to": lambda c: (c.w.esr.outbox().last_code_to, dict(mobile=MOBILE)),
    "Outbox.last_sms_to": lambda c: (c.w.esr.outbox().last_sms_to, dict(mobile=MOBILE)),
    "Outbox.last_email_to": lambda c: (c.w.esr.outbox().last_email_to, dict(address=email_of(c.w.emma))),
    "EmailMessage.text": lambda c: (c.mail.text, dict(link_base="https://esr.example/reset")),
    # authenticator apps
    "EsrService.set_authenticator_keys": lambda c: (
        c.w.esr.set_authenticator_keys,
        dict(key_id=TOTP_KEY_ID, secret=TOTP_SECRET,
             retired=[esr_ffi.RetiredKey(key_id="totp-0", secret=bytes(range(0x22, 0x42)))]),
    ),
    "EsrService.enrol_authenticator": lambda c: (keyed(c).enrol_authenticator, dict(session=c.hscn)),
    "EsrService.confirm_authenticator": lambda c: (
        c.w.esr.confirm_authenticator,
        dict(session=c.hscn, code=app_code(c, enrolment(c).uri() if enrolment(c) else RFC_URI)),
    ),
    "EsrService.upgrade_with_authenticator": lambda c: (
        c.w.esr.upgrade_with_authenticator, dict(session=c.web, code=app_code(c, enrolled(c, "mia")))
    ),
    "EsrService.second_factors": lambda c: (c.w.esr.second_factors, dict(session=c.web)),
    "EsrService.remove_authenticator": lambda c: (
        (enrolled(c, "emma"), c.w.esr.remove_authenticator)[1],
        dict(actor=EsrActor.USER(session=card(c, "alice")), username=c.w.emma.username, reason="lost phone"),
    ),
    "AuthenticatorEnrolment.qr_png": lambda c: (
        (enrolment(c) or keyed(c).enrol_authenticator(c.hscn)).qr_png, dict(scale=4)
    ),
    "Totp.__init__": lambda c: (esr_ffi.Totp, dict(uri=RFC_URI)),
    "Totp.code": lambda c: (esr_ffi.Totp(RFC_URI).code, dict(at=START)),
    "Totp.seconds_left": lambda c: (esr_ffi.Totp(RFC_URI).seconds_left, dict(at=START)),
    # notifications and changes held for approval
    "EsrService.notification_count": lambda c: (c.w.esr.notification_count, dict(session=c.hscn)),
    "EsrService.notifications": lambda c: (
        c.w.esr.notifications, dict(session=card(c, "mia"), open_only=True, kind="urp_granted")
    ),
    "EsrService.act_on_notification": lambda c: (
        c.w.esr.act_on_notification,
        dict(session=card(c, "alice"), notification=change_to_approve(c),
             action=esr_ffi.NotificationAction.REJECT(reason="Ward 5 needs the hours")),
    ),
    "EsrService.request_details_change": lambda c: (
        c.w.esr.request_details_change,
        dict(session=c.hscn, employee_number=c.w.emma.employee_number, given_name="Emily",
             family_name="Conroy-Smith", recruitment_email="emily.conroy@nhs.net"),
    ),
    "EsrService.request_assignment_change": lambda c: (
        c.w.esr.request_assignment_change,
        dict(session=manager(c), employee_number=c.w.emma.employee_number,
             assignment=c.w.emma.employee_number,
             change=esr_ffi.AssignmentChange.HOURS(weekly_minutes=2250)),
    ),
    "EsrService.pending_change": lambda c: (
        c.w.esr.pending_change, dict(session=card(c, "alice"), change=held_change(c))
    ),
    "EsrService.expire_pending_changes": lambda c: (
        (held_change(c), c.w.esr.expire_pending_changes)[1], dict(actor=SYSTEM, vpd=VPD)
    ),
    # access requests
    "EsrService.request_access": lambda c: (
        c.w.esr.request_access, dict(actor=EsrActor.USER(session=c.hscn), request=NEW_REQUEST(c, "Ward 5"))
    ),
    "EsrService.authorise_access_request": lambda c: (
        c.w.esr.authorise_access_request, dict(session=card(c, "mia"), request=access_request(c))
    ),
    "EsrService.reject_access_request": lambda c: (
        c.w.esr.reject_access_request,
        dict(session=card(c, "mia"), request=access_request(c), reason="Ward 5 is covered"),
    ),
    "EsrService.record_access_prerequisite": lambda c: (
        c.w.esr.record_access_prerequisite,
        dict(actor=FINANCE, vpd=VPD, request=access_request(c),
             prerequisite=esr_ffi.AccessPrerequisite.AS_NUMBER, reference="AS123456"),
    ),
    "EsrService.grant_access_request": lambda c: (
        c.w.esr.grant_access_request, dict(session=card(c, "bernard"), request=authorised_request(c))
    ),
    "EsrService.access_request": lambda c: (
        c.w.esr.access_request, dict(actor=EsrActor.USER(session=c.hscn), vpd=VPD, request=access_request(c))
    ),
    "EsrService.my_access_requests": lambda c: (
        (access_request(c), c.w.esr.my_access_requests)[1], dict(session=c.hscn)
    ),
    "EsrService.access_requests_to_authorise": lambda c: (
        (access_request(c), c.w.esr.access_requests_to_authorise)[1], dict(session=card(c, "mia"))
    ),
    "EsrService.access_requests_to_grant": lambda c: (
        (authorised_request(c), c.w.esr.access_requests_to_grant)[1], dict(session=card(c, "bernard"))
    ),
    "EsrService.set_caldicott_guardian": lambda c: (
        c.w.esr.set_caldicott_guardian,
        dict(actor=EsrActor.USER(session=card(c, "bernard")), vpd=VPD, guardian=c.w.alice.employee_number),
    ),
    # the URP review
    "EsrService.open_urp_review": lambda c: (c.w.esr.open_urp_review, dict(session=card(c, "alice"))),
    "EsrService.confirm_urp_grant": lambda c: (
        c.w.esr.confirm_urp_grant, dict(session=card(c, "alice"), review=review(c)[0], grant=review(c)[1])
    ),
    "EsrService.revoke_urp_in_review": lambda c: (
        c.w.esr.revoke_urp_in_review,
        dict(session=card(c, "alice"), review=review(c)[0], grant=review(c)[1], reason="moved to Ward 9"),
    ),
    "EsrService.urp_review_status": lambda c: (
        c.w.esr.urp_review_status, dict(actor=EsrActor.USER(session=card(c, "alice")), vpd=VPD)
    ),
    "EsrService.urp_reviews": lambda c: (
        (review(c), c.w.esr.urp_reviews)[1], dict(actor=EsrActor.USER(session=card(c, "alice")), vpd=VPD)
    ),
    # competences claimed for approval
    "EsrService.claim_competence": lambda c: (
        c.w.esr.claim_competence, dict(session=c.hscn, record=CLAIM(c), evidence="certificate CR-42")
    ),
    "EsrService.competences_awaiting_approval": lambda c: (
        (claim(c), c.w.esr.competences_awaiting_approval)[1],
        dict(actor=EsrActor.USER(session=c.hscn), vpd=VPD, employee_number=c.w.emma.employee_number),
    ),
    "EsrService.competence_claims_of": lambda c: (
        (claim(c), c.w.esr.competence_claims_of)[1],
        dict(actor=EsrActor.USER(session=card(c, "mia")), vpd=VPD, employee_number=c.w.emma.employee_number),
    ),
    "EsrService.competence_claims_to_approve": lambda c: (
        (claim(c), c.w.esr.competence_claims_to_approve)[1], dict(session=card(c, "mia"))
    ),
    "EsrService.approve_competence_claim": lambda c: (
        c.w.esr.approve_competence_claim, dict(session=card(c, "mia"), claim=claim(c))
    ),
    "EsrService.reject_competence_claim": lambda c: (
        c.w.esr.reject_competence_claim, dict(session=card(c, "mia"), claim=claim(c), reason="not an NHS course")
    ),
}


def exports() -> dict[str, inspect.Signature]:
    """Every exported function and method, as conftest tracks them."""
    out: dict[str, inspect.Signature] = {}
    for n, o in vars(esr_ffi).items():
        if (
            inspect.isfunction(o) and o.__module__ == "esr_ffi" and not n.startswith("_")
            and not n.startswith("uniffi_")
        ):
            out[n] = inspect.signature(o)
    for cls_name in _OBJECTS:
        cls = getattr(esr_ffi, cls_name)
        for n, o in vars(cls).items():
            if n.startswith("_") and not (n == "__init__" and cls_name in _CONSTRUCTED):
                continue
            f = o.__func__ if isinstance(o, classmethod) else o
            if inspect.isfunction(f):
                out[f"{cls_name}.{n}"] = inspect.signature(inspect.unwrap(f))
    return out


def parameters(sig: inspect.Signature) -> dict[str, str]:
    return {n: str(p.annotation) for n, p in sig.parameters.items() if n not in ("self", "cls")}


def test_every_export_has_a_hostile_case() -> None:
    found = exports()
    takes_input = {n for n, sig in found.items() if parameters(sig)}
    missing = sorted(takes_input - set(CASES))
    assert not missing, f"exports with no hostile case in CASES: {missing}"
    stale = sorted(set(CASES) - takes_input)
    assert not stale, f"CASES names exports that take no input or no longer exist: {stale}"
    c = Ctx()
    for name in sorted(takes_input):
        _, kwargs = CASES[name](c)
        assert set(kwargs) == set(parameters(found[name])), f"{name}: give every argument a value"


# Wrong-type values uniffi's generated Python lowers without checking (an int for a bool): Rust
# then cannot lift the argument and uniffi reports InternalError("Failed to convert arg ..."), a
# refusal before any esr code runs, not a panic. Swift's types rule these out.
WRONG_TYPE_LABELS = {label for label, _ in WRONG}


def check_refusal(where: str, e: BaseException, label: str = "") -> None:
    if (
        isinstance(e, esr_ffi.InternalError)
        and str(e).startswith("Failed to convert arg")
        and label.rpartition("=")[2] in WRONG_TYPE_LABELS
    ):
        return
    assert not isinstance(e, esr_ffi.InternalError), f"{where}: a Rust panic: {str(e)[:500]}"
    assert isinstance(e, (EsrError, *LOWERING)), f"{where}: {type(e).__name__}: {str(e)[:300]}"
    message = getattr(e, "message", str(e))
    assert len(str(message)) < 2_000, f"{where}: a {len(str(message))}-character message"


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_values(name: str) -> None:
    c = Ctx()
    annotations = parameters(exports()[name])
    stored: list[str] = []
    _, base = CASES[name](c)
    plan = [(arg, label) for arg in base for label, _ in hostile_like(base[arg], annotations[arg])]
    for arg, label in plan:
        fn, kwargs = CASES[name](c)
        value = dict(hostile_like(kwargs[arg], annotations[arg]))[label]
        kwargs[arg] = value
        where = f"{name}({arg}: {label})"
        before = c.snapshot()
        try:
            fn(**kwargs)
        except BaseException as e:  # noqa: BLE001 - a panic may surface as anything
            check_refusal(where, e, label)
            if any(name == n and isinstance(e, t) for n, t in STATEFUL_REFUSALS):
                c = Ctx()
                continue
            assert c.snapshot() == before, f"{where} was refused but changed state"
            continue
        try:
            after = c.snapshot()
        except BaseException as e:  # noqa: BLE001
            # The clock was moved where Python cannot read it back: not a Rust panic.
            assert not isinstance(e, esr_ffi.InternalError), f"{where}: then a Rust panic: {e}"
            c = Ctx()
            continue
        if after != before:
            field = label.partition("=")[0]
            if label.rpartition("=")[2] in MUST_REFUSE and (arg, field) not in UNREAD_FIELDS:
                stored.append(f"{arg}: {label}")
            c = Ctx()
    assert not stored, f"{name} stored hostile values: {stored}"


@pytest.mark.parametrize("label", [label for label, _ in TIMES if label != "naive"])
def test_every_export_answers_at_the_ends_of_time(label: str) -> None:
    """With the test clock moved to an extreme instant, every export gives an answer or an
    EsrError: no time rule panics."""
    c = Ctx()
    try:
        c.w.esr.set_now(dict(TIMES)[label])
    except EsrError:
        return
    for name in sorted(CASES):
        if not name.startswith("EsrService.") or name == "EsrService.__init__":
            continue
        fn, kwargs = CASES[name](c)
        try:
            fn(**kwargs)
        except BaseException as e:  # noqa: BLE001
            assert not isinstance(e, esr_ffi.InternalError), f"{name} at {label}: a Rust panic: {e}"
            assert isinstance(e, (EsrError, OverflowError, ValueError)), f"{name} at {label}: {e!r}"
