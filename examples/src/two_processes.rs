//! Two processes on one SQLite file (issue 18): process A imports a large competence export and
//! reads the whole audit trail in a loop, while process B issues and verifies passcodes. Shared
//! by the `two_processes` example (which prints B's rate and latencies alone and beside A) and
//! by the test that checks B sees no error.

use crate::{TrustSpec, build_trust};
use esr_core::chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use esr_core::{
    Actor, Clock, Config, Esr, ManualClock, Result, SessionId, Store, StoreTx, Username, VpdCode,
    access::SmartcardAuthentication, compliance::CSTF_TITLES, compliance::ImportOptions,
    org::TrustSettings, passcode::Outbox, passcode::PasscodeKey, passcode::PasscodeKeys,
    passcode::PasscodePolicy, people::PasswordHashing,
};
use esr_sqlite::{SqliteConfig, SqliteStore};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The trust both processes use.
pub fn vpd() -> VpdCode {
    VpdCode::try_from("297").unwrap_or_else(|_| unreachable!("297 is a VPD code"))
}

/// A store that times its write transactions: from asking for the write lock to commit.
#[derive(Debug)]
pub struct Timed<S> {
    inner: S,
    longest: Mutex<Duration>,
}

impl<S> Timed<S> {
    /// `inner`, timed.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            longest: Mutex::new(Duration::ZERO),
        }
    }
    /// The longest write transaction so far.
    pub fn longest(&self) -> Duration {
        *self.longest.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S: Store> Store for Timed<S> {
    fn transaction<R>(&self, f: impl FnMut(&mut dyn StoreTx) -> Result<R>) -> Result<R> {
        let start = Instant::now();
        let out = self.inner.transaction(f);
        let took = start.elapsed();
        let mut l = self.longest.lock().unwrap_or_else(PoisonError::into_inner);
        *l = (*l).max(took);
        out
    }
    fn read<R>(&self, f: impl FnMut(&dyn StoreTx) -> Result<R>) -> Result<R> {
        self.inner.read(f)
    }
}

fn service<S: Store>(
    store: S,
    clock: ManualClock,
    seed: u64,
) -> Result<(Esr<S, ManualClock>, Arc<Outbox>)> {
    let outbox = Arc::new(Outbox::new());
    let esr = Esr::with_rng(store, clock, ChaCha20Rng::seed_from_u64(seed))
        .with_config(Config {
            password_hashing: PasswordHashing::insecure_fast_for_tests(),
            passcodes: PasscodePolicy::default(),
            session_lifetime: TimeDelta::hours(12),
            ..Config::default()
        })?
        .with_passcode_keys(PasscodeKeys::new(PasscodeKey::new(
            "two-processes",
            b"key-11-abcdefghijklmnopqrstuvwxy",
        )?))
        .with_sms_sender(outbox.clone());
    Ok((esr, outbox))
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 7, 30, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// Creates the trust (200 ward staff and their managers) in a new database at `path`.
pub fn setup(path: &Path) -> Result<()> {
    let (esr, _) = service(SqliteStore::open(path)?, ManualClock::new(start()), 1)?;
    let spec = TrustSpec {
        vpd: vpd(),
        name: "Two Processes Trust".into(),
        ward_staff: 200,
        ward_size: 25,
        seed: 1,
    };
    build_trust(&esr, &spec, TrustSettings::default()).map(drop)
}

/// A competence export of `rows` rows for the trust's people: every person, every CSTF
/// subject, on distinct achieved dates, so every row is a record of its own.
pub fn export(path: &Path, rows: usize) -> Result<Vec<u8>> {
    let store = SqliteStore::open(path)?;
    let people = store.read(|tx| tx.people(vpd()))?;
    let mut csv = String::from("Employee Number,Competency Name,Achieved Date,Expiry Date\n");
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let day0 = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    let per_day = people.len() * CSTF_TITLES.len();
    for n in 0..rows {
        let p = &people[n % people.len()];
        let title = CSTF_TITLES[(n / people.len()) % CSTF_TITLES.len()];
        let achieved = day0 + TimeDelta::days((n / per_day.max(1)) as i64);
        let expiry = achieved + TimeDelta::days(3 * 365);
        let esr_date = |d: NaiveDate| {
            use esr_core::chrono::Datelike;
            format!(
                "{:02}-{}-{}",
                d.day(),
                months[d.month0() as usize],
                d.year()
            )
        };
        csv.push_str(&format!(
            "{},\"NHS|CSTF|{title}|\",{},{}\n",
            p.employee_number,
            esr_date(achieved),
            esr_date(expiry)
        ));
    }
    Ok(csv.into_bytes())
}

/// What process A did.
#[derive(Debug, Clone, Default)]
pub struct ImporterReport {
    /// Imports completed.
    pub imports: usize,
    /// Records the last import wrote.
    pub imported: usize,
    /// Whole-trail reads completed.
    pub audit_reads: usize,
    /// The longest write transaction (the import's hold of the write lock).
    pub longest_write: Duration,
    /// The longest import, end to end (reading the file, checking, writing).
    pub longest_import: Duration,
    /// The longest time a probe connection (asking for the write lock every millisecond
    /// without waiting) found the write lock taken: the longest hold of the lock.
    pub longest_lock_held: Duration,
}

/// Asks for the write lock of the database at `path` every millisecond, without waiting,
/// until `stop`; the longest stretch it found the lock taken.
fn probe_lock(path: &Path, stop: &std::sync::atomic::AtomicBool) -> Duration {
    use std::sync::atomic::Ordering;
    let Ok(conn) = rusqlite::Connection::open(path) else {
        return Duration::ZERO;
    };
    let _ = conn.busy_timeout(Duration::ZERO);
    let mut longest = Duration::ZERO;
    let mut taken_since: Option<Instant> = None;
    while !stop.load(Ordering::Relaxed) {
        if conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;").is_ok() {
            if let Some(t) = taken_since.take() {
                longest = longest.max(t.elapsed());
            }
        } else {
            taken_since.get_or_insert_with(Instant::now);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    longest
}

/// Process A: imports `csv` `rounds` times, reading the whole audit trail after each import
/// and `reads_between` more times, until `stop` says so.
pub fn importer(
    path: &Path,
    config: &SqliteConfig,
    csv: &[u8],
    rounds: usize,
    reads_between: usize,
    stop: &dyn Fn() -> bool,
) -> Result<ImporterReport> {
    let (esr, _) = service(
        Timed::new(SqliteStore::open_with(path, config)?),
        ManualClock::new(start()),
        u64::from(std::process::id()),
    )?;
    let actor = Actor::system("competence feed")?;
    let mut report = ImporterReport::default();
    let stopped = std::sync::atomic::AtomicBool::new(false);
    let (result, held) = std::thread::scope(|s| {
        let probe = s.spawn(|| probe_lock(path, &stopped));
        let result = (|| -> Result<()> {
            for _ in 0..rounds {
                if stop() {
                    break;
                }
                let began = Instant::now();
                let summary =
                    esr.import_competences(&actor, vpd(), csv, ImportOptions::default())?;
                report.longest_import = report.longest_import.max(began.elapsed());
                report.imports += 1;
                report.imported = summary.imported;
                for _ in 0..=reads_between {
                    let mut from = 1;
                    loop {
                        let page = esr.audit_trail(vpd(), from, 4096)?;
                        from += page.len() as u64;
                        if page.len() < 4096 {
                            break;
                        }
                    }
                    report.audit_reads += 1;
                }
            }
            Ok(())
        })();
        stopped.store(true, std::sync::atomic::Ordering::Relaxed);
        (result, probe.join().unwrap_or_default())
    });
    result?;
    report.longest_lock_held = held;
    report.longest_write = esr.store().longest();
    Ok(report)
}

/// Process B: a user issuing and verifying passcodes.
pub struct Client {
    esr: Esr<SqliteStore, ManualClock>,
    clock: ManualClock,
    outbox: Arc<Outbox>,
    user: Username,
    number: String,
    session: SessionId,
    started: DateTime<Utc>,
}

impl Client {
    /// B on the database at `path` (made by [`setup`]), as the person `which` places from the
    /// last, with a mobile number of its own: two clients with different `which` do not share
    /// rate limits (each runs its own clock from the same start).
    pub fn new(path: &Path, which: usize, config: &SqliteConfig) -> Result<Self> {
        let clock = ManualClock::new(start());
        // A seed of its own: two clients on one file must not draw the same session ids.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(3, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id());
        let (esr, outbox) = service(SqliteStore::open_with(path, config)?, clock.clone(), seed)?;
        let people = esr.people(vpd())?;
        let user = people
            .iter()
            .rev()
            .nth(which)
            .map(|p| p.username.clone())
            .ok_or(esr_core::Error::UnknownTrust(vpd()))?;
        let card = SmartcardAuthentication::verified_by_caller("TWO-PROCESSES")?;
        let session = esr.log_in_with_smartcard(&user, &card)?.id;
        let started = clock.now();
        Ok(Self {
            esr,
            clock,
            outbox,
            user,
            number: format!("07700 900{:03}", 500 + which % 400),
            session,
            started,
        })
    }

    /// One code issued and the right code verified (two write transactions). The clock moves
    /// 2 minutes and a second first, within the default send limits.
    pub fn issue_and_verify(&mut self) -> Result<()> {
        self.clock.advance(TimeDelta::seconds(121));
        let now = self.clock.now();
        if now - self.started > TimeDelta::hours(11) {
            let card = SmartcardAuthentication::verified_by_caller("TWO-PROCESSES")?;
            self.session = self.esr.log_in_with_smartcard(&self.user, &card)?.id;
            self.started = now;
        }
        let c = self.esr.request_mobile_code(self.session, &self.number)?;
        let number = self.number.parse()?;
        let code = self
            .outbox
            .last_code_to(&number)
            .ok_or_else(|| esr_core::Error::Delivery("no code in the outbox".into()))?;
        let out = self
            .esr
            .verify_passcode(self.session, &c.id, c.purpose, &code)?;
        self.outbox.clear();
        if out.is_approved() {
            Ok(())
        } else {
            Err(esr_core::Error::Delivery(format!(
                "the right code was not approved: {out:?}"
            )))
        }
    }
}

/// B's figures over a run.
#[derive(Debug, Clone)]
pub struct ClientReport {
    /// Issue-and-verify pairs completed.
    pub ops: usize,
    /// The errors seen (B should see none).
    pub errors: Vec<String>,
    /// How long the run took.
    pub elapsed: Duration,
    /// Each pair's latency, sorted.
    pub latencies: Vec<Duration>,
}

impl ClientReport {
    /// Pairs per second.
    pub fn ops_per_second(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    /// The `q` quantile (0.5, 0.99) of the latencies.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        self.latencies[i.min(self.latencies.len() - 1)]
    }
}

/// Runs B until `stop` says so (checked after each pair), or `limit` passes.
pub fn client(
    path: &Path,
    which: usize,
    config: &SqliteConfig,
    limit: Duration,
    stop: &dyn Fn() -> bool,
) -> Result<ClientReport> {
    let mut b = Client::new(path, which, config)?;
    let began = Instant::now();
    let mut latencies = Vec::new();
    let mut errors = Vec::new();
    while began.elapsed() < limit && !stop() {
        let t = Instant::now();
        match b.issue_and_verify() {
            Ok(()) => latencies.push(t.elapsed()),
            Err(e) => errors.push(format!("{} ({})", e, e.code())),
        }
    }
    let elapsed = began.elapsed();
    latencies.sort();
    Ok(ClientReport {
        ops: latencies.len(),
        errors,
        elapsed,
        latencies,
    })
}
