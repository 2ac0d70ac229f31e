"""Passcode verify from Python: esr (through the service, in-memory store) against pyotp.

Not a test. Run it from the repository root after installing the wheel and the bench
requirements into a virtual environment:

    target/test-venv/bin/python -m pip install -r bindings/python/requirements-bench.txt
    target/test-venv/bin/python bindings/python/benches/bench_passcode.py

Each esr verify goes through Esr.verify_passcode: argument conversion, the interpreter
released, a store transaction, the keyed tag check, the attempt counters and the audit
entries. Every timed call uses its own challenge, one per user of a 14,000-user trust, so a
right code really is approved each time rather than answered "already used". Three cases:

- upgrade: an internet session typing the code texted to its registered number, which
  upgrades the session (the daily case: "one-time passcodes to upgrade an internet session");
- register: an HSCN session confirming a new number, which registers it;
- wrong: a wrong code on a register challenge, which spends one attempt of five.

pyotp is timed on TOTP.verify with a right and a wrong code. Both libraries are timed with
the same loop (`for args in batch: verify(*args)` over prepared arguments), and the median
of REPEATS runs is reported per call. An optional argument sets the calls per run.

The same verify without Python, for the binding's share of the time:
    cargo bench -p esr-benches --bench passcodes -- verify
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone

import pyotp

import esr

CALLS = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000  # calls per timed run
REPEATS = 7  # timed runs; the median is reported
VPD = "297"
PASSWORD = "Correct-Horse-9-Battery"
MANAGER_URP = "Manager Self Service (Payroll Approvals Required)"

Args = tuple[esr.Session, esr.PasscodeChallenge, str]


def per_call(verify: Callable[..., object], batch: Sequence[tuple[object, ...]]) -> float:
    """Seconds per call of `verify(*args)` over `batch`, in one timed loop."""
    started = time.perf_counter()
    for args in batch:
        verify(*args)
    return (time.perf_counter() - started) / len(batch)


def median_per_call(verify: Callable[..., object], batches: list[Sequence[tuple[object, ...]]]) -> float:
    return statistics.median(per_call(verify, b) for b in batches)


def letters(i: int) -> str:
    """A distinct all-letter surname suffix for `i` (usernames are built from letters only)."""
    s = ""
    while True:
        s += chr(ord("a") + i % 26)
        i //= 26
        if i == 0:
            return s


class Trust:
    """A service with `n` users, each with an HSCN session and a pending code to register
    their own number; with `upgrade`, each also has an internet session, the number already
    registered and a pending upgrade code."""

    def __init__(self, n: int, *, upgrade: bool) -> None:
        self.clock = esr.ManualClock(datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc))
        self.outbox = esr.Outbox()
        self.service = esr.Esr(
            clock=self.clock,
            sms_sender=self.outbox,
            passcode_key=bytes(range(0x42, 0x62)),
            fast_password_hashing=True,
        )
        service = self.service
        service.create_trust(VPD, "Benchmark NHS Trust", automatic_internet_access=True, upgrade_manager=True)
        service.add_org_unit("bench", VPD, "HQ", "HQ")
        if upgrade:
            admins = [self.person(90_000 + k, f"Admin{letters(k)}") for k in range(2)]
            guardian = self.person(90_002, "Guardian")
            service.bootstrap_user_administrators(VPD, [a.username for a in admins], "go-live")
            admin = service.log_in_with_smartcard(admins[0].username, "CARD-ADMIN")
        self.register: list[Args] = []
        for i in range(n):
            p = self.person(i, f"User{letters(i)}")
            if upgrade:
                service.grant_urp(
                    admin,
                    p.username,
                    MANAGER_URP,
                    reason="benchmark",
                    caldicott_guardian=guardian.employee_number,
                    caldicott_reference="CG-BENCH",
                )
                service.set_password("bench", p.username, PASSWORD)
            s = service.log_in_with_smartcard(p.username, f"CARD-{i}")
            mobile = f"07400 {i:06}"  # the in-memory outbox: nothing is texted
            c = service.request_mobile_code(s, mobile)
            self.register.append((s, c, self.code_to(mobile)))
        self.upgrade: list[Args] = []
        if upgrade:
            for s, c, code in self.register:
                assert service.verify_passcode(s, c, code).approved
            self.clock.advance(timedelta(seconds=31))  # past the resend interval
            for i, (s, _, _) in enumerate(self.register):
                web = service.log_in_with_password(s.username, PASSWORD)
                c = service.request_upgrade_code(web)
                self.upgrade.append((web, c, self.code_to(f"07400 {i:06}")))

    def person(self, i: int, family_name: str) -> esr.Person:
        return self.service.add_person(
            "bench",
            VPD,
            employee_number=f"{VPD}{i:05}",
            given_name="Pat",
            family_name=family_name,
            date_of_birth=date(1985, 3, 14),
            recruitment_email=f"u{i}@nhs.net",
        )

    def code_to(self, mobile: str) -> str:
        code = self.outbox.last_code_to(mobile)
        assert code is not None
        return code


def batches(args: list[Args], wrong: bool = False) -> list[Sequence[tuple[object, ...]]]:
    """REPEATS batches of CALLS calls; with `wrong`, each code replaced by a wrong one."""
    if wrong:
        args = [(s, c, "000000" if code != "000000" else "111111") for s, c, code in args]
    return [args[k * CALLS : (k + 1) * CALLS] for k in range(REPEATS)]


def main() -> None:
    total = CALLS * REPEATS
    print(f"setting up 2 x {total} users with pending esr challenges ...", flush=True)
    hscn = Trust(total, upgrade=False)
    web = Trust(total, upgrade=True)

    # Wrong codes first (one attempt of five on each challenge), then the right ones.
    esr_wrong = median_per_call(hscn.service.verify_passcode, batches(hscn.register, wrong=True))
    esr_register = median_per_call(hscn.service.verify_passcode, batches(hscn.register))
    esr_upgrade = median_per_call(web.service.verify_passcode, batches(web.upgrade))
    for trust, flow in ((hscn, hscn.register), (web, web.upgrade)):
        outcomes = {trust.service.passcode_status(s, c).status for s, c, _ in flow}
        assert outcomes == {esr.ChallengeStatus.APPROVED}, outcomes
    assert all(s.upgraded for s in (web.service.session(s) for s, _, _ in web.upgrade))

    totp = pyotp.TOTP(pyotp.random_base32())
    code = totp.now()
    wrong = "000000" if code != "000000" else "111111"
    otp_right = median_per_call(totp.verify, [[(code,)] * CALLS] * REPEATS)
    otp_wrong = median_per_call(totp.verify, [[(wrong,)] * CALLS] * REPEATS)

    us = 1e6
    print(f"median per call over {REPEATS} runs of {CALLS} calls (each esr call its own user of {total})")
    print(f"  pyotp TOTP.verify, right code        : {otp_right * us:8.2f} us")
    print(f"  pyotp TOTP.verify, wrong code        : {otp_wrong * us:8.2f} us")
    rows = (
        ("right code, session upgrade", esr_upgrade, otp_right),
        ("right code, number registered", esr_register, otp_right),
        ("wrong code", esr_wrong, otp_wrong),
    )
    for name, t, peer in rows:
        print(f"  esr verify_passcode, {name:<30}: {t * us:8.2f} us  ({peer / t:5.1f}x pyotp)")
    target = 5.0
    ok = min(peer / t for _, t, peer in rows) >= target
    print(f"target: at least {target:.0f}x faster than pyotp in every case: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
