//! Rows and queries of items, their timeline and who is on duty to receive them.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::{self, DbConnection};
use crate::domain::{
    Difficulty, Importance, ItemKind, ItemSource, ItemState, Resolution, Satisfaction, Tier, TrackingCode,
};
use crate::error::ApiError;
use crate::schema::{item_events, items};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = items)]
pub struct ItemRow {
    pub id: i64,
    pub committee_id: i64,
    pub venue_id: i64,
    pub tracking_code: String,
    pub kind: ItemKind,
    pub topic: String,
    pub body: String,
    pub resident_name: Option<String>,
    pub resident_phone: Option<String>,
    pub source: ItemSource,
    pub recorded_by: Option<i64>,
    pub assignment_id: Option<i64>,
    pub state: ItemState,
    pub importance: Option<Importance>,
    pub difficulty: Option<Difficulty>,
    pub tier: Option<Tier>,
    pub tier_override_reason: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub handling_unit_id: Option<i64>,
    pub taken_by: Option<i64>,
    pub resolution: Option<Resolution>,
    pub satisfaction: Option<Satisfaction>,
    pub resident_reopened: bool,
    pub answered_at: Option<NaiveDateTime>,
    pub first_reply_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub follow_up_on: Option<NaiveDate>,
    pub follow_up_done_at: Option<NaiveDateTime>,
    pub escalation_level: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Who did something to an item, as the timeline records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Resident,
    Member(i64),
    HandlingUnit(i64),
    System,
}

impl Actor {
    fn kind_and_id(self) -> (&'static str, Option<i64>) {
        match self {
            Actor::Resident => ("resident", None),
            Actor::Member(id) => ("member", Some(id)),
            Actor::HandlingUnit(id) => ("handling_unit", Some(id)),
            Actor::System => ("system", None),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = item_events)]
pub struct EventRow {
    pub id: i64,
    pub committee_id: i64,
    pub item_id: i64,
    pub at: NaiveDateTime,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub note: Option<String>,
    pub public: bool,
}

pub struct NewItem<'a> {
    pub committee_id: i64,
    pub venue_id: i64,
    pub kind: &'a str,
    pub topic: &'a str,
    pub body: &'a str,
    pub resident_name: Option<&'a str>,
    pub resident_phone: Option<&'a str>,
    pub source: &'a str,
    pub recorded_by: Option<i64>,
    pub assignment_id: Option<i64>,
}

/// Inserts a received item under a fresh tracking code (drawn again on the rare collision).
pub fn insert(conn: &mut DbConnection, new: &NewItem<'_>, now: NaiveDateTime) -> Result<ItemRow, ApiError> {
    for _ in 0..5 {
        let code = TrackingCode::generate();
        let inserted = db::may_conflict(conn, |conn| {
            diesel::insert_into(items::table)
                .values((
                    items::committee_id.eq(new.committee_id),
                    items::venue_id.eq(new.venue_id),
                    items::tracking_code.eq(code.as_str()),
                    items::kind.eq(new.kind),
                    items::topic.eq(new.topic),
                    items::body.eq(new.body),
                    items::resident_name.eq(new.resident_name),
                    items::resident_phone.eq(new.resident_phone),
                    items::source.eq(new.source),
                    items::recorded_by.eq(new.recorded_by),
                    items::assignment_id.eq(new.assignment_id),
                    items::state.eq(ItemState::Received.as_str()),
                    items::resident_reopened.eq(false),
                    items::escalation_level.eq(0),
                    items::created_at.eq(now),
                    items::updated_at.eq(now),
                ))
                .returning(items::id)
                .get_result::<i64>(conn)
        });
        match inserted {
            Ok(id) => return find(conn, new.committee_id, id),
            Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::unexpected(anyhow::anyhow!("no free tracking code after 5 draws")))
}

/// An item of the committee; 404 for another committee's id.
pub fn find(conn: &mut DbConnection, committee_id: i64, id: i64) -> Result<ItemRow, ApiError> {
    Ok(items::table
        .filter(items::committee_id.eq(committee_id).and(items::id.eq(id)))
        .select(ItemRow::as_select())
        .first(conn)?)
}

pub fn find_by_tracking_code(conn: &mut DbConnection, code: &TrackingCode) -> Result<ItemRow, ApiError> {
    Ok(items::table.filter(items::tracking_code.eq(code.as_str())).select(ItemRow::as_select()).first(conn)?)
}

pub struct Event<'a> {
    pub action: &'a str,
    pub from: Option<ItemState>,
    pub to: Option<ItemState>,
    pub note: Option<&'a str>,
    /// Shown to the resident on the tracking page.
    pub public: bool,
}

pub fn add_event(
    conn: &mut DbConnection,
    item: &ItemRow,
    actor: Actor,
    event: Event<'_>,
    at: NaiveDateTime,
) -> Result<(), ApiError> {
    let (actor_kind, actor_id) = actor.kind_and_id();
    diesel::insert_into(item_events::table)
        .values((
            item_events::committee_id.eq(item.committee_id),
            item_events::item_id.eq(item.id),
            item_events::at.eq(at),
            item_events::actor_kind.eq(actor_kind),
            item_events::actor_id.eq(actor_id),
            item_events::action.eq(event.action),
            item_events::from_state.eq(event.from.map(ItemState::as_str)),
            item_events::to_state.eq(event.to.map(ItemState::as_str)),
            item_events::note.eq(event.note),
            item_events::public.eq(event.public),
        ))
        .execute(conn)?;
    Ok(())
}

/// The account (a member's or a coordinator's) that gave the item's latest answer; `None`
/// without an answer, or when a handling unit gave it.
pub fn last_reply_by(conn: &mut DbConnection, item_id: i64) -> Result<Option<i64>, ApiError> {
    let last: Option<(String, Option<i64>)> = item_events::table
        .filter(item_events::item_id.eq(item_id).and(item_events::action.eq("reply")))
        .order(item_events::id.desc())
        .select((item_events::actor_kind, item_events::actor_id))
        .first(conn)
        .optional()?;
    Ok(last.and_then(|(kind, id)| if kind == "member" { id } else { None }))
}

pub fn events(conn: &mut DbConnection, item_id: i64, public_only: bool) -> Result<Vec<EventRow>, ApiError> {
    let mut query = item_events::table.filter(item_events::item_id.eq(item_id)).order(item_events::id).into_boxed();
    if public_only {
        query = query.filter(item_events::public.eq(true));
    }
    Ok(query.select(EventRow::as_select()).load(conn)?)
}

/// Whether `member_id` was on duty at the item's venue when it arrived: such a member sees it
/// in the live inbox and may take and answer it.
pub fn was_on_duty_for(conn: &mut DbConnection, item: &ItemRow, member_id: i64) -> Result<bool, ApiError> {
    Ok(item.source == ItemSource::Resident
        && crate::roster::duties::on_duty_members(conn, item.venue_id, item.created_at)?.contains(&member_id))
}

pub fn touch(conn: &mut DbConnection, item_id: i64, now: NaiveDateTime) -> Result<(), ApiError> {
    diesel::update(items::table.find(item_id)).set(items::updated_at.eq(now)).execute(conn)?;
    Ok(())
}
