//! # The domain, rule by rule
//!
//! The NHS Electronic Staff Record (ESR) is the workforce system of every NHS trust in England
//! and Wales. This library models its self-service core: who may do what (organisations,
//! accounts, User Responsibility Profiles), the second factor that lets a manager work from the
//! internet (one-time passcodes), statutory and mandatory training compliance, and the
//! certification and enrolment flows that change it. Each section states the domain's rule and
//! then what the library enforces, with the item that enforces it.
//!
//! # Trusts (tenants)
//!
//! - Each trust is a tenant keyed by a three-digit VPD code ([`VpdCode`](crate::VpdCode):
//!   `297`, `999`). **No data, query or aggregate crosses from one trust to another**: every
//!   store method is scoped by trust (see [`Store`](crate::Store)), usernames carry their VPD
//!   code, and an actor of one trust naming another's record is refused with
//!   [`Error::CrossTrust`](crate::Error::CrossTrust).
//! - A trust ([`Trust`](crate::org::Trust), created by [`Esr::create_trust`](crate::Esr::create_trust))
//!   has a hierarchy of organisation units ([`OrgUnit`](crate::org::OrgUnit): directorates,
//!   departments, wards), added with [`Esr::add_org_unit`](crate::Esr::add_org_unit) under an
//!   existing parent. Units are used for compliance roll-ups and for delegating administration
//!   ([`GrantScope::OrgUnits`](crate::urp::GrantScope::OrgUnits) covers a unit and everything below
//!   it, [`Trust::is_within`](crate::org::Trust::is_within)).
//! - Trust settings ([`TrustSettings`](crate::org::TrustSettings)):
//!   **Automatic Internet Access** ([`Esr::set_automatic_internet_access`](crate::Esr::set_automatic_internet_access));
//!   **Upgrade Access** for Manager and for Professional users ([`UpgradeAccess`](crate::org::UpgradeAccess),
//!   [`Esr::set_upgrade_access`](crate::Esr::set_upgrade_access)); the **Manager Dashboard**
//!   ([`DashboardConfig`](crate::org::DashboardConfig)): the five national portlets
//!   ([`NationalPortlet`](crate::org::NationalPortlet)) each on or off
//!   ([`Esr::set_portlet`](crate::Esr::set_portlet)), and at most
//!   [`MAX_LOCAL_BI_PORTLETS`](crate::org::MAX_LOCAL_BI_PORTLETS) (three) local BI portlets
//!   ([`Esr::add_local_bi_portlet`](crate::Esr::add_local_bi_portlet) refuses a fourth); and the
//!   text of the passcode SMS ([`SmsTemplate`](crate::org::SmsTemplate)).
//!
//! # People, accounts and usernames
//!
//! - A person ([`Person`](crate::people::Person)) has an employee number, a name, a date of birth, the
//!   e-mail address used at recruitment, and optionally a registered mobile number. Adding one
//!   ([`Esr::add_person`](crate::Esr::add_person)) creates their account and grants Employee
//!   Self Service.
//! - **Usernames** follow the ESR rule: VPD code, first initial, surname, two-digit sequence,
//!   upper case (`297ECONROY01`), with transliteration, punctuation and length rules and a
//!   sequence that never reuses an ended account's number: the full rule is in
//!   [`username`](crate::values::username) ([`Username`](crate::Username),
//!   [`UsernameStem`](crate::values::username::UsernameStem)). One username and password serves every channel
//!   ("Common ID").
//! - **Account states** ([`AccountState`](crate::people::AccountState)): active; locked (after
//!   [`Config::max_failed_logins`](crate::Config::max_failed_logins) consecutive failed log-ins,
//!   5 by default; cleared by self-service recovery or
//!   [`Esr::unlock_account`](crate::Esr::unlock_account)); suspended (urgent removal,
//!   [`Esr::suspend_account`](crate::Esr::suspend_account)); ended (a leaver,
//!   [`Esr::end_account`](crate::Esr::end_account): access removed for good, URPs revoked,
//!   history kept). Only the transitions of
//!   [`AccountState::transition`](crate::people::AccountState::transition) are allowed; nothing leaves
//!   ended.
//! - **Log-in answers tell no one who exists.** A wrong password gets the same
//!   [`Error::InvalidCredentials`](crate::Error::InvalidCredentials), after the same password
//!   hash, for an active, locked, suspended, ended or unknown account; the locking guess
//!   answers the same too. Only someone who then gives the right password learns the state
//!   ([`Error::AccountLocked`](crate::Error::AccountLocked) says to use 'Forgotten | Unlock
//!   Account' or ask a user administrator). The lock itself is kept: it still needs recovery
//!   or an administrator. The `signin` bench measures the times.
//! - Passwords are kept only as argon2id hashes ([`PasswordHash`](crate::people::PasswordHash),
//!   [`PasswordHashing`](crate::people::PasswordHashing)); a new one must meet
//!   [`Password::check_policy`](crate::people::Password::check_policy). A wrong username and a wrong
//!   password give the same [`Error::InvalidCredentials`](crate::Error::InvalidCredentials) and
//!   take the same time; a suspended or ended account is revealed only to the right password.
//!
//! # Assignments and line management
//!
//! - A person may hold several assignments ([`Assignment`](crate::people::Assignment),
//!   `24552166 - E-Learning & Design Co-Ordinator`), each with a position, an organisation unit
//!   and a supervisor: another person's assignment in the same trust
//!   ([`Esr::add_assignment`](crate::Esr::add_assignment),
//!   [`Esr::set_supervisor`](crate::Esr::set_supervisor)).
//! - A supervisor change that would make an assignment report to itself, directly or through
//!   others, is refused ([`Error::SupervisorCycle`](crate::Error::SupervisorCycle)).
//! - A person's **line managers** are the holders of their assignments' supervisor assignments:
//!   they verify requests for extra access, and see their team's records and compliance.
//!
//! # User Responsibility Profiles (URPs)
//!
//! - URPs ([`Urp`](crate::urp::Urp)) grant functions ([`Function`](crate::urp::Function),
//!   [`Urp::functions`](crate::urp::Urp::functions)). They are of three kinds
//!   ([`UrpKind`](crate::urp::UrpKind)): employee (ESS, ESS Limited Access, External Learner),
//!   manager (Supervisor, Manager and Administrator Self Service) and professional (Local HRMS
//!   Systems and User Administration, Local Workstructures Administration, Portal
//!   Administration, Local BI Administration, and the library's additions Local HR
//!   Administration and Local Learning Administration).
//! - **Granting** ([`Esr::grant_urp`](crate::Esr::grant_urp), a
//!   [`GrantRequest`](crate::urp::GrantRequest)) needs the function
//!   [`Function::AssignUrps`](crate::urp::Function::AssignUrps), so an HSCN session of a user
//!   administrator. It records grantor, reason, time and how the need was verified
//!   ([`UrpGrant`](crate::urp::UrpGrant), [`Approval`](crate::urp::Approval)). The library refuses
//!   ([`ApprovalRefusal`](crate::urp::ApprovalRefusal)): a grant to oneself; anything beyond an
//!   employee URP without verification; a verification by someone who is not the holder's line
//!   manager, or for a holder with none; a Caldicott guardian exception approved by the holder
//!   or by the grantor. Administrator Self Service and the other delegating URPs
//!   ([`Urp::needs_org_scope`](crate::urp::Urp::needs_org_scope)) need named organisation units.
//! - **The two-user-administrator floor**: at least two active users (active or locked,
//!   [`AccountState::counts_as_active_user`](crate::people::AccountState::counts_as_active_user)) hold
//!   Local HRMS Systems and User Administration at all times. A new trust gets them with
//!   [`Esr::bootstrap_user_administrators`](crate::Esr::bootstrap_user_administrators) (two or
//!   more, once); [`Esr::revoke_urp`](crate::Esr::revoke_urp),
//!   [`Esr::suspend_account`](crate::Esr::suspend_account) and
//!   [`Esr::end_account`](crate::Esr::end_account) refuse with
//!   [`Error::TooFewUserAdministrators`](crate::Error::TooFewUserAdministrators) whatever would
//!   go below it.
//! - Every grant and removal is in the audit trail. **The URP audit report**
//!   ([`Esr::urp_audit_report`](crate::Esr::urp_audit_report), rows
//!   [`UrpReportRow`](crate::urp::UrpReportRow), CSV [`urp_report_csv`](crate::urp::urp_report_csv)) lists
//!   who holds what, since when, granted by whom and why, for the six-monthly review.
//!
//! # Channels and access levels
//!
//! A session reaches ESR on one [`Channel`](crate::access::Channel). Whether a function may be used is
//! one pure function, [`decide`](crate::access::decide) (through
//! [`Esr::decide`](crate::Esr::decide) and [`Esr::functions`](crate::Esr::functions)), which
//! answers [`AccessDecision`](crate::access::AccessDecision) with the reason for a denial
//! ([`Denial`](crate::access::Denial)). In order:
//!
//! 1. a URP the user holds must grant the function ([`Denial::NotGranted`](crate::access::Denial::NotGranted));
//! 2. a function shown as a Manager Dashboard portlet needs that portlet on
//!    ([`Denial::PortletDisabled`](crate::access::Denial::PortletDisabled));
//! 3. on **HSCN with a smartcard** everything granted is allowed;
//! 4. on the **internet**, the user needs ESS internet access
//!    ([`has_internet_access`](crate::access::has_internet_access): automatic for holders of ESS, ESS
//!    Limited Access or External Learner when the trust's Automatic Internet Access is on,
//!    otherwise approved per user with [`Esr::approve_internet_access`](crate::Esr::approve_internet_access));
//! 5. then by the function's [`Tier`](crate::urp::Tier): employee functions are allowed;
//!    HSCN-only functions (administration, Local BI Administration, mobile registration) never
//!    are; manager functions need Upgrade Access: Manager, professional dashboards and BI
//!    reports need Upgrade Access: Professional, and both need **this session** upgraded
//!    ([`Denial::UpgradeRequired`](crate::access::Denial::UpgradeRequired)).
//!
//! # Passcodes and the session upgrade
//!
//! - Upgrading needs an internet session, ESS internet access, a URP whose functions the
//!   trust's Upgrade Access opens, a registered mobile number and no step-up lock
//!   ([`upgrade_blocker`](crate::access::upgrade_blocker), [`UpgradeBlocker`](crate::access::UpgradeBlocker),
//!   [`Esr::check_upgrade`](crate::Esr::check_upgrade)).
//! - [`Esr::request_upgrade_code`](crate::Esr::request_upgrade_code) texts a code to the
//!   registered number; the screen says where it went without the number
//!   ([`PasscodeChallenge::message`](crate::passcode::PasscodeChallenge::message): "We have sent a code
//!   to your mobile number ending: xxxxxxx374").
//!   [`Esr::verify_passcode`](crate::Esr::verify_passcode) answers a
//!   [`VerifyOutcome`](crate::passcode::VerifyOutcome); on approval the session named, and only that one,
//!   is upgraded in the same transaction. Every internet session upgrades on its own.
//! - The code rules ([`passcode`](crate::passcode)): a code is used **once** and expires
//!   **10 minutes after it is issued** ([`CODE_LIFETIME`](crate::passcode::CODE_LIFETIME); usable strictly
//!   before its expiry); it is drawn from the injected cryptographic RNG
//!   ([`Passcode::generate`](crate::passcode::Passcode::generate)); only an HMAC-SHA256 tag bound to the
//!   trust, user, session and [`Purpose`](crate::passcode::Purpose) is stored
//!   ([`PasscodeTag`](crate::passcode::PasscodeTag), compared in constant time, keys in
//!   [`PasscodeKeys`](crate::passcode::PasscodeKeys)); wrong guesses are capped per code and per account,
//!   and sends per user and per number ([`PasscodePolicy`](crate::passcode::PasscodePolicy)).
//! - "Code not received": [`Esr::resend_passcode`](crate::Esr::resend_passcode) sends a new
//!   code with its own 10 minutes and supersedes the old one, whose expiry never moves.
//! - **Registering or changing the mobile number** is done only from an HSCN session
//!   ([`Esr::request_mobile_code`](crate::Esr::request_mobile_code)) and only once a code sent
//!   to the new number is entered in that session
//!   ([`MobileConfirmation`](crate::access::MobileConfirmation),
//!   [`Esr::register_mobile`](crate::Esr::register_mobile)).
//! - An embedder with its own second factor upgrades a session with a
//!   [`StepUpProof`](crate::access::StepUpProof) ([`Esr::upgrade_session`](crate::Esr::upgrade_session)).
//!   Authenticator apps (TOTP) are in the domain but not yet in the library.
//!
//! # Sessions
//!
//! - A session ([`Session`](crate::access::Session)) is opened by
//!   [`Esr::log_in_with_password`](crate::Esr::log_in_with_password) (internet) or
//!   [`Esr::log_in_with_smartcard`](crate::Esr::log_in_with_smartcard) (HSCN, with the
//!   embedder's [`SmartcardAuthentication`](crate::access::SmartcardAuthentication)).
//! - It lasts [`Config::session_lifetime`](crate::Config::session_lifetime) from log-in (12
//!   hours by default, 1 minute to 12 hours: NIST SP 800-63B AAL2's most), usable strictly
//!   before its expiry ([`Session::is_live_at`](crate::access::Session::is_live_at)); after it
//!   every call answers [`Error::SessionExpired`](crate::Error::SessionExpired). Activity never
//!   extends it.
//! - **Inactivity**: a session unused for its idle timeout stops working
//!   ([`Error::SessionIdle`](crate::Error::SessionIdle)): 30 minutes for internet sessions,
//!   upgraded or not ([`Config::internet_idle_timeout`](crate::Config::internet_idle_timeout), 1
//!   to 30 minutes), and 30 minutes by default on HSCN
//!   ([`Config::hscn_idle_timeout`](crate::Config::hscn_idle_timeout), up to 12 hours: on the
//!   NHS network removing the smartcard also locks the workstation, so a trust may relax it).
//!   Every call made with a session is a use of it. Last activity is stored with the session
//!   ([`Session::last_active_at`](crate::access::Session::last_active_at)) but written at most
//!   once a minute ([`ACTIVITY_GRANULARITY`](crate::access::ACTIVITY_GRANULARITY)), so reads
//!   stay reads: a session may time out up to a minute early, never late.
//! - It ends when the user logs out ([`Esr::log_out`](crate::Esr::log_out)), and every session
//!   of the account ends when the account is suspended, ended or locked, when an administrator
//!   sets its password, and when the password is reset by link; a password change
//!   ([`Esr::change_password`](crate::Esr::change_password)) ends every *other* session. Each
//!   ending is audited with its [`SessionEndReason`](crate::access::SessionEndReason).
//! - People see their own live sessions ([`Esr::sessions_of`](crate::Esr::sessions_of):
//!   channel, start, last activity, upgrade, and which is the current one; never the bearer
//!   id, only its one-way reference) and end one or all of the others
//!   ([`Esr::end_session`](crate::Esr::end_session),
//!   [`Esr::end_all_sessions`](crate::Esr::end_all_sessions)); a user administrator (Reset
//!   accounts) may do the same for anyone in the trust.
//!
//! # Account recovery
//!
//! - Forgotten username: the person gives their recruitment e-mail and date of birth
//!   ([`Esr::request_username_reminder`](crate::Esr::request_username_reminder)) and every
//!   active or locked account matching both is e-mailed its username with a password-reset
//!   link; [`Esr::request_unlock_link`](crate::Esr::request_unlock_link) does the same for
//!   unlocking.
//! - The link works **once, within 4 hours** ([`LINK_LIFETIME`](crate::passcode::LINK_LIFETIME),
//!   [`Esr::reset_password_with_link`](crate::Esr::reset_password_with_link),
//!   [`Esr::unlock_with_link`](crate::Esr::unlock_with_link)); a refusal says why
//!   ([`LinkProblem`](crate::passcode::LinkProblem)).
//! - The answer never reveals whether an address is known: it is always the same
//!   [`RecoveryRequested`](crate::passcode::RecoveryRequested), and over the send limits nothing more is
//!   sent while the answer stays the same. It also takes the same time: at least
//!   [`Config::recovery_answer_time`](crate::Config::recovery_answer_time) (150 ms by default;
//!   the e-mail sender should queue rather than deliver inline, so that a matched request stays
//!   under it).
//! - **Floods**: unmatched requests are audited one by one up to
//!   [`Config::max_unmatched_recovery_audits`](crate::Config::max_unmatched_recovery_audits)
//!   per trust in each 10-minute window, then counted and audited as one
//!   `RecoveryRequestsAggregated` entry (per process), so an unauthenticated flood cannot grow
//!   the audit trail without bound.
//!
//! # Record visibility
//!
//! - Everyone sees their own record. A manager or supervisor sees the people whose assignments
//!   report to them, directly or through others; an administrator acts for the organisation
//!   units delegated to them; a professional URP acts within its scope
//!   ([`RecordBasis`](crate::people::RecordBasis), [`Esr::record_access`](crate::Esr::record_access)).
//!   Never across trusts.
//! - A basis counts only if the function it needs is allowed on the session's channel
//!   ([`Esr::view_record`](crate::Esr::view_record),
//!   [`Esr::change_details`](crate::Esr::change_details), [`Esr::team`](crate::Esr::team)).
//! - Every read or change of another person's record is audited; a change records the fields
//!   it touched.
//!
//! # Competences and compliance
//!
//! - A competence ([`CompetenceName`](crate::compliance::CompetenceName): `NHS|CSTF|Fire Safety - 2 Years|`,
//!   or a local `297|LOCAL|Title|`) is held by a person with an expiry date or none
//!   ([`CompetenceRecord`](crate::compliance::CompetenceRecord)); the record with the latest expiry counts
//!   ([`best_records`](crate::compliance::best_records)). A trust's catalogue is the national default
//!   ([`default_catalogue`](crate::compliance::default_catalogue)) plus its own definitions
//!   ([`Esr::define_competence`](crate::Esr::define_competence)).
//! - Requirements attach to a position, an organisation unit (inherited below it) or a job,
//!   essential or not ([`Requirement`](crate::compliance::Requirement),
//!   [`RequirementTarget`](crate::compliance::RequirementTarget)); equivalences chain
//!   ([`Equivalence`](crate::compliance::Equivalence)).
//! - The status of a row as of a date D ([`row_status`](crate::compliance::row_status),
//!   [`expiry_status`](crate::compliance::expiry_status), [`ComplianceStatus`](crate::compliance::ComplianceStatus)):
//!   **Red** required and not held, or expired before D (a record is valid through its expiry
//!   date); **Amber** expiring from D to D plus 3 calendar months, both days included,
//!   month-end clamped ([`AmberWindow`](crate::compliance::AmberWindow), [`add_months`](crate::values::add_months));
//!   **Green** later or never; **Blue** held but not required.
//! - An assignment's percentage is its essential rows that are Green or Amber over its
//!   essential rows ([`compliance_percent`](crate::compliance::compliance_percent)); with none there is no
//!   percentage, never 100. Ten essential competences with one Red is 90%. A person with
//!   several assignments has one percentage each and a summary
//!   ([`summarise`](crate::compliance::summarise)).
//! - "Today" is the UK date at the injected clock's instant ([`uk_date`](crate::values::uk_date),
//!   [`Esr::uk_today`](crate::Esr::uk_today)).
//! - Views: My Compliance ([`Esr::my_compliance`](crate::Esr::my_compliance)), Team Compliance
//!   ([`Esr::team_compliance`](crate::Esr::team_compliance)), the trust's roll-ups
//!   ([`roll_up`](crate::compliance::roll_up), [`Esr::compliance_report`](crate::Esr::compliance_report)).
//!   ESR exports read and written as CSV with dates as `30-Nov-2028`
//!   ([`ESR_DATE_FORMAT`](crate::values::ESR_DATE_FORMAT),
//!   [`Esr::import_competences`](crate::Esr::import_competences),
//!   [`compliance_matrix_csv`](crate::compliance::compliance_matrix_csv)); analysts score whole workforces
//!   with [`score_compliance`](crate::compliance::score_compliance).
//!
//! # Certifications and enrolment
//!
//! - A certification ([`Certification`](crate::learning::Certification),
//!   [`Esr::define_certification`](crate::Esr::define_certification)) awards a competence at a
//!   level; it has a validity, a completion window, is renewable or not
//!   ([`Renewal`](crate::learning::Renewal)), and is made of components (courses and an eAssessment).
//! - The learner **subscribes** ([`Esr::subscribe`](crate::Esr::subscribe)), **enrols** in a
//!   class of each component ([`Esr::enrol`](crate::Esr::enrol)) and **plays** it
//!   ([`Esr::play`](crate::Esr::play)): component status Planned → Completed
//!   ([`ComponentStatus`](crate::learning::ComponentStatus)), performance Not Attempted → In Progress →
//!   Completed, Passed or Failed ([`Performance`](crate::learning::Performance)). Every step is guarded by
//!   [`check_action`](crate::learning::check_action).
//! - When the completion rule is met ([`completion_met`](crate::learning::completion_met)), the
//!   competence is awarded with its expiry ([`award_expiry`](crate::learning::award_expiry)) in the same
//!   transaction, so compliance changes at once.
//! - A subscription's status (subscribed, certified, renewal window open, expired, cancelled)
//!   is computed from the date when read, never by a scheduled job
//!   ([`subscription_status`](crate::learning::subscription_status)).
//! - Learning reported without a subscription is not recorded against the certification, and
//!   [`Esr::record_learning`](crate::Esr::record_learning) says so explicitly
//!   ([`LearningOutcome`](crate::learning::LearningOutcome), [`NotRecordedReason`](crate::learning::NotRecordedReason)).
//! - My e-Learning ([`Esr::my_elearning`](crate::Esr::my_elearning)) lists at most
//!   [`MY_ELEARNING_LIMIT`](crate::learning::MY_ELEARNING_LIMIT) (twenty) enrolments, most recent first,
//!   optionally only mandatory learning.
//!
//! # The audit trail
//!
//! - Every operation that changes something, and every read of another person's record,
//!   writes its audit entries ([`AuditEntry`](crate::audit::AuditEntry),
//!   [`AuditEvent`](crate::audit::AuditEvent)) in the same transaction as the change.
//! - Each trust has one append-only chain; each entry is hashed over the previous entry's hash,
//!   with HMAC-SHA-256 under an audit key held outside the store (plain SHA-256 without one),
//!   so editing, removing or reordering an entry is detected, and with the key a rewrite that
//!   recomputes the hashes too ([`Esr::verify_audit`](crate::Esr::verify_audit),
//!   [`ChainVerifier`](crate::audit::ChainVerifier)). Signed checkpoints detect a deleted tail
//!   up to them and let the prefix before them be archived
//!   ([`Esr::checkpoint`](crate::Esr::checkpoint), [`Esr::archive_before`](crate::Esr::archive_before)).
//!   Keep the returned [`AuditHead`](crate::audit::AuditHead) outside the store and check it later
//!   with [`Esr::verify_audit_against`](crate::Esr::verify_audit_against) to detect truncation
//!   after the last checkpoint. The [audit page](super::audit) lists what is and is not detected.
//! - Entries name sessions by a one-way [`SessionRef`](crate::SessionRef), never by the session
//!   id (a bearer handle), and no event type has a field that could carry a password, code,
//!   token or full phone number.
//!
//! # Not modelled yet
//!
//! The domain also describes notifications and worklists, approval routing for *Approvals
//! Required* URPs ([`Urp::changes_need_approval`](crate::urp::Urp::changes_need_approval) says which
//! URPs hold changes, but routing is outside the library), the OneForm request flow and the
//! six-monthly review as a workflow (the library gives its report), competences awaiting
//! approval and authenticator apps. They are candidates for later work, not behaviour to rely
//! on.
