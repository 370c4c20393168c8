//! The guardian's consent page (reached by the e-mailed link) and closure surveys.

use actix_session::Session;
use actix_web::{get, post, web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;

use crate::app::AppState;
use crate::db::models::ClosureSurvey;
use crate::db::schema::closure_surveys;
use crate::error::{AppError, AppResult};
use crate::services::lifecycle::{self, LifecycleContext};
use crate::web::{csrf, identity, templates};

fn ctx(state: &AppState) -> LifecycleContext<'_> {
    state.lifecycle_context(crate::db::now())
}

#[get("/consent/{token}")]
pub async fn consent_form(
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = path.into_inner();
    let st = state.clone();
    let view = crate::db::run(&state.pool, move |conn| lifecycle::consent_view(conn, &ctx(&st), &token)).await?;
    let actor = identity::current(&session, &state).await?;
    let mut context = identity::page_context(&session, actor.as_ref())?;
    context.insert("consent", &view);
    templates::render("consent.html", &context)
}

#[derive(Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    csrf_token: String,
    decision: String,
    #[serde(default)]
    reason: String,
}

#[post("/consent/{token}")]
pub async fn consent_decide(
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<ConsentForm>,
) -> AppResult<HttpResponse> {
    csrf::verify(&session, &form.csrf_token)?;
    let token = path.into_inner();
    let form = form.into_inner();
    let give = match form.decision.as_str() {
        "give" => true,
        "decline" => false,
        _ => return Err(AppError::bad_request("Please choose to give or decline consent.")),
    };
    let st = state.clone();
    let outcome =
        crate::db::run(&state.pool, move |conn| lifecycle::decide_consent(conn, &ctx(&st), &token, give, &form.reason))
            .await?;
    let actor = identity::current(&session, &state).await?;
    let mut context = identity::page_context(&session, actor.as_ref())?;
    context.insert("title", if give { "Thank you for your consent" } else { "Your answer was recorded" });
    context.insert(
        "message",
        match outcome {
            "active" => {
                "The mentorship has started. You can read the conversation at any time from your Trellis dashboard."
            }
            "declined" => {
                "The mentorship will not go ahead. The programme coordinator has been told and may contact you."
            }
            _ => "Thank you. Your answer was recorded.",
        },
    );
    context.insert("status", &200);
    templates::render("error.html", &context)
}

fn own_survey(conn: &mut crate::db::DbConnection, user_id: &str, id: &str) -> AppResult<ClosureSurvey> {
    let survey: ClosureSurvey = closure_surveys::table
        .find(id)
        .select(ClosureSurvey::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(AppError::not_found)?;
    if survey.user_id != user_id {
        return Err(AppError::not_found());
    }
    Ok(survey)
}

#[get("/surveys/{id}")]
pub async fn survey_form(
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let actor = identity::require(&session, &state).await?;
    let id = path.into_inner();
    let user = actor.user_id.clone();
    let survey = crate::db::run(&state.pool, move |conn| own_survey(conn, &user, &id)).await?;
    let mut context = identity::page_context(&session, Some(&actor))?;
    context.insert("survey_id", &survey.id);
    context.insert("submitted", &survey.submitted_at.is_some());
    templates::render("survey.html", &context)
}

#[derive(Deserialize)]
pub struct SurveyForm {
    #[serde(default)]
    csrf_token: String,
    rating: u8,
    went_well: String,
    improve: String,
}

#[post("/surveys/{id}")]
pub async fn survey_submit(
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<SurveyForm>,
) -> AppResult<HttpResponse> {
    let actor = identity::require(&session, &state).await?;
    csrf::verify(&session, &form.csrf_token)?;
    let form = form.into_inner();
    if !(1..=5).contains(&form.rating) || form.went_well.chars().count() > 2000 || form.improve.chars().count() > 2000 {
        return Err(AppError::bad_request(
            "Please give a rating from 1 to 5 and keep each answer under 2000 characters.",
        ));
    }
    let id = path.into_inner();
    let user = actor.user_id.clone();
    crate::db::run(&state.pool, move |conn| {
        let survey = own_survey(conn, &user, &id)?;
        if survey.submitted_at.is_some() {
            return Err(AppError::conflict("You have already answered this survey. Thank you!"));
        }
        let answers = serde_json::json!({ "rating": form.rating, "went_well": form.went_well.trim(), "improve": form.improve.trim() });
        diesel::update(closure_surveys::table.find(&survey.id))
            .set((closure_surveys::answers.eq(Some(answers.to_string())), closure_surveys::submitted_at.eq(Some(crate::db::now()))))
            .execute(conn)?;
        Ok(())
    })
    .await?;
    identity::flash(&session, "Thank you for your feedback!");
    Ok(crate::web::pages::redirect("/dashboard"))
}
