//! Delivery of a channel row: held over quiet hours, paced per robot, signed as the provider
//! documents, and recorded with the worker's retries, backoff and dead letters.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Value, json};

use super::{rate, sign, store};
use crate::db::DbPool;
use crate::domain::{CommitteeSettings, DingTalk, Sms, Wecom};
use crate::egress::Outbound;
use crate::outbox::worker::{OutboxRow, Outcome, RetryPolicy, blocking, describe, record};
use crate::schema::{committees, outbox};

/// The Tencent Cloud SMS API version and action used.
pub const TENCENT_VERSION: &str = "2021-01-11";
pub const TENCENT_CONTENT_TYPE: &str = "application/json; charset=utf-8";

enum Config {
    DingTalk(DingTalk),
    Wecom(Wecom),
    Sms(Sms),
}

/// What sending did: an error for the row (none: delivered) and, for SMS, the recipients
/// still to send to (those already sent are not sent again on the retry).
struct Sent {
    error: Option<String>,
    remaining: Option<Value>,
}

/// Delivers one claimed channel row (see the module documentation).
pub async fn deliver(
    pool: &DbPool,
    client: &Outbound,
    worker_id: &str,
    row: OutboxRow,
    now: NaiveDateTime,
    policy: &RetryPolicy,
) -> anyhow::Result<Outcome> {
    let target = row.target.clone().unwrap_or_default();
    let (committee_id, kind) = (row.committee_id, row.kind.clone());
    let looked_up = target.clone();
    let (channel, timezone, settings) = blocking(pool, move |conn| {
        let channel = store::find(conn, &looked_up)?;
        let (tz, settings): (String, String) =
            committees::table.find(committee_id).select((committees::timezone, committees::settings)).first(conn)?;
        Ok::<_, diesel::result::Error>((channel, tz, settings))
    })
    .await?;
    let config = channel.and_then(|c| match c.channel.as_str() {
        "dingtalk" => c.dingtalk().map(Config::DingTalk),
        "wecom" => c.wecom().map(Config::Wecom),
        "sms" => c.sms().map(Config::Sms),
        _ => None,
    });
    let Some(config) = config else {
        // Removed since the claim: wait, using no attempt, until configured again.
        release(pool, &row, worker_id, None).await?;
        return Ok(Outcome::Held);
    };
    let settings: CommitteeSettings = serde_json::from_str(&settings).unwrap_or_default();
    if !super::urgent(&kind)
        && let Some(morning) = settings.quiet_hours.until(super::zone(committee_id, &timezone), now)
    {
        release(pool, &row, worker_id, Some(morning)).await?;
        return Ok(Outcome::Deferred);
    }
    if !matches!(config, Config::Sms(_)) {
        let slot_target = target.clone();
        let slot = blocking(pool, move |conn| rate::take(conn, &slot_target, now)).await?;
        if let Err(free_at) = slot {
            release(pool, &row, worker_id, Some(free_at)).await?;
            return Ok(Outcome::Deferred);
        }
    }
    let payload: Value = serde_json::from_str(&row.payload).unwrap_or(Value::Null);
    let sent = match &config {
        Config::DingTalk(d) => robot(client, &dingtalk_url(d, now)?, &payload).await,
        Config::Wecom(w) => robot(client, &w.webhook_url, &payload).await,
        Config::Sms(s) => sms(client, s, &payload, now).await,
    };
    let (worker, policy) = (worker_id.to_owned(), *policy);
    blocking(pool, move |conn| {
        let mine = outbox::table.filter(outbox::id.eq(row.id)).filter(outbox::status.eq("pending"));
        diesel::update(mine).set(outbox::last_attempt_at.eq(now)).execute(conn)?;
        if let (Some(remaining), Some(_)) = (&sent.remaining, &sent.error) {
            diesel::update(mine.filter(outbox::claimed_by.eq(&worker)))
                .set(outbox::payload.eq(remaining.to_string()))
                .execute(conn)?;
        }
        record(conn, &row, &worker, now, sent.error, &policy)
    })
    .await
}

/// Gives the claim back without using an attempt, optionally not before `until`.
async fn release(pool: &DbPool, row: &OutboxRow, worker_id: &str, until: Option<NaiveDateTime>) -> anyhow::Result<()> {
    let (id, worker) = (row.id, worker_id.to_owned());
    blocking(pool, move |conn| {
        let mine = outbox::table.filter(outbox::id.eq(id)).filter(outbox::claimed_by.eq(worker));
        let free = (outbox::claimed_by.eq(None::<String>), outbox::claimed_until.eq(None::<NaiveDateTime>));
        match until {
            Some(at) => diesel::update(mine).set((free, outbox::next_attempt_at.eq(at))).execute(conn),
            None => diesel::update(mine).set(free).execute(conn),
        }
    })
    .await?;
    Ok(())
}

/// The robot's webhook with `timestamp` (ms) and `sign` added to its query.
pub fn dingtalk_url(d: &DingTalk, now: NaiveDateTime) -> anyhow::Result<String> {
    let timestamp = now.and_utc().timestamp_millis();
    let mut url = reqwest::Url::parse(&d.webhook_url)?;
    url.query_pairs_mut()
        .append_pair("timestamp", &timestamp.to_string())
        .append_pair("sign", &sign::dingtalk(&d.secret, timestamp));
    Ok(url.to_string())
}

/// DingTalk and WeCom answer HTTP 200 with `{"errcode": 0, "errmsg": "ok"}` when they took the
/// message; any other errcode (130101: too fast; 310000: bad signature) is a failure.
async fn robot(client: &Outbound, url: &str, payload: &Value) -> Sent {
    let request = match client.post(url) {
        Ok(request) => request,
        Err(unsent) => return Sent { error: Some(unsent), remaining: None },
    };
    let res = request.json(payload).send().await;
    let error = match res {
        Err(e) => Some(describe(&e)),
        Ok(res) if !res.status().is_success() => Some(format!("HTTP {}", res.status())),
        Ok(res) => match res.json::<Value>().await {
            Ok(body) if body["errcode"].as_i64() == Some(0) => None,
            Ok(body) => Some(format!(
                "errcode {}: {}",
                body["errcode"],
                body["errmsg"].as_str().unwrap_or("").chars().take(120).collect::<String>()
            )),
            Err(_) => Some("answer was not JSON".to_owned()),
        },
    };
    Sent { error, remaining: None }
}

/// The `Host` the request carries: host, and `:port` when the URL names one.
fn host(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// One Tencent Cloud `SendSms` request per recipient (each has its own parameters).
async fn sms(client: &Outbound, s: &Sms, payload: &Value, now: NaiveDateTime) -> Sent {
    let Ok(url) = reqwest::Url::parse(&s.endpoint) else {
        return Sent { error: Some("invalid endpoint".to_owned()), remaining: None };
    };
    let template_id = payload["template_id"].as_str().unwrap_or_default();
    let mut remaining = Vec::new();
    let mut last_error = None;
    for recipient in payload["recipients"].as_array().cloned().unwrap_or_default() {
        let body = json!({
            "PhoneNumberSet": [format!("+86{}", recipient["phone"].as_str().unwrap_or_default())],
            "SmsSdkAppId": s.sdk_app_id,
            "SignName": s.sign_name,
            "TemplateId": template_id,
            "TemplateParamSet": recipient["params"],
        })
        .to_string();
        let timestamp = now.and_utc().timestamp();
        let host = host(&url);
        let authorization = sign::Tc3 {
            secret_id: &s.access_key_id,
            secret_key: &s.access_key_secret,
            service: "sms",
            host: &host,
            content_type: TENCENT_CONTENT_TYPE,
            body: &body,
            timestamp,
        }
        .authorization();
        let request = match client.post(url.as_str()) {
            Ok(request) => request,
            Err(unsent) => return Sent { error: Some(unsent), remaining: None },
        };
        let res = request
            .header(reqwest::header::CONTENT_TYPE, TENCENT_CONTENT_TYPE)
            .header("X-TC-Action", "SendSms")
            .header("X-TC-Version", TENCENT_VERSION)
            .header("X-TC-Timestamp", timestamp.to_string())
            .header("X-TC-Region", &s.region)
            .header(reqwest::header::AUTHORIZATION, authorization)
            .body(body)
            .send()
            .await;
        let error = match res {
            Err(e) => Some(describe(&e)),
            Ok(res) if !res.status().is_success() => Some(format!("HTTP {}", res.status())),
            Ok(res) => match res.json::<Value>().await {
                Ok(body) => {
                    let response = &body["Response"];
                    if let Some(code) = response["Error"]["Code"].as_str() {
                        Some(format!("Tencent {code}"))
                    } else {
                        match response["SendStatusSet"][0]["Code"].as_str() {
                            Some("Ok") => None,
                            Some(code) => Some(format!("Tencent {code}")),
                            None => Some("Tencent: no send status".to_owned()),
                        }
                    }
                }
                Err(_) => Some("answer was not JSON".to_owned()),
            },
        };
        if let Some(e) = error {
            last_error = Some(e);
            remaining.push(recipient);
        }
    }
    match last_error {
        None => Sent { error: None, remaining: None },
        Some(error) => {
            let mut left = payload.clone();
            left["recipients"] = Value::Array(remaining);
            Sent { error: Some(error), remaining: Some(left) }
        }
    }
}
