"""Log-in sessions through the C ABI: smartcard and password log-in, the access level, the
session record and its seconds left on the manual clock, functions and decisions, log-out, and
the service's constructors and clock."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

import esr_ffi
from conftest import KEY, PASSWORD, START, SYSTEM, VPD, World, build_world
from esr_ffi import AccessLevel, Channel, EsrActor, EsrError, EsrService


def test_a_smartcard_session_has_full_access(w: World) -> None:
    s = w.smartcard(w.emma)
    info = w.esr.session_info(s)
    assert info.access_level == AccessLevel.SMARTCARD
    assert info.channel == Channel.HSCN
    assert (info.username, info.vpd) == ("297ECONROY01", VPD)
    assert info.started_at == START
    assert info.expires_at > START
    assert info.upgraded_at is None
    assert info.audit_ref == s.audit_ref()
    assert s.username() == "297ECONROY01"
    # An HSCN session has full access already: there is nothing to upgrade.
    with pytest.raises(EsrError.NotPermitted) as e:
        w.esr.check_upgrade(s)
    assert "cannot be upgraded" in e.value.message


def test_a_password_session_is_standard_and_times_out(w: World) -> None:
    s = w.esr.log_in_with_password(" 297econroy01 ", PASSWORD)
    info = w.esr.session_info(s)
    assert info.access_level == AccessLevel.STANDARD
    assert info.channel == Channel.INTERNET
    w.esr.advance_clock(60)
    later = w.esr.session_info(s)
    assert later.seconds_left == info.seconds_left - 60
    w.esr.advance_clock(info.seconds_left)
    with pytest.raises(EsrError.SessionExpired) as e:
        w.esr.session_info(s)
    assert "log in again" in e.value.message


def test_functions_and_decisions_follow_the_channel(w: World) -> None:
    s = w.internet(w.mia)
    functions = w.esr.functions(s)
    F = esr_ffi.Function
    assert F.MY_COMPLIANCE in functions
    assert F.TEAM_COMPLIANCE not in functions
    mine = w.esr.decide(s, esr_ffi.function_named("my compliance"))
    assert (mine.function, mine.allowed, mine.reason) == (F.MY_COMPLIANCE, True, None)
    team = w.esr.decide(s, F.TEAM_COMPLIANCE)
    assert not team.allowed and team.reason
    with pytest.raises(EsrError.InvalidInput) as e:
        esr_ffi.function_named("Flying")
    assert "the valid names are: View own record" in e.value.message
    assert {esr_ffi.function_name(f) for f in functions} <= set(esr_ffi.function_names())


def test_log_out_ends_the_session(w: World) -> None:
    s = w.internet(w.emma)
    w.esr.log_out(s)
    with pytest.raises(EsrError.SessionExpired):
        w.esr.functions(s)
    with pytest.raises(EsrError.SessionExpired):
        w.esr.log_out(s)


def test_refused_log_ins_say_why_without_echoing_the_password(w: World) -> None:
    with pytest.raises(EsrError.LogInRefused) as e:
        w.esr.log_in_with_password(w.emma.username, "hunter2 is my password")
    assert "username or password is not right" in e.value.message
    assert "hunter2" not in str(e.value) + repr(e.value)
    with pytest.raises(EsrError.InvalidInput) as bad:
        w.esr.log_in_with_smartcard("not a username", "CARD-1")
    assert "username" in bad.value.message
    for _ in range(3):
        with pytest.raises(EsrError.LogInRefused):
            w.esr.log_in_with_password(w.emma.username, "still not it")
    # The fifth wrong password locks the account, answering as any wrong password does; then
    # the right one learns it is locked.
    with pytest.raises(EsrError.LogInRefused):
        w.esr.log_in_with_password(w.emma.username, "still not it")
    with pytest.raises(EsrError.AccountLocked) as locked:
        w.esr.log_in_with_password(w.emma.username, PASSWORD)
    assert "Unlock Account" in locked.value.message


def test_sessions_print_without_their_identifier(w: World) -> None:
    s = w.smartcard(w.emma)
    text = str(s) + repr(s) + str(w.esr.session_info(s))
    assert "297ECONROY01" in text
    assert s.audit_ref() in str(s)
    # The identifier is 32 hex digits; only the audit reference (16) is shown.
    assert not re.search(r"[0-9a-fA-F]{20,}", text), text


def test_internet_access_can_be_approved_per_user() -> None:
    esr = EsrService.for_testing(KEY, START, None, None)
    esr.create_trust(VPD, "No automatic access", esr_ffi.TrustOptions(
        automatic_internet_access=False, upgrade_manager=False, upgrade_professional=False))
    system = esr_ffi.EsrActor.SYSTEM(process="set-up")
    p = esr.add_person(system, VPD, esr_ffi.NewPerson(
        employee_number="29700001", given_name="Ann", family_name="Other",
        date_of_birth=esr_ffi.CalendarDate(year=1990, month=1, day=2),
        recruitment_email="ann@nhs.net"))
    esr.set_password(system, p.username, PASSWORD)
    with pytest.raises(EsrError.LogInRefused) as e:
        esr.log_in_with_password(p.username, PASSWORD)
    assert "internet access" in e.value.message
    esr.approve_internet_access(system, p.username)
    assert esr.session_info(esr.log_in_with_password(p.username, PASSWORD)).access_level == (
        AccessLevel.STANDARD
    )


def test_the_test_clock_moves_and_the_system_clock_cannot() -> None:
    w = build_world()
    assert w.esr.now() == START
    assert w.esr.uk_today() == esr_ffi.CalendarDate(year=2026, month=11, day=22)
    w.esr.advance_clock(15 * 3600)
    assert w.esr.now() == START + timedelta(hours=15)
    assert w.esr.uk_today() == esr_ffi.CalendarDate(year=2026, month=11, day=23)
    w.esr.set_now(START)
    assert w.esr.now() == START
    with pytest.raises(EsrError.InvalidInput):
        w.esr.advance_clock(2**62)
    assert w.esr.now() == START

    real = EsrService(KEY, None, None)
    with pytest.raises(EsrError.InvalidInput) as e:
        real.advance_clock(1)
    assert "forTesting" in e.value.message
    with pytest.raises(EsrError.InvalidInput):
        real.set_now(START)
    assert real.now() > START - timedelta(days=3650)


def test_a_short_passcode_key_is_refused() -> None:
    with pytest.raises(EsrError.InvalidInput) as e:
        EsrService(b"short", None, None)
    assert "32" in e.value.message


def test_people_see_and_end_their_sessions_and_a_password_change_ends_the_others(w: World) -> None:
    a = w.internet(w.emma)
    b = w.internet(w.emma)
    c = w.smartcard(w.emma)
    me = EsrActor.USER(session=a)
    seen = w.esr.sessions_of(me, w.emma.username)
    assert len(seen) == 3
    assert [x.reference for x in seen if x.current] == [a.audit_ref()]
    w.esr.end_session(me, w.emma.username, b.audit_ref())
    with pytest.raises(EsrError.SessionExpired):
        w.esr.session_info(b)
    w.esr.change_password(a, PASSWORD, "a brand new passphrase")
    with pytest.raises(EsrError.SessionExpired):
        w.esr.session_info(c)
    assert w.esr.session_info(a).username == w.emma.username
    assert w.esr.end_all_sessions(SYSTEM, w.emma.username, None) == 1
