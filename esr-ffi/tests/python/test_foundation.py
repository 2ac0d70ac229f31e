"""On-device checks and the error mapping through the C ABI: usernames, the username rule, the
catalogues of names, one error class per kind of failure with a message a person can act on,
and no secret in any error or record as Python prints it."""

from __future__ import annotations

import pytest

import esr_ffi
from conftest import KEY, MOBILE, PASSWORD, START, SYSTEM, VPD, World
from esr_ffi import EsrError


def test_usernames_are_parsed_as_typed() -> None:
    p = esr_ffi.parse_username(" 297econroy01")
    assert (p.username, p.vpd, p.stem, p.sequence) == ("297ECONROY01", "297", "ECONROY", 1)
    with pytest.raises(EsrError.InvalidInput) as e:
        esr_ffi.parse_username("Emma Conroy")
    assert "username" in e.value.message
    with pytest.raises(EsrError.InvalidInput):
        esr_ffi.parse_username("x" * 100_000)


def test_the_username_rule() -> None:
    assert esr_ffi.username_stem("Seán", "O'Brien") == "SOBRIEN"
    with pytest.raises(EsrError.InvalidInput):
        esr_ffi.username_stem("", "")


def test_the_catalogues_of_names() -> None:
    assert "Supervisor Self Service" in esr_ffi.urp_names()
    assert "Team Compliance" in esr_ffi.function_names()
    assert len(set(esr_ffi.function_names())) == len(esr_ffi.function_names())


def test_each_kind_of_failure_has_its_class(w: World) -> None:
    with pytest.raises(EsrError.Conflict) as dup:
        w.esr.create_trust(VPD, "Again", esr_ffi.TrustOptions(
            automatic_internet_access=False, upgrade_manager=False, upgrade_professional=False))
    assert "VPD codes are unique" in dup.value.message
    with pytest.raises(EsrError.NotFound) as missing:
        w.esr.person(VPD, "29799999")
    assert "29799999" in missing.value.message
    with pytest.raises(EsrError.NotFound):
        w.esr.add_org_unit(SYSTEM, "298", "Ward 1", "Ward 1", None)
    with pytest.raises(EsrError.NotFound):
        w.esr.add_org_unit(SYSTEM, VPD, "Ward 9", "Ward 9", "No Such Unit")
    with pytest.raises(EsrError.InvalidInput) as weak:
        w.esr.set_password(SYSTEM, w.emma.username, "pw")
    assert "password" in weak.value.message
    with pytest.raises(EsrError.InvalidInput):
        w.esr.add_person(SYSTEM, VPD, esr_ffi.NewPerson(
            employee_number="29700009", given_name="Ann", family_name="Other",
            date_of_birth=esr_ffi.CalendarDate(year=1990, month=1, day=2),
            recruitment_email="not an e-mail address"))
    with pytest.raises(EsrError.Conflict):
        w.esr.add_assignment(SYSTEM, VPD, esr_ffi.NewAssignment(
            number=w.emma.employee_number, employee_number=w.emma.employee_number,
            title="Again", position=f"{VPD}|Staff Nurse|Ward 5|", org_unit="Ward 5",
            supervisor=None))
    with pytest.raises(EsrError.InvalidInput):
        esr_ffi.urp_named("No Such URP")
    with pytest.raises(EsrError.NotPermitted) as refused:
        w.esr.grant_urp(w.smartcard(w.alice), esr_ffi.UrpGrantRequest(
            holder=w.emma.username, urp=esr_ffi.Urp.SUPERVISOR_SELF_SERVICE, reason="acting up",
            org_units=["Ward 5"], verified_by_line_manager=None))
    assert "line manager" in refused.value.message
    with pytest.raises(EsrError.NotPermitted):
        w.esr.set_password(esr_ffi.EsrActor.USER(session=w.smartcard(w.emma)), w.mia.username,
                           "a long enough passphrase")
    with pytest.raises(EsrError.Conflict):
        w.esr.bootstrap_user_administrators(VPD, [w.mia.username, w.emma.username], "again")
    with pytest.raises(EsrError.InvalidInput):
        esr_ffi.EsrService.for_testing(KEY, START, None, None).define_certification(
            SYSTEM, VPD, esr_ffi.CertificationDefinition(
                name="x", competence="not a competence", level=None, validity_days=1,
                completion_window_days=1, renewal=None, mandatory=False, components=[],
                completion_rule=esr_ffi.CompletionRule.PASSED_ASSESSMENT_COMPLETES_COURSE))
    # Every kind is an EsrError, so an app can catch them all in one place.
    assert issubclass(EsrError.RateLimited, EsrError)


def test_no_secret_in_errors_or_records(w: World) -> None:
    shown: list[str] = []
    s = w.smartcard(w.emma)
    ch = w.esr.request_mobile_code(s, MOBILE)
    code = w.code()
    shown += [str(ch), repr(ch), str(w.esr.verify_passcode(s, ch, code))]
    try:
        w.esr.log_in_with_password(w.emma.username, "my secret passphrase")
    except EsrError as e:
        shown += [str(e), repr(e)]
    w.esr.request_username_reminder(VPD, f"staff{w.emma.employee_number}@nhs.net",
                                    esr_ffi.CalendarDate(year=1985, month=3, day=14))
    mail = w.esr.outbox().last_email_to(f"staff{w.emma.employee_number}@nhs.net")
    assert mail is not None
    token = mail.expose_token()
    try:
        w.esr.reset_password_with_link(token + "x", PASSWORD)
    except EsrError as e:
        shown += [str(e), repr(e)]
    shown += [str(mail), repr(mail), str(w.esr.person(VPD, w.emma.employee_number)),
              str(w.esr.session_info(s)), str(s)]
    text = "\n".join(shown)
    for secret in (code, "my secret passphrase", token, "+447700900374", "7700900374", PASSWORD):
        assert secret not in text, secret
