"""Account recovery through the C ABI: the username reminder with its reset link, the unlock
link, one answer whether or not anything matched, links that work once, and the app's own
e-mail gateway written in Python."""

from __future__ import annotations

from datetime import timedelta

import pytest

import esr_ffi
from conftest import DOB, PASSWORD, VPD, World, build_world, email_of
from esr_ffi import CalendarDate, EmailKind, EsrError, LinkRefusal

NEW_PASSWORD = "a brand new passphrase"


def test_a_username_reminder_resets_the_password_once(w: World) -> None:
    said = w.esr.request_username_reminder(VPD, email_of(w.emma), DOB)
    assert said == w.esr.request_username_reminder(VPD, "nobody@nhs.net", DOB)
    assert said == w.esr.request_username_reminder(
        VPD, email_of(w.emma), CalendarDate(year=1985, month=3, day=15)
    )
    mail = w.esr.outbox().last_email_to(email_of(w.emma))
    assert mail is not None
    assert mail.kind() == EmailKind.USERNAME_REMINDER
    assert (mail.vpd(), mail.username(), mail.to_address()) == (VPD, w.emma.username, email_of(w.emma))
    assert mail.link_expires_at() == w.esr.now() + timedelta(hours=4)
    token = mail.expose_token()
    assert token in mail.text("https://esr.example/reset?t=")
    assert token not in str(mail) + repr(mail)
    assert w.esr.reset_password_with_link(token, NEW_PASSWORD) == w.emma.username
    with pytest.raises(EsrError.LogInRefused):
        w.esr.log_in_with_password(w.emma.username, PASSWORD)
    w.esr.log_in_with_password(w.emma.username, NEW_PASSWORD)
    with pytest.raises(EsrError.RecoveryLinkRefused) as e:
        w.esr.reset_password_with_link(token, "yet another passphrase")
    assert "ask for a new one" in e.value.message
    assert e.value.reason == LinkRefusal.ALREADY_USED
    assert token not in str(e.value)


def test_a_reset_link_expires_after_four_hours(w: World) -> None:
    w.esr.request_username_reminder(VPD, email_of(w.emma), DOB)
    mail = w.esr.outbox().last_email_to(email_of(w.emma))
    assert mail is not None
    w.esr.advance_clock(4 * 3600)
    with pytest.raises(EsrError.RecoveryLinkRefused) as e:
        w.esr.reset_password_with_link(mail.expose_token(), NEW_PASSWORD)
    assert e.value.reason == LinkRefusal.EXPIRED


def test_a_weak_new_password_is_refused_and_the_link_still_works(w: World) -> None:
    w.esr.request_username_reminder(VPD, email_of(w.emma), DOB)
    mail = w.esr.outbox().last_email_to(email_of(w.emma))
    assert mail is not None
    with pytest.raises(EsrError.InvalidInput) as e:
        w.esr.reset_password_with_link(mail.expose_token(), "Zq9x")
    assert "password" in e.value.message and "Zq9x" not in str(e.value)
    assert w.esr.reset_password_with_link(mail.expose_token(), NEW_PASSWORD) == w.emma.username


def test_an_unlock_link_unlocks_a_locked_account(w: World) -> None:
    for _ in range(5):
        with pytest.raises((EsrError.LogInRefused, EsrError.AccountLocked)):
            w.esr.log_in_with_password(w.emma.username, "not the password")
    with pytest.raises(EsrError.AccountLocked):
        w.esr.log_in_with_password(w.emma.username, PASSWORD)
    w.esr.request_unlock_link(VPD, email_of(w.emma), DOB)
    mail = w.esr.outbox().last_email_to(email_of(w.emma))
    assert mail is not None and mail.kind() == EmailKind.UNLOCK_ACCOUNT
    assert w.esr.unlock_with_link(mail.expose_token()) == w.emma.username
    w.esr.log_in_with_password(w.emma.username, PASSWORD)


def test_a_token_that_is_not_one_is_refused(w: World) -> None:
    with pytest.raises(EsrError.RecoveryLinkRefused) as e:
        w.esr.unlock_with_link("not-a-token")
    assert e.value.reason == LinkRefusal.NOT_RECOGNISED
    with pytest.raises(EsrError.InvalidInput):
        w.esr.request_username_reminder(VPD, "not an address", DOB)
    with pytest.raises(EsrError.InvalidInput) as e:
        w.esr.request_unlock_link(VPD, email_of(w.emma), CalendarDate(year=1985, month=2, day=30))
    assert "not a day of the calendar" in e.value.message


class Mailbox(esr_ffi.EmailGateway):
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send_email(self, message: esr_ffi.EmailMessage) -> None:
        self.sent.append((message.to_address(), message.expose_token()))


def test_a_python_email_gateway_receives_the_link() -> None:
    mailbox = Mailbox()
    w = build_world(email_gateway=mailbox)
    w.esr.request_username_reminder(VPD, email_of(w.emma), DOB)
    ((to, token),) = mailbox.sent
    assert to == email_of(w.emma)
    assert w.esr.outbox().last_email_to(to) is None
    assert w.esr.reset_password_with_link(token, NEW_PASSWORD) == w.emma.username
