"""The foundation's Python surface: usernames, masked mobiles, the access table."""

import pytest

import esr


def test_username_parses_and_prints_canonically() -> None:
    u = esr.Username(" 297econroy01 ")
    assert str(u) == "297ECONROY01"
    assert (u.vpd, u.stem, u.sequence) == ("297", "ECONROY", 1)
    assert repr(u) == "Username('297ECONROY01')"
    assert u == esr.Username("297ECONROY01")
    assert len({u, esr.Username("297ECONROY01")}) == 1


@pytest.mark.parametrize("bad", ["", "297", "ECONROY01", "297ECONROY00", "297ÉCONROY01", "x" * 10_000])
def test_bad_usernames_raise_a_typed_error(bad: str) -> None:
    with pytest.raises(esr.InvalidInputError, match="username"):
        esr.Username(bad)


def test_errors_share_one_base() -> None:
    assert issubclass(esr.InvalidInputError, esr.EsrError)
    with pytest.raises(esr.EsrError):
        esr.Username("nope")


def test_username_stem_follows_the_rule() -> None:
    assert esr.username_stem("Seán", "O'Brien") == "SOBRIEN"
    assert esr.username_stem("anna", "smith-jones") == "ASMITHJONES"
    with pytest.raises(esr.InvalidInputError):
        esr.username_stem("Jo", "'-")


def test_mobile_numbers_never_print_in_full() -> None:
    m = esr.MobileNumber("07700 900374")
    assert m.masked == "xxxxxxx374"
    assert str(m) == "xxxxxxx374"
    assert "900374" not in repr(m)
    assert m.expose_e164() == "+447700900374"
    with pytest.raises(esr.InvalidInputError) as e:
        esr.MobileNumber("0191 496 0123")
    assert "4960123" not in str(e.value)


def test_access_table_from_python() -> None:
    manager = ["Employee Self Service", "Manager Self Service (Payroll Approvals Required)"]
    hscn = esr.allowed_functions(manager, "hscn")
    assert "Team Compliance" in hscn and "Manage Internet Access" in hscn
    web = esr.allowed_functions(manager, "internet", automatic_internet_access=True)
    assert "My Compliance" in web and "Team Compliance" not in web
    upgraded = esr.allowed_functions(
        manager, "internet", upgraded=True, automatic_internet_access=True, upgrade_manager=True
    )
    assert "Team Compliance" in upgraded
    assert esr.allowed_functions(["Local BI Administration"], "internet", upgraded=True,
                                 internet_access_approved=True, upgrade_professional=True) == []
    assert len(esr.urp_names()) == 15
    with pytest.raises(esr.InvalidInputError, match="URP"):
        esr.allowed_functions(["Superuser"], "hscn")
    with pytest.raises(esr.InvalidInputError, match="channel"):
        esr.allowed_functions(manager, "carrier pigeon")
