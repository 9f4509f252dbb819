//! 接待: the live inbox of residents' items at the venue where the member is on duty (take
//! one, read it, answer it in as many paragraphs as it needs), and recording an item heard
//! in person, linked to the duty. Every step is the items workflow's own, with the API's
//! standing: the member sees the items of their duties, never the resident's contact unless
//! they coordinate the venue.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::Duration;
use serde::Deserialize;

use super::CsrfForm;
use super::render::{self, Chrome, MemberError};
use super::session::MemberUser;
use crate::clock::Clock;
use crate::db::{self, DbConnection, DbPool};
use crate::domain::{ItemAction, ItemKind, Resolution};
use crate::error::{ApiError, ErrorCode};
use crate::items::reception::{self as duty_work, Access};
use crate::items::views::ItemView;
use crate::items::workflow::CommitteeRules;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(inbox)
        .service(record_form)
        .service(record_post)
        .service(item_page_get)
        .service(take)
        .service(reply)
        .service(close);
}

/// On the member pages another member's item is simply not there, whoever asks.
fn hidden(e: ApiError) -> ApiError {
    if matches!(e.code, ErrorCode::OutOfScope | ErrorCode::Forbidden) { ApiError::not_found() } else { e }
}

pub struct InboxEntry {
    pub id: i64,
    pub kind: &'static str,
    pub topic: String,
    pub excerpt: String,
    pub received: String,
    pub taken_by_me: bool,
}

#[derive(Template)]
#[template(path = "member_pages/inbox.html")]
struct InboxPage {
    chrome: Chrome,
    entries: Vec<InboxEntry>,
    on_duty_now: bool,
}

fn time_label(tz: chrono_tz::Tz, at: chrono::NaiveDateTime) -> String {
    let local = at.and_utc().with_timezone(&tz);
    format!("{} {}", super::today::date_label(local.date_naive()), local.format("%H:%M"))
}

#[get("/m/inbox")]
async fn inbox(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    clock: Clock,
) -> Result<HttpResponse, MemberError> {
    let (auth, now, tz) = (user.user.clone(), clock.now_naive(), user.timezone);
    let (rows, on_duty_now) = db::run(&pool, move |conn| {
        let rows = duty_work::inbox(conn, &auth, now)?;
        let on_duty_now = !open_duties(conn, &auth, tz, now)?.is_empty();
        Ok((rows, on_duty_now))
    })
    .await?;
    let me = user.member_id();
    let entries = rows
        .into_iter()
        .map(|r| InboxEntry {
            id: r.id,
            kind: r.kind.label_zh(),
            excerpt: r.body.chars().take(60).collect(),
            topic: r.topic,
            received: time_label(tz, r.created_at),
            taken_by_me: r.taken_by == Some(me),
        })
        .collect();
    render::page(&req, &user, &InboxPage { chrome: Chrome::new(&user, "inbox"), entries, on_duty_now })
}

pub struct TimelineEntry {
    pub at: String,
    pub action: &'static str,
    pub note: Option<String>,
}

#[derive(Template)]
#[template(path = "member_pages/item.html")]
struct ItemPage {
    chrome: Chrome,
    item: ItemView,
    kind: &'static str,
    state: &'static str,
    received: String,
    timeline: Vec<TimelineEntry>,
    can_take: bool,
    can_reply: bool,
    /// (value, label) of the resolutions the member may close the item with now; empty when
    /// closing is a coordinator's (the workflow's rule, `close_needs_coordinator`).
    closings: Vec<(&'static str, &'static str)>,
    taken_by_me: bool,
    draft: String,
    message: Option<String>,
}

fn action_label(action: &str) -> &'static str {
    match action {
        "submit" => "群众提交",
        "record" => "委员记录",
        "take" => "委员接手",
        "reply" => "答复",
        "triage" => "分级",
        "refer" => "转办",
        "close" => "办结",
        "reopen" => "重新办理",
        "rate" => "群众评价",
        "follow_up" => "回头看",
        _ => "处理",
    }
}

/// The item as the member may see it, with what they may do on it now.
fn item_page(
    conn: &mut DbConnection,
    user: &MemberUser,
    id: i64,
    now: chrono::NaiveDateTime,
    draft: String,
    message: Option<String>,
) -> Result<ItemPage, ApiError> {
    let row = crate::items::store::find(conn, user.committee_id(), id)?;
    let access = duty_work::access(conn, &user.user, &row).map_err(hidden)?;
    let rules = CommitteeRules::load(conn, row.committee_id)?;
    let today = crate::committee::local_date(rules.tz, now);
    let me = user.member_id();
    let awaits = row.state.awaits_answer();
    let taken_by_me = row.taken_by == Some(me);
    let free = row.taken_by.is_none();
    let on_duty = crate::items::store::was_on_duty_for(conn, &row, me)?;
    let mine = row.recorded_by == Some(me) || taken_by_me;
    let can_take = awaits && free && on_duty;
    let can_reply = awaits && (taken_by_me || mine || matches!(access, Access::Full) || (free && on_duty));
    let may_close = matches!(access, Access::Full) || crate::items::workflow::member_may_close(conn, &row, me)?;
    let closings = Resolution::ALL
        .iter()
        .filter(|r| may_close && ItemAction::Close(**r).next_state(row.state).is_some())
        .map(|r| (r.as_str(), r.label_zh()))
        .collect();
    let calendar = crate::calendar::store::known_years(conn, row.committee_id)?;
    let timeline = crate::items::store::events(conn, row.id, false)?
        .into_iter()
        .map(|e| TimelineEntry { at: time_label(rules.tz, e.at), action: action_label(&e.action), note: e.note })
        .collect();
    let received = time_label(rules.tz, row.created_at);
    let (kind, state) = (row.kind.label_zh(), row.state.label_zh());
    Ok(ItemPage {
        chrome: Chrome::new(user, "inbox"),
        item: ItemView::new(row, today, matches!(access, Access::Full), &calendar),
        kind,
        state,
        received,
        timeline,
        can_take,
        can_reply,
        closings,
        taken_by_me,
        draft,
        message,
    })
}

#[get("/m/items/{id}")]
async fn item_page_get(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    clock: Clock,
    id: web::Path<i64>,
) -> Result<HttpResponse, MemberError> {
    let (id, now) = (id.into_inner(), clock.now_naive());
    let (page, user) =
        db::run(&pool, move |conn| Ok((item_page(conn, &user, id, now, String::new(), None)?, user))).await?;
    render::page(&req, &user, &page)
}

/// 接手: the member on duty takes the item, so colleagues see it is handled.
#[post("/m/items/{id}/take")]
async fn take(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    clock: Clock,
    id: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, MemberError> {
    user.check_csrf(&form.csrf)?;
    let (id, auth, now) = (id.into_inner(), user.user.clone(), clock.now_naive());
    db::transaction(&pool, move |conn| duty_work::take_as(conn, &auth, id, now).map_err(hidden)).await?;
    render::redirect(&req, &user, format!("/m/items/{id}"))
}

#[derive(Deserialize)]
struct ReplyForm {
    csrf: String,
    text: String,
}

/// 答复: the answer the resident reads on the tracking page, paragraphs kept as written.
#[post("/m/items/{id}/reply")]
async fn reply(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    clock: Clock,
    id: web::Path<i64>,
    form: web::Form<ReplyForm>,
) -> Result<HttpResponse, MemberError> {
    user.check_csrf(&form.csrf)?;
    let ReplyForm { text, .. } = form.into_inner();
    let (id, auth, now) = (id.into_inner(), user.user.clone(), clock.now_naive());
    // Browsers send line breaks as CRLF; the answer keeps the member's paragraphs as LF.
    let text = text.replace("\r\n", "\n");
    let answer = duty_work::check_reply_text(&text);
    let done = match answer {
        Ok(answer) => {
            db::transaction(&pool, move |conn| {
                duty_work::reply_as(conn, &auth, id, &answer, now).map(drop).map_err(hidden)
            })
            .await
        }
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => render::redirect(&req, &user, format!("/m/items/{id}")),
        Err(e) if e.code.status().is_client_error() && e.code != ErrorCode::NotFound => {
            // The answer is shown again with what went wrong: a resident's paragraphs are not lost.
            let (status, message) = (e.code.status(), render::form_message(&e));
            let (page, user) =
                db::run(&pool, move |conn| Ok((item_page(conn, &user, id, now, text, Some(message))?, user))).await?;
            render::page_as(&req, Some(&user), status, render::CSP, &page)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct CloseForm {
    csrf: String,
    resolution: String,
}

/// 办结: a member closes a consultation they answered, or a tier 1 item they hold; anything
/// else is the coordinator's, and the page says so (`close_needs_coordinator`).
#[post("/m/items/{id}/close")]
async fn close(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    clock: Clock,
    id: web::Path<i64>,
    form: web::Form<CloseForm>,
) -> Result<HttpResponse, MemberError> {
    user.check_csrf(&form.csrf)?;
    let (id, auth, now) = (id.into_inner(), user.user.clone(), clock.now_naive());
    let done = match Resolution::parse(&form.resolution) {
        Some(resolution) => {
            db::transaction(&pool, move |conn| {
                duty_work::close_as(conn, &auth, id, resolution, None, now).map(drop).map_err(hidden)
            })
            .await
        }
        None => Err(ApiError::field("resolution", "invalid", "请选择办结方式")),
    };
    match done {
        Ok(()) => render::redirect(&req, &user, format!("/m/items/{id}")),
        Err(e) if e.code.status().is_client_error() && e.code != ErrorCode::NotFound => {
            let (status, message) = (e.code.status(), render::form_message(&e));
            let (page, user) =
                db::run(&pool, move |conn| Ok((item_page(conn, &user, id, now, String::new(), Some(message))?, user)))
                    .await?;
            render::page_as(&req, Some(&user), status, render::CSP, &page)
        }
        Err(e) => Err(e.into()),
    }
}

/// The member's duties open for recording now: begun (from an hour before the start) and
/// not ended more than a day ago.
fn open_duties(
    conn: &mut DbConnection,
    user: &crate::auth::AuthUser,
    tz: chrono_tz::Tz,
    now: chrono::NaiveDateTime,
) -> Result<Vec<crate::roster::views::Duty>, ApiError> {
    let today = crate::committee::local_date(tz, now);
    let duties =
        crate::roster::views::member_duties(conn, user.committee_id, user.member_id, today - Duration::days(1), today)?;
    let opens = crate::roster::duties::opens_before();
    Ok(duties
        .into_iter()
        .filter(|d| d.starts_at.naive_utc() - opens <= now && d.ends_at.naive_utc() >= now - Duration::hours(24))
        .collect())
}

pub struct DutyChoice {
    pub assignment_id: i64,
    pub label: String,
}

#[derive(Template)]
#[template(path = "member_pages/record.html")]
struct RecordPage {
    chrome: Chrome,
    duties: Vec<DutyChoice>,
    topics: &'static [&'static str],
    form: RecordForm,
    message: Option<String>,
}

#[derive(Deserialize, Default)]
struct RecordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    assignment_id: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    resident_name: String,
    #[serde(default)]
    resident_phone: String,
    #[serde(default)]
    consent: String,
}

async fn record_page(
    req: &HttpRequest,
    user: MemberUser,
    pool: &web::Data<DbPool>,
    now: chrono::NaiveDateTime,
    status: StatusCode,
    form: RecordForm,
    message: Option<String>,
) -> Result<HttpResponse, MemberError> {
    let (auth, tz) = (user.user.clone(), user.timezone);
    let duties = db::run(pool, move |conn| {
        Ok(open_duties(conn, &auth, tz, now)?
            .into_iter()
            .map(|d| DutyChoice {
                assignment_id: d.assignment_id,
                label: format!(
                    "{} {} {}",
                    d.venue_name,
                    super::today::date_label(d.starts_at.with_timezone(&tz).date_naive()),
                    d.start_time.format("%H:%M")
                ),
            })
            .collect::<Vec<_>>())
    })
    .await?;
    let page =
        RecordPage { chrome: Chrome::new(&user, "inbox"), duties, topics: crate::domain::ITEM_TOPICS, form, message };
    render::page_as(req, Some(&user), status, render::CSP, &page)
}

#[get("/m/record")]
async fn record_form(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    clock: Clock,
) -> Result<HttpResponse, MemberError> {
    let form = RecordForm { kind: "opinion".into(), ..Default::default() };
    record_page(&req, user, &pool, clock.now_naive(), StatusCode::OK, form, None).await
}

/// 记录: an item heard in person at reception, linked to the member's duty, as
/// `POST /api/v1/items` records it.
#[post("/m/record")]
async fn record_post(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    clock: Clock,
    form: web::Form<RecordForm>,
) -> Result<HttpResponse, MemberError> {
    user.check_csrf(&form.csrf)?;
    let mut form = form.into_inner();
    form.body = form.body.replace("\r\n", "\n");
    let now = clock.now_naive();
    let contact_given = !form.resident_name.trim().is_empty() || !form.resident_phone.trim().is_empty();
    let checked = if contact_given && form.consent != "yes" {
        Err(ApiError::field("consent", "required", "留下群众的联系方式须经本人同意，请勾选"))
    } else {
        let kind =
            ItemKind::parse(&form.kind).ok_or_else(|| ApiError::field("kind", "invalid", "请选择咨询或社情民意"));
        let assignment_id = form
            .assignment_id
            .trim()
            .parse::<i64>()
            .map_err(|_| ApiError::field("assignment_id", "required", "请选择值班"));
        kind.and_then(|kind| {
            duty_work::check_in_person(
                assignment_id?,
                kind,
                &form.topic,
                &form.body,
                Some(form.resident_name.as_str()),
                Some(form.resident_phone.as_str()),
            )
        })
    };
    let auth = user.user.clone();
    let outcome = match checked {
        Ok(item) => db::transaction(&pool, move |conn| duty_work::record_in_person(conn, &auth, &item, now)).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok((row, _)) => render::redirect(&req, &user, format!("/m/items/{}?recorded=1", row.id)),
        Err(e) if e.code.status().is_client_error() => {
            let (status, message) = (e.code.status(), render::form_message(&e));
            record_page(&req, user, &pool, now, status, form, Some(message)).await
        }
        Err(e) => Err(e.into()),
    }
}
