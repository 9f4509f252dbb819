//! Approvals: swap requests both colleagues agreed on, and leave requests, of the
//! coordinator's venues. The decisions go through the same functions as the API's.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use chrono::{NaiveDate, NaiveTime};
use diesel::prelude::*;
use serde::Deserialize;

use super::render::{Chrome, ConsoleError, page};
use super::session::ConsoleUser;
use crate::auth::{AuthUser, VenueScope};
use crate::db::{self, DbConnection, DbPool};
use crate::domain::{LeaveAction, LeaveStatus, SwapAction, SwapStatus};
use crate::error::ApiError;
use crate::html::see_other;
use crate::roster::{leave, swaps};
use crate::schema::{assignments, leave_requests, members, shifts, swap_requests, venues};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(requests_page).service(swap_decision).service(leave_decision);
}

pub struct SwapLine {
    pub id: i64,
    pub venue: String,
    pub date: NaiveDate,
    /// `08:30`.
    pub start: String,
    pub from: String,
    pub taker: Option<String>,
    /// `Offered` (no colleague yet: can only be rejected) or `Accepted`.
    pub status: SwapStatus,
    pub note: String,
}

pub struct LeaveLine {
    pub id: i64,
    pub member: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "console/requests.html")]
struct RequestsPage {
    chrome: Chrome,
    swaps: Vec<SwapLine>,
    leaves: Vec<LeaveLine>,
}

/// id, giver, taker, status, note, venue id, venue name, date, start.
type SwapRow = (i64, i64, Option<i64>, SwapStatus, String, i64, String, NaiveDate, NaiveTime);

fn open_requests(
    conn: &mut DbConnection,
    committee_id: i64,
    scope: &VenueScope,
) -> Result<(Vec<SwapLine>, Vec<LeaveLine>), ApiError> {
    let swaps: Vec<SwapRow> = swap_requests::table
        .inner_join(assignments::table.inner_join(shifts::table.inner_join(venues::table)))
        .filter(swap_requests::committee_id.eq(committee_id))
        .filter(swap_requests::status.eq_any(SwapStatus::OPEN))
        .order((shifts::local_date, swap_requests::id))
        .select((
            swap_requests::id,
            swap_requests::from_member_id,
            swap_requests::accepted_by,
            swap_requests::status,
            swap_requests::note,
            shifts::venue_id,
            venues::name,
            shifts::local_date,
            shifts::start_time,
        ))
        .load(conn)?;
    let swaps: Vec<_> = swaps.into_iter().filter(|s| scope.includes(s.5)).collect();
    let leaves: Vec<(i64, i64, NaiveDate, NaiveDate, String, Option<i64>)> = leave_requests::table
        .inner_join(members::table)
        .filter(leave_requests::committee_id.eq(committee_id))
        .filter(leave_requests::status.eq(LeaveStatus::Pending))
        .order((leave_requests::date_from, leave_requests::id))
        .select((
            leave_requests::id,
            leave_requests::member_id,
            leave_requests::date_from,
            leave_requests::date_to,
            leave_requests::reason,
            members::home_venue_id,
        ))
        .load(conn)?;
    let leaves: Vec<_> = leaves.into_iter().filter(|l| leave::decided_within(scope, l.5)).collect();

    let mut ids: Vec<i64> = swaps.iter().flat_map(|s| [Some(s.1), s.2]).flatten().collect();
    ids.extend(leaves.iter().map(|l| l.1));
    let names: BTreeMap<i64, String> = members::table
        .filter(members::committee_id.eq(committee_id))
        .filter(members::id.eq_any(ids))
        .select((members::id, members::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let name = |id: i64| names.get(&id).cloned().unwrap_or_default();
    let swaps = swaps
        .into_iter()
        .map(|(id, from, taker, status, note, _, venue, date, start)| SwapLine {
            id,
            venue,
            date,
            start: start.format("%H:%M").to_string(),
            from: name(from),
            taker: taker.map(name),
            status,
            note,
        })
        .collect();
    let leaves = leaves
        .into_iter()
        .map(|(id, member, from, to, reason, _)| LeaveLine { id, member: name(member), from, to, reason })
        .collect();
    Ok((swaps, leaves))
}

#[get("/console/requests")]
async fn requests_page(user: ConsoleUser, pool: web::Data<DbPool>) -> Result<HttpResponse, ConsoleError> {
    let (committee_id, scope) = (user.committee_id(), user.coordinator.scope.clone());
    let (swaps, leaves) = db::run(&pool, move |conn| open_requests(conn, committee_id, &scope)).await?;
    page(&RequestsPage { chrome: Chrome::new(&user, "requests"), swaps, leaves })
}

#[derive(Deserialize)]
struct DecisionForm {
    csrf: String,
}

/// A coordinator's `approve` or `reject` (anything else is not a page) through the same
/// workflow as the API's; back to the list.
async fn decide(
    user: ConsoleUser,
    pool: web::Data<DbPool>,
    form: web::Form<DecisionForm>,
    decision: impl FnOnce(&mut DbConnection, &AuthUser, chrono::NaiveDateTime) -> Result<(), ApiError> + Send + 'static,
) -> Result<HttpResponse, ConsoleError> {
    user.check_csrf(&form.csrf)?;
    let (actor, now) = (user.coordinator.user.clone(), user.now);
    db::transaction(&pool, move |conn| decision(conn, &actor, now)).await?;
    Ok(see_other("/console/requests"))
}

#[post("/console/swaps/{id}/{action}")]
async fn swap_decision(
    user: ConsoleUser,
    pool: web::Data<DbPool>,
    path: web::Path<(i64, String)>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, ConsoleError> {
    let (id, action) = path.into_inner();
    let action = SwapAction::parse(&action).filter(|a| a.is_coordinators()).ok_or_else(ApiError::not_found)?;
    decide(user, pool, form, move |conn, actor, now| swaps::act(conn, actor, id, action, now).map(drop)).await
}

#[post("/console/leave/{id}/{action}")]
async fn leave_decision(
    user: ConsoleUser,
    pool: web::Data<DbPool>,
    path: web::Path<(i64, String)>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, ConsoleError> {
    let (id, action) = path.into_inner();
    let action = LeaveAction::parse(&action).filter(|a| a.is_coordinators()).ok_or_else(ApiError::not_found)?;
    decide(user, pool, form, move |conn, actor, now| leave::act(conn, actor, id, action, now).map(drop)).await
}
