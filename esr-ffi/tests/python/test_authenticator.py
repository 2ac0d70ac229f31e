"""Authenticator apps through the C ABI: enrol from HSCN, confirm with the app's first code,
upgrade an internet session with a code once, and `Totp`, with which an app is the
authenticator itself (as AuthenticatorTests.swift does from Swift)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import esr_ffi
from conftest import World
from esr_ffi import EsrActor, EsrError

SECRET = bytes(range(0x21, 0x41))
RFC_URI = "otpauth://totp/RFC:6238?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


def keyed(w: World) -> World:
    w.esr.set_authenticator_keys("totp-1", SECRET, [])
    return w


def enrolled(w: World) -> esr_ffi.Totp:
    """Mia enrols from HSCN and confirms with the app's first code; the clock moves to the next
    step. The app."""
    card = w.smartcard(w.mia)
    app = esr_ffi.Totp(w.esr.enrol_authenticator(card).uri())
    first = w.esr.confirm_authenticator(card, app.code(w.esr.now()))
    assert first.outcome == esr_ffi.AuthenticatorOutcome.ACTIVATED
    w.esr.advance_clock(30)
    return app


def test_enrolment_is_refused_without_keys(w: World) -> None:
    with pytest.raises(EsrError):
        w.esr.enrol_authenticator(w.smartcard(w.mia))


def test_enrolment_is_from_hscn_only_and_never_prints_the_secret(w: World) -> None:
    keyed(w)
    with pytest.raises(EsrError.NotPermitted):
        w.esr.enrol_authenticator(w.internet(w.mia))
    enrolment = w.esr.enrol_authenticator(w.smartcard(w.mia))
    assert enrolment.uri().startswith("otpauth://totp/Northfield%20NHS%20Trust:")
    key = enrolment.manual_key()
    assert len(key) == 32
    assert (enrolment.digits(), enrolment.period()) == (6, 30)
    assert "<svg" in enrolment.qr_svg()
    assert enrolment.qr_png(4)[:4] == b"\x89PNG"
    app = esr_ffi.Totp(enrolment.uri())
    assert app.account() == w.mia.username
    assert app.issuer() == "Northfield NHS Trust"
    assert (app.digits(), app.period()) == (6, 30)
    for shown in (str(enrolment), repr(enrolment), str(app), repr(app)):
        assert key not in shown


def test_totp_makes_the_rfc_6238_codes() -> None:
    app = esr_ffi.Totp(RFC_URI)
    at = lambda s: datetime.fromtimestamp(s, timezone.utc)  # noqa: E731
    assert app.code(at(59)) == "287082"
    assert app.code(at(1_111_111_109)) == "081804"
    assert app.seconds_left(at(59)) == 1
    assert app.seconds_left(at(60)) == 30
    with pytest.raises(EsrError.InvalidInput):
        esr_ffi.Totp("https://example.invalid/")


def test_upgrades_with_the_app_once_and_refuses_a_replay_and_the_wrong_step(w: World) -> None:
    app = enrolled(keyed(w))
    web, other = w.internet(w.mia), w.internet(w.mia)
    factors = w.esr.second_factors(web)
    assert factors.authenticator
    assert factors.mobile_masked is None
    code = app.code(w.esr.now())
    upgraded = w.esr.upgrade_with_authenticator(web, code)
    assert upgraded.approved
    assert upgraded.outcome == esr_ffi.AuthenticatorOutcome.UPGRADED
    assert upgraded.session is not None and upgraded.session.upgraded_at == w.esr.now()
    replay = w.esr.upgrade_with_authenticator(other, code)
    assert (replay.outcome, replay.approved) == (esr_ffi.AuthenticatorOutcome.REPLAYED, False)
    ahead = app.code(w.esr.now() + timedelta(seconds=90))
    assert w.esr.upgrade_with_authenticator(other, ahead).outcome == esr_ffi.AuthenticatorOutcome.WRONG_CODE
    w.esr.advance_clock(30)
    assert w.esr.upgrade_with_authenticator(other, app.code(w.esr.now())).approved


def test_an_administrator_removes_it(w: World) -> None:
    enrolled(keyed(w))
    admin = EsrActor.USER(session=w.smartcard(w.alice))
    w.esr.remove_authenticator(admin, w.mia.username, "lost phone")
    assert not w.esr.second_factors(w.internet(w.mia)).authenticator
    with pytest.raises(EsrError.NotFound):
        w.esr.remove_authenticator(admin, w.mia.username, "again")
