"""score_compliance and compliance_detail with the service's full rules: organisation-unit
requirements inherited down org_units, job requirements, desirable requirements, minimum levels
and equivalences, agreeing with the service's compliance rows."""

import datetime

import pyarrow as pa

import esr

AS_OF = datetime.date(2026, 11, 23)
SOON = datetime.date(2026, 12, 31)
LATER = datetime.date(2028, 1, 1)


def tables():
    assignments = pa.table(
        {
            "assignment_id": ["A1", "A2"],
            "person_id": ["P1", "P2"],
            "position_id": ["Nurse", "Porter"],
            "org_unit_id": ["Ward 5", "Theatres"],
            "job": ["Staff Nurse", "Porter"],
        }
    )
    requirements = pa.table(
        {
            "position_id": ["Nurse", "Nurse"],
            "competency_id": ["Fire", "Adults L1"],
            "essential": [True, True],
            "min_level": ["0 - Not Assessed", "1 - Assessed"],
        }
    )
    holdings = pa.table(
        {
            "person_id": ["P1", "P1", "P2"],
            "competency_id": ["Fire", "Adults L3", "Fire"],
            "expiry": pa.array([LATER, SOON, LATER], pa.date32()),
            "level": ["0 - Not Assessed", "1 - Assessed", "1 - Assessed"],
        }
    )
    org_units = pa.table(
        {
            "org_unit_id": ["Trust", "Medicine", "Ward 5", "Surgery", "Theatres"],
            "parent_id": [None, "Trust", "Medicine", "Trust", "Surgery"],
        }
    )
    unit_reqs = pa.table(
        {
            "org_unit_id": ["Trust", "Medicine"],
            "competency_id": ["Conflict", "Fire"],
            "essential": [True, False],
        }
    )
    job_reqs = pa.table({"job": ["Porter"], "competency_id": ["Moving"], "essential": [False]})
    equivalences = pa.table(
        {
            "competency_id": ["Adults L3", "Adults L2"],
            "satisfies_competency_id": ["Adults L2", "Adults L1"],
        }
    )
    return assignments, requirements, holdings, org_units, unit_reqs, job_reqs, equivalences


def test_full_rules_score_inherit_and_resolve():
    a, r, h, ou, ur, jr, eq = tables()
    kw = dict(org_units=ou, org_unit_requirements=ur, job_requirements=jr, equivalences=eq)
    s = esr.score_compliance(a, r, h, AS_OF, output="pyarrow", **kw).to_pylist()
    # A1: Fire Green, Adults L1 Amber through L3 (chain), Conflict Red (from Trust): 2 of 3.
    assert (s[0]["required"], s[0]["green"], s[0]["amber"], s[0]["red"]) == (3, 1, 1, 1)
    # A2: Conflict (inherited from Trust) only, Red; the job's Moving is desirable.
    assert (s[1]["required"], s[1]["red"]) == (1, 1)
    d = esr.compliance_detail(
        a, r, h, AS_OF, held_not_required=True, output="pyarrow", **kw
    ).to_pylist()
    rows = {(x["assignment_id"], x["competency_id"]): x for x in d}
    assert rows[("A1", "Adults L1")]["status"] == "Amber"
    assert rows[("A1", "Conflict")]["red_reason"] == "not held"
    assert rows[("A1", "Adults L3")]["status"] == "Blue"
    assert rows[("A2", "Fire")]["status"] == "Blue"
    assert ("A2", "Moving") not in rows  # desirable, not held: no colour, no row


def test_a_record_below_the_minimum_level_is_red_with_its_reason():
    a, r, h, *_ = tables()
    h = h.set_column(3, "level", pa.array(["0 - Not Assessed"] * 3))
    eq = pa.table({"competency_id": ["Adults L3"], "satisfies_competency_id": ["Adults L1"]})
    d = esr.compliance_detail(a, r, h, AS_OF, equivalences=eq, output="pyarrow").to_pylist()
    row = next(x for x in d if x["competency_id"] == "Adults L1")
    assert row["status"] == "Red"
    assert row["red_reason"] == "below the minimum level"
    assert row["need"] == "essential"


def test_the_three_table_call_is_unchanged():
    a, r, h, *_ = tables()
    plain = esr.score_compliance(
        a.select(["assignment_id", "person_id", "position_id"]),
        r.select(["position_id", "competency_id"]),
        h.select(["person_id", "competency_id", "expiry"]),
        AS_OF,
        output="pyarrow",
    ).to_pylist()
    assert (plain[0]["required"], plain[0]["green"], plain[0]["red"]) == (2, 1, 1)


def test_integer_ids_and_level_ranks():
    a = pa.table(
        {
            "assignment_id": [1],
            "person_id": [10],
            "position_id": [7],
            "org_unit_id": [3],
        }
    )
    r = pa.table({"position_id": [7], "competency_id": [100], "min_level": [1]})
    h = pa.table(
        {
            "person_id": [10, 10],
            "competency_id": [101, 100],
            "expiry": pa.array([LATER, LATER], pa.date32()),
            "level": pa.array([1, 0], pa.int8()),
        }
    )
    ou = pa.table({"org_unit_id": [1, 3], "parent_id": pa.array([None, 1], pa.int64())})
    ur = pa.table({"org_unit_id": [1], "competency_id": [102]})
    eq = pa.table({"competency_id": [101], "satisfies_competency_id": [100]})
    s = esr.score_compliance(
        a, r, h, AS_OF, org_units=ou, org_unit_requirements=ur, equivalences=eq, output="pyarrow"
    ).to_pylist()[0]
    assert (s["required"], s["green"], s["red"]) == (2, 1, 1)
