//! The programme policy (`policies/programme.toml`): messaging limits, alert deadlines and
//! support resources. Loaded and validated at start-up; errors name the file and line.

use std::path::Path;

use serde::{Deserialize, Serialize};

const BUILTIN: &str = include_str!("../policies/programme.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgrammePolicy {
    pub messaging: MessagingPolicy,
    pub alerts: AlertPolicy,
    #[serde(default)]
    pub support_resources: Vec<SupportResource>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagingPolicy {
    pub max_per_minute: i64,
    pub max_per_hour: i64,
    pub held_wait_text: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertPolicy {
    pub urgent_minutes: i64,
    pub high_minutes: i64,
    pub normal_minutes: i64,
    pub repeated_holds_count: i64,
    pub repeated_holds_days: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SupportResource {
    pub name: String,
    pub contact: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct ProgrammePolicyError {
    pub file: String,
    pub problem: String,
}

impl ProgrammePolicy {
    pub fn builtin() -> ProgrammePolicy {
        Self::parse(BUILTIN, "policies/programme.toml (built in)").expect("the built-in programme policy is valid")
    }

    /// Loads `dir/programme.toml`, or the built-in copy when the file does not exist.
    pub fn load(dir: &Path) -> Result<ProgrammePolicy, ProgrammePolicyError> {
        let path = dir.join("programme.toml");
        if !path.exists() {
            return Ok(Self::builtin());
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ProgrammePolicyError { file: path.display().to_string(), problem: e.to_string() })?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, file: &str) -> Result<ProgrammePolicy, ProgrammePolicyError> {
        let policy: ProgrammePolicy = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1).unwrap_or(0);
            ProgrammePolicyError { file: file.to_owned(), problem: format!("line {line}: {}", e.message()) }
        })?;
        let bad = |problem: &str| Err(ProgrammePolicyError { file: file.to_owned(), problem: problem.to_owned() });
        if policy.messaging.max_per_minute < 1 || policy.messaging.max_per_hour < policy.messaging.max_per_minute {
            return bad("messaging limits must be at least 1 per minute and max_per_hour ≥ max_per_minute");
        }
        let a = &policy.alerts;
        if a.urgent_minutes < 1 || a.high_minutes < a.urgent_minutes || a.normal_minutes < a.high_minutes {
            return bad("alert deadlines must satisfy 1 ≤ urgent ≤ high ≤ normal (minutes)");
        }
        if a.repeated_holds_count < 1 || a.repeated_holds_days < 1 {
            return bad("repeated_holds_count and repeated_holds_days must be at least 1");
        }
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_policy_is_valid() {
        let p = ProgrammePolicy::builtin();
        assert!(p.support_resources.len() >= 3);
    }

    #[test]
    fn errors_name_the_line() {
        let e = ProgrammePolicy::parse(
            "[messaging]\nmax_per_minute = 1\nmax_per_hour = 2\nheld_wait_text = \"x\"\nbogus = 1\n",
            "p.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("p.toml: line 5"), "{e}");
    }
}
