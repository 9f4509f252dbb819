//! The members' side of items at reception, for every front end (the API's handlers, the
//! member pages): the live inbox, taking an item, answering it, recording one heard in
//! person — with the same standing and the same checks whoever asks. The state changes
//! themselves are [`super::workflow`]'s.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::store::{self, Actor, Event, ItemRow};
use super::workflow::{self, Closer, CommitteeRules, MAX_BODY_CHARS, MAX_NOTE_CHARS, MAX_TOPIC_CHARS, reply, take};
use crate::auth::{AuthUser, load_scope};
use crate::db::DbConnection;
use crate::domain::{ItemKind, ItemState, PersonName, Phone, Resolution};
use crate::error::{ApiError, ErrorCode, FieldChecks};
use crate::schema::{assignments, items, rosters, shifts};

/// An answer to a resident: paragraphs allowed, at most [`MAX_NOTE_CHARS`].
pub fn check_reply_text(raw: &str) -> Result<String, ApiError> {
    let mut checks = FieldChecks::new();
    let reply = checks.check("text", crate::domain::bounded_paragraphs(raw, MAX_NOTE_CHARS));
    checks.finish()?;
    Ok(reply.unwrap_or_default())
}

/// How the caller may see an item: in full (a coordinator of its venue), without the
/// resident's contact (the member who recorded, took or was on duty for it), or not at all.
pub enum Access {
    Full,
    Member,
}

pub fn access(conn: &mut DbConnection, user: &AuthUser, item: &ItemRow) -> Result<Access, ApiError> {
    let scope = load_scope(conn, user)?;
    if scope.includes(item.venue_id) {
        return Ok(Access::Full);
    }
    let mine = item.recorded_by == Some(user.member_id) || item.taken_by == Some(user.member_id);
    // Colleagues on that duty keep reading an item one of them took; acting on it is refused
    // with `item_taken` by the action itself.
    if mine || store::was_on_duty_for(conn, item, user.member_id)? {
        return Ok(Access::Member);
    }
    // A coordinator of other venues learns it is not theirs; anyone else that it is not there.
    if user.roles.can_coordinate() { Err(ErrorCode::OutOfScope.into()) } else { Err(ApiError::not_found()) }
}

/// An item heard in person at reception, its fields checked.
pub struct InPerson {
    pub assignment_id: i64,
    pub kind: ItemKind,
    pub topic: String,
    pub body: String,
    pub resident_name: Option<PersonName>,
    pub resident_phone: Option<Phone>,
}

/// Checks what a member typed for an item heard in person; errors name the fields.
pub fn check_in_person(
    assignment_id: i64,
    kind: ItemKind,
    topic: &str,
    body: &str,
    resident_name: Option<&str>,
    resident_phone: Option<&str>,
) -> Result<InPerson, ApiError> {
    let mut checks = FieldChecks::new();
    let topic = checks.check("topic", crate::domain::bounded_text(topic, MAX_TOPIC_CHARS));
    let body = checks.check("body", crate::domain::bounded_paragraphs(body, MAX_BODY_CHARS));
    let resident_name = resident_name
        .filter(|s| !s.trim().is_empty())
        .and_then(|s| checks.check("resident_name", PersonName::parse(s)));
    let resident_phone =
        resident_phone.filter(|s| !s.trim().is_empty()).and_then(|s| checks.check("resident_phone", Phone::parse(s)));
    checks.finish()?;
    Ok(InPerson {
        assignment_id,
        kind,
        topic: topic.unwrap_or_default(),
        body: body.unwrap_or_default(),
        resident_name,
        resident_phone,
    })
}

/// A member records an item collected in person, linked to their own published duty that has
/// begun. The item, and whether the member sees its contact (coordinator of the venue).
pub fn record_in_person(
    conn: &mut DbConnection,
    user: &AuthUser,
    new: &InPerson,
    now: NaiveDateTime,
) -> Result<(ItemRow, bool), ApiError> {
    // The duty must be the member's own, published, and already begun.
    let duty: Option<(i64, NaiveDateTime)> = assignments::table
        .inner_join(shifts::table.inner_join(rosters::table))
        .filter(assignments::id.eq(new.assignment_id))
        .filter(assignments::member_id.eq(user.member_id))
        .filter(rosters::committee_id.eq(user.committee_id))
        .filter(crate::roster::duties::live())
        .select((shifts::venue_id, shifts::starts_at))
        .first(conn)
        .optional()?;
    let Some((venue_id, starts_at)) = duty else {
        return Err(ApiError::field("assignment_id", "not_your_duty", "not a published duty of yours"));
    };
    if starts_at - crate::roster::duties::opens_before() > now {
        return Err(ApiError::field("assignment_id", "not_started", "the duty has not begun yet"));
    }
    let item = store::insert(
        conn,
        &store::NewItem {
            committee_id: user.committee_id,
            venue_id,
            kind: new.kind.as_str(),
            topic: &new.topic,
            body: &new.body,
            resident_name: new.resident_name.as_ref().map(|n| n.as_str()),
            resident_phone: new.resident_phone.as_ref().map(|p| p.as_str()),
            source: "member",
            recorded_by: Some(user.member_id),
            assignment_id: Some(new.assignment_id),
        },
        now,
    )?;
    store::add_event(
        conn,
        &item,
        Actor::Member(user.member_id),
        Event { action: "record", from: None, to: Some(ItemState::Received), note: None, public: true },
        now,
    )?;
    let full = load_scope(conn, user)?.includes(venue_id);
    Ok((item, full))
}

/// The member answers an item: a coordinator of its venue may; so may the member who took it
/// or recorded it, or a member on duty when it arrived while nobody has taken it. The item
/// as it now stands, and whether the member sees its contact.
pub fn reply_as(
    conn: &mut DbConnection,
    user: &AuthUser,
    id: i64,
    text: &str,
    now: NaiveDateTime,
) -> Result<(ItemRow, bool), ApiError> {
    let item = store::find(conn, user.committee_id, id)?;
    let access = access(conn, user, &item)?;
    if matches!(access, Access::Member) && item.taken_by.is_some_and(|m| m != user.member_id) {
        return Err(ErrorCode::ItemTaken.into());
    }
    reply(conn, &item, Actor::Member(user.member_id), text, now)?;
    Ok((store::find(conn, user.committee_id, id)?, matches!(access, Access::Full)))
}

/// Closes an item with a resolution, with the caller's standing: a coordinator of its venue
/// closes whatever the state machine allows; a member only a consultation they answered or a
/// tier 1 item they hold (403 `close_needs_coordinator` otherwise). The item as it now stands,
/// and whether the caller sees its contact.
pub fn close_as(
    conn: &mut DbConnection,
    user: &AuthUser,
    id: i64,
    resolution: Resolution,
    note: Option<&str>,
    now: NaiveDateTime,
) -> Result<(ItemRow, bool), ApiError> {
    let item = store::find(conn, user.committee_id, id)?;
    let full = matches!(access(conn, user, &item)?, Access::Full);
    let closer = if full { Closer::Coordinator(user.member_id) } else { Closer::Member(user.member_id) };
    let rules = CommitteeRules::load(conn, item.committee_id)?;
    workflow::close(conn, &item, closer, resolution, note, &rules, now)?;
    Ok((store::find(conn, user.committee_id, id)?, full))
}

/// A member on duty takes an item from the live inbox; members who never had it in their
/// inbox are told it is not there.
pub fn take_as(
    conn: &mut DbConnection,
    user: &AuthUser,
    id: i64,
    now: NaiveDateTime,
) -> Result<(ItemRow, bool), ApiError> {
    let item = store::find(conn, user.committee_id, id)?;
    if !store::was_on_duty_for(conn, &item, user.member_id)? {
        // Hide the item from members who never had it in their inbox.
        return Err(if load_scope(conn, user)?.includes(item.venue_id) {
            ErrorCode::NotOnDuty.into()
        } else {
            ApiError::not_found()
        });
    }
    take(conn, &item, user.member_id, now)?;
    let full = load_scope(conn, user)?.includes(item.venue_id);
    Ok((store::find(conn, user.committee_id, id)?, full))
}

/// The member's live inbox: residents' items that arrived at a venue while the member was on
/// duty there (from an hour before the duty to its end), still unanswered, and not taken by a
/// colleague. Newest first.
pub fn inbox(conn: &mut DbConnection, user: &AuthUser, now: NaiveDateTime) -> Result<Vec<ItemRow>, ApiError> {
    let opens = crate::roster::duties::opens_before();
    // The member's duties of the last 30 days that have opened.
    let windows: Vec<(i64, NaiveDateTime, NaiveDateTime)> = assignments::table
        .inner_join(shifts::table.inner_join(rosters::table))
        .filter(assignments::member_id.eq(user.member_id))
        .filter(rosters::committee_id.eq(user.committee_id))
        .filter(crate::roster::duties::live())
        .filter(shifts::ends_at.ge(now - Duration::days(30)))
        .filter(shifts::starts_at.le(now + opens))
        .select((shifts::venue_id, shifts::starts_at, shifts::ends_at))
        .load(conn)?;
    let open: Vec<&str> = ItemState::ALL.iter().filter(|s| s.awaits_answer()).map(|s| s.as_str()).collect();
    let mut found: Vec<ItemRow> = Vec::new();
    for (venue_id, starts_at, ends_at) in windows {
        let rows: Vec<ItemRow> = items::table
            .filter(items::committee_id.eq(user.committee_id))
            .filter(items::venue_id.eq(venue_id))
            .filter(items::source.eq("resident"))
            .filter(items::created_at.between(starts_at - opens, ends_at))
            .filter(items::state.eq_any(&open))
            .filter(items::taken_by.is_null().or(items::taken_by.eq(user.member_id)))
            .select(ItemRow::as_select())
            .load(conn)?;
        found.extend(rows);
    }
    found.sort_by_key(|r| std::cmp::Reverse(r.id));
    found.dedup_by_key(|r| r.id);
    Ok(found)
}
