"""The parts of the API shaped for Swift, from Python too: functions and URPs as enums, the
async variants of the slow calls (awaited with asyncio), the competence import and a service
on a SQLite file that keeps its state across a reopening."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import esr_ffi
from conftest import KEY, PASSWORD, SYSTEM, VPD, World, email_of, DOB
from esr_ffi import EsrError, EsrService, Function, Urp

FIRE = "NHS|CSTF|Fire Safety - 1 Year|"


def test_functions_and_urps_are_enums_with_their_names() -> None:
    assert len(esr_ffi.all_functions()) == len(esr_ffi.function_names())
    assert [esr_ffi.urp_name(u) for u in esr_ffi.all_urps()] == esr_ffi.urp_names()
    assert esr_ffi.function_name(Function.TEAM_COMPLIANCE) == "Team Compliance"
    assert esr_ffi.function_named("team compliance") == Function.TEAM_COMPLIANCE
    assert esr_ffi.urp_named("Supervisor Self Service") == Urp.SUPERVISOR_SELF_SERVICE


def test_async_log_in_and_password_changes(w: World) -> None:
    async def flow() -> None:
        s = await w.esr.log_in_with_password_async(w.emma.username, PASSWORD)
        assert s.username() == w.emma.username
        await w.esr.set_password_async(SYSTEM, w.emma.username, "a different horse entirely")
        with pytest.raises(EsrError.LogInRefused):
            await w.esr.log_in_with_password_async(w.emma.username, PASSWORD)
        w.esr.request_username_reminder(VPD, email_of(w.emma), DOB)
        mail = w.esr.outbox().last_email_to(email_of(w.emma))
        assert mail is not None
        assert await w.esr.reset_password_with_link_async(
            mail.expose_token(), "yet another passphrase here") == w.emma.username

    asyncio.run(flow())


def test_competence_imports(w: World) -> None:
    csv = f"Employee Number,Competency Name,Expiry Date\n{w.emma.employee_number},{FIRE},30-Nov-2028\n"
    summary = asyncio.run(w.esr.import_competences_async(SYSTEM, VPD, csv.encode(), False))
    assert (summary.imported, summary.skipped_total) == (1, 0)
    bad = csv + f"29799999,{FIRE},30-Nov-2028\n"
    with pytest.raises(EsrError.ImportRejected) as e:
        w.esr.import_competences(SYSTEM, VPD, bad.encode(), False)
    assert "line 3" in e.value.message
    skipped = w.esr.import_competences(SYSTEM, VPD, bad.encode(), True)
    assert skipped.skipped_total == 1 and skipped.skipped[0].line == 3


def test_a_sqlite_service_keeps_its_state(tmp_path: Path) -> None:
    path = str(tmp_path / "esr.sqlite")
    first = EsrService.open_sqlite(path, KEY, None, None)
    first.create_trust(VPD, "Northfield", esr_ffi.TrustOptions(
        automatic_internet_access=False, upgrade_manager=False, upgrade_professional=False))
    del first
    again = EsrService.open_sqlite(path, KEY, None, None)
    with pytest.raises(EsrError.Conflict):
        again.create_trust(VPD, "Northfield", esr_ffi.TrustOptions(
            automatic_internet_access=False, upgrade_manager=False, upgrade_professional=False))
    with pytest.raises(EsrError.Storage):
        EsrService.open_sqlite(str(tmp_path / "no" / "such" / "esr.sqlite"), KEY, None, None)
