"""Authenticator (TOTP) verify from Python: esr through the service against pyotp's TOTP.verify.

Not a test. Run it from the repository root after installing the wheel and the bench
requirements into a virtual environment:

    target/test-venv/bin/python -m pip install -r bindings/python/requirements-bench.txt
    target/test-venv/bin/python bindings/python/benches/bench_authenticator.py [CALLS]

Each esr call is Esr.upgrade_with_authenticator: argument conversion, the interpreter
released, a store transaction (in memory), the session and upgrade checks, the secret opened
(AES-256-GCM), the code checked against the ±1 step window in constant time, the replay
guard advanced, the session upgraded and the audit entries chained. Every timed call uses its
own user (each with a confirmed app and an internet session), so a right code really is
accepted each time. Three cases: a right code (upgrades), the same code again in another
session (a replay, refused), and a wrong code (counted towards the step-up limit).

pyotp is timed on TOTP.verify with a right and a wrong code, with valid_window=1 (the same
window) and with its default of 0; it has no replay guard, no transaction and no audit. Both
are timed with the same loop over prepared arguments, their runs alternating (so that on a
shared machine both see the same load); the median of REPEATS runs is reported.

The core alone: cargo bench -p esr-benches --bench authenticators
"""

from __future__ import annotations

import functools
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone

import pyotp

import esr

CALLS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000  # calls per timed run
REPEATS = 5  # timed runs; the median is reported
VPD = "297"
PASSWORD = "Correct-Horse-9-Battery"
MANAGER_URP = "Manager Self Service (Payroll Approvals Required)"


def per_call(verify: Callable[..., object], batch: Sequence[tuple[object, ...]]) -> float:
    started = time.perf_counter()
    for args in batch:
        verify(*args)
    return (time.perf_counter() - started) / len(batch)


def letters(i: int) -> str:
    s = ""
    while True:
        s += chr(ord("a") + i % 26)
        i //= 26
        if i == 0:
            return s


def main() -> None:
    total = CALLS * REPEATS
    print(f"setting up {total} managers with a confirmed authenticator app ...", flush=True)
    clock = esr.ManualClock(datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc))
    service = esr.Esr(clock=clock, fast_password_hashing=True)
    service.set_authenticator_keys(("bench", bytes(range(0x21, 0x41))))
    service.create_trust(VPD, "Benchmark NHS Trust", automatic_internet_access=True, upgrade_manager=True)
    service.add_org_unit("bench", VPD, "HQ", "HQ")

    def person(i: int, family_name: str) -> esr.Person:
        return service.add_person(
            "bench",
            VPD,
            employee_number=f"{VPD}{i:05}",
            given_name="Pat",
            family_name=family_name,
            date_of_birth=date(1985, 3, 14),
            recruitment_email=f"u{i}@nhs.net",
        )

    admins = [person(90_000 + k, f"Admin{letters(k)}") for k in range(2)]
    guardian = person(90_002, "Guardian")
    service.bootstrap_user_administrators(VPD, [a.username for a in admins], "go-live")
    admin = service.log_in_with_smartcard(admins[0].username, "CARD-ADMIN")
    apps: list[tuple[esr.Person, esr.Totp]] = []
    now = lambda: int(service.now().timestamp())  # noqa: E731
    for i in range(total):
        p = person(i, f"User{letters(i)}")
        service.grant_urp(
            admin,
            p.username,
            MANAGER_URP,
            reason="benchmark",
            caldicott_guardian=guardian.employee_number,
            caldicott_reference="CG-BENCH",
        )
        service.set_password("bench", p.username, PASSWORD)
        hscn = service.log_in_with_smartcard(p.username, f"CARD-{i}")
        app = esr.Totp(service.enrol_authenticator(hscn).uri)
        assert service.confirm_authenticator(hscn, app.code_at(now()))
        apps.append((p, app))
    clock.advance(timedelta(seconds=30))  # the next step: the confirming one is used
    t = now()
    right = [(service.log_in_with_password(p.username, PASSWORD), app.code_at(t)) for p, app in apps]
    replay = [(service.log_in_with_password(p.username, PASSWORD), code) for (p, _), (_, code) in zip(apps, right)]
    wrong = [
        (service.log_in_with_password(p.username, PASSWORD), "000000" if code != "000000" else "111111")
        for (p, _), (_, code) in zip(apps, right)
    ]

    def batches(args: list[tuple[esr.Session, str]]) -> list[Sequence[tuple[object, ...]]]:
        return [args[k * CALLS : (k + 1) * CALLS] for k in range(REPEATS)]

    upgrade = service.upgrade_with_authenticator
    totp = pyotp.TOTP(pyotp.random_base32())
    code = totp.now()
    bad = "000000" if code != "000000" else "111111"
    window_1 = functools.partial(totp.verify, valid_window=1)
    # The runs of each case alternate with pyotp's, so that on a shared machine both see the
    # same load; each esr batch uses its own users (a replay batch follows its right batch).
    cases: dict[str, list[float]] = {}
    for k in range(REPEATS):
        for name, verify, batch in (
            ("esr right", upgrade, batches(right)[k]),
            ("pyotp right 0", totp.verify, [(code,)] * CALLS),
            ("esr replay", upgrade, batches(replay)[k]),
            ("pyotp right 1", window_1, [(code,)] * CALLS),
            ("esr wrong", upgrade, batches(wrong)[k]),
            ("pyotp wrong 1", window_1, [(bad,)] * CALLS),
        ):
            cases.setdefault(name, []).append(per_call(verify, batch))
    median = {name: statistics.median(runs) for name, runs in cases.items()}
    esr_right, esr_replay, esr_wrong = median["esr right"], median["esr replay"], median["esr wrong"]
    otp_right_0, otp_right_1, otp_wrong_1 = median["pyotp right 0"], median["pyotp right 1"], median["pyotp wrong 1"]
    assert all(service.session(s).upgraded for s, _ in right)
    assert not any(service.session(s).upgraded for s, _ in replay)

    us = 1e6
    print(f"median per call over {REPEATS} runs of {CALLS} calls (each esr call its own user of {total})")
    print(f"  pyotp TOTP.verify, right code, window 0 : {otp_right_0 * us:8.2f} us")
    print(f"  pyotp TOTP.verify, right code, window 1 : {otp_right_1 * us:8.2f} us")
    print(f"  pyotp TOTP.verify, wrong code, window 1 : {otp_wrong_1 * us:8.2f} us")
    rows = (
        ("right code, session upgraded", esr_right, otp_right_1),
        ("replayed code, refused", esr_replay, otp_right_1),
        ("wrong code, counted", esr_wrong, otp_wrong_1),
    )
    for name, t_esr, peer in rows:
        print(f"  esr upgrade_with_authenticator, {name:<30}: {t_esr * us:8.2f} us  ({peer / t_esr:5.1f}x pyotp window 1)")
    target = 5.0
    ok = min(peer / t_esr for _, t_esr, peer in rows) >= target
    print(f"target: at least {target:.0f}x faster than pyotp in every case: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
