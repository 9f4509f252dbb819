use actix_web::{get, patch, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Admin, AuthUser};
use crate::clock::Clock;
use crate::db::{self, DbConnection, DbPool};
use crate::domain::{CommitteeSettings, DingTalkInput, SmsInput, Timezone, WebhookSecret, WebhookUrl, WecomInput};
use crate::egress::Egress;
use crate::error::{ApiError, FieldChecks, Problem};
use crate::outbox::channels::store::{self as channels, ChannelsPatch, ChannelsView};
use crate::schema::committees;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_committee).service(update_committee);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommitteeView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub timezone: String,
    pub settings: CommitteeSettings,
    /// Where notifications are delivered (see the README, "Notifications").
    pub webhook_url: Option<String>,
    /// True when both the URL and the signing secret are set, so deliveries go out.
    /// The secret itself is write-only and never shown.
    pub webhook_configured: bool,
    /// The committee's group robots and SMS account (secrets never shown, tokens masked).
    pub channels: ChannelsView,
}

fn load(conn: &mut DbConnection, id: i64) -> Result<CommitteeView, ApiError> {
    let (id, code, name, timezone, settings, webhook_url, has_secret) = committees::table
        .find(id)
        .select((
            committees::id,
            committees::code,
            committees::name,
            committees::timezone,
            committees::settings,
            committees::webhook_url,
            committees::webhook_secret.is_not_null(),
        ))
        .first::<(i64, String, String, String, String, Option<String>, bool)>(conn)?;
    let settings = serde_json::from_str(&settings).map_err(ApiError::unexpected)?;
    let webhook_configured = webhook_url.is_some() && has_secret;
    let channels = channels::view(conn, id, None)?;
    Ok(CommitteeView { id, code, name, timezone, settings, webhook_url, webhook_configured, channels })
}

/// The caller's committee and its rules.
#[utoipa::path(
    tag = "committee",
    responses((status = 200, body = CommitteeView), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/committee")]
async fn get_committee(user: AuthUser, pool: web::Data<DbPool>) -> Result<web::Json<CommitteeView>, ApiError> {
    Ok(web::Json(db::run(&pool, move |conn| load(conn, user.committee_id)).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCommittee {
    pub name: Option<String>,
    /// IANA zone, e.g. Asia/Shanghai.
    pub timezone: Option<String>,
    /// Changes the rules it names and keeps the others (a JSON merge patch, RFC 7396: nested
    /// objects merge, `null` restores a rule's default).
    #[schema(value_type = Option<CommitteeSettings>)]
    pub settings: Option<serde_json::Value>,
    /// `http(s)://` URL that receives the notifications; `null` removes it (notifications
    /// then wait, see the README).
    #[serde(default, deserialize_with = "crate::json::present")]
    #[schema(value_type = Option<String>)]
    pub webhook_url: Option<Option<String>>,
    /// Write-only HMAC-SHA256 key of the `X-Zhiban-Signature` header, 16–256 characters;
    /// `null` clears it. Required while a `webhook_url` is set.
    #[serde(default, deserialize_with = "crate::json::present")]
    #[schema(value_type = Option<String>, write_only)]
    pub webhook_secret: Option<Option<String>>,
    /// The coordinators' DingTalk custom robot; `null` removes it.
    #[serde(default, deserialize_with = "crate::json::present")]
    #[schema(value_type = Option<DingTalkInput>)]
    pub dingtalk: Option<Option<DingTalkInput>>,
    /// The coordinators' WeCom group robot; `null` removes it.
    #[serde(default, deserialize_with = "crate::json::present")]
    #[schema(value_type = Option<WecomInput>)]
    pub wecom: Option<Option<WecomInput>>,
    /// The SMS account (Tencent Cloud SMS) and its templates per notice kind; `null` removes it.
    #[serde(default, deserialize_with = "crate::json::present")]
    #[schema(value_type = Option<SmsInput>)]
    pub sms: Option<Option<SmsInput>>,
}

/// The rules after a merge patch, checked as a whole.
fn patched_settings(current: CommitteeSettings, patch: serde_json::Value) -> Result<CommitteeSettings, ApiError> {
    let mut merged = serde_json::to_value(current).map_err(ApiError::unexpected)?;
    merge_patch(&mut merged, patch);
    let settings: CommitteeSettings = serde_json::from_value(merged)
        .map_err(|e| ApiError::field("settings", "invalid", format!("not valid rules: {e}")))?;
    settings.validate().map_err(|(field, e)| ApiError::field(&format!("settings.{field}"), e.reason, e.message))?;
    Ok(settings)
}

/// RFC 7396 JSON merge patch: objects merge key by key, `null` removes, anything else replaces.
fn merge_patch(target: &mut serde_json::Value, patch: serde_json::Value) {
    use serde_json::Value;
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(&key);
                } else {
                    merge_patch(target.entry(key).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch,
    }
}

/// Change the committee's name, time zone or rules (admin).
#[utoipa::path(
    tag = "committee",
    request_body = UpdateCommittee,
    responses(
        (status = 200, body = CommitteeView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/committee")]
async fn update_committee(
    clock: Clock,
    Admin(admin): Admin,
    pool: web::Data<DbPool>,
    egress: web::Data<Egress>,
    body: web::Json<UpdateCommittee>,
) -> Result<web::Json<CommitteeView>, ApiError> {
    let body = body.into_inner();
    let mut checks = FieldChecks::new();
    let name = body.name.as_deref().and_then(|n| checks.check("name", crate::domain::VenueName::parse(n)));
    let timezone = body.timezone.as_deref().and_then(|t| checks.check("timezone", Timezone::parse(t)));
    let webhook_url = body.webhook_url.map(|u| u.and_then(|u| checks.check("webhook_url", WebhookUrl::parse(&u))));
    let webhook_secret =
        body.webhook_secret.map(|s| s.and_then(|s| checks.check("webhook_secret", WebhookSecret::parse(&s))));
    checks.finish()?;
    let settings_patch = body.settings;
    let channels_patch = ChannelsPatch { dingtalk: body.dingtalk, wecom: body.wecom, sms: body.sms };
    let mut addresses = channels_patch.addresses();
    addresses.extend(webhook_url.as_ref().and_then(|u| u.as_ref()).map(|u| ("webhook_url", u.as_str().to_owned())));
    crate::egress::check_fields(&egress, &addresses).await?;
    let committee_id = admin.committee_id;
    let view = db::transaction(&pool, move |conn| {
        let target = committees::table.find(committee_id);
        diesel::update(target).set(committees::updated_at.eq(clock.now_naive())).execute(conn)?;
        if let Some(name) = name {
            diesel::update(target).set(committees::name.eq(name.into_inner())).execute(conn)?;
        }
        if let Some(tz) = timezone {
            diesel::update(target).set(committees::timezone.eq(tz.0.name())).execute(conn)?;
        }
        if let Some(patch) = settings_patch {
            let settings = patched_settings(crate::committee::load_settings(conn, committee_id)?, patch)?;
            let stored = serde_json::to_string(&settings).map_err(ApiError::unexpected)?;
            diesel::update(target).set(committees::settings.eq(stored)).execute(conn)?;
        }
        let webhook_changed = webhook_url.is_some() || webhook_secret.is_some();
        if let Some(url) = webhook_url {
            diesel::update(target)
                .set(committees::webhook_url.eq(url.as_ref().map(WebhookUrl::as_str)))
                .execute(conn)?;
        }
        if let Some(secret) = webhook_secret {
            diesel::update(target)
                .set(committees::webhook_secret.eq(secret.as_ref().map(WebhookSecret::expose)))
                .execute(conn)?;
        }
        if webhook_changed {
            let (url, secret) =
                target
                    .select((committees::webhook_url, committees::webhook_secret))
                    .first::<(Option<String>, Option<String>)>(conn)?;
            if url.is_some() && secret.is_none() {
                return Err(ApiError::field(
                    "webhook_secret",
                    "required",
                    "a webhook needs a signing secret of at least 16 characters",
                ));
            }
            // The secret is never written to the audit trail; only that the webhook changed.
            crate::audit::record(
                conn,
                committee_id,
                Some(admin.member_id),
                "committee.webhook_changed",
                "committee",
                Some(committee_id),
                if url.is_some() { "configured" } else { "removed" },
                clock.now_naive(),
            )?;
        }
        if !channels_patch.is_empty() {
            let changed = channels::apply(conn, committee_id, None, channels_patch, clock.now_naive())?;
            // Which channels changed, never their secrets.
            crate::audit::record(
                conn,
                committee_id,
                Some(admin.member_id),
                "committee.channels_changed",
                "committee",
                Some(committee_id),
                &changed.join(","),
                clock.now_naive(),
            )?;
        }
        crate::audit::record(
            conn,
            committee_id,
            Some(admin.member_id),
            "committee.updated",
            "committee",
            Some(committee_id),
            "",
            clock.now_naive(),
        )?;
        load(conn, committee_id)
    })
    .await?;
    Ok(web::Json(view))
}
