//! A day at an NHS trust, on the in-memory store: builds a trust of a few thousand staff from a
//! fixed seed, then follows a ward manager from the NHS network (registering a mobile number by
//! texted code) to the internet and through a passcode upgrade, a user administrator at work, a
//! locked account recovered by e-mail, and the audit trail.
//!
//! Run it with `cargo run --release -p esr-examples --example trust_day`; add `-- --db PATH`
//! to run it on a new SQLite database at `PATH` (esr-sqlite) instead of in memory, or
//! `-- --postgres URL` to run it on a PostgreSQL server (esr-postgres), in a new schema.

use esr_core::chrono::{TimeDelta, TimeZone, Utc};
use esr_core::{
    Actor, Error, Esr, InMemoryStore, ManualClock, SessionId, Store, access::AccessDecision,
    access::Channel, access::SmartcardAuthentication, org::NationalPortlet, org::TrustSettings,
    org::UpgradeAccess, passcode::Approved, passcode::Outbox, passcode::PasscodeChallenge,
    passcode::PasscodeKey, passcode::PasscodeKeys, passcode::Purpose, passcode::VerifyOutcome,
    people::Password, urp::Function, urp::Urp, urp::urp_report_csv,
};
// Authenticator apps
use esr_core::Clock;
use esr_core::authenticator::{AuthenticatorKey, AuthenticatorKeys, Totp};
use esr_examples::{TrustSpec, build_trust};
use esr_sqlite::SqliteStore;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trust_day failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn heading(s: &str) {
    println!("\n== {s} {}", "=".repeat(72usize.saturating_sub(s.len())));
}

fn list(functions: &std::collections::BTreeSet<Function>) -> String {
    functions
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where the day runs.
enum Backend {
    Memory,
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

/// `--db PATH`: the SQLite database to create; `--postgres URL`: a PostgreSQL server; neither
/// for the in-memory store.
fn backend() -> Result<Backend, Error> {
    let usage = |reason: &str| Error::InvalidInput {
        what: "arguments",
        reason: format!("{reason}; usage: trust_day [--db PATH | --postgres URL]"),
    };
    let mut args = std::env::args_os().skip(1);
    let path = match args.next() {
        None => return Ok(Backend::Memory),
        Some(a) if a == "--db" => args
            .next()
            .map(std::path::PathBuf::from)
            .ok_or_else(|| usage("--db needs the path of the database to create"))?,
        Some(a) if a == "--postgres" => {
            let url = args
                .next()
                .and_then(|u| u.into_string().ok())
                .ok_or_else(|| usage("--postgres needs the URL of a PostgreSQL server"))?;
            if let Some(a) = args.next() {
                return Err(usage(&format!("unexpected argument {a:?}")));
            }
            return Ok(Backend::Postgres(url));
        }
        Some(a) => return Err(usage(&format!("unknown argument {a:?}"))),
    };
    if let Some(a) = args.next() {
        return Err(usage(&format!("unexpected argument {a:?}")));
    }
    if path.exists() {
        return Err(usage(&format!(
            "{} exists already; the demonstration builds its trust from scratch, so give a \
             path that does not exist yet",
            path.display()
        )));
    }
    Ok(Backend::Sqlite(path))
}

fn run() -> Result<(), Error> {
    match backend()? {
        Backend::Memory => run_on(InMemoryStore::new()),
        Backend::Sqlite(path) => {
            println!("(on SQLite: {})", path.display());
            run_on(SqliteStore::open(&path)?)
        }
        Backend::Postgres(url) => {
            // A schema of its own: the demonstration builds its trust from scratch.
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            let schema = format!("trust_day_{stamp}_{}", std::process::id());
            println!("(on PostgreSQL: schema {schema})");
            let mut config = esr_postgres::PgConfig::new(url);
            config.schema = Some(schema);
            run_on(esr_postgres::PostgresStore::open(&config)?)
        }
    }
}

fn run_on<S: Store>(store: S) -> Result<(), Error> {
    let clock = ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 23, 7, 30, 0)
            .single()
            .ok_or(Error::Storage("bad start time".into()))?,
    );
    // A seeded RNG makes every run print the same; production passes getrandom::SysRng.
    // Texts and e-mails go to an in-memory outbox; a trust plugs in its own gateways.
    let outbox = Arc::new(Outbox::new());
    // A fixed key keeps the demonstration repeatable; a trust loads its keys from its secret
    // store, and rotates them with `PasscodeKeys::rotate`.
    let keys = PasscodeKeys::new(PasscodeKey::new(
        "demo-2026-11",
        b"key-5e-abcdefghijklmnopqrstuvwxy",
    )?);
    let esr = Esr::with_rng(store, clock.clone(), ChaCha20Rng::seed_from_u64(297))
        .with_passcode_keys(keys)
        // Authenticator apps: their secrets are sealed under this key (a trust's comes from its
        // secret store, and rotates with `AuthenticatorKeys::rotate`).
        .with_authenticator_keys(AuthenticatorKeys::new(AuthenticatorKey::new(
            "demo-totp-2026-11",
            b"totp-5e-abcdefghijklmnopqrstuvwx",
        )?))
        .with_sms_sender(outbox.clone())
        .with_email_sender(outbox.clone());

    heading("The trust");
    let settings = TrustSettings {
        automatic_internet_access: true,
        ..TrustSettings::default()
    };
    let spec = TrustSpec {
        vpd: "297".parse()?,
        name: "Northfield Valley NHS Foundation Trust (fictional)".into(),
        ward_staff: 3_000,
        ward_size: 30,
        seed: 2026,
    };
    let started = Instant::now();
    let t = build_trust(&esr, &spec, settings)?;
    let vpd = t.vpd;
    let trust = esr.trust(vpd)?;
    let people = esr.people(vpd)?;
    println!("{} (VPD {})", trust.name, trust.vpd);
    println!(
        "built in {:.0?}: {} people, {} organisation units, {} wards, {} people with a second (bank) assignment",
        started.elapsed(),
        people.len(),
        trust.org_units.len(),
        t.wards.len(),
        t.second_assignments
    );
    println!(
        "Automatic Internet Access: {}   Upgrade Access: Manager {}, Professional {}",
        yes(trust.settings.automatic_internet_access),
        on(trust.settings.upgrade_access.manager),
        on(trust.settings.upgrade_access.professional)
    );

    heading("Usernames (VPD + initial + surname + sequence)");
    let mut stems: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &people {
        *stems.entry(p.username.stem()).or_default() += 1;
    }
    let accented =
        |p: &&esr_core::people::Person| !p.name.family.is_ascii() || !p.name.given.is_ascii();
    let punctuated = |p: &&esr_core::people::Person| p.name.family.contains(['\'', '-', ' ']);
    let mut picks: Vec<&esr_core::people::Person> =
        people.iter().filter(accented).take(2).collect();
    picks.extend(people.iter().filter(punctuated).take(2));
    picks.extend(people.iter().filter(|p| p.username.sequence() > 1).take(2));
    picks.extend(people.iter().max_by_key(|p| p.name.family.len()));
    for p in picks {
        println!("  {:<44} -> {}", p.name.to_string(), p.username);
    }
    let (busiest, n) = stems
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(s, n)| (*s, *n))
        .unwrap_or(("", 0));
    println!("  the busiest stem, {busiest}, runs to {vpd}{busiest}{n:02}");

    heading("URPs held");
    let admin = &t.user_admins[1];
    let card = SmartcardAuthentication::verified_by_caller("UUID-ADMIN-0002")?;
    let admin_hscn = esr.log_in_with_smartcard(&admin.username, &card)?;
    let report = esr.urp_audit_report(&Actor::Session(admin_hscn.id), vpd)?;
    let mut per_urp: BTreeMap<Urp, usize> = BTreeMap::new();
    for r in &report {
        *per_urp.entry(r.urp).or_default() += 1;
    }
    for (urp, n) in &per_urp {
        println!("  {n:>5}  {urp}");
    }

    heading("The trust switches on manager internet access");
    let portal = Actor::Session(admin_hscn.id);
    esr.set_upgrade_access(
        &portal,
        vpd,
        UpgradeAccess {
            manager: true,
            professional: true,
        },
    )?;
    esr.set_portlet(&portal, vpd, NationalPortlet::TeamAppraisals, false)?;
    esr.add_local_bi_portlet(&portal, vpd, "Bank and agency usage")?;
    println!(
        "  Upgrade Access: Manager Enabled, Professional Enabled (by {})",
        admin.username
    );
    println!(
        "  Team Appraisals portlet switched off; local BI portlet 'Bank and agency usage' added"
    );

    let manager = &t.ward_managers[0];
    let feed = Actor::system("account set-up")?;
    let pw = Password::new("Ward 1 rota, Monday!");
    esr.set_password(&feed, &manager.username, &pw)?;
    let team = {
        let card = SmartcardAuthentication::verified_by_caller("UUID-WM-0001")?;
        let hscn = esr.log_in_with_smartcard(&manager.username, &card)?;
        heading(&format!(
            "{} ({}) on the NHS network",
            manager.name, manager.username
        ));
        let f = esr.functions(hscn.id)?;
        println!("  {} functions: {}", f.len(), list(&f));
        println!("  Manage Internet Access: registers mobile number 07700 900374");
        let c = esr.request_mobile_code(hscn.id, "07700 900374")?;
        println!("  {}", c.message());
        let code = phone_shows(&outbox, "07700 900374")?;
        let out = esr.verify_passcode(hscn.id, &c.id, c.purpose, &code)?;
        println!("  types the code: {}", describe(&out));
        let team = esr.team(hscn.id)?;
        esr.log_out(hscn.id)?;
        team
    };
    println!(
        "  team: {} people report to {} ({})",
        team.len(),
        manager.name,
        manager.unit
    );

    clock.advance(TimeDelta::hours(11));
    heading("The same manager at home, on the internet");
    let web = esr.log_in_with_password(manager.username.to_string().as_str(), &pw)?;
    let f = esr.functions(web.id)?;
    println!("  before the upgrade, {} functions: {}", f.len(), list(&f));
    if let AccessDecision::Denied(why) = esr.decide(web.id, Function::TeamCompliance)? {
        println!("  Team Compliance: {why}");
    }
    esr.check_upgrade(web.id)?;
    let c = esr.request_upgrade_code(web.id)?;
    println!("  'Upgrade Access': {}", c.message());
    let code = phone_shows(&outbox, "07700 900374")?;
    let wrong = if code == "111111" { "222222" } else { "111111" };
    clock.advance(TimeDelta::seconds(40));
    verify_and_say(&esr, web.id, &c, wrong, "a mistyped code")?;
    clock.advance(TimeDelta::seconds(15));
    verify_and_say(&esr, web.id, &c, &code, "the right code")?;
    verify_and_say(&esr, web.id, &c, &code, "the same code again")?;
    let f = esr.functions(web.id)?;
    println!("  after the upgrade, {} functions: {}", f.len(), list(&f));
    if let AccessDecision::Denied(why) = esr.decide(web.id, Function::TeamAppraisals)? {
        println!("  Team Appraisals: {why}");
    }
    let other = esr.log_in_with_password(manager.username.to_string().as_str(), &pw)?;
    println!(
        "  a second internet session is not upgraded by the first: {} functions",
        esr.functions(other.id)?.len()
    );
    let late = esr.request_upgrade_code(other.id)?;
    let code = phone_shows(&outbox, "07700 900374")?;
    clock.advance(TimeDelta::minutes(10));
    verify_and_say(&esr, other.id, &late, &code, "a code 10 minutes old")?;
    esr.log_out(other.id)?;
    if let Some(member) = team.first() {
        let record = esr.view_record(web.id, &member.assignment.employee_number)?;
        println!(
            "  views {} ({}) as {} -- audited",
            record.person.name, member.assignment, record.basis
        );
    }
    let stranger = &t.staff[t.staff.len() - 1];
    match esr.view_record(web.id, &stranger.employee_number) {
        Err(e) => println!("  tries {} on another ward: {e}", stranger.name),
        Ok(_) => println!("  unexpectedly saw {}", stranger.name),
    }

    heading("Professional users over the internet");
    esr.set_password(
        &feed,
        &admin.username,
        &Password::new("corporate systems 2026"),
    )?;
    {
        let card = SmartcardAuthentication::verified_by_caller("UUID-ADMIN-0002")?;
        let hscn = esr.log_in_with_smartcard(&admin.username, &card)?;
        let c = esr.request_mobile_code(hscn.id, "+44 7700 900123")?;
        let code = phone_shows_quietly(&outbox, "+44 7700 900123")?;
        esr.verify_passcode(hscn.id, &c.id, c.purpose, &code)?;
        esr.log_out(hscn.id)?;
    }
    // Texts to one user are at least 30 seconds apart.
    clock.advance(TimeDelta::minutes(2));
    let pro = esr.log_in_with_password(
        admin.username.to_string().as_str(),
        &Password::new("corporate systems 2026"),
    )?;
    let c = esr.request_upgrade_code(pro.id)?;
    let code = phone_shows_quietly(&outbox, "+44 7700 900123")?;
    esr.verify_passcode(pro.id, &c.id, Purpose::UpgradeSession, &code)?;
    let f = esr.functions(pro.id)?;
    println!(
        "  {} upgraded, {} functions: {}",
        admin.username,
        f.len(),
        list(&f)
    );
    for function in [Function::AdministerBi, Function::AssignUrps] {
        if let AccessDecision::Denied(why) = esr.decide(pro.id, function)? {
            println!("  {function}: {why}");
        }
    }

    heading("Someone guesses a password");
    let target = &t.staff[42];
    esr.set_password(&feed, &target.username, &Password::new("my own passphrase"))?;
    for guess in [
        "password1",
        "Password1!",
        "nhs12345",
        "letmein!!",
        "qwertyuiop",
    ] {
        let e = esr
            .log_in_with_password(target.username.to_string().as_str(), &Password::new(guess))
            .err();
        println!(
            "  {:<10} -> {}",
            guess.chars().map(|_| '*').collect::<String>(),
            e.map(|e| e.to_string()).unwrap_or_default()
        );
    }
    let person = esr.person(vpd, &target.employee_number)?;
    println!(
        "  {} has forgotten the username too: gives the recruitment e-mail and date of birth",
        person.name
    );
    let answer = esr.request_username_reminder(
        vpd,
        person.recruitment_email.as_str(),
        person.date_of_birth,
    )?;
    println!("  -> {}", answer.message());
    let stranger_answer =
        esr.request_username_reminder(vpd, "nobody@example.nhs.uk", person.date_of_birth)?;
    println!(
        "  (an unknown address gets the very same answer: {})",
        answer == stranger_answer
    );
    let mail = outbox
        .last_email_to(&person.recruitment_email)
        .ok_or(Error::Storage("no e-mail was sent".into()))?;
    println!(
        "  the e-mail names {} and carries a link valid until {}",
        mail.username,
        mail.link_expires_at.format("%H:%M")
    );
    clock.advance(TimeDelta::minutes(20));
    let new_pw = Password::new("a brand new passphrase");
    esr.reset_password_with_link(mail.expose_token().expose(), &new_pw)?;
    let ok = esr.log_in_with_password(target.username.to_string().as_str(), &new_pw)?;
    println!(
        "  after the reset link, the account is {} and {} logs in on the {}",
        esr.account(&target.username)?.state,
        target.username,
        ok.channel
    );
    debug_assert_eq!(ok.channel, Channel::Internet);
    if let Err(e) = esr.reset_password_with_link(mail.expose_token().expose(), &new_pw) {
        println!("  the link a second time: {e}");
    }

    heading("Sessions: 30 minutes idle, 12 hours at most, ended by a password change");
    clock.advance(TimeDelta::minutes(3));
    let phone = esr.log_in_with_password(target.username.to_string().as_str(), &new_pw)?;
    for s in esr.sessions_of(&Actor::Session(ok.id), &target.username)? {
        println!(
            "  {} session ref {} since {}, last active {}{}",
            s.channel,
            s.reference,
            s.started_at.format("%H:%M"),
            s.last_active_at.format("%H:%M"),
            if s.current { " (this one)" } else { "" }
        );
    }
    esr.change_password(ok.id, &new_pw, &Password::new("changed again today"))?;
    if let Err(e) = esr.session(phone.id) {
        println!("  the other session, after a password change in this one: {e}");
    }
    clock.advance(TimeDelta::minutes(31));
    if let Err(e) = esr.functions(ok.id) {
        println!("  this one, after 31 minutes without activity: {e}");
    }

    heading("A leaver, and the two-administrator rule");
    // The morning's HSCN session ended when this administrator's password was set (and has
    // been unused for hours since): a fresh one.
    let card = SmartcardAuthentication::verified_by_caller("UUID-ADMIN-0002")?;
    let admin_hscn = esr.log_in_with_smartcard(&admin.username, &card)?;
    let leaver = &t.staff[7];
    esr.end_account(
        &Actor::Session(admin_hscn.id),
        &leaver.username,
        "left the trust",
    )?;
    println!(
        "  {} ended: {}",
        leaver.username,
        esr.account(&leaver.username)?.state
    );
    match esr.end_account(
        &Actor::Session(admin_hscn.id),
        &t.user_admins[0].username,
        "left the trust",
    ) {
        Err(e) => println!("  ending {}: {e}", t.user_admins[0].username),
        Ok(_) => println!("  unexpectedly ended a user administrator"),
    }

    heading("The audit trail");
    let head = esr.verify_audit(vpd)?;
    println!("  {} entries, chain verified, head {}", head.seq, head.hash);
    for e in esr.audit_trail(vpd, head.seq.saturating_sub(4), 5)? {
        println!(
            "  #{:<6} {} {:<14} {}",
            e.seq,
            e.at.format("%H:%M:%S"),
            e.actor.to_string(),
            e.event
        );
    }
    let extra: Vec<_> = report
        .iter()
        .filter(|r| r.urp != Urp::EmployeeSelfService)
        .cloned()
        .collect();
    let csv = urp_report_csv(&extra)?;
    println!(
        "\n  URP audit report: {} grants in all; the first of the {} beyond Employee Self Service, as CSV:",
        report.len(),
        extra.len()
    );
    for line in csv.lines().take(5) {
        println!("  {line}");
    }

    // Compliance
    compliance_day(&esr, &t)?;
    // Certifications and enrolment
    learning_day(&esr, &t)?;
    // Notifications and approvals
    notifications_day(&esr, &t)?;
    // Workflows: access requests, competences awaiting approval, the six-monthly URP review
    access_requests_day(&esr, &t)?;
    competence_claims_day(&esr, &t)?;
    urp_review_day(&esr, &t, &clock)?;
    // The outbox and retention
    outbox_day(&esr, &clock, &outbox, &manager.username, &pw)?;
    // Authenticator apps
    authenticator_day(&esr, &clock, &t)?;
    Ok(())
}

/// The outbox and retention: a text is queued with its code and sent after the commit; a
/// refused one withdraws its code; `purge` removes what finished more than a day ago.
fn outbox_day<S: Store>(
    esr: &Esr<S, ManualClock>,
    clock: &ManualClock,
    outbox: &Outbox,
    manager: &esr_core::Username,
    pw: &Password,
) -> Result<(), Error> {
    heading("The outbox: texts are sent after the commit");
    clock.advance(TimeDelta::hours(1));
    let web = esr.log_in_with_password(&manager.to_string(), pw)?;
    outbox.fail_with(Some("SMS gateway timed out"));
    match esr.request_upgrade_code(web.id) {
        Err(e) => println!("  the gateway is down: {e}"),
        Ok(_) => println!("  unexpectedly sent"),
    }
    outbox.fail_with(None);
    clock.advance(TimeDelta::seconds(30));
    let c = esr.request_upgrade_code(web.id)?;
    println!("  asked again: {}", c.message());
    let row = esr
        .store()
        .transaction(|tx| tx.outbox_message(&c.id))?
        .ok_or(Error::Storage("the message is not in the outbox".into()))?;
    println!(
        "  outbox row {}: {} after {} attempt(s), its code erased: {}",
        row.key,
        row.status.as_str(),
        row.attempts,
        yes(row.payload.is_none())
    );
    let code = phone_shows_quietly(outbox, "07700 900374")?;
    verify_and_say(esr, web.id, &c, &code, "the code")?;
    let report = esr.deliver_pending(100)?;
    println!(
        "  deliver_pending (run at start-up and on a timer): {} delivered, {} left to retry",
        report.delivered, report.retrying
    );
    esr.log_out(web.id)?;

    heading("Retention: a purge every hour keeps a day");
    let vpd = manager.vpd();
    let job = Actor::system("retention job")?;
    let counts = esr.purge(&job, vpd)?;
    println!(
        "  now: {} challenges, {} sessions, {} messages removed",
        counts.challenges, counts.sessions, counts.messages
    );
    clock.advance(TimeDelta::hours(25));
    let counts = esr.purge(&job, vpd)?;
    println!(
        "  a day later: {} challenges, {} sessions, {} messages removed (audited, counts only)",
        counts.challenges, counts.sessions, counts.messages
    );
    let again = esr.purge(&job, vpd)?;
    println!(
        "  again at once: nothing more ({} removed); the audit trail is kept whole: {} entries",
        again.challenges + again.sessions + again.messages,
        esr.verify_audit(vpd)?.seq
    );
    Ok(())
}

// ----- Authenticator apps ------------------------------------------------------------------------

/// A second ward manager sets up an authenticator app on the NHS network, then upgrades an
/// internet session with a code from it instead of a text; a replayed code and a code from the
/// wrong time step are refused.
fn authenticator_day<S: Store>(
    esr: &Esr<S, ManualClock>,
    clock: &ManualClock,
    t: &esr_examples::BuiltTrust,
) -> Result<(), Error> {
    let Some(manager) = t.ward_managers.get(1) else {
        return Ok(());
    };
    let feed = Actor::system("account set-up")?;
    let pw = Password::new("Ward 2 rota, Tuesday!");
    esr.set_password(&feed, &manager.username, &pw)?;
    heading(&format!(
        "{} ({}) sets up an authenticator app on the NHS network",
        manager.name, manager.username
    ));
    let card = SmartcardAuthentication::verified_by_caller("UUID-WM-0002")?;
    let hscn = esr.log_in_with_smartcard(&manager.username, &card)?;
    let e = esr.enrol_authenticator(hscn.id)?;
    // The URI carries the secret: it is shown only on the person's own screen, so the
    // demonstration prints its label and shape, not the secret.
    let app = Totp::from_uri(e.uri().expose())?;
    println!(
        "  'Manage Internet Access' shows a QR code ({} bytes of SVG, {} bytes of PNG) for {} / {}",
        e.qr_svg()?.len(),
        e.qr_png(6)?.len(),
        app.issuer(),
        app.account()
    );
    let p = e.params();
    println!(
        "  the phone's app reads it: {}, {} digits every {} seconds",
        p.algorithm.as_str(),
        p.digits,
        p.period
    );
    let now = || clock.now().timestamp();
    let out = esr.confirm_authenticator(hscn.id, &app.code_at(now()))?;
    println!("  types the app's first code: {}", out.message());
    esr.log_out(hscn.id)?;

    clock.advance(TimeDelta::hours(2));
    heading("The same manager at home upgrades with the app");
    let web = esr.log_in_with_password(manager.username.to_string().as_str(), &pw)?;
    let factors = esr.second_factors(web.id)?;
    println!(
        "  second factors: mobile {}, authenticator app {}; chooses the app",
        factors.mobile.as_deref().unwrap_or("none"),
        yes(factors.authenticator)
    );
    let code = app.code_at(now());
    println!(
        "  the app shows a code, {} seconds left in its step",
        app.seconds_left(now())
    );
    let out = esr.upgrade_with_authenticator(web.id, &code)?;
    println!("  types it: {}", out.message());
    println!(
        "  after the upgrade, {} functions",
        esr.functions(web.id)?.len()
    );
    let other = esr.log_in_with_password(manager.username.to_string().as_str(), &pw)?;
    let out = esr.upgrade_with_authenticator(other.id, &code)?;
    println!(
        "  a second session replays the same code: {} ({})",
        out.as_str(),
        out.message()
    );
    let ahead = app.code_at(now() + 90);
    let out = esr.upgrade_with_authenticator(other.id, &ahead)?;
    println!(
        "  a code from three steps ahead (a phone clock 90 s fast): {} ({})",
        out.as_str(),
        out.message()
    );
    clock.advance(TimeDelta::seconds(30));
    let out = esr.upgrade_with_authenticator(other.id, &app.code_at(now()))?;
    println!("  the next step's code: {}", out.message());
    esr.log_out(other.id)?;
    esr.log_out(web.id)?;
    Ok(())
}

/// What the phone shows: the newest text to `number`, and the code in it.
fn phone_shows(outbox: &Outbox, number: &str) -> Result<String, Error> {
    let to = number.parse()?;
    let sms = outbox
        .last_sms_to(&to)
        .ok_or(Error::Storage("no text was sent".into()))?;
    println!("  the phone shows: \"{}\"", sms.expose_text());
    phone_shows_quietly(outbox, number)
}

fn phone_shows_quietly(outbox: &Outbox, number: &str) -> Result<String, Error> {
    outbox
        .last_code_to(&number.parse()?)
        .ok_or(Error::Storage("no code was sent".into()))
}

fn describe(out: &VerifyOutcome) -> String {
    match out {
        VerifyOutcome::Approved(Approved::MobileRegistered { masked, .. }) => {
            format!("approved: the number ending {masked} is registered")
        }
        VerifyOutcome::Approved(_) => "approved: this session is upgraded".to_owned(),
        VerifyOutcome::WrongCode { attempts_left } => {
            format!("wrong code, {attempts_left} attempts left")
        }
        other => format!("refused: {}", other.as_str()),
    }
}

fn verify_and_say<S: Store>(
    esr: &Esr<S, ManualClock>,
    session: SessionId,
    c: &PasscodeChallenge,
    code: &str,
    what: &str,
) -> Result<(), Error> {
    let out = esr.verify_passcode(session, &c.id, c.purpose, code)?;
    println!("  types {what} -> {}", describe(&out));
    Ok(())
}

fn yes(b: bool) -> &'static str {
    if b { "Yes" } else { "No" }
}

fn on(b: bool) -> &'static str {
    if b { "Enabled" } else { "Disabled" }
}

// ----- Compliance ------------------------------------------------------------------------------

/// The learning team configures requirements, imports the ESR competence export, a ward manager
/// opens Team Compliance, the trust reads its compliance by subject against its target, and an
/// analyst scores an NHS-scale workforce in bulk.
fn compliance_day<S: Store>(
    esr: &Esr<S, ManualClock>,
    t: &esr_examples::BuiltTrust,
) -> Result<(), Error> {
    use esr_core::{
        compliance::AmberWindow, compliance::CSTF_TITLES, compliance::CompetenceDefinition,
        compliance::CompetenceName, compliance::CompetenceOwner, compliance::ComplianceSettings,
        compliance::Equivalence, compliance::ImportOptions, compliance::Requirement,
        compliance::RequirementTarget, compliance::cstf, compliance::format_percent,
        compliance::score_compliance, compliance::worsening, values::end_of_next_month,
        values::format_esr_date,
    };
    use esr_examples::{WorkforceSpec, generate_workforce};
    use rand_chacha::ChaCha8Rng;
    use rand_core::Rng;

    heading("Compliance: requirements and the ESR competence import");
    let vpd = t.vpd;
    let learning = Actor::system("learning and development team")?;
    esr.set_compliance_settings(
        &learning,
        vpd,
        ComplianceSettings {
            target_percent: 90,
            amber_window: AmberWindow::ESR,
        },
    )?;
    let everyone = RequirementTarget::OrgUnit("Trust Board".parse()?);
    for title in CSTF_TITLES {
        esr.set_requirement(
            &learning,
            Requirement {
                vpd,
                target: everyone.clone(),
                competence: cstf(title)?,
                essential: true,
                min_level: None,
            },
        )?;
    }
    let local = |title: &str| CompetenceName::new(CompetenceOwner::Local(vpd), "LOCAL", title);
    let sepsis = local("Sepsis Awareness - 2 Years")?;
    let adults_l3 = local("Safeguarding Adults - Level 3 - 3 Years")?;
    for c in [&sepsis, &adults_l3] {
        esr.define_competence(&learning, vpd, CompetenceDefinition::from_name(c.clone()))?;
    }
    for job in ["Staff Nurse", "Senior Staff Nurse"] {
        esr.set_requirement(
            &learning,
            Requirement {
                vpd,
                target: RequirementTarget::Job(job.into()),
                competence: sepsis.clone(),
                essential: true,
                min_level: None,
            },
        )?;
    }
    esr.add_equivalence(
        &learning,
        Equivalence {
            vpd,
            held: adults_l3.clone(),
            satisfies: cstf("Safeguarding Adults - Level 1 and Level 2 - 3 Years")?,
        },
    )?;
    println!(
        "  {} requirements: the ten CSTF subjects for everyone, Sepsis Awareness for nurses; \
         Safeguarding Adults Level 3 satisfies Levels 1 and 2; target {}%",
        esr.requirements(vpd)?.len(),
        esr.compliance_settings(vpd)?.target_percent
    );

    // The competence export, as ESR writes it, from a fixed seed.
    let today = esr.uk_today();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut csv = String::from("Employee Number,Competency Name,Expiry Date,VPD\n");
    let mut subjects: Vec<CompetenceName> = CSTF_TITLES
        .iter()
        .map(|t| cstf(t))
        .collect::<Result<_, _>>()?;
    subjects.push(sepsis.clone());
    for m in t.everyone() {
        for (i, c) in subjects.iter().enumerate() {
            let roll = rng.next_u32() % 100;
            if roll < 4 || (i == 10 && roll < 15) {
                continue; // not held
            }
            let c = if i == 8 && roll > 90 { &adults_l3 } else { c };
            let days = i64::from(rng.next_u32() % 1_150) - 150;
            let expiry = today + TimeDelta::days(days);
            csv.push_str(&format!(
                "{},\"{}\",{},{vpd}\n",
                m.employee_number,
                c,
                format_esr_date(expiry)
            ));
        }
    }
    let bad = format!(
        "{csv}99999999,\"{}\",30-Nov-2028,{vpd}\n{},\"{}\",31-Nov-2028,{vpd}\n",
        subjects[0], t.staff[0].employee_number, subjects[1]
    );
    match esr.import_competences(&learning, vpd, bad.as_bytes(), ImportOptions::default()) {
        Err(Error::ImportRejected { problems }) => {
            println!("  an export with two bad rows is refused whole:");
            for p in &problems {
                println!("    {p}");
            }
        }
        other => println!("  unexpectedly: {other:?}"),
    }
    let started = Instant::now();
    let summary =
        esr.import_competences(&learning, vpd, csv.as_bytes(), ImportOptions::default())?;
    println!(
        "  the corrected export: {} competence records imported in {:.0?}",
        summary.imported,
        started.elapsed()
    );

    heading("Team Compliance: a ward manager on the NHS network");
    let manager = &t.ward_managers[0];
    let card = SmartcardAuthentication::verified_by_caller("UUID-WARD-COMPLIANCE")?;
    let hscn = esr.log_in_with_smartcard(&manager.username, &card)?;
    let team = esr.team_compliance(hscn.id, None)?;
    println!(
        "  {} ({}), {} assignments in the team, as of {}",
        manager.name,
        manager.unit,
        team.members.len(),
        format_esr_date(team.as_of)
    );
    let short = |c: &CompetenceName| {
        let t = c.title();
        t.split(" - ").next().unwrap_or(t).to_owned()
    };
    for m in team.members.iter().take(12) {
        let flagged: Vec<String> = m
            .compliance
            .flagged()
            .map(|r| {
                let when = r
                    .holding
                    .expiry()
                    .map(|e| format!(" {}", format_esr_date(e)))
                    .unwrap_or_else(|| " not held".into());
                format!(
                    "{} {}{when}",
                    r.status.map_or("", status_word),
                    short(&r.competence)
                )
            })
            .collect();
        println!(
            "  {:<32} {:>6}  {}",
            m.name.to_string(),
            format_percent(m.compliance.percent()),
            if flagged.is_empty() {
                "all Green".to_owned()
            } else {
                flagged.join("; ")
            }
        );
    }
    if team.members.len() > 12 {
        println!("  … and {} more", team.members.len() - 12);
    }
    let horizon = end_of_next_month(today);
    let later = esr.team_compliance(hscn.id, Some(horizon))?;
    let turning: Vec<_> = team
        .members
        .iter()
        .zip(&later.members)
        .flat_map(|(now, then)| {
            worsening(&now.compliance, &then.compliance)
                .into_iter()
                .map(move |c| (now.name.to_string(), c))
        })
        .collect();
    println!(
        "  by {} (the end of next month) {} rows turn Amber or Red, among them:",
        format_esr_date(horizon),
        turning.len()
    );
    for (name, c) in turning.iter().take(4) {
        println!(
            "    {name}: {} {} -> {} (expires {})",
            short(&c.competence),
            c.from,
            c.to,
            c.expiry.map(format_esr_date).unwrap_or_default()
        );
    }
    esr.log_out(hscn.id)?;

    heading("The trust's compliance by subject, against its target");
    let bi = Actor::system("workforce information")?;
    let report = esr.compliance_report(&bi, vpd, None)?;
    println!(
        "  trust-wide {} of {} essential rows compliant ({}), target {}%",
        report.trust.compliant(),
        report.trust.essential,
        format_percent(report.trust.percent()),
        report.target
    );
    println!(
        "  {:<62} {:>7} {:>6} {:>6}",
        "subject", "percent", "Amber", "Red"
    );
    for r in &report.by_competence {
        let mark = match r.meets_target() {
            Some(true) => "meets target",
            Some(false) => "BELOW TARGET",
            None => "",
        };
        println!(
            "  {:<62} {:>7} {:>6} {:>6}  {mark}",
            r.key.display_name(),
            format_percent(r.percent()),
            r.counts.amber,
            r.counts.red
        );
    }
    let directorates: Vec<_> = report
        .by_unit
        .iter()
        .filter(|r| r.key.as_str().ends_with("Services") || !r.key.as_str().contains("Ward"))
        .collect();
    println!("  by unit:");
    for r in directorates {
        println!(
            "    {:<30} {:>6} of {:>5} essential rows compliant {:>7}",
            r.key.to_string(),
            r.counts.compliant(),
            r.counts.essential,
            format_percent(r.percent())
        );
    }
    let matrix = esr.compliance_matrix(&bi, vpd, None)?;
    println!(
        "  the compliance matrix as CSV: a header and {} assignment lines, a column per competence",
        matrix.lines().count().saturating_sub(1)
    );

    heading("Bulk scoring for analysts: the demo trust itself, then NHS scale");
    // The trust just reported on, as the tables an analyst would export, scored in bulk by the
    // same rules (unit requirements inherited, equivalences, levels): the totals must agree.
    let (bulk, assignments) = score_trust_in_bulk(esr, vpd, &bi, today)?;
    println!(
        "  this trust in bulk: {assignments} assignments, {} of {} essential rows compliant ({}); \
         the service's roll-up: {} of {} ({}): {}",
        bulk.compliant(),
        bulk.essential,
        format_percent(bulk.percent()),
        report.trust.compliant(),
        report.trust.essential,
        format_percent(report.trust.percent()),
        if bulk == report.trust {
            "equal"
        } else {
            "DIFFERENT"
        }
    );
    if bulk != report.trust {
        return Err(Error::BulkInput {
            reason: "the bulk totals differ from the service's roll-up".into(),
        });
    }
    // Full scale in a release build; a twentieth of it in a debug build.
    let people = if cfg!(debug_assertions) {
        70_000
    } else {
        1_400_000
    };
    let spec = WorkforceSpec {
        people,
        ..WorkforceSpec::nhs(2026, today)
    };
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let started = Instant::now();
    let w = generate_workforce(&spec, threads)?;
    let generated = started.elapsed();
    let started = Instant::now();
    let scores = score_compliance(
        w.assignments(),
        w.requirements(),
        w.holdings(),
        today,
        AmberWindow::ESR,
    )?;
    let scored = started.elapsed();
    let sum = |v: &[u32]| v.iter().map(|x| u64::from(*x)).sum::<u64>();
    println!(
        "  {} people, {} assignments, {} holdings generated in {generated:.2?}",
        people,
        w.assignment_id.len(),
        w.holding_person.len()
    );
    println!(
        "  scored in {scored:.2?} on {threads} thread(s): {:.0} million holdings per second; \
         Green {}, Amber {}, Red {}",
        w.holding_person.len() as f64 / scored.as_secs_f64() / 1e6,
        sum(&scores.green),
        sum(&scores.amber),
        sum(&scores.red)
    );
    Ok(())
}

/// Scores a trust of the service in bulk: its people, assignments, requirements (by position,
/// unit and job, with their essential flags and minimum levels), hierarchy, equivalences and
/// records as columns of dense ids, through [`esr_core::compliance::score_compliance_with_rules`].
/// Returns the summed counts and the number of assignments.
fn score_trust_in_bulk<S: Store>(
    esr: &Esr<S, ManualClock>,
    vpd: esr_core::values::VpdCode,
    actor: &Actor,
    as_of: esr_core::chrono::NaiveDate,
) -> Result<(esr_core::compliance::ComplianceCounts, usize), Error> {
    use esr_core::compliance::*;
    let mut ids: BTreeMap<String, i64> = BTreeMap::new();
    let mut id = |kind: &str, s: &str| {
        let n = ids.len() as i64;
        *ids.entry(format!("{kind}\u{1f}{s}")).or_insert(n)
    };
    let (mut a_id, mut a_person, mut a_pos, mut a_unit, mut a_job) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut h_person, mut h_comp, mut h_expiry, mut h_level) = (vec![], vec![], vec![], vec![]);
    for p in esr.people(vpd)? {
        for a in esr.assignments_of(vpd, &p.employee_number)? {
            a_id.push(id("assignment", a.number.as_str()));
            a_person.push(id("person", p.employee_number.as_str()));
            a_pos.push(id("position", a.position.as_str()));
            a_unit.push(id("unit", a.org_unit.as_str()));
            a_job.push(id("job", &a.title));
        }
        for r in esr.competence_records(actor, vpd, &p.employee_number)? {
            h_person.push(id("person", p.employee_number.as_str()));
            h_comp.push(id("competence", r.competence.as_str()));
            h_expiry.push(match r.expiry {
                Some(d) => days_since_epoch(d)?,
                None => NO_EXPIRY,
            });
            h_level.push(r.level.rank());
        }
    }
    // Position, unit and job requirements: (target, competence, essential, minimum level).
    let mut reqs: [Table; 3] = Default::default();
    for r in esr.requirements(vpd)? {
        let (k, target) = match &r.target {
            RequirementTarget::Position(p) => (0, id("position", p.as_str())),
            RequirementTarget::OrgUnit(u) => (1, id("unit", u.as_str())),
            RequirementTarget::Job(j) => (2, id("job", j)),
        };
        reqs[k].0.push(target);
        reqs[k].1.push(id("competence", r.competence.as_str()));
        reqs[k].2.push(r.essential);
        reqs[k].3.push(r.min_level.as_ref().map_or(0, |l| l.rank()));
    }
    let (mut units, mut parents) = (vec![], vec![]);
    for u in esr.trust(vpd)?.org_units.values() {
        let me = id("unit", u.id.as_str());
        units.push(me);
        parents.push(u.parent.as_ref().map_or(me, |p| id("unit", p.as_str())));
    }
    let (mut held, mut satisfies) = (vec![], vec![]);
    for e in esr.equivalences(vpd)? {
        held.push(id("competence", e.held.as_str()));
        satisfies.push(id("competence", e.satisfies.as_str()));
    }
    type Table = (Vec<i64>, Vec<i64>, Vec<bool>, Vec<u8>);
    fn target(r: &Table) -> TargetRequirementColumns<'_, i64> {
        TargetRequirementColumns {
            target_id: &r.0,
            competency_id: &r.1,
            essential: Some(&r.2),
            min_level: Some(&r.3),
        }
    }
    let scores = score_compliance_with_rules(
        AssignmentColumns {
            assignment_id: &a_id,
            person_id: &a_person,
            position_id: &a_pos,
        },
        RequirementColumns {
            position_id: &reqs[0].0,
            competency_id: &reqs[0].1,
        },
        HoldingColumns {
            person_id: &h_person,
            competency_id: &h_comp,
            expiry: &h_expiry,
            expiry_validity: None,
            level: Some(&h_level),
        },
        &BulkRules {
            assignment_org_unit: Some(&a_unit),
            assignment_job: Some(&a_job),
            position_requirements: RequirementOptions {
                essential: Some(&reqs[0].2),
                min_level: Some(&reqs[0].3),
            },
            org_unit_requirements: Some(target(&reqs[1])),
            job_requirements: Some(target(&reqs[2])),
            org_units: Some(OrgUnitColumns {
                org_unit_id: &units,
                parent_id: &parents,
                parent_validity: None,
            }),
            equivalences: Some(EquivalenceColumns {
                competency_id: &held,
                satisfies_competency_id: &satisfies,
            }),
        },
        as_of,
        esr.compliance_settings(vpd)?.amber_window,
        std::num::NonZeroUsize::MIN,
    )?;
    let mut total = ComplianceCounts::default();
    for i in 0..scores.len() {
        total.merge(&ComplianceCounts {
            essential: scores.required[i],
            green: scores.green[i],
            amber: scores.amber[i],
            red: scores.red[i],
        });
    }
    Ok((total, scores.len()))
}

fn status_word(s: esr_core::compliance::ComplianceStatus) -> &'static str {
    match s {
        esr_core::compliance::ComplianceStatus::Red => "RED",
        esr_core::compliance::ComplianceStatus::Amber => "Amber",
        esr_core::compliance::ComplianceStatus::Green => "Green",
        esr_core::compliance::ComplianceStatus::Blue => "Blue",
    }
}

// ----- Certifications and enrolment ------------------------------------------------------------

/// One member of staff fixes a Red Conflict Resolution row: Find Learning, subscribe, enrol in
/// each component, play (with progress saved, a failed eAssessment and a retry) and pass, and
/// My Compliance turns the row Green at once. Generic over the store, like the rest of the day.
fn learning_day<S: esr_core::Store, C: esr_core::Clock>(
    esr: &Esr<S, C>,
    t: &esr_examples::BuiltTrust,
) -> Result<(), Error> {
    use esr_core::{
        compliance::CompetenceLevel, compliance::ComplianceStatus, compliance::PersonCompliance,
        compliance::cstf, compliance::format_percent, learning::Certification,
        learning::CompletionRule, learning::Component, learning::ComponentKind,
        learning::ExpiryBase, learning::LearningOutcome, learning::PlayResult, learning::Renewal,
        values::format_esr_date,
    };

    heading("Certifications: a Red Conflict Resolution row turns Green");
    let vpd = t.vpd;
    let today = esr.uk_today();
    let learning = Actor::system("learning and development team")?;
    let competence = cstf("NHS Conflict Resolution (England) - 3 Years")?;
    let name = "297 Core Skills - NHS Conflict Resolution - 3 Years";
    let part = |p: &str| format!("297 NHS Conflict Resolution - {p}");
    let component = |p: &str, kind| Component {
        course: part(p),
        kind,
        classes: vec!["e-Learning".into()],
    };
    esr.define_certification(
        &learning,
        Certification {
            vpd,
            name: name.into(),
            competence: competence.clone(),
            level: CompetenceLevel::assessed(),
            validity_days: 1095,
            completion_window_days: 1095,
            renewal: Some(Renewal {
                window_days: 90,
                base: ExpiryBase::PreviousExpiry,
            }),
            mandatory: true,
            components: vec![
                component("Part 1", ComponentKind::Course),
                component("Part 2", ComponentKind::Course),
                component("eAssessment", ComponentKind::EAssessment),
            ],
            completion_rule: CompletionRule::AllComponents,
        },
    )?;

    // Someone whose Conflict Resolution record has lapsed (or was never held) and whose other
    // core skills are in date: the 90% of the user guide's screenshots.
    let valid = |r: &esr_core::compliance::CompetenceRecord| r.expiry.is_none_or(|e| e >= today);
    let mut learner = None;
    for m in &t.staff {
        let records = esr.competence_records(&learning, vpd, &m.employee_number)?;
        let holds = |c: &esr_core::compliance::CompetenceName| {
            records.iter().any(|r| &r.competence == c && valid(r))
        };
        let others = esr_core::compliance::CSTF_TITLES
            .iter()
            .filter_map(|t| cstf(t).ok())
            .filter(|c| *c != competence)
            .all(|c| holds(&c));
        let sepsis = records
            .iter()
            .any(|r| r.competence.title().starts_with("Sepsis") && valid(r));
        if !holds(&competence) && others && sepsis {
            learner = Some(m);
            break;
        }
    }
    let learner = learner.ok_or(Error::Storage(
        "nobody lacks only Conflict Resolution; change the seed".into(),
    ))?;
    let card = SmartcardAuthentication::verified_by_caller("UUID-LEARNER-0001")?;
    let session = esr.log_in_with_smartcard(&learner.username, &card)?;
    let me = Actor::Session(session.id);
    let emp = &learner.employee_number;
    let show = |title: &str, c: &PersonCompliance| {
        println!("  {title}: {} ({})", learner.name, learner.username);
        for a in &c.assignments {
            println!(
                "    {} - {}   Compliance Percentage {}",
                a.assignment,
                a.title,
                format_percent(a.percent())
            );
            for r in a.required_only() {
                let mark = match r.status {
                    Some(ComplianceStatus::Red) => "RED",
                    Some(s) if r.competence == competence => {
                        if s == ComplianceStatus::Green {
                            "Green <-"
                        } else {
                            "Amber <-"
                        }
                    }
                    _ => "",
                };
                if r.competence == competence || !mark.is_empty() {
                    println!(
                        "      {:<62} {:>11}  {}",
                        r.competence.display_name(),
                        r.holding
                            .expiry()
                            .map(format_esr_date)
                            .unwrap_or_else(|| "not held".into()),
                        mark
                    );
                }
            }
        }
    };
    show(
        "My Compliance before",
        &esr.my_compliance(session.id, None)?,
    );

    println!("\n  plays Part 1 straight from the catalogue, before subscribing:");
    if let LearningOutcome::NotRecorded(why) =
        esr.record_learning(&me, vpd, emp, &part("Part 1"), PlayResult::Completed)?
    {
        println!("    not recorded against any certification: {why}");
    }

    println!("  Find Learning for {}:", competence.display_name());
    for c in esr.certifications_for(vpd, &competence)? {
        println!(
            "    {}   valid {} Day(s)   {}   renewable: {}",
            c.name,
            c.validity_days,
            c.level,
            if c.renewal.is_some() { "Yes" } else { "No" }
        );
    }
    let sub = esr.subscribe(&me, vpd, emp, name)?;
    println!(
        "  Subscribe -> Finish: complete by {}",
        format_esr_date(sub.due)
    );
    for p in ["Part 1", "Part 2", "eAssessment"] {
        esr.enrol(&me, vpd, emp, name, &part(p), "e-Learning")?;
    }
    let components = |title: &str| -> Result<(), Error> {
        println!("  {title}:");
        for v in esr.subscriptions(&me, vpd, emp)? {
            if v.subscription.certification != name {
                continue;
            }
            for e in &v.enrolments {
                println!(
                    "    {:<44} {:<10} {:<14} {}",
                    e.course,
                    e.status.to_string(),
                    e.performance.to_string(),
                    e.score.map(|s| format!("score {s}%")).unwrap_or_default()
                );
            }
            println!("    subscription: {}", v.status);
        }
        Ok(())
    };
    components("Components, enrolled in the e-Learning class")?;

    let play = |p: &str,
                r: PlayResult,
                what: &str|
     -> Result<Option<esr_core::compliance::CompetenceRecord>, Error> {
        let out = esr.play(&me, vpd, emp, name, &part(p), r)?;
        println!("    {p:<12} {what:<38} -> {}", out.enrolment.performance);
        Ok(out.awarded)
    };
    println!("  Play:");
    play(
        "Part 1",
        PlayResult::Progress(60),
        "Home icon at 60%: progress saved",
    )?;
    play("Part 1", PlayResult::Completed, "resumes and finishes")?;
    play("Part 2", PlayResult::Completed, "finishes")?;
    if let Err(e) = esr.play(
        &me,
        vpd,
        emp,
        name,
        &part("eAssessment"),
        PlayResult::Completed,
    ) {
        println!("    eAssessment  views every page, answers nothing      -> refused:\n      {e}");
    }
    play("eAssessment", PlayResult::Failed(60), "scores 60%")?;
    let awarded = play(
        "eAssessment",
        PlayResult::Passed(85),
        "retries and scores 85%",
    )?;
    if let Some(r) = awarded {
        println!(
            "  certification complete: {} awarded at {}, achieved {}, expires {}",
            r.competence.display_name(),
            r.level,
            format_esr_date(r.achieved),
            r.expiry.map(format_esr_date).unwrap_or_default()
        );
    }
    components("Components")?;
    show("My Compliance after", &esr.my_compliance(session.id, None)?);
    if let Err(e) = esr.enrol(&me, vpd, emp, name, &part("Part 1"), "e-Learning") {
        println!("  enrolling again at once: {e}");
    }
    println!("  My e-Learning (mandatory only, most recent first):");
    for e in esr.my_elearning(session.id, true)? {
        println!("    {:<44} Status: {}", e.course, e.performance);
    }
    esr.log_out(session.id)?;
    Ok(())
}

// ----- Notifications and approvals (wf-notify) -----

/// Notifications and approvals: a delegated administrator's change held for the line
/// manager, a payroll change held for the manager's own line manager, and what each channel
/// shows of a worklist.
fn notifications_day<S: esr_core::Store, C: esr_core::Clock>(
    esr: &Esr<S, C>,
    t: &esr_examples::BuiltTrust,
) -> Result<(), Error> {
    use esr_core::notify::{
        ChangeOutcome, NotificationAction, NotificationFilter, NotificationType, ProposedChange,
        notification_visibility,
    };
    use esr_core::urp::{Approval, GrantRequest, GrantScope};

    heading("Notifications: a change held for the line manager's approval");
    let vpd = t.vpd;
    let hscn = |m: &esr_examples::Member| -> Result<SessionId, Error> {
        let card = SmartcardAuthentication::verified_by_caller(&format!("UUID-{}", m.username))?;
        Ok(esr.log_in_with_smartcard(&m.username, &card)?.id)
    };
    let member = |e: &esr_core::EmployeeNumber| {
        t.everyone()
            .find(|m| m.employee_number == *e)
            .ok_or_else(|| Error::Storage("someone built is missing".into()))
    };
    // A member of the directorate's HR office is made a delegated administrator (Approvals
    // Required) for the first ward's directorate, by a user administrator on the NHS network.
    let admin1 = &t.user_admins[0];
    let admin2 = &t.staff[1];
    let subject = &t.staff[0];
    let directorate = esr
        .trust(vpd)?
        .org_units
        .get(&subject.unit)
        .and_then(|u| u.parent.clone())
        .unwrap_or_else(|| subject.unit.clone());
    esr.grant_urp(
        hscn(admin1)?,
        GrantRequest {
            holder: admin2.username.clone(),
            urp: Urp::AdministratorSelfServiceApprovalsRequired,
            scope: GrantScope::OrgUnits([directorate.clone()].into()),
            approval: Approval::CaldicottException {
                approved_by: t.caldicott_guardian.employee_number.clone(),
                reference: "CG-2026-014".into(),
            },
            reason: "covers the directorate's HR office".into(),
        },
    )?;
    let change = ProposedChange::Details {
        given_name: None,
        family_name: Some("Okafor-Lindqvist".into()),
        recruitment_email: None,
    };
    let ChangeOutcome::Held(held) =
        esr.request_change(hscn(admin2)?, &subject.employee_number, change)?
    else {
        return Err(Error::Storage("the change was expected to be held".into()));
    };
    let manager = member(&held.approver)?;
    println!(
        "  {} asks to change {}'s surname ({directorate}): held for {} until {}",
        admin2.name,
        subject.name,
        manager.name,
        held.expires_at.format("%d-%b-%Y")
    );
    let m = hscn(manager)?;
    println!(
        "  {} has {} open notification(s):",
        manager.name,
        esr.notification_count(m)?
    );
    let items = esr.notifications(
        m,
        NotificationFilter {
            open_only: true,
            kind: Some(NotificationType::RecordChangeToApprove),
        },
    )?;
    for i in &items {
        println!(
            "    [{}] {} - actions {:?}",
            i.notification.kind.kind_type(),
            i.notification.about,
            i.actions
        );
    }
    if let Some(i) = items.first() {
        esr.act_on_notification(m, i.notification.id, NotificationAction::Approve)?;
        println!(
            "  approved on the NHS network: surname now {}",
            esr.person(vpd, &subject.employee_number)?.name.family
        );
        if let Err(e) = esr.act_on_notification(m, i.notification.id, NotificationAction::Approve) {
            println!("  approving it again: {e}");
        }
    }

    heading("Approvals: a payroll change held for the manager's own line manager");
    let ward_manager = &t.ward_managers[0];
    let their_assignment = esr
        .assignments_of(vpd, &ward_manager.employee_number)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::Storage("a ward manager without an assignment".into()))?;
    let supervisor = their_assignment
        .supervisor
        .clone()
        .ok_or_else(|| Error::Storage("a ward manager without a supervisor".into()))?;
    let director_number = esr
        .store()
        .transaction(|tx| tx.assignment(vpd, &supervisor))?
        .map(|a| a.employee_number)
        .ok_or_else(|| Error::Storage("a missing supervisor".into()))?;
    let director = member(&director_number)?;
    let hours = ProposedChange::Hours {
        assignment: their_assignment.number.clone(),
        weekly_minutes: 30 * 60,
    };
    match esr.request_change(hscn(director)?, &ward_manager.employee_number, hours)? {
        ChangeOutcome::Held(c) => {
            let approver = member(&c.approver)?;
            println!(
                "  {} (Manager Self Service, Payroll Approvals Required) cuts {}'s hours to 30 a week: held for {}",
                director.name, ward_manager.name, approver.name
            );
            let a = hscn(approver)?;
            if let Some(i) = esr
                .notifications(a, NotificationFilter::default())?
                .into_iter()
                .find(|i| !i.actions.is_empty())
            {
                esr.act_on_notification(
                    a,
                    i.notification.id,
                    NotificationAction::Reject {
                        reason: "the ward's establishment needs 37.5 hours".into(),
                    },
                )?;
            }
            println!(
                "  {} rejects it: the change is {}; hours still {:?}",
                approver.name,
                esr.pending_change(a, c.id)?.status,
                esr.assignments_of(vpd, &ward_manager.employee_number)?[0].weekly_minutes
            );
        }
        ChangeOutcome::Applied => println!("  applied at once"),
    }

    heading("What each channel shows of a worklist (seed 002)");
    let settings = esr.trust(vpd)?.settings;
    println!(
        "  {:<30} {:<12} {:<12} upgraded internet",
        "kind", "HSCN", "internet"
    );
    for k in NotificationType::ALL {
        let show = |c, up| notification_visibility(c, up, k, &settings).to_string();
        println!(
            "  {:<30} {:<12} {:<12} {}",
            k.name(),
            if show(Channel::Hscn, false).starts_with("viewable") {
                "act"
            } else {
                "count"
            },
            if show(Channel::Internet, false).starts_with("viewable") {
                "act"
            } else {
                "count"
            },
            if show(Channel::Internet, true).starts_with("viewable") {
                "act"
            } else {
                "count"
            },
        );
    }
    Ok(())
}

// ----- Workflows: access requests, competences awaiting approval, the URP review ----------------

/// An HSCN (smartcard) session of `who`, for the workflow sections.
fn smartcard<S: Store, C: esr_core::Clock>(
    esr: &Esr<S, C>,
    who: &esr_examples::Member,
) -> Result<SessionId, Error> {
    let card = SmartcardAuthentication::verified_by_caller(&format!("UUID-{}", who.username))?;
    Ok(esr.log_in_with_smartcard(&who.username, &card)?.id)
}

/// A ward nurse and their ward manager.
fn nurse_and_manager(
    t: &esr_examples::BuiltTrust,
    index: usize,
) -> Result<(&esr_examples::Member, &esr_examples::Member), Error> {
    let nurse = &t.staff[index];
    let manager = t
        .ward_managers
        .iter()
        .find(|m| m.unit == nurse.unit)
        .ok_or(Error::Storage("a ward without a manager".into()))?;
    Ok((nurse, manager))
}

fn access_requests_day<S: Store, C: esr_core::Clock>(
    esr: &Esr<S, C>,
    t: &esr_examples::BuiltTrust,
) -> Result<(), Error> {
    use esr_core::urp::{NewAccessRequest, Prerequisite};
    heading("Access requests: a OneForm for Manager Self Service");
    let vpd = t.vpd;
    let (nurse, manager) = nurse_and_manager(t, 61)?;
    let desk = Actor::system("service desk portal")?;
    let r = esr.request_access(
        &desk,
        NewAccessRequest::new(
            nurse.username.clone(),
            Urp::ManagerSelfServicePayrollApprovalsRequired,
            "acting ward manager from 1 December",
        ),
    )?;
    println!(
        "  {} asks for {} (request {}): {}, expires {}",
        nurse.name,
        r.urp,
        &r.id.to_string()[..8],
        r.status_at(r.raised_at),
        r.expires_at.format("%d-%b-%Y")
    );
    let m = smartcard(esr, manager)?;
    let waiting = esr.access_requests_to_authorise(m)?;
    println!(
        "  {} has {} request(s) to authorise",
        manager.name,
        waiting.len()
    );
    let stranger = smartcard(esr, &t.staff[t.staff.len() - 2])?;
    if let Err(e) = esr.authorise_access_request(stranger, &r.id) {
        println!("  someone else tries: {e}");
    }
    esr.authorise_access_request(m, &r.id)?;
    println!("  {} authorises it", manager.name);
    let admin = smartcard(esr, &t.user_admins[0])?;
    if let Err(e) = esr.grant_access_request(admin, &r.id) {
        println!("  the user administrator tries to grant it: {e}");
    }
    let finance = Actor::system("finance AS number feed")?;
    esr.record_access_prerequisite(&finance, vpd, &r.id, Prerequisite::AsNumber, "AS20417")?;
    println!("  Finance sets up the AS number");
    let g = esr.grant_access_request(admin, &r.id)?;
    println!(
        "  granted: {} to {}, approval: {}",
        g.urp, g.holder, g.approval
    );

    heading("Access requests: an exception for the Caldicott guardian");
    esr.set_caldicott_guardian(
        &Actor::Session(admin),
        vpd,
        Some(t.caldicott_guardian.employee_number.clone()),
    )?;
    let (other, other_manager) = nurse_and_manager(t, 95)?;
    let r = esr.request_access(
        &desk,
        NewAccessRequest::new(
            other.username.clone(),
            Urp::LocalHrAdministration,
            "HR audit cover",
        )
        .as_exception("no HR post holder on the ward this month"),
    )?;
    let om = smartcard(esr, other_manager)?;
    if let Err(e) = esr.authorise_access_request(om, &r.id) {
        println!("  the line manager tries: {e}");
    }
    let g = smartcard(esr, &t.caldicott_guardian)?;
    let r = esr.reject_access_request(g, &r.id, "HR cover comes from the HR team")?;
    println!(
        "  {} (Caldicott guardian) decides: {}",
        t.caldicott_guardian.name,
        r.status_at(r.raised_at)
    );
    Ok(())
}

fn competence_claims_day<S: Store, C: esr_core::Clock>(
    esr: &Esr<S, C>,
    t: &esr_examples::BuiltTrust,
) -> Result<(), Error> {
    use esr_core::compliance::{
        CompetenceLevel, ComplianceStatus, NewCompetenceRecord, RecordExpiry, cstf, format_percent,
    };
    heading("Competences awaiting approval: training at a previous trust");
    let (nurse, manager) = nurse_and_manager(t, 77)?;
    let n = smartcard(esr, nurse)?;
    let mine = esr.my_compliance(n, None)?;
    let before = mine.percent();
    let today = esr.uk_today();
    // A subject the nurse is Red on, trained for at their previous trust.
    let fire = mine
        .assignments
        .iter()
        .flat_map(|a| a.rows.iter())
        .find(|r| r.is_required() && r.status == Some(ComplianceStatus::Red))
        .map_or_else(
            || cstf("Fire Safety - 1 Year"),
            |r| Ok(r.competence.clone()),
        )?;
    let claim = esr.claim_competence(
        n,
        NewCompetenceRecord {
            competence: fire.clone(),
            achieved: today - TimeDelta::days(40),
            expiry: RecordExpiry::Refresher,
            level: CompetenceLevel::default(),
        },
        "trained at Gateshead Health, certificate 4471",
    )?;
    let waiting =
        esr.competences_awaiting_approval(&Actor::Session(n), t.vpd, &nurse.employee_number)?;
    println!(
        "  {} records {} themselves: {} awaiting approval; compliance {} -> {}",
        nurse.name,
        fire,
        waiting.len(),
        format_percent(before),
        format_percent(esr.my_compliance(n, None)?.percent())
    );
    if let Err(e) = esr.approve_competence_claim(n, &claim.id) {
        println!("  approving it themselves: {e}");
    }
    let m = smartcard(esr, manager)?;
    esr.approve_competence_claim(m, &claim.id)?;
    println!(
        "  {} approves it: compliance now {}",
        manager.name,
        format_percent(esr.my_compliance(n, None)?.percent())
    );
    let second = esr.claim_competence(
        n,
        NewCompetenceRecord {
            competence: cstf("Information Governance - 1 Year")?,
            achieved: today - TimeDelta::days(400),
            expiry: RecordExpiry::Refresher,
            level: CompetenceLevel::default(),
        },
        "no certificate",
    )?;
    let rejected =
        esr.reject_competence_claim(m, &second.id, "no evidence: book the e-learning")?;
    println!("  a second claim: {}", rejected.state);
    Ok(())
}

fn urp_review_day<S: Store>(
    esr: &Esr<S, ManualClock>,
    t: &esr_examples::BuiltTrust,
    clock: &ManualClock,
) -> Result<(), Error> {
    use esr_core::urp::{UrpReviewStatus, is_extra_access};
    heading("The six-monthly URP review");
    let vpd = t.vpd;
    let status: UrpReviewStatus = esr.urp_review_status(&Actor::system("demo")?, vpd)?;
    println!("  now: {}", status.describe());
    clock.advance(TimeDelta::days(190));
    let a = smartcard(esr, &t.user_admins[0])?;
    let b = smartcard(esr, &t.user_admins[1])?;
    let status = esr.urp_review_status(&Actor::Session(a), vpd)?;
    println!("  six months and a week later: {}", status.describe());
    let rows = esr.urp_audit_report(&Actor::Session(a), vpd)?;
    let overdue = rows
        .iter()
        .filter(|r| r.review.starts_with("OVERDUE"))
        .count();
    println!("  the URP audit report marks {overdue} grant(s) overdue for review");
    let review = esr.open_urp_review(a)?;
    println!(
        "  {} opens the review: {} grants beyond Employee Self Service",
        t.user_admins[0].name,
        review.items.len()
    );
    let mut revoked = 0;
    for (i, item) in review.items.iter().enumerate() {
        // Nobody reviews their own grant: the other administrator decides it.
        let who = if item.holder == t.user_admins[0].username {
            b
        } else {
            a
        };
        if item.urp == Urp::LocalHrmsSystemsAndUserAdministration
            && who == a
            && let Err(e) = esr.revoke_urp_in_review(a, &review.id, &item.grant, "tidy up")
        {
            println!("  revoking {}'s {}: {e}", item.holder, item.urp);
        }
        if i % 25 == 24
            && is_extra_access(item.urp)
            && item.urp != Urp::LocalHrmsSystemsAndUserAdministration
        {
            esr.revoke_urp_in_review(who, &review.id, &item.grant, "no longer in post")?;
            revoked += 1;
        } else {
            esr.confirm_urp_grant(who, &review.id, &item.grant)?;
        }
    }
    let status = esr.urp_review_status(&Actor::Session(a), vpd)?;
    println!(
        "  every grant decided ({revoked} revoked): last completed {}, next {}",
        status
            .last_completed
            .map(|t| t.format("%d-%b-%Y").to_string())
            .unwrap_or_default(),
        status.describe()
    );
    Ok(())
}
