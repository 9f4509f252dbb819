//! Server-rendered pages (askama templates, escaped by construction) for people without the
//! app: the resident's form behind the venue's printed QR, the tracking page, and the
//! handling unit's page behind its secret link. Plain HTML forms, no script; they fit a
//! 360-px screen (fluid widths, nothing wider than the viewport).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::TimeZone;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::public::{self, SubmissionInput, SubmissionLimits};
use super::views::{PublicEvent, PublicItemView};
use super::workflow::{self, CommitteeRules};
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::domain::Satisfaction;
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::html::{Form, see_other};
use crate::schema::venues;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(submit_form)
        .service(submit_form_post)
        .service(tracking_page)
        .service(rate_form_post)
        .service(reopen_form_post)
        .service(unit_page)
        .service(unit_reply_post);
}

/// The topics offered on the form.
pub use crate::domain::ITEM_TOPICS as TOPICS;

/// No scripts, no frames, no foreign origins; inline styles only.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; \
                   base-uri 'none'; frame-ancestors 'none'";

/// Renders a page with the headers every page carries.
pub fn html(page: &impl Template) -> Result<HttpResponse, ApiError> {
    html_with(StatusCode::OK, page)
}

fn html_with(status: StatusCode, page: &impl Template) -> Result<HttpResponse, ApiError> {
    let body = page.render().map_err(ApiError::unexpected)?;
    // Tracking codes and unit links are in these URLs: no referrer leaves them.
    Ok(crate::html::page(status, CSP)
        .insert_header((header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .body(body))
}

/// A path segment taken from the request, fit to go back into a `Location` header: whatever
/// was typed or fuzzed into the URL (control characters, quotes) is percent-encoded, so the
/// header can always be built.
fn segment(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "items/message.html")]
struct MessagePage {
    title: &'static str,
    message: String,
}

/// An error as a page, in the words the app would show.
fn error_page(e: &ApiError) -> Result<HttpResponse, ApiError> {
    if e.code == ErrorCode::InternalError {
        tracing::error!(error = %e, "page failed");
    }
    let title = match e.code {
        ErrorCode::NotFound => "没有找到",
        ErrorCode::SubmissionThrottled | ErrorCode::LookupThrottled => "请稍后再试",
        _ => "未能完成",
    };
    let mut response = html_with(e.code.status(), &MessagePage { title, message: e.code.message_zh().to_owned() })?;
    if let Some(secs) = e.retry_after_secs {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    Ok(response)
}

#[derive(Template)]
#[template(path = "items/poster.html")]
pub struct PosterPage {
    pub venue_name: String,
    pub url: String,
    pub qr_svg: String,
}

#[derive(Template)]
#[template(path = "items/submit.html")]
struct SubmitPage {
    venue_code: String,
    venue_name: String,
    topics: &'static [&'static str],
    kind: String,
    topic: String,
    body: String,
    name: String,
    phone: String,
    consent: bool,
    errors: Vec<FieldError>,
    general_error: Option<String>,
}

async fn venue_name(pool: &web::Data<DbPool>, code: String) -> Result<String, ApiError> {
    db::run(pool, move |conn| {
        use diesel::prelude::*;
        Ok(venues::table
            .filter(venues::code.eq(&code).and(venues::active.eq(true)))
            .select(venues::name)
            .first::<String>(conn)?)
    })
    .await
}

/// The resident's page behind the venue's printed QR: a consultation or an opinion, topic,
/// text, optional name and phone, consent. No login, no app, no script.
#[utoipa::path(
    tag = "public",
    params(("venue_code" = String, Path)),
    responses((status = 200, content_type = "text/html", body = String), (status = 404, content_type = "text/html", body = String))
)]
#[get("/r/{venue_code}")]
async fn submit_form(pool: web::Data<DbPool>, code: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let venue_code = code.into_inner();
    match venue_name(&pool, venue_code.clone()).await {
        Ok(venue_name) => html(&SubmitPage {
            venue_code,
            venue_name,
            topics: TOPICS,
            // No kind is chosen for the resident: questions filed as opinions go the wrong way.
            kind: String::new(),
            topic: TOPICS[0].into(),
            body: String::new(),
            name: String::new(),
            phone: String::new(),
            consent: false,
            errors: Vec::new(),
            general_error: None,
        }),
        Err(e) => error_page(&e),
    }
}

/// The form fields as posted.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SubmitForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    /// `true` when the consent box is ticked.
    #[serde(default)]
    pub consent: Option<String>,
    /// The honeypot; people leave it empty.
    #[serde(default)]
    pub website: String,
}

/// Submits the form: on success, a redirect (303) to the tracking page; on a field error,
/// the form again with the messages and what was typed.
#[utoipa::path(
    tag = "public",
    params(("venue_code" = String, Path)),
    request_body(content = SubmitForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "To the tracking page `/r/t/{code}`"),
        (status = 400, description = "The form could not be read (shown as a page)", content_type = "text/html", body = String),
        (status = 422, content_type = "text/html", body = String),
        (status = 429, content_type = "text/html", body = String),
    )
)]
#[post("/r/{venue_code}")]
async fn submit_form_post(
    clock: Clock,
    req: HttpRequest,
    pool: web::Data<DbPool>,
    writes: web::Data<db::GroupCommit>,
    limits: web::Data<SubmissionLimits>,
    code: web::Path<String>,
    form: Form<SubmitForm>,
) -> Result<HttpResponse, ApiError> {
    let venue_code = code.into_inner();
    let form = form.into_inner();
    let input = SubmissionInput {
        venue_code: venue_code.clone(),
        kind: form.kind.clone(),
        topic: form.topic.clone(),
        body: form.body.clone(),
        name: Some(form.name.clone()),
        phone: Some(form.phone.clone()),
        consent: form.consent.as_deref() == Some("true"),
        website: Some(form.website.clone()),
    };
    let result = match input.check() {
        Ok(submission) => {
            let address = crate::client_address::client_address(&req);
            writes.write(move |conn| public::submit(conn, &submission, &address, &limits, clock.now_naive())).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(item) => Ok(see_other(format!("/r/t/{}?new=1", item.tracking_code))),
        Err(e) if e.code == ErrorCode::ValidationFailed => {
            let venue_name = match venue_name(&pool, venue_code.clone()).await {
                Ok(name) => name,
                Err(e) => return error_page(&e),
            };
            html_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &SubmitPage {
                    venue_code,
                    venue_name,
                    topics: TOPICS,
                    kind: form.kind,
                    topic: form.topic,
                    body: form.body,
                    name: form.name,
                    phone: form.phone,
                    consent: form.consent.as_deref() == Some("true"),
                    errors: e.errors,
                    general_error: Some("请检查标红的项目".into()),
                },
            )
        }
        Err(e) => error_page(&e),
    }
}

/// One line of a timeline as a page shows it, in the committee's local time.
struct Line {
    at: String,
    by: String,
    label: &'static str,
    text: Option<String>,
}

fn lines(events: Vec<PublicEvent>, tz: chrono_tz::Tz) -> Vec<Line> {
    events
        .into_iter()
        .map(|e| Line {
            at: tz.from_utc_datetime(&e.at.0.naive_utc()).format("%Y-%m-%d %H:%M").to_string(),
            by: e.by,
            label: match e.action.as_str() {
                "submit" => "提交",
                "record" => "委员登记",
                "reply" => "答复",
                "close" => "办结",
                "reopen" => "申请重新办理",
                "rate" => "评价",
                _ => "更新",
            },
            text: e.text,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "items/track.html")]
struct TrackPage {
    code: String,
    item: PublicItemView,
    events: Vec<Line>,
    just_submitted: bool,
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TrackQuery {
    new: Option<String>,
    msg: Option<String>,
}

/// The tracking page: state, answers, rating and (once, within the window) reopening.
#[utoipa::path(
    tag = "public",
    params(("code" = String, Path, description = "The tracking code")),
    responses(
        (status = 200, content_type = "text/html", body = String),
        (status = 404, content_type = "text/html", body = String),
        (status = 429, description = "Too many unknown codes from this address (a page, with Retry-After)", content_type = "text/html", body = String),
    )
)]
#[get("/r/t/{code}")]
async fn tracking_page(
    clock: Clock,
    req: HttpRequest,
    pool: web::Data<DbPool>,
    code: web::Path<String>,
    query: web::Query<TrackQuery>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let lookup = code.clone();
    let address = crate::client_address::client_address(&req);
    let found = db::run(&pool, move |conn| {
        let item = public::lookup_public(conn, &lookup, &address, clock.now_naive())?;
        let tz = CommitteeRules::load(conn, item.committee_id)?.tz;
        Ok((public::public_view(conn, item, clock.now_naive())?, tz))
    })
    .await;
    match found {
        Ok((mut item, tz)) => {
            let events = lines(std::mem::take(&mut item.events), tz);
            let message = match query.msg.as_deref() {
                Some("rated") => Some("感谢您的评价。".to_owned()),
                Some("reopened") => Some("已申请重新办理，我们会尽快处理。".to_owned()),
                Some(code) => ErrorCode::ALL.iter().find(|c| c.as_str() == code).map(|c| c.message_zh().to_owned()),
                None => None,
            };
            html(&TrackPage { code, item, events, just_submitted: query.new.is_some(), message })
        }
        Err(e) => error_page(&e),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RateForm {
    pub satisfaction: Satisfaction,
}

/// The rating form of the tracking page; back to the page (303).
#[utoipa::path(
    tag = "public",
    params(("code" = String, Path)),
    request_body(content = RateForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Back to the tracking page"),
        (status = 404, description = "No item with that code (a page)", content_type = "text/html", body = String),
        (status = 429, description = "Too many unknown codes from this address (a page, with Retry-After)", content_type = "text/html", body = String),
    )
)]
#[post("/r/t/{code}/rate")]
async fn rate_form_post(
    clock: Clock,
    req: HttpRequest,
    pool: web::Data<DbPool>,
    code: web::Path<String>,
    form: Form<RateForm>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let satisfaction = form.satisfaction;
    let lookup = code.clone();
    let done = match public::guard_lookup(&pool, &req, &code, clock.now_naive()).await {
        Ok(()) => {
            db::transaction(&pool, move |conn| {
                let item = public::find_public(conn, &lookup)?;
                workflow::rate(conn, &item, satisfaction, clock.now_naive())
            })
            .await
        }
        Err(e) => Err(e),
    };
    back_to_tracking(&code, done.map(|_| "rated"))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReopenForm {
    #[serde(default)]
    pub reason: String,
}

/// The reopen form of the tracking page; back to the page (303) with the outcome.
#[utoipa::path(
    tag = "public",
    params(("code" = String, Path)),
    request_body(content = ReopenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Back to the tracking page"),
        (status = 404, description = "No item with that code (a page)", content_type = "text/html", body = String),
        (status = 429, description = "Too many unknown codes from this address (a page, with Retry-After)", content_type = "text/html", body = String),
    )
)]
#[post("/r/t/{code}/reopen")]
async fn reopen_form_post(
    clock: Clock,
    req: HttpRequest,
    pool: web::Data<DbPool>,
    code: web::Path<String>,
    form: Form<ReopenForm>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let lookup = code.clone();
    let reason = form.into_inner().reason;
    let checked = match public::checked_reason(Some(&reason)) {
        Ok(reason) => public::guard_lookup(&pool, &req, &code, clock.now_naive()).await.map(|()| reason),
        Err(e) => Err(e),
    };
    let done = match checked {
        Ok(reason) => {
            db::transaction(&pool, move |conn| {
                public::reopen_by_resident(conn, &lookup, reason.as_deref(), clock.now_naive())
            })
            .await
        }
        Err(e) => Err(e),
    };
    back_to_tracking(&code, done.map(|_| "reopened"))
}

/// Post/redirect/get: the outcome travels as a stable code in the query.
fn back_to_tracking(code: &str, outcome: Result<&str, ApiError>) -> Result<HttpResponse, ApiError> {
    match outcome {
        Ok(msg) => Ok(see_other(format!("/r/t/{}?msg={msg}", segment(code)))),
        Err(e) if matches!(e.code, ErrorCode::NotFound | ErrorCode::LookupThrottled | ErrorCode::InternalError) => {
            error_page(&e)
        }
        Err(e) => Ok(see_other(format!("/r/t/{}?msg={}", segment(code), e.code.as_str()))),
    }
}

#[derive(Template)]
#[template(path = "items/unit.html")]
struct UnitPage {
    token: String,
    kind_label: &'static str,
    view: super::views::ReferralView,
    answers: Vec<Line>,
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct UnitQuery {
    msg: Option<String>,
}

/// The handling unit's page behind its secret link: the item and a form to answer.
#[utoipa::path(
    tag = "public",
    params(("token" = String, Path, description = "The secret of the referral link")),
    responses((status = 200, content_type = "text/html", body = String), (status = 404, content_type = "text/html", body = String))
)]
#[get("/h/{token}")]
async fn unit_page(
    pool: web::Data<DbPool>,
    token: web::Path<String>,
    query: web::Query<UnitQuery>,
) -> Result<HttpResponse, ApiError> {
    let token = token.into_inner();
    let lookup = token.clone();
    let found = db::run(&pool, move |conn| {
        let view = public::referral_view_of(conn, &lookup)?;
        let (_, _, _, item) = public::referral_by_token(conn, &lookup)?;
        let tz = CommitteeRules::load(conn, item.committee_id)?.tz;
        Ok((view, tz))
    })
    .await;
    match found {
        Ok((mut view, tz)) => {
            let answers = lines(std::mem::take(&mut view.answers), tz);
            let kind_label = view.kind.label_zh();
            let message = match query.msg.as_deref() {
                Some("replied") => Some("答复已提交，感谢！".to_owned()),
                Some(code) => ErrorCode::ALL.iter().find(|c| c.as_str() == code).map(|c| c.message_zh().to_owned()),
                None => None,
            };
            html(&UnitPage { token, kind_label, view, answers, message })
        }
        Err(e) => error_page(&e),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UnitReplyForm {
    #[serde(default)]
    pub text: String,
}

/// The handling unit's answer from its page; back to the page (303).
#[utoipa::path(
    tag = "public",
    params(("token" = String, Path)),
    request_body(content = UnitReplyForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Back to the unit's page"))
)]
#[post("/h/{token}")]
async fn unit_reply_post(
    clock: Clock,
    pool: web::Data<DbPool>,
    token: web::Path<String>,
    form: Form<UnitReplyForm>,
) -> Result<HttpResponse, ApiError> {
    let token = token.into_inner();
    let lookup = token.clone();
    let done = match public::checked_answer(&form.text) {
        Ok(text) => {
            db::transaction(&pool, move |conn| public::reply_as_unit(conn, &lookup, &text, clock.now_naive())).await
        }
        Err(e) => Err(e),
    };
    match done {
        Ok(_) => Ok(see_other(format!("/h/{}?msg=replied", segment(&token)))),
        Err(e) if e.code == ErrorCode::NotFound || e.code == ErrorCode::InternalError => error_page(&e),
        Err(e) => Ok(see_other(format!("/h/{}?msg={}", segment(&token), e.code.as_str()))),
    }
}
