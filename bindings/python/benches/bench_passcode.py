"""Passcode verify from Python: esr (through the service, in-memory store) against pyotp.

Not a test. Run it from the repository root after installing the wheel and the bench
requirements into a virtual environment:

    target/test-venv/bin/python -m pip install -r bindings/python/requirements-bench.txt
    target/test-venv/bin/python bindings/python/benches/bench_passcode.py

Each esr verify goes through Esr.verify_passcode: argument conversion, the interpreter
released, a store transaction, the keyed tag check, the attempt counters and an audit entry.
Every timed call uses its own challenge (one per user, each in its own HSCN session
registering its own number), so the right-code path really approves a code each time
rather than answering "already used". The wrong-code path spends one of five attempts on each.
pyotp is timed on TOTP.verify with a right and a wrong code. Medians over repeats of
timeit runs, per call. An optional argument sets the calls per run (default 2000).

The same verify without Python, for the binding's share of the time:
    cargo bench -p esr-benches --bench passcodes -- verify
"""

from __future__ import annotations

import statistics
import sys
import timeit
from collections.abc import Callable, Iterator
from datetime import date, datetime, timezone

import pyotp

import esr

CALLS = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000  # calls per timed run
REPEATS = 7  # timed runs; the median is reported
VPD = "297"


def median_per_call(make_run: Callable[[], Callable[[], object]], calls: int, repeats: int) -> float:
    """Median seconds per call: each repeat times `calls` calls of a fresh run."""
    times = []
    for _ in range(repeats):
        step = make_run()
        times.append(timeit.timeit(step, number=calls) / calls)
    return statistics.median(times)


def letters(i: int) -> str:
    """A distinct all-letter surname suffix for `i` (usernames are built from letters only)."""
    s = ""
    while True:
        s += chr(ord("a") + i % 26)
        i //= 26
        if i == 0:
            return s


def esr_challenges(n: int) -> tuple[esr.Esr, list[tuple[esr.Session, esr.PasscodeChallenge, str]]]:
    """A service with `n` users, each with an HSCN session and a pending mobile code."""
    outbox = esr.Outbox()
    service = esr.Esr(
        clock=esr.ManualClock(datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)),
        sms_sender=outbox,
        passcode_key=b"\x42" * 32,
        fast_password_hashing=True,
    )
    service.create_trust(VPD, "Benchmark NHS Trust")
    service.add_org_unit("bench", VPD, "HQ", "HQ")
    out = []
    for i in range(n):
        number = f"{VPD}{i:05}"
        p = service.add_person(
            "bench",
            VPD,
            employee_number=number,
            given_name="Pat",
            family_name=f"User{letters(i)}",
            date_of_birth=date(1985, 3, 14),
            recruitment_email=f"u{i}@nhs.net",
        )
        s = service.log_in_with_smartcard(p.username, f"CARD-{i}")
        mobile = f"07400 {i:06}"  # the in-memory outbox: nothing is texted
        c = service.request_mobile_code(s, mobile)
        code = outbox.last_code_to(mobile)
        assert code is not None
        out.append((s, c, code))
    return service, out


def main() -> None:
    total = CALLS * REPEATS
    print(f"setting up {total} esr challenges ...", flush=True)
    service, challenges = esr_challenges(total)

    def esr_run(right: bool) -> Callable[[], Callable[[], object]]:
        batches: Iterator[list[tuple[esr.Session, esr.PasscodeChallenge, str]]] = (
            challenges[k * CALLS : (k + 1) * CALLS] for k in range(REPEATS)
        )

        def make() -> Callable[[], object]:
            it = iter(next(batches))
            verify = service.verify_passcode

            def step() -> object:
                s, c, code = next(it)
                typed = code if right else ("000000" if code != "000000" else "111111")
                return verify(s, c, typed)

            return step

        return make

    # Wrong codes first (one attempt of five on each challenge), then the right ones.
    esr_wrong = median_per_call(esr_run(right=False), CALLS, REPEATS)
    esr_right = median_per_call(esr_run(right=True), CALLS, REPEATS)
    outcomes = {service.passcode_status(s, c).status for s, c, _ in challenges}
    assert outcomes == {esr.ChallengeStatus.APPROVED}, outcomes

    totp = pyotp.TOTP(pyotp.random_base32())

    def otp_run(right: bool) -> Callable[[], Callable[[], object]]:
        def make() -> Callable[[], object]:
            code = totp.now()
            typed = code if right else ("000000" if code != "000000" else "111111")
            return lambda: totp.verify(typed)

        return make

    otp_right = median_per_call(otp_run(right=True), CALLS, REPEATS)
    otp_wrong = median_per_call(otp_run(right=False), CALLS, REPEATS)

    us = 1e6
    print(f"median per call over {REPEATS} runs of {CALLS} calls")
    print(f"  pyotp TOTP.verify, right code : {otp_right * us:8.2f} us")
    print(f"  pyotp TOTP.verify, wrong code : {otp_wrong * us:8.2f} us")
    print(f"  esr verify_passcode, right    : {esr_right * us:8.2f} us  ({otp_right / esr_right:5.1f}x pyotp)")
    print(f"  esr verify_passcode, wrong    : {esr_wrong * us:8.2f} us  ({otp_wrong / esr_wrong:5.1f}x pyotp)")
    target = 5.0
    ok = min(otp_right / esr_right, otp_wrong / esr_wrong) >= target
    print(f"target: at least {target:.0f}x faster than pyotp: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
