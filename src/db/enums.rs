//! Enumerations stored as TEXT with a CHECK constraint.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($text => Ok($name::$variant),)+ _ => Err(UnknownValue(format!("`{}` is not a valid {}", s, stringify!($name)))) }
            }
        }
    };
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnknownValue(pub String);

text_enum!(
    /// What a person is on the platform; decides capabilities (see `access`).
    Role { Student => "student", Mentor => "mentor", Guardian => "guardian", Teacher => "teacher", Coordinator => "coordinator" }
);

text_enum!(UserStatus { Invited => "invited", Active => "active", Suspended => "suspended", Deactivated => "deactivated" });

text_enum!(MatchStatus {
    AwaitingAgreement => "awaiting_agreement",
    AwaitingConsent => "awaiting_consent",
    Active => "active",
    Paused => "paused",
    Completed => "completed",
    Ended => "ended",
});

text_enum!(RequestStatus {
    AwaitingReview => "awaiting_review",
    Open => "open",
    Accepted => "accepted",
    Declined => "declined",
    Expired => "expired",
    Cancelled => "cancelled",
    Withdrawn => "withdrawn",
});

text_enum!(MessageStatus {
    Pending => "pending",
    Delivered => "delivered",
    Redacted => "redacted",
    Held => "held",
    Blocked => "blocked",
    Rejected => "rejected",
});

text_enum!(BackgroundCheck { NotStarted => "not_started", Pending => "pending", Passed => "passed", Failed => "failed" });

text_enum!(ConversationStatus { Open => "open", Paused => "paused", Locked => "locked" });

text_enum!(AlertSeverity { Urgent => "urgent", High => "high", Normal => "normal" });

text_enum!(AlertStatus { Open => "open", Acknowledged => "acknowledged", Resolved => "resolved" });

impl Role {
    pub fn label(self) -> &'static str {
        match self {
            Role::Student => "Student",
            Role::Mentor => "Mentor",
            Role::Guardian => "Guardian",
            Role::Teacher => "Teacher",
            Role::Coordinator => "Coordinator",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_text() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), *role);
        }
        assert!("admin".parse::<Role>().is_err());
    }
}
