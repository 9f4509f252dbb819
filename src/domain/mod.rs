//! Domain types: parsed once at the boundary, valid from then on. No HTTP, no SQL here (the
//! diesel derives on stored enumerations only say which column type holds them; reading and
//! writing them is `db::stored_text`).

/// A type stored as one of a fixed set of texts.
pub trait StoredText: Sized + std::fmt::Debug + 'static {
    /// The type's name, for the error on a corrupt row.
    const WHAT: &'static str;
    fn as_stored(&self) -> &'static str;
    fn from_stored(raw: &str) -> Option<Self>;
}

/// An enumeration stored and sent as snake_case text: `as_str` writes it, `parse` reads it.
/// Columns holding one are read and written as the type itself (the diesel derives here; the
/// text conversion in `db::stored_text`), so no read re-parses a string with a fallback.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $( $variant:ident = $text:literal ),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[derive(diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $( $variant, )* }

        impl $name {
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text, )* }
            }

            /// Reads the stored form; `None` for anything else.
            pub fn parse(raw: &str) -> Option<Self> {
                match raw { $( $text => Some($name::$variant), )* _ => None }
            }
        }

        impl $crate::domain::StoredText for $name {
            const WHAT: &'static str = stringify!($name);

            fn as_stored(&self) -> &'static str {
                self.as_str()
            }

            fn from_stored(raw: &str) -> Option<Self> {
                Self::parse(raw)
            }
        }
    };
}

mod channel;
mod checkin;
mod committee;
mod item;
mod leave;
mod member;
mod roster;
mod swap;
mod venue;
mod webhook;

pub use channel::{
    DingTalk, DingTalkInput, DingTalkView, NoticeRoutes, QuietHours, Route, Sms, SmsInput, SmsTemplate, SmsView, Wecom,
    WecomInput, WecomView,
};
pub use checkin::{Assurance, CheckinMethod, CheckinReview};
pub use committee::{CommitteeSettings, RankingWeights, Timezone};
pub use item::{
    DeadlineStatus, Difficulty, ITEM_TOPICS, Importance, ItemAction, ItemKind, ItemSource, ItemState, Resolution,
    Satisfaction, Tier, TrackingCode, TriageMatrix, member_may_close,
};
pub use leave::{LeaveAction, LeaveStatus, MAX_LEAVE_DAYS};
pub use member::{Password, PersonName, Phone, Role, Roles, Sector};
pub use roster::{AssignmentRole, AssignmentSource, RosterStatus};
pub use swap::{SwapAction, SwapStatus};
pub use venue::{Geofence, VenueAddress, VenueCode, VenueKind, VenueName};
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
