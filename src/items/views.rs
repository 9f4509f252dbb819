//! What each audience sees of an item: coordinators everything (the resident's contact
//! included), members on duty the item without contact, residents and handling units only
//! the item and its public answers.

use chrono::{Duration, NaiveDate};
use serde::Serialize;
use utoipa::ToSchema;

use super::store::{EventRow, ItemRow};
use crate::calendar::KnownYears;
use crate::domain::{
    DeadlineStatus, Difficulty, Importance, ItemKind, ItemSource, ItemState, Resolution, Satisfaction, TrackingCode,
};
use crate::json::UtcInstant;

/// Where the item's deadline stands on `today`: `due_soon` within two days.
pub fn deadline_status(item: &ItemRow, today: NaiveDate) -> DeadlineStatus {
    match item.due_on {
        Some(due) if item.state.awaits_answer() => {
            if due < today {
                DeadlineStatus::Overdue
            } else if due <= today + Duration::days(2) {
                DeadlineStatus::DueSoon
            } else {
                DeadlineStatus::OnTrack
            }
        }
        _ => DeadlineStatus::None,
    }
}

/// Whether the item's deadline was counted into a year the committee has no calendar for.
pub fn deadline_provisional(item: &ItemRow, calendar: &KnownYears) -> bool {
    item.due_on.is_some_and(|due| !calendar.cover(item.created_at.date(), due))
}

/// Personal data of the resident; coordinators and admins only.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResidentContact {
    pub name: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemView {
    pub id: i64,
    /// As printed for the resident: `ABCD-EFGH`.
    pub tracking_code: String,
    pub venue_id: i64,
    /// `consultation` (咨询) or `opinion` (社情民意).
    pub kind: ItemKind,
    pub topic: String,
    pub body: String,
    /// Present for coordinators and admins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resident: Option<ResidentContact>,
    pub source: ItemSource,
    pub recorded_by: Option<i64>,
    pub assignment_id: Option<i64>,
    pub state: ItemState,
    pub importance: Option<Importance>,
    pub difficulty: Option<Difficulty>,
    /// 1 即办, 2 交办, 3 督办, 4 专报.
    pub tier: Option<i32>,
    pub tier_override_reason: Option<String>,
    /// Last working day to answer (committee calendar).
    pub due_on: Option<NaiveDate>,
    pub deadline_status: DeadlineStatus,
    /// True when `due_on` was counted across a year with no official working-day calendar
    /// (weekends only): the date may move once the State Council's arrangement is entered.
    pub deadline_provisional: bool,
    pub handling_unit_id: Option<i64>,
    pub taken_by: Option<i64>,
    pub resolution: Option<Resolution>,
    pub satisfaction: Option<Satisfaction>,
    pub resident_reopened: bool,
    #[schema(value_type = Option<chrono::DateTime<chrono::Utc>>)]
    pub first_reply_at: Option<UtcInstant>,
    #[schema(value_type = Option<chrono::DateTime<chrono::Utc>>)]
    pub closed_at: Option<UtcInstant>,
    /// Date of the follow-up review (回头看) of a closed tier 3–4 item.
    pub follow_up_on: Option<NaiveDate>,
    #[schema(value_type = Option<chrono::DateTime<chrono::Utc>>)]
    pub follow_up_done_at: Option<UtcInstant>,
    /// 0 none, 1 coordinators told it is overdue, 2 admins told.
    pub escalation_level: i32,
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub created_at: UtcInstant,
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub updated_at: UtcInstant,
}

impl ItemView {
    pub fn new(row: ItemRow, today: NaiveDate, with_contact: bool, calendar: &KnownYears) -> Self {
        let deadline_status = deadline_status(&row, today);
        let deadline_provisional = deadline_provisional(&row, calendar);
        let tracking_code = display_code(&row.tracking_code);
        Self {
            id: row.id,
            tracking_code,
            venue_id: row.venue_id,
            kind: row.kind,
            topic: row.topic,
            body: row.body,
            resident: with_contact.then_some(ResidentContact { name: row.resident_name, phone: row.resident_phone }),
            source: row.source,
            recorded_by: row.recorded_by,
            assignment_id: row.assignment_id,
            state: row.state,
            importance: row.importance,
            difficulty: row.difficulty,
            tier: row.tier.map(|t| i32::from(t.get())),
            tier_override_reason: row.tier_override_reason,
            due_on: row.due_on,
            deadline_status,
            deadline_provisional,
            handling_unit_id: row.handling_unit_id,
            taken_by: row.taken_by,
            resolution: row.resolution,
            satisfaction: row.satisfaction,
            resident_reopened: row.resident_reopened,
            first_reply_at: row.first_reply_at.map(Into::into),
            closed_at: row.closed_at.map(Into::into),
            follow_up_on: row.follow_up_on,
            follow_up_done_at: row.follow_up_done_at.map(Into::into),
            escalation_level: row.escalation_level,
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
        }
    }
}

/// A stored tracking code as printed for the resident (`ABCD-EFGH`).
pub fn display_code(stored: &str) -> String {
    TrackingCode::parse(stored).map(|c| c.display()).unwrap_or_else(|| stored.to_owned())
}

/// One entry of the item's timeline: who, when, from → to, note.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub at: UtcInstant,
    /// `resident`, `member`, `handling_unit` or `system`.
    pub actor_kind: String,
    /// The member or handling unit.
    pub actor_id: Option<i64>,
    /// `submit`, `record`, `take`, `triage`, `refer`, `reply`, `close`, `reopen`, `rate`,
    /// `escalate`, `follow_up`.
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub note: Option<String>,
    /// Shown on the resident's tracking page.
    pub public: bool,
}

impl From<EventRow> for EventView {
    fn from(e: EventRow) -> Self {
        Self {
            at: e.at.into(),
            actor_kind: e.actor_kind,
            actor_id: e.actor_id,
            action: e.action,
            from_state: e.from_state,
            to_state: e.to_state,
            note: e.note,
            public: e.public,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemDetail {
    #[serde(flatten)]
    pub item: ItemView,
    pub timeline: Vec<EventView>,
}

/// What the resident (holder of the tracking code) and the tracking page see. No names,
/// phone numbers, members or handling units.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicItemView {
    pub tracking_code: String,
    pub kind: ItemKind,
    pub kind_label: String,
    pub topic: String,
    pub body: String,
    pub venue_name: String,
    pub state: ItemState,
    pub state_label: String,
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub submitted_at: UtcInstant,
    /// The public timeline: receipt, answers, closing, reopening, ratings.
    pub events: Vec<PublicEvent>,
    pub satisfaction: Option<Satisfaction>,
    pub can_rate: bool,
    /// True while a reopen is still possible (answered, not yet reopened by the resident,
    /// within the window).
    pub can_reopen: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicEvent {
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub at: UtcInstant,
    /// `submit`, `record`, `reply`, `close`, `reopen`, `rate`.
    pub action: String,
    /// 委员, 承办单位, 群众 or 系统.
    pub by: String,
    pub text: Option<String>,
}

impl PublicItemView {
    pub fn new(
        row: ItemRow,
        venue_name: String,
        events: Vec<EventRow>,
        reopen_window_days: u32,
        now: chrono::NaiveDateTime,
    ) -> Self {
        let state = row.state;
        let kind = row.kind;
        let answered = matches!(state, ItemState::Replied | ItemState::Closed);
        let within_window = row.answered_at.is_some_and(|at| now <= at + Duration::days(i64::from(reopen_window_days)));
        Self {
            tracking_code: display_code(&row.tracking_code),
            kind_label: kind.label_zh().to_owned(),
            kind: row.kind,
            topic: row.topic,
            body: row.body,
            venue_name,
            state_label: state.label_zh().to_owned(),
            state: row.state,
            submitted_at: row.created_at.into(),
            events: events
                .into_iter()
                .map(|e| PublicEvent {
                    at: e.at.into(),
                    by: match e.actor_kind.as_str() {
                        "member" => "委员",
                        "handling_unit" => "承办单位",
                        "resident" => "群众",
                        _ => "系统",
                    }
                    .to_owned(),
                    action: e.action,
                    text: e.note,
                })
                .collect(),
            satisfaction: row.satisfaction,
            can_rate: answered,
            can_reopen: answered && !row.resident_reopened && within_window,
        }
    }
}

/// What a handling unit sees through its link: the item, its tier and deadline, and the
/// answers so far; never the resident's contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralView {
    pub handling_unit: String,
    pub tracking_code: String,
    pub kind: ItemKind,
    pub topic: String,
    pub body: String,
    pub venue_name: String,
    pub state: ItemState,
    pub tier: Option<i32>,
    pub tier_name: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub note: Option<String>,
    /// Whether the unit can (still) answer through this link.
    pub can_reply: bool,
    pub answers: Vec<PublicEvent>,
}
