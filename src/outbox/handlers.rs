use actix_web::{get, post, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Admin, AuthUser};
use crate::clock::Clock;
use crate::db::{self, DbConnection, DbPool};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::pagination::{Page, PageParams};
use crate::schema::{committees, outbox};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_deliveries)
        .service(retry_delivery)
        .service(my_notices)
        .service(read_all_notices)
        .service(read_notice);
}

/// One of the member's notices (消息): a notification that names them, read or unread.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeView {
    pub id: i64,
    /// The notification's kind, e.g. `duty.reminder`, `roster.changed`, `swap.offered`.
    pub kind: String,
    /// The notification's payload, as the webhook receives it.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    /// When the member read it; `null` while unread.
    pub read_at: Option<DateTime<Utc>>,
}

impl From<super::notices::Notice> for NoticeView {
    fn from(n: super::notices::Notice) -> Self {
        Self {
            id: n.id,
            kind: n.kind,
            payload: n.payload,
            created_at: n.created_at.and_utc(),
            read_at: n.read_at.map(|r| r.and_utc()),
        }
    }
}

/// The signed-in member's notices, newest first (the cursor continues to older ones): the
/// same notices as the member pages' 消息, whether or not any push channel is configured.
#[utoipa::path(
    tag = "outbox",
    params(PageParams),
    responses(
        (status = 200, body = Page<NoticeView>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/me/notices")]
async fn my_notices(
    user: AuthUser,
    pool: web::Data<DbPool>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<NoticeView>>, ApiError> {
    let request = page.parse()?;
    let page = db::run(&pool, move |conn| super::notices::page(conn, user.member_id, request)).await?;
    Ok(web::Json(Page { items: page.items.into_iter().map(NoticeView::from).collect(), next_cursor: page.next_cursor }))
}

/// Marks one of the member's notices read (again: no change); another member's is 404.
#[utoipa::path(
    tag = "outbox",
    params(("id" = i64, Path, description = "The notice's id")),
    responses(
        (status = 200, body = NoticeView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/me/notices/{id}/read")]
async fn read_notice(
    clock: Clock,
    user: AuthUser,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<NoticeView>, ApiError> {
    let (id, now) = (id.into_inner(), clock.now_naive());
    let notice = db::run(&pool, move |conn| super::notices::mark_read(conn, user.member_id, id, now)).await?;
    Ok(web::Json(notice.into()))
}

/// Marks all of the member's notices read.
#[utoipa::path(
    tag = "outbox",
    responses(
        (status = 204, description = "All read"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/me/notices/read-all")]
async fn read_all_notices(
    clock: Clock,
    user: AuthUser,
    pool: web::Data<DbPool>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let now = clock.now_naive();
    db::run(&pool, move |conn| super::notices::mark_all_read(conn, user.member_id, now)).await?;
    Ok(actix_web::HttpResponse::NoContent().finish())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its (next) attempt.
    Pending,
    Delivered,
    /// Gave up after the last allowed attempt; an admin may retry it.
    Dead,
}

impl DeliveryStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }

    fn from_storage(s: &str) -> Self {
        match s {
            "delivered" => Self::Delivered,
            "dead" => Self::Dead,
            _ => Self::Pending,
        }
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = outbox)]
struct DeliveryRow {
    id: i64,
    kind: String,
    dedupe_key: Option<String>,
    payload: String,
    status: String,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    last_error: Option<String>,
    created_at: NaiveDateTime,
    delivered_at: Option<NaiveDateTime>,
    channel: String,
    notice_id: Option<i64>,
    target: Option<String>,
}

/// One notification and how its delivery to the committee's webhook is going.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    /// `webhook` (the notice itself), or `dingtalk`, `wecom`, `sms`: one row per notice and
    /// channel, each with its own state, attempts and last error.
    pub channel: String,
    /// For a channel row, the notice (its `webhook` row) it delivers.
    pub notice_id: Option<i64>,
    /// e.g. `duty.reminder`.
    pub kind: String,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i32,
    /// Why the last attempt failed (`HTTP 500 Internal Server Error`, `timed out`, `address not allowed …`, …).
    pub last_error: Option<String>,
    /// When it is tried next; only while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// True while the committee has no webhook (for a channel row: while its channel is
    /// removed): it waits, uses no attempts, and goes out once configured again.
    pub held: bool,
    pub dedupe_key: Option<String>,
    /// What is sent as `payload` (see mobile-contract/notifications.md).
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl DeliveryView {
    fn from_row(r: DeliveryRow, configured: &Configured) -> Self {
        let status = DeliveryStatus::from_storage(&r.status);
        let pending = status == DeliveryStatus::Pending;
        let reachable = match &r.target {
            Some(target) => configured.targets.contains(target),
            None => configured.webhook,
        };
        Self {
            id: r.id,
            channel: r.channel,
            notice_id: r.notice_id,
            kind: r.kind,
            status,
            attempts: r.attempts,
            last_error: r.last_error,
            next_attempt_at: pending.then(|| r.next_attempt_at.and_utc()),
            held: pending && !reachable,
            dedupe_key: r.dedupe_key,
            payload: serde_json::from_str(&r.payload).unwrap_or(serde_json::Value::String(r.payload)),
            created_at: r.created_at.and_utc(),
            delivered_at: r.delivered_at.map(|d| d.and_utc()),
        }
    }
}

/// Where the committee's rows can go now.
struct Configured {
    webhook: bool,
    targets: Vec<String>,
}

fn webhook_configured(conn: &mut DbConnection, committee_id: i64) -> Result<Configured, ApiError> {
    let (url, secret) = committees::table
        .find(committee_id)
        .select((committees::webhook_url, committees::webhook_secret))
        .first::<(Option<String>, Option<String>)>(conn)?;
    let targets = super::channels::store::load_all(conn, committee_id)?.into_iter().map(|c| c.target).collect();
    Ok(Configured { webhook: url.is_some() && secret.is_some(), targets })
}

fn find(conn: &mut DbConnection, committee_id: i64, id: i64) -> Result<DeliveryRow, ApiError> {
    Ok(outbox::table
        .filter(outbox::committee_id.eq(committee_id).and(outbox::id.eq(id)))
        .select(DeliveryRow::as_select())
        .first(conn)?)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    pub status: Option<DeliveryStatus>,
    /// `webhook`, `dingtalk`, `wecom` or `sms`.
    pub channel: Option<String>,
    /// The channel rows of one notice (and not the notice's own row).
    pub notice_id: Option<i64>,
    /// e.g. `duty.reminder`.
    pub kind: Option<String>,
}

/// The committee's notifications and their delivery state, oldest first (admin).
#[utoipa::path(
    tag = "outbox",
    params(DeliveryFilter, PageParams),
    responses(
        (status = 200, body = Page<DeliveryView>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/outbox")]
async fn list_deliveries(
    Admin(admin): Admin,
    pool: web::Data<DbPool>,
    filter: web::Query<DeliveryFilter>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<DeliveryView>>, ApiError> {
    let page = page.parse()?;
    let DeliveryFilter { status, kind, channel, notice_id } = filter.into_inner();
    let committee_id = admin.committee_id;
    let views = db::run(&pool, move |conn| {
        let configured = webhook_configured(conn, committee_id)?;
        let mut query = outbox::table
            .filter(outbox::committee_id.eq(committee_id))
            .filter(outbox::id.gt(page.after_id))
            .into_boxed();
        if let Some(status) = status {
            query = query.filter(outbox::status.eq(status.as_str()));
        }
        if let Some(kind) = kind {
            query = query.filter(outbox::kind.eq(kind));
        }
        if let Some(channel) = channel {
            query = query.filter(outbox::channel.eq(channel));
        }
        if let Some(notice_id) = notice_id {
            query = query.filter(outbox::notice_id.eq(notice_id));
        }
        let rows = query.order(outbox::id).limit(page.limit + 1).select(DeliveryRow::as_select()).load(conn)?;
        Ok(rows.into_iter().map(|r| DeliveryView::from_row(r, &configured)).collect::<Vec<_>>())
    })
    .await?;
    Ok(web::Json(Page::from_rows(views, page, |v: &DeliveryView| v.id)))
}

/// Requeue a dead-lettered notification: it is tried again at once, with a fresh count of
/// attempts (admin).
#[utoipa::path(
    tag = "outbox",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = DeliveryView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`outbox_not_retryable`: only dead notifications can be retried", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/outbox/{id}/retry")]
async fn retry_delivery(
    clock: Clock,
    Admin(admin): Admin,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<DeliveryView>, ApiError> {
    let (id, committee_id) = (id.into_inner(), admin.committee_id);
    let view = db::transaction(&pool, move |conn| {
        find(conn, committee_id, id)?;
        let requeued = diesel::update(
            outbox::table
                .filter(outbox::committee_id.eq(committee_id))
                .filter(outbox::id.eq(id))
                .filter(outbox::status.eq("dead")),
        )
        .set((
            outbox::status.eq("pending"),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(clock.now_naive()),
            outbox::claimed_by.eq(None::<String>),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
        if requeued == 0 {
            return Err(ApiError::new(ErrorCode::OutboxNotRetryable));
        }
        crate::audit::record(
            conn,
            committee_id,
            Some(admin.member_id),
            "outbox.retried",
            "outbox",
            Some(id),
            "",
            clock.now_naive(),
        )?;
        let configured = webhook_configured(conn, committee_id)?;
        Ok(DeliveryView::from_row(find(conn, committee_id, id)?, &configured))
    })
    .await?;
    Ok(web::Json(view))
}
