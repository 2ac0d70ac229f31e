//! A soak of manager upgrades: each cycle a ward manager logs in over the internet, asks for
//! an upgrade code, types it and logs out, the clock moving 4.32 seconds (a trust of 10,000
//! managers upgrading twice a day). With retention on, every simulated hour it does what an
//! embedder keeping the store for years would: `purge` with the default policy (1 day), then
//! `checkpoint` the audit trail and `archive_before` that checkpoint, the archive written to a
//! writer that counts its bytes and discards them (an embedder would keep the file elsewhere).
//! Every `cycles / 20` cycles it prints the process's resident memory (from
//! `/proc/self/statm`), on SQLite the database file's size (with its WAL), and the audit
//! entries in the live store.
//!
//! `cargo run --release -p esr-examples --example soak -- CYCLES memory|sqlite retention|none`
//!
//! Without retention nothing is purged or archived, so everything grows: the figures show
//! what retention removes.

use esr_core::audit::{AuditKey, AuditKeys};
use esr_core::chrono::{TimeDelta, TimeZone, Utc};
use esr_core::passcode::{PasscodeKey, PasscodeKeys, SmsMessage, SmsSender};
use esr_core::people::{Password, PasswordHashing};
use esr_core::{
    Actor, Clock, Config, Error, Esr, InMemoryStore, ManualClock, Store,
    access::SmartcardAuthentication, org::TrustSettings, org::UpgradeAccess,
};
use esr_examples::{TrustSpec, build_trust};
use esr_sqlite::SqliteStore;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A gateway that keeps only the last code sent to each number.
#[derive(Default)]
struct Phones(Mutex<HashMap<String, String>>);

impl SmsSender for Phones {
    fn send_sms(&self, m: &SmsMessage) -> Result<(), String> {
        let code: String = m
            .expose_text()
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(char::is_ascii_digit)
            .collect();
        self.0
            .lock()
            .map_err(|_| "poisoned".to_owned())?
            .insert(m.to().expose_e164().to_owned(), code);
        Ok(())
    }
}

impl Phones {
    fn code(&self, e164: &str) -> Result<String, Error> {
        self.0
            .lock()
            .map_err(|_| Error::Storage("poisoned".into()))?
            .get(e164)
            .cloned()
            .ok_or_else(|| Error::Storage("no code was texted".into()))
    }
}

/// Resident memory in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4)
}

/// Where the archive goes: counted and discarded.
#[derive(Default)]
struct Counted(u64);

impl std::io::Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn file_kib(path: &std::path::Path) -> u64 {
    let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    (size(path) + size(std::path::Path::new(&wal))) / 1024
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let cycles: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let sqlite = args.get(2).is_some_and(|s| s == "sqlite");
    let retention = args.get(3).is_none_or(|s| s != "none");
    let r = if sqlite {
        let dir = std::env::temp_dir().join(format!("esr-soak-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("soak.db");
        let r =
            SqliteStore::open(&path).and_then(|s| soak(s, cycles, retention, Some(path.as_path())));
        let _ = std::fs::remove_dir_all(&dir);
        r
    } else {
        soak(InMemoryStore::new(), cycles, retention, None)
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("soak failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn soak<S: Store>(
    store: S,
    cycles: u64,
    retention: bool,
    path: Option<&std::path::Path>,
) -> Result<(), Error> {
    let clock = ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 23, 7, 0, 0)
            .single()
            .ok_or(Error::Storage("bad start time".into()))?,
    );
    let phones = Arc::new(Phones::default());
    let esr = Esr::with_rng(store, clock.clone(), ChaCha20Rng::seed_from_u64(18))
        .with_config(Config {
            password_hashing: PasswordHashing::insecure_fast_for_tests(),
            ..Config::default()
        })?
        .with_passcode_keys(PasscodeKeys::new(PasscodeKey::new(
            "soak",
            b"key-18-abcdefghijklmnopqrstuvwxy",
        )?))
        .with_sms_sender(phones.clone())
        .with_audit_keys(AuditKeys::new(AuditKey::new(
            "soak-audit",
            b"an-audit-key-18-0123456789abcdef",
        )?));
    let spec = TrustSpec {
        vpd: "297".parse()?,
        name: "Soak Trust".into(),
        ward_staff: 200,
        ward_size: 2,
        seed: 18,
    };
    let t = build_trust(
        &esr,
        &spec,
        TrustSettings {
            automatic_internet_access: true,
            upgrade_access: UpgradeAccess {
                manager: true,
                professional: false,
            },
            ..TrustSettings::default()
        },
    )?;
    let vpd = t.vpd;
    let system = Actor::system("soak")?;
    let pw = Password::new("Ward rota, Monday!");
    // Each manager: a password and a mobile number, registered by texted code.
    let mut managers = Vec::new();
    for (i, m) in t.ward_managers.iter().enumerate() {
        esr.set_password(&system, &m.username, &pw)?;
        let number = format!("07700 900{i:03}");
        let card = SmartcardAuthentication::verified_by_caller(&format!("CARD-{i}"))?;
        let hscn = esr.log_in_with_smartcard(&m.username, &card)?;
        let c = esr.request_mobile_code(hscn.id, &number)?;
        let e164 = format!("+447700900{i:03}");
        let code = phones.code(&e164)?;
        esr.verify_passcode(hscn.id, &c.id, c.purpose, &code)?;
        esr.log_out(hscn.id)?;
        managers.push((m.username.to_string(), e164));
    }
    clock.advance(TimeDelta::minutes(10));
    println!(
        "soak: {cycles} upgrade cycles, {} managers, {}, retention {}",
        managers.len(),
        if path.is_some() {
            "SQLite"
        } else {
            "in memory"
        },
        if retention {
            "on (hourly: purge with the default 1 day, checkpoint and archive the audit trail)"
        } else {
            "off"
        }
    );
    println!(
        "{:>10} {:>8} {:>10} {:>12} {:>10} {:>8}",
        "cycle", "day", "RSS KiB", "SQLite KiB", "audit", "cyc/s"
    );
    let step = (cycles / 20).max(1);
    let started = Instant::now();
    let mut last_purge = clock.now();
    let mut purged = 0u64;
    let mut archive = Counted::default();
    let mut archived = 0u64;
    let mut window = Instant::now();
    for n in 1..=cycles {
        clock.advance(TimeDelta::milliseconds(4_320));
        let (user, e164) = &managers[(n as usize) % managers.len()];
        let web = esr.log_in_with_password(user, &pw)?;
        let c = esr.request_upgrade_code(web.id)?;
        let code = phones.code(e164)?;
        let out = esr.verify_passcode(web.id, &c.id, c.purpose, &code)?;
        if !out.is_approved() {
            return Err(Error::Storage(format!("cycle {n}: {out:?}")));
        }
        esr.log_out(web.id)?;
        if retention && clock.now() - last_purge >= TimeDelta::hours(1) {
            let counts = esr.purge(&system, vpd)?;
            purged += counts.challenges + counts.sessions + counts.messages;
            let checkpoint = esr.checkpoint(&system, vpd)?;
            archived += esr
                .archive_before(&system, vpd, &checkpoint, &mut archive)?
                .entries;
            last_purge = clock.now();
        }
        if n % step == 0 || n == cycles {
            let audit = esr.store().read(|tx| {
                let first = tx.audit_entries(vpd, 1, 1)?.first().map_or(1, |e| e.seq);
                Ok(tx.audit_head(vpd)?.seq + 1 - first)
            })?;
            let rate = step as f64 / window.elapsed().as_secs_f64();
            window = Instant::now();
            println!(
                "{n:>10} {:>8.2} {:>10} {:>12} {:>10} {:>8.0}",
                (n as f64 * 4.32) / 86_400.0,
                rss_kib(),
                path.map_or("-".to_owned(), |p| file_kib(p).to_string()),
                audit,
                rate
            );
        }
    }
    println!(
        "done in {:.1?}; {purged} records purged, {archived} audit entries archived ({} KiB)",
        started.elapsed(),
        archive.0 / 1024
    );
    Ok(())
}
