//! The configured channels (`notice_channels`): the committee's robots and SMS account, and
//! each venue's robots. The committee and venue endpoints change them through [`apply`].

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::DbConnection;
use crate::domain::{DingTalk, DingTalkInput, DingTalkView, Sms, SmsInput, SmsView, Wecom, WecomInput, WecomView};
use crate::error::ApiError;
use crate::schema::notice_channels;

/// One configured channel, as stored.
#[derive(Debug, Clone)]
pub struct Channel {
    pub venue_id: Option<i64>,
    /// `dingtalk`, `wecom` or `sms`.
    pub channel: String,
    pub target: String,
    pub config: String,
}

impl Channel {
    pub fn dingtalk(&self) -> Option<DingTalk> {
        (self.channel == "dingtalk").then(|| serde_json::from_str(&self.config).ok()).flatten()
    }

    pub fn wecom(&self) -> Option<Wecom> {
        (self.channel == "wecom").then(|| serde_json::from_str(&self.config).ok()).flatten()
    }

    pub fn sms(&self) -> Option<Sms> {
        (self.channel == "sms").then(|| serde_json::from_str(&self.config).ok()).flatten()
    }
}

/// `c{committee}/{channel}` or `c{committee}/v{venue}/{channel}`: unique across committees.
pub fn target(committee_id: i64, venue_id: Option<i64>, channel: &str) -> String {
    match venue_id {
        Some(v) => format!("c{committee_id}/v{v}/{channel}"),
        None => format!("c{committee_id}/{channel}"),
    }
}

type Row = (Option<i64>, String, String, String);

fn channel((venue_id, channel, target, config): Row) -> Channel {
    Channel { venue_id, channel, target, config }
}

/// Every channel of the committee and of its venues.
pub fn load_all(conn: &mut DbConnection, committee_id: i64) -> QueryResult<Vec<Channel>> {
    let rows: Vec<Row> = notice_channels::table
        .filter(notice_channels::committee_id.eq(committee_id))
        .order(notice_channels::id)
        .select((notice_channels::venue_id, notice_channels::channel, notice_channels::target, notice_channels::config))
        .load(conn)?;
    Ok(rows.into_iter().map(channel).collect())
}

pub fn find(conn: &mut DbConnection, target: &str) -> QueryResult<Option<Channel>> {
    let row: Option<Row> = notice_channels::table
        .filter(notice_channels::target.eq(target))
        .select((notice_channels::venue_id, notice_channels::channel, notice_channels::target, notice_channels::config))
        .first(conn)
        .optional()?;
    Ok(row.map(channel))
}

/// The channel keys of `PATCH /committee` and `PATCH /venues/{id}`: absent leaves a channel
/// alone, `null` removes it, an object sets it (a secret left out keeps the stored one).
#[derive(Debug, Default, Clone)]
pub struct ChannelsPatch {
    pub dingtalk: Option<Option<DingTalkInput>>,
    pub wecom: Option<Option<WecomInput>>,
    pub sms: Option<Option<SmsInput>>,
}

impl ChannelsPatch {
    pub fn is_empty(&self) -> bool {
        self.dingtalk.is_none() && self.wecom.is_none() && self.sms.is_none()
    }

    /// The addresses this patch would have deliveries reach, by field.
    pub fn addresses(&self) -> Vec<(&'static str, String)> {
        let mut found = Vec::new();
        if let Some(Some(d)) = &self.dingtalk {
            found.push(("dingtalk.webhook_url", d.webhook_url.clone()));
        }
        if let Some(Some(w)) = &self.wecom {
            found.push(("wecom.webhook_url", w.webhook_url.clone()));
        }
        if let Some(Some(endpoint)) = self.sms.as_ref().and_then(|s| s.as_ref().map(|s| s.endpoint.clone())) {
            found.push(("sms.endpoint", endpoint));
        }
        found
    }
}

/// The channels as shown: no secret, webhook tokens masked.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct ChannelsView {
    /// The DingTalk custom robot, if configured.
    pub dingtalk: Option<DingTalkView>,
    /// The WeCom group robot, if configured.
    pub wecom: Option<WecomView>,
    /// The SMS account (committee only), if configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms: Option<SmsView>,
}

pub fn view(conn: &mut DbConnection, committee_id: i64, venue_id: Option<i64>) -> QueryResult<ChannelsView> {
    let mut view = ChannelsView::default();
    for c in load_all(conn, committee_id)?.into_iter().filter(|c| c.venue_id == venue_id) {
        match c.channel.as_str() {
            "dingtalk" => view.dingtalk = c.dingtalk().map(|d| d.view()),
            "wecom" => view.wecom = c.wecom().map(|w| w.view()),
            "sms" => view.sms = c.sms().map(|s| s.view()),
            _ => {}
        }
    }
    Ok(view)
}

/// Applies a patch in the caller's transaction; errors name the field (`dingtalk.secret`).
/// Returns the channels changed, for the audit trail (never their secrets).
pub fn apply(
    conn: &mut DbConnection,
    committee_id: i64,
    venue_id: Option<i64>,
    patch: ChannelsPatch,
    now: NaiveDateTime,
) -> Result<Vec<&'static str>, ApiError> {
    let existing = load_all(conn, committee_id)?;
    let current = |name: &str| existing.iter().find(|c| c.venue_id == venue_id && c.channel == name).cloned();
    let invalid = |channel: &str, (field, e): (&str, crate::domain::Invalid)| {
        ApiError::field(&format!("{channel}.{field}"), e.reason, e.message)
    };
    let mut changed = Vec::new();
    if let Some(dingtalk) = patch.dingtalk {
        let config = match dingtalk {
            Some(input) => Some(
                serde_json::to_string(
                    &input.parse(current("dingtalk").and_then(|c| c.dingtalk())).map_err(|e| invalid("dingtalk", e))?,
                )
                .map_err(ApiError::unexpected)?,
            ),
            None => None,
        };
        put(conn, committee_id, venue_id, "dingtalk", config, now)?;
        changed.push("dingtalk");
    }
    if let Some(wecom) = patch.wecom {
        let config = match wecom {
            Some(input) => Some(
                serde_json::to_string(&input.parse().map_err(|e| invalid("wecom", e))?)
                    .map_err(ApiError::unexpected)?,
            ),
            None => None,
        };
        put(conn, committee_id, venue_id, "wecom", config, now)?;
        changed.push("wecom");
    }
    if let Some(sms) = patch.sms {
        if venue_id.is_some() {
            return Err(ApiError::field("sms", "committee_only", "SMS is configured on the committee"));
        }
        let config = match sms {
            Some(input) => Some(
                serde_json::to_string(
                    &input.parse(current("sms").and_then(|c| c.sms())).map_err(|e| invalid("sms", e))?,
                )
                .map_err(ApiError::unexpected)?,
            ),
            None => None,
        };
        put(conn, committee_id, venue_id, "sms", config, now)?;
        changed.push("sms");
    }
    Ok(changed)
}

fn put(
    conn: &mut DbConnection,
    committee_id: i64,
    venue_id: Option<i64>,
    channel: &str,
    config: Option<String>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let target = target(committee_id, venue_id, channel);
    let Some(config) = config else {
        diesel::delete(notice_channels::table.filter(notice_channels::target.eq(&target))).execute(conn)?;
        return Ok(());
    };
    let updated = diesel::update(notice_channels::table.filter(notice_channels::target.eq(&target)))
        .set((notice_channels::config.eq(&config), notice_channels::updated_at.eq(now)))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(notice_channels::table)
            .values((
                notice_channels::committee_id.eq(committee_id),
                notice_channels::venue_id.eq(venue_id),
                notice_channels::channel.eq(channel),
                notice_channels::target.eq(&target),
                notice_channels::config.eq(&config),
                notice_channels::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}
