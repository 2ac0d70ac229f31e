"""Texted codes through the C ABI: registering and changing a number (wrong codes count down,
the right one approves), upgrading an internet session, resend, time left on the manual clock
and expiry after 10 minutes, the masked number, rate limits, the step-up lock, the built-in
outbox, and the app's own SMS gateway written in Python."""

from __future__ import annotations

from datetime import timedelta

import pytest

import esr_ffi
from conftest import MOBILE, SYSTEM, VPD, World, build_world, wrong
from esr_ffi import AccessLevel, ChallengeStatus, EsrError, Purpose, VerifyStatus

OTHER_MOBILE = "07700 900123"


def test_registering_a_number_counts_down_wrong_codes_then_approves(w: World) -> None:
    s = w.smartcard(w.emma)
    ch = w.esr.request_mobile_code(s, MOBILE)
    assert ch.purpose == Purpose.REGISTER_MOBILE
    assert ch.masked_destination == "xxxxxxx374"
    assert ch.message == "We have sent a code to your mobile number ending: xxxxxxx374"
    assert (ch.status, ch.seconds_left, ch.attempts_left) == (ChallengeStatus.PENDING, 600, 5)
    assert ch.expires_at - ch.issued_at == timedelta(minutes=10)
    right = w.code()
    first = w.esr.verify_passcode(s, ch, wrong(right))
    assert (first.status, first.approved, first.attempts_left) == (VerifyStatus.WRONG_CODE, False, 4)
    second = w.esr.verify_passcode(s, ch, wrong(right))
    assert second.attempts_left == 3
    assert w.esr.passcode_status(s, ch).attempts_left == 3
    ok = w.esr.verify_passcode(s, ch, right)
    assert (ok.status, ok.approved) == (VerifyStatus.APPROVED, True)
    assert (ok.masked_mobile, ok.mobile_changed, ok.attempts_left) == ("xxxxxxx374", False, None)
    assert w.esr.person(VPD, w.emma.employee_number).masked_mobile == "xxxxxxx374"
    assert w.esr.passcode_status(s, ch).status == ChallengeStatus.APPROVED
    again = w.esr.verify_passcode(s, ch, right)
    assert again.status == VerifyStatus.ALREADY_USED


def test_changing_the_number_says_it_changed(w: World) -> None:
    w.register_mobile(w.emma)
    s = w.smartcard(w.emma)
    ch = w.esr.request_mobile_code(s, OTHER_MOBILE)
    assert ch.purpose == Purpose.CHANGE_MOBILE
    assert ch.masked_destination == "xxxxxxx123"
    code = w.esr.outbox().last_code_to(OTHER_MOBILE)
    assert code is not None
    r = w.esr.verify_passcode(s, ch, code)
    assert (r.approved, r.masked_mobile, r.mobile_changed) == (True, "xxxxxxx123", True)


def test_a_code_of_the_wrong_shape_costs_no_attempt(w: World) -> None:
    s = w.smartcard(w.emma)
    ch = w.esr.request_mobile_code(s, MOBILE)
    with pytest.raises(EsrError.InvalidInput):
        w.esr.verify_passcode(s, ch, "12ab")
    assert w.esr.passcode_status(s, ch).attempts_left == 5


def test_upgrading_a_session_raises_its_access_level(w: World) -> None:
    w.register_mobile(w.mia)
    s = w.internet(w.mia)
    assert w.esr.session_info(s).access_level == AccessLevel.STANDARD
    assert not w.esr.decide(s, esr_ffi.Function.TEAM_COMPLIANCE).allowed
    w.esr.check_upgrade(s)
    ch = w.esr.request_upgrade_code(s)
    assert (ch.purpose, ch.masked_destination) == (Purpose.UPGRADE_SESSION, "xxxxxxx374")
    r = w.esr.verify_passcode(s, ch, w.code())
    assert r.approved and r.session is not None
    assert r.session.access_level == AccessLevel.UPGRADED
    info = w.esr.session_info(s)
    assert info.access_level == AccessLevel.UPGRADED
    assert info.upgraded_at == w.esr.now()
    assert w.esr.decide(s, esr_ffi.Function.TEAM_COMPLIANCE).allowed
    assert esr_ffi.Function.TEAM_COMPLIANCE in w.esr.functions(s)


def test_an_upgrade_needs_a_registered_number(w: World) -> None:
    s = w.internet(w.mia)
    with pytest.raises(EsrError.NotPermitted) as e:
        w.esr.check_upgrade(s)
    assert "mobile" in e.value.message
    with pytest.raises(EsrError.NotPermitted):
        w.esr.request_upgrade_code(s)


def test_resend_supersedes_the_old_code(w: World) -> None:
    w.register_mobile(w.mia)
    s = w.internet(w.mia)
    first = w.esr.request_upgrade_code(s)
    with pytest.raises(EsrError.RateLimited) as e:
        w.esr.resend_passcode(s, first)
    assert e.value.retry_after_seconds == 30
    assert "30 seconds" in e.value.message
    w.esr.advance_clock(30)
    second = w.esr.resend_passcode(s, first)
    assert second.id != first.id and second.purpose == Purpose.UPGRADE_SESSION
    assert w.esr.passcode_status(s, first).status == ChallengeStatus.SUPERSEDED
    code = w.code()
    assert w.esr.verify_passcode(s, first, code).status == VerifyStatus.SUPERSEDED
    assert w.esr.verify_passcode(s, second, code).approved


def test_time_left_runs_down_and_the_code_expires_after_ten_minutes(w: World) -> None:
    s = w.smartcard(w.emma)
    ch = w.esr.request_mobile_code(s, MOBILE)
    code = w.code()
    w.esr.advance_clock(1)
    assert w.esr.passcode_status(s, ch).seconds_left == 599
    w.esr.advance_clock(299)
    assert w.esr.passcode_status(s, ch).seconds_left == 300
    w.esr.advance_clock(299)
    assert w.esr.passcode_status(s, ch).seconds_left == 1
    w.esr.advance_clock(1)
    now = w.esr.passcode_status(s, ch)
    assert (now.seconds_left, now.status) == (0, ChallengeStatus.EXPIRED)
    r = w.esr.verify_passcode(s, ch, code)
    assert (r.status, r.approved) == (VerifyStatus.EXPIRED, False)


def test_five_wrong_codes_kill_a_code(w: World) -> None:
    s = w.smartcard(w.emma)
    ch = w.esr.request_mobile_code(s, MOBILE)
    right = w.code()
    for left in (4, 3, 2, 1):
        assert w.esr.verify_passcode(s, ch, wrong(right)).attempts_left == left
    # The guess that uses the code up says so.
    assert w.esr.verify_passcode(s, ch, wrong(right)).status == VerifyStatus.TOO_MANY_ATTEMPTS
    assert w.esr.passcode_status(s, ch).status == ChallengeStatus.MAX_ATTEMPTS_REACHED
    assert w.esr.verify_passcode(s, ch, right).status == VerifyStatus.TOO_MANY_ATTEMPTS


def test_twenty_wrong_codes_lock_step_up_until_an_administrator_clears_it(w: World) -> None:
    w.register_mobile(w.mia)
    w.esr.advance_clock(600)
    s = w.internet(w.mia)
    statuses = []
    for _ in range(4):
        ch = w.esr.request_upgrade_code(s)
        right = w.code()
        for _ in range(5):
            statuses.append(w.esr.verify_passcode(s, ch, wrong(right)).status)
        w.esr.advance_clock(60)
    # Each fifth guess uses its code up; the twentieth locks step-up, and says so at once.
    each = [VerifyStatus.WRONG_CODE] * 4 + [VerifyStatus.TOO_MANY_ATTEMPTS]
    assert statuses == each * 3 + [VerifyStatus.WRONG_CODE] * 4 + [VerifyStatus.LOCKED]
    assert w.esr.verify_passcode(s, ch, right).status == VerifyStatus.LOCKED
    with pytest.raises(EsrError.PasscodeRefused) as e:
        w.esr.request_upgrade_code(s)
    assert "Reset accounts" in e.value.message
    w.esr.clear_step_up_lock(SYSTEM, w.mia.username, "confirmed by phone")
    with pytest.raises(EsrError.InvalidInput):
        w.esr.clear_step_up_lock(SYSTEM, w.mia.username, "again")
    w.esr.advance_clock(600)
    ch = w.esr.request_upgrade_code(s)
    assert w.esr.verify_passcode(s, ch, w.code()).approved


def test_numbers_are_only_ever_masked(w: World) -> None:
    assert esr_ffi.mask_mobile_number("+44 7700 900374") == "xxxxxxx374"
    s = w.smartcard(w.emma)
    ch = w.esr.request_mobile_code(s, MOBILE)
    r = w.esr.verify_passcode(s, ch, w.code())
    shown = " ".join(map(str, (ch, r, w.esr.person(VPD, w.emma.employee_number))))
    assert "xxxxxxx374" in shown
    assert "900374" not in shown.replace("xxxxxxx374", "")
    with pytest.raises(EsrError.InvalidInput) as e:
        w.esr.request_mobile_code(s, "0191 496 0123")
    assert "4960123" not in str(e.value)


def test_codes_only_come_from_a_smartcard_session(w: World) -> None:
    s = w.internet(w.emma)
    with pytest.raises(EsrError.NotPermitted):
        w.esr.request_mobile_code(s, MOBILE)


def test_the_outbox_keeps_texts_and_can_fail(w: World) -> None:
    outbox = w.esr.outbox()
    assert outbox.message_count() == 0
    assert outbox.last_sms_to(MOBILE) is None
    s = w.smartcard(w.emma)
    w.esr.request_mobile_code(s, MOBILE)
    assert outbox.message_count() == 1
    sms = outbox.last_sms_to(MOBILE)
    assert sms is not None
    code = outbox.last_code_to(MOBILE)
    assert code is not None and sms.expose_text().startswith(code)
    assert (sms.vpd(), sms.masked_to(), sms.expose_to_e164()) == (VPD, "xxxxxxx374", "+447700900374")
    for text in (str(sms), repr(sms)):
        assert "xxxxxxx374" in text and code not in text and "+447700900374" not in text
    outbox.clear()
    assert outbox.message_count() == 0
    outbox.fail_with("the gateway is down")
    w.esr.advance_clock(60)
    with pytest.raises(EsrError.Delivery) as e:
        w.esr.request_mobile_code(s, MOBILE)
    assert "the gateway is down" in e.value.message
    assert outbox.message_count() == 0
    outbox.fail_with(None)
    w.esr.request_mobile_code(s, MOBILE)
    assert outbox.message_count() == 1
    with pytest.raises(EsrError.InvalidInput):
        outbox.last_code_to("not a number")


class Phone(esr_ffi.SmsGateway):
    """The app's own gateway, in Python: keeps what it was handed, or refuses."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.refuse: BaseException | None = None

    def send_sms(self, message: esr_ffi.SmsMessage) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.sent.append((message.expose_to_e164(), message.expose_text(), str(message)))


def test_a_python_sms_gateway_receives_the_code() -> None:
    phone = Phone()
    w = build_world(sms_gateway=phone)
    s = w.smartcard(w.emma)
    ch = w.esr.request_mobile_code(s, MOBILE)
    ((to, text, shown),) = phone.sent
    assert to == "+447700900374"
    code = text.split()[0]
    assert code.isdigit() and len(code) == 6
    assert code not in shown and "xxxxxxx374" in shown
    assert w.esr.outbox().message_count() == 0
    assert w.esr.verify_passcode(s, ch, code).approved


def test_a_gateway_refusal_stores_nothing_and_reaches_the_app() -> None:
    phone = Phone()
    w = build_world(sms_gateway=phone)
    s = w.smartcard(w.emma)
    phone.refuse = EsrError.Delivery("no signal")
    with pytest.raises(EsrError.Delivery) as e:
        w.esr.request_mobile_code(s, MOBILE)
    assert "no signal" in e.value.message
    phone.refuse = RuntimeError("the gateway crashed")
    with pytest.raises(EsrError.Delivery) as unexpected:
        w.esr.request_mobile_code(s, MOBILE)
    assert "unexpectedly" in unexpected.value.message
    phone.refuse = None
    # Nothing was stored by the refused sends: the first real code is not rate limited.
    ch = w.esr.request_mobile_code(s, MOBILE)
    assert w.esr.verify_passcode(s, ch, phone.sent[-1][1].split()[0]).approved
