//! The mentoring lifecycle: requests with deadlines, manual matches, the agreement, guardian
//! consent by e-mailed link, activation, completion or expiry, closure surveys, and vetting.
//! Each user action is one transaction with its audit row; timed work goes to the job queue.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::RngCore;
use serde::Serialize;

use crate::access::{Actor, Capability};
use crate::audit::{self, AuditEntry};
use crate::db::enums::{AlertSeverity, MessageStatus, Role};
use crate::db::models::*;
use crate::db::schema::*;
use crate::db::{new_id, DbConnection};
use crate::error::{AppError, AppResult};
use crate::moderation::{Action, Pipeline, SenderRole};
use crate::programme_policy::ProgrammePolicy;
use crate::services::accounts::hash_token;
use crate::services::matching;
use crate::services::oversight::{self, NewAlert};
use crate::{job_queue, mail};

pub struct LifecycleContext<'a> {
    pub policy: &'a ProgrammePolicy,
    pub pipeline: &'a Pipeline,
    pub public_url: &'a str,
    pub at: NaiveDateTime,
}

impl LifecycleContext<'_> {
    fn link(&self, path: &str) -> String {
        format!("{}{}", self.public_url.trim_end_matches('/'), path)
    }
}

fn audit_row(
    conn: &mut DbConnection,
    actor: Option<&str>,
    action: &str,
    kind: &str,
    id: &str,
    details: serde_json::Value,
) -> AppResult<()> {
    audit::record(conn, AuditEntry { actor_id: actor, action, subject_type: kind, subject_id: id, details })
}

fn user_email_name(conn: &mut DbConnection, id: &str) -> AppResult<(String, String)> {
    Ok(users::table.find(id).select((users::email, users::display_name)).first(conn)?)
}

fn notify(
    conn: &mut DbConnection,
    ctx: &LifecycleContext<'_>,
    user_id: &str,
    subject: &str,
    body: &str,
) -> AppResult<()> {
    let (email, _) = user_email_name(conn, user_id)?;
    let role: String = users::table.find(user_id).select(users::role).first(conn)?;
    let not_before = if role == "student" { ctx.policy.quiet_hours.next_allowed(ctx.at) } else { ctx.at };
    // Lifecycle notices share one layout (templates/email/notice.*); the link, if any, is the
    // last word of the body and becomes a button in the HTML part.
    let mut context = tera::Context::new();
    context.insert("subject", subject);
    context.insert("body", body);
    let link = body.split_whitespace().last().filter(|w| w.starts_with("http")).unwrap_or("");
    context.insert("link", link);
    mail::enqueue_template(conn, &email, "notice", &context, not_before)?;
    Ok(())
}

fn schedule(
    conn: &mut DbConnection,
    ctx: &LifecycleContext<'_>,
    kind: &str,
    payload: serde_json::Value,
    run_at: NaiveDateTime,
    key: &str,
) -> AppResult<()> {
    job_queue::enqueue(conn, kind, payload, run_at, Some(key), ctx.at)?;
    Ok(())
}

// ---- requests -------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestView {
    pub id: String,
    pub student_id: String,
    pub student_name: String,
    pub mentor_id: String,
    pub mentor_name: String,
    pub status: String,
    pub text: Option<String>,
    pub response_note: Option<String>,
    pub deadline_at: Option<String>,
    pub reasons: Vec<String>,
}

fn request_view(conn: &mut DbConnection, r: MentorshipRequest, for_mentor: bool) -> AppResult<RequestView> {
    let (_, student_name) = user_email_name(conn, &r.student_id)?;
    let (_, mentor_name) = user_email_name(conn, &r.mentor_id)?;
    let reasons = r
        .verdict
        .as_deref()
        .and_then(|v| serde_json::from_str::<crate::moderation::Verdict>(v).ok())
        .filter(|_| !for_mentor)
        .map(|v| v.reasons)
        .unwrap_or_default();
    Ok(RequestView {
        text: if for_mentor { r.delivered_text.clone() } else { Some(r.original_text.clone()) },
        id: r.id,
        student_id: r.student_id,
        student_name,
        mentor_id: r.mentor_id,
        mentor_name,
        status: r.status,
        response_note: r.response_note,
        deadline_at: r.deadline_at.map(|d| d.format("%Y-%m-%d").to_string()),
        reasons,
    })
}

pub fn list_requests(conn: &mut DbConnection, actor: &Actor) -> AppResult<Vec<RequestView>> {
    let query = mentorship_requests::table
        .select(MentorshipRequest::as_select())
        .order(mentorship_requests::created_at.desc())
        .into_boxed();
    let (rows, for_mentor): (Vec<MentorshipRequest>, bool) = match actor.role {
        Role::Student => (query.filter(mentorship_requests::student_id.eq(&actor.user_id)).load(conn)?, false),
        Role::Mentor => (
            query
                .filter(mentorship_requests::mentor_id.eq(&actor.user_id))
                .filter(mentorship_requests::status.ne("awaiting_review"))
                .load(conn)?,
            true,
        ),
        Role::Coordinator => (query.load(conn)?, false),
        _ => return Err(AppError::not_found()),
    };
    rows.into_iter().map(|r| request_view(conn, r, for_mentor)).collect()
}

fn student_approved(conn: &mut DbConnection, student_id: &str) -> AppResult<bool> {
    let status: Option<String> =
        student_profiles::table.find(student_id).select(student_profiles::approval_status).first(conn).optional()?;
    Ok(status.as_deref() == Some("approved"))
}

fn has_live_match(conn: &mut DbConnection, student_id: &str) -> AppResult<bool> {
    let n: i64 = matches::table
        .filter(matches::student_id.eq(student_id))
        .filter(matches::status.eq_any(matching::LIVE_MATCH))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// A student asks a mentor, with a personal message that is moderated like any message.
pub fn send_request(
    conn: &mut DbConnection,
    ctx: &LifecycleContext<'_>,
    actor: &Actor,
    mentor_id: &str,
    text: &str,
) -> AppResult<RequestView> {
    actor.require(Capability::RequestMentor)?;
    if !student_approved(conn, &actor.user_id)? {
        return Err(AppError::conflict("Your programme coordinator has not approved your profile yet."));
    }
    if has_live_match(conn, &actor.user_id)? {
        return Err(AppError::conflict("You already have a mentor."));
    }
    if text.trim().chars().count() < 10 {
        return Err(AppError::bad_request(
            "Please write a short personal message (at least 10 characters) saying why you chose this mentor.",
        ));
    }
    let max = ctx.pipeline.policy().max_chars();
    if text.chars().count() > max {
        return Err(AppError::bad_request(format!("Please keep the message under {max} characters.")));
    }
    let open: Vec<String> = mentorship_requests::table
        .filter(mentorship_requests::student_id.eq(&actor.user_id))
        .filter(mentorship_requests::status.eq_any(["open", "awaiting_review"]))
        .select(mentorship_requests::mentor_id)
        .load(conn)?;
    if open.iter().any(|m| m == mentor_id) {
        return Err(AppError::conflict("You have already asked this mentor; please wait for their answer."));
    }
    if open.len() as i64 >= ctx.policy.lifecycle.max_open_requests {
        return Err(AppError::conflict(format!(
            "You can have {} requests waiting at once. Please wait for an answer or withdraw one.",
            ctx.policy.lifecycle.max_open_requests
        )));
    }
    // A mentor who is not fully vetted, or has no room, is not offered to students at all.
    if !matching::mentor_is_matchable(conn, mentor_id, ctx.at)? {
        return Err(AppError::not_found());
    }
    let request = MentorshipRequest {
        id: new_id(),
        student_id: actor.user_id.clone(),
        mentor_id: mentor_id.to_owned(),
        original_text: text.to_owned(),
        delivered_text: None,
        moderation_status: MessageStatus::Pending.as_str().into(),
        verdict: None,
        policy_version: None,
        status: "awaiting_review".into(),
        response_note: None,
        deadline_at: None,
        responded_at: None,
        created_at: ctx.at,
        updated_at: ctx.at,
    };
    // Stored before moderation, so nothing is lost if moderation fails.
    diesel::insert_into(mentorship_requests::table).values(&request).execute(conn)?;
    let verdict = ctx
        .pipeline
        .moderate(text, &actor.user_id, SenderRole::Student, &[])
        .map_err(|e| AppError::bad_request(e.to_string()))?;
    let verdict_json = serde_json::to_string(&verdict).map_err(AppError::internal)?;
    crate::db::write_transaction(conn, |conn| {
        let (status, moderation_status) = match verdict.action {
            Action::Deliver => ("open", "delivered"),
            Action::Redact => ("open", "redacted"),
            Action::Hold => ("awaiting_review", "held"),
            Action::Block => ("cancelled", "blocked"),
        };
        let deadline = (status == "open").then(|| ctx.at + Duration::days(ctx.policy.lifecycle.request_response_days));
        diesel::update(mentorship_requests::table.find(&request.id))
            .set((
                mentorship_requests::status.eq(status),
                mentorship_requests::moderation_status.eq(moderation_status),
                mentorship_requests::delivered_text.eq(&verdict.delivered_text),
                mentorship_requests::verdict.eq(Some(&verdict_json)),
                mentorship_requests::policy_version.eq(Some(&verdict.policy_version)),
                mentorship_requests::deadline_at.eq(deadline),
            ))
            .execute(conn)?;
        audit_row(
            conn,
            Some(&actor.user_id),
            "request.sent",
            "request",
            &request.id,
            serde_json::json!({ "status": status }),
        )?;
        if status == "open" {
            open_request_deadlines(conn, ctx, &request.id, mentor_id)?;
        }
        Ok::<_, AppError>(())
    })?;
    let saved: MentorshipRequest =
        mentorship_requests::table.find(&request.id).select(MentorshipRequest::as_select()).first(conn)?;
    if saved.status == "cancelled" {
        return Err(AppError::bad_request(format!("Your request was not sent: {}", verdict.reasons.join(" "))));
    }
    request_view(conn, saved, false)
}

fn open_request_deadlines(
    conn: &mut DbConnection,
    ctx: &LifecycleContext<'_>,
    request_id: &str,
    mentor_id: &str,
) -> AppResult<()> {
    let l = &ctx.policy.lifecycle;
    for day in &l.request_reminder_days {
        schedule(
            conn,
            ctx,
            "request.remind",
            serde_json::json!({ "request_id": request_id, "day": day }),
            ctx.at + Duration::days(*day),
            &format!("request-remind:{request_id}:{day}"),
        )?;
    }
    schedule(
        conn,
        ctx,
        "request.expire",
        serde_json::json!({ "request_id": request_id }),
        ctx.at + Duration::days(l.request_response_days),
        &format!("request-expire:{request_id}"),
    )?;
    notify(
        conn,
        ctx,
        mentor_id,
        "A student would like you as their mentor",
        &format!(
            "A student has asked you to be their mentor on Trellis. Please answer within {} days: {}",
            l.request_response_days,
            ctx.link("/dashboard")
        ),
    )
}

fn load_request(conn: &mut DbConnection, id: &str) -> AppResult<MentorshipRequest> {
    mentorship_requests::table
        .find(id)
        .select(MentorshipRequest::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(AppError::not_found)
}

/// The mentor accepts (creating a match that waits for the agreement) or declines with a note.
pub fn answer_request(
    conn: &mut DbConnection,
    ctx: &LifecycleContext<'_>,
    actor: &Actor,
    request_id: &str,
    accept: bool,
    note: &str,
) -> AppResult<RequestView> {
    let request = load_request(conn, request_id)?;
    if actor.role != Role::Mentor || request.mentor_id != actor.user_id || request.status == "awaiting_review" {
        return Err(AppError::not_found());
    }
    if request.status != "open" {
        return Err(AppError::conflict(format!("This request is already {}.", request.status.replace('_', " "))));
    }
    if request.deadline_at.is_some_and(|d| d <= ctx.at) {
        return Err(AppError::conflict("This request has expired."));
    }
    if note.chars().count() > 2000 {
        return Err(AppError::bad_request("Please keep the note under 2000 characters."));
    }
    crate::services::messaging::screen_shared_text(ctx.pipeline, actor, note)?;
    crate::db::write_transaction(conn, |conn| {
        let status = if accept { "accepted" } else { "declined" };
        let n = diesel::update(
            mentorship_requests::table
                .filter(mentorship_requests::id.eq(request_id))
                .filter(mentorship_requests::status.eq("open")),
        )
        .set((
            mentorship_requests::status.eq(status),
            mentorship_requests::response_note.eq(Some(note.trim())),
            mentorship_requests::responded_at.eq(Some(ctx.at)),
            mentorship_requests::updated_at.eq(ctx.at),
        ))
        .execute(conn)?;
        if n == 0 {
            return Err(AppError::conflict("This request was answered a moment ago."));
        }
        if accept {
            if has_live_match(conn, &request.student_id)? {
                return Err(AppError::conflict("This student already has a mentor."));
            }
            create_match(conn, ctx, &request.student_id, &request.mentor_id, Some(&request.id), None, None)?;
            // The student's other open requests are withdrawn: one mentor at a time.
            diesel::update(
                mentorship_requests::table
                    .filter(mentorship_requests::student_id.eq(&request.student_id))
                    .filter(mentorship_requests::status.eq_any(["open", "awaiting_review"])),
            )
            .set(mentorship_requests::status.eq("withdrawn"))
            .execute(conn)?;
        }
        audit_row(
            conn,
            Some(&actor.user_id),
            if accept { "request.accepted" } else { "request.declined" },
            "request",
            request_id,
            serde_json::json!({}),
        )?;
        let (subject, body) = if accept {
            (
                "Your mentor said yes!",
                format!(
                    "Your request was accepted. Next, you and your mentor sign the mentoring agreement: {}",
                    ctx.link("/dashboard")
                ),
            )
        } else {
            (
                "About your mentor request",
                format!(
                    "Your request was declined this time. Here are other mentors who could be a good fit: {}",
                    ctx.link("/suggestions")
                ),
            )
        };
        notify(conn, ctx, &request.student_id, subject, &body)
    })?;
    let saved = load_request(conn, request_id)?;
    request_view(conn, saved, true)
}

/// The student withdraws a request that is still waiting.
pub fn withdraw_request(conn: &mut DbConnection, actor: &Actor, request_id: &str) -> AppResult<()> {
    let request = load_request(conn, request_id)?;
    if request.student_id != actor.user_id {
        return Err(AppError::not_found());
    }
    crate::db::write_transaction(conn, |conn| {
        let n = diesel::update(
            mentorship_requests::table
                .filter(mentorship_requests::id.eq(request_id))
                .filter(mentorship_requests::status.eq_any(["open", "awaiting_review"])),
        )
        .set(mentorship_requests::status.eq("withdrawn"))
        .execute(conn)?;
        if n == 0 {
            return Err(AppError::conflict(format!("This request is already {}.", request.status.replace('_', " "))));
        }
        audit_row(conn, Some(&actor.user_id), "request.withdrawn", "request", request_id, serde_json::json!({}))
    })
}

// ---- matches, agreement and consent ---------------------------------------------------------

fn create_match(
    conn: &mut DbConnection,
    ctx: &LifecycleContext<'_>,
    student_id: &str,
    mentor_id: &str,
    request_id: Option<&str>,
    matched_by: Option<&str>,
    note: Option<&str>,
) -> AppResult<Match> {
    let m = Match {
        id: new_id(),
        student_id: student_id.to_owned(),
        mentor_id: mentor_id.to_owned(),
        request_id: request_id.map(str::to_owned),
        status: "awaiting_agreement".into(),
        matched_by: matched_by.map(str::to_owned),
        match_note: note.map(str::to_owned),
        started_at: None,
        ends_at: None,
        closed_at: None,
        close_reason: None,
        created_at: ctx.at,
        updated_at: ctx.at,
    };
    diesel::insert_into(matches::table).values(&m).execute(conn)?;
    audit_row(
        conn,
        matched_by,
        "match.created",
        "match",
        &m.id,
        serde_json::json!({ "manual": matched_by.is_some() }),
    )?;
    Ok(m)
}

/// A coordinator matches a student and a fully vetted mentor by hand, with a note.
pub fn manual_match(
    conn: &mut DbConnection,
    ctx: &LifecycleContext<'_>,
    actor: &Actor,
    student_id: &str,
    mentor_id: &str,
    note: &str,
) -> AppResult<Match> {
    actor.require(Capability::ProgrammeOversight)?;
    if note.trim().is_empty() {
        return Err(AppError::bad_request("Please add a note saying why you made this match."));
    }
    if !student_approved(conn, student_id)? {
        return Err(AppError::conflict("That student is not approved for matching."));
    }
    if !matching::mentor_is_matchable(conn, mentor_id, ctx.at)? {
        return Err(AppError::conflict(
            "That mentor cannot be matched: vetting is incomplete or expired, or they are at capacity.",
        ));
    }
    if has_live_match(conn, student_id)? {
        return Err(AppError::conflict("That student already has a mentor."));
    }
    crate::db::write_transaction(conn, |conn| {
        let m = create_match(conn, ctx, student_id, mentor_id, None, Some(&actor.user_id), Some(note.trim()))?;
        for id in [student_id, mentor_id] {
            notify(
                conn,
                ctx,
                id,
                "You have been matched on Trellis",
                &format!(
                    "The programme coordinator has matched you. Next, sign the mentoring agreement: {}",
                    ctx.link("/dashboard")
                ),
            )?;
        }
        Ok(m)
    })
}

/// The match, if `actor` is one of its two participants (else 404) and it is in `status`
/// (else 409 with `wrong_status`).
fn participant_match(
    conn: &mut DbConnection,
    actor: &Actor,
    match_id: &str,
    status: &str,
    wrong_status: &str,
) -> AppResult<Match> {
    let m = load_match(conn, match_id)?;
    if actor.user_id != m.student_id && actor.user_id != m.mentor_id {
        return Err(AppError::not_found());
    }
    if m.status != status {
        return Err(AppError::conflict(wrong_status));
    }
    Ok(m)
}

fn load_match(conn: &mut DbConnection, id: &str) -> AppResult<Match> {
    matches::table.find(id).select(Match::as_select()).first(conn).optional()?.ok_or_else(AppError::not_found)
}

/// A participant signs the agreement; when both have, each guardian gets a consent link.
pub fn sign_agreement(
    conn: &mut DbConnection,
    ctx: &LifecycleContext<'_>,
    actor: &Actor,
    match_id: &str,
) -> AppResult<String> {
    let m = participant_match(
        conn,
        actor,
        match_id,
        "awaiting_agreement",
        "The agreement for this mentorship has already been signed by both of you.",
    )?;
    crate::db::write_transaction(conn, |conn| {
        let already: i64 = agreements::table
            .filter(agreements::match_id.eq(match_id))
            .filter(agreements::user_id.eq(&actor.user_id))
            .count()
            .get_result(conn)?;
        if already > 0 {
            return Err(AppError::conflict("You have already signed this agreement."));
        }
        diesel::insert_into(agreements::table)
            .values(&Agreement {
                id: new_id(),
                match_id: match_id.to_owned(),
                user_id: actor.user_id.clone(),
                agreement_version: ctx.policy.agreement.version.clone(),
                signed_at: ctx.at,
            })
            .execute(conn)?;
        audit_row(
            conn,
            Some(&actor.user_id),
            "agreement.signed",
            "match",
            match_id,
            serde_json::json!({ "version": ctx.policy.agreement.version }),
        )?;
        let signed: i64 = agreements::table.filter(agreements::match_id.eq(match_id)).count().get_result(conn)?;
        if signed < 2 {
            return Ok("signed".to_owned());
        }
        diesel::update(matches::table.find(match_id))
            .set((matches::status.eq("awaiting_consent"), matches::updated_at.eq(ctx.at)))
            .execute(conn)?;
        request_consent(conn, ctx, &m)?;
        Ok("awaiting_consent".to_owned())
    })
}

fn request_consent(conn: &mut DbConnection, ctx: &LifecycleContext<'_>, m: &Match) -> AppResult<()> {
    let guardians: Vec<String> = guardianships::table
        .filter(guardianships::student_id.eq(&m.student_id))
        .filter(guardianships::view_suspended.eq(false))
        .select(guardianships::guardian_id)
        .load(conn)?;
    let (_, mentor_name) = user_email_name(conn, &m.mentor_id)?;
    let (_, student_name) = user_email_name(conn, &m.student_id)?;
    let field: String = mentor_profiles::table
        .find(&m.mentor_id)
        .select(mentor_profiles::field)
        .first(conn)
        .optional()?
        .unwrap_or_default();
    if guardians.is_empty() {
        oversight::raise_alert(
            conn,
            ctx.policy,
            ctx.public_url,
            None,
            NewAlert {
                kind: "other",
                severity: AlertSeverity::Normal,
                summary: "A mentorship is waiting for guardian consent, but the student has no guardian on record."
                    .into(),
                student_id: Some(&m.student_id),
                conversation_id: None,
                message_id: None,
                report_id: None,
            },
        )?;
    }
    for guardian in guardians {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        diesel::insert_into(consents::table)
            .values(&Consent {
                id: new_id(),
                match_id: m.id.clone(),
                guardian_id: guardian.clone(),
                token_hash: hash_token(&token),
                expires_at: ctx.at + Duration::days(ctx.policy.lifecycle.consent_link_days),
                decision: "pending".into(),
                decided_at: None,
                reason: None,
                created_at: ctx.at,
            })
            .execute(conn)?;
        let mut context = tera::Context::new();
        context.insert("student_name", &student_name);
        context.insert("mentor_name", &mentor_name);
        context.insert("mentor_field", &field);
        context.insert("days", &ctx.policy.lifecycle.consent_link_days);
        context.insert("link", &ctx.link(&format!("/consent/{token}")));
        let (email, _) = user_email_name(conn, &guardian)?;
        mail::enqueue_template(conn, &email, "consent_request", &context, ctx.at)?;
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct ConsentView {
    pub student_name: String,
    pub mentor_name: String,
    pub mentor_field: String,
    pub agreement_text: String,
}

fn consent_by_token(conn: &mut DbConnection, ctx: &LifecycleContext<'_>, token: &str) -> AppResult<Consent> {
    let consent: Option<Consent> = consents::table
        .filter(consents::token_hash.eq(hash_token(token)))
        .select(Consent::as_select())
        .first(conn)
        .optional()?;
    let consent = consent.ok_or_else(|| {
        AppError::new(
            crate::error::ErrorKind::NotFound,
            "This consent link is not valid. Please use the link from the most recent e-mail.",
        )
    })?;
    if consent.decision != "pending" {
        return Err(AppError::conflict(
            "This consent link has already been used. Thank you — your answer was recorded.",
        ));
    }
    if consent.expires_at <= ctx.at {
        return Err(AppError::new(
            crate::error::ErrorKind::Conflict,
            "This consent link has expired. Please ask the programme coordinator to send a new one.",
        ));
    }
    Ok(consent)
}

pub fn consent_view(conn: &mut DbConnection, ctx: &LifecycleContext<'_>, token: &str) -> AppResult<ConsentView> {
    let consent = consent_by_token(conn, ctx, token)?;
    let m = load_match(conn, &consent.match_id)?;
    Ok(ConsentView {
        student_name: user_email_name(conn, &m.student_id)?.1,
        mentor_name: user_email_name(conn, &m.mentor_id)?.1,
        mentor_field: mentor_profiles::table
            .find(&m.mentor_id)
            .select(mentor_profiles::field)
            .first(conn)
            .optional()?
            .unwrap_or_default(),
        agreement_text: ctx.policy.agreement.text.trim().to_owned(),
    })
}

/// A guardian answers by the e-mailed link (signed, one use, expiring). Consent activates the
/// mentorship; a refusal ends it and tells the coordinator why.
pub fn decide_consent(
    conn: &mut DbConnection,
    ctx: &LifecycleContext<'_>,
    token: &str,
    give: bool,
    reason: &str,
) -> AppResult<&'static str> {
    let consent = consent_by_token(conn, ctx, token)?;
    if !give && reason.trim().is_empty() {
        return Err(AppError::bad_request("Please tell us briefly why, so the programme coordinator can follow up."));
    }
    crate::db::write_transaction(conn, |conn| {
        let n = diesel::update(
            consents::table.filter(consents::id.eq(&consent.id)).filter(consents::decision.eq("pending")),
        )
        .set((
            consents::decision.eq(if give { "given" } else { "declined" }),
            consents::decided_at.eq(Some(ctx.at)),
            consents::reason.eq((!reason.trim().is_empty()).then(|| reason.trim().to_owned())),
        ))
        .execute(conn)?;
        if n == 0 {
            return Err(AppError::conflict("This consent link has already been used."));
        }
        audit_row(
            conn,
            Some(&consent.guardian_id),
            if give { "consent.given" } else { "consent.declined" },
            "match",
            &consent.match_id,
            serde_json::json!({}),
        )?;
        let m = load_match(conn, &consent.match_id)?;
        if m.status != "awaiting_consent" {
            return Ok(if give { "recorded" } else { "declined" });
        }
        if give {
            activate(conn, ctx, &m)?;
            Ok("active")
        } else {
            close(
                conn,
                ctx,
                &m,
                "ended",
                &format!("A guardian declined consent: {}", reason.trim()),
                Some(&consent.guardian_id),
            )?;
            oversight::raise_alert(
                conn,
                ctx.policy,
                ctx.public_url,
                Some(&consent.guardian_id),
                NewAlert {
                    kind: "other",
                    severity: AlertSeverity::Normal,
                    summary: format!("A guardian declined consent for a mentorship: {}", reason.trim()),
                    student_id: Some(&m.student_id),
                    conversation_id: None,
                    message_id: None,
                    report_id: None,
                },
            )?;
            Ok("declined")
        }
    })
}

fn activate(conn: &mut DbConnection, ctx: &LifecycleContext<'_>, m: &Match) -> AppResult<()> {
    let signed: i64 = agreements::table.filter(agreements::match_id.eq(&m.id)).count().get_result(conn)?;
    if signed < 2 {
        return Err(AppError::conflict("Both must sign the agreement first."));
    }
    let ends = ctx.at + Duration::days(ctx.policy.lifecycle.match_length_days);
    diesel::update(matches::table.find(&m.id))
        .set((
            matches::status.eq("active"),
            matches::started_at.eq(Some(ctx.at)),
            matches::ends_at.eq(Some(ends)),
            matches::updated_at.eq(ctx.at),
        ))
        .execute(conn)?;
    let existing: i64 = conversations::table.filter(conversations::match_id.eq(&m.id)).count().get_result(conn)?;
    if existing == 0 {
        diesel::insert_into(conversations::table)
            .values(&Conversation {
                id: new_id(),
                match_id: m.id.clone(),
                status: "open".into(),
                status_reason: None,
                created_at: ctx.at,
                updated_at: ctx.at,
            })
            .execute(conn)?;
    }
    audit_row(conn, None, "match.activated", "match", &m.id, serde_json::json!({}))?;
    let reminder = ends - Duration::days(ctx.policy.lifecycle.closure_reminder_days_before);
    schedule(
        conn,
        ctx,
        "match.closure_reminder",
        serde_json::json!({ "match_id": m.id }),
        reminder,
        &format!("closure-remind:{}", m.id),
    )?;
    schedule(
        conn,
        ctx,
        "match.expire",
        serde_json::json!({ "match_id": m.id }),
        ends,
        &format!("match-expire:{}", m.id),
    )?;
    for id in [&m.student_id, &m.mentor_id] {
        notify(
            conn,
            ctx,
            id,
            "Your mentorship has started",
            &format!("Consent was given and your conversation is open: {}", ctx.link("/conversations")),
        )?;
    }
    Ok(())
}

/// Closes a mentorship: locks the conversation and sends closure surveys.
fn close(
    conn: &mut DbConnection,
    ctx: &LifecycleContext<'_>,
    m: &Match,
    status: &str,
    reason: &str,
    actor: Option<&str>,
) -> AppResult<()> {
    diesel::update(matches::table.find(&m.id))
        .set((
            matches::status.eq(status),
            matches::closed_at.eq(Some(ctx.at)),
            matches::close_reason.eq(Some(reason)),
            matches::updated_at.eq(ctx.at),
        ))
        .execute(conn)?;
    diesel::update(conversations::table.filter(conversations::match_id.eq(&m.id)))
        .set((
            conversations::status.eq("locked"),
            conversations::status_reason.eq(Some("mentorship closed")),
            conversations::updated_at.eq(ctx.at),
        ))
        .execute(conn)?;
    audit_row(conn, actor, "match.closed", "match", &m.id, serde_json::json!({ "status": status }))?;
    if m.started_at.is_none() {
        return Ok(()); // never active: nothing to survey
    }
    let mut people = vec![m.student_id.clone(), m.mentor_id.clone()];
    people.extend(
        guardianships::table
            .filter(guardianships::student_id.eq(&m.student_id))
            .select(guardianships::guardian_id)
            .load::<String>(conn)?,
    );
    for person in people {
        let survey = ClosureSurvey {
            id: new_id(),
            match_id: m.id.clone(),
            user_id: person.clone(),
            answers: None,
            submitted_at: None,
            created_at: ctx.at,
        };
        diesel::insert_into(closure_surveys::table).values(&survey).execute(conn)?;
        notify(
            conn,
            ctx,
            &person,
            "How did the mentorship go?",
            &format!(
                "The mentorship has closed. Please tell us how it went (three short questions): {}",
                ctx.link(&format!("/surveys/{}", survey.id))
            ),
        )?;
    }
    Ok(())
}

/// Each participant confirms the objectives are met; with both, the mentorship completes.
pub fn confirm_completion(
    conn: &mut DbConnection,
    ctx: &LifecycleContext<'_>,
    actor: &Actor,
    match_id: &str,
) -> AppResult<String> {
    let m = participant_match(conn, actor, match_id, "active", "Only an active mentorship can be completed.")?;
    crate::db::write_transaction(conn, |conn| {
        let exists: i64 = completion_confirmations::table
            .filter(completion_confirmations::match_id.eq(match_id))
            .filter(completion_confirmations::user_id.eq(&actor.user_id))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            return Err(AppError::conflict("You have already confirmed; waiting for the other person."));
        }
        diesel::insert_into(completion_confirmations::table)
            .values(&CompletionConfirmation {
                match_id: match_id.to_owned(),
                user_id: actor.user_id.clone(),
                confirmed_at: ctx.at,
            })
            .execute(conn)?;
        audit_row(conn, Some(&actor.user_id), "match.completion_confirmed", "match", match_id, serde_json::json!({}))?;
        let n: i64 = completion_confirmations::table
            .filter(completion_confirmations::match_id.eq(match_id))
            .count()
            .get_result(conn)?;
        if n >= 2 {
            close(conn, ctx, &m, "completed", "Both confirmed the objectives are met.", Some(&actor.user_id))?;
            Ok("completed".to_owned())
        } else {
            Ok("confirmed".to_owned())
        }
    })
}

/// A coordinator ends a mentorship with a reason.
pub fn end_match(
    conn: &mut DbConnection,
    ctx: &LifecycleContext<'_>,
    actor: &Actor,
    match_id: &str,
    reason: &str,
) -> AppResult<()> {
    actor.require(Capability::ProgrammeOversight)?;
    if reason.trim().is_empty() {
        return Err(AppError::bad_request("Please give the reason for ending this mentorship."));
    }
    let m = load_match(conn, match_id)?;
    if matches!(m.status.as_str(), "completed" | "ended") {
        return Err(AppError::conflict("This mentorship has already closed."));
    }
    crate::db::write_transaction(conn, |conn| close(conn, ctx, &m, "ended", reason.trim(), Some(&actor.user_id)))
}

// ---- timed work -----------------------------------------------------------------------------

/// Runs one lifecycle job. Handlers are idempotent: each checks the state before acting.
pub fn run_job(
    conn: &mut DbConnection,
    ctx: &LifecycleContext<'_>,
    kind: &str,
    payload: &serde_json::Value,
) -> AppResult<bool> {
    let id = |k: &str| payload[k].as_str().unwrap_or_default().to_owned();
    match kind {
        "request.remind" => {
            let r = load_request(conn, &id("request_id"))?;
            if r.status == "open" {
                let left = r.deadline_at.map(|d| (d - ctx.at).num_days().max(0)).unwrap_or(0);
                notify(
                    conn,
                    ctx,
                    &r.mentor_id,
                    "Reminder: a student is waiting for your answer",
                    &format!("Please accept or decline the request within {left} days: {}", ctx.link("/dashboard")),
                )?;
            }
        }
        "request.expire" => {
            let r = load_request(conn, &id("request_id"))?;
            if r.status == "open" {
                crate::db::write_transaction(conn, |conn| {
                    diesel::update(mentorship_requests::table.find(&r.id))
                        .set((mentorship_requests::status.eq("expired"), mentorship_requests::updated_at.eq(ctx.at)))
                        .execute(conn)?;
                    audit_row(conn, None, "request.expired", "request", &r.id, serde_json::json!({}))?;
                    notify(
                        conn,
                        ctx,
                        &r.student_id,
                        "Your mentor request expired",
                        &format!(
                            "The mentor did not answer in time. Here are new suggestions for you: {}",
                            ctx.link("/suggestions")
                        ),
                    )
                })?;
            }
        }
        "activation.remind" | "activation.expire" => {
            let student = id("student_id");
            let sent: i64 = mentorship_requests::table
                .filter(mentorship_requests::student_id.eq(&student))
                .count()
                .get_result(conn)?;
            let matched: i64 = matches::table.filter(matches::student_id.eq(&student)).count().get_result(conn)?;
            if sent == 0 && matched == 0 {
                if kind == "activation.remind" {
                    notify(conn, ctx, &student, "Choose a mentor on Trellis", &format!("You have been approved for mentoring. Pick one of your suggested mentors and send a request: {}", ctx.link("/suggestions")))?;
                } else {
                    oversight::raise_alert(
                        conn,
                        ctx.policy,
                        ctx.public_url,
                        None,
                        NewAlert {
                            kind: "other",
                            severity: AlertSeverity::Normal,
                            summary: "An approved student has not sent a mentor request within the activation period."
                                .into(),
                            student_id: Some(&student),
                            conversation_id: None,
                            message_id: None,
                            report_id: None,
                        },
                    )?;
                }
            }
        }
        "match.closure_reminder" => {
            let m = load_match(conn, &id("match_id"))?;
            if m.status == "active" {
                for p in [&m.student_id, &m.mentor_id] {
                    notify(
                        conn,
                        ctx,
                        p,
                        "Your mentorship ends in a month",
                        &format!(
                            "Your mentorship closes on {}. Use the time to wrap up your goals: {}",
                            m.ends_at.map(|e| e.format("%Y-%m-%d").to_string()).unwrap_or_default(),
                            ctx.link("/dashboard")
                        ),
                    )?;
                }
            }
        }
        "match.expire" => {
            let m = load_match(conn, &id("match_id"))?;
            if matches!(m.status.as_str(), "active" | "paused") && m.ends_at.is_some_and(|e| e <= ctx.at) {
                crate::db::write_transaction(conn, |conn| {
                    close(conn, ctx, &m, "completed", "The mentorship reached its 12-month end.", None)
                })?;
            }
        }
        "vetting.scan" => vetting_scan(conn, ctx)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// Warns about background checks expiring soon and tells the coordinator about active
/// mentorships whose mentor's check has expired.
fn vetting_scan(conn: &mut DbConnection, ctx: &LifecycleContext<'_>) -> AppResult<()> {
    let warn_until = ctx.at + Duration::days(ctx.policy.lifecycle.background_check_warning_days);
    let expiring: Vec<(String, NaiveDateTime)> = mentor_profiles::table
        .filter(mentor_profiles::background_check_status.eq("passed"))
        .filter(mentor_profiles::background_check_expires_at.le(warn_until))
        .select((mentor_profiles::user_id, mentor_profiles::background_check_expires_at.assume_not_null()))
        .load(conn)?;
    let coordinators: Vec<String> = users::table
        .filter(users::role.eq("coordinator"))
        .filter(users::status.eq("active"))
        .select(users::id)
        .load(conn)?;
    for (mentor, expires) in expiring {
        let day = expires.format("%Y-%m-%d").to_string();
        if expires > ctx.at {
            // One warning per mentor and expiry date, via the job queue's idempotency key.
            if job_queue::enqueue(
                conn,
                "noop",
                serde_json::json!({}),
                ctx.at,
                Some(&format!("vetting-warned:{mentor}:{day}")),
                ctx.at,
            )? {
                notify(
                    conn,
                    ctx,
                    &mentor,
                    "Your background check expires soon",
                    &format!("Your background check expires on {day}. Please renew it so you can keep mentoring."),
                )?;
                for c in &coordinators {
                    notify(
                        conn,
                        ctx,
                        c,
                        "A mentor's background check expires soon",
                        &format!("A mentor's background check expires on {day}: {}", ctx.link("/dashboard")),
                    )?;
                }
            }
        } else {
            let active: i64 = matches::table
                .filter(matches::mentor_id.eq(&mentor))
                .filter(matches::status.eq("active"))
                .count()
                .get_result(conn)?;
            if active > 0
                && job_queue::enqueue(
                    conn,
                    "noop",
                    serde_json::json!({}),
                    ctx.at,
                    Some(&format!("vetting-expired:{mentor}:{day}")),
                    ctx.at,
                )?
            {
                oversight::raise_alert(conn, ctx.policy, ctx.public_url, None, NewAlert {
                    kind: "vetting",
                    severity: AlertSeverity::High,
                    summary: format!("A mentor with {active} active mentorship(s) has an expired background check (expired {day})."),
                    student_id: None, conversation_id: None, message_id: None, report_id: None,
                })?;
            }
        }
    }
    Ok(())
}

// ---- vetting and approval (coordinators) ----------------------------------------------------

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct VettingUpdate {
    #[schema(value_type = Option<crate::db::enums::BackgroundCheck>)]
    pub background_check_status: Option<String>,
    /// Between 2000-01-01 and 2099-12-31.
    pub background_check_expires_on: Option<chrono::NaiveDate>,
    pub safeguarding_training_done: Option<bool>,
    pub code_of_conduct_signed: Option<bool>,
    pub approved: Option<bool>,
    /// How many mentees at once (0 to 10).
    #[schema(minimum = 0, maximum = 10)]
    pub capacity: Option<i32>,
}

pub fn update_vetting(
    conn: &mut DbConnection,
    ctx: &LifecycleContext<'_>,
    actor: &Actor,
    mentor_id: &str,
    update: &VettingUpdate,
) -> AppResult<Vec<&'static str>> {
    actor.require(Capability::ProgrammeOversight)?;
    let mut p: MentorProfile = mentor_profiles::table
        .find(mentor_id)
        .select(MentorProfile::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(AppError::not_found)?;
    if let Some(s) = &update.background_check_status {
        s.parse::<crate::db::enums::BackgroundCheck>().map_err(|e| AppError::bad_request(e.0))?;
        p.background_check_status = s.clone();
    }
    if let Some(d) = update.background_check_expires_on {
        crate::services::check_date(d, "the background check's expiry date")?;
        p.background_check_expires_at = d.and_hms_opt(0, 0, 0);
    }
    let stamp = |flag: Option<bool>, current: Option<NaiveDateTime>| match flag {
        Some(true) => current.or(Some(ctx.at)),
        Some(false) => None,
        None => current,
    };
    p.safeguarding_training_at = stamp(update.safeguarding_training_done, p.safeguarding_training_at);
    p.code_of_conduct_signed_at = stamp(update.code_of_conduct_signed, p.code_of_conduct_signed_at);
    if let Some(c) = update.capacity {
        if !(0..=10).contains(&c) {
            return Err(AppError::bad_request("Capacity must be between 0 and 10 mentees."));
        }
        p.capacity = c;
    }
    match update.approved {
        Some(true) => {
            let mut gaps = crate::services::dashboard::vetting_gaps(&p, ctx.at);
            gaps.retain(|g| *g != "coordinator approval");
            if !gaps.is_empty() {
                return Err(AppError::conflict(format!(
                    "This mentor cannot be approved yet; still missing: {}.",
                    gaps.join(", ")
                )));
            }
            p.approved_at = p.approved_at.or(Some(ctx.at));
            p.approved_by = p.approved_by.clone().or(Some(actor.user_id.clone()));
        }
        Some(false) => {
            p.approved_at = None;
            p.approved_by = None;
        }
        None => {}
    }
    p.updated_at = ctx.at;
    crate::db::write_transaction(conn, |conn| {
        diesel::update(mentor_profiles::table.find(mentor_id))
            .set((
                mentor_profiles::background_check_status.eq(&p.background_check_status),
                mentor_profiles::background_check_expires_at.eq(p.background_check_expires_at),
                mentor_profiles::safeguarding_training_at.eq(p.safeguarding_training_at),
                mentor_profiles::code_of_conduct_signed_at.eq(p.code_of_conduct_signed_at),
                mentor_profiles::approved_at.eq(p.approved_at),
                mentor_profiles::approved_by.eq(&p.approved_by),
                mentor_profiles::capacity.eq(p.capacity),
                mentor_profiles::updated_at.eq(ctx.at),
            ))
            .execute(conn)?;
        audit_row(
            conn,
            Some(&actor.user_id),
            "mentor.vetting_updated",
            "user",
            mentor_id,
            serde_json::json!({
                "background_check_status": p.background_check_status, "approved": p.approved_at.is_some(),
            }),
        )
    })?;
    Ok(crate::services::dashboard::vetting_gaps(&p, ctx.at))
}

/// A coordinator approves a student for matching; the activation clock starts.
pub fn approve_student(
    conn: &mut DbConnection,
    ctx: &LifecycleContext<'_>,
    actor: &Actor,
    student_id: &str,
) -> AppResult<()> {
    actor.require(Capability::ProgrammeOversight)?;
    let l = &ctx.policy.lifecycle;
    crate::db::write_transaction(conn, |conn| {
        let n = diesel::update(
            student_profiles::table
                .filter(student_profiles::user_id.eq(student_id))
                .filter(student_profiles::approval_status.ne("approved")),
        )
        .set((
            student_profiles::approval_status.eq("approved"),
            student_profiles::approved_at.eq(Some(ctx.at)),
            student_profiles::activation_deadline.eq(Some(ctx.at + Duration::days(l.activation_days))),
            student_profiles::updated_at.eq(ctx.at),
        ))
        .execute(conn)?;
        if n == 0 {
            return Err(AppError::conflict("That student is already approved (or does not exist)."));
        }
        for day in &l.activation_reminder_days {
            schedule(
                conn,
                ctx,
                "activation.remind",
                serde_json::json!({ "student_id": student_id }),
                ctx.at + Duration::days(*day),
                &format!("activation-remind:{student_id}:{day}"),
            )?;
        }
        schedule(
            conn,
            ctx,
            "activation.expire",
            serde_json::json!({ "student_id": student_id }),
            ctx.at + Duration::days(l.activation_days),
            &format!("activation-expire:{student_id}"),
        )?;
        audit_row(conn, Some(&actor.user_id), "student.approved", "user", student_id, serde_json::json!({}))
    })
}

/// Held requests waiting for review, for teachers (their students) and coordinators.
pub fn held_requests(conn: &mut DbConnection, actor: &Actor) -> AppResult<Vec<RequestView>> {
    actor.require(Capability::ReviewHeldMessages)?;
    let rows: Vec<MentorshipRequest> = mentorship_requests::table
        .filter(mentorship_requests::status.eq("awaiting_review"))
        .filter(mentorship_requests::moderation_status.eq("held"))
        .order(mentorship_requests::created_at.asc())
        .select(MentorshipRequest::as_select())
        .load(conn)?;
    let mut out = Vec::new();
    for r in rows {
        if crate::access::student_relation(conn, actor, &r.student_id)?.is_some() {
            out.push(request_view(conn, r, false)?);
        }
    }
    Ok(out)
}

/// A reviewer lets a held request through (it opens, with its deadline) or rejects it.
pub fn review_request(
    conn: &mut DbConnection,
    ctx: &LifecycleContext<'_>,
    actor: &Actor,
    request_id: &str,
    approve: bool,
    note: &str,
) -> AppResult<()> {
    actor.require(Capability::ReviewHeldMessages)?;
    let r = load_request(conn, request_id)?;
    if crate::access::student_relation(conn, actor, &r.student_id)?.is_none() {
        return Err(AppError::not_found());
    }
    if !approve && note.trim().is_empty() {
        return Err(AppError::bad_request("Please add a note saying why (the student is told)."));
    }
    crate::db::write_transaction(conn, |conn| {
        let (status, moderation_status) = if approve { ("open", "delivered") } else { ("cancelled", "rejected") };
        let deadline = approve.then(|| ctx.at + Duration::days(ctx.policy.lifecycle.request_response_days));
        let n = diesel::update(
            mentorship_requests::table
                .filter(mentorship_requests::id.eq(request_id))
                .filter(mentorship_requests::status.eq("awaiting_review")),
        )
        .set((
            mentorship_requests::status.eq(status),
            mentorship_requests::moderation_status.eq(moderation_status),
            mentorship_requests::delivered_text.eq(approve.then(|| r.original_text.clone())),
            mentorship_requests::deadline_at.eq(deadline),
            mentorship_requests::updated_at.eq(ctx.at),
        ))
        .execute(conn)?;
        if n == 0 {
            return Err(AppError::conflict("This request has already been reviewed."));
        }
        audit_row(
            conn,
            Some(&actor.user_id),
            "request.reviewed",
            "request",
            request_id,
            serde_json::json!({ "approve": approve }),
        )?;
        if approve {
            open_request_deadlines(conn, ctx, request_id, &r.mentor_id)
        } else {
            notify(
                conn,
                ctx,
                &r.student_id,
                "Your mentor request was not sent",
                &format!(
                    "A reviewer did not send your request: {}. You can write a new one: {}",
                    note.trim(),
                    ctx.link("/mentoring")
                ),
            )
        }
    })
}
