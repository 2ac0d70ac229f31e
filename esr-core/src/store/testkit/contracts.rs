use super::*;

/// One scenario with a record of every kind, in two trusts, run on the store under test and
/// on [`InMemoryStore`] (the reference): every read method answers the same (so every field
/// is stored, updates replace, and lists come in the documented order).
pub fn matches_the_reference_store<S: Store>(make: &dyn Fn() -> S) {
    let subject = Harness::new(make());
    let reference = Harness::new(InMemoryStore::new());
    for code in ["297", "298"] {
        subject.populate(vpd(code));
        reference.populate(vpd(code));
    }
    for code in ["297", "298", "299"] {
        let (got, want) = (subject.snapshot(vpd(code)), reference.snapshot(vpd(code)));
        if got != want {
            panic!(
                "trust {code}: the store under test answers differently from the reference \
                 in-memory store\n  got:  {got:?}\n  want: {want:?}"
            );
        }
    }
}

/// Fields serde skips (`Person::mobile`, `Account::password_hash`,
/// `Challenge::destination`) are stored and read back.
pub fn secret_fields_are_persisted<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let p = h.populate(vpd("297"));
    let [a, _, c] = &p.people;
    let person = h.in_tx(|tx| tx.person(p.vpd, &c.employee_number)).unwrap();
    assert_eq!(
        person.mobile,
        Some(MOBILE.parse().unwrap()),
        "Person::mobile must be stored"
    );
    let account = h.in_tx(|tx| tx.account(&a.username)).unwrap();
    assert!(
        account.password_hash.is_some(),
        "Account::password_hash must be stored"
    );
    h.esr
        .log_in_with_password(&a.username.to_string(), &Password::new(PASSWORD))
        .expect("the stored password hash verifies the password");
    let challenges = h.in_tx(|tx| tx.challenges_of(&c.username, DateTime::<Utc>::MIN_UTC));
    assert_eq!(challenges.len(), 2);
    for ch in challenges {
        assert_eq!(
            ch.destination,
            Some(Destination::Mobile(MOBILE.parse().unwrap())),
            "Challenge::destination must be stored"
        );
    }
    let email = Destination::Email("Alice.Adams@NHS.net".parse().unwrap());
    let mut ch = h
        .in_tx(|tx| tx.challenges_of(&c.username, DateTime::<Utc>::MIN_UTC))
        .remove(0);
    ch.id = ChallengeId::from_bytes([7; 16]);
    ch.destination = Some(email.clone());
    h.in_tx(|tx| tx.put_challenge(&ch));
    let back = h.in_tx(|tx| tx.challenge(&ch.id)).unwrap();
    assert_eq!(back, ch, "an e-mail destination is stored exactly");
    let lower = Destination::Email("alice.adams@nhs.net".parse().unwrap());
    let to = h.in_tx(|tx| tx.challenges_to(p.vpd, &lower, DateTime::<Utc>::MIN_UTC));
    assert_eq!(
        to,
        vec![ch],
        "e-mail destinations match without regard to case"
    );
}

/// `put_*` inserts or replaces by key: writing a changed record again leaves one record, the
/// new one, and moves it in every index (a new supervisor, a revoked grant keeping its place).
pub fn put_replaces_by_key<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let p = h.populate(vpd("297"));
    let v = p.vpd;
    let [a, b, c] = &p.people;
    h.in_tx(|tx| {
        let mut trust = tx.trust(v)?.unwrap();
        trust.name = "Renamed".into();
        trust.settings.automatic_internet_access = false;
        tx.put_trust(&trust)?;
        let mut person = tx.person(v, &b.employee_number)?.unwrap();
        person.recruitment_email = "new.address@nhs.net".parse()?;
        person.mobile = Some("07700 900111".parse()?);
        tx.put_person(&person)?;
        let mut account = tx.account(&b.username)?.unwrap();
        account.failed_logins = 3;
        account.password_hash = None;
        account.passcode_failure_times = vec![start(), start() + TimeDelta::minutes(1)];
        account.passcode_failures = 2;
        tx.put_account(&account)?;
        // Bernard reported to Alice; now to ALICE.
        let mut asg = tx.assignment(v, &"10000002".parse()?)?.unwrap();
        asg.supervisor = Some("10000003".parse()?);
        tx.put_assignment(&asg)?;
        let mut first = tx.grants(v)?.remove(0);
        first.revoked = Some(Revocation {
            by: Grantor::System("kit".into()),
            at: start(),
            reason: "test".into(),
        });
        tx.put_grant(&first)?;
        let mut s = tx.session(&p.session.key())?.unwrap();
        s.upgrade = Some(Upgrade {
            at: start(),
            method: "kit".into(),
        });
        // A session's last activity is kept (the idle timeout reads it after a restart).
        s.last_active_at = start() + TimeDelta::minutes(7);
        s.idle_timeout = TimeDelta::minutes(17);
        tx.put_session(&s)?;
        let mut settings = tx.compliance_settings(v)?.unwrap();
        settings.target_percent = 50;
        tx.put_compliance_settings(v, &settings)?;
        let mut r = tx.requirements(v)?.remove(0);
        r.essential = !r.essential;
        tx.put_requirement(&r)?;
        let mut rec = tx.competence_records_of(v, &c.employee_number)?.remove(0);
        rec.expiry = None;
        tx.put_competence_record(&rec)?;
        let mut def = tx.competence_definitions(v)?.remove(0);
        def.active = false;
        tx.put_competence_definition(v, &def)?;
        let e = tx.equivalences(v)?.remove(0);
        tx.put_equivalence(&e)?;
        Ok(())
    });
    h.in_tx(|tx| {
        let trust = tx.trust(v)?.unwrap();
        assert_eq!(trust.name, "Renamed");
        assert_eq!(tx.trust_settings(v)?, Some(trust.settings.clone()));
        assert!(!trust.settings.automatic_internet_access);
        let people = tx.people(v)?;
        assert_eq!(people.len(), 3, "replacing a person adds none");
        let bernard = tx.person(v, &b.employee_number)?.unwrap();
        assert_eq!(bernard.mobile, Some("07700 900111".parse()?));
        assert_eq!(bernard.recruitment_email.as_str(), "new.address@nhs.net");
        assert!(
            tx.people_with_email(v, &b.recruitment_email)?.is_empty(),
            "the old e-mail address no longer finds the person"
        );
        assert_eq!(
            tx.people_with_email(v, &"NEW.address@nhs.net".parse()?)?,
            vec![bernard]
        );
        let account = tx.account(&b.username)?.unwrap();
        assert_eq!(
            account.passcode_failure_times,
            vec![start(), start() + TimeDelta::minutes(1)],
            "step-up failures are kept with their times"
        );
        assert_eq!((account.failed_logins, account.password_hash), (3, None));
        let alice_reports: Vec<String> = tx
            .assignments_reporting_to(v, &"10000001".parse()?)?
            .iter()
            .map(|x| x.number.to_string())
            .collect();
        assert_eq!(
            alice_reports,
            ["10000003"],
            "the old supervisor's index is updated"
        );
        let new_reports = tx.assignments_reporting_to(v, &"10000003".parse()?)?;
        assert_eq!(new_reports.len(), 1);
        assert_eq!(new_reports[0].number.as_str(), "10000002");
        let grants = tx.grants(v)?;
        assert!(
            grants[0].revoked.is_some(),
            "a replaced grant keeps its place"
        );
        assert_eq!(
            tx.grants_of(&a.username)?
                .iter()
                .filter(|g| g.id == grants[0].id)
                .count(),
            usize::from(grants[0].holder == a.username)
        );
        let session = tx.session(&p.session.key())?.unwrap();
        assert!(session.upgrade.is_some());
        assert_eq!(
            (session.last_active_at, session.idle_timeout),
            (start() + TimeDelta::minutes(7), TimeDelta::minutes(17)),
            "a session's last activity and idle timeout are kept"
        );
        assert_eq!(
            tx.sessions_of(&c.username)?.len(),
            1,
            "replacing a session adds none"
        );
        assert_eq!(tx.compliance_settings(v)?.unwrap().target_percent, 50);
        assert_eq!(tx.requirements(v)?.len(), 2);
        assert_eq!(
            tx.equivalences(v)?.len(),
            1,
            "an equivalence is a set member"
        );
        // Three recorded, one awarded by the certification.
        assert_eq!(tx.competence_records_of(v, &c.employee_number)?.len(), 4);
        assert_eq!(
            tx.competence_records_of(v, &c.employee_number)?[0].expiry,
            None
        );
        assert!(!tx.competence_definitions(v)?[0].active);
        Ok(())
    });
}

/// `delete_*` removes the record and says whether there was one.
pub fn deletes_report_whether_there_was_a_row<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let p = h.populate(vpd("297"));
    let v = p.vpd;
    let c = &p.people[2];
    h.in_tx(|tx| {
        let def = tx.competence_definitions(v)?.remove(0);
        assert!(tx.delete_competence_definition(v, &def.name)?);
        assert!(!tx.delete_competence_definition(v, &def.name)?);
        assert_eq!(tx.competence_definition(v, &def.name)?, None);
        let r = tx.requirements(v)?.remove(0);
        assert!(tx.delete_requirement(v, &r.target, &r.competence)?);
        assert!(!tx.delete_requirement(v, &r.target, &r.competence)?);
        assert_eq!(tx.requirements(v)?.len(), 1);
        let e = tx.equivalences(v)?.remove(0);
        assert!(tx.delete_equivalence(&e)?);
        assert!(!tx.delete_equivalence(&e)?);
        assert!(tx.equivalences(v)?.is_empty());
        let rec = tx.competence_records_of(v, &c.employee_number)?.remove(0);
        let del = |tx: &mut dyn StoreTx| {
            tx.delete_competence_record(v, &rec.employee_number, &rec.competence, rec.achieved)
        };
        assert!(del(tx)?);
        assert!(!del(tx)?);
        assert_eq!(tx.competence_records_of(v, &c.employee_number)?.len(), 3);
        assert_eq!(tx.competence_records(v)?.len(), 4);
        Ok(())
    });
}

/// Reads inside a transaction see its own earlier writes.
pub fn reads_see_the_transactions_own_writes<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let p = h.populate(vpd("297"));
    let v = p.vpd;
    h.in_tx(|tx| {
        let mut person = tx.person(v, &p.people[0].employee_number)?.unwrap();
        person.employee_number = "10000009".parse()?;
        tx.put_person(&person)?;
        assert_eq!(tx.person(v, &person.employee_number)?, Some(person.clone()));
        assert_eq!(tx.people(v)?.len(), 4);
        let number: crate::MobileNumber = "07700 900111".parse()?;
        let e = &person.employee_number;
        let before = person.mobile.clone();
        assert_eq!(
            tx.set_person_mobile(v, e, Some(number.clone()))?,
            Some(before)
        );
        assert_eq!(tx.person_mobile(v, e)?, Some(Some(number.clone())));
        assert_eq!(
            tx.person(v, e)?.map(|p| p.mobile),
            Some(Some(number.clone()))
        );
        assert_eq!(tx.set_person_mobile(v, e, None)?, Some(Some(number)));
        assert_eq!(tx.person_mobile(v, e)?, Some(None));
        let nobody: EmployeeNumber = "10000099".parse()?;
        assert_eq!(tx.set_person_mobile(v, &nobody, None)?, None);
        assert_eq!(tx.person_mobile(v, &nobody)?, None);
        assert_eq!(tx.person(v, &nobody)?, None);
        let last = tx.last_audit(v)?.unwrap();
        let mut next = last.clone();
        next.seq += 1;
        tx.append_audit(&next)?;
        assert_eq!(tx.last_audit(v)?, Some(next));
        Ok(())
    });
}

/// Usernames are unique: people with the same name get the next sequence number, in
/// whichever order and case the name is written (a service contract).
pub fn usernames_are_unique<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let p = h.populate(vpd("297"));
    let [a, _, c] = &p.people;
    assert_eq!(a.username.to_string(), "297AADAMS01");
    assert_eq!(c.username.to_string(), "297AADAMS02");
    let d = h.staff(p.vpd, "10000004", "Anne", "Adams", None);
    assert_eq!(d.username.to_string(), "297AADAMS03");
    for u in [&a.username, &c.username, &d.username] {
        let acc = h
            .in_tx(|tx| tx.account(u))
            .expect("each username has an account");
        assert_eq!(&acc.username, u);
    }
    let other = h.populate(vpd("298"));
    assert_eq!(other.people[0].username.to_string(), "298AADAMS01");
}

/// An employee number is unique within a trust, and may be used again in another (a service
/// contract): the refusal changes nothing.
pub fn employee_numbers_are_unique_within_a_trust<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let p = h.populate(vpd("297"));
    let before = h.snapshot(p.vpd);
    let again = h.esr.add_person(
        &system(),
        p.vpd,
        NewPerson {
            employee_number: "10000002".parse().unwrap(),
            name: PersonName::new("Zed", "Zimmer").unwrap(),
            date_of_birth: NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(),
            recruitment_email: "zed@nhs.net".parse().unwrap(),
        },
    );
    assert!(
        matches!(again, Err(Error::DuplicateEmployeeNumber { .. })),
        "{again:?}"
    );
    assert_eq!(
        h.snapshot(p.vpd),
        before,
        "a refused person changes nothing"
    );
    h.populate(vpd("298"));
    assert_eq!(
        h.snapshot(p.vpd),
        before,
        "another trust's people are its own"
    );
}

/// No method returns another trust's rows, though both trusts use the same employee and
/// assignment numbers.
pub fn trusts_are_isolated<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let one = h.populate(vpd("297"));
    let two = h.populate(vpd("298"));
    for p in [&one, &two] {
        let seen = h.snapshot(p.vpd).trusts_seen();
        assert_eq!(seen, vec![p.vpd], "trust {} sees rows of {seen:?}", p.vpd);
    }
    let empty = h.snapshot(vpd("299"));
    assert!(
        empty.trusts_seen().is_empty(),
        "an unknown trust sees rows of {:?}",
        empty.trusts_seen()
    );
    // The same employee number names two different people.
    let e = &one.people[0].employee_number;
    let (x, y) = h.in_tx(|tx| Ok((tx.person(one.vpd, e)?, tx.person(two.vpd, e)?)));
    assert_ne!(x.unwrap().username, y.unwrap().username);
    // Deleting in one trust leaves the other's alone.
    h.in_tx(|tx| {
        let rec = tx.competence_records(one.vpd)?.remove(0);
        assert!(tx.delete_competence_record(
            one.vpd,
            &rec.employee_number,
            &rec.competence,
            rec.achieved
        )?);
        Ok(())
    });
    assert_eq!(h.in_tx(|tx| tx.competence_records(two.vpd)).len(), 5);
    h.esr.verify_audit(one.vpd).expect("trust 297's chain");
    h.esr.verify_audit(two.vpd).expect("trust 298's chain");
}

/// The audit trail is append-only and in order: `append_audit` refuses an entry whose `seq`
/// is not one past the trust's last, and each trust has its own sequence.
pub fn audit_trail_is_append_only_and_in_order<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let one = h.populate(vpd("297"));
    h.populate(vpd("298"));
    let trail = h.in_tx(|tx| tx.audit_entries(one.vpd, 1, usize::MAX));
    assert!(trail.len() > 10);
    for (i, e) in trail.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1, "entries come in sequence from 1");
    }
    let last = trail.last().unwrap().clone();
    for seq in [0, 1, last.seq, last.seq + 2, u64::MAX] {
        let mut e = last.clone();
        e.seq = seq;
        let r = h.esr.store().transaction(|tx| tx.append_audit(&e));
        assert!(
            matches!(r, Err(Error::Storage(_))),
            "an entry with seq {seq} after {} must be refused with Error::Storage: {r:?}",
            last.seq
        );
    }
    assert_eq!(
        h.in_tx(|tx| tx.audit_entries(one.vpd, 1, usize::MAX)),
        trail
    );
    let page = h.in_tx(|tx| tx.audit_entries(one.vpd, 4, 3));
    assert_eq!(page, trail[3..6].to_vec());
    assert!(
        h.in_tx(|tx| tx.audit_entries(one.vpd, last.seq + 1, 10))
            .is_empty()
    );
    assert!(h.in_tx(|tx| tx.audit_entries(one.vpd, 1, 0)).is_empty());
    let mut next = last.clone();
    next.seq += 1;
    h.in_tx(|tx| tx.append_audit(&next));
    assert_eq!(h.in_tx(|tx| tx.last_audit(one.vpd)), Some(next));
    h.esr
        .verify_audit(vpd("298"))
        .expect("the other trust's chain is untouched");
}

fn write_everything(tx: &mut dyn StoreTx, p: &Population) -> Result<()> {
    let v = p.vpd;
    let mut fresh = 100u8..;
    let mut trust = tx.trust(v)?.unwrap();
    trust.name = "Changed".into();
    tx.put_trust(&trust)?;
    let mut new_trust = trust.clone();
    new_trust.vpd = "299".parse()?;
    tx.put_trust(&new_trust)?;
    for person in tx.people(v)? {
        tx.set_person_mobile(v, &person.employee_number, Some("07700 900999".parse()?))?;
        let mut changed = person.clone();
        changed.mobile = None;
        changed.recruitment_email = "x@nhs.net".parse()?;
        tx.put_person(&changed)?;
        let mut extra = person.clone();
        extra.employee_number = format!("2{}", &person.employee_number.as_str()[1..]).parse()?;
        tx.put_person(&extra)?;
        let mut acc = tx.account(&person.username)?.unwrap();
        acc.failed_logins += 1;
        acc.password_hash = None;
        tx.put_account(&acc)?;
        for mut a in tx.assignments_of(v, &person.employee_number)? {
            a.supervisor = None;
            a.title = "Changed".into();
            tx.put_assignment(&a)?;
            a.number = format!("2{}", &a.number.as_str()[1..]).parse()?;
            tx.put_assignment(&a)?;
        }
        for mut s in tx.sessions_of(&person.username)? {
            s.ended = None;
            tx.put_session(&s)?;
            s.id = SessionId::from_bytes([fresh.next().unwrap_or(0); 16]);
            s.key = s.id.key();
            tx.put_session(&s)?;
        }
        for mut c in tx.challenges_of(&person.username, DateTime::<Utc>::MIN_UTC)? {
            if c.status == ChallengeStatus::Pending {
                c.attempts += 1;
                tx.put_challenge(&c)?;
            }
            c.id = ChallengeId::from_bytes([fresh.next().unwrap_or(0); 16]);
            c.status = ChallengeStatus::Pending;
            tx.put_challenge(&c)?;
        }
    }
    for mut g in tx.grants(v)? {
        g.reason = "changed".into();
        tx.put_grant(&g)?;
    }
    let last = tx.last_audit(v)?.unwrap();
    let mut next = last.clone();
    next.seq += 1;
    tx.append_audit(&next)?;
    let mut other = last;
    other.vpd = "299".parse()?;
    other.seq = 1;
    tx.append_audit(&other)?;
    for d in tx.competence_definitions(v)? {
        tx.delete_competence_definition(v, &d.name)?;
    }
    let mut def = CompetenceDefinition::from_name("NHS|CSTF|Fire Safety - 1 Year|".parse()?);
    def.active = false;
    tx.put_competence_definition(v, &def)?;
    for r in tx.requirements(v)? {
        tx.delete_requirement(v, &r.target, &r.competence)?;
    }
    for e in tx.equivalences(v)? {
        tx.delete_equivalence(&e)?;
    }
    for mut r in tx.competence_records(v)? {
        tx.delete_competence_record(v, &r.employee_number, &r.competence, r.achieved)?;
        r.achieved = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        tx.put_competence_record(&r)?;
    }
    tx.put_compliance_settings(v, &ComplianceSettings::default())?;
    // Workflows: replace each record and add one.
    for mut r in tx.access_requests(v)? {
        r.reason = "changed".into();
        tx.put_access_request(&r)?;
        r.id = AccessRequestId::from_bytes([fresh.next().unwrap_or(0); 16]);
        tx.put_access_request(&r)?;
    }
    for mut r in tx.urp_reviews(v)? {
        r.completed_at = Some(start());
        tx.put_urp_review(&r)?;
        r.id = UrpReviewId::from_bytes([fresh.next().unwrap_or(0); 16]);
        tx.put_urp_review(&r)?;
    }
    for mut c in tx.competence_claims(v)? {
        c.evidence = "changed".into();
        tx.put_competence_claim(&c)?;
        c.id = CompetenceClaimId::from_bytes([fresh.next().unwrap_or(0); 16]);
        tx.put_competence_claim(&c)?;
    }
    Ok(())
}

/// A transaction whose closure returns `Err` keeps none of its writes, of any kind.
pub fn failed_transaction_leaves_state_unchanged<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let p = h.populate(vpd("297"));
    let before = (h.snapshot(p.vpd), h.snapshot(vpd("299")));
    let r: Result<()> = h.esr.store().transaction(|tx| {
        write_everything(tx, &p)?;
        Err(Error::invalid("kit", "the closure fails after writing"))
    });
    assert!(matches!(r, Err(Error::InvalidInput { .. })), "{r:?}");
    let after = (h.snapshot(p.vpd), h.snapshot(vpd("299")));
    assert!(
        after == before,
        "a failed transaction left writes behind: {after:?}"
    );
    // The store still works.
    h.in_tx(|tx| write_everything(tx, &p));
    assert_ne!(h.snapshot(p.vpd), before.0);
}

/// A transaction whose closure panics keeps none of its writes, and the store works after.
pub fn panicking_transaction_leaves_state_unchanged<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let p = h.populate(vpd("297"));
    let before = (h.snapshot(p.vpd), h.snapshot(vpd("299")));
    let r = catch_unwind(AssertUnwindSafe(|| {
        let _ = h.esr.store().transaction(|tx| -> Result<()> {
            write_everything(tx, &p)?;
            panic!("the closure panics after writing");
        });
    }));
    assert!(r.is_err());
    let after = (h.snapshot(p.vpd), h.snapshot(vpd("299")));
    assert!(
        after == before,
        "a panicking transaction left writes behind: {after:?}"
    );
    h.populate(vpd("298"));
}

/// Operations the service refuses leave the store exactly as it was.
pub fn refusals_leave_state_unchanged<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let p = h.populate(vpd("297"));
    let v = p.vpd;
    let [a, b, c] = &p.people;
    let before = h.snapshot(v);
    let esr = &h.esr;
    let sys = system();
    let refusals: Vec<(&str, Result<()>)> = vec![
        (
            "a trust that exists",
            esr.create_trust(v, "Again", TrustSettings::default())
                .map(drop),
        ),
        (
            "a duplicate assignment",
            esr.add_assignment(
                &sys,
                v,
                NewAssignment {
                    number: "10000002".parse().unwrap(),
                    employee_number: c.employee_number.clone(),
                    title: "Porter".into(),
                    position: format!("{v}|Porter|Ward|").parse().unwrap(),
                    org_unit: "Ward".parse().unwrap(),
                    supervisor: None,
                },
            )
            .map(drop),
        ),
        (
            "a supervisor cycle",
            esr.set_supervisor(
                &sys,
                v,
                &"10000001".parse().unwrap(),
                Some("10000002".parse().unwrap()),
            )
            .map(drop),
        ),
        (
            "an org unit that exists",
            esr.add_org_unit(&sys, v, "Ward".parse().unwrap(), "Again", None)
                .map(drop),
        ),
        (
            "revoking a user administrator below two",
            esr.revoke_urp(
                p.session,
                &b.username,
                Urp::LocalHrmsSystemsAndUserAdministration,
                "kit",
            )
            .map(drop),
        ),
        (
            "a weak password",
            esr.set_password(&sys, &a.username, &Password::new("short")),
        ),
        (
            "a requirement of an unknown competence",
            esr.set_requirement(
                &sys,
                Requirement {
                    vpd: v,
                    target: RequirementTarget::Job("Porter".into()),
                    competence: format!("{v}|LOCAL|Nothing like it|").parse().unwrap(),
                    essential: true,
                    min_level: None,
                },
            ),
        ),
        (
            "a record of an unknown person",
            esr.record_competence(
                &sys,
                v,
                &"99999999".parse().unwrap(),
                NewCompetenceRecord {
                    competence: "NHS|CSTF|Fire Safety - 1 Year|".parse().unwrap(),
                    achieved: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                    expiry: RecordExpiry::Refresher,
                    level: CompetenceLevel::default(),
                },
            )
            .map(drop),
        ),
    ];
    for (what, r) in refusals {
        assert!(r.is_err(), "{what} was not refused");
        let after = h.snapshot(v);
        assert!(
            after == before,
            "refusing {what} changed the store: {after:?}"
        );
    }
}

/// A challenge is consumed once: writing a settled challenge over one already settled is
/// refused with [`Error::Storage`] (adapters implement it as a conditional update, so two
/// writers racing outside the service's transaction cannot both win).
pub fn settled_challenge_cannot_be_settled_again<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let p = h.populate(vpd("297"));
    let c = &p.people[2];
    let all = h.in_tx(|tx| tx.challenges_of(&c.username, DateTime::<Utc>::MIN_UTC));
    let approved = all
        .iter()
        .find(|x| x.status == ChallengeStatus::Approved)
        .expect("an approved challenge")
        .clone();
    for status in [ChallengeStatus::Approved, ChallengeStatus::Pending] {
        let mut again = approved.clone();
        again.status = status;
        again.settled_at = Some(start() + TimeDelta::hours(1));
        let r = h.esr.store().transaction(|tx| tx.put_challenge(&again));
        assert!(
            matches!(r, Err(Error::Storage(_))),
            "rewriting a settled challenge as {status} must be refused: {r:?}"
        );
    }
    assert_eq!(h.in_tx(|tx| tx.challenge(&approved.id)), Some(approved));
}

/// Of threads racing to verify the right code, exactly one is approved, every round.
pub fn passcode_consumption_has_exactly_one_winner<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let p = h.populate(vpd("297"));
    let threads = 4;
    let barrier = Barrier::new(threads);
    for round in 0..20 {
        h.clock.advance(TimeDelta::seconds(7));
        let c = h
            .esr
            .request_mobile_code(p.session, MOBILE)
            .expect("request code");
        let code = h.outbox.last_code_to(&MOBILE.parse().unwrap()).unwrap();
        let results: Vec<Result<VerifyOutcome>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let (esr, barrier, c, code) = (&h.esr, &barrier, &c, &code);
                    s.spawn(move || {
                        barrier.wait();
                        esr.verify_passcode(p.session, &c.id, c.purpose, code)
                    })
                })
                .collect();
            handles.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let approved = results
            .iter()
            .filter(|r| matches!(r, Ok(o) if o.is_approved()))
            .count();
        let used = results
            .iter()
            .filter(|r| matches!(r, Ok(VerifyOutcome::AlreadyUsed)))
            .count();
        assert_eq!(
            (approved, used),
            (1, threads - 1),
            "round {round}: exactly one verification wins: {results:?}"
        );
    }
    h.esr.verify_audit(p.vpd).expect("the audit chain verifies");
}

/// Concurrent read-then-write transactions behave as if run one after another: no lost
/// update.
pub fn concurrent_transactions_serialise<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let p = h.populate(vpd("297"));
    let u = &p.people[1].username;
    let (threads, each) = (6, 20);
    let barrier = Barrier::new(threads);
    std::thread::scope(|s| {
        for _ in 0..threads {
            let (store, barrier) = (h.esr.store(), &barrier);
            s.spawn(move || {
                barrier.wait();
                for _ in 0..each {
                    store
                        .transaction(|tx| {
                            let mut acc = tx.account(u)?.unwrap();
                            std::thread::yield_now();
                            acc.passcode_failures += 1;
                            tx.put_account(&acc)
                        })
                        .expect("increment");
                }
            });
        }
    });
    let acc = h.in_tx(|tx| tx.account(u)).unwrap();
    assert_eq!(
        acc.passcode_failures,
        (threads * each) as u32,
        "no update is lost"
    );
}

// ----- Audit checkpoints and archive -----------------------------------------------------------

/// Checkpoints are kept by trust and `seq`: read back oldest first, replaced by a checkpoint
/// with the same `seq`, never shown to another trust, and undone with a failed transaction.
pub fn audit_checkpoints_are_kept_by_trust_and_seq<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let one = h.populate(vpd("297"));
    h.populate(vpd("298"));
    let first = h.esr.checkpoint(&system(), one.vpd).expect("checkpoint");
    h.esr
        .set_automatic_internet_access(&system(), one.vpd, false)
        .expect("an audited change");
    let second = h.esr.checkpoint(&system(), one.vpd).expect("checkpoint");
    assert!(second.seq > first.seq);
    assert_eq!(
        h.in_tx(|tx| tx.audit_checkpoints(one.vpd)),
        vec![first.clone(), second.clone()]
    );
    assert!(h.in_tx(|tx| tx.audit_checkpoints(vpd("298"))).is_empty());
    let mut replaced = first.clone();
    replaced.at += TimeDelta::seconds(1);
    h.in_tx(|tx| tx.put_audit_checkpoint(&replaced));
    assert_eq!(
        h.in_tx(|tx| tx.audit_checkpoints(one.vpd)),
        vec![replaced.clone(), second.clone()]
    );
    let mut third = second.clone();
    third.seq += 1;
    let r: Result<()> = h.esr.store().transaction(|tx| {
        tx.put_audit_checkpoint(&third)?;
        Err(Error::Storage("the kit fails this transaction".into()))
    });
    assert!(r.is_err());
    assert_eq!(
        h.in_tx(|tx| tx.audit_checkpoints(one.vpd)),
        vec![replaced, second],
        "a failed transaction leaves no checkpoint behind"
    );
}

/// Archiving removes exactly the prefix before a checkpoint: the trail then starts at the
/// checkpoint's entry, pages count `seq` from there, the next entry's `seq` continues from the
/// newest, a removal past the newest entry is refused and a failed one undone, the other
/// trust is untouched, and the store answers as the reference store does.
pub fn audit_archive_removes_a_prefix_and_seq_continues<S: Store>(make: &dyn Fn() -> S) {
    let subject = Harness::new(make());
    let reference = Harness::new(InMemoryStore::new());
    for h in [&subject as &dyn ArchiveScenario, &reference] {
        h.run();
    }
    for code in ["297", "298"] {
        let (got, want) = (subject.snapshot(vpd(code)), reference.snapshot(vpd(code)));
        assert_eq!(
            got, want,
            "trust {code}: after archiving, the store answers differently from the reference"
        );
    }
}

/// The archive scenario, run on the store under test and on the reference store.
trait ArchiveScenario {
    fn run(&self);
}

impl<S: Store> ArchiveScenario for Harness<S> {
    fn run(&self) {
        let h = self;
        let one = h.populate(vpd("297"));
        h.populate(vpd("298"));
        let other = h.in_tx(|tx| tx.audit_entries(vpd("298"), 1, usize::MAX));
        let before = h.in_tx(|tx| tx.audit_entries(one.vpd, 1, usize::MAX));
        let cp = h.esr.checkpoint(&system(), one.vpd).expect("checkpoint");
        assert_eq!(cp.seq, before.len() as u64);
        // A removal past the newest entry is refused and changes nothing.
        let newest = h.in_tx(|tx| tx.audit_head(one.vpd)).seq;
        let r = h
            .esr
            .store()
            .transaction(|tx| tx.remove_audit_before(one.vpd, newest + 1));
        assert!(matches!(r, Err(Error::Storage(_))), "{r:?}");
        // A removal in a failed transaction is undone.
        let r: Result<()> = h.esr.store().transaction(|tx| {
            assert_eq!(tx.remove_audit_before(one.vpd, 3)?, 2);
            assert_eq!(tx.audit_entries(one.vpd, 1, 1)?[0].seq, 3);
            Err(Error::Storage("the kit fails this transaction".into()))
        });
        assert!(r.is_err());
        assert_eq!(
            h.in_tx(|tx| tx.audit_entries(one.vpd, 1, 2)),
            before[..2].to_vec()
        );

        let mut file = Vec::new();
        let summary = h
            .esr
            .archive_before(&system(), one.vpd, &cp, &mut file)
            .expect("archive");
        assert_eq!(summary.first, 1);
        assert_eq!(summary.entries, cp.seq - 1);
        assert_eq!(
            h.esr
                .verify_audit_archive(one.vpd, file.as_slice(), Some(AuditHead::EMPTY))
                .expect("the archive verifies"),
            summary.last
        );
        let live = h.in_tx(|tx| tx.audit_entries(one.vpd, 1, usize::MAX));
        assert_eq!(
            live[0].seq, cp.seq,
            "the trail starts at the checkpoint's entry"
        );
        assert_eq!(live[0].hash, cp.hash);
        assert_eq!(live[0].prev_hash, summary.last.hash);
        assert_eq!(
            h.in_tx(|tx| tx.audit_entries(one.vpd, cp.seq + 1, 1))[0].seq,
            cp.seq + 1
        );
        assert!(h.in_tx(|tx| tx.audit_entries(one.vpd, 1, 0)).is_empty());
        let last = live.last().unwrap().clone();
        assert!(matches!(last.event, AuditEvent::AuditArchived { .. }));
        assert_eq!(h.in_tx(|tx| tx.last_audit(one.vpd)), Some(last.clone()));
        // The next entry continues the sequence.
        h.esr
            .set_automatic_internet_access(&system(), one.vpd, false)
            .expect("an audited change after the archive");
        let head = h.in_tx(|tx| tx.audit_head(one.vpd));
        assert_eq!(head.seq, last.seq + 1);
        h.esr
            .verify_audit(one.vpd)
            .expect("the live trail verifies from the checkpoint");
        // Archiving again before the same checkpoint does nothing.
        let mut again = Vec::new();
        let s = h
            .esr
            .archive_before(&system(), one.vpd, &cp, &mut again)
            .expect("archive again");
        assert_eq!((s.entries, again.len()), (0, 0));
        assert_eq!(
            h.in_tx(|tx| tx.audit_entries(vpd("298"), 1, usize::MAX)),
            other,
            "the other trust's trail is untouched"
        );
    }
}

// ----- Notifications and approvals (wf-notify) -----

fn a_notification(code: &str, id: u8, person: &str, minutes: i64) -> crate::notify::Notification {
    crate::notify::Notification {
        id: NotificationId::from_bytes([id; 16]),
        vpd: vpd(code),
        for_person: person.parse().unwrap(),
        kind: crate::notify::NotificationKind::RecordChanged {
            fields: "surname".into(),
        },
        about: format!("notification {id}"),
        raised_at: start() + TimeDelta::minutes(minutes),
        expires_at: None,
        state: crate::notify::NotificationState::Open,
        settled_at: None,
    }
}

fn a_change(code: &str, id: u8, minutes: i64) -> crate::notify::PendingChange {
    crate::notify::PendingChange {
        id: ChangeId::from_bytes([id; 16]),
        vpd: vpd(code),
        subject: "10000001".parse().unwrap(),
        change: crate::notify::ProposedChange::Hours {
            assignment: "10000001".parse().unwrap(),
            weekly_minutes: 2250,
        },
        requested_by: format!("{code}JSMITH01").parse().unwrap(),
        requested_at: start() + TimeDelta::minutes(minutes),
        route: crate::notify::ApprovalRoute::ManagerPayroll,
        approver: "10000002".parse().unwrap(),
        expires_at: start() + TimeDelta::days(14),
        status: crate::notify::ChangeStatus::Pending,
        decided_at: None,
        decided_by: None,
    }
}

/// Notifications and held changes are stored whole, read back by trust and id, listed oldest
/// first (a person's notifications; a trust's changes), and never seen from another trust.
pub fn notifications_and_changes_round_trip<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let (n1, n2, n3) = (
        a_notification("297", 1, "10000001", 5),
        a_notification("297", 2, "10000001", 1),
        a_notification("297", 3, "10000002", 3),
    );
    let other = a_notification("298", 4, "10000001", 0);
    let (c1, c2) = (a_change("297", 1, 9), a_change("297", 2, 2));
    h.in_tx(|tx| {
        for n in [&n1, &n2, &n3, &other] {
            tx.put_notification(n)?;
        }
        tx.put_pending_change(&c1)?;
        tx.put_pending_change(&c2)
    });
    let v = vpd("297");
    assert_eq!(h.in_tx(|tx| tx.notification(v, &n1.id)), Some(n1.clone()));
    assert_eq!(h.in_tx(|tx| tx.notification(v, &other.id)), None);
    assert_eq!(
        h.in_tx(|tx| tx.notifications_of(v, &n1.for_person)),
        vec![n2.clone(), n1.clone()],
        "a person's notifications, oldest first, this trust's only"
    );
    assert_eq!(h.in_tx(|tx| tx.pending_change(v, &c1.id)), Some(c1.clone()));
    assert_eq!(h.in_tx(|tx| tx.pending_change(vpd("298"), &c1.id)), None);
    assert_eq!(h.in_tx(|tx| tx.pending_changes(v)), vec![c2, c1]);
    // An open notification may be replaced (its state moves on).
    let mut acted = n1.clone();
    acted.state = crate::notify::NotificationState::Closed;
    acted.settled_at = Some(start() + TimeDelta::hours(1));
    h.in_tx(|tx| tx.put_notification(&acted));
    assert_eq!(h.in_tx(|tx| tx.notification(v, &n1.id)), Some(acted));
}

/// A settled notification or held change is never written over, whatever the new state.
pub fn settled_notification_and_change_cannot_be_settled_again<S: Store>(make: &dyn Fn() -> S) {
    use crate::notify::{ChangeStatus, NotificationState};
    let h = Harness::new(make());
    let v = vpd("297");
    let mut n = a_notification("297", 1, "10000001", 0);
    let mut c = a_change("297", 1, 0);
    h.in_tx(|tx| tx.put_notification(&n));
    h.in_tx(|tx| tx.put_pending_change(&c));
    n.state = NotificationState::Actioned;
    c.status = ChangeStatus::Applied;
    h.in_tx(|tx| tx.put_notification(&n));
    h.in_tx(|tx| tx.put_pending_change(&c));
    for state in [
        NotificationState::Open,
        NotificationState::Closed,
        NotificationState::Actioned,
    ] {
        let mut again = n.clone();
        again.state = state;
        let r = h.esr.store().transaction(|tx| tx.put_notification(&again));
        assert!(
            matches!(r, Err(Error::Storage(_))),
            "rewriting a settled notification as {state} must be refused: {r:?}"
        );
    }
    for status in [
        ChangeStatus::Pending,
        ChangeStatus::Rejected {
            reason: "no".into(),
        },
        ChangeStatus::Applied,
    ] {
        let mut again = c.clone();
        again.status = status.clone();
        let r = h
            .esr
            .store()
            .transaction(|tx| tx.put_pending_change(&again));
        assert!(
            matches!(r, Err(Error::Storage(_))),
            "rewriting a settled change as {status} must be refused: {r:?}"
        );
    }
    assert_eq!(h.in_tx(|tx| tx.notification(v, &n.id)), Some(n));
    assert_eq!(h.in_tx(|tx| tx.pending_change(v, &c.id)), Some(c));
}

/// Of threads racing to settle one held change, exactly one succeeds, every round.
pub fn change_settlement_has_exactly_one_winner<S: Store>(make: &dyn Fn() -> S) {
    use crate::notify::ChangeStatus;
    let h = Harness::new(make());
    let threads = 4;
    let barrier = Barrier::new(threads);
    for round in 0..20u8 {
        let c = a_change("297", round, i64::from(round));
        h.in_tx(|tx| tx.put_pending_change(&c));
        let wins = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|i| {
                    let (store, barrier, c) = (h.esr.store(), &barrier, &c);
                    s.spawn(move || {
                        barrier.wait();
                        let mut mine = c.clone();
                        mine.status = if i % 2 == 0 {
                            ChangeStatus::Applied
                        } else {
                            ChangeStatus::Rejected {
                                reason: format!("thread {i}"),
                            }
                        };
                        store.transaction(|tx| tx.put_pending_change(&mine)).is_ok()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|t| t.join().unwrap())
                .filter(|won| *won)
                .count()
        });
        assert_eq!(wins, 1, "round {round}: exactly one settlement wins");
    }
}

// ----- Workflows: access requests, URP reviews, competence claims ------------------------------

/// Access requests, URP reviews and competence claims are replaced by key (one record, the new
/// one), listed oldest first (by the time raised, opened or claimed), and scoped by trust.
pub fn workflow_records_replace_by_key_in_order<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let p = h.populate(vpd("297"));
    let v = p.vpd;
    let (requests, reviews, claims) = h.in_tx(|tx| {
        Ok((
            tx.access_requests(v)?,
            tx.urp_reviews(v)?,
            tx.competence_claims(v)?,
        ))
    });
    assert_eq!(
        (requests.len(), reviews.len(), claims.len()),
        (2, 1, 2),
        "the population's workflow records"
    );
    assert!(
        requests
            .windows(2)
            .all(|w| w[0].raised_at <= w[1].raised_at)
    );
    assert!(
        claims
            .windows(2)
            .all(|w| w[0].claimed_at <= w[1].claimed_at)
    );
    h.in_tx(|tx| {
        let mut r = requests[1].clone();
        r.state = AccessRequestState::Rejected {
            by: p.people[0].employee_number.clone(),
            at: start(),
            reason: "kit".into(),
        };
        tx.put_access_request(&r)?;
        let mut review = reviews[0].clone();
        review.completed_at = Some(start());
        tx.put_urp_review(&review)?;
        let mut c = claims[0].clone();
        c.evidence = "replaced".into();
        tx.put_competence_claim(&c)?;
        // An older request, written last, lists first.
        let mut older = requests[0].clone();
        older.id = AccessRequestId::from_bytes([1; 16]);
        older.raised_at = start() - TimeDelta::days(1);
        tx.put_access_request(&older)?;
        Ok(())
    });
    h.in_tx(|tx| {
        let now = tx.access_requests(v)?;
        assert_eq!(now.len(), 3, "replacing a request adds none");
        assert_eq!(
            now[0].id,
            AccessRequestId::from_bytes([1; 16]),
            "oldest first"
        );
        assert!(matches!(
            tx.access_request(v, &requests[1].id)?.unwrap().state,
            AccessRequestState::Rejected { .. }
        ));
        let r = tx.urp_reviews(v)?;
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].completed_at, Some(start()));
        let c = tx.competence_claims(v)?;
        assert_eq!(c.len(), 2);
        assert_eq!(
            tx.competence_claim(v, &claims[0].id)?.unwrap().evidence,
            "replaced"
        );
        // Nothing crosses trusts.
        let other = vpd("999");
        assert!(tx.access_request(other, &requests[0].id)?.is_none());
        assert!(tx.urp_review(other, &reviews[0].id)?.is_none());
        assert!(tx.competence_claim(other, &claims[0].id)?.is_none());
        Ok(())
    });
}

// ----- Outbox and retention --------------------------------------------------------------------

/// A new pending challenge of `p`'s third person and an SMS for it, built from a stored one.
fn fresh_challenge_and_text<S: Store>(
    h: &Harness<S>,
    p: &Population,
    n: u8,
) -> (Challenge, OutboxMessage) {
    let u = &p.people[2].username;
    let mut c = h
        .in_tx(|tx| tx.challenges_of(u, DateTime::<Utc>::MIN_UTC))
        .into_iter()
        .next()
        .expect("a stored challenge");
    c.id = ChallengeId::from_bytes([n; 16]);
    c.status = ChallengeStatus::Pending;
    c.settled_at = None;
    c.attempts = 0;
    let now = h.clock.now();
    let text = SmsMessage::new(
        c.id,
        p.vpd,
        MOBILE.parse().unwrap(),
        format!("{n}12345 is your code"),
    );
    let m = OutboxMessage::queued(
        c.id,
        OutboxPayload::Sms(text),
        now,
        now + TimeDelta::seconds(i64::from(n)),
    );
    (c, m)
}

/// The outbox: a message is written in its challenge's transaction and rolled back with it;
/// its payload (a secret serde skips) is persisted; the service's texts are queued and marked
/// delivered; `due_messages` answers pending messages due by then, in order, up to the limit.
pub fn outbox_is_written_and_rolled_back_with_its_challenge<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let p = h.populate(vpd("297"));
    // The service's own: every challenge it issued has a delivered message, with no payload.
    let u = &p.people[2].username;
    for c in h.in_tx(|tx| tx.challenges_of(u, DateTime::<Utc>::MIN_UTC)) {
        let m = h
            .in_tx(|tx| tx.outbox_message(&c.id))
            .expect("each issued challenge has its message");
        assert_eq!(
            (m.status, m.attempts, m.payload.is_none()),
            (OutboxStatus::Delivered, 1, true),
            "{m:?}"
        );
    }
    // Rolled back with its challenge.
    let (c, m) = fresh_challenge_and_text(&h, &p, 1);
    let r: Result<()> = h.esr.store().transaction(|tx| {
        tx.put_challenge(&c)?;
        tx.queue_message(&m)?;
        Err(Error::Storage("fail on purpose".into()))
    });
    assert!(r.is_err());
    assert_eq!(h.in_tx(|tx| tx.challenge(&c.id)), None);
    assert_eq!(
        h.in_tx(|tx| tx.outbox_message(&m.key)),
        None,
        "a message must be rolled back with its challenge"
    );
    // Kept with it, payload included.
    h.in_tx(|tx| {
        tx.put_challenge(&c)?;
        tx.queue_message(&m)
    });
    assert_eq!(h.in_tx(|tx| tx.outbox_message(&m.key)), Some(m.clone()));
    // Due messages: pending, due by `now`, by due time, at most `limit`.
    let (c2, m2) = fresh_challenge_and_text(&h, &p, 2);
    h.in_tx(|tx| {
        tx.put_challenge(&c2)?;
        tx.queue_message(&m2)
    });
    let now = h.clock.now();
    let keys = |at, limit| {
        h.in_tx(|tx| tx.due_messages(at, limit))
            .into_iter()
            .map(|m| m.key)
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(now, 10), Vec::<ChallengeId>::new());
    assert_eq!(keys(now + TimeDelta::seconds(1), 10), [m.key]);
    assert_eq!(keys(now + TimeDelta::seconds(5), 10), [m.key, m2.key]);
    assert_eq!(keys(now + TimeDelta::seconds(5), 1), [m.key]);
    let due = h.in_tx(|tx| tx.due_messages(now + TimeDelta::seconds(5), 10));
    assert_eq!(
        due,
        [m, m2],
        "due messages come back whole, payload included"
    );
}

/// The outbox's idempotency key is unique: queueing a second message with a key already
/// queued is refused with [`Error::Storage`], and the first is untouched.
pub fn outbox_idempotency_key_is_unique<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let p = h.populate(vpd("297"));
    let (c, m) = fresh_challenge_and_text(&h, &p, 3);
    h.in_tx(|tx| {
        tx.put_challenge(&c)?;
        tx.queue_message(&m)
    });
    let mut again = m.clone();
    again.attempts = 9;
    let r = h.esr.store().transaction(|tx| tx.queue_message(&again));
    assert!(
        matches!(r, Err(Error::Storage(_))),
        "a repeated idempotency key must be refused: {r:?}"
    );
    assert_eq!(h.in_tx(|tx| tx.outbox_message(&m.key)), Some(m));
}

/// A queued message is updated in place while pending, and settled once: marking it delivered
/// erases its payload, takes it off the due list, and a later update (or an update of a
/// message never queued) is refused with [`Error::Storage`].
pub fn outbox_message_is_marked_once<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let p = h.populate(vpd("297"));
    let (c, mut m) = fresh_challenge_and_text(&h, &p, 4);
    let (_, never) = fresh_challenge_and_text(&h, &p, 5);
    let r = h.esr.store().transaction(|tx| tx.update_message(&never));
    assert!(matches!(r, Err(Error::Storage(_))), "{r:?}");
    h.in_tx(|tx| {
        tx.put_challenge(&c)?;
        tx.queue_message(&m)
    });
    let later = h.clock.now() + TimeDelta::minutes(5);
    m.attempts = 1;
    m.next_attempt_at = later;
    m.failure = Some(DeliveryFailure::GatewayRefused {
        attempts: 1,
        reason: "busy".into(),
    });
    h.in_tx(|tx| tx.update_message(&m));
    assert_eq!(h.in_tx(|tx| tx.outbox_message(&m.key)), Some(m.clone()));
    assert_eq!(h.in_tx(|tx| tx.due_messages(later, 10)), [m.clone()]);
    m.attempts = 2;
    m.settle(OutboxStatus::Delivered, later, None);
    h.in_tx(|tx| tx.update_message(&m));
    assert_eq!(h.in_tx(|tx| tx.outbox_message(&m.key)), Some(m.clone()));
    assert_eq!(h.in_tx(|tx| tx.due_messages(later, 10)), []);
    let mut again = m.clone();
    again.status = OutboxStatus::Pending;
    let r = h.esr.store().transaction(|tx| tx.update_message(&again));
    assert!(
        matches!(r, Err(Error::Storage(_))),
        "a settled message must not be written again: {r:?}"
    );
    assert_eq!(h.in_tx(|tx| tx.outbox_message(&m.key)), Some(m));
}

/// The purge scenario: two trusts populated, a day and more passed, new live records made,
/// then [`Esr::purge`] twice on each trust; answers the counts and whether the live records
/// survived.
fn purge_scenario<S: Store>(store: S) -> (Vec<PurgeCounts>, Snapshot, Snapshot) {
    let h = Harness::new(store);
    let p = h.populate(vpd("297"));
    let q = h.populate(vpd("298"));
    h.clock.advance(TimeDelta::hours(30));
    // Live now: a session and its pending code, which the purge must keep.
    let s = h.hscn(&p.people[2].username);
    let c = h
        .esr
        .request_mobile_code(s, "07700 900123")
        .expect("request code");
    let mut counts = Vec::new();
    for v in [p.vpd, q.vpd, p.vpd, q.vpd] {
        counts.push(h.esr.purge(&system(), v).expect("purge"));
    }
    assert_eq!(
        h.esr.passcode_status(s, &c.id).expect("still there").status,
        ChallengeStatus::Pending,
        "a purge must keep a pending challenge and a live session"
    );
    assert!(h.in_tx(|tx| tx.outbox_message(&c.id)).is_some());
    (counts, h.snapshot(p.vpd), h.snapshot(q.vpd))
}

/// [`StoreTx::purge`] removes what the retention rules allow and nothing else, trust by trust,
/// exactly as the reference store does; a second purge removes nothing (idempotent); a pending
/// challenge and a live session survive it.
pub fn purge_removes_only_finished_records<S: Store>(make: &dyn Fn() -> S) {
    let (counts, a, b) = purge_scenario(make());
    let (ref_counts, ref_a, ref_b) = purge_scenario(InMemoryStore::new());
    assert_eq!(counts, ref_counts, "purge counts differ from the reference");
    assert!(
        counts[0].challenges > 0 && counts[0].sessions > 0 && counts[0].messages > 0,
        "{counts:?}"
    );
    assert!(counts[2].is_empty() && counts[3].is_empty(), "{counts:?}");
    assert_eq!(
        a, ref_a,
        "what remains of trust 297 differs from the reference"
    );
    assert_eq!(
        b, ref_b,
        "what remains of trust 298 differs from the reference"
    );
}

// ----- Authenticator apps ------------------------------------------------------------------------

/// An authenticator is stored with every field (the sealed secret included) and replaced by
/// key; [`StoreTx::advance_authenticator_step`] only ever moves the accepted step forward, and
/// of threads racing to advance it to one step exactly one wins; a delete says whether there
/// was a row, and a failed transaction leaves the step where it was.
pub fn authenticator_steps_are_accepted_once<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let p = h.populate(vpd("297"));
    let who = p.people[2].username.clone();
    h.esr.enrol_authenticator(p.session).expect("enrol");
    let stored = h
        .in_tx(|tx| tx.authenticator(&who))
        .expect("the enrolled authenticator is stored");
    assert_eq!(stored.username, who);
    assert!(!stored.is_active() && stored.last_step.is_none());
    // Every field reads back exactly, and a put replaces.
    let mut changed = stored.clone();
    changed.activated_at = Some(start() + TimeDelta::seconds(1));
    changed.last_step = Some(41);
    changed.params.digits = 8;
    h.in_tx(|tx| tx.put_authenticator(&changed));
    assert_eq!(h.in_tx(|tx| tx.authenticator(&who)), Some(changed.clone()));
    // Forward only.
    for (step, moved) in [
        (41, false),
        (40, false),
        (42, true),
        (42, false),
        (1000, true),
    ] {
        assert_eq!(
            h.in_tx(|tx| tx.advance_authenticator_step(&who, step)),
            moved,
            "advancing to {step}"
        );
    }
    assert_eq!(
        h.in_tx(|tx| tx.authenticator(&who)).unwrap().last_step,
        Some(1000)
    );
    // A failed transaction keeps the step.
    let r: Result<()> = h.esr.store().transaction(|tx| {
        assert!(tx.advance_authenticator_step(&who, 2000)?);
        Err(Error::Storage("rolled back on purpose".into()))
    });
    assert!(r.is_err());
    assert_eq!(
        h.in_tx(|tx| tx.authenticator(&who)).unwrap().last_step,
        Some(1000)
    );
    // Racing: exactly one of the threads advances to each step.
    let threads = 4;
    let barrier = Barrier::new(threads);
    for step in 1001..1011u64 {
        let wins: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let (store, barrier, who) = (h.esr.store(), &barrier, &who);
                    s.spawn(move || {
                        barrier.wait();
                        store
                            .transaction(|tx| tx.advance_authenticator_step(who, step))
                            .expect("advance")
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|t| usize::from(t.join().unwrap()))
                .sum()
        });
        assert_eq!(wins, 1, "step {step}: exactly one thread advances");
    }
    // Another user's authenticator is not touched; a missing one never advances.
    let other = &p.people[1].username;
    assert_eq!(h.in_tx(|tx| tx.authenticator(other)), None);
    assert!(!h.in_tx(|tx| tx.advance_authenticator_step(other, 5)));
    assert!(h.in_tx(|tx| tx.delete_authenticator(&who)));
    assert!(!h.in_tx(|tx| tx.delete_authenticator(&who)));
    assert_eq!(h.in_tx(|tx| tx.authenticator(&who)), None);
}

/// [`Store::read`] sees committed state on one consistent snapshot: what was committed before
/// it, not what a failed transaction wrote, and, while another thread commits, the same value
/// twice inside one read, never going back between reads.
pub fn read_transactions_see_committed_state<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let p = h.populate(vpd("297"));
    let u = &p.people[1].username;
    let store = h.esr.store();
    let set = |n: u32| {
        store.transaction(|tx| {
            let mut acc = tx.account(u)?.unwrap();
            acc.passcode_failures = n;
            tx.put_account(&acc)
        })
    };
    let read = || {
        store
            .read(|tx| Ok(tx.account(u)?.unwrap().passcode_failures))
            .expect("read")
    };
    set(1).expect("write");
    assert_eq!(read(), 1, "a read sees what was committed before it");
    let failed: Result<()> = store.transaction(|tx| {
        let mut acc = tx.account(u)?.unwrap();
        acc.passcode_failures = 99;
        tx.put_account(&acc)?;
        Err(Error::Storage("the kit rolls this back".into()))
    });
    assert!(failed.is_err());
    assert_eq!(read(), 1, "a read does not see a rolled-back write");
    let writes = 40;
    std::thread::scope(|s| {
        s.spawn(|| {
            for n in 2..2 + writes {
                set(n).expect("write");
            }
        });
        let mut last = 1;
        for _ in 0..writes {
            let (a, b) = store
                .read(|tx| {
                    let a = tx.account(u)?.unwrap().passcode_failures;
                    std::thread::yield_now();
                    let b = tx.account(u)?.unwrap().passcode_failures;
                    Ok((a, b))
                })
                .expect("read");
            assert_eq!(a, b, "two reads inside one read transaction agree");
            assert!(a >= last, "a later read never sees older state");
            last = a;
        }
    });
    assert_eq!(read(), 1 + writes, "a read after the writes sees the last");
}

/// Sessions are kept by their key (the SHA-256 of the id), never by the id: read back by key,
/// or listed, a session carries [`SessionId::UNKNOWN`], and its key and audit reference.
pub fn sessions_are_kept_by_key_without_their_id<S: Store>(make: &dyn Fn() -> S) {
    let h = Harness::new(make());
    let p = h.populate(vpd("297"));
    let key = p.session.key();
    let back = h
        .in_tx(|tx| tx.session(&key))
        .expect("the session is kept by key");
    assert_eq!(
        back.id,
        SessionId::UNKNOWN,
        "the store does not keep the id"
    );
    assert_eq!((back.key, back.audit_ref()), (key, p.session.audit_ref()));
    let listed = h.in_tx(|tx| tx.sessions_of(&back.username));
    assert!(listed.iter().any(|s| s.key == key));
    assert!(listed.iter().all(|s| s.id == SessionId::UNKNOWN));
}
