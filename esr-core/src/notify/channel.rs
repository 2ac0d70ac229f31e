//! The channel rule for notifications (seed 002): what a session may see of its worklist.
//!
//! | session | every kind | kinds in the trust's internet set |
//! |---|---|---|
//! | HSCN with smartcard | view and act | view and act |
//! | internet, not upgraded | count only | count only |
//! | internet, upgraded with a passcode | count only | view and act |
//!
//! The internet set is [`TrustSettings::internet_notifications`], by default
//! [`NotificationType::default_internet_set`].

use crate::access::Channel;
use crate::notify::NotificationType;
use crate::org::TrustSettings;
use std::fmt;

/// How much of a notification a session may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum NotificationVisibility {
    /// It can be viewed and acted on.
    Full,
    /// Only the count of open notifications shows it; its content does not.
    CountOnly,
}

impl NotificationVisibility {
    /// Whether it can be viewed and acted on.
    pub fn is_full(self) -> bool {
        self == Self::Full
    }
}

impl fmt::Display for NotificationVisibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full => "viewable and actionable",
            Self::CountOnly => "counted only",
        })
    }
}

/// Seed 002's rule: on the NHS network every notification can be viewed and acted on; over
/// the internet before an upgrade only the count of open notifications shows; after a passcode
/// upgrade the kinds the trust chose ([`TrustSettings::internet_notifications`]) can be viewed
/// and acted on and the rest still only count.
pub fn notification_visibility(
    channel: Channel,
    upgraded: bool,
    kind: NotificationType,
    settings: &TrustSettings,
) -> NotificationVisibility {
    match channel {
        Channel::Hscn => NotificationVisibility::Full,
        Channel::Internet if upgraded && settings.internet_notifications.contains(&kind) => {
            NotificationVisibility::Full
        }
        Channel::Internet => NotificationVisibility::CountOnly,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// HSCN sees everything; a non-upgraded internet session sees nothing; an upgraded one
        /// sees exactly the trust's set.
        #[test]
        fn the_rule_is_the_table(
            upgraded in any::<bool>(),
            picks in proptest::collection::vec(any::<bool>(), NotificationType::ALL.len()),
        ) {
            let settings = TrustSettings {
                internet_notifications: NotificationType::ALL
                    .iter()
                    .zip(&picks)
                    .filter(|(_, p)| **p)
                    .map(|(k, _)| *k)
                    .collect(),
                ..TrustSettings::default()
            };
            for k in NotificationType::ALL {
                prop_assert!(notification_visibility(Channel::Hscn, upgraded, k, &settings).is_full());
                let internet = notification_visibility(Channel::Internet, upgraded, k, &settings);
                prop_assert_eq!(
                    internet.is_full(),
                    upgraded && settings.internet_notifications.contains(&k)
                );
            }
        }
    }
}
