//! Channels, functions and the access decision (DOMAIN.md, Channels and access levels).
//!
//! | function tier | HSCN + smartcard | internet | internet, upgraded |
//! |---|---|---|---|
//! | employee (ESS-level) | yes | with ESS internet access | with ESS internet access |
//! | manager (Supervisor, Manager, Administrator SS) | yes | no | if Upgrade Access: Manager |
//! | professional remote (dashboards, BI reports) | yes | no | if Upgrade Access: Professional |
//! | HSCN only (administration, BI administration, mobile registration) | yes | never | never |
//!
//! A function must also be granted by a URP the user holds, and a function shown as a Manager
//! Dashboard portlet needs that portlet switched on for the trust.

use crate::org::{NationalPortlet, TrustSettings};
use crate::urp::{Function, Tier, Urp, UrpKind};
use std::collections::BTreeSet;
use std::fmt;

/// How a session reached ESR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Channel {
    /// The NHS network (HSCN), authenticated with a smartcard.
    Hscn,
    /// The internet, authenticated with username and password.
    Internet,
}

impl Channel {
    /// Both channels.
    pub const ALL: [Channel; 2] = [Self::Hscn, Self::Internet];

    /// The channel's short name: `"HSCN"` or `"internet"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hscn => "HSCN",
            Self::Internet => "internet",
        }
    }
}

/// A channel by its short name ([`Channel::name`]), whatever its case.
impl std::str::FromStr for Channel {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        crate::error::by_name("channel", &Self::ALL, Self::name, s)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Hscn => "HSCN with smartcard",
            Self::Internet => "internet",
        })
    }
}

/// Why a function is not available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Denial {
    /// No URP the user holds grants it.
    NotGranted,
    /// The trust has switched its portlet off.
    PortletDisabled(NationalPortlet),
    /// The user has no ESS internet access.
    NoInternetAccess,
    /// Only available on HSCN with a smartcard.
    SmartcardRequired,
    /// Needs this internet session to be upgraded with a one-time passcode.
    UpgradeRequired,
    /// The trust has not enabled Upgrade Access for this kind of user.
    UpgradeAccessDisabled(UrpKind),
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotGranted => f.write_str(
                "none of your URPs grants it; ask your line manager to request the access",
            ),
            Self::PortletDisabled(p) => write!(
                f,
                "your trust has switched off the {p} portlet; ask your portal administrator"
            ),
            Self::NoInternetAccess => f.write_str(
                "you have no ESS internet access; use the NHS network or ask for internet access",
            ),
            Self::SmartcardRequired => {
                f.write_str("it is only available on the NHS network with a smartcard")
            }
            Self::UpgradeRequired => f.write_str(
                "upgrade this internet session with a one-time passcode sent to your registered mobile",
            ),
            Self::UpgradeAccessDisabled(UrpKind::Professional) => f.write_str(
                "your trust has not enabled Upgrade Access (Professional); use the NHS network",
            ),
            Self::UpgradeAccessDisabled(_) => f.write_str(
                "your trust has not enabled Upgrade Access (Manager); use the NHS network",
            ),
        }
    }
}

/// The outcome of an access check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AccessDecision {
    /// The function may be used.
    Allowed,
    /// It may not, and why.
    Denied(Denial),
}

impl AccessDecision {
    /// Whether the function may be used.
    pub fn is_allowed(self) -> bool {
        self == Self::Allowed
    }
}

/// Everything an access decision depends on.
#[derive(Debug, Clone, Copy)]
pub struct AccessContext<'a> {
    /// The URPs the user holds (active grants).
    pub held: &'a BTreeSet<Urp>,
    /// The session's channel.
    pub channel: Channel,
    /// Whether this session has been upgraded.
    pub upgraded: bool,
    /// The trust's settings.
    pub settings: &'a TrustSettings,
    /// Whether the user has ESS internet access (see [`has_internet_access`]).
    pub internet_access: bool,
}

/// ESS internet access: automatic for holders of ESS, ESS Limited Access or External Learner
/// when the trust's Automatic Internet Access is on; otherwise only when approved for the user.
pub fn has_internet_access(
    held: &BTreeSet<Urp>,
    settings: &TrustSettings,
    approved_for_user: bool,
) -> bool {
    approved_for_user
        || (settings.automatic_internet_access
            && held.iter().any(|u| u.kind() == UrpKind::Employee))
}

/// Decides whether `function` may be used in the context given, by the table in this module's
/// documentation.
pub fn decide(function: Function, ctx: &AccessContext<'_>) -> AccessDecision {
    use AccessDecision::{Allowed, Denied};
    if !ctx.held.iter().any(|u| u.functions().contains(&function)) {
        return Denied(Denial::NotGranted);
    }
    if let Some(p) = function.portlet()
        && !ctx.settings.dashboard.is_enabled(p)
    {
        return Denied(Denial::PortletDisabled(p));
    }
    if ctx.channel == Channel::Hscn {
        return Allowed;
    }
    if !ctx.internet_access {
        return Denied(Denial::NoInternetAccess);
    }
    let (enabled, kind) = match function.tier() {
        Tier::Employee => return Allowed,
        Tier::HscnOnly => return Denied(Denial::SmartcardRequired),
        Tier::Manager => (ctx.settings.upgrade_access.manager, UrpKind::Manager),
        Tier::ProfessionalRemote => (
            ctx.settings.upgrade_access.professional,
            UrpKind::Professional,
        ),
    };
    if !enabled {
        Denied(Denial::UpgradeAccessDisabled(kind))
    } else if !ctx.upgraded {
        Denied(Denial::UpgradeRequired)
    } else {
        Allowed
    }
}

/// Every function allowed in the context.
pub fn allowed_functions(ctx: &AccessContext<'_>) -> BTreeSet<Function> {
    Function::ALL
        .into_iter()
        .filter(|f| decide(*f, ctx).is_allowed())
        .collect()
}

/// Why a session cannot be upgraded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum UpgradeBlocker {
    /// It is an HSCN session, which has full access already.
    HscnSession,
    /// The user has no ESS internet access.
    NoInternetAccess,
    /// None of the user's URPs has functions an upgrade would open.
    NothingToUpgrade,
    /// The trust has not enabled Upgrade Access for the user's kind of URP.
    UpgradeAccessDisabled,
    /// No mobile number is registered to send the code to.
    NoRegisteredMobile,
    /// No authenticator app is registered and confirmed to take a code from.
    NoAuthenticator,
}

impl fmt::Display for UpgradeBlocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::HscnSession => {
                "sessions on the NHS network with a smartcard have full access already"
            }
            Self::NoInternetAccess => {
                "you have no ESS internet access; ask a user administrator to approve it"
            }
            Self::NothingToUpgrade => "none of your URPs has functions that an upgrade would open",
            Self::UpgradeAccessDisabled => {
                "your trust has not enabled Upgrade Access for your kind of URP; ask your portal administrator"
            }
            Self::NoRegisteredMobile => {
                "no mobile number is registered; register one from 'Manage Internet Access' on the NHS network"
            }
            Self::NoAuthenticator => {
                "no authenticator app is set up; set one up from 'Manage Internet Access' on the NHS network, or use a texted code"
            }
        })
    }
}

/// Why an internet session could not be upgraded, if it could not; `None` when it can.
/// Upgrading needs an internet session, ESS internet access, a URP whose functions the trust's
/// Upgrade Access opens, and a registered second factor (`has_factor`: a mobile number or an
/// active authenticator app), checked in that order.
pub fn upgrade_blocker(ctx: &AccessContext<'_>, has_factor: bool) -> Option<UpgradeBlocker> {
    if ctx.channel == Channel::Hscn {
        return Some(UpgradeBlocker::HscnSession);
    }
    if !ctx.internet_access {
        return Some(UpgradeBlocker::NoInternetAccess);
    }
    let manager = ctx.held.iter().any(|u| u.kind() == UrpKind::Manager);
    let professional = ctx.held.iter().any(|u| {
        u.functions()
            .iter()
            .any(|f| f.tier() == Tier::ProfessionalRemote)
    });
    if !manager && !professional {
        return Some(UpgradeBlocker::NothingToUpgrade);
    }
    let s = ctx.settings.upgrade_access;
    if !((manager && s.manager) || (professional && s.professional)) {
        return Some(UpgradeBlocker::UpgradeAccessDisabled);
    }
    if !has_factor {
        return Some(UpgradeBlocker::NoRegisteredMobile);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_is_granted_by_some_urp() {
        for f in Function::ALL {
            assert!(
                Urp::ALL.iter().any(|u| u.functions().contains(&f)),
                "{f:?} is granted by nothing"
            );
        }
    }

    #[test]
    fn local_bi_administration_never_over_the_internet() {
        let held = BTreeSet::from([Urp::LocalBiAdministration]);
        let mut settings = TrustSettings::default();
        settings.upgrade_access.professional = true;
        settings.upgrade_access.manager = true;
        for upgraded in [false, true] {
            let ctx = AccessContext {
                held: &held,
                channel: Channel::Internet,
                upgraded,
                settings: &settings,
                internet_access: true,
            };
            assert_eq!(
                decide(Function::AdministerBi, &ctx),
                AccessDecision::Denied(Denial::SmartcardRequired)
            );
        }
    }
}
