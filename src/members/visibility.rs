//! Who reads which account: one rule for the member list and for one member's read, so the two
//! cannot disagree (issue 17, finding 10: the list hid staff accounts while the single read
//! showed the office's phone and other coordinators' venues).
//!
//! Everyone reads their own account; admins read every account of the committee. A
//! coordinator reads the members homed at the venues they coordinate and the roving pool (the
//! members, 委员, without a home venue) — never a staff account without a home (the office's,
//! other coordinators'), which answers 404 as if it did not exist. Of the accounts they read,
//! a coordinator sees coordinator venues only among their own venues.

use diesel::prelude::*;

use super::store::MemberRow;
use super::views::MemberView;
use crate::auth::VenueScope;
use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode};
use crate::schema::members;

type Backend = <DbConnection as diesel::Connection>::Backend;
pub type BoxedMembers<'a> = members::BoxedQuery<'a, Backend>;

/// Restricts `query` to the accounts a coordinator of `venues` reads.
pub fn readable_within<'a>(query: BoxedMembers<'a>, venues: Vec<i64>) -> BoxedMembers<'a> {
    // Roles are stored as a sorted comma list of known words, so a LIKE on the word is exact.
    query.filter(
        members::home_venue_id.eq_any(venues).or(members::home_venue_id.is_null().and(members::roles.like("%member%"))),
    )
}

/// Checks that `reader` (an account with `scope`) may read `row`: `Ok` or the refusal — 404
/// for an account the list would not show them either, 403 `out_of_scope` for a member homed
/// at another venue, 403 `forbidden` for a member reading someone else.
pub fn check_readable(
    conn: &mut DbConnection,
    reader: i64,
    can_coordinate: bool,
    scope: &VenueScope,
    row: &MemberRow,
) -> Result<(), ApiError> {
    if row.id == reader {
        return Ok(());
    }
    if !can_coordinate {
        return Err(ApiError::forbidden());
    }
    let Some(venues) = scope.ids() else { return Ok(()) };
    let query = members::table.filter(members::committee_id.eq(row.committee_id).and(members::id.eq(row.id)));
    let readable: i64 = readable_within(query.into_boxed(), venues).count().get_result(conn)?;
    match (readable, row.home_venue_id) {
        (1.., _) => Ok(()),
        (_, Some(_)) => Err(ErrorCode::OutOfScope.into()),
        (_, None) => Err(ApiError::not_found()),
    }
}

/// What `reader` with `scope` is shown of accounts they may read: a coordinator learns of
/// others' coordinator venues only those they coordinate themselves.
pub fn shown_to(mut views: Vec<MemberView>, reader: i64, scope: &VenueScope) -> Vec<MemberView> {
    for view in views.iter_mut().filter(|v| v.id != reader) {
        view.coordinator_venue_ids.retain(|v| scope.includes(*v));
    }
    views
}
