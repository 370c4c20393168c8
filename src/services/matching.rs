//! Questionnaires and matching: answers are validated against the questions in
//! `policies/programme.toml`; suggestions score every eligible mentor and offer the top three
//! with the reasons in words.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::access::Actor;
use crate::audit::{self, AuditEntry};
use crate::db::enums::Role;
use crate::db::models::QuestionnaireAnswer;
use crate::db::schema::{matches, mentor_profiles, mentorship_requests, questionnaire_answers, users};
use crate::db::{new_id, now, DbConnection};
use crate::error::{AppError, AppResult};
use crate::programme_policy::{MatchRule, ProgrammePolicy, QuestionKind};

pub type Answers = BTreeMap<String, Vec<String>>;

/// Checks answers against the questionnaire; the error names the question and says why.
pub fn validate_answers(policy: &ProgrammePolicy, role: Role, answers: &Answers) -> AppResult<()> {
    for (key, values) in answers {
        let question = policy
            .questions
            .iter()
            .find(|q| &q.key == key && q.audience.iter().any(|a| a == role.as_str()))
            .ok_or_else(|| AppError::bad_request(format!("There is no question `{key}` for a {}.", role.as_str())))?;
        if question.kind == QuestionKind::One && values.len() > 1 {
            return Err(AppError::bad_request(format!("\"{}\": please pick just one answer.", question.label)));
        }
        for v in values {
            if !question.options.iter().any(|o| o == v) {
                return Err(AppError::bad_request(format!("\"{}\": `{v}` is not one of the choices.", question.label)));
            }
        }
    }
    Ok(())
}

pub fn save_answers(
    conn: &mut DbConnection,
    policy: &ProgrammePolicy,
    actor: &Actor,
    answers: &Answers,
) -> AppResult<()> {
    if !matches!(actor.role, Role::Student | Role::Mentor) {
        return Err(AppError::not_found());
    }
    validate_answers(policy, actor.role, answers)?;
    let at = now();
    crate::db::write_transaction(conn, |conn| {
        for (key, values) in answers {
            diesel::delete(
                questionnaire_answers::table
                    .filter(questionnaire_answers::user_id.eq(&actor.user_id))
                    .filter(questionnaire_answers::question_key.eq(key)),
            )
            .execute(conn)?;
            let mut values = values.clone();
            values.sort();
            values.dedup();
            diesel::insert_into(questionnaire_answers::table)
                .values(&QuestionnaireAnswer {
                    id: new_id(),
                    user_id: actor.user_id.clone(),
                    question_key: key.clone(),
                    answer: serde_json::to_string(&values).map_err(AppError::internal)?,
                    updated_at: at,
                })
                .execute(conn)?;
        }
        audit::record(
            conn,
            AuditEntry {
                actor_id: Some(&actor.user_id),
                action: "questionnaire.answered",
                subject_type: "user",
                subject_id: &actor.user_id,
                details: serde_json::json!({ "questions": answers.keys().collect::<Vec<_>>() }),
            },
        )
    })
}

pub fn load_answers(conn: &mut DbConnection, user_ids: &[String]) -> AppResult<HashMap<String, Answers>> {
    let mut out: HashMap<String, Answers> = HashMap::new();
    if user_ids.is_empty() {
        return Ok(out);
    }
    for chunk in user_ids.chunks(500) {
        let rows: Vec<(String, String, String)> = questionnaire_answers::table
            .filter(questionnaire_answers::user_id.eq_any(chunk))
            .select((
                questionnaire_answers::user_id,
                questionnaire_answers::question_key,
                questionnaire_answers::answer,
            ))
            .load(conn)?;
        for (user, key, answer) in rows {
            let values: Vec<String> = serde_json::from_str(&answer).unwrap_or_default();
            out.entry(user).or_default().insert(key, values);
        }
    }
    Ok(out)
}

#[derive(Debug, Clone)]
pub struct Candidate {
    pub mentor_id: String,
    pub name: String,
    pub field: String,
    pub remaining_capacity: i64,
    pub answers: Answers,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Suggestion {
    pub mentor_id: String,
    pub name: String,
    pub field: String,
    pub score: i64,
    pub reasons: Vec<String>,
}

fn join_words(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

/// Scores one mentor for one student: `None` when a required answer has no match.
pub fn score(policy: &ProgrammePolicy, student: &Answers, mentor: &Answers) -> Option<(i64, Vec<String>)> {
    let empty = Vec::new();
    let mut total = 0;
    let mut reasons = Vec::new();
    for q in &policy.questions {
        let Some(rule) = q.match_rule else { continue };
        let mine = student.get(&q.key).unwrap_or(&empty);
        let theirs = match rule {
            MatchRule::Offers => mentor.get(q.against.as_deref().unwrap_or_default()).unwrap_or(&empty),
            _ => mentor.get(&q.key).unwrap_or(&empty),
        };
        let shared: Vec<String> = mine.iter().filter(|v| theirs.contains(v)).cloned().collect();
        if rule == MatchRule::Required && !mine.is_empty() && shared.is_empty() {
            return None;
        }
        if !shared.is_empty() {
            total += q.weight * shared.len() as i64;
            if let Some(template) = &q.reason {
                reasons.push(template.replace("{}", &join_words(&shared)));
            }
        }
    }
    Some((total, reasons))
}

/// Ranks candidates: highest score first; ties go to the mentor with more room, then by name
/// and id so the order is stable. Returns at most `limit`.
pub fn rank(policy: &ProgrammePolicy, student: &Answers, candidates: &[Candidate], limit: usize) -> Vec<Suggestion> {
    let mut scored: Vec<(i64, &Candidate, Vec<String>)> = candidates
        .iter()
        .filter(|c| c.remaining_capacity > 0)
        .filter_map(|c| score(policy, student, &c.answers).map(|(s, r)| (s, c, r)))
        .collect();
    let key = |a: &(i64, &Candidate, Vec<String>)| (std::cmp::Reverse(a.0), std::cmp::Reverse(a.1.remaining_capacity));
    let take = limit.min(scored.len());
    if take == 0 {
        return Vec::new();
    }
    // Partial selection keeps this linear in the pool size.
    scored.select_nth_unstable_by(take - 1, |a, b| {
        key(a).cmp(&key(b)).then_with(|| a.1.name.cmp(&b.1.name)).then_with(|| a.1.mentor_id.cmp(&b.1.mentor_id))
    });
    scored.truncate(take);
    scored.sort_by(|a, b| {
        key(a).cmp(&key(b)).then_with(|| a.1.name.cmp(&b.1.name)).then_with(|| a.1.mentor_id.cmp(&b.1.mentor_id))
    });
    scored
        .into_iter()
        .map(|(score, c, mut reasons)| {
            if reasons.is_empty() {
                reasons.push("has room for a new mentee".to_owned());
            }
            Suggestion { mentor_id: c.mentor_id.clone(), name: c.name.clone(), field: c.field.clone(), score, reasons }
        })
        .collect()
}

/// Statuses in which a match uses one of the mentor's places.
pub const LIVE_MATCH: [&str; 4] = ["awaiting_agreement", "awaiting_consent", "active", "paused"];

/// Fully vetted, active mentors with room, with their answers.
pub fn eligible_mentors(conn: &mut DbConnection, at: NaiveDateTime) -> AppResult<Vec<Candidate>> {
    // Every vetting condition of `dashboard::vetting_gaps`, in SQL, selecting only what
    // ranking needs (parsing fewer timestamps matters with thousands of mentors).
    let profiles: Vec<(String, String, i32, String)> = mentor_profiles::table
        .inner_join(users::table.on(users::id.eq(mentor_profiles::user_id)))
        .filter(users::status.eq("active"))
        .filter(mentor_profiles::background_check_status.eq("passed"))
        .filter(mentor_profiles::background_check_expires_at.gt(at))
        .filter(mentor_profiles::safeguarding_training_at.is_not_null())
        .filter(mentor_profiles::code_of_conduct_signed_at.is_not_null())
        .filter(mentor_profiles::approved_at.is_not_null())
        .select((mentor_profiles::user_id, users::display_name, mentor_profiles::capacity, mentor_profiles::field))
        .load(conn)?;
    let mut used: HashMap<String, i64> = HashMap::new();
    for mentor in
        matches::table.filter(matches::status.eq_any(LIVE_MATCH)).select(matches::mentor_id).load::<String>(conn)?
    {
        *used.entry(mentor).or_default() += 1;
    }
    for mentor in mentorship_requests::table
        .filter(mentorship_requests::status.eq_any(["open", "awaiting_review"]))
        .select(mentorship_requests::mentor_id)
        .load::<String>(conn)?
    {
        *used.entry(mentor).or_default() += 1;
    }
    // One query for every vetted mentor's answers (rather than thousands of ids in IN lists).
    let rows: Vec<(String, String, String)> = questionnaire_answers::table
        .inner_join(mentor_profiles::table.on(mentor_profiles::user_id.eq(questionnaire_answers::user_id)))
        .filter(mentor_profiles::background_check_status.eq("passed"))
        .filter(mentor_profiles::approved_at.is_not_null())
        .select((questionnaire_answers::user_id, questionnaire_answers::question_key, questionnaire_answers::answer))
        .load(conn)?;
    let mut answers: HashMap<String, Answers> = HashMap::with_capacity(profiles.len());
    for (user, key, answer) in rows {
        let values: Vec<String> = serde_json::from_str(&answer).unwrap_or_default();
        answers.entry(user).or_default().insert(key, values);
    }
    Ok(profiles
        .into_iter()
        .map(|(id, name, capacity, field)| Candidate {
            remaining_capacity: capacity as i64 - used.get(&id).copied().unwrap_or(0),
            answers: answers.remove(&id).unwrap_or_default(),
            mentor_id: id,
            name,
            field,
        })
        .collect())
}

/// Is this mentor fully vetted, active and with room right now?
pub fn mentor_is_matchable(conn: &mut DbConnection, mentor_id: &str, at: NaiveDateTime) -> AppResult<bool> {
    Ok(eligible_mentors(conn, at)?.iter().any(|c| c.mentor_id == mentor_id && c.remaining_capacity > 0))
}

/// The top three suggestions for a student (students only see their own).
pub fn suggestions(conn: &mut DbConnection, policy: &ProgrammePolicy, actor: &Actor) -> AppResult<Vec<Suggestion>> {
    if actor.role != Role::Student {
        return Err(AppError::not_found());
    }
    let at = now();
    let student = load_answers(conn, std::slice::from_ref(&actor.user_id))?.remove(&actor.user_id).unwrap_or_default();
    // Mentors the student already asked or was matched with are not suggested again.
    let mut seen: HashSet<String> = mentorship_requests::table
        .filter(mentorship_requests::student_id.eq(&actor.user_id))
        .select(mentorship_requests::mentor_id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    seen.extend(
        matches::table
            .filter(matches::student_id.eq(&actor.user_id))
            .select(matches::mentor_id)
            .load::<String>(conn)?,
    );
    let candidates: Vec<Candidate> =
        eligible_mentors(conn, at)?.into_iter().filter(|c| !seen.contains(&c.mentor_id)).collect();
    Ok(rank(policy, &student, &candidates, 3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(pairs: &[(&str, &[&str])]) -> Answers {
        pairs.iter().map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect())).collect()
    }

    fn candidate(id: &str, room: i64, a: Answers) -> Candidate {
        Candidate { mentor_id: id.into(), name: id.into(), field: String::new(), remaining_capacity: room, answers: a }
    }

    #[test]
    fn scores_with_reasons_in_words() {
        let policy = ProgrammePolicy::builtin();
        let student = answers(&[
            ("interests", &["robotics"]),
            ("availability", &["weekday evenings"]),
            ("language", &["English"]),
        ]);
        let mentor = answers(&[
            ("interests", &["robotics", "data"]),
            ("availability", &["weekday evenings"]),
            ("language", &["English"]),
        ]);
        let (s, reasons) = score(&policy, &student, &mentor).unwrap();
        assert!(s > 0);
        assert!(reasons.contains(&"share an interest in robotics".to_owned()), "{reasons:?}");
        assert!(reasons.contains(&"both available weekday evenings".to_owned()));
    }

    #[test]
    fn a_required_language_excludes() {
        let policy = ProgrammePolicy::builtin();
        let student = answers(&[("language", &["French"])]);
        assert!(score(&policy, &student, &answers(&[("language", &["English"])])).is_none());
    }

    #[test]
    fn ranking_skips_full_mentors_and_breaks_ties_by_room() {
        let policy = ProgrammePolicy::builtin();
        let student = answers(&[("interests", &["robotics"])]);
        let same = answers(&[("interests", &["robotics"])]);
        let pool = vec![
            candidate("full", 0, same.clone()),
            candidate("a", 1, same.clone()),
            candidate("b", 3, same.clone()),
            candidate("c", 1, answers(&[])),
            candidate("d", 1, answers(&[])),
        ];
        let top = rank(&policy, &student, &pool, 3);
        let ids: Vec<&str> = top.iter().map(|s| s.mentor_id.as_str()).collect();
        assert_eq!(ids, ["b", "a", "c"]);
        assert_eq!(top[2].reasons, ["has room for a new mentee"]);
        assert!(rank(&policy, &student, &[], 3).is_empty());
    }

    #[test]
    fn answers_are_validated() {
        let policy = ProgrammePolicy::builtin();
        assert!(validate_answers(&policy, Role::Student, &answers(&[("interests", &["robotics"])])).is_ok());
        let e = validate_answers(&policy, Role::Student, &answers(&[("interests", &["knitting"])])).unwrap_err();
        assert!(e.message().contains("not one of the choices"));
        assert!(validate_answers(&policy, Role::Student, &answers(&[("offers", &["careers"])])).is_err());
    }
}
