//! Organisations: trusts as isolated tenants, their organisation-unit hierarchy and settings.

use crate::error::{Error, Result};
use crate::values::{OrgUnitId, VpdCode, clean_text};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The most locally configured BI portlets a Manager Dashboard may carry.
pub const MAX_LOCAL_BI_PORTLETS: usize = 3;

/// A trust: one tenant, keyed by its VPD code.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Trust {
    /// The tenant key.
    pub vpd: VpdCode,
    /// The trust's name (`Tees, Esk and Wear Valleys NHS Foundation Trust`).
    pub name: String,
    /// Trust-wide settings.
    pub settings: TrustSettings,
    /// The organisation units, each knowing its parent.
    pub org_units: BTreeMap<OrgUnitId, OrgUnit>,
    /// When the trust was created in this library.
    pub created_at: DateTime<Utc>,
}

/// A unit of the trust's hierarchy: a directorate, department or ward.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OrgUnit {
    /// The unit's code.
    pub id: OrgUnitId,
    /// Its name as shown to people.
    pub name: String,
    /// The unit above it; `None` for a top-level unit.
    pub parent: Option<OrgUnitId>,
}

impl Trust {
    /// Checks a trust name and builds an empty trust.
    pub fn new(
        vpd: VpdCode,
        name: &str,
        settings: TrustSettings,
        now: DateTime<Utc>,
    ) -> Result<Self> {
        Ok(Self {
            vpd,
            name: clean_text("trust name", name, crate::values::MAX_TEXT_CHARS)?,
            settings,
            org_units: BTreeMap::new(),
            created_at: now,
        })
    }

    /// The unit, or a clear error naming it.
    pub fn org_unit(&self, id: &OrgUnitId) -> Result<&OrgUnit> {
        self.org_units.get(id).ok_or_else(|| Error::UnknownOrgUnit {
            vpd: self.vpd,
            unit: id.clone(),
        })
    }

    /// Adds a unit under `parent` (which must exist), refusing a duplicate code.
    pub fn add_org_unit(
        &mut self,
        id: OrgUnitId,
        name: &str,
        parent: Option<OrgUnitId>,
    ) -> Result<()> {
        if self.org_units.contains_key(&id) {
            return Err(Error::OrgUnitExists {
                vpd: self.vpd,
                unit: id,
            });
        }
        if let Some(p) = &parent {
            self.org_unit(p)?;
        }
        let name = clean_text(
            "organisation unit name",
            name,
            crate::values::MAX_TEXT_CHARS,
        )?;
        self.org_units
            .insert(id.clone(), OrgUnit { id, name, parent });
        Ok(())
    }

    /// The unit and every unit above it, nearest first. Stops safely on a malformed hierarchy.
    pub fn ancestry(&self, id: &OrgUnitId) -> Vec<OrgUnitId> {
        let mut out = Vec::new();
        let mut cur = Some(id.clone());
        while let Some(u) = cur {
            if out.contains(&u) || out.len() > self.org_units.len() {
                break;
            }
            cur = self.org_units.get(&u).and_then(|x| x.parent.clone());
            out.push(u);
        }
        out
    }

    /// Whether `unit` is `ancestor` or lies anywhere below it.
    pub fn is_within(&self, unit: &OrgUnitId, ancestor: &OrgUnitId) -> bool {
        self.ancestry(unit).iter().any(|u| u == ancestor)
    }
}

/// Trust-wide settings (DOMAIN.md, Organisations).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TrustSettings {
    /// Automatic Internet Access: users holding ESS, ESS Limited Access or External Learner get
    /// ESS internet access without a per-user approval.
    pub automatic_internet_access: bool,
    /// Upgrade Access for Manager and Professional users.
    pub upgrade_access: UpgradeAccess,
    /// The Manager Dashboard's portlets.
    pub dashboard: DashboardConfig,
    /// The text message that carries a one-time passcode.
    #[cfg_attr(feature = "serde", serde(default))]
    pub sms_template: crate::org::SmsTemplate,
    /// The notification kinds an upgraded internet session may view and act on (seed 002);
    /// every other kind shows there only in the count of open notifications, and a session
    /// not upgraded sees only the count. Default:
    /// [`NotificationType::default_internet_set`](crate::notify::NotificationType::default_internet_set).
    #[cfg_attr(
        feature = "serde",
        serde(default = "crate::notify::NotificationType::default_internet_set")
    )]
    pub internet_notifications: std::collections::BTreeSet<crate::notify::NotificationType>,
    /// Days a record change held for approval waits before it expires and can never apply
    /// (1 to 366; default
    /// [`DEFAULT_CHANGE_APPROVAL_DAYS`](crate::notify::DEFAULT_CHANGE_APPROVAL_DAYS)).
    #[cfg_attr(
        feature = "serde",
        serde(default = "crate::notify::default_change_approval_days")
    )]
    pub change_approval_days: u32,
    /// The trust's Caldicott guardian (an employee number of the trust): who approves access
    /// requests raised as exceptions, instead of the person's line manager. `None` until the
    /// trust names one; exception requests are refused until then.
    #[cfg_attr(feature = "serde", serde(default))]
    pub caldicott_guardian: Option<crate::values::EmployeeNumber>,
}

impl Default for TrustSettings {
    fn default() -> Self {
        Self {
            automatic_internet_access: false,
            upgrade_access: UpgradeAccess::default(),
            dashboard: DashboardConfig::default(),
            sms_template: crate::org::SmsTemplate::default(),
            internet_notifications: crate::notify::NotificationType::default_internet_set(),
            change_approval_days: crate::notify::DEFAULT_CHANGE_APPROVAL_DAYS,
            caldicott_guardian: None,
        }
    }
}

/// Upgrade Access, set in Portal Administration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct UpgradeAccess {
    /// Manager, Supervisor and Administrator Self Service over an upgraded internet session.
    pub manager: bool,
    /// Professional dashboards and BI reports over an upgraded internet session.
    pub professional: bool,
}

/// A national Manager Dashboard portlet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum NationalPortlet {
    /// Team Absence.
    TeamAbsence,
    /// Team Appraisals.
    TeamAppraisals,
    /// Team Compliance.
    TeamCompliance,
    /// MSS Team Actions Calendar.
    TeamActionsCalendar,
    /// Organisation Chart.
    OrganisationChart,
}

impl NationalPortlet {
    /// Every national portlet, in the order ESR lists them.
    pub const ALL: [NationalPortlet; 5] = [
        Self::TeamAbsence,
        Self::TeamAppraisals,
        Self::TeamCompliance,
        Self::TeamActionsCalendar,
        Self::OrganisationChart,
    ];

    /// The portlet's name as ESR shows it.
    pub fn name(self) -> &'static str {
        match self {
            Self::TeamAbsence => "Team Absence",
            Self::TeamAppraisals => "Team Appraisals",
            Self::TeamCompliance => "Team Compliance",
            Self::TeamActionsCalendar => "MSS Team Actions Calendar",
            Self::OrganisationChart => "Organisation Chart",
        }
    }
}

/// A portlet by its name ([`NationalPortlet::name`], `"Team Absence"`), whatever its case.
impl std::str::FromStr for NationalPortlet {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        crate::error::by_name("portlet", &Self::ALL, Self::name, s)
    }
}

impl fmt::Display for NationalPortlet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The Manager Dashboard: which national portlets are on, and up to three local BI portlets.
/// Every national portlet is on by default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(try_from = "DashboardRepr", into = "DashboardRepr")
)]
pub struct DashboardConfig {
    disabled: BTreeSet<NationalPortlet>,
    local_bi: Vec<String>,
}

impl DashboardConfig {
    /// Whether a national portlet is on.
    pub fn is_enabled(&self, portlet: NationalPortlet) -> bool {
        !self.disabled.contains(&portlet)
    }

    /// Turns a national portlet on or off.
    pub fn set_enabled(&mut self, portlet: NationalPortlet, on: bool) {
        if on {
            self.disabled.remove(&portlet);
        } else {
            self.disabled.insert(portlet);
        }
    }

    /// The national portlets that are on.
    pub fn enabled(&self) -> Vec<NationalPortlet> {
        NationalPortlet::ALL
            .into_iter()
            .filter(|p| self.is_enabled(*p))
            .collect()
    }

    /// The local BI portlets, in the order they were added.
    pub fn local_bi_portlets(&self) -> &[String] {
        &self.local_bi
    }

    /// Adds a local BI portlet; a fourth is refused with [`Error::TooManyLocalPortlets`], and a
    /// name already present is refused too.
    pub fn add_local_bi_portlet(&mut self, name: &str) -> Result<()> {
        let name = clean_text(
            "portlet name",
            name,
            crate::values::limits::MAX_PORTLET_NAME_CHARS,
        )?;
        if self.local_bi.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
            return Err(Error::invalid(
                "portlet name",
                format!("the dashboard already has a local portlet called {name:?}"),
            ));
        }
        if self.local_bi.len() >= MAX_LOCAL_BI_PORTLETS {
            return Err(Error::TooManyLocalPortlets {
                max: MAX_LOCAL_BI_PORTLETS,
            });
        }
        self.local_bi.push(name);
        Ok(())
    }

    /// Removes a local BI portlet by name; says so if there is none of that name.
    pub fn remove_local_bi_portlet(&mut self, name: &str) -> Result<()> {
        let name = clean_text(
            "portlet name",
            name,
            crate::values::limits::MAX_PORTLET_NAME_CHARS,
        )?;
        let before = self.local_bi.len();
        self.local_bi.retain(|n| !n.eq_ignore_ascii_case(&name));
        if self.local_bi.len() == before {
            return Err(Error::invalid(
                "portlet name",
                format!("the dashboard has no local portlet called {name:?}"),
            ));
        }
        Ok(())
    }
}

#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
struct DashboardRepr {
    enabled: Vec<NationalPortlet>,
    local_bi: Vec<String>,
}

#[cfg(feature = "serde")]
impl TryFrom<DashboardRepr> for DashboardConfig {
    type Error = Error;
    fn try_from(r: DashboardRepr) -> Result<Self> {
        let mut d = DashboardConfig::default();
        for p in NationalPortlet::ALL {
            d.set_enabled(p, r.enabled.contains(&p));
        }
        for name in &r.local_bi {
            d.add_local_bi_portlet(name)?;
        }
        Ok(d)
    }
}

#[cfg(feature = "serde")]
impl From<DashboardConfig> for DashboardRepr {
    fn from(d: DashboardConfig) -> Self {
        Self {
            enabled: d.enabled(),
            local_bi: d.local_bi,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fourth_local_portlet_is_refused() {
        let mut d = DashboardConfig::default();
        for n in ["Bank usage", "Overtime", "Vacancies"] {
            d.add_local_bi_portlet(n).unwrap();
        }
        let before = d.clone();
        assert_eq!(
            d.add_local_bi_portlet("Agency spend"),
            Err(Error::TooManyLocalPortlets { max: 3 })
        );
        assert_eq!(d, before, "a refusal changes nothing");
        d.remove_local_bi_portlet("overtime").unwrap();
        d.add_local_bi_portlet("Agency spend").unwrap();
        assert!(d.add_local_bi_portlet("agency SPEND").is_err());
    }

    #[test]
    fn portlets_default_on() {
        let mut d = DashboardConfig::default();
        assert_eq!(d.enabled().len(), 5);
        d.set_enabled(NationalPortlet::TeamAppraisals, false);
        assert!(!d.is_enabled(NationalPortlet::TeamAppraisals));
        assert_eq!(d.enabled().len(), 4);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn dashboard_deserialisation_enforces_the_limit() {
        let bad = r#"{"enabled":[],"local_bi":["a","b","c","d"]}"#;
        assert!(serde_json::from_str::<DashboardConfig>(bad).is_err());
        let good = r#"{"enabled":["TeamCompliance"],"local_bi":["a"]}"#;
        let d: DashboardConfig = serde_json::from_str(good).unwrap();
        assert_eq!(d.enabled(), vec![NationalPortlet::TeamCompliance]);
    }

    #[test]
    fn hierarchy() {
        let now = chrono::DateTime::UNIX_EPOCH;
        let mut t = Trust::new(
            "297".parse().unwrap(),
            "Test Trust",
            TrustSettings::default(),
            now,
        )
        .unwrap();
        let id = |s: &str| s.parse::<OrgUnitId>().unwrap();
        t.add_org_unit(id("Medicine"), "Medicine Directorate", None)
            .unwrap();
        t.add_org_unit(id("Ward 5"), "Ward 5", Some(id("Medicine")))
            .unwrap();
        assert!(
            t.add_org_unit(id("Ward 6"), "Ward 6", Some(id("Surgery")))
                .is_err()
        );
        assert!(t.add_org_unit(id("Ward 5"), "again", None).is_err());
        assert!(t.is_within(&id("Ward 5"), &id("Medicine")));
        assert!(!t.is_within(&id("Medicine"), &id("Ward 5")));
        assert_eq!(
            t.ancestry(&id("Ward 5")),
            vec![id("Ward 5"), id("Medicine")]
        );
    }
}
