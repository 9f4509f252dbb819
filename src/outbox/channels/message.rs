//! What each channel's row carries, worded when the notice is written.
//!
//! Group messages name members (and @-mention them by their phone, as the robots require)
//! but never a resident: no name, phone, topic or text of an item goes to a group. SMS fill
//! an approved template with zhiban's own values only.

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::db::DbConnection;
use crate::domain::Sms;
use crate::error::ApiError;
use crate::schema::{assignments, members, venues};

/// A message for a group robot.
pub struct Group {
    pub title: String,
    pub lines: Vec<String>,
    /// Phones of the members to @-mention.
    pub mentions: Vec<String>,
    /// For messages several notices share (a team's reminder): written once per robot.
    pub dedupe: Option<String>,
}

impl Group {
    /// DingTalk `markdown` with `at.atMobiles`; the text carries each `@phone`, which is how
    /// DingTalk shows the mention.
    pub fn dingtalk(&self) -> Value {
        let mut text = format!("#### {}\n\n{}", self.title, self.lines.join("\n\n"));
        if !self.mentions.is_empty() {
            let at: Vec<String> = self.mentions.iter().map(|m| format!("@{m}")).collect();
            text.push_str(&format!("\n\n{}", at.join(" ")));
        }
        json!({
            "msgtype": "markdown",
            "markdown": { "title": self.title, "text": text },
            "at": { "atMobiles": self.mentions, "isAtAll": false },
        })
    }

    /// WeCom `markdown`; a message that mentions members goes as `text`, the type WeCom's
    /// `mentioned_mobile_list` belongs to.
    pub fn wecom(&self) -> Value {
        if self.mentions.is_empty() {
            json!({
                "msgtype": "markdown",
                "markdown": { "content": format!("**{}**\n{}", self.title, self.lines.join("\n")) },
            })
        } else {
            json!({
                "msgtype": "text",
                "text": {
                    "content": format!("【{}】\n{}", self.title, self.lines.join("\n")),
                    "mentioned_mobile_list": self.mentions,
                },
            })
        }
    }
}

fn date_zh(raw: &Value) -> String {
    raw.as_str()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .map(|d| format!("{}月{}日", d.month(), d.day()))
        .unwrap_or_default()
}

fn venue_name(conn: &mut DbConnection, venue_id: Option<i64>) -> QueryResult<String> {
    Ok(match venue_id {
        Some(id) => venues::table.find(id).select(venues::name).first(conn).optional()?.unwrap_or_default(),
        None => String::new(),
    })
}

/// `(name, phone)` of active members, by id.
fn people(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<(String, String)>> {
    members::table
        .filter(members::id.eq_any(ids))
        .filter(members::active.eq(true))
        .order(members::id)
        .select((members::name, members::phone))
        .load(conn)
}

/// The group message of a notice.
pub fn group(conn: &mut DbConnection, kind: &str, payload: &Value) -> Result<Group, ApiError> {
    let venue = venue_name(conn, payload["venue_id"].as_i64())?;
    Ok(match kind {
        "duty.reminder" => {
            let shift_id = payload["shift_id"].as_i64().unwrap_or_default();
            let team: Vec<i64> = assignments::table
                .filter(assignments::shift_id.eq(shift_id))
                .filter(assignments::removed_at.is_null())
                .order(assignments::id)
                .select(assignments::member_id)
                .load(conn)?;
            let team = people(conn, &team)?;
            let names: Vec<&str> = team.iter().map(|(n, _)| n.as_str()).collect();
            let when = match payload["days_until"].as_u64() {
                Some(0) => "今天".to_owned(),
                Some(1) => "明天".to_owned(),
                Some(n) => format!("{n}天后"),
                None => String::new(),
            };
            Group {
                title: "值班提醒".to_owned(),
                lines: vec![
                    format!(
                        "{when}（{}）{}–{} {venue}值班",
                        date_zh(&payload["date"]),
                        payload["start_time"].as_str().unwrap_or(""),
                        payload["end_time"].as_str().unwrap_or("")
                    ),
                    format!("值班委员：{}", names.join("、")),
                ],
                mentions: team.into_iter().map(|(_, p)| p).collect(),
                dedupe: Some(format!("team:{shift_id}:{}", payload["days_before"].as_u64().unwrap_or_default())),
            }
        }
        "item.inbox" => {
            let ids: Vec<i64> = crate::outbox::recipients(payload);
            let on_duty = people(conn, &ids)?;
            let what = if payload["kind"] == "opinion" { "一条群众意见" } else { "一条群众咨询" };
            Group {
                title: "群众来件".to_owned(),
                lines: vec![
                    format!("{venue}收到{what}（编号 {}）", payload["item_id"].as_i64().unwrap_or_default()),
                    "请值班委员在「值班」页的收件箱查看并答复".to_owned(),
                ],
                mentions: on_duty.into_iter().map(|(_, p)| p).collect(),
                dedupe: None,
            }
        }
        "item.overdue" => {
            let ids: Vec<i64> = crate::outbox::recipients(payload);
            let to = people(conn, &ids)?;
            let level = if payload["level"].as_i64() == Some(2) { "，已报办公室" } else { "" };
            Group {
                title: "事项逾期".to_owned(),
                lines: vec![
                    format!(
                        "{venue}事项 {}（第{}级）应于 {} 前办结，现已逾期{level}",
                        payload["tracking_code"].as_str().unwrap_or(""),
                        payload["tier"].as_i64().unwrap_or_default(),
                        date_zh(&payload["due_on"])
                    ),
                    "请联络员跟进".to_owned(),
                ],
                mentions: to.into_iter().map(|(_, p)| p).collect(),
                dedupe: None,
            }
        }
        // Any other kind a committee routes to a group: its name only, nothing of its payload.
        other => Group {
            title: "政协值班通知".to_owned(),
            lines: vec![format!("新通知：{other}")],
            mentions: vec![],
            dedupe: None,
        },
    })
}

/// The SMS row of a notice: `{template_id, recipients: [{phone, params}]}`, or `None` when
/// the kind has no template or nobody to send to.
pub fn sms(
    conn: &mut DbConnection,
    committee_id: i64,
    kind: &str,
    payload: &Value,
    sms: &Sms,
) -> Result<Option<Value>, ApiError> {
    let Some(template) = sms.templates.get(kind) else { return Ok(None) };
    let mut recipients = Vec::new();
    if kind == "item.replied" {
        // The resident's own phone, and the tracking code: nothing else of the item.
        if let Some(phone) = payload["phone"].as_str() {
            let params: Vec<String> = template
                .params
                .iter()
                .map(|p| {
                    if p == "tracking_code" {
                        payload["tracking_code"].as_str().unwrap_or("").to_owned()
                    } else {
                        String::new()
                    }
                })
                .collect();
            recipients.push(json!({ "phone": phone, "params": params }));
        }
    } else {
        let ids = crate::outbox::recipients(payload);
        let people: Vec<(String, String)> = members::table
            .filter(members::committee_id.eq(committee_id))
            .filter(members::id.eq_any(&ids))
            .filter(members::active.eq(true))
            .filter(members::sms_enabled.eq(true))
            .order(members::id)
            .select((members::name, members::phone))
            .load(conn)?;
        for (name, phone) in people {
            let params: Vec<String> = template.params.iter().map(|p| value(kind, p, payload, &name)).collect();
            recipients.push(json!({ "phone": phone, "params": params }));
        }
    }
    if recipients.is_empty() {
        return Ok(None);
    }
    Ok(Some(json!({ "template_id": template.template_id, "recipients": recipients })))
}

fn value(kind: &str, name: &str, payload: &Value, member_name: &str) -> String {
    let text = |key: &str| payload[key].as_str().unwrap_or("").to_owned();
    match name {
        "member_name" => member_name.to_owned(),
        "venue_name" => text("venue_name"),
        "date" => date_zh(&payload["date"]),
        "start_time" => text("start_time"),
        "end_time" => text("end_time"),
        "days_until" => payload["days_until"].as_u64().map(|n| n.to_string()).unwrap_or_default(),
        "status" if kind == "leave.decided" => {
            if payload["status"] == "approved" {
                "已批准".to_owned()
            } else {
                "未获批准".to_owned()
            }
        }
        _ => String::new(),
    }
}
