//! The guardian's weekly digest: per child, what happened in their conversations this week.
//! Counts and categories only; never message text.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{conversations, guardianships, matches, messages, reports, users};
use crate::db::DbConnection;
use crate::error::AppResult;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChildDigest {
    pub child_name: String,
    pub mentor_names: Vec<String>,
    pub messages_delivered: i64,
    pub messages_held_or_blocked: i64,
    pub flagged_categories: Vec<String>,
    pub reports: i64,
}

pub fn weekly(conn: &mut DbConnection, guardian_id: &str, week_end: NaiveDateTime) -> AppResult<Vec<ChildDigest>> {
    let since = week_end - Duration::days(7);
    let children: Vec<(String, String)> = guardianships::table
        .inner_join(users::table.on(users::id.eq(guardianships::student_id)))
        .filter(guardianships::guardian_id.eq(guardian_id))
        .filter(guardianships::view_suspended.eq(false))
        .select((users::id, users::display_name))
        .order(users::display_name.asc())
        .load(conn)?;
    let mut out = Vec::new();
    for (child_id, child_name) in children {
        let pairs: Vec<(String, String)> = matches::table
            .inner_join(conversations::table)
            .filter(matches::student_id.eq(&child_id))
            .select((conversations::id, matches::mentor_id))
            .load(conn)?;
        let conversation_ids: Vec<String> = pairs.iter().map(|(c, _)| c.clone()).collect();
        let mentor_ids: Vec<String> = pairs.iter().map(|(_, m)| m.clone()).collect();
        let mentor_names: Vec<String> = if mentor_ids.is_empty() {
            Vec::new()
        } else {
            users::table.filter(users::id.eq_any(&mentor_ids)).select(users::display_name).load(conn)?
        };
        let rows: Vec<(String, String)> = if conversation_ids.is_empty() {
            Vec::new()
        } else {
            messages::table
                .filter(messages::conversation_id.eq_any(&conversation_ids))
                .filter(messages::created_at.gt(since))
                .filter(messages::created_at.le(week_end))
                .select((messages::status, messages::flags))
                .load(conn)?
        };
        let mut flagged: Vec<String> = rows
            .iter()
            .flat_map(|(_, f)| f.split(',').filter(|x| !x.is_empty()).map(|x| x.replace('_', " ")))
            .collect();
        flagged.sort();
        flagged.dedup();
        let report_count: i64 = if conversation_ids.is_empty() {
            0
        } else {
            reports::table
                .filter(reports::conversation_id.eq_any(&conversation_ids))
                .filter(reports::created_at.gt(since))
                .count()
                .get_result(conn)?
        };
        out.push(ChildDigest {
            child_name,
            mentor_names,
            messages_delivered: rows.iter().filter(|(s, _)| s == "delivered" || s == "redacted").count() as i64,
            messages_held_or_blocked: rows
                .iter()
                .filter(|(s, _)| matches!(s.as_str(), "held" | "blocked" | "rejected"))
                .count() as i64,
            flagged_categories: flagged,
            reports: report_count,
        });
    }
    Ok(out)
}
