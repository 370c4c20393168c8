//! Moderation pipeline: a pure library (text and conversation context in, verdict out).
//!
//! Stages: sanitise (`SafeHtml` for display) → normalise (views mapped back to original
//! code points) → detect (contact details, phrase lexicons) → classify (optional
//! [`Classifier`]) → decide (policy per category and direction).

mod detect;
mod eval;
#[doc(hidden)]
pub mod fuzzing;
mod html;
mod jsonl;
mod normalize;
mod pipeline;
pub mod policy;
mod split;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use eval::{evaluate, EvalReport, SpanCounts, SplitReport};
pub use html::SafeHtml;
pub use jsonl::run_jsonl;
pub use pipeline::Pipeline;
pub use policy::{Policy, PolicyError};

/// Who sent the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SenderRole {
    Student,
    Mentor,
}

impl SenderRole {
    pub fn as_str(self) -> &'static str {
        match self {
            SenderRole::Student => "student",
            SenderRole::Mentor => "mentor",
        }
    }
}

/// Moderation categories (fixed names, see DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    ContactInfo,
    OffPlatform,
    Meeting,
    PersonalInfo,
    Secrecy,
    Gifts,
    Sexual,
    Harassment,
    SelfHarm,
}

impl Category {
    pub const ALL: [Category; 9] = [
        Category::ContactInfo,
        Category::OffPlatform,
        Category::Meeting,
        Category::PersonalInfo,
        Category::Secrecy,
        Category::Gifts,
        Category::Sexual,
        Category::Harassment,
        Category::SelfHarm,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::ContactInfo => "contact_info",
            Category::OffPlatform => "off_platform",
            Category::Meeting => "meeting",
            Category::PersonalInfo => "personal_info",
            Category::Secrecy => "secrecy",
            Category::Gifts => "gifts",
            Category::Sexual => "sexual",
            Category::Harassment => "harassment",
            Category::SelfHarm => "self_harm",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// What happens to the message. Ordered by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Deliver,
    Redact,
    Hold,
    Block,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Deliver => "deliver",
            Action::Redact => "redact",
            Action::Hold => "hold",
            Action::Block => "block",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        [Action::Deliver, Action::Redact, Action::Hold, Action::Block].into_iter().find(|a| a.as_str() == s)
    }
}

/// A contact detail found in the text. `start`/`end` are code-point offsets into the
/// original text, end exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Finding {
    pub kind: String,
    pub start: usize,
    pub end: usize,
}

/// An earlier message of the same conversation (oldest first in the slice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorMessage {
    pub sender: String,
    pub sender_role: SenderRole,
    pub text: String,
    /// How long ago it was sent; `None` = treat as recent.
    pub age_seconds: Option<u64>,
}

/// The decision for one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Verdict {
    pub action: Action,
    pub escalate: bool,
    pub flags: Vec<Category>,
    /// A score in 0..=1 for every category.
    pub scores: BTreeMap<Category, f32>,
    pub findings: Vec<Finding>,
    /// Exactly the input for `deliver`, the masked text for `redact`, null otherwise.
    pub delivered_text: Option<String>,
    /// Plain words for the sender.
    pub reasons: Vec<String>,
    /// Details for reviewers.
    pub reviewer_notes: Vec<String>,
    pub policy_version: String,
}

/// A classifier could not score the message.
#[derive(Debug, thiserror::Error)]
#[error("classifier unavailable: {0}")]
pub struct ClassifierError(pub String);

/// An optional model stage; scores are 0..=1 per category (missing categories = 0).
pub trait Classifier: Send + Sync {
    fn score(&self, text: &str, context: &[PriorMessage]) -> Result<BTreeMap<Category, f32>, ClassifierError>;
}

/// Input refused outright.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModerationError {
    #[error("The message is empty.")]
    Empty,
    #[error("The message is too long: {len} characters, the limit is {max}.")]
    TooLong { len: usize, max: usize },
}
