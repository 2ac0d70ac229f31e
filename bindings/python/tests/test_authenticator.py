"""Authenticator apps (TOTP) from Python: enrol on HSCN, the QR code decodes back to the URI,
interoperability with pyotp both ways, upgrading with a code once, and secrets kept out of repr."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pyotp
import pytest
import zxingcpp
from PIL import Image

import esr
from esr import Totp

from test_service import START, World, build

KEY = ("totp-1", bytes(range(0x21, 0x41)))


@pytest.fixture
def w() -> World:
    world = build()
    world.esr.set_authenticator_keys(KEY)
    return world


def unix(w: World) -> int:
    return int(w.esr.now().timestamp())


def enrolled(w: World) -> tuple[esr.AuthenticatorEnrolment, pyotp.TOTP]:
    """Mary enrols on HSCN and confirms with pyotp's first code; moves to the next step."""
    hscn = w.hscn(w.mary)
    e = w.esr.enrol_authenticator(hscn)
    app = pyotp.parse_uri(e.uri)
    assert isinstance(app, pyotp.TOTP)
    first = w.esr.confirm_authenticator(hscn, app.at(unix(w)))
    assert first and first.outcome == "activated"
    w.clock.advance(timedelta(seconds=30))
    return e, app


def test_enrolment_is_hscn_only_and_the_uri_is_what_apps_read(w: World) -> None:
    with pytest.raises(esr.NotPermittedError):
        w.esr.enrol_authenticator(w.web(w.mary))
    e = w.esr.enrol_authenticator(w.hscn(w.mary))
    assert e.uri.startswith(f"otpauth://totp/Northfield%20NHS%20Trust:{w.mary.username}?secret=")
    assert (e.algorithm, e.digits, e.period) == ("SHA1", 6, 30)
    app = pyotp.parse_uri(e.uri)
    assert isinstance(app, pyotp.TOTP)
    assert app.issuer == "Northfield NHS Trust" and app.name == w.mary.username
    assert app.secret == e.manual_key and len(e.manual_key) == 32
    for shown in (repr(e), str(e)):
        assert e.manual_key not in shown and "otpauth" not in shown


def test_the_qr_code_decodes_back_to_the_uri(w: World) -> None:
    e = w.esr.enrol_authenticator(w.hscn(w.mary))
    png = e.qr_png(4)
    assert png.startswith(b"\x89PNG")
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [r.text for r in found] == [e.uri]
    svg = e.qr_svg()
    assert svg.startswith("<?xml") and "<svg" in svg
    with pytest.raises(esr.InvalidInputError):
        e.qr_png(0)


def test_pyotp_codes_verify_in_esr_and_esr_codes_verify_in_pyotp(w: World) -> None:
    e, app = enrolled(w)
    # pyotp's code upgrades an esr session.
    web = w.web(w.mary)
    assert w.esr.second_factors(web).authenticator
    out = w.esr.upgrade_with_authenticator(web, app.at(unix(w)))
    assert out and out.outcome == "upgraded" and out.session is not None and out.session.upgraded
    # esr's generator gives pyotp's codes, at every step of a day and at odd instants.
    mine = Totp(e.uri)
    assert (mine.issuer, mine.account, mine.digits, mine.period) == (
        "Northfield NHS Trust",
        w.mary.username,
        6,
        30,
    )
    t0 = unix(w)
    for t in range(t0, t0 + 86_400, 617):
        assert app.verify(mine.code_at(t), for_time=t)
        assert mine.code_at(t) == app.at(t)
    assert mine.code_at(START) == app.at(START)
    assert mine.seconds_left(30) == 30 and mine.seconds_left(59) == 1
    assert "secret" not in repr(mine).lower() or "hidden" in repr(mine)
    assert e.manual_key not in repr(mine)


def test_a_code_is_accepted_once_and_the_window_is_one_step(w: World) -> None:
    _, app = enrolled(w)
    web, other = w.web(w.mary), w.web(w.mary)
    code = app.at(unix(w))
    assert w.esr.upgrade_with_authenticator(web, code)
    again = w.esr.upgrade_with_authenticator(other, code)
    assert not again and again.outcome == "replayed" and "used already" in again.message
    # pyotp would take it again: it has no replay guard.
    assert app.verify(code, for_time=unix(w), valid_window=1)
    ahead = app.at(unix(w) + 60)
    assert w.esr.upgrade_with_authenticator(other, ahead).outcome == "wrong code"
    with pytest.raises(esr.InvalidInputError):
        w.esr.upgrade_with_authenticator(other, "12ab56")
    w.clock.advance(timedelta(seconds=30))
    assert w.esr.upgrade_with_authenticator(other, app.at(unix(w)))


def test_racing_threads_have_one_winner(w: World) -> None:
    _, app = enrolled(w)
    for _ in range(5):
        w.clock.advance(timedelta(seconds=30))
        sessions = [w.web(w.mary) for _ in range(4)]
        code = app.at(unix(w))
        outcomes: list[str] = []
        barrier = threading.Barrier(len(sessions))

        def go(s: esr.Session) -> None:
            barrier.wait()
            outcomes.append(w.esr.upgrade_with_authenticator(s, code).outcome)

        threads = [threading.Thread(target=go, args=(s,)) for s in sessions]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["replayed", "replayed", "replayed", "upgraded"]


def test_an_administrator_removes_it(w: World) -> None:
    enrolled(w)
    with pytest.raises(esr.NotPermittedError):
        w.esr.remove_authenticator(w.web(w.ann), w.mary.username, "lost phone")
    w.esr.remove_authenticator(w.admin_session, w.mary.username, "lost phone")
    with pytest.raises(esr.NotFoundError):
        w.esr.remove_authenticator(w.admin_session, w.mary.username, "lost phone")
    web = w.web(w.mary)
    assert not w.esr.second_factors(web).authenticator
    trail = w.esr.audit_trail("297", 1, 10_000)
    kinds = [e.event.split()[0] for e in trail if e.event.startswith("authenticator")]
    assert kinds == [
        "authenticator_enrolled",
        "authenticator_activated",
        "authenticator_checked",
        "authenticator_removed",
    ]


def test_without_a_key_enrolment_is_refused() -> None:
    world = build()
    with pytest.raises(esr.PasscodeRefusedError):
        world.esr.enrol_authenticator(world.hscn(world.mary))
    with pytest.raises(esr.InvalidInputError):
        world.esr.set_authenticator_keys(("k", b"short"))
    with pytest.raises(esr.InvalidInputError):
        Totp("https://example.invalid/")
