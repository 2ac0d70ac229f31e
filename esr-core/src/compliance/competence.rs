//! Competences, the requirements that make them needed, the equivalences between them, and the
//! records of people holding them (DOMAIN.md, Competences and compliance).
//!
//! A competence is named the ESR way, `OWNER|FRAMEWORK|Title|`: national ones are owned by `NHS`
//! (`NHS|CSTF|Fire Safety - 1 Year|`), local ones by a trust's VPD code
//! (`297|LOCAL|Sepsis Awareness|`). [`CompetenceName`] parses that form and prints it back
//! byte for byte.

use crate::error::{Error, Result};
use crate::values::limits::MAX_COMPETENCE_NAME_CHARS;
use crate::values::{EmployeeNumber, OrgUnitId, PositionId, VpdCode, clean_text, string_serde};
use chrono::NaiveDate;
use std::fmt;
use std::str::FromStr;

/// Who owns a competence: the NHS (national) or one trust (local).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum CompetenceOwner {
    /// A national competence (`NHS|…`), the same in every trust.
    National,
    /// A trust's own competence (`297|…`).
    Local(VpdCode),
}

/// A competence's name, such as `NHS|CSTF|Fire Safety - 1 Year|` or `297|LOCAL|Title|`: the key
/// of the catalogue. Parsing keeps every part exactly as written, so `Display` prints the input
/// back unchanged.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CompetenceName {
    text: Box<str>,
    owner: CompetenceOwner,
    /// Where the framework ends in `text`: it starts after the three-character owner and its
    /// `|`, and the title runs from after its `|` to before the final `|`.
    framework_end: u16,
}

impl CompetenceName {
    /// Builds a name from its parts (`NHS`/a VPD code, framework, title).
    pub fn new(owner: CompetenceOwner, framework: &str, title: &str) -> Result<Self> {
        let owner = match owner {
            CompetenceOwner::National => "NHS".to_owned(),
            CompetenceOwner::Local(v) => v.to_string(),
        };
        format!("{owner}|{framework}|{title}|").parse()
    }

    /// The whole name as ESR writes it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// National or local, and whose.
    pub fn owner(&self) -> CompetenceOwner {
        self.owner
    }

    /// The framework (`CSTF`, `LOCAL`).
    pub fn framework(&self) -> &str {
        self.text
            .get(4..usize::from(self.framework_end))
            .unwrap_or("")
    }

    /// The title (`Fire Safety - 1 Year`).
    pub fn title(&self) -> &str {
        let end = self.text.len().saturating_sub(1);
        self.text
            .get(usize::from(self.framework_end) + 1..end)
            .unwrap_or("")
    }

    /// The refresher period the title states, in months: `- 1 Year` is 12, `- 3 Years` 36,
    /// `- 6 Months` 6. `None` when the title states none (`Preventing Radicalisation - Levels 1
    /// & 2`).
    pub fn refresher_months(&self) -> Option<u32> {
        refresher_months(self.title())
    }

    /// The name as ESR's screens show it: `NHS(CSTF)Fire Safety - 1 Year`.
    pub fn display_name(&self) -> String {
        let owner = match self.owner {
            CompetenceOwner::National => "NHS".to_owned(),
            CompetenceOwner::Local(v) => v.to_string(),
        };
        format!("{owner}({}){}", self.framework(), self.title())
    }
}

/// Reads a trailing `- N Year(s)` or `- N Month(s)` from a title, in months.
fn refresher_months(title: &str) -> Option<u32> {
    let (_, tail) = title.rsplit_once(" - ")?;
    let mut words = tail.split_whitespace();
    let n: u32 = words.next()?.parse().ok()?;
    let unit = words.next()?.to_ascii_lowercase();
    if words.next().is_some() || n == 0 {
        return None;
    }
    match unit.as_str() {
        "year" | "years" => n.checked_mul(12),
        "month" | "months" => Some(n),
        _ => None,
    }
}

impl FromStr for CompetenceName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        const WHAT: &str = "competence name";
        let shape = "write it as OWNER|FRAMEWORK|Title| (NHS|CSTF|Fire Safety - 1 Year| or 297|LOCAL|Title|)";
        crate::values::limits::check_chars(WHAT, s, MAX_COMPETENCE_NAME_CHARS)?;
        if s.chars().any(char::is_control) {
            return Err(Error::invalid(
                WHAT,
                "it contains a control character (such as a line break); remove it",
            ));
        }
        let parts: Vec<&str> = s.split('|').collect();
        if parts.len() != 4 || !parts[3].is_empty() {
            return Err(Error::invalid(
                WHAT,
                format!("{s:?} does not have three parts each ended by '|'; {shape}"),
            ));
        }
        let owner = match parts[0] {
            "NHS" => CompetenceOwner::National,
            o => CompetenceOwner::Local(o.parse().map_err(|_| {
                Error::invalid(
                    WHAT,
                    format!(
                        "the owner {o:?} is neither NHS nor a trust's three-digit VPD code; {shape}"
                    ),
                )
            })?),
        };
        for (part, label) in [(parts[1], "framework"), (parts[2], "title")] {
            if part.trim().is_empty() {
                return Err(Error::invalid(
                    WHAT,
                    format!("the {label} is empty; {shape}"),
                ));
            }
            if part.trim() != part {
                return Err(Error::invalid(
                    WHAT,
                    format!("the {label} {part:?} starts or ends with a space; remove it"),
                ));
            }
        }
        // The owner is three characters (NHS or a VPD code); the length limit keeps offsets
        // within u16.
        let framework_end = u16::try_from(4 + parts[1].len()).map_err(|_| {
            Error::invalid(
                WHAT,
                format!("it is longer than {MAX_COMPETENCE_NAME_CHARS} characters"),
            )
        })?;
        Ok(Self {
            text: s.into(),
            owner,
            framework_end,
        })
    }
}

impl fmt::Display for CompetenceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
impl fmt::Debug for CompetenceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CompetenceName({})", self.text)
    }
}
string_serde!(CompetenceName);

/// The titles of the Core Skills Training Framework subjects in the default catalogue (the names
/// in the seeds); each is `NHS|CSTF|<title>|`.
pub const CSTF_TITLES: [&str; 10] = [
    "Equality, Diversity and Human Rights - 3 Years",
    "Fire Safety - 1 Year",
    "Health, Safety and Welfare - 3 Years",
    "Infection Prevention and Control - Level 1 - 3 Years",
    "Information Governance - 1 Year",
    "Moving and Handling - Level 1 - 3 Years",
    "NHS Conflict Resolution (England) - 3 Years",
    "Preventing Radicalisation - Levels 1 & 2",
    "Safeguarding Adults - Level 1 and Level 2 - 3 Years",
    "Safeguarding Children - Level 1 - 3 Years",
];

/// A competence in a trust's catalogue: its name and its refresher period.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CompetenceDefinition {
    /// The name (the key).
    pub name: CompetenceName,
    /// How long a record stays valid, in months, when its expiry is worked out from the catalogue
    /// ([`RecordExpiry::Refresher`]); `None`: records never expire unless given an expiry.
    pub refresher_months: Option<u32>,
    /// Whether the trust still uses it. A trust overrides a national competence with
    /// `active: false` to hide it from its catalogue.
    pub active: bool,
}

impl CompetenceDefinition {
    /// A definition whose refresher period is the one its name states.
    pub fn from_name(name: CompetenceName) -> Self {
        Self {
            refresher_months: name.refresher_months(),
            name,
            active: true,
        }
    }

    /// Checks the refresher period (1 to 600 months).
    pub(crate) fn check(&self) -> Result<()> {
        if let Some(m) = self.refresher_months
            && !(1..=600).contains(&m)
        {
            return Err(Error::invalid(
                "refresher period",
                "it must be from 1 to 600 months, or none for a competence that never expires",
            ));
        }
        Ok(())
    }
}

/// The national default catalogue: the CSTF subjects of [`CSTF_TITLES`], each with the refresher
/// period its name states. A trust extends and overrides it with
/// [`crate::Esr::define_competence`].
pub fn default_catalogue() -> Vec<CompetenceDefinition> {
    CSTF_TITLES
        .iter()
        .filter_map(|t| CompetenceName::new(CompetenceOwner::National, "CSTF", t).ok())
        .map(CompetenceDefinition::from_name)
        .collect()
}

/// The national CSTF competence with this title, if it is one of [`CSTF_TITLES`].
pub fn cstf(title: &str) -> Result<CompetenceName> {
    if !CSTF_TITLES.contains(&title) {
        return Err(Error::invalid(
            "CSTF subject",
            format!("{title:?} is not in the default catalogue; see CSTF_TITLES"),
        ));
    }
    CompetenceName::new(CompetenceOwner::National, "CSTF", title)
}

/// A competence level as ESR prints it: `0 - Not Assessed`, `1 - Assessed`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CompetenceLevel {
    rank: u8,
    label: String,
}

impl CompetenceLevel {
    /// `0 - Not Assessed`.
    pub fn not_assessed() -> Self {
        Self {
            rank: 0,
            label: "Not Assessed".into(),
        }
    }
    /// `1 - Assessed`.
    pub fn assessed() -> Self {
        Self {
            rank: 1,
            label: "Assessed".into(),
        }
    }
    /// The number before the dash.
    pub fn rank(&self) -> u8 {
        self.rank
    }
    /// The words after it.
    pub fn label(&self) -> &str {
        &self.label
    }
}

impl Default for CompetenceLevel {
    fn default() -> Self {
        Self::not_assessed()
    }
}

impl FromStr for CompetenceLevel {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        // The rank, " - " and the label: checked first, so the message never echoes a long text.
        crate::values::limits::check_chars(
            "competence level",
            s.trim(),
            4 + crate::values::limits::MAX_COMPETENCE_LEVEL_CHARS,
        )?;
        let bad = || {
            Error::invalid(
                "competence level",
                format!(
                    "{s:?} is not a level; write it as a number, ' - ' and a label (1 - Assessed)"
                ),
            )
        };
        let (rank, label) = s.trim().split_once(" - ").ok_or_else(bad)?;
        let rank: u8 = rank.trim().parse().map_err(|_| bad())?;
        let label = clean_text(
            "competence level",
            label,
            crate::values::limits::MAX_COMPETENCE_LEVEL_CHARS,
        )?;
        Ok(Self { rank, label })
    }
}

impl fmt::Display for CompetenceLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} - {}", self.rank, self.label)
    }
}
impl fmt::Debug for CompetenceLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CompetenceLevel({self})")
    }
}
string_serde!(CompetenceLevel);

/// What a requirement attaches to. An assignment needs what its position, its organisation unit
/// (or any unit above it) and its job require.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum RequirementTarget {
    /// Every assignment in this position.
    Position(PositionId),
    /// Every assignment in this unit or any unit below it.
    OrgUnit(OrgUnitId),
    /// Every assignment with this job title ([`crate::people::Assignment::title`], compared exactly).
    Job(String),
}

impl fmt::Display for RequirementTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Position(p) => write!(f, "position {p}"),
            Self::OrgUnit(u) => write!(f, "organisation unit {u}"),
            Self::Job(j) => write!(f, "job {j}"),
        }
    }
}

/// A competence required of a position, unit or job, essential or not. Keyed by trust, target and
/// competence.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Requirement {
    /// The trust.
    pub vpd: VpdCode,
    /// What it attaches to.
    pub target: RequirementTarget,
    /// The competence needed.
    pub competence: CompetenceName,
    /// Essential requirements count towards the compliance percentage; others are shown only.
    pub essential: bool,
    /// The least level that satisfies it ("Min Req": `1 - Assessed`); a record below it is Red
    /// for this requirement. `None`: any level.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub min_level: Option<CompetenceLevel>,
}

impl Requirement {
    /// Checks the target's text (a job title is one line of at most 200 characters).
    pub(crate) fn check(&self) -> Result<()> {
        if let RequirementTarget::Job(j) = &self.target
            && clean_text("job", j, crate::values::MAX_TEXT_CHARS)? != *j
        {
            return Err(Error::invalid(
                "job",
                "it starts or ends with a space; give the title exactly as on the assignment",
            ));
        }
        Ok(())
    }
}

/// A configured equivalence: holding `held` satisfies a requirement for `satisfies`
/// (Safeguarding Adults Level 2 satisfying Level 1). Equivalences chain: if A satisfies B and B
/// satisfies C, A satisfies C.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Equivalence {
    /// The trust.
    pub vpd: VpdCode,
    /// The competence held.
    pub held: CompetenceName,
    /// The competence it counts as.
    pub satisfies: CompetenceName,
}

/// A person holding a competence. Keyed by trust, person, competence and achieved date: a person
/// may hold several records of one competence, and the one with the latest expiry counts (no
/// expiry counts as the latest).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CompetenceRecord {
    /// The trust.
    pub vpd: VpdCode,
    /// Who holds it.
    pub employee_number: EmployeeNumber,
    /// What.
    pub competence: CompetenceName,
    /// When it was achieved.
    pub achieved: NaiveDate,
    /// The last day it is valid (a record is valid through its expiry date); `None`: never
    /// expires.
    pub expiry: Option<NaiveDate>,
    /// The level awarded.
    pub level: CompetenceLevel,
}

/// How a new record's expiry is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum RecordExpiry {
    /// It never expires.
    Never,
    /// It is valid through this date.
    On(NaiveDate),
    /// The achieved date plus the catalogue's refresher period for the competence (month-end
    /// clamped); a competence with no refresher period never expires.
    Refresher,
}

/// What is needed to record that a person holds a competence.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NewCompetenceRecord {
    /// The competence.
    pub competence: CompetenceName,
    /// When it was achieved.
    pub achieved: NaiveDate,
    /// Its expiry.
    pub expiry: RecordExpiry,
    /// The level awarded.
    pub level: CompetenceLevel,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::values::add_months;
    use proptest::prelude::*;

    #[test]
    fn names_parse_and_print_back() {
        for s in [
            "NHS|CSTF|Fire Safety - 2 Years|",
            "297|LOCAL|Sepsis Awareness|",
            "NHS|CSTF|Preventing Radicalisation - Levels 1 & 2|",
        ] {
            let n: CompetenceName = s.parse().unwrap();
            assert_eq!(n.to_string(), s);
        }
        let n: CompetenceName = "NHS|CSTF|Fire Safety - 2 Years|".parse().unwrap();
        assert_eq!(n.owner(), CompetenceOwner::National);
        assert_eq!(n.framework(), "CSTF");
        assert_eq!(n.title(), "Fire Safety - 2 Years");
        assert_eq!(n.display_name(), "NHS(CSTF)Fire Safety - 2 Years");
        let l: CompetenceName = "297|LOCAL|Title|".parse().unwrap();
        assert_eq!(l.owner(), CompetenceOwner::Local("297".parse().unwrap()));
    }

    #[test]
    fn bad_names_are_refused_with_the_reason() {
        for s in [
            "",
            "NHS|CSTF|Fire Safety",
            "NHS|CSTF|Fire Safety|extra|",
            "NHS||Fire|",
            "NHS|CSTF||",
            "XYZ|CSTF|Fire|",
            "NHS|CSTF| Fire|",
            "NHS|CSTF|Fire\n|",
        ] {
            let e = s.parse::<CompetenceName>().unwrap_err();
            assert!(matches!(e, Error::InvalidInput { .. }), "{s:?}: {e}");
        }
    }

    #[test]
    fn refresher_periods_come_from_the_title() {
        let m = |t: &str| refresher_months(t);
        assert_eq!(m("Fire Safety - 1 Year"), Some(12));
        assert_eq!(m("Fire Safety - 2 Years"), Some(24));
        assert_eq!(m("Moving and Handling - Level 1 - 3 Years"), Some(36));
        assert_eq!(m("Blood Transfusion - 6 Months"), Some(6));
        assert_eq!(m("Preventing Radicalisation - Levels 1 & 2"), None);
        assert_eq!(m("Safeguarding Adults - Level 2"), None);
        assert_eq!(m("Something - 0 Years"), None);
        assert_eq!(m("Something - 3 Years old"), None);
    }

    #[test]
    fn the_default_catalogue_holds_every_cstf_subject() {
        let c = default_catalogue();
        assert_eq!(c.len(), CSTF_TITLES.len());
        let fire = c
            .iter()
            .find(|d| d.name.title() == "Fire Safety - 1 Year")
            .unwrap();
        assert_eq!(fire.refresher_months, Some(12));
        assert_eq!(fire.name.as_str(), "NHS|CSTF|Fire Safety - 1 Year|");
        let prevent = c
            .iter()
            .find(|d| d.name.title().starts_with("Preventing"))
            .unwrap();
        assert_eq!(prevent.refresher_months, None);
        assert!(cstf("Not a subject").is_err());
    }

    #[test]
    fn levels_parse_and_print_back() {
        let l: CompetenceLevel = "1 - Assessed".parse().unwrap();
        assert_eq!(l, CompetenceLevel::assessed());
        assert_eq!(l.to_string(), "1 - Assessed");
        assert_eq!(CompetenceLevel::default().to_string(), "0 - Not Assessed");
        assert!("Assessed".parse::<CompetenceLevel>().is_err());
        assert!("x - Assessed".parse::<CompetenceLevel>().is_err());
        // A long level is refused by its length, without being echoed.
        let long = format!(
            "1 - {}",
            "L".repeat(crate::values::limits::MAX_COMPETENCE_LEVEL_CHARS)
        );
        assert!(long.parse::<CompetenceLevel>().is_ok());
        let e = format!("{long}L").parse::<CompetenceLevel>().unwrap_err();
        assert!(
            e.to_string()
                .contains("it is 65 characters long; the most is 64"),
            "{e}"
        );
    }

    #[test]
    fn months_clamp_to_the_month_end() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(add_months(d(2026, 11, 30), 3).unwrap(), d(2027, 2, 28));
        assert_eq!(add_months(d(2027, 11, 30), 3).unwrap(), d(2028, 2, 29));
        assert_eq!(add_months(d(2026, 8, 31), 3).unwrap(), d(2026, 11, 30));
        assert!(add_months(NaiveDate::MAX, 1).is_err());
    }

    proptest! {
        #[test]
        fn any_accepted_name_prints_back(s in "\\PC{0,40}") {
            if let Ok(n) = s.parse::<CompetenceName>() {
                prop_assert_eq!(n.to_string(), s.clone());
                prop_assert_eq!(n.to_string().parse::<CompetenceName>().unwrap(), n);
            }
        }

        #[test]
        fn built_names_round_trip(fw in "[A-Za-z]{1,8}", title in "[A-Za-z][A-Za-z ,&()-]{0,30}[A-Za-z]") {
            let n = CompetenceName::new(CompetenceOwner::National, &fw, &title).unwrap();
            prop_assert_eq!(n.framework(), fw.as_str());
            prop_assert_eq!(n.title(), title.as_str());
            prop_assert_eq!(n.to_string().parse::<CompetenceName>().unwrap(), n);
        }
    }
}
