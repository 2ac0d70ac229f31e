//! # The design decisions
//!
//! Where the domain leaves room, the library decides, and says so here: each decision, why, and
//! the items that carry it.
//!
//! # No I/O of its own
//!
//! The core opens no file, socket or database and reads no environment. Storage is behind
//! [`Store`](crate::Store) (see [`store_contract`](super::store_contract)); text messages and
//! e-mails go through the embedder's [`SmsSender`](crate::passcode::SmsSender) and
//! [`EmailSender`](crate::passcode::EmailSender) (see [`delivery`](super::delivery)); a smartcard is
//! verified by the embedding application, which hands the library a
//! [`SmartcardAuthentication`](crate::access::SmartcardAuthentication). The only reader of outside
//! data, [`Esr::import_competences`](crate::Esr::import_competences), takes any
//! [`std::io::Read`] the caller opened. So the same core runs in a trust's server, a Python
//! notebook and an iOS app, and every test runs in memory.
//!
//! # Time and randomness are injected
//!
//! - Every rule about expiry, lockout, sessions, compliance dates and the audit trail reads the
//!   [`Clock`](crate::Clock) given to [`Esr::new`](crate::Esr::new): the
//!   [`SystemClock`](crate::SystemClock) in production, a [`ManualClock`](crate::ManualClock)
//!   in tests, so each boundary (a code issued at 12:00:00 is expired at 12:10:00, not at
//!   12:10:01) is tested to the second. "Today" is the UK date at that instant
//!   ([`uk_date`](crate::values::uk_date)).
//! - Every identifier, salt, code and key is drawn from the injected cryptographic RNG
//!   ([`SecureRandom`](crate::SecureRandom), any `rand_core` generator, given with
//!   [`Esr::with_rng`](crate::Esr::with_rng); [`Esr::new`](crate::Esr::new) uses the operating
//!   system's). A seeded RNG makes a whole run reproducible: the demonstration prints the same
//!   every time.
//!
//! # One transaction per operation, and refusals change nothing
//!
//! Every method of [`Esr`](crate::Esr) either applies fully, with its audit entries in the same
//! store transaction, or returns an [`Error`](crate::Error) and changes nothing. Checks that
//! span records (the two-user-administrator floor, single use of a code, unique usernames) are
//! made inside that transaction, so concurrent calls cannot both pass them. Who acts is an
//! [`Actor`](crate::Actor): a user's session, whose functions are checked by the access
//! decision, or a named system process (a recruitment feed, the trust's set-up), which is
//! trusted and named in the audit trail.
//!
//! # Secrets
//!
//! Passwords, password hashes, codes, recovery tokens, passcode keys, session ids and full
//! mobile numbers never appear in `Debug`, `Display`, error messages, audit entries or
//! serialised output:
//!
//! - [`Password`](crate::people::Password) cannot be printed or serialised and is wiped on drop; only an
//!   argon2id [`PasswordHash`](crate::people::PasswordHash) is kept.
//! - [`MobileNumber`](crate::MobileNumber) shows only its masked form (`xxxxxxx374`); the full
//!   number comes only from [`MobileNumber::expose_e164`](crate::MobileNumber::expose_e164),
//!   for the gateway.
//! - A code is stored only as an HMAC-SHA256 [`PasscodeTag`](crate::passcode::PasscodeTag) under a key of
//!   the [`PasscodeKeys`](crate::passcode::PasscodeKeys) ring; [`Passcode`](crate::passcode::Passcode),
//!   [`RecoveryToken`](crate::passcode::RecoveryToken) and [`PasscodeKey`](crate::passcode::PasscodeKey) hide
//!   themselves in `Debug`.
//! - A [`SessionId`](crate::SessionId) is a bearer handle: its `Debug` shows a prefix, and audit
//!   entries carry its one-way [`SessionRef`](crate::SessionRef).
//! - serde skips secret fields (`Account::password_hash`, `Person::mobile`,
//!   `Challenge::destination`), which is why the store contract asks adapters to persist them
//!   explicitly.
//! - Methods that do hand a secret out are named `expose_*` and are meant for the gateway only.
//!
//! # Errors
//!
//! There is one error type, [`Error`](crate::Error) (`#[non_exhaustive]`), with one variant
//! per thing that can go wrong. Each message tells a person what was wrong and what to do
//! ("invalid surname: it is 101 characters long; the most is 100; shorten it"), and never
//! echoes a secret or a huge input ([`limits::shown`](crate::values::limits::shown)). Refusals carry
//! typed reasons where a caller may act on them: [`Denial`](crate::access::Denial),
//! [`UpgradeBlocker`](crate::access::UpgradeBlocker), [`ApprovalRefusal`](crate::urp::ApprovalRefusal),
//! [`LinkProblem`](crate::passcode::LinkProblem). Wrong passcodes are not errors but outcomes
//! ([`VerifyOutcome`](crate::passcode::VerifyOutcome)), since a wrong guess is an expected answer.
//! The decision for bindings: errors are classified into kinds once, in the core, and the
//! Python and Swift bindings map kinds, never individual variants, so a new variant cannot
//! silently become a generic error in one of them.
//!
//! # Limits on every input
//!
//! Every text the library accepts has a size limit, in one place
//! ([`limits`](crate::values::limits)), checked where the value is parsed or built and before any
//! expensive work (hashing a password, parsing a phone number). A password over
//! [`limits::MAX_PASSWORD_BYTES`](crate::values::limits::MAX_PASSWORD_BYTES) is refused before anything
//! is hashed. The competence CSV reader streams in 64 KiB chunks with its own limits
//! ([`MAX_CSV_RECORD_BYTES`](crate::compliance::MAX_CSV_RECORD_BYTES),
//! [`MAX_CSV_COLUMNS`](crate::compliance::MAX_CSV_COLUMNS),
//! [`MAX_IMPORT_PROBLEMS`](crate::compliance::MAX_IMPORT_PROBLEMS)), so memory never depends on a line's
//! length. Service settings are range-checked too ([`Esr::with_config`](crate::Esr::with_config),
//! [`PasscodePolicy::check`](crate::passcode::PasscodePolicy::check)): at most 100 failed log-ins before a
//! lock, as NIST SP 800-63B allows.
//!
//! # Validated values
//!
//! Identifiers are newtypes ([`VpdCode`](crate::VpdCode),
//! [`EmployeeNumber`](crate::EmployeeNumber), [`Username`](crate::Username),
//! [`CompetenceName`](crate::compliance::CompetenceName) …) that validate in `FromStr`/`TryFrom`, cannot be
//! built invalid, and whose `Display` parses back to the same value. A function that receives
//! one need not check it again.
//!
//! # Computed, never scheduled
//!
//! Nothing in the library runs on a timer. An expired code, session or link, an Amber
//! competence and a certification whose renewal window has opened are all computed from the
//! clock when read ([`Challenge::status_at`](crate::passcode::Challenge::status_at),
//! [`Session::is_live_at`](crate::access::Session::is_live_at),
//! [`subscription_status`](crate::learning::subscription_status)), so there is no job to forget to run.
