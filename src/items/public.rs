//! The residents' side: submitting from the venue's printed QR (the same rules for the HTML
//! page and the JSON API), following an item by its tracking code, rating and reopening it;
//! and the handling unit's side, through the secret link of its referral.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::store::{self, Actor, Event, ItemRow, NewItem};
use super::views::{PublicEvent, PublicItemView, ReferralView};
use super::workflow::{self, CommitteeRules};
use super::workflow::{MAX_BODY_CHARS, MAX_NOTE_CHARS, MAX_TOPIC_CHARS};
use crate::auth::tokens::sha256_hex;
use crate::clock::Clock;
use crate::db::{self, DbConnection, DbPool};
use crate::domain::{ItemKind, ItemState, PersonName, Phone, Satisfaction, TrackingCode};
use crate::error::{ApiError, ErrorCode, FieldChecks, Problem};
use crate::schema::{handling_units, referrals, submission_hits, venues};
use crate::throttle;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(submit_item)
        .service(track_item)
        .service(rate_item)
        .service(resident_reopen)
        .service(referral_view)
        .service(referral_reply);
}

/// How many submissions one client address may make in [`WINDOW_MINUTES`] (a setting).
pub struct SubmissionLimits {
    pub per_address: u32,
}

pub const WINDOW_MINUTES: i64 = 10;
/// Submissions per phone number in a day: a person rarely has more to raise than this.
pub const PER_PHONE_PER_DAY: i64 = 5;

/// A submission as typed, from the form or the JSON API.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmissionInput {
    /// The venue's code, as printed in its QR (`/r/{venue_code}`).
    pub venue_code: String,
    /// `consultation` (咨询) or `opinion` (社情民意).
    pub kind: String,
    pub topic: String,
    pub body: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    /// The resident agrees that the committee stores the item and contacts them about it.
    #[serde(default)]
    pub consent: bool,
    /// Leave empty. A field people never see; bots fill it in.
    #[serde(default)]
    pub website: Option<String>,
}

/// A checked submission.
pub struct Submission {
    venue_code: String,
    kind: ItemKind,
    topic: String,
    body: String,
    name: Option<PersonName>,
    phone: Option<Phone>,
}

impl SubmissionInput {
    /// Every field's problem at once, or the submission. A filled honeypot is refused as a
    /// whole, without saying why.
    pub fn check(&self) -> Result<Submission, ApiError> {
        if self.website.as_deref().is_some_and(|w| !w.trim().is_empty()) {
            return Err(ErrorCode::SubmissionRejected.into());
        }
        let mut checks = FieldChecks::new();
        let kind = ItemKind::parse(self.kind.trim());
        if kind.is_none() {
            checks.push("kind", "invalid", "consultation or opinion");
        }
        let topic = checks.check("topic", crate::domain::bounded_text(&self.topic, MAX_TOPIC_CHARS));
        let body = checks.check("body", crate::domain::bounded_paragraphs(&self.body, MAX_BODY_CHARS));
        let name = self
            .name
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|s| checks.check("name", PersonName::parse(s)));
        let phone =
            self.phone.as_deref().filter(|s| !s.trim().is_empty()).and_then(|s| checks.check("phone", Phone::parse(s)));
        if !self.consent {
            checks.push("consent", "required", "please agree to how your submission is used");
        }
        checks.finish()?;
        Ok(Submission {
            venue_code: self.venue_code.trim().to_owned(),
            kind: kind.unwrap_or(ItemKind::Opinion),
            topic: topic.unwrap_or_default(),
            body: body.unwrap_or_default(),
            name,
            phone,
        })
    }
}

/// Counts a submission against the client address and the phone, refusing with
/// `submission_throttled` (and Retry-After) past the limits. Keys are hashed: no address or
/// phone is stored in clear for this.
fn throttle(
    conn: &mut DbConnection,
    address: &str,
    phone: Option<&Phone>,
    limits: &SubmissionLimits,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let mut keys =
        vec![(sha256_hex(&format!("submit-address:{address}")), i64::from(limits.per_address), WINDOW_MINUTES)];
    if let Some(phone) = phone {
        keys.push((sha256_hex(&format!("submit-phone:{}", phone.as_str())), PER_PHONE_PER_DAY, 24 * 60));
    }
    for (key, limit, window) in &keys {
        let since = now - Duration::minutes(*window);
        let recent =
            submission_hits::table.filter(submission_hits::key_hash.eq(key).and(submission_hits::at.gt(since)));
        let count: i64 = recent.count().get_result(conn)?;
        if count >= *limit {
            // The hit that has to age out of the window before one more is allowed.
            let blocking: NaiveDateTime = recent
                .order(submission_hits::at.desc())
                .offset(limit - 1)
                .select(submission_hits::at)
                .first(conn)
                .optional()?
                .unwrap_or(now);
            let mut err = ApiError::new(ErrorCode::SubmissionThrottled);
            err.retry_after_secs = Some((blocking + Duration::minutes(*window) - now).num_seconds().max(1) as u64);
            return Err(err);
        }
    }
    for (key, _, _) in &keys {
        diesel::insert_into(submission_hits::table)
            .values((submission_hits::key_hash.eq(key), submission_hits::at.eq(now)))
            .execute(conn)?;
    }
    // Nothing older than a day counts any more.
    diesel::delete(submission_hits::table.filter(submission_hits::at.lt(now - Duration::days(1)))).execute(conn)?;
    Ok(())
}

#[derive(Serialize)]
struct InboxNotice<'a> {
    item_id: i64,
    venue_id: i64,
    kind: ItemKind,
    topic: &'a str,
    /// The members on duty, whose app shows the item in `GET /me/inbox`.
    member_ids: Vec<i64>,
}

/// Stores a resident's submission for the venue named by its code; the members on duty
/// there are told. Returns the item.
pub fn submit(
    conn: &mut DbConnection,
    submission: &Submission,
    address: &str,
    limits: &SubmissionLimits,
    now: NaiveDateTime,
) -> Result<ItemRow, ApiError> {
    let venue: Option<(i64, i64)> = venues::table
        .filter(venues::code.eq(&submission.venue_code).and(venues::active.eq(true)))
        .select((venues::committee_id, venues::id))
        .first(conn)
        .optional()?;
    let Some((committee_id, venue_id)) = venue else {
        return Err(ApiError::not_found().with_detail("no venue with that code"));
    };
    throttle(conn, address, submission.phone.as_ref(), limits, now)?;
    let item = store::insert(
        conn,
        &NewItem {
            committee_id,
            venue_id,
            kind: submission.kind.as_str(),
            topic: &submission.topic,
            body: &submission.body,
            resident_name: submission.name.as_ref().map(|n| n.as_str()),
            resident_phone: submission.phone.as_ref().map(|p| p.as_str()),
            source: "resident",
            recorded_by: None,
            assignment_id: None,
        },
        now,
    )?;
    store::add_event(
        conn,
        &item,
        Actor::Resident,
        Event { action: "submit", from: None, to: Some(ItemState::Received), note: None, public: true },
        now,
    )?;
    let on_duty = crate::roster::duties::on_duty_members(conn, venue_id, now)?;
    if !on_duty.is_empty() {
        crate::outbox::enqueue(
            conn,
            committee_id,
            "item.inbox",
            None,
            &InboxNotice { item_id: item.id, venue_id, kind: item.kind, topic: &item.topic, member_ids: on_duty },
            now,
        )?;
    }
    Ok(item)
}

pub fn find_public(conn: &mut DbConnection, raw_code: &str) -> Result<ItemRow, ApiError> {
    let code = TrackingCode::parse(raw_code).ok_or_else(ApiError::not_found)?;
    store::find_by_tracking_code(conn, &code)
}

/// Unknown tracking codes one client address may look up per [`LOOKUP_WINDOW_MINUTES`]: a
/// resident mistypes a few; a guesser needs billions (30⁸ codes).
pub const MAX_FAILED_LOOKUPS_PER_ADDRESS: i64 = 20;
pub const LOOKUP_WINDOW_MINUTES: i64 = 15;

/// [`find_public`] for a code that came from a client at `address` (every route of the
/// residents that takes a code goes through here first). The lookup is counted before it
/// runs and given back when the code exists, so only failed lookups use up the address's
/// allowance; past it every lookup is refused with `lookup_throttled` (and Retry-After), a
/// code that exists too, so a guess that hits cannot be told apart.
pub fn lookup_public(
    conn: &mut DbConnection,
    raw_code: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<ItemRow, ApiError> {
    let key = throttle::Key::new("lookup-address", address);
    let count = throttle::hit(conn, &key, Duration::minutes(LOOKUP_WINDOW_MINUTES), now)?;
    if count.exceeds(MAX_FAILED_LOOKUPS_PER_ADDRESS) {
        return Err(count.refusal(ErrorCode::LookupThrottled, now));
    }
    let item = find_public(conn, raw_code)?;
    throttle::refund(conn, &key)?;
    Ok(item)
}

/// [`lookup_public`] on its own, before a route's transaction (whose rollback would
/// otherwise take the count back with it).
pub async fn guard_lookup(
    pool: &web::Data<DbPool>,
    req: &HttpRequest,
    code: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let (address, code) = (crate::client_address::client_address(req), code.to_owned());
    db::run(pool, move |conn| lookup_public(conn, &code, &address, now).map(drop)).await
}

/// The resident's view of their item.
pub fn public_view(conn: &mut DbConnection, item: ItemRow, now: NaiveDateTime) -> Result<PublicItemView, ApiError> {
    let venue_name: String = venues::table.find(item.venue_id).select(venues::name).first(conn)?;
    let rules = CommitteeRules::load(conn, item.committee_id)?;
    let events = store::events(conn, item.id, true)?;
    Ok(PublicItemView::new(item, venue_name, events, rules.settings.reopen_window_days, now))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Submitted {
    /// Read aloud or typed to follow the item: `ABCD-EFGH`.
    pub tracking_code: String,
    /// The tracking page.
    pub tracking_url: String,
    pub state: ItemState,
}

/// A resident submits a consultation or an opinion (the JSON twin of the `/r/{venue_code}`
/// form). Answers the tracking code. Limited per address and per phone; no login.
#[utoipa::path(
    tag = "public",
    request_body = SubmissionInput,
    responses(
        (status = 201, body = Submitted),
        (status = 404, description = "`not_found`: no venue with that code", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`submission_throttled`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/public/items")]
async fn submit_item(
    clock: Clock,
    req: HttpRequest,
    writes: web::Data<db::GroupCommit>,
    limits: web::Data<SubmissionLimits>,
    body: web::Json<SubmissionInput>,
) -> Result<HttpResponse, ApiError> {
    let submission = body.check()?;
    let address = crate::client_address::client_address(&req);
    let base = crate::public_url::BaseUrl::of(&req);
    let item = writes.write(move |conn| submit(conn, &submission, &address, &limits, clock.now_naive())).await?;
    let code = TrackingCode::parse(&item.tracking_code).map(|c| c.display()).unwrap_or(item.tracking_code.clone());
    Ok(HttpResponse::Created().json(Submitted {
        tracking_url: format!("{base}/r/t/{}", item.tracking_code),
        tracking_code: code,
        state: item.state,
    }))
}

/// The item behind a tracking code: its state, the answers and what the resident may do.
/// Never a name, phone number, member or handling unit.
#[utoipa::path(
    tag = "public",
    params(("tracking_code" = String, Path)),
    responses(
        (status = 200, body = PublicItemView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`lookup_throttled`: too many unknown codes from this address, with Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/public/items/{tracking_code}")]
async fn track_item(
    clock: Clock,
    req: HttpRequest,
    pool: web::Data<DbPool>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let address = crate::client_address::client_address(&req);
    let view = db::run(&pool, move |conn| {
        let item = lookup_public(conn, &code, &address, clock.now_naive())?;
        public_view(conn, item, clock.now_naive())
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingInput {
    pub satisfaction: Satisfaction,
}

/// The resident rates the answer (`satisfied`, `partly_satisfied`, `unsatisfied`).
#[utoipa::path(
    tag = "public",
    params(("tracking_code" = String, Path)),
    request_body = RatingInput,
    responses(
        (status = 200, body = PublicItemView),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`lookup_throttled`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/public/items/{tracking_code}/rating")]
async fn rate_item(
    clock: Clock,
    req: HttpRequest,
    pool: web::Data<DbPool>,
    code: web::Path<String>,
    body: web::Json<RatingInput>,
) -> Result<web::Json<PublicItemView>, ApiError> {
    let code = code.into_inner();
    guard_lookup(&pool, &req, &code, clock.now_naive()).await?;
    let satisfaction = body.satisfaction;
    let view = db::transaction(&pool, move |conn| {
        let item = find_public(conn, &code)?;
        workflow::rate(conn, &item, satisfaction, clock.now_naive())?;
        let item = find_public(conn, &code)?;
        public_view(conn, item, clock.now_naive())
    })
    .await?;
    Ok(web::Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResidentReopen {
    /// Why the answer does not settle it.
    pub reason: Option<String>,
}

/// A resident not satisfied with the answer reopens the item: once, within the committee's
/// window (15 days by default) after the answer.
#[utoipa::path(
    tag = "public",
    params(("tracking_code" = String, Path)),
    request_body = ResidentReopen,
    responses(
        (status = 200, body = PublicItemView),
        (status = 409, description = "`invalid_transition`, `reopen_limit_reached` or `reopen_window_closed`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`lookup_throttled`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/public/items/{tracking_code}/reopen")]
async fn resident_reopen(
    clock: Clock,
    req: HttpRequest,
    pool: web::Data<DbPool>,
    code: web::Path<String>,
    body: web::Json<ResidentReopen>,
) -> Result<web::Json<PublicItemView>, ApiError> {
    let code = code.into_inner();
    let reason = checked_reason(body.into_inner().reason.as_deref())?;
    guard_lookup(&pool, &req, &code, clock.now_naive()).await?;
    let view =
        db::transaction(&pool, move |conn| reopen_by_resident(conn, &code, reason.as_deref(), clock.now_naive()))
            .await?;
    Ok(web::Json(view))
}

pub fn checked_reason(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let mut checks = FieldChecks::new();
    let reason = raw
        .filter(|s| !s.trim().is_empty())
        .and_then(|s| checks.check("reason", crate::domain::bounded_paragraphs(s, MAX_NOTE_CHARS)));
    checks.finish()?;
    Ok(reason)
}

pub fn reopen_by_resident(
    conn: &mut DbConnection,
    code: &str,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> Result<PublicItemView, ApiError> {
    let item = find_public(conn, code)?;
    let rules = CommitteeRules::load(conn, item.committee_id)?;
    workflow::reopen(conn, &item, Actor::Resident, reason, &rules, now)?;
    let item = find_public(conn, code)?;
    public_view(conn, item, now)
}

// ----------------------------------------------------------------------------- handling units

/// The live referral behind a unit's link: (referral note, unit id, unit name, item).
pub fn referral_by_token(
    conn: &mut DbConnection,
    token: &str,
) -> Result<(Option<String>, i64, String, ItemRow), ApiError> {
    let found: Option<(Option<String>, i64, String, i64, i64)> = referrals::table
        .inner_join(handling_units::table)
        .filter(referrals::token_hash.eq(sha256_hex(token.trim())).and(referrals::revoked_at.is_null()))
        .select((
            referrals::note,
            referrals::handling_unit_id,
            handling_units::name,
            referrals::committee_id,
            referrals::item_id,
        ))
        .first(conn)
        .optional()?;
    let (note, unit_id, unit_name, committee_id, item_id) = found.ok_or_else(ApiError::not_found)?;
    Ok((note, unit_id, unit_name, store::find(conn, committee_id, item_id)?))
}

pub fn referral_view_of(conn: &mut DbConnection, token: &str) -> Result<ReferralView, ApiError> {
    let (note, _, unit_name, item) = referral_by_token(conn, token)?;
    let venue_name: String = venues::table.find(item.venue_id).select(venues::name).first(conn)?;
    let answers = store::events(conn, item.id, true)?
        .into_iter()
        .filter(|e| e.action == "reply" || e.action == "reopen")
        .map(|e| PublicEvent {
            at: e.at.into(),
            by: match e.actor_kind.as_str() {
                "handling_unit" => "承办单位",
                "resident" => "群众",
                _ => "委员",
            }
            .to_owned(),
            action: e.action,
            text: e.note,
        })
        .collect();
    let state = item.state;
    Ok(ReferralView {
        handling_unit: unit_name,
        tracking_code: TrackingCode::parse(&item.tracking_code).map(|c| c.display()).unwrap_or_default(),
        kind: item.kind,
        topic: item.topic,
        body: item.body,
        venue_name,
        can_reply: matches!(state, ItemState::Referred | ItemState::Reopened),
        state: item.state,
        tier_name: item.tier.map(|t| t.label_zh().to_owned()),
        tier: item.tier.map(|t| i32::from(t.get())),
        due_on: item.due_on,
        note,
        answers,
    })
}

/// The handling unit answers through its link.
pub fn reply_as_unit(
    conn: &mut DbConnection,
    token: &str,
    text: &str,
    now: NaiveDateTime,
) -> Result<ReferralView, ApiError> {
    let (_, unit_id, _, item) = referral_by_token(conn, token)?;
    if !matches!(item.state, ItemState::Referred | ItemState::Reopened) {
        return Err(ApiError::new(ErrorCode::InvalidTransition)
            .with_detail(format!("cannot reply to an item that is {}", item.state.as_str())));
    }
    workflow::reply(conn, &item, Actor::HandlingUnit(unit_id), text, now)?;
    referral_view_of(conn, token)
}

/// What a handling unit reads through its secret link (no account): the item, its tier and
/// deadline, and the answers so far. Never the resident's contact.
#[utoipa::path(
    tag = "public",
    params(("token" = String, Path, description = "The secret of the referral link")),
    responses((status = 200, body = ReferralView), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
#[get("/referrals/{token}")]
async fn referral_view(pool: web::Data<DbPool>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let token = token.into_inner();
    let view = db::run(&pool, move |conn| referral_view_of(conn, &token)).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitReply {
    /// The unit's answer, shown to the resident.
    pub text: String,
}

/// The handling unit posts its answer through its link.
#[utoipa::path(
    tag = "public",
    params(("token" = String, Path, description = "The secret of the referral link")),
    request_body = UnitReply,
    responses((status = 200, body = ReferralView), (status = 409, body = Problem, content_type = "application/problem+json"))
)]
#[post("/referrals/{token}/reply")]
async fn referral_reply(
    clock: Clock,
    pool: web::Data<DbPool>,
    token: web::Path<String>,
    body: web::Json<UnitReply>,
) -> Result<web::Json<ReferralView>, ApiError> {
    let token = token.into_inner();
    let text = checked_answer(&body.text)?;
    let view = db::transaction(&pool, move |conn| reply_as_unit(conn, &token, &text, clock.now_naive())).await?;
    Ok(web::Json(view))
}

pub fn checked_answer(raw: &str) -> Result<String, ApiError> {
    crate::domain::bounded_paragraphs(raw, MAX_NOTE_CHARS).map_err(|e| ApiError::field("text", e.reason, e.message))
}
