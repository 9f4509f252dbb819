//! 调班/请假: offer one of my duties to a named colleague or to the pool, accept what is
//! offered to me, withdraw; ask for leave over a range of dates and follow its state. Each
//! action is the workflow's own (`roster::swaps::{offer, act}`, `roster::leave::{ask, act}`);
//! approving is the coordinators' and is refused here.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use super::CsrfForm;
use super::render::{self, Chrome, MemberError};
use super::session::MemberUser;
use crate::clock::Clock;
use crate::db::{self, DbConnection, DbPool};
use crate::domain::{LeaveAction, LeaveStatus, SwapAction, SwapStatus};
use crate::error::{ApiError, ErrorCode};
use crate::roster::leave::{self, CreateLeave, LeaveView};
use crate::roster::swaps::{self, Audience, CreateSwap, Slice, SwapView};
use crate::roster::views::DutyLabel;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(swaps_page)
        .service(offer)
        .service(swap_action)
        .service(leave_page)
        .service(ask_leave)
        .service(leave_action);
}

/// How many of a member's requests the pages list, newest first (the page says so).
const LISTED: i64 = 50;

fn label(d: &DutyLabel) -> String {
    format!(
        "{} {} {}–{}",
        d.venue_name,
        super::today::date_label(d.date),
        d.start_time.format("%H:%M"),
        d.end_time.format("%H:%M")
    )
}

pub struct MyDuty {
    pub assignment_id: i64,
    pub label: String,
    pub colleagues: Vec<(i64, String)>,
    pub offered: bool,
}

pub struct SwapEntry {
    pub id: i64,
    pub duty: String,
    pub from: String,
    pub to: String,
    pub status: &'static str,
    pub can_accept: bool,
    pub can_withdraw: bool,
}

#[derive(Template)]
#[template(path = "member_pages/swaps.html")]
struct SwapsPage {
    chrome: Chrome,
    duties: Vec<MyDuty>,
    offers: Vec<SwapEntry>,
    mine: Vec<SwapEntry>,
    message: Option<String>,
    done: Option<&'static str>,
}

#[derive(Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

fn done_message(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "offered" => "已发出换班请求。",
        "accept" => "已接受换班，等待联络员审批。",
        "cancel" => "已撤回。",
        "leave" => "请假申请已提交，等待审批。",
        _ => return None,
    })
}

fn swaps_page_data(
    conn: &mut DbConnection,
    user: &MemberUser,
    now: chrono::NaiveDateTime,
    message: Option<String>,
    done: Option<&'static str>,
) -> Result<SwapsPage, ApiError> {
    let (committee_id, me) = (user.committee_id(), user.member_id());
    let today = crate::committee::local_date(user.timezone, now);
    let swaps = swaps::visible(conn, &user.user, Audience::Member, Slice::Newest(LISTED))?.items;
    let open_offer: Vec<i64> =
        swaps.iter().filter(|s| s.from_member_id == me && s.status.is_open()).map(|s| s.assignment_id).collect();
    let duties = crate::roster::views::member_duties(conn, committee_id, me, today, today + Duration::days(92))?;
    let mut my_duties = Vec::new();
    for d in duties.into_iter().filter(|d| d.starts_at.naive_utc() > now) {
        my_duties.push(MyDuty {
            assignment_id: d.assignment_id,
            label: format!(
                "{} {} {}–{}",
                d.venue_name,
                super::today::date_label(d.date),
                d.start_time.format("%H:%M"),
                d.end_time.format("%H:%M")
            ),
            colleagues: crate::roster::store::pool_colleagues(conn, committee_id, d.shift_id, me)?,
            offered: open_offer.contains(&d.assignment_id),
        });
    }
    let ids: Vec<i64> = swaps.iter().map(|s| s.assignment_id).collect();
    let labels = crate::roster::views::duty_labels(conn, &ids)?;
    let people: Vec<i64> = swaps.iter().flat_map(|s| [Some(s.from_member_id), s.to_member_id]).flatten().collect();
    let names: BTreeMap<i64, String> = crate::members::store::names(conn, committee_id, &people)?;
    let entry = |s: &SwapView| SwapEntry {
        id: s.id,
        duty: labels.get(&s.assignment_id).map(label).unwrap_or_default(),
        from: names.get(&s.from_member_id).cloned().unwrap_or_default(),
        to: s.to_member_id.and_then(|t| names.get(&t).cloned()).unwrap_or_else(|| "值班池（任一同事）".to_owned()),
        status: s.status.label_zh(),
        can_accept: s.status == SwapStatus::Offered && s.from_member_id != me,
        can_withdraw: s.status.is_open() && (s.from_member_id == me || s.accepted_by == Some(me)),
    };
    let offers = swaps
        .iter()
        .filter(|s| s.from_member_id != me && (s.status == SwapStatus::Offered || s.accepted_by == Some(me)))
        .map(entry)
        .collect();
    let mine = swaps.iter().filter(|s| s.from_member_id == me).map(entry).collect();
    Ok(SwapsPage { chrome: Chrome::new(user, "requests"), duties: my_duties, offers, mine, message, done })
}

#[get("/m/swaps")]
async fn swaps_page(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    clock: Clock,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, MemberError> {
    let (now, done) = (clock.now_naive(), done_message(query.done.as_deref()));
    let (page, user) = db::run(&pool, move |conn| Ok((swaps_page_data(conn, &user, now, None, done)?, user))).await?;
    render::page(&req, &user, &page)
}

#[derive(Deserialize)]
struct OfferForm {
    csrf: String,
    assignment_id: i64,
    /// A colleague's id, or empty for the pool.
    #[serde(default)]
    to_member_id: String,
    #[serde(default)]
    note: String,
}

/// 发起换班: `roster::swaps::offer`, as `POST /api/v1/swap-requests`.
#[post("/m/swaps")]
async fn offer(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    clock: Clock,
    form: web::Form<OfferForm>,
) -> Result<HttpResponse, MemberError> {
    user.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let to_member_id = match form.to_member_id.trim() {
        "" => None,
        raw => Some(raw.parse::<i64>().map_err(|_| ApiError::field("to_member_id", "invalid", "请选择同事"))?),
    };
    let body = CreateSwap { assignment_id: form.assignment_id, to_member_id, note: form.note.trim().to_owned() };
    let (auth, now) = (user.user.clone(), clock.now_naive());
    let outcome = db::transaction(&pool, move |conn| swaps::offer(conn, &auth, &body, now)).await;
    match outcome {
        Ok(_) => render::redirect(&req, &user, "/m/swaps?done=offered"),
        Err(e) if e.code == ErrorCode::Forbidden => Err(ApiError::not_found().into()),
        Err(e) if e.code.status().is_client_error() && e.code != ErrorCode::NotFound => {
            let (status, message) = (e.code.status(), render::form_message(&e));
            let (page, user) =
                db::run(&pool, move |conn| Ok((swaps_page_data(conn, &user, now, Some(message), None)?, user))).await?;
            render::page_as(&req, Some(&user), status, render::CSP, &page)
        }
        Err(e) => Err(e.into()),
    }
}

/// 接受 / 撤回 a swap request the member is part of (or a pool offer open to them). Another
/// member's request is not there (404); approving and rejecting are the coordinators'.
#[post("/m/swaps/{id}/{action}")]
async fn swap_action(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    clock: Clock,
    path: web::Path<(i64, String)>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, MemberError> {
    user.check_csrf(&form.csrf)?;
    let (id, action) = path.into_inner();
    let (auth, now) = (user.user.clone(), clock.now_naive());
    let action = SwapAction::parse(&action);
    let allowed = action.is_some_and(|a| !a.is_coordinators());
    db::transaction(&pool, move |conn| {
        if swaps::visible(conn, &auth, Audience::Member, Slice::One(id))?.items.is_empty() {
            return Err(ApiError::not_found());
        }
        match action {
            Some(action) if !action.is_coordinators() => swaps::act(conn, &auth, id, action, now),
            _ => Err(ApiError::forbidden().with_detail("审批由联络员在值班管理控制台办理")),
        }
    })
    .await?;
    let done = if allowed { form_done(&req) } else { "" };
    render::redirect(&req, &user, format!("/m/swaps?done={done}"))
}

fn form_done(req: &HttpRequest) -> &'static str {
    if req.path().ends_with("/accept") { "accept" } else { "cancel" }
}

pub struct LeaveEntry {
    pub id: i64,
    pub range: String,
    pub reason: String,
    pub status: &'static str,
    pub pending: bool,
}

#[derive(Template)]
#[template(path = "member_pages/leave.html")]
struct LeavePage {
    chrome: Chrome,
    entries: Vec<LeaveEntry>,
    today: String,
    form_from: String,
    form_to: String,
    form_reason: String,
    message: Option<String>,
    done: Option<&'static str>,
}

struct LeaveForm {
    from: String,
    to: String,
    reason: String,
}

async fn leave_page_with(
    req: &HttpRequest,
    user: MemberUser,
    pool: &web::Data<DbPool>,
    now: chrono::NaiveDateTime,
    status: StatusCode,
    refused: Option<(LeaveForm, String)>,
    done: Option<&'static str>,
) -> Result<HttpResponse, MemberError> {
    let auth = user.user.clone();
    let today = crate::committee::local_date(user.timezone, now);
    let views = db::run(pool, move |conn| Ok(leave::visible(conn, &auth, false, Slice::Newest(LISTED))?.items)).await?;
    let range = |l: &LeaveView| {
        if l.date_from == l.date_to {
            super::today::date_label(l.date_from)
        } else {
            format!("{} 至 {}", super::today::date_label(l.date_from), super::today::date_label(l.date_to))
        }
    };
    let entries = views
        .iter()
        .map(|l| LeaveEntry {
            id: l.id,
            range: range(l),
            reason: l.reason.clone(),
            status: l.status.label_zh(),
            pending: l.status == LeaveStatus::Pending,
        })
        .collect();
    let (form, message) = match refused {
        Some((form, message)) => (form, Some(message)),
        None => (LeaveForm { from: today.to_string(), to: today.to_string(), reason: String::new() }, None),
    };
    let page = LeavePage {
        chrome: Chrome::new(&user, "requests"),
        entries,
        today: today.to_string(),
        form_from: form.from,
        form_to: form.to,
        form_reason: form.reason,
        message,
        done,
    };
    render::page_as(req, Some(&user), status, render::CSP, &page)
}

#[get("/m/leave")]
async fn leave_page(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    clock: Clock,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, MemberError> {
    let done = done_message(query.done.as_deref());
    leave_page_with(&req, user, &pool, clock.now_naive(), StatusCode::OK, None, done).await
}

#[derive(Deserialize)]
struct AskLeaveForm {
    csrf: String,
    date_from: String,
    date_to: String,
    #[serde(default)]
    reason: String,
}

/// 请假: `roster::leave::ask`, as `POST /api/v1/leave-requests`.
#[post("/m/leave")]
async fn ask_leave(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    clock: Clock,
    form: web::Form<AskLeaveForm>,
) -> Result<HttpResponse, MemberError> {
    user.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let now = clock.now_naive();
    let date = |field: &str, raw: &str| {
        NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| ApiError::field(field, "invalid", "请填写日期"))
    };
    let checked = date("date_from", &form.date_from).and_then(|from| Ok((from, date("date_to", &form.date_to)?)));
    let auth = user.user.clone();
    let reason = form.reason.trim().to_owned();
    let outcome = match checked {
        Ok((date_from, date_to)) => {
            let body = CreateLeave { date_from, date_to, reason: reason.clone() };
            db::transaction(&pool, move |conn| leave::ask(conn, &auth, &body, now)).await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => render::redirect(&req, &user, "/m/leave?done=leave"),
        Err(e) if e.code.status().is_client_error() => {
            let (status, message) = (e.code.status(), render::form_message(&e));
            let form = LeaveForm { from: form.date_from, to: form.date_to, reason };
            leave_page_with(&req, user, &pool, now, status, Some((form, message)), None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// 撤回 a pending leave request of the member's own; another member's is not there (404).
#[post("/m/leave/{id}/{action}")]
async fn leave_action(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    clock: Clock,
    path: web::Path<(i64, String)>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, MemberError> {
    user.check_csrf(&form.csrf)?;
    let (id, action) = path.into_inner();
    let (auth, now) = (user.user.clone(), clock.now_naive());
    db::transaction(&pool, move |conn| {
        if leave::visible(conn, &auth, false, Slice::One(id))?.items.is_empty() {
            return Err(ApiError::not_found());
        }
        if LeaveAction::parse(&action) != Some(LeaveAction::Cancel) {
            return Err(ApiError::forbidden().with_detail("审批由联络员在值班管理控制台办理"));
        }
        leave::act(conn, &auth, id, LeaveAction::Cancel, now).map(drop)
    })
    .await?;
    render::redirect(&req, &user, "/m/leave?done=cancel")
}
