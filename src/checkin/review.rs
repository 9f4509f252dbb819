//! Offline check-ins wait for a coordinator. A scan uploaded from the phone's queue is judged
//! at the scan time the phone claims, so a photographed code forwarded later would pass the
//! code's own checks: such a check-in is recorded at low assurance, counts as attended but
//! marked unconfirmed, and is listed here for a coordinator of the venue to confirm or refuse.
//! One code step that several members' offline uploads used (one photo passed around) is
//! flagged. Runs inside the caller's transaction.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::views::{self, CheckinRow, CheckinView};
use crate::auth::{Coordinator, VenueScope};
use crate::db::DbConnection;
use crate::domain::CheckinReview;
use crate::error::{ApiError, ErrorCode};
use crate::pagination::PageRequest;
use crate::schema::{checkins, members};

/// A check-in awaiting a coordinator's review.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnconfirmedCheckin {
    pub checkin: CheckinView,
    /// Members whose offline uploads used the same display code step at this venue (this
    /// member included); 0 for a printed poster's code, which has no step.
    pub members_on_code: i64,
    /// More than one member uploaded offline with this one code step: likely one photo of the
    /// screen passed around. Check with the members before confirming.
    pub shared_code: bool,
}

/// The check-ins of the coordinator's venues (or `venue_id`, already checked to be in scope)
/// awaiting review, oldest first, a page at a time.
pub fn unconfirmed(
    conn: &mut DbConnection,
    committee_id: i64,
    scope: &VenueScope,
    venue_id: Option<i64>,
    page: PageRequest,
) -> Result<Vec<UnconfirmedCheckin>, ApiError> {
    let mut q = checkins::table
        .inner_join(members::table)
        .filter(checkins::committee_id.eq(committee_id))
        .filter(checkins::review.eq(CheckinReview::Pending))
        .filter(checkins::id.gt(page.after_id))
        .into_boxed();
    if let Some(v) = venue_id {
        q = q.filter(checkins::venue_id.eq(v));
    }
    if let VenueScope::Venues(ids) = scope {
        q = q.filter(checkins::venue_id.eq_any(ids.iter().copied().collect::<Vec<_>>()));
    }
    let rows: Vec<CheckinRow> =
        q.order(checkins::id).limit(page.limit + 1).select(CheckinRow::as_select()).load(conn)?;
    // Who else uploaded offline with each (venue, step) seen on the page.
    let steps: BTreeSet<i64> = rows.iter().filter_map(|r| r.code_step).collect();
    let mut on_code: BTreeMap<(i64, i64), BTreeSet<i64>> = BTreeMap::new();
    let steps: Vec<i64> = steps.into_iter().collect();
    for chunk in steps.chunks(500) {
        let found: Vec<(i64, Option<i64>, i64)> = checkins::table
            .filter(checkins::committee_id.eq(committee_id))
            .filter(checkins::offline.eq(true))
            .filter(checkins::code_step.eq_any(chunk))
            .select((checkins::venue_id, checkins::code_step, checkins::member_id))
            .load(conn)?;
        for (venue, step, member) in found {
            if let Some(step) = step {
                on_code.entry((venue, step)).or_default().insert(member);
            }
        }
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let members_on_code = row
                .code_step
                .and_then(|step| on_code.get(&(row.venue_id, step)))
                .map_or(0, |m| i64::try_from(m.len()).unwrap_or(i64::MAX));
            UnconfirmedCheckin { checkin: row.into(), members_on_code, shared_code: members_on_code > 1 }
        })
        .collect())
}

/// A coordinator of the venue confirms (`confirm`) or refuses an offline check-in awaiting
/// review, with an optional note (a refusal's reason is required by the caller); audited.
/// Nobody reviews their own check-in. 404 outside the committee, 403 outside the venues,
/// 409 `invalid_transition` for a check-in that needs no review or was already decided.
pub fn decide(
    conn: &mut DbConnection,
    coordinator: &Coordinator,
    id: i64,
    confirm: bool,
    note: Option<&str>,
    now: NaiveDateTime,
) -> Result<CheckinView, ApiError> {
    let committee_id = coordinator.user.committee_id;
    let row = views::find(conn, committee_id, id)?;
    coordinator.scope.check(row.venue_id)?;
    if row.member_id == coordinator.user.member_id {
        return Err(ApiError::forbidden().with_detail("another coordinator or an admin reviews your own check-in"));
    }
    let Some(review) = row.review else {
        return Err(ApiError::new(ErrorCode::InvalidTransition)
            .with_detail("only check-ins uploaded offline wait for a review"));
    };
    let Some(next) = review.decide(confirm) else {
        return Err(ApiError::new(ErrorCode::InvalidTransition)
            .with_detail(format!("the check-in is already {}", review.as_str())));
    };
    let changed =
        diesel::update(checkins::table.filter(checkins::id.eq(id).and(checkins::review.eq(CheckinReview::Pending))))
            .set((
                checkins::review.eq(next),
                checkins::reviewed_by.eq(coordinator.user.member_id),
                checkins::reviewed_at.eq(now),
                checkins::review_note.eq(note),
            ))
            .execute(conn)?;
    if changed != 1 {
        return Err(ApiError::new(ErrorCode::InvalidTransition).with_detail("the check-in was reviewed meanwhile"));
    }
    let action = if confirm { "checkin.confirm" } else { "checkin.refuse" };
    crate::audit::record(
        conn,
        committee_id,
        Some(coordinator.user.member_id),
        action,
        "checkin",
        Some(id),
        note.unwrap_or(""),
        now,
    )?;
    views::checkin(conn, committee_id, id)
}
