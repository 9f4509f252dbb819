//! Notices where people are (issue 21): DingTalk custom robots and WeCom group robots for the
//! committee's and the studios' groups, and SMS through Tencent Cloud SMS.
//!
//! A notice is written once to the outbox (its row for the generic webhook); [`route`] then
//! writes one more outbox row per channel the committee's routing sends it to, in the same
//! transaction, with the message it will carry. The worker delivers those rows like any
//! other — claims, retries, backoff, dead letters — through [`send`], which signs each
//! request as its provider documents. Robots take at most [`rate::PER_MINUTE`] messages a
//! minute: beyond that a row waits, it is never dropped. Rows that may wait are held over the
//! committee's quiet hours.

pub mod message;
pub mod rate;
pub mod send;
pub mod sign;
pub mod store;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{self, DbConnection};
use crate::domain::{CommitteeSettings, Route};
use crate::error::ApiError;
use crate::schema::{committees, outbox};

/// Kinds that go out at once even in quiet hours: a resident waiting at a studio on duty.
fn urgent(kind: &str) -> bool {
    kind == "item.inbox"
}

/// Writes the channel rows of a notice just written as outbox row `notice_id`.
pub fn route(
    conn: &mut DbConnection,
    committee_id: i64,
    notice_id: i64,
    kind: &str,
    dedupe_key: Option<&str>,
    payload: &serde_json::Value,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let channels = store::load_all(conn, committee_id)?;
    if channels.is_empty() {
        return Ok(());
    }
    let (timezone, settings): (String, String) =
        committees::table.find(committee_id).select((committees::timezone, committees::settings)).first(conn)?;
    let settings: CommitteeSettings = serde_json::from_str(&settings).map_err(ApiError::unexpected)?;
    let routes = settings.notice_routes.of(kind).to_vec();
    if routes.is_empty() {
        return Ok(());
    }
    let tz = zone(committee_id, &timezone);
    let due = if urgent(kind) { now } else { settings.quiet_hours.until(tz, now).unwrap_or(now) };
    let mut rows: Vec<(String, String, serde_json::Value, Option<String>)> = Vec::new();
    for &route in &routes {
        match route {
            Route::Sms => {
                let Some((target, sms)) = channels.iter().find_map(|c| c.sms().map(|s| (c.target.clone(), s))) else {
                    continue;
                };
                if let Some(body) = message::sms(conn, committee_id, kind, payload, &sms)? {
                    rows.push(("sms".to_owned(), target, body, None));
                }
            }
            Route::VenueGroup | Route::CommitteeGroup => {
                let venue = if route == Route::VenueGroup {
                    match payload["venue_id"].as_i64() {
                        Some(v) => Some(v),
                        None => continue,
                    }
                } else {
                    None
                };
                let robots_of = |venue: Option<i64>| -> Vec<&store::Channel> {
                    channels.iter().filter(|c| c.venue_id == venue && c.channel != "sms").collect()
                };
                let mut robots = robots_of(venue);
                if robots.is_empty() && venue.is_some() && !routes.contains(&Route::CommitteeGroup) {
                    // A studio without a robot of its own: its notice goes to the committee's
                    // group, so someone still sees a resident waiting.
                    robots = robots_of(None);
                }
                if robots.is_empty() {
                    continue;
                }
                let group = message::group(conn, kind, payload)?;
                for robot in robots {
                    let body = match robot.channel.as_str() {
                        "dingtalk" => group.dingtalk(),
                        _ => group.wecom(),
                    };
                    let key = group.dedupe.clone().map(|k| format!("{k}@{}", robot.target));
                    rows.push((robot.channel.clone(), robot.target.clone(), body, key));
                }
            }
        }
    }
    for (channel, target, body, group_key) in rows {
        let key = group_key.or_else(|| dedupe_key.map(|k| format!("{k}@{target}")));
        let inserted = db::may_conflict(conn, |conn| {
            diesel::insert_into(outbox::table)
                .values((
                    outbox::committee_id.eq(committee_id),
                    outbox::kind.eq(kind),
                    outbox::dedupe_key.eq(key.as_deref()),
                    outbox::payload.eq(body.to_string()),
                    outbox::status.eq("pending"),
                    outbox::attempts.eq(0),
                    outbox::next_attempt_at.eq(due),
                    outbox::created_at.eq(now),
                    outbox::channel.eq(&channel),
                    outbox::notice_id.eq(notice_id),
                    outbox::target.eq(&target),
                ))
                .execute(conn)
        });
        match inserted {
            Ok(_) => {}
            // The studio's group already has this team's reminder (another member's notice
            // wrote it), or another instance wrote this row: once is enough.
            Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
                if key.is_some() => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// A committee's stored time zone (checked when written); a damaged one reads as Asia/Shanghai.
pub(crate) fn zone(committee_id: i64, name: &str) -> chrono_tz::Tz {
    name.parse().unwrap_or_else(|_| {
        tracing::warn!(committee_id, timezone = name, "unknown stored time zone; reading it as Asia/Shanghai");
        chrono_tz::Asia::Shanghai
    })
}
