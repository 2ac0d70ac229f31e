//! Reports: the URP audit report, as rows and as CSV.

use crate::error::{Error, Result};
use crate::people::{AccountState, Person};
use crate::urp::{GrantScope, Urp, UrpGrant};
use crate::values::EmployeeNumber;
use crate::values::username::Username;
use chrono::{DateTime, SecondsFormat, Utc};

/// One line of the URP audit report: who holds what, since when, granted by whom and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct UrpReportRow {
    /// The holder's username.
    pub username: Username,
    /// The holder's employee number.
    pub employee_number: EmployeeNumber,
    /// The holder's name, `Surname, Given`.
    pub name: String,
    /// The holder's account state.
    pub account_state: AccountState,
    /// The URP held.
    pub urp: Urp,
    /// Where it applies.
    pub scope: String,
    /// Held since.
    pub held_since: DateTime<Utc>,
    /// Granted by.
    pub granted_by: String,
    /// Why.
    pub reason: String,
    /// How the need was verified.
    pub approval: String,
    /// When a six-monthly URP review last confirmed this grant (`None`: never, or an
    /// employee-level URP, which is not reviewed).
    pub last_reviewed: Option<DateTime<Utc>>,
    /// Where the six-monthly review stands for this grant: `"not reviewed (employee-level)"`,
    /// `"due 22-May-2027"`, `"OVERDUE: was due 22-May-2027"`, or `"confirmed …"` in the open
    /// cycle. An overdue review shows on every grant it has not decided.
    pub review: String,
}

impl UrpReportRow {
    pub(crate) fn new(g: &UrpGrant, p: &Person, state: AccountState) -> Self {
        Self {
            username: g.holder.clone(),
            employee_number: p.employee_number.clone(),
            name: p.name.to_string(),
            account_state: state,
            urp: g.urp,
            scope: match &g.scope {
                GrantScope::WholeTrust => "Whole trust".into(),
                GrantScope::OrgUnits(u) => {
                    u.iter().map(|x| x.as_str()).collect::<Vec<_>>().join("; ")
                }
            },
            held_since: g.granted_at,
            granted_by: g.granted_by.to_string(),
            reason: g.reason.clone(),
            approval: g.approval.to_string(),
            last_reviewed: None,
            review: String::new(),
        }
    }
}

/// The report as CSV with a header row, quoted where needed. Cells that a spreadsheet would
/// run as a formula (starting `=`, `+`, `-`, `@`) are prefixed with `'`.
pub fn urp_report_csv(rows: &[UrpReportRow]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| Error::Storage(format!("writing CSV: {e}"));
    w.write_record([
        "Username",
        "Employee Number",
        "Name",
        "Account State",
        "URP",
        "Scope",
        "Held Since",
        "Granted By",
        "Reason",
        "Approval",
        "Last Reviewed",
        "Review",
    ])
    .map_err(io)?;
    for r in rows {
        w.write_record([
            r.username.to_string(),
            r.employee_number.to_string(),
            defuse(&r.name),
            r.account_state.to_string(),
            r.urp.to_string(),
            defuse(&r.scope),
            r.held_since.to_rfc3339_opts(SecondsFormat::Secs, true),
            defuse(&r.granted_by),
            defuse(&r.reason),
            defuse(&r.approval),
            r.last_reviewed
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
                .unwrap_or_default(),
            defuse(&r.review),
        ])
        .map_err(io)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Storage(format!("writing CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Storage(format!("writing CSV: {e}")))
}

/// Guards against CSV formula injection.
fn defuse(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}
