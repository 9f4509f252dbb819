//! Notice channels (issue 21). What an admin configures for each channel, as sent (`…Input`), as stored (with its
//! secrets) and as shown (`…View`, secrets never; the webhook's token masked).

use std::collections::BTreeMap;

use chrono::{NaiveDateTime, NaiveTime, TimeZone};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Invalid, WebhookUrl};

/// The notice kinds the channels know how to word; SMS templates are set per kind.
pub const KINDS: &[&str] = &[
    "duty.reminder",
    "roster.published",
    "roster.changed",
    "swap.offered",
    "swap.approved",
    "swap.rejected",
    "leave.decided",
    "item.inbox",
    "item.overdue",
    "item.replied",
];

/// The values an SMS template of `kind` may use, in any order. Nothing else can go out by
/// SMS: no free text, and a resident's answer carries its tracking code only.
pub fn sms_variables(kind: &str) -> &'static [&'static str] {
    match kind {
        "duty.reminder" => &["member_name", "venue_name", "date", "start_time", "end_time", "days_until"],
        "roster.changed" | "swap.offered" => &["member_name", "date"],
        "leave.decided" => &["member_name", "status"],
        "item.replied" => &["tracking_code"],
        _ => &["member_name"],
    }
}

/// `PATCH … dingtalk`: a DingTalk custom robot (钉钉自定义机器人) with 加签 security.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DingTalkInput {
    /// The robot's webhook, `https://oapi.dingtalk.com/robot/send?access_token=…`.
    pub webhook_url: String,
    /// Write-only `SEC…` signing secret of the robot. May be left out to keep the stored one.
    #[schema(write_only)]
    pub secret: Option<String>,
}

/// `PATCH … wecom`: a WeCom group robot (企业微信群机器人).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WecomInput {
    /// The robot's webhook, `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`. Its
    /// `key` is the credential: it is never shown again, only masked.
    #[schema(write_only)]
    pub webhook_url: String,
}

/// `PATCH /committee sms`: the committee's SMS account. Provider: `tencent` (Tencent Cloud
/// SMS, API 2021-01-11, TC3-HMAC-SHA256 signing).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsInput {
    pub provider: String,
    /// Defaults to `https://sms.tencentcloudapi.com`.
    pub endpoint: Option<String>,
    /// Defaults to `ap-guangzhou`.
    pub region: Option<String>,
    /// The SMS application's SdkAppId (短信应用 ID).
    pub sdk_app_id: String,
    /// The API key's SecretId.
    pub access_key_id: String,
    /// Write-only SecretKey. May be left out to keep the stored one.
    #[schema(write_only)]
    pub access_key_secret: Option<String>,
    /// The approved signature (签名内容), e.g. 某某县政协.
    pub sign_name: String,
    /// Approved template per notice kind; kinds without one send no SMS.
    #[serde(default)]
    pub templates: BTreeMap<String, SmsTemplate>,
}

/// A provider-approved template and which zhiban values fill its parameters, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsTemplate {
    /// The provider's template id (TemplateId).
    pub template_id: String,
    /// Names of the values for {1}, {2}, …: see the README for each kind's list
    /// (`tracking_code` only for `item.replied`).
    #[serde(default)]
    pub params: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DingTalk {
    pub webhook_url: String,
    pub secret: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Wecom {
    pub webhook_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sms {
    pub provider: String,
    pub endpoint: String,
    pub region: String,
    pub sdk_app_id: String,
    pub access_key_id: String,
    pub access_key_secret: String,
    pub sign_name: String,
    pub templates: BTreeMap<String, SmsTemplate>,
}

pub const TENCENT_ENDPOINT: &str = "https://sms.tencentcloudapi.com";

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DingTalkView {
    /// The webhook with its `access_token` masked.
    pub webhook_url: String,
    /// Always true: the signing secret is stored (and never shown).
    pub secret_set: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WecomView {
    /// The webhook with its `key` masked.
    pub webhook_url: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SmsView {
    pub provider: String,
    pub endpoint: String,
    pub region: String,
    pub sdk_app_id: String,
    pub access_key_id: String,
    pub sign_name: String,
    pub templates: BTreeMap<String, SmsTemplate>,
    /// Always true: the SecretKey is stored (and never shown).
    pub secret_set: bool,
}

/// A webhook URL with the values of its credential parameters replaced by `***`.
pub fn mask(url: &str) -> String {
    let Ok(mut parsed) = reqwest::Url::parse(url) else { return "***".to_owned() };
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let v = if matches!(k.as_ref(), "access_token" | "key" | "token") { "***".to_owned() } else { v.into() };
            (k.into_owned(), v)
        })
        .collect();
    if pairs.is_empty() {
        return parsed.to_string();
    }
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string().replace("%2A%2A%2A", "***")
}

fn text(raw: &str, what: &str, max: usize) -> Result<String, Invalid> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(Invalid::new("required", format!("{what} must not be empty")));
    }
    if t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(Invalid::new("invalid_format", format!("{what}: at most {max} characters, no control characters")));
    }
    Ok(t.to_owned())
}

impl DingTalkInput {
    /// The stored form; `current` supplies the secret when none is sent.
    pub fn parse(self, current: Option<DingTalk>) -> Result<DingTalk, (&'static str, Invalid)> {
        let url = WebhookUrl::parse(&self.webhook_url).map_err(|e| ("webhook_url", e))?;
        let secret = match self.secret {
            Some(s) => {
                let s = s.trim().to_owned();
                if !s.starts_with("SEC")
                    || s.len() < 16
                    || s.len() > 256
                    || !s.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    return Err((
                        "secret",
                        Invalid::new("invalid_format", "must be the robot's SEC… secret from its 加签 setting"),
                    ));
                }
                s
            }
            None => match current {
                Some(c) => c.secret,
                None => return Err(("secret", Invalid::new("required", "a DingTalk robot needs its 加签 secret"))),
            },
        };
        Ok(DingTalk { webhook_url: url.as_str().to_owned(), secret })
    }
}

impl WecomInput {
    pub fn parse(self) -> Result<Wecom, (&'static str, Invalid)> {
        let url = WebhookUrl::parse(&self.webhook_url).map_err(|e| ("webhook_url", e))?;
        let parsed =
            reqwest::Url::parse(url.as_str()).map_err(|_| ("webhook_url", Invalid::new("invalid_format", "")))?;
        if !parsed.query_pairs().any(|(k, v)| k == "key" && !v.is_empty()) {
            return Err(("webhook_url", Invalid::new("missing_key", "must carry the robot's ?key=…")));
        }
        Ok(Wecom { webhook_url: url.as_str().to_owned() })
    }
}

impl SmsInput {
    pub fn parse(self, current: Option<Sms>) -> Result<Sms, (&'static str, Invalid)> {
        if self.provider != "tencent" {
            return Err((
                "provider",
                Invalid::new("unsupported", "the supported provider is `tencent` (Tencent Cloud SMS)"),
            ));
        }
        let endpoint = match self.endpoint {
            Some(e) => WebhookUrl::parse(&e).map_err(|e| ("endpoint", e))?.as_str().to_owned(),
            None => TENCENT_ENDPOINT.to_owned(),
        };
        let region = text(self.region.as_deref().unwrap_or("ap-guangzhou"), "region", 40).map_err(|e| ("region", e))?;
        let sdk_app_id = text(&self.sdk_app_id, "sdk_app_id", 40).map_err(|e| ("sdk_app_id", e))?;
        let access_key_id = text(&self.access_key_id, "access_key_id", 128).map_err(|e| ("access_key_id", e))?;
        let access_key_secret = match self.access_key_secret {
            Some(s) => text(&s, "access_key_secret", 128).map_err(|e| ("access_key_secret", e))?,
            None => match current {
                Some(c) => c.access_key_secret,
                None => return Err(("access_key_secret", Invalid::new("required", "the SecretKey is required"))),
            },
        };
        let sign_name = text(&self.sign_name, "sign_name", 40).map_err(|e| ("sign_name", e))?;
        for (kind, template) in &self.templates {
            if !KINDS.contains(&kind.as_str()) {
                return Err(("templates", Invalid::new("unknown_kind", format!("{kind} is not a notice kind"))));
            }
            text(&template.template_id, "template_id", 40).map_err(|e| ("templates", e))?;
            let allowed = sms_variables(kind);
            if let Some(bad) = template.params.iter().find(|p| !allowed.contains(&p.as_str())) {
                return Err((
                    "templates",
                    Invalid::new("unknown_variable", format!("{kind}: {bad} is not one of {}", allowed.join(", "))),
                ));
            }
        }
        Ok(Sms {
            provider: self.provider,
            endpoint,
            region,
            sdk_app_id,
            access_key_id,
            access_key_secret,
            sign_name,
            templates: self.templates,
        })
    }
}

impl DingTalk {
    pub fn view(&self) -> DingTalkView {
        DingTalkView { webhook_url: mask(&self.webhook_url), secret_set: true }
    }
}

impl Wecom {
    pub fn view(&self) -> WecomView {
        WecomView { webhook_url: mask(&self.webhook_url) }
    }
}

impl Sms {
    pub fn view(&self) -> SmsView {
        SmsView {
            provider: self.provider.clone(),
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            sdk_app_id: self.sdk_app_id.clone(),
            access_key_id: self.access_key_id.clone(),
            sign_name: self.sign_name.clone(),
            templates: self.templates.clone(),
            secret_set: true,
        }
    }
}

/// Where a kind of notice goes, besides the generic webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// SMS to the people the notice concerns: the members it names (unless they turned SMS
    /// off), or for `item.replied` the resident's own phone, with the tracking code only.
    Sms,
    /// The group robot(s) of the venue the notice is about (the studio's group).
    VenueGroup,
    /// The committee's group robot(s) (the coordinators' group).
    CommitteeGroup,
}

/// The routing of each notice kind (committee setting `notice_routes`). The defaults follow
/// issue 21's table; kinds not listed here go to the webhook only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NoticeRoutes {
    #[serde(rename = "duty.reminder")]
    pub duty_reminder: Vec<Route>,
    #[serde(rename = "roster.published")]
    pub roster_published: Vec<Route>,
    #[serde(rename = "roster.changed")]
    pub roster_changed: Vec<Route>,
    #[serde(rename = "swap.offered")]
    pub swap_offered: Vec<Route>,
    #[serde(rename = "swap.approved")]
    pub swap_approved: Vec<Route>,
    #[serde(rename = "swap.rejected")]
    pub swap_rejected: Vec<Route>,
    #[serde(rename = "leave.decided")]
    pub leave_decided: Vec<Route>,
    #[serde(rename = "item.inbox")]
    pub item_inbox: Vec<Route>,
    #[serde(rename = "item.overdue")]
    pub item_overdue: Vec<Route>,
    #[serde(rename = "item.replied")]
    pub item_replied: Vec<Route>,
}

impl Default for NoticeRoutes {
    fn default() -> Self {
        use Route::*;
        Self {
            duty_reminder: vec![Sms, VenueGroup],
            roster_published: vec![],
            roster_changed: vec![Sms],
            swap_offered: vec![],
            swap_approved: vec![Sms],
            swap_rejected: vec![Sms],
            leave_decided: vec![Sms],
            item_inbox: vec![VenueGroup],
            item_overdue: vec![CommitteeGroup],
            item_replied: vec![Sms],
        }
    }
}

impl NoticeRoutes {
    pub fn of(&self, kind: &str) -> &[Route] {
        match kind {
            "duty.reminder" => &self.duty_reminder,
            "roster.published" => &self.roster_published,
            "roster.changed" => &self.roster_changed,
            "swap.offered" => &self.swap_offered,
            "swap.approved" => &self.swap_approved,
            "swap.rejected" => &self.swap_rejected,
            "leave.decided" => &self.leave_decided,
            "item.inbox" => &self.item_inbox,
            "item.overdue" => &self.item_overdue,
            "item.replied" => &self.item_replied,
            _ => &[],
        }
    }
}

/// Committee-local hours in which SMS and robot messages wait for morning (`HH:MM`, start
/// after end means overnight; equal means none). Items arriving during a duty go at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct QuietHours {
    pub start: String,
    pub end: String,
}

impl Default for QuietHours {
    fn default() -> Self {
        Self { start: "21:00".to_owned(), end: "08:00".to_owned() }
    }
}

impl QuietHours {
    fn times(&self) -> Option<(NaiveTime, NaiveTime)> {
        let start = NaiveTime::parse_from_str(&self.start, "%H:%M").ok()?;
        let end = NaiveTime::parse_from_str(&self.end, "%H:%M").ok()?;
        Some((start, end))
    }

    pub fn validate(&self) -> Result<(), Invalid> {
        self.times().map(drop).ok_or_else(|| Invalid::new("invalid_format", "start and end are HH:MM, e.g. 21:00"))
    }

    /// When the quiet hours around `now` (UTC) end, or `None` outside them.
    pub fn until(&self, tz: chrono_tz::Tz, now: NaiveDateTime) -> Option<NaiveDateTime> {
        let (start, end) = self.times()?;
        let local = tz.from_utc_datetime(&now).naive_local();
        let (date, t) = (local.date(), local.time());
        let end_date = if start > end {
            if t >= start {
                date.succ_opt()?
            } else if t < end {
                date
            } else {
                return None;
            }
        } else if start < end && t >= start && t < end {
            date
        } else {
            return None;
        };
        let local = end_date.and_time(end);
        Some(tz.from_local_datetime(&local).earliest().map(|dt| dt.naive_utc()).unwrap_or(local))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_masked() {
        assert_eq!(
            mask("https://oapi.dingtalk.com/robot/send?access_token=abc123"),
            "https://oapi.dingtalk.com/robot/send?access_token=***"
        );
        assert_eq!(
            mask("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6"),
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***"
        );
    }

    #[test]
    fn sms_templates_use_known_values_only() {
        let input = |params: &[&str]| SmsInput {
            provider: "tencent".into(),
            endpoint: None,
            region: None,
            sdk_app_id: "1400006666".into(),
            access_key_id: "AKIDexample".into(),
            access_key_secret: Some("secret".into()),
            sign_name: "某县政协".into(),
            templates: BTreeMap::from([(
                "item.replied".to_owned(),
                SmsTemplate { template_id: "1".into(), params: params.iter().map(|s| (*s).to_owned()).collect() },
            )]),
        };
        assert!(input(&["tracking_code"]).parse(None).is_ok());
        assert_eq!(input(&["member_name"]).parse(None).unwrap_err().1.reason, "unknown_variable");
    }

    fn utc(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn quiet_hours_hold_until_morning_local_time() {
        let q = QuietHours::default();
        let tz = chrono_tz::Asia::Shanghai;
        // 22:30 local → 08:00 local next day (00:00 UTC).
        assert_eq!(q.until(tz, utc("2026-12-04 14:30")), Some(utc("2026-12-05 00:00")));
        // 06:59 local → 08:00 the same day.
        assert_eq!(q.until(tz, utc("2026-12-04 22:59")), Some(utc("2026-12-05 00:00")));
        // 08:00 and 20:59 local are not quiet.
        assert_eq!(q.until(tz, utc("2026-12-05 00:00")), None);
        assert_eq!(q.until(tz, utc("2026-12-05 12:59")), None);
        assert_eq!(q.until(tz, utc("2026-12-05 13:00")), Some(utc("2026-12-06 00:00")));
        let none = QuietHours { start: "08:00".into(), end: "08:00".into() };
        assert_eq!(none.until(tz, utc("2026-12-04 14:30")), None);
        assert!(QuietHours { start: "25:00".into(), end: "08:00".into() }.validate().is_err());
    }

    #[test]
    fn routes_default_to_the_issue_table() {
        let r = NoticeRoutes::default();
        assert_eq!(r.of("duty.reminder"), &[Route::Sms, Route::VenueGroup]);
        assert_eq!(r.of("item.overdue"), &[Route::CommitteeGroup]);
        assert_eq!(r.of("calendar.missing"), &[] as &[Route]);
        let patched: NoticeRoutes = serde_json::from_str(r#"{"item.replied": []}"#).unwrap();
        assert!(patched.of("item.replied").is_empty());
        assert_eq!(patched.of("item.inbox"), &[Route::VenueGroup]);
    }
}
