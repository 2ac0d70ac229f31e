"""No secret ever shows through the Python package: every object the flows hand back (sessions,
challenges, outcomes, people, accounts, messages, audit entries, ...) and every exception
raised along the way is looked at every way Python can look at it (repr, str, its attributes
recursively, vars, __getstate__, copy and pickle where they work, an exception's args, notes,
cause and formatted traceback), and none of the secrets captured from the flows (the texted
codes, the e-mailed tokens, the passwords, the numbers in E.164 and national form, the session
ids, the passcode keys) appears, not even in part: a code's digits, six consecutive national
digits of a number, any eight characters of a session id, any sixteen of a key or a token's
secret."""

from __future__ import annotations

import copy
import pickle
import re
import traceback
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

import esr

VPD = "297"
PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "plum tartan lighthouse 42"
WEAK = "Zq9#"
FIRST_MOBILE = "07700 900186"
NEW_MOBILE = "07700 900521"
START = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
DOB = date(1985, 3, 14)
KEY = bytes((i * 37 + 11) % 256 for i in range(32))
KEY2 = bytes(b ^ 0x5A for b in KEY)
MANAGER_URP = "Manager Self Service (Payroll Approvals Required)"


class Exhibits:
    """Everything shown so far, and the secrets to look for in it."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []
        self.needles: list[tuple[str, str]] = []
        self._seen: set[int] = set()

    # ----- secrets -----
    def needle(self, what: str, s: str) -> None:
        assert s
        self.needles.append((what, s))

    def windows(self, what: str, s: str, n: int) -> None:
        self.needle(what, s)
        for i in range(len(s) - n + 1):
            self.needle(f"{n}-character window of {what}", s[i : i + n])

    def session(self, s: esr.Session) -> None:
        sid = s.expose_id()
        self.windows("a session id", sid, 8)
        self.needle("a session id (upper case)", sid.upper())

    def mobile(self, typed: str) -> None:
        e164 = esr.MobileNumber(typed).expose_e164()
        nsn = e164.removeprefix("+44")
        self.needle("a mobile number as typed", typed)
        self.needle("a mobile number in E.164", e164)
        self.needle("a mobile number without +", e164[1:])
        self.needle("a mobile number in national form", "0" + nsn)
        self.windows("a mobile number's national digits", nsn, 6)

    def key(self, what: str, k: bytes) -> None:
        self.windows(what, k.hex(), 16)
        self.needle(f"{what} (upper-case hex)", k.hex().upper())
        self.needle(f"{what} (bytes repr)", repr(k)[2:18])

    # ----- what is shown -----
    def text(self, what: str, t: str) -> None:
        self.shown.append((what, t))

    def look(self, what: str, x: Any, depth: int = 0) -> None:
        """Every way Python shows `x`, and its attributes, recursively."""
        if x is None or isinstance(x, (bool, int, float, datetime, date, timedelta)):
            return
        if isinstance(x, str):
            self.text(what, x)
            return
        if isinstance(x, (list, tuple)):
            self.text(f"{what} (repr)", repr(x))
            for i, item in enumerate(x):
                self.look(f"{what}[{i}]", item, depth + 1)
            return
        if id(x) in self._seen or depth > 6:
            return
        self._seen.add(id(x))
        self.text(f"{what} (repr)", repr(x))
        self.text(f"{what} (str)", str(x))
        self.text(f"{what} (format)", f"{x!s:>1} {x!r}")
        try:
            self.text(f"{what} (vars)", repr(vars(x)))
        except TypeError:
            pass
        getstate = getattr(x, "__getstate__", None)
        if getstate is not None:
            try:
                self.text(f"{what} (__getstate__)", repr(getstate()))
            except TypeError:
                pass
        try:
            self.text(f"{what} (copy)", repr(copy.copy(x)))
        except (TypeError, copy.Error):
            pass
        try:
            self.text(f"{what} (pickle)", pickle.dumps(x).decode("latin-1"))
        except (TypeError, pickle.PicklingError, AttributeError):
            pass
        if isinstance(x, BaseException):
            self.exception(what, x)
            return
        for name in dir(x):
            if name.startswith("_") or name.startswith("expose"):
                continue
            try:
                value = getattr(x, name)
            except Exception as e:  # a property that refuses is shown too
                self.exception(f"{what}.{name} (raised)", e)
                continue
            if callable(value):
                continue
            self.look(f"{what}.{name}", value, depth + 1)

    def exception(self, what: str, e: BaseException) -> None:
        self.text(f"{what} (exception repr)", repr(e))
        self.text(f"{what} (exception str)", str(e))
        self.text(f"{what} (args)", repr(e.args))
        self.text(f"{what} (notes)", repr(getattr(e, "__notes__", None)))
        self.text(f"{what} (traceback)", "".join(traceback.format_exception(e)))
        for name in dir(e):
            if not name.startswith("_") and name not in ("args", "with_traceback", "add_note"):
                self.text(f"{what}.{name}", repr(getattr(e, name)))
        try:
            self.text(f"{what} (pickle)", pickle.dumps(e).decode("latin-1"))
        except (TypeError, pickle.PicklingError, AttributeError):
            pass
        for linked in (e.__cause__, e.__context__):
            if linked is not None:
                self.exception(f"{what} (linked)", linked)

    def raises(self, what: str, kind: type[BaseException], f: Any, *args: Any) -> BaseException:
        with pytest.raises(kind) as info:
            f(*args)
        self.look(f"error from {what}", info.value)
        return info.value

    def assert_clean(self, least: int = 300) -> None:
        assert len(self.shown) > least, "too little was shown to prove anything"
        leaks = []
        for what, text in self.shown:
            digits_seen = without_digests(text)
            for secret, needle in self.needles:
                if needle in (digits_seen if needle.isdigit() else text):
                    leaks.append(f"{what} shows {secret} ({needle!r}): {text[:300]}")
        assert not leaks, f"{len(leaks)} leaks:\n" + "\n".join(leaks[:40])


# A hash or a random id in hexadecimal: 32 or more hex characters, at least one a letter.
DIGEST = re.compile(r"[0-9a-f]{32,}")


def without_digests(text: str) -> str:
    """`text` with its hexadecimal digests blanked. A six-digit code or a window of a phone
    number turns up inside a random SHA-256 in hex about once in a few hundred runs of this
    test (CI failed on "…ba6d1831428120705b…" holding the code 183142); digits inside a digest
    are no leak, so digit needles are looked for in what is left. Hex needles (session ids,
    keys) are still looked for everywhere."""
    return DIGEST.sub(lambda m: "#" * len(m[0]) if re.search("[a-f]", m[0]) else m[0], text)


def test_digits_inside_a_digest_are_not_a_leak_and_elsewhere_are() -> None:
    x = Exhibits()
    x.needle("a texted code", "183142")
    x.text("an audit hash", "hash='4c41be85f30db584ba6d1831428120705b7100efbf2ec4587a298e9b347dfcce'")
    x.text("a long number", "n=" + "1" * 40)
    x.assert_clean(least=0)
    for shown in ("code=183142", "your code is 183142.", "x" + "0" * 40 + "183142", "ab183142"):
        y = Exhibits()
        y.needle("a texted code", "183142")
        y.text("somewhere", shown)
        with pytest.raises(AssertionError, match="leak"):
            y.assert_clean(least=0)


class Gateway:
    """SMS and e-mail senders that keep what they are handed (the Python-callable path)."""

    def __init__(self) -> None:
        self.texts: list[esr.SmsMessage] = []
        self.mails: list[esr.EmailMessage] = []

    def sms(self, m: esr.SmsMessage) -> None:
        self.texts.append(m)

    def email(self, m: esr.EmailMessage) -> None:
        self.mails.append(m)

    def code(self) -> str:
        found = re.search(r"\b(\d{6})\b", self.texts[-1].expose_text())
        assert found is not None
        return found.group(1)


def wrong(code: str) -> str:
    return "111111" if code == "000000" else "000000"


def test_no_secret_is_ever_shown() -> None:
    x = Exhibits()
    clock = esr.ManualClock(START)
    gw = Gateway()
    svc = esr.Esr(
        clock=clock,
        sms_sender=gw.sms,
        email_sender=gw.email,
        passcode_key=KEY,
        passcode_key_id="props-1",
        max_failed_logins=5,
        fast_password_hashing=True,
    )
    x.key("the passcode key", KEY)
    x.key("the rotated passcode key", KEY2)
    svc.set_passcode_keys(("props-2", KEY2), [("props-1", KEY)])
    x.raises("a short key", esr.EsrError, svc.set_passcode_keys, ("short", KEY[:16]))
    for p in (PASSWORD, NEW_PASSWORD, WEAK):
        x.needle("a password", p)
    x.mobile(FIRST_MOBILE)
    x.mobile(NEW_MOBILE)

    svc.create_trust(VPD, "Northfield NHS Trust", automatic_internet_access=True, upgrade_manager=True)
    svc.add_org_unit("trust set-up", VPD, "Trust HQ", "Trust HQ", None)
    svc.add_org_unit("trust set-up", VPD, "Ward 5", "Ward 5", "Trust HQ")
    n = iter(range(1, 100))

    def staff(given: str, family: str) -> esr.Person:
        number = f"{VPD}{next(n):05}"
        p = svc.add_person(
            "recruitment feed",
            VPD,
            employee_number=number,
            given_name=given,
            family_name=family,
            date_of_birth=DOB,
            recruitment_email=f"staff{number}@nhs.net",
        )
        svc.set_password("recruitment feed", p.username, PASSWORD)
        svc.add_assignment(
            "recruitment feed",
            VPD,
            number=number,
            employee_number=number,
            title="Staff Nurse",
            position=f"{VPD}|Staff Nurse|Ward 5|",
            org_unit="Ward 5",
            supervisor=None,
        )
        return p

    admin_a, admin_b, guardian = staff("Alice", "Adams"), staff("Bernard", "Brown"), staff("Gwen", "Guardian")
    svc.bootstrap_user_administrators(VPD, [admin_a.username, admin_b.username], "go-live")
    admin = svc.log_in_with_smartcard(admin_a.username, "CARD-A")
    x.session(admin)
    mary = staff("Mary", "Manager")
    svc.grant_urp(
        admin,
        mary.username,
        MANAGER_URP,
        reason="runs Ward 5",
        caldicott_guardian=guardian.employee_number,
        caldicott_reference="CG-2026-001",
    )

    # ----- registering a number, changing it, and back ----------------------------------------
    hscn = svc.log_in_with_smartcard(mary.username, "CARD-M")
    x.session(hscn)
    x.look("HSCN session", hscn)
    x.raises("a landline", esr.InvalidInputError, svc.request_mobile_code, hscn, "0191 498 0374")
    x.raises("a mistyped mobile", esr.InvalidInputError, svc.request_mobile_code, hscn, "07700 90018x")
    x.raises("a mistyped mobile object", esr.InvalidInputError, esr.MobileNumber, "07700 90018x")
    reg = svc.request_mobile_code(hscn, FIRST_MOBILE)
    x.look("registration challenge", reg)
    code = gw.code()
    x.look("wrong registration code", svc.verify_passcode(hscn, reg, wrong(code)))
    x.raises("a code with letters", esr.InvalidInputError, svc.verify_passcode, hscn, reg, code[:4] + "ab")
    x.raises("a resend too soon", esr.RateLimitedError, svc.resend_passcode, hscn, reg)
    x.look("registration approved", svc.verify_passcode(hscn, reg, code))
    x.look("registration reused", svc.verify_passcode(hscn, reg, code))
    x.look("registered person", svc.person(VPD, mary.employee_number))
    clock.advance(timedelta(minutes=2))
    change = svc.request_mobile_code(hscn, NEW_MOBILE)
    clock.advance(timedelta(minutes=10))
    x.look("expired change", svc.verify_passcode(hscn, change, gw.code()))
    x.look("expired change status", svc.passcode_status(hscn, change))
    change = svc.resend_passcode(hscn, change.id)
    x.look("resent change", change)
    x.look("change approved", svc.verify_passcode(hscn, change, gw.code()))
    x.look("caller-confirmed number", svc.register_mobile_verified_by_caller(hscn, FIRST_MOBILE))
    x.look("a mobile number", esr.MobileNumber(FIRST_MOBILE))
    svc.log_out(hscn)
    x.raises("an ended session", esr.SessionExpiredError, svc.functions, hscn)
    clock.advance(timedelta(minutes=11))

    # ----- log-ins and the upgrade -----------------------------------------------------------
    x.raises("a wrong password", esr.LogInRefusedError, svc.log_in_with_password, mary.username, "not the password")
    x.raises("a password as username", esr.LogInRefusedError, svc.log_in_with_password, PASSWORD, PASSWORD)
    web = svc.log_in_with_password(mary.username, PASSWORD)
    other = svc.log_in_with_password(mary.username, PASSWORD)
    for s in (web, other):
        x.session(s)
        x.look("internet session", s)
    up = svc.request_upgrade_code(web)
    first = gw.code()
    x.raises("an upgrade resend too soon", esr.RateLimitedError, svc.resend_passcode, web, up)
    x.raises("a resend from another session", esr.EsrError, svc.resend_passcode, other, up)
    clock.advance(timedelta(seconds=31))
    up2 = svc.resend_passcode(web, up)
    code = gw.code()
    x.look("superseded code", svc.verify_passcode(web, up, first))
    x.look("code in another session", svc.verify_passcode(other, up2, code))
    x.look("code for another purpose", svc.verify_passcode(web, up2, code, esr.Purpose.REGISTER_MOBILE))
    x.look("wrong code", svc.verify_passcode(web, up2, wrong(code)))
    x.raises("an unknown session id", esr.SessionExpiredError, svc.resume_session, "07" * 16)
    x.needle("a made-up session id", "07" * 16)
    x.raises("a malformed session id", esr.InvalidInputError, svc.resume_session, "AB" * 16)
    x.look("upgrade approved", svc.verify_passcode(web, up2, f" {code[:3]}-{code[3:]} "))
    x.raises("a second upgrade", esr.EsrError, svc.request_upgrade_code, web)
    x.raises("a second upgrade check", esr.EsrError, svc.check_upgrade, web)
    x.look("caller-verified upgrade", svc.upgrade_session_verified_by_caller(other, "sms-otp"))
    x.look("resumed session", svc.resume_session(web.expose_id()))
    x.look("live sessions", svc.live_sessions(mary.username))

    # ----- the step-up lock (20 wrong codes in a row) ------------------------------------------
    clock.advance(timedelta(minutes=11))
    third = svc.log_in_with_password(mary.username, PASSWORD)
    x.session(third)
    c = svc.request_upgrade_code(third)
    # Wrong codes until step-up locks (earlier wrong codes in the 24 hours count too); a code
    # the guesses kill is replaced by a resend.
    while True:
        out = svc.verify_passcode(third, c, wrong(gw.code()))
        x.look("a guess towards the lock", out)
        if out.outcome == "locked":
            break
        if out.outcome == "max attempts reached":
            clock.advance(timedelta(seconds=31))
            c = svc.resend_passcode(third, c)
    x.look("step-up-locked account", svc.account(mary.username))
    x.raises("a code while locked", esr.PasscodeRefusedError, svc.request_upgrade_code, third)
    x.look("the right code while locked", svc.verify_passcode(third, c, gw.code()))
    # The administrator's session has gone unused for over 30 minutes: a fresh one.
    admin = svc.log_in_with_smartcard(admin_a.username, "CARD-A")
    x.look("cleared account", svc.clear_step_up_lock(admin, mary.username, "service desk"))
    x.raises("clearing twice", esr.EsrError, svc.clear_step_up_lock, admin, mary.username, "again")

    # ----- send limits ----------------------------------------------------------------------
    clock.advance(timedelta(minutes=11))
    c = svc.request_upgrade_code(third)
    with pytest.raises(esr.RateLimitedError) as limited:
        for _ in range(6):
            clock.advance(timedelta(seconds=31))
            c = svc.resend_passcode(third, c)
    x.look("too many sends", limited.value)

    # ----- lock-out and recovery links ---------------------------------------------------------
    ann = staff("Ann", "Able")
    for _ in range(4):
        x.raises("a failed log-in", esr.LogInRefusedError, svc.log_in_with_password, ann.username, NEW_PASSWORD)
    x.raises("the locking log-in", esr.LogInRefusedError, svc.log_in_with_password, ann.username, NEW_PASSWORD)
    x.raises("a locked account", esr.AccountLockedError, svc.log_in_with_password, ann.username, PASSWORD)
    x.look("locked account", svc.account(ann.username))
    x.look("recovery answer", svc.request_unlock_link(VPD, ann.recruitment_email, DOB))
    unlock = gw.mails[-1].expose_token()
    x.raises("a tampered link", esr.PasscodeRefusedError, svc.unlock_with_link, unlock[:-1] + ("1" if unlock[-1] == "0" else "0"))
    x.raises("an unlock link to reset", esr.PasscodeRefusedError, svc.reset_password_with_link, unlock, NEW_PASSWORD)
    x.look("unlocked", svc.unlock_with_link(unlock))
    x.raises("an unlock link twice", esr.PasscodeRefusedError, svc.unlock_with_link, unlock)
    clock.advance(timedelta(minutes=11))
    svc.request_username_reminder(VPD, ann.recruitment_email, DOB)
    reset = gw.mails[-1].expose_token()
    x.raises("a weak password by link", esr.InvalidInputError, svc.reset_password_with_link, reset, WEAK)
    x.look("reset", svc.reset_password_with_link(reset, NEW_PASSWORD))
    x.raises("a reset link twice", esr.PasscodeRefusedError, svc.reset_password_with_link, reset, NEW_PASSWORD)
    clock.advance(timedelta(minutes=11))
    svc.request_username_reminder(VPD, ann.recruitment_email, DOB)
    late = gw.mails[-1].expose_token()
    clock.advance(timedelta(hours=4))
    x.raises("an expired link", esr.PasscodeRefusedError, svc.reset_password_with_link, late, NEW_PASSWORD)
    x.raises("a password as a link", esr.PasscodeRefusedError, svc.unlock_with_link, PASSWORD)
    x.raises("a weak password", esr.InvalidInputError, svc.set_password, admin, ann.username, WEAK)
    svc.request_username_reminder(VPD, "nobody@nhs.net", DOB)
    gone = svc.log_in_with_password(ann.username, NEW_PASSWORD)
    x.session(gone)
    clock.advance(timedelta(hours=24))
    x.raises("an expired session", esr.SessionExpiredError, svc.request_upgrade_code, gone)
    x.raises("an expired session's functions", esr.SessionExpiredError, svc.functions, gone)

    # ----- everything sent, and the audit trail ------------------------------------------------
    for m in gw.texts:
        found = re.search(r"\b(\d{6})\b", m.expose_text())
        assert found is not None
        x.needle("a texted code", found.group(1))
        x.look("a text message", m)
    for m in gw.mails:
        token = m.expose_token()
        x.needle("a recovery token", token)
        x.windows("a recovery token's secret", token.split(".", 1)[1], 16)
        x.look("an e-mail", m)
    assert len(gw.texts) >= 12 and len(gw.mails) >= 3
    clock.set(START + timedelta(days=3))
    fresh = svc.log_in_with_smartcard(admin_b.username, "CARD-B")
    x.session(fresh)
    trail = svc.audit_trail(VPD, 1, 100_000)
    assert len(trail) > 50
    x.look("the audit trail", trail)
    x.look("the audit head", svc.verify_audit(VPD))
    x.look("the URP report", svc.urp_audit_report(fresh, VPD))
    for p in svc.people(VPD):
        x.look("a person", p)
        x.look("an account", svc.account(p.username))
    x.look("the service", svc)
    x.look("the clock", clock)
    x.assert_clean()
