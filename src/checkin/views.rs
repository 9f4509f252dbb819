//! What coordinators and members are shown of a check-in.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::DbConnection;
use crate::domain::{Assurance, CheckinMethod, CheckinReview};
use crate::error::ApiError;
use crate::schema::{checkins, members};

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckinView {
    pub id: i64,
    pub assignment_id: i64,
    pub member_id: i64,
    pub member_name: String,
    pub venue_id: i64,
    pub shift_id: i64,
    pub checked_in_at: DateTime<Utc>,
    pub method: CheckinMethod,
    pub assurance: Assurance,
    pub late: bool,
    pub offline: bool,
    pub late_upload: bool,
    pub checked_out_at: Option<DateTime<Utc>>,
    /// Minutes between check-in and check-out.
    pub duration_minutes: Option<i64>,
    pub manual_reason: Option<String>,
    /// A check-in uploaded offline: `pending` until a coordinator of the venue confirms or
    /// refuses it (a refused one no longer counts). `null` for live and manual check-ins.
    pub review: Option<CheckinReview>,
    /// When the review was decided, and the coordinator's note or reason.
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = checkins)]
pub struct CheckinRow {
    id: i64,
    assignment_id: i64,
    pub member_id: i64,
    #[diesel(select_expression = members::name)]
    member_name: String,
    pub venue_id: i64,
    shift_id: i64,
    checked_in_at: NaiveDateTime,
    method: CheckinMethod,
    assurance: Assurance,
    late: bool,
    offline: bool,
    late_upload: bool,
    checked_out_at: Option<NaiveDateTime>,
    manual_reason: Option<String>,
    pub review: Option<CheckinReview>,
    reviewed_at: Option<NaiveDateTime>,
    review_note: Option<String>,
    pub code_step: Option<i64>,
}

impl From<CheckinRow> for CheckinView {
    fn from(r: CheckinRow) -> Self {
        Self {
            duration_minutes: r.checked_out_at.map(|out| (out - r.checked_in_at).num_minutes()),
            id: r.id,
            assignment_id: r.assignment_id,
            member_id: r.member_id,
            member_name: r.member_name,
            venue_id: r.venue_id,
            shift_id: r.shift_id,
            checked_in_at: r.checked_in_at.and_utc(),
            method: r.method,
            assurance: r.assurance,
            late: r.late,
            offline: r.offline,
            late_upload: r.late_upload,
            checked_out_at: r.checked_out_at.map(|t| t.and_utc()),
            manual_reason: r.manual_reason,
            review: r.review,
            reviewed_at: r.reviewed_at.map(|t| t.and_utc()),
            review_note: r.review_note,
        }
    }
}

/// One check-in of the committee, with its member's name; 404 otherwise.
pub fn find(conn: &mut DbConnection, committee_id: i64, id: i64) -> Result<CheckinRow, ApiError> {
    Ok(checkins::table
        .inner_join(members::table)
        .filter(checkins::committee_id.eq(committee_id).and(checkins::id.eq(id)))
        .select(CheckinRow::as_select())
        .first(conn)?)
}

pub fn checkin(conn: &mut DbConnection, committee_id: i64, id: i64) -> Result<CheckinView, ApiError> {
    find(conn, committee_id, id).map(CheckinView::from)
}
