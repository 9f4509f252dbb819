//! The worker's pass over deadlines: overdue items are escalated through the outbox, first to
//! the coordinators of their venue, then (some working days later) to the admins; follow-up
//! reviews (回头看) whose date has come are announced. Each step is claimed by a conditional
//! update and a dedupe key, so two workers (or two instances) never send one twice.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::store::{self, Actor, Event, ItemRow};
use super::workflow::{CommitteeRules, working_days_after};
use crate::committee::local_date;
use crate::db::{self, DbConnection};
use crate::domain::ItemState;
use crate::error::ApiError;
use crate::schema::{committees, coordinator_venues, items, members};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    pub escalated_to_coordinators: usize,
    pub escalated_to_admins: usize,
    pub follow_ups_announced: usize,
}

#[derive(Serialize)]
struct OverdueNotice<'a> {
    item_id: i64,
    tracking_code: &'a str,
    venue_id: i64,
    tier: Option<i32>,
    due_on: Option<chrono::NaiveDate>,
    /// 1: the coordinators of the venue; 2: the admins.
    level: i32,
    member_ids: Vec<i64>,
}

#[derive(Serialize)]
struct FollowUpNotice<'a> {
    item_id: i64,
    tracking_code: &'a str,
    venue_id: i64,
    follow_up_on: Option<chrono::NaiveDate>,
    member_ids: Vec<i64>,
}

fn coordinators_of(conn: &mut DbConnection, committee_id: i64, venue_id: i64) -> Result<Vec<i64>, ApiError> {
    let coordinators = coordinator_venues::table
        .filter(coordinator_venues::venue_id.eq(venue_id))
        .select(coordinator_venues::member_id);
    Ok(members::table
        .filter(members::id.eq_any(coordinators))
        .filter(members::committee_id.eq(committee_id).and(members::active.eq(true)))
        .select(members::id)
        .order(members::id)
        .load(conn)?)
}

fn admins_of(conn: &mut DbConnection, committee_id: i64) -> Result<Vec<i64>, ApiError> {
    Ok(members::table
        .filter(members::committee_id.eq(committee_id).and(members::active.eq(true)))
        .filter(members::roles.like("%admin%"))
        .select(members::id)
        .order(members::id)
        .load(conn)?)
}

/// One pass over every committee; each escalation commits on its own.
pub fn run_pass(conn: &mut DbConnection, now: NaiveDateTime) -> Result<PassReport, ApiError> {
    let mut report = PassReport::default();
    let committee_ids: Vec<i64> = committees::table.select(committees::id).order(committees::id).load(conn)?;
    let open: Vec<&str> = ItemState::ALL.iter().filter(|s| s.awaits_answer()).map(|s| s.as_str()).collect();
    for committee_id in committee_ids {
        let rules = CommitteeRules::load(conn, committee_id)?;
        let today = local_date(rules.tz, now);
        let overdue: Vec<ItemRow> = items::table
            .filter(items::committee_id.eq(committee_id))
            .filter(items::state.eq_any(&open))
            .filter(items::due_on.lt(today))
            .filter(items::escalation_level.lt(2))
            .select(ItemRow::as_select())
            .load(conn)?;
        for item in overdue {
            let Some(due_on) = item.due_on else { continue };
            let level = if item.escalation_level == 0 {
                1
            } else {
                let admin_day = working_days_after(
                    conn,
                    committee_id,
                    due_on,
                    rules.settings.escalate_to_admin_after_working_days,
                )?;
                if today <= admin_day {
                    continue;
                }
                2
            };
            if db::write_transaction(conn, |conn| escalate(conn, &item, level, now))? {
                if level == 1 {
                    report.escalated_to_coordinators += 1;
                } else {
                    report.escalated_to_admins += 1;
                }
            }
        }
        let follow_ups: Vec<ItemRow> = items::table
            .filter(items::committee_id.eq(committee_id))
            .filter(items::state.eq(ItemState::Closed.as_str()))
            .filter(items::follow_up_on.le(today))
            .filter(items::follow_up_done_at.is_null())
            .select(ItemRow::as_select())
            .load(conn)?;
        for item in follow_ups {
            if db::write_transaction(conn, |conn| announce_follow_up(conn, &item, now))? {
                report.follow_ups_announced += 1;
            }
        }
    }
    Ok(report)
}

/// Raises the item to `level` unless another worker already did; tells whether this call did.
fn escalate(conn: &mut DbConnection, item: &ItemRow, level: i32, now: NaiveDateTime) -> Result<bool, ApiError> {
    let claimed = diesel::update(
        items::table.filter(items::id.eq(item.id)).filter(items::escalation_level.eq(item.escalation_level)),
    )
    .set(items::escalation_level.eq(level))
    .execute(conn)?;
    if claimed == 0 {
        return Ok(false);
    }
    let member_ids = if level == 1 {
        coordinators_of(conn, item.committee_id, item.venue_id)?
    } else {
        admins_of(conn, item.committee_id)?
    };
    let due = item.due_on.map(|d| d.to_string()).unwrap_or_default();
    let key = format!("item-overdue:{}:{level}:{due}", item.id);
    crate::outbox::enqueue(
        conn,
        item.committee_id,
        "item.overdue",
        Some(&key),
        &OverdueNotice {
            item_id: item.id,
            tracking_code: &item.tracking_code,
            venue_id: item.venue_id,
            tier: item.tier.map(|t| i32::from(t.get())),
            due_on: item.due_on,
            level,
            member_ids,
        },
        now,
    )?;
    let note =
        if level == 1 { "逾期未办结，已提醒联络员" } else { "逾期未办结，已报政协办公室" };
    store::add_event(
        conn,
        item,
        Actor::System,
        Event { action: "escalate", from: None, to: None, note: Some(note), public: false },
        now,
    )?;
    Ok(true)
}

/// Queues the follow-up announcement once per item and date (the dedupe key is the claim).
fn announce_follow_up(conn: &mut DbConnection, item: &ItemRow, now: NaiveDateTime) -> Result<bool, ApiError> {
    let date = item.follow_up_on.map(|d| d.to_string()).unwrap_or_default();
    let member_ids = coordinators_of(conn, item.committee_id, item.venue_id)?;
    crate::outbox::try_enqueue(
        conn,
        item.committee_id,
        "item.follow_up_due",
        Some(&format!("item-follow-up:{}:{date}", item.id)),
        &FollowUpNotice {
            item_id: item.id,
            tracking_code: &item.tracking_code,
            venue_id: item.venue_id,
            follow_up_on: item.follow_up_on,
            member_ids,
        },
        now,
    )
}
