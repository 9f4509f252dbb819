//! Domain types: parsed once at the boundary, valid from then on. No HTTP, no SQL here.

mod channel;
mod committee;
mod item;
mod member;
mod venue;
mod webhook;

pub use channel::{
    DingTalk, DingTalkInput, DingTalkView, NoticeRoutes, QuietHours, Route, Sms, SmsInput, SmsTemplate, SmsView, Wecom,
    WecomInput, WecomView,
};
pub use committee::{CommitteeSettings, RankingWeights, Timezone};
pub use item::{
    Difficulty, ITEM_TOPICS, Importance, ItemAction, ItemKind, ItemState, Resolution, Satisfaction, Tier, TrackingCode,
    TriageMatrix,
};
pub use member::{Password, PersonName, Phone, Role, Roles, Sector};
pub use venue::{Geofence, VenueCode, VenueKind, VenueName};
pub use webhook::{WebhookSecret, WebhookUrl};

/// Why a value was refused: a stable machine reason and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub reason: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(reason: &'static str, message: impl Into<String>) -> Self {
        Self { reason, message: message.into() }
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Trims and checks a free-text field's length in characters (not bytes: names are Chinese).
pub(crate) fn bounded_text(raw: &str, max_chars: usize) -> Result<String, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Invalid::new("required", "must not be empty"));
    }
    if text.chars().count() > max_chars {
        return Err(Invalid::new("too_long", format!("must be at most {max_chars} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(Invalid::new("invalid_characters", "must not contain control characters"));
    }
    Ok(text.to_owned())
}

/// Like [`bounded_text`], for text written in paragraphs (a resident's question, an answer):
/// line breaks are kept (CRLF as LF), other control characters refused.
pub(crate) fn bounded_paragraphs(raw: &str, max_chars: usize) -> Result<String, Invalid> {
    let text = raw.replace("\r\n", "\n");
    let text = text.trim();
    if text.is_empty() {
        return Err(Invalid::new("required", "must not be empty"));
    }
    if text.chars().count() > max_chars {
        return Err(Invalid::new("too_long", format!("must be at most {max_chars} characters")));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Invalid::new("invalid_characters", "must not contain control characters other than line breaks"));
    }
    Ok(text.to_owned())
}
