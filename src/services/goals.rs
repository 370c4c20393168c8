//! Goals and objectives of a mentorship, with progress notes, and the programme framework's
//! prompts for the current stage of the relationship.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::access::{self, Actor, ReadRelation};
use crate::audit::{self, AuditEntry};
use crate::db::models::{Goal, GoalNote, Match};
use crate::db::schema::{conversations, goal_notes, goals, matches, users};
use crate::db::{new_id, DbConnection};
use crate::error::{AppError, AppResult};
use crate::programme_policy::{FrameworkStage, ProgrammePolicy};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GoalView {
    pub id: String,
    pub title: String,
    pub description: String,
    pub target_date: Option<String>,
    pub status: String,
    pub notes: Vec<NoteView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoteView {
    pub author: String,
    pub note: String,
    pub at: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewGoal {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Between 2000-01-01 and 2099-12-31.
    pub target_date: Option<chrono::NaiveDate>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct GoalUpdate {
    /// `open`, `in_progress`, `done` or `dropped`.
    #[schema(value_type = Option<GoalStatus>)]
    pub status: Option<String>,
    pub note: Option<String>,
}

const STATUSES: [&str; 4] = ["open", "in_progress", "done", "dropped"];

/// The statuses a goal can have (`STATUSES`), for the API document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "snake_case")]
pub enum GoalStatus {
    Open,
    InProgress,
    Done,
    Dropped,
}

fn match_relation(conn: &mut DbConnection, actor: &Actor, match_id: &str) -> AppResult<(Match, ReadRelation)> {
    let m: Match = matches::table
        .find(match_id)
        .select(Match::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(AppError::not_found)?;
    let relation = if actor.user_id == m.student_id || actor.user_id == m.mentor_id {
        Some(ReadRelation::Participant)
    } else {
        access::student_relation(conn, actor, &m.student_id)?
    };
    Ok((m, relation.ok_or_else(AppError::not_found)?))
}

pub fn list(conn: &mut DbConnection, actor: &Actor, match_id: &str) -> AppResult<Vec<GoalView>> {
    match_relation(conn, actor, match_id)?;
    let rows: Vec<Goal> = goals::table
        .filter(goals::match_id.eq(match_id))
        .order(goals::created_at.asc())
        .select(Goal::as_select())
        .load(conn)?;
    let mut out = Vec::new();
    for g in rows {
        let notes: Vec<(GoalNote, String)> = goal_notes::table
            .inner_join(users::table)
            .filter(goal_notes::goal_id.eq(&g.id))
            .order(goal_notes::created_at.asc())
            .select((GoalNote::as_select(), users::display_name))
            .load(conn)?;
        out.push(GoalView {
            id: g.id,
            title: g.title,
            description: g.description,
            target_date: g.target_date.map(|d| d.format("%Y-%m-%d").to_string()),
            status: g.status,
            notes: notes
                .into_iter()
                .map(|(n, author)| NoteView { author, note: n.note, at: n.created_at.format("%Y-%m-%d").to_string() })
                .collect(),
        });
    }
    Ok(out)
}

fn require_active_participant(m: &Match, relation: ReadRelation) -> AppResult<()> {
    if relation != ReadRelation::Participant {
        return Err(AppError::not_found());
    }
    if m.status != "active" {
        return Err(AppError::conflict("Goals can be changed while the mentorship is active."));
    }
    Ok(())
}

pub fn create(
    conn: &mut DbConnection,
    pipeline: &crate::moderation::Pipeline,
    actor: &Actor,
    match_id: &str,
    new: &NewGoal,
    at: NaiveDateTime,
) -> AppResult<String> {
    let (m, relation) = match_relation(conn, actor, match_id)?;
    require_active_participant(&m, relation)?;
    let title = new.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(AppError::bad_request("Please give the goal a title of 1 to 200 characters."));
    }
    if new.description.chars().count() > 4000 {
        return Err(AppError::bad_request("Please keep the description under 4000 characters."));
    }
    if let Some(date) = new.target_date {
        crate::services::check_date(date, "a target date")?;
    }
    crate::services::messaging::screen_shared_text(pipeline, actor, &format!("{title}\n{}", new.description))?;
    let goal = Goal {
        id: new_id(),
        match_id: match_id.to_owned(),
        title: title.to_owned(),
        description: new.description.trim().to_owned(),
        target_date: new.target_date.and_then(|d| d.and_hms_opt(0, 0, 0)),
        status: "open".into(),
        created_by: actor.user_id.clone(),
        created_at: at,
        updated_at: at,
    };
    crate::db::write_transaction(conn, |conn| {
        diesel::insert_into(goals::table).values(&goal).execute(conn)?;
        audit::record(
            conn,
            AuditEntry {
                actor_id: Some(&actor.user_id),
                action: "goal.created",
                subject_type: "goal",
                subject_id: &goal.id,
                details: serde_json::json!({}),
            },
        )
    })?;
    Ok(goal.id)
}

pub fn update(
    conn: &mut DbConnection,
    pipeline: &crate::moderation::Pipeline,
    actor: &Actor,
    goal_id: &str,
    change: &GoalUpdate,
    at: NaiveDateTime,
) -> AppResult<()> {
    let goal: Goal =
        goals::table.find(goal_id).select(Goal::as_select()).first(conn).optional()?.ok_or_else(AppError::not_found)?;
    let (m, relation) = match_relation(conn, actor, &goal.match_id)?;
    require_active_participant(&m, relation)?;
    if let Some(status) = &change.status {
        if !STATUSES.contains(&status.as_str()) {
            return Err(AppError::bad_request("Status must be open, in_progress, done or dropped."));
        }
    }
    let note = change.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 2000) {
        return Err(AppError::bad_request("Please keep the note under 2000 characters."));
    }
    if let Some(note) = note {
        crate::services::messaging::screen_shared_text(pipeline, actor, note)?;
    }
    crate::db::write_transaction(conn, |conn| {
        if let Some(status) = &change.status {
            diesel::update(goals::table.find(goal_id))
                .set((goals::status.eq(status), goals::updated_at.eq(at)))
                .execute(conn)?;
        }
        if let Some(note) = note {
            diesel::insert_into(goal_notes::table)
                .values(&GoalNote {
                    id: new_id(),
                    goal_id: goal_id.to_owned(),
                    author_id: actor.user_id.clone(),
                    note: note.to_owned(),
                    created_at: at,
                })
                .execute(conn)?;
        }
        audit::record(
            conn,
            AuditEntry {
                actor_id: Some(&actor.user_id),
                action: "goal.updated",
                subject_type: "goal",
                subject_id: goal_id,
                details: serde_json::json!({ "status": change.status }),
            },
        )
    })
}

/// The framework stage for a mentorship that started at `started` (week 1 = first week).
pub fn current_stage(
    policy: &ProgrammePolicy,
    started: Option<NaiveDateTime>,
    at: NaiveDateTime,
) -> Option<&FrameworkStage> {
    let week = (at - started?).num_days() / 7 + 1;
    policy.framework.iter().find(|s| week >= s.weeks[0] && week <= s.weeks[1])
}

/// The prompts for the conversation's current stage (for the conversation page).
pub fn prompts_for_conversation(
    conn: &mut DbConnection,
    policy: &ProgrammePolicy,
    conversation_id: &str,
    at: NaiveDateTime,
) -> AppResult<Option<FrameworkStage>> {
    let started: Option<NaiveDateTime> = conversations::table
        .inner_join(matches::table)
        .filter(conversations::id.eq(conversation_id))
        .select(matches::started_at)
        .first(conn)
        .optional()?
        .flatten();
    Ok(current_stage(policy, started, at).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_follow_the_weeks() {
        let policy = ProgrammePolicy::builtin();
        let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        assert_eq!(current_stage(&policy, Some(start), start).unwrap().title, "Getting to know each other");
        assert_eq!(
            current_stage(&policy, Some(start), start + chrono::Duration::days(15)).unwrap().title,
            "Setting goals"
        );
        assert!(current_stage(&policy, Some(start), start + chrono::Duration::days(200)).is_none());
        assert!(current_stage(&policy, None, start).is_none());
    }
}
