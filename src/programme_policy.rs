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
    pub quiet_hours: QuietHours,
    pub lifecycle: LifecyclePolicy,
    pub agreement: AgreementText,
    #[serde(default)]
    pub questions: Vec<Question>,
    #[serde(default)]
    pub framework: Vec<FrameworkStage>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LifecyclePolicy {
    pub request_response_days: i64,
    pub request_reminder_days: Vec<i64>,
    pub activation_days: i64,
    pub activation_reminder_days: Vec<i64>,
    pub max_open_requests: i64,
    pub match_length_days: i64,
    pub closure_reminder_days_before: i64,
    pub consent_link_days: i64,
    pub background_check_warning_days: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementText {
    pub version: String,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum QuestionKind {
    One,
    Many,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MatchRule {
    /// The same question answered by both; shared answers count.
    Overlap,
    /// The student's answer compared with the mentor's answer to `against`.
    Offers,
    /// Like overlap, but no shared answer excludes the mentor.
    Required,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub key: String,
    pub label: String,
    #[serde(rename = "for")]
    pub audience: Vec<String>,
    pub kind: QuestionKind,
    pub options: Vec<String>,
    #[serde(rename = "match")]
    pub match_rule: Option<MatchRule>,
    pub against: Option<String>,
    #[serde(default)]
    pub weight: i64,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkStage {
    pub weeks: [i64; 2],
    pub title: String,
    pub prompts: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    pub utc_offset_minutes: i32,
    pub start: String,
    pub end: String,
}

impl QuietHours {
    fn minutes(s: &str) -> Option<i64> {
        let (h, m) = s.split_once(':')?;
        let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
        ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
    }

    /// When a notification due at `at` (UTC) may be sent: `at` itself outside quiet hours,
    /// else the end of the quiet period.
    pub fn next_allowed(&self, at: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
        let (Some(start), Some(end)) = (Self::minutes(&self.start), Self::minutes(&self.end)) else { return at };
        let local = at + chrono::Duration::minutes(self.utc_offset_minutes as i64);
        let now_min = chrono::Timelike::hour(&local) as i64 * 60 + chrono::Timelike::minute(&local) as i64;
        let quiet = if start <= end { now_min >= start && now_min < end } else { now_min >= start || now_min < end };
        if !quiet {
            return at;
        }
        let mut wait = end - now_min;
        if wait <= 0 {
            wait += 24 * 60;
        }
        let rounded = at - chrono::Duration::seconds(chrono::Timelike::second(&local) as i64);
        rounded + chrono::Duration::minutes(wait)
    }
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
        let l = &policy.lifecycle;
        if l.request_response_days < 1
            || l.request_reminder_days.iter().any(|d| *d < 1 || *d >= l.request_response_days)
        {
            return bad("request reminders must fall inside request_response_days");
        }
        if l.activation_days < 1 || l.activation_reminder_days.iter().any(|d| *d < 1 || *d >= l.activation_days) {
            return bad("activation reminders must fall inside activation_days");
        }
        if l.max_open_requests < 1 || l.match_length_days < 30 || l.consent_link_days < 1 {
            return bad("max_open_requests ≥ 1, match_length_days ≥ 30 and consent_link_days ≥ 1 are required");
        }
        let keys: Vec<&str> = policy.questions.iter().map(|q| q.key.as_str()).collect();
        for q in &policy.questions {
            if q.options.is_empty() {
                return bad(&format!("question `{}` has no options", q.key));
            }
            if q.audience.iter().any(|a| a != "student" && a != "mentor") {
                return bad(&format!("question `{}`: `for` lists only student and mentor", q.key));
            }
            if q.match_rule == Some(MatchRule::Offers) && !q.against.as_deref().is_some_and(|a| keys.contains(&a)) {
                return bad(&format!("question `{}` matches against a question that does not exist", q.key));
            }
        }
        let q = &policy.quiet_hours;
        if QuietHours::minutes(&q.start).is_none() || QuietHours::minutes(&q.end).is_none() {
            return bad("quiet_hours start and end must be HH:MM");
        }
        if q.utc_offset_minutes.abs() > 14 * 60 {
            return bad("quiet_hours utc_offset_minutes must be between -840 and 840");
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
    fn quiet_hours_defer_to_the_morning() {
        let q = QuietHours { utc_offset_minutes: -420, start: "21:00".into(), end: "07:00".into() };
        let t = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        // 12:00 UTC = 05:00 local: quiet until 07:00 local = 14:00 UTC.
        assert_eq!(q.next_allowed(t("2026-11-24 12:00:00")), t("2026-11-24 14:00:00"));
        // 20:00 UTC = 13:00 local: fine.
        assert_eq!(q.next_allowed(t("2026-11-24 20:00:00")), t("2026-11-24 20:00:00"));
        // 05:30 UTC = 22:30 local: until 07:00 local next day = 14:00 UTC.
        assert_eq!(q.next_allowed(t("2026-11-25 05:30:00")), t("2026-11-25 14:00:00"));
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
