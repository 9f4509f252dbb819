//! The member's duties as an iCalendar feed (RFC 5545) at a secret, revocable URL, so phone
//! calendars show them with reminders. UIDs are stable: re-fetching updates, never duplicates.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::Duration;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use icalendar::{Alarm, Calendar, Component, Event, EventLike, Trigger};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::AuthUser;
use crate::auth::tokens::{random_token, sha256_hex};
use crate::clock::Clock;
use crate::db::{self, DbConnection, DbPool};
use crate::error::{ApiError, Problem};
use crate::schema::{assignments, calendar_feeds, committees, rosters, shift_templates, shifts, venues};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_feed).service(revoke_feed);
}

pub fn public_routes(cfg: &mut ServiceConfig) {
    cfg.service(ical_feed);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedLink {
    /// Subscribe to this URL in the phone's calendar. Treat it like a password.
    pub url: String,
    /// `webcal://` form, which phones open in their calendar app directly.
    pub webcal_url: String,
}

/// Create (or replace) your calendar-feed URL. Any previous URL stops working.
#[utoipa::path(
    tag = "rosters",
    responses((status = 201, body = FeedLink), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/me/calendar-feed")]
async fn create_feed(
    clock: Clock,
    user: AuthUser,
    req: HttpRequest,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    let token =
        db::transaction(&pool, move |conn| replace_feed(conn, user.committee_id, user.member_id, clock.now_naive()))
            .await?;
    Ok(HttpResponse::Created().json(feed_links(crate::public_url::BaseUrl::of(&req).as_str(), &token)))
}

/// Creates (or replaces) the member's calendar feed: the new secret token, shown once; any
/// earlier URL stops working. Runs inside the caller's transaction.
pub fn replace_feed(
    conn: &mut DbConnection,
    committee_id: i64,
    member_id: i64,
    now: chrono::NaiveDateTime,
) -> Result<String, ApiError> {
    let token = random_token();
    diesel::delete(calendar_feeds::table.filter(calendar_feeds::member_id.eq(member_id))).execute(conn)?;
    diesel::insert_into(calendar_feeds::table)
        .values((
            calendar_feeds::member_id.eq(member_id),
            calendar_feeds::committee_id.eq(committee_id),
            calendar_feeds::token_hash.eq(sha256_hex(&token)),
            calendar_feeds::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(token)
}

/// The feed's URLs under `base`: `https://…/ical/{token}.ics` and its `webcal://` form.
pub fn feed_links(base: &str, token: &str) -> FeedLink {
    let url = format!("{base}/ical/{token}.ics");
    let webcal_url = url.replacen("https://", "webcal://", 1).replacen("http://", "webcal://", 1);
    FeedLink { url, webcal_url }
}

/// Revoke your calendar-feed URL.
#[utoipa::path(tag = "rosters", responses((status = 204, description = "Revoked")), security(("bearer" = [])))]
#[delete("/me/calendar-feed")]
async fn revoke_feed(user: AuthUser, pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    db::run(&pool, move |conn| {
        diesel::delete(calendar_feeds::table.filter(calendar_feeds::member_id.eq(user.member_id))).execute(conn)?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A member's published duties (from 60 days ago) as `text/calendar`. The token in the path is
/// the only credential; unknown or revoked tokens answer 404.
#[utoipa::path(
    tag = "rosters",
    params(("file" = String, Path, description = "`{token}.ics`")),
    responses(
        (status = 200, content_type = "text/calendar", body = String),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/ical/{file}")]
async fn ical_feed(clock: Clock, pool: web::Data<DbPool>, file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let token = file.into_inner();
    let token = token.strip_suffix(".ics").ok_or_else(ApiError::not_found)?.to_owned();
    let body = db::run(&pool, move |conn| render(conn, &sha256_hex(&token), clock.now_naive())).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(("Cache-Control", "private, max-age=300"))
        .body(body))
}

fn render(conn: &mut DbConnection, token_hash: &str, now: NaiveDateTime) -> Result<String, ApiError> {
    let (member_id, committee_id): (i64, i64) = calendar_feeds::table
        .filter(calendar_feeds::token_hash.eq(token_hash))
        .select((calendar_feeds::member_id, calendar_feeds::committee_id))
        .first(conn)
        .optional()?
        .ok_or_else(ApiError::not_found)?;
    let committee: (String, String) =
        committees::table.find(committee_id).select((committees::code, committees::name)).first(conn)?;
    let settings = crate::committee::load_settings(conn, committee_id)?;
    let since = now - Duration::days(60);
    type Duty = (i64, String, String, chrono::NaiveDateTime, chrono::NaiveDateTime, String, i32, chrono::NaiveDateTime);
    let duties: Vec<Duty> = assignments::table
        .inner_join(
            shifts::table.inner_join(rosters::table).inner_join(venues::table).inner_join(shift_templates::table),
        )
        .filter(assignments::member_id.eq(member_id))
        .filter(crate::roster::duties::live())
        .filter(shifts::ends_at.ge(since))
        .order(shifts::starts_at)
        .select((
            assignments::id,
            shift_templates::name,
            venues::name,
            shifts::starts_at,
            shifts::ends_at,
            assignments::role,
            rosters::version,
            rosters::updated_at,
        ))
        .load(conn)?;
    let mut calendar = Calendar::new();
    calendar.name(&format!("{} · 值班", committee.1));
    for (assignment_id, template, venue, starts_at, ends_at, role, version, revised) in duties {
        let mut event = Event::new();
        event
            // The assignment id never changes while the duty stands: calendar apps update in place.
            .uid(&format!("assignment-{assignment_id}@{}.zhiban", committee.0))
            .summary(&format!("{template} · {venue}"))
            .location(&venue)
            .description(if role == "lead" { "您是本班负责人（带班）" } else { "值班委员" })
            .starts(starts_at.and_utc())
            .ends(ends_at.and_utc())
            .add_property("SEQUENCE", version.to_string())
            // When the roster was last revised, not when the feed was fetched: an unchanged
            // duty reads the same on every fetch.
            .timestamp(revised.and_utc());
        for days in &settings.reminder_days_before {
            let mut alarm = Alarm::display(
                &format!("值班提醒：{template}（{venue}）"),
                Trigger::before_start(Duration::days(i64::from(*days))),
            );
            // Without a fixed UID (and DTSTAMP) the library draws new ones on every fetch,
            // and some calendar apps then stack up copies of the same reminder.
            alarm.add_property("UID", format!("assignment-{assignment_id}-alarm-{days}d@{}.zhiban", committee.0));
            alarm.timestamp(revised.and_utc());
            event.alarm(alarm);
        }
        calendar.push(event.done());
    }
    Ok(calendar.done().to_string())
}
