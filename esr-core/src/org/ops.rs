//! The trust operations of [`Esr`](crate::Esr): creating trusts and organisation units, and
//! changing a trust's settings.

use crate::audit::{AuditActor, AuditEvent};
use crate::error::{Error, Result};
use crate::org::{NationalPortlet, Trust, TrustSettings, UpgradeAccess};
use crate::service::*;
use crate::store::Store;
use crate::urp::Function;
use crate::values::Clock;
use crate::values::{OrgUnitId, VpdCode};

impl<S: Store, C: Clock> Esr<S, C> {
    /// Creates a trust (a tenant). Done by the embedding system when a trust is on-boarded.
    pub fn create_trust(&self, vpd: VpdCode, name: &str, settings: TrustSettings) -> Result<Trust> {
        let now = self.clock.now();
        let trust = Trust::new(vpd, name, settings, now)?;
        self.store.transaction(|tx| {
            if tx.trust(vpd)?.is_some() {
                return Err(Error::TrustExists(vpd));
            }
            tx.put_trust(&trust)?;
            audit(
                tx,
                vpd,
                now,
                AuditActor::System("trust set-up".into()),
                AuditEvent::TrustCreated {
                    name: trust.name.clone(),
                },
            )?;
            Ok(trust.clone())
        })
    }

    /// The trust with this code.
    pub fn trust(&self, vpd: VpdCode) -> Result<Trust> {
        crate::store::read_mostly(&self.store, |tx| trust_of(tx, vpd))
    }

    /// Adds an organisation unit under `parent` (needs Maintain workstructures).
    pub fn add_org_unit(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        id: OrgUnitId,
        name: &str,
        parent: Option<OrgUnitId>,
    ) -> Result<()> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::MaintainWorkstructures, now)?;
            let mut trust = trust_of(tx, vpd)?;
            trust.add_org_unit(id.clone(), name, parent.clone())?;
            tx.put_trust(&trust)?;
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::OrgUnitAdded {
                    unit: id.clone(),
                    parent: parent.clone(),
                },
            )
        })
    }

    pub(crate) fn change_settings(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        function: Function,
        setting: &str,
        value: String,
        change: impl Fn(&mut TrustSettings) -> Result<()>,
    ) -> Result<TrustSettings> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, function, now)?;
            let mut trust = trust_of(tx, vpd)?;
            change(&mut trust.settings)?;
            tx.put_trust(&trust)?;
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::SettingChanged {
                    setting: setting.into(),
                    value: value.clone(),
                },
            )?;
            Ok(trust.settings)
        })
    }

    /// Sets Automatic Internet Access (needs Maintain workstructures).
    pub fn set_automatic_internet_access(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        on: bool,
    ) -> Result<TrustSettings> {
        self.change_settings(
            actor,
            vpd,
            Function::MaintainWorkstructures,
            "Automatic Internet Access",
            yes_no(on).into(),
            |s| {
                s.automatic_internet_access = on;
                Ok(())
            },
        )
    }

    /// Sets Upgrade Access for Manager and Professional users (needs Portal administration).
    pub fn set_upgrade_access(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        upgrade: UpgradeAccess,
    ) -> Result<TrustSettings> {
        let value = format!(
            "Manager {}, Professional {}",
            enabled(upgrade.manager),
            enabled(upgrade.professional)
        );
        self.change_settings(
            actor,
            vpd,
            Function::AdministerPortal,
            "Upgrade Access",
            value,
            |s| {
                s.upgrade_access = upgrade;
                Ok(())
            },
        )
    }

    /// Switches a national Manager Dashboard portlet on or off (needs Portal administration).
    pub fn set_portlet(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        portlet: NationalPortlet,
        on: bool,
    ) -> Result<TrustSettings> {
        self.change_settings(
            actor,
            vpd,
            Function::AdministerPortal,
            portlet.name(),
            if on { "on" } else { "off" }.into(),
            |s| {
                s.dashboard.set_enabled(portlet, on);
                Ok(())
            },
        )
    }

    /// Adds a local BI portlet to the Manager Dashboard; a fourth is refused (needs Portal
    /// administration).
    pub fn add_local_bi_portlet(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        name: &str,
    ) -> Result<TrustSettings> {
        self.change_settings(
            actor,
            vpd,
            Function::AdministerPortal,
            "local BI portlet added",
            name.trim().into(),
            |s| s.dashboard.add_local_bi_portlet(name),
        )
    }

    /// Removes a local BI portlet (needs Portal administration).
    pub fn remove_local_bi_portlet(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        name: &str,
    ) -> Result<TrustSettings> {
        self.change_settings(
            actor,
            vpd,
            Function::AdministerPortal,
            "local BI portlet removed",
            name.trim().into(),
            |s| s.dashboard.remove_local_bi_portlet(name),
        )
    }
}
