"""Sign-in to NIST SP 800-63B AAL2 from Python: settings passed to Esr(), the idle timeout,
sessions seen and ended, outcomes that say what happened, and a required passcode key."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

import esr

VPD = "297"
MOBILE = "07700 900374"
PASSWORD = "correct horse battery staple"
START = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
KEY = bytes(range(0x42, 0x62))


def service(**kwargs: object) -> tuple[esr.Esr, esr.ManualClock, esr.Outbox, esr.Person]:
    clock = esr.ManualClock(START)
    outbox = esr.Outbox()
    s = esr.Esr(clock=clock, sms_sender=outbox, email_sender=outbox, fast_password_hashing=True, **kwargs)  # type: ignore[arg-type]
    s.create_trust(VPD, "Northfield", automatic_internet_access=True)
    s.add_org_unit("set-up", VPD, "HQ", "HQ")
    p = s.add_person(
        "feed", VPD, employee_number="29700001", given_name="Emma", family_name="Conroy",
        date_of_birth=date(1985, 3, 14), recruitment_email="emma.conroy@nhs.net",
    )
    s.set_password("set-up", p.username, PASSWORD)
    return s, clock, outbox, p


def test_without_a_key_nothing_is_issued_and_the_error_says_how_to_configure_one() -> None:
    s, _, _, p = service()
    card = s.log_in_with_smartcard(p.username, "CARD-1")
    with pytest.raises(esr.PasscodeError, match="no passcode key is configured"):
        s.request_mobile_code(card, MOBILE)
    with pytest.raises(esr.InvalidInputError, match="one byte repeated"):
        esr.Esr(passcode_key=b"\x00" * 32)


def test_the_idle_timeout_is_set_from_python_and_ends_an_unused_session() -> None:
    s, clock, _, p = service(passcode_key=KEY, internet_idle_timeout=timedelta(minutes=10))
    web = s.log_in_with_password(p.username, PASSWORD)
    clock.advance(timedelta(minutes=9, seconds=59))
    s.functions(web)
    clock.advance(timedelta(minutes=10))
    with pytest.raises(esr.SessionError, match="10 minutes without activity"):
        s.functions(web)
    with pytest.raises(esr.InvalidInputError, match="internet_idle_timeout"):
        esr.Esr(internet_idle_timeout=timedelta(hours=1))
    with pytest.raises(esr.InvalidInputError, match="passcode max_failures"):
        esr.Esr(passcode_max_failures=101)


def test_people_see_and_end_their_sessions_and_a_password_change_ends_the_others() -> None:
    s, _, _, p = service(passcode_key=KEY)
    a = s.log_in_with_password(p.username, PASSWORD)
    b = s.log_in_with_password(p.username, PASSWORD)
    c = s.log_in_with_password(p.username, PASSWORD)
    seen = s.sessions_of(a, p.username)
    assert len(seen) == 3
    assert [x.reference for x in seen if x.current] == [a.audit_ref]
    assert all(a.expose_id() not in repr(x) for x in seen)
    s.end_session(a, p.username, b.audit_ref)
    with pytest.raises(esr.SessionError):
        s.session(b)
    s.change_password(a, PASSWORD, "a brand new passphrase")
    with pytest.raises(esr.SessionError):
        s.session(c)
    assert s.session(a).username == p.username
    assert s.end_all_sessions("service desk", p.username) == 1


def test_verify_outcomes_say_which_guess_killed_the_code_and_which_locked_step_up() -> None:
    s, clock, outbox, p = service(passcode_key=KEY, passcode_max_failures=7)
    card = s.log_in_with_smartcard(p.username, "CARD-1")
    c = s.request_mobile_code(card, MOBILE)
    code = outbox.last_code_to(MOBILE)
    assert code is not None
    wrong = "000000" if code != "000000" else "111111"
    outcomes = [s.verify_passcode(card, c, wrong).outcome for _ in range(5)]
    assert outcomes == ["wrong code"] * 4 + ["max attempts reached"]
    clock.advance(timedelta(minutes=1))
    c = s.resend_passcode(card, c)
    outcomes = [s.verify_passcode(card, c, wrong).outcome for _ in range(2)]
    assert outcomes == ["wrong code", "locked"]
    assert s.account(p.username).step_up_locked


def test_wrong_passwords_answer_alike_and_locked_is_said_only_after_the_right_one() -> None:
    s, _, _, p = service(passcode_key=KEY)
    for _ in range(5):
        with pytest.raises(esr.LogInError) as e:
            s.log_in_with_password(p.username, "not the password")
        assert type(e.value) is esr.LogInError
    with pytest.raises(esr.LogInError) as unknown:
        s.log_in_with_password("297NOBODY01", "not the password")
    with pytest.raises(esr.LogInError) as locked_wrong:
        s.log_in_with_password(p.username, "not the password")
    assert str(unknown.value) == str(locked_wrong.value)
    with pytest.raises(esr.AccountLockedError, match="Unlock Account"):
        s.log_in_with_password(p.username, PASSWORD)
