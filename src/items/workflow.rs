//! What can happen to an item, for whoever does it (coordinator, member on duty, handling
//! unit, resident, the worker). Each step checks the state machine, changes the row with a
//! condition on the state it saw (so two racing steps cannot both apply), writes the
//! timeline event and queues any notification, all in the caller's transaction.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::store::{self, Actor, Event, ItemRow};
use crate::auth::Coordinator;
use crate::auth::tokens::{random_token, sha256_hex};
use crate::db::DbConnection;
use crate::domain::{CommitteeSettings, Difficulty, Importance, ItemAction, ItemState, Resolution, Satisfaction, Tier};
use crate::error::{ApiError, ErrorCode, FieldChecks};
use crate::schema::{handling_units, items, referrals};

/// What an item may carry, in characters: a resident's text, its topic, a note or answer.
pub const MAX_BODY_CHARS: usize = 2000;
pub const MAX_TOPIC_CHARS: usize = 30;
pub const MAX_NOTE_CHARS: usize = 2000;

/// Free text people write (a note, a reason, an answer), checked into `checks`: paragraphs
/// are kept (CRLF as LF); other control characters are refused.
pub fn text(checks: &mut FieldChecks, field: &str, raw: &str, max: usize) -> Option<String> {
    checks.check(field, crate::domain::bounded_paragraphs(raw, max))
}

/// Optional free text: `None` when blank, else checked like any text field.
pub fn optional_text(checks: &mut FieldChecks, field: &str, raw: Option<&str>, max: usize) -> Option<String> {
    raw.filter(|s| !s.trim().is_empty()).and_then(|s| text(checks, field, s, max))
}

/// The committee's rules and time zone, which every deadline needs.
pub struct CommitteeRules {
    pub settings: CommitteeSettings,
    pub tz: chrono_tz::Tz,
}

impl CommitteeRules {
    pub fn load(conn: &mut DbConnection, committee_id: i64) -> Result<Self, ApiError> {
        Ok(Self {
            settings: crate::committee::load_settings(conn, committee_id)?,
            tz: crate::committee::timezone(conn, committee_id)?,
        })
    }
}

fn invalid(item: &ItemRow, action: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidTransition)
        .with_detail(format!("cannot {action} an item that is {}", item.state.as_str()))
}

/// The state after `action`, or 409 `invalid_transition`.
fn next_state(item: &ItemRow, action: ItemAction, name: &str) -> Result<ItemState, ApiError> {
    action.next_state(item.state).ok_or_else(|| invalid(item, name))
}

/// Moves the row from the state it was read in; 409 if someone else moved it meanwhile.
fn move_state(conn: &mut DbConnection, item: &ItemRow, to: ItemState, now: NaiveDateTime) -> Result<(), ApiError> {
    let changed = diesel::update(items::table.filter(items::id.eq(item.id).and(items::state.eq(&item.state))))
        .set((items::state.eq(to.as_str()), items::updated_at.eq(now)))
        .execute(conn)?;
    if changed == 0 {
        return Err(ApiError::new(ErrorCode::InvalidTransition).with_detail("the item changed meanwhile; reload it"));
    }
    Ok(())
}

/// `n` working days after `from` on the committee's calendar.
pub fn working_days_after(
    conn: &mut DbConnection,
    committee_id: i64,
    from: NaiveDate,
    n: u32,
) -> Result<NaiveDate, ApiError> {
    // Generous horizon: 250 working days fit in well under two years.
    let calendar = crate::calendar::store::working_days(conn, committee_id, from, from + Duration::days(730))?;
    calendar
        .add_working_days(from, n)
        .ok_or_else(|| ApiError::unexpected(anyhow::anyhow!("deadline beyond the calendar range")))
}

pub struct Triage<'a> {
    pub importance: Importance,
    pub difficulty: Difficulty,
    /// A tier other than the matrix's, with the reason it is needed.
    pub override_tier: Option<(Tier, &'a str)>,
    pub note: Option<&'a str>,
}

/// Classifies the item: the matrix gives the tier (or the coordinator overrides it, with a
/// reason); the deadline is the tier's working days counted from the day it was received.
pub fn triage(
    conn: &mut DbConnection,
    item: &ItemRow,
    actor: Actor,
    triage: Triage<'_>,
    rules: &CommitteeRules,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let to = next_state(item, ItemAction::Triage, "triage")?;
    let matrix_tier = rules.settings.triage_matrix.tier(triage.importance, triage.difficulty);
    let (tier, reason) = match triage.override_tier {
        Some((tier, reason)) if tier != matrix_tier => (tier, Some(reason)),
        _ => (matrix_tier, None),
    };
    let days = rules.settings.tier_deadline_working_days[usize::from(tier.get() - 1)];
    // A reopened item gets a fresh deadline from the day it was reopened.
    let start = if item.state == ItemState::Reopened { now } else { item.created_at };
    let due_on = working_days_after(conn, item.committee_id, crate::committee::local_date(rules.tz, start), days)?;
    move_state(conn, item, to, now)?;
    diesel::update(items::table.find(item.id))
        .set((
            items::importance.eq(triage.importance.as_str()),
            items::difficulty.eq(triage.difficulty.as_str()),
            items::tier.eq(i32::from(tier.get())),
            items::tier_override_reason.eq(reason),
            items::due_on.eq(due_on),
            items::escalation_level.eq(0),
        ))
        .execute(conn)?;
    let mut note = format!(
        "{}×{} → {}级 {}，{} 前办理",
        triage.importance.as_str(),
        triage.difficulty.as_str(),
        tier.get(),
        tier.label_zh(),
        due_on
    );
    if let Some(reason) = reason {
        note.push_str(&format!("（调整分级，矩阵为{}级：{reason}）", matrix_tier.get()));
    }
    if let Some(extra) = triage.note {
        note.push_str(&format!("；{extra}"));
    }
    store::add_event(
        conn,
        item,
        actor,
        Event { action: "triage", from: Some(item.state), to: Some(to), note: Some(&note), public: false },
        now,
    )
}

#[derive(Serialize)]
struct ReferredNotice<'a> {
    item_id: i64,
    tracking_code: &'a str,
    handling_unit_id: i64,
    handling_unit: &'a str,
    contact: Option<&'a str>,
    /// Path of the unit's secret page, to be prefixed with the public URL.
    link_path: String,
    due_on: Option<NaiveDate>,
}

/// Refers the item to a handling unit; returns the secret token of its link (shown once).
/// An earlier referral's link stops working.
pub fn refer(
    conn: &mut DbConnection,
    item: &ItemRow,
    member_id: i64,
    handling_unit_id: i64,
    note: Option<&str>,
    now: NaiveDateTime,
) -> Result<String, ApiError> {
    let to = next_state(item, ItemAction::Refer, "refer")?;
    let unit: Option<(String, Option<String>, bool)> = handling_units::table
        .filter(handling_units::committee_id.eq(item.committee_id).and(handling_units::id.eq(handling_unit_id)))
        .select((handling_units::name, handling_units::contact, handling_units::active))
        .first(conn)
        .optional()?;
    let (unit_name, contact) = match unit {
        Some((name, contact, true)) => (name, contact),
        Some(_) => {
            return Err(ApiError::field("handling_unit_id", "inactive", "this handling unit is no longer active"));
        }
        None => return Err(ApiError::field("handling_unit_id", "not_found", "no such handling unit")),
    };
    move_state(conn, item, to, now)?;
    diesel::update(referrals::table.filter(referrals::item_id.eq(item.id).and(referrals::revoked_at.is_null())))
        .set(referrals::revoked_at.eq(now))
        .execute(conn)?;
    let token = random_token();
    diesel::insert_into(referrals::table)
        .values((
            referrals::committee_id.eq(item.committee_id),
            referrals::item_id.eq(item.id),
            referrals::handling_unit_id.eq(handling_unit_id),
            referrals::token_hash.eq(sha256_hex(&token)),
            referrals::note.eq(note),
            referrals::created_by.eq(member_id),
            referrals::created_at.eq(now),
        ))
        .execute(conn)?;
    diesel::update(items::table.find(item.id)).set(items::handling_unit_id.eq(handling_unit_id)).execute(conn)?;
    let event_note = match note {
        Some(n) => format!("转交 {unit_name}：{n}"),
        None => format!("转交 {unit_name}"),
    };
    store::add_event(
        conn,
        item,
        Actor::Member(member_id),
        Event { action: "refer", from: Some(item.state), to: Some(to), note: Some(&event_note), public: false },
        now,
    )?;
    crate::outbox::enqueue(
        conn,
        item.committee_id,
        "item.referred",
        None,
        &ReferredNotice {
            item_id: item.id,
            tracking_code: &item.tracking_code,
            handling_unit_id,
            handling_unit: &unit_name,
            contact: contact.as_deref(),
            link_path: format!("/h/{token}"),
            due_on: item.due_on,
        },
        now,
    )?;
    Ok(token)
}

#[derive(Serialize)]
struct ReplyNotice<'a> {
    tracking_code: &'a str,
    /// The resident's phone, for the SMS bridge; only sent when they left one.
    phone: &'a str,
    tracking_path: String,
}

/// Answers the item; the answer is public on the tracking page, and a resident who left a
/// phone number is notified.
pub fn reply(
    conn: &mut DbConnection,
    item: &ItemRow,
    actor: Actor,
    text: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let to = next_state(item, ItemAction::Reply, "reply to")?;
    move_state(conn, item, to, now)?;
    diesel::update(items::table.find(item.id))
        .set((items::answered_at.eq(now), items::first_reply_at.eq(item.first_reply_at.unwrap_or(now))))
        .execute(conn)?;
    if let Actor::HandlingUnit(unit_id) = actor {
        diesel::update(
            referrals::table.filter(
                referrals::item_id
                    .eq(item.id)
                    .and(referrals::handling_unit_id.eq(unit_id))
                    .and(referrals::revoked_at.is_null()),
            ),
        )
        .set(referrals::replied_at.eq(now))
        .execute(conn)?;
    }
    store::add_event(
        conn,
        item,
        actor,
        Event { action: "reply", from: Some(item.state), to: Some(to), note: Some(text), public: true },
        now,
    )?;
    if let Some(phone) = &item.resident_phone {
        crate::outbox::enqueue(
            conn,
            item.committee_id,
            "item.replied",
            None,
            &ReplyNotice {
                tracking_code: &item.tracking_code,
                phone,
                tracking_path: format!("/r/t/{}", item.tracking_code),
            },
            now,
        )?;
    }
    Ok(())
}

/// Who closes an item: a coordinator of its venue (or an admin), who closes whatever the
/// state machine allows, or a member, who closes only what the workflow hands them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closer {
    Coordinator(i64),
    Member(i64),
}

impl Closer {
    fn member_id(self) -> i64 {
        match self {
            Closer::Coordinator(id) | Closer::Member(id) => id,
        }
    }
}

/// Whether a member may close the item themselves ([`crate::domain::member_may_close`]): a
/// consultation whose standing answer is theirs, or a tier 1 item they took or recorded.
pub fn member_may_close(conn: &mut DbConnection, item: &ItemRow, member_id: i64) -> Result<bool, ApiError> {
    let holds_it = item.taken_by == Some(member_id) || item.recorded_by == Some(member_id);
    let answered_by_them = item.state == ItemState::Replied && store::last_reply_by(conn, item.id)? == Some(member_id);
    Ok(crate::domain::member_may_close(item.kind, item.state, item.tier, answered_by_them, holds_it))
}

/// Closes the item with a resolution. Tier 3–4 items that were dealt with get their
/// follow-up review (回头看) date. A member closing anything else than the workflow hands
/// them gets 403 `close_needs_coordinator`.
// Each argument is part of the closing the timeline records; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn close(
    conn: &mut DbConnection,
    item: &ItemRow,
    closer: Closer,
    resolution: Resolution,
    note: Option<&str>,
    rules: &CommitteeRules,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    if let Closer::Member(member_id) = closer
        && !member_may_close(conn, item, member_id)?
    {
        return Err(ErrorCode::CloseNeedsCoordinator.into());
    }
    let member_id = closer.member_id();
    let to = next_state(item, ItemAction::Close(resolution), "close")?;
    let follow_up_on = match item.tier {
        Some(tier) if tier.gets_follow_up() && !resolution.needs_no_answer() => Some(working_days_after(
            conn,
            item.committee_id,
            crate::committee::local_date(rules.tz, now),
            rules.settings.follow_up_working_days,
        )?),
        _ => None,
    };
    move_state(conn, item, to, now)?;
    diesel::update(items::table.find(item.id))
        .set((
            items::resolution.eq(resolution.as_str()),
            items::closed_at.eq(now),
            items::answered_at.eq(now),
            items::follow_up_on.eq(follow_up_on),
            items::follow_up_done_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    let text = match note {
        Some(n) => format!("{}：{n}", resolution.label_zh()),
        None => resolution.label_zh().to_owned(),
    };
    store::add_event(
        conn,
        item,
        Actor::Member(member_id),
        Event { action: "close", from: Some(item.state), to: Some(to), note: Some(&text), public: true },
        now,
    )
}

/// Reopens an answered or closed item. A resident may do it once, within the committee's
/// window after the answer; a coordinator may always, with a reason.
pub fn reopen(
    conn: &mut DbConnection,
    item: &ItemRow,
    actor: Actor,
    reason: Option<&str>,
    rules: &CommitteeRules,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let to = next_state(item, ItemAction::Reopen, "reopen")?;
    if actor == Actor::Resident {
        if item.resident_reopened {
            return Err(ErrorCode::ReopenLimitReached.into());
        }
        let answered = item.answered_at.unwrap_or(item.updated_at);
        if now > answered + Duration::days(i64::from(rules.settings.reopen_window_days)) {
            return Err(ApiError::new(ErrorCode::ReopenWindowClosed).with_detail(format!(
                "an item can be reopened within {} days of its answer",
                rules.settings.reopen_window_days
            )));
        }
    }
    // The deadline runs again from today, for the tier the item already has.
    let due_on = match item.tier {
        Some(t) => {
            let days = rules.settings.tier_deadline_working_days[usize::from(t.get() - 1)];
            Some(working_days_after(conn, item.committee_id, crate::committee::local_date(rules.tz, now), days)?)
        }
        None => None,
    };
    move_state(conn, item, to, now)?;
    diesel::update(items::table.find(item.id))
        .set((
            items::resolution.eq(None::<String>),
            items::closed_at.eq(None::<NaiveDateTime>),
            items::follow_up_on.eq(None::<NaiveDate>),
            items::due_on.eq(due_on),
            items::escalation_level.eq(0),
            items::resident_reopened.eq(item.resident_reopened || actor == Actor::Resident),
        ))
        .execute(conn)?;
    if actor == Actor::Resident {
        diesel::update(items::table.find(item.id))
            .set(items::satisfaction.eq(Satisfaction::Unsatisfied.as_str()))
            .execute(conn)?;
    }
    store::add_event(
        conn,
        item,
        actor,
        Event { action: "reopen", from: Some(item.state), to: Some(to), note: reason, public: true },
        now,
    )
}

/// The resident's rating of the answer.
pub fn rate(
    conn: &mut DbConnection,
    item: &ItemRow,
    satisfaction: Satisfaction,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    if !matches!(item.state, ItemState::Replied | ItemState::Closed) {
        return Err(invalid(item, "rate"));
    }
    diesel::update(items::table.find(item.id))
        .set((items::satisfaction.eq(satisfaction.as_str()), items::updated_at.eq(now)))
        .execute(conn)?;
    store::add_event(
        conn,
        item,
        Actor::Resident,
        Event { action: "rate", from: None, to: None, note: Some(satisfaction.label_zh()), public: true },
        now,
    )
}

/// A member on duty takes an item from the live inbox, so colleagues see it is handled.
pub fn take(conn: &mut DbConnection, item: &ItemRow, member_id: i64, now: NaiveDateTime) -> Result<(), ApiError> {
    if !item.state.awaits_answer() {
        return Err(invalid(item, "take"));
    }
    if item.taken_by == Some(member_id) {
        return Ok(());
    }
    let changed = diesel::update(items::table.filter(items::id.eq(item.id).and(items::taken_by.is_null())))
        .set((items::taken_by.eq(member_id), items::updated_at.eq(now)))
        .execute(conn)?;
    if changed == 0 {
        return Err(ErrorCode::ItemTaken.into());
    }
    store::add_event(
        conn,
        item,
        Actor::Member(member_id),
        Event { action: "take", from: None, to: None, note: None, public: false },
        now,
    )
}

/// Records the follow-up review (回头看) of a closed tier 3–4 item.
pub fn follow_up(
    conn: &mut DbConnection,
    item: &ItemRow,
    member_id: i64,
    note: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    if item.follow_up_on.is_none() || item.follow_up_done_at.is_some() || item.state != ItemState::Closed {
        return Err(invalid(item, "record the follow-up of"));
    }
    diesel::update(items::table.find(item.id))
        .set((items::follow_up_done_at.eq(now), items::updated_at.eq(now)))
        .execute(conn)?;
    store::add_event(
        conn,
        item,
        Actor::Member(member_id),
        Event { action: "follow_up", from: None, to: None, note: Some(note), public: false },
        now,
    )
}

/// Loads the item for a coordinator: 404 outside the committee, 403 outside their venues.
pub fn coordinated_item(conn: &mut DbConnection, c: &Coordinator, id: i64) -> Result<ItemRow, ApiError> {
    let item = store::find(conn, c.user.committee_id, id)?;
    c.scope.check(item.venue_id)?;
    Ok(item)
}

/// A coordinator's triage, its free text already checked for length.
pub struct TriageChoice<'a> {
    pub importance: Importance,
    pub difficulty: Difficulty,
    /// A tier other than the matrix gives; needs `reason`.
    pub tier: Option<Tier>,
    pub reason: Option<&'a str>,
    pub note: Option<&'a str>,
}

/// Triages an item of the coordinator's venues with fields already checked: the matrix's tier,
/// or an override that must carry a reason. The item as it now stands. Shared by the API and
/// the console; runs inside the caller's transaction.
pub fn triage_by_coordinator(
    conn: &mut DbConnection,
    coordinator: &Coordinator,
    id: i64,
    choice: TriageChoice<'_>,
    now: NaiveDateTime,
) -> Result<ItemRow, ApiError> {
    let TriageChoice { importance, difficulty, tier, reason, note } = choice;
    let item = coordinated_item(conn, coordinator, id)?;
    let rules = CommitteeRules::load(conn, item.committee_id)?;
    let matrix_tier = rules.settings.triage_matrix.tier(importance, difficulty);
    let override_tier = match (tier, reason) {
        (Some(t), Some(r)) if t != matrix_tier => Some((t, r)),
        (Some(t), None) if t != matrix_tier => {
            return Err(ApiError::field("reason", "required", "overriding the matrix's tier needs a reason"));
        }
        _ => None,
    };
    let choice = Triage { importance, difficulty, override_tier, note };
    triage(conn, &item, Actor::Member(coordinator.user.member_id), choice, &rules, now)?;
    store::find(conn, item.committee_id, id)
}
