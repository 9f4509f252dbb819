//! What roster reads return.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{GeneratedRoster, ShortfallReason};
use crate::db::DbConnection;
use crate::domain::{AssignmentRole, AssignmentSource, RosterStatus};
use crate::error::ApiError;
use crate::schema::{assignments, members, rosters, shifts, venues};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ShortfallView {
    /// The short shift; absent in a generation's own answer, before the shifts are stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift_id: Option<i64>,
    pub template_id: i64,
    pub venue_id: i64,
    pub date: NaiveDate,
    /// Minimum head count.
    pub needed: u32,
    pub got: u32,
    /// Why: at generation `pool_too_small`, `members_on_leave`, `overlap` or `monthly_limit`;
    /// since then `members_on_leave` (an approved leave), `member_removed` (a removal or a
    /// swap) or `member_inactive` (a deactivated member still on the shift).
    pub reasons: Vec<ShortfallReasonView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ShortfallReasonView {
    pub code: String,
    /// How many members it concerned.
    pub members: u32,
}

pub fn shortfall_views(generated: &GeneratedRoster) -> Vec<ShortfallView> {
    generated
        .shortfalls
        .iter()
        .map(|s| ShortfallView {
            shift_id: None,
            template_id: s.shift.template_id,
            venue_id: s.venue_id,
            date: s.shift.date,
            needed: s.needed,
            got: s.got,
            reasons: s
                .reasons
                .iter()
                .map(|r| {
                    let (code, members) = match *r {
                        ShortfallReason::PoolTooSmall { active_members } => ("pool_too_small", active_members),
                        ShortfallReason::MembersOnLeave(n) => ("members_on_leave", n),
                        ShortfallReason::Overlap(n) => ("overlap", n),
                        ShortfallReason::MonthlyLimit(n) => ("monthly_limit", n),
                    };
                    ShortfallReasonView { code: code.to_owned(), members }
                })
                .collect(),
        })
        .collect()
}

#[derive(Debug, Clone, Serialize, ToSchema, Queryable)]
pub struct AssignmentView {
    pub id: i64,
    pub member_id: i64,
    pub member_name: String,
    pub role: AssignmentRole,
    pub source: AssignmentSource,
    pub locked: bool,
    /// Why this member is on this shift.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShiftView {
    pub id: i64,
    pub roster_id: i64,
    pub template_id: i64,
    pub venue_id: i64,
    pub venue_name: String,
    /// Local date in the committee's time zone.
    pub date: NaiveDate,
    #[schema(value_type = String, example = "08:30:00")]
    pub start_time: NaiveTime,
    #[schema(value_type = String, example = "12:00:00")]
    pub end_time: NaiveTime,
    pub starts_at: chrono::DateTime<chrono::Utc>,
    pub ends_at: chrono::DateTime<chrono::Utc>,
    pub head_min: i32,
    pub head_max: i32,
    pub assignments: Vec<AssignmentView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RosterView {
    pub id: i64,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub status: RosterStatus,
    /// Starts at 1; every change after publishing adds one.
    pub version: i32,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The shifts short of their minimum now (after leave, swaps, removals and
    /// deactivations), soonest first.
    pub shortfalls: Vec<ShortfallView>,
    /// What the reader must know about how the roster was made, e.g. `calendar_missing`.
    pub warnings: Vec<RosterWarning>,
    pub shifts: Vec<ShiftView>,
}

/// A caveat of a generated roster.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RosterWarning {
    /// `calendar_missing`: the year had no official working-day calendar when the roster was
    /// generated, so only weekends counted as days off (holidays and 调休 were not applied).
    pub code: &'static str,
    pub year: i32,
    /// The warning in Chinese, to show as it is.
    pub message: String,
}

impl RosterWarning {
    pub fn calendar_missing(year: i32) -> Self {
        Self {
            code: "calendar_missing",
            year,
            message: format!("{year} 年节假日安排尚未设置：本排班只按周末休息计算，法定节假日和调休未计入"),
        }
    }

    /// The warnings of the years stored with a roster (`2027,2028`).
    pub fn from_storage(years: &str) -> Vec<Self> {
        years.split(',').filter_map(|y| y.trim().parse().ok()).map(Self::calendar_missing).collect()
    }

    pub fn to_storage(years: &[i32]) -> String {
        years.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
    }
}

#[derive(Debug, Clone, Queryable)]
pub struct ShiftRow {
    pub id: i64,
    pub roster_id: i64,
    pub template_id: i64,
    pub venue_id: i64,
    pub venue_name: String,
    pub local_date: NaiveDate,
    pub start_time: NaiveTime,
    pub end_time: NaiveTime,
    pub starts_at: chrono::NaiveDateTime,
    pub ends_at: chrono::NaiveDateTime,
    pub head_min: i32,
    pub head_max: i32,
}

pub type ShiftColumns = (
    shifts::id,
    shifts::roster_id,
    shifts::template_id,
    shifts::venue_id,
    venues::name,
    shifts::local_date,
    shifts::start_time,
    shifts::end_time,
    shifts::starts_at,
    shifts::ends_at,
    shifts::head_min,
    shifts::head_max,
);

pub const SHIFT_COLUMNS: ShiftColumns = (
    shifts::id,
    shifts::roster_id,
    shifts::template_id,
    shifts::venue_id,
    venues::name,
    shifts::local_date,
    shifts::start_time,
    shifts::end_time,
    shifts::starts_at,
    shifts::ends_at,
    shifts::head_min,
    shifts::head_max,
);

/// Active assignments (with member names) of the given shifts, grouped by shift.
pub fn assignments_of(
    conn: &mut DbConnection,
    shift_ids: &[i64],
) -> Result<BTreeMap<i64, Vec<AssignmentView>>, ApiError> {
    let mut grouped: BTreeMap<i64, Vec<AssignmentView>> = BTreeMap::new();
    for chunk in shift_ids.chunks(500) {
        let rows: Vec<(i64, AssignmentView)> = assignments::table
            .inner_join(members::table)
            .filter(assignments::shift_id.eq_any(chunk))
            .filter(assignments::removed_at.is_null())
            .order((assignments::shift_id, assignments::role, assignments::member_id))
            .select((
                assignments::shift_id,
                (
                    assignments::id,
                    assignments::member_id,
                    members::name,
                    assignments::role,
                    assignments::source,
                    assignments::locked,
                    assignments::reason,
                ),
            ))
            .load(conn)?;
        for (shift_id, view) in rows {
            grouped.entry(shift_id).or_default().push(view);
        }
    }
    Ok(grouped)
}

pub fn shift_views(conn: &mut DbConnection, rows: Vec<ShiftRow>) -> Result<Vec<ShiftView>, ApiError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut grouped = assignments_of(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| ShiftView {
            assignments: grouped.remove(&r.id).unwrap_or_default(),
            id: r.id,
            roster_id: r.roster_id,
            template_id: r.template_id,
            venue_id: r.venue_id,
            venue_name: r.venue_name,
            date: r.local_date,
            start_time: r.start_time,
            end_time: r.end_time,
            starts_at: r.starts_at.and_utc(),
            ends_at: r.ends_at.and_utc(),
            head_min: r.head_min,
            head_max: r.head_max,
        })
        .collect())
}

pub struct RosterHeader {
    pub id: i64,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub status: RosterStatus,
    pub version: i32,
    pub shortfalls: String,
    pub calendar_missing_years: String,
    pub published_at: Option<chrono::NaiveDateTime>,
    pub updated_at: chrono::NaiveDateTime,
}

pub fn roster_header(conn: &mut DbConnection, committee_id: i64, id: i64) -> Result<RosterHeader, ApiError> {
    let (id, period_from, period_to, status, version, shortfalls, calendar_missing_years, published_at, updated_at) =
        rosters::table
            .filter(rosters::committee_id.eq(committee_id).and(rosters::id.eq(id)))
            .select((
                rosters::id,
                rosters::period_from,
                rosters::period_to,
                rosters::status,
                rosters::version,
                rosters::shortfalls,
                rosters::calendar_missing_years,
                rosters::published_at,
                rosters::updated_at,
            ))
            .first::<(
                i64,
                NaiveDate,
                NaiveDate,
                RosterStatus,
                i32,
                String,
                String,
                Option<chrono::NaiveDateTime>,
                chrono::NaiveDateTime,
            )>(conn)?;
    Ok(RosterHeader {
        id,
        period_from,
        period_to,
        status,
        version,
        shortfalls,
        calendar_missing_years,
        published_at,
        updated_at,
    })
}

impl RosterHeader {
    /// Changes whenever the roster or any of its assignments changes (both bump `updated_at`).
    pub fn etag(&self) -> String {
        format!("\"roster-{}-v{}-{}\"", self.id, self.version, self.updated_at.and_utc().timestamp_micros())
    }
}

/// The whole roster, optionally restricted to some venues (a coordinator's scope).
pub fn roster_view(
    conn: &mut DbConnection,
    header: RosterHeader,
    venue_filter: Option<&[i64]>,
) -> Result<RosterView, ApiError> {
    let mut query = shifts::table.inner_join(venues::table).filter(shifts::roster_id.eq(header.id)).into_boxed();
    if let Some(v) = venue_filter {
        query = query.filter(shifts::venue_id.eq_any(v.to_vec()));
    }
    let rows: Vec<ShiftRow> =
        query.order((shifts::local_date, shifts::start_time, shifts::venue_id)).select(SHIFT_COLUMNS).load(conn)?;
    let shortfalls = super::shortfalls::current(conn, &header, venue_filter)?;
    Ok(RosterView {
        id: header.id,
        period_from: header.period_from,
        period_to: header.period_to,
        status: header.status,
        version: header.version,
        published_at: header.published_at.map(|p| p.and_utc()),
        shortfalls,
        warnings: RosterWarning::from_storage(&header.calendar_missing_years),
        shifts: shift_views(conn, rows)?,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Duty {
    pub assignment_id: i64,
    pub shift_id: i64,
    pub venue_id: i64,
    pub venue_name: String,
    /// Where to go: the venue's street address, or its township when it has none yet.
    pub venue_address: Option<String>,
    pub date: NaiveDate,
    #[schema(value_type = String, example = "08:30:00")]
    pub start_time: chrono::NaiveTime,
    #[schema(value_type = String, example = "12:00:00")]
    pub end_time: chrono::NaiveTime,
    pub starts_at: chrono::DateTime<chrono::Utc>,
    pub ends_at: chrono::DateTime<chrono::Utc>,
    pub role: AssignmentRole,
    pub reason: String,
    /// Everyone on the shift, you included.
    pub team: Vec<AssignmentView>,
}

/// The member's published duties whose local date is in `[from, to]`, soonest first, each
/// with its team. `GET /api/v1/me/duties` and the member pages' 首页.
pub fn member_duties(
    conn: &mut DbConnection,
    committee_id: i64,
    member_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Duty>, ApiError> {
    type Row = (i64, i64, AssignmentRole, String, Option<String>, Option<String>, ShiftRow);
    let rows: Vec<Row> = assignments::table
        .inner_join(shifts::table.inner_join(rosters::table).inner_join(venues::table))
        .filter(assignments::committee_id.eq(committee_id))
        .filter(assignments::member_id.eq(member_id))
        .filter(crate::roster::duties::live())
        .filter(shifts::local_date.between(from, to))
        .order((shifts::starts_at, shifts::id))
        .select((
            assignments::id,
            shifts::id,
            assignments::role,
            assignments::reason,
            venues::address,
            venues::township,
            SHIFT_COLUMNS,
        ))
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let mut teams = assignments_of(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|(assignment_id, shift_id, role, reason, address, township, s)| Duty {
            assignment_id,
            shift_id,
            venue_id: s.venue_id,
            venue_name: s.venue_name,
            venue_address: address.or(township),
            date: s.local_date,
            start_time: s.start_time,
            end_time: s.end_time,
            starts_at: s.starts_at.and_utc(),
            ends_at: s.ends_at.and_utc(),
            role,
            reason,
            team: teams.remove(&shift_id).unwrap_or_default(),
        })
        .collect())
}

/// Where and when a duty is and whose it is, for naming it in a list of requests.
pub struct DutyLabel {
    pub member_id: i64,
    pub member_name: String,
    pub venue_name: String,
    pub date: NaiveDate,
    pub start_time: NaiveTime,
    pub end_time: NaiveTime,
}

/// The duties (by assignment id, removed ones too) a list of swap requests is about.
pub fn duty_labels(conn: &mut DbConnection, assignment_ids: &[i64]) -> Result<BTreeMap<i64, DutyLabel>, ApiError> {
    let mut labels = BTreeMap::new();
    for chunk in assignment_ids.chunks(500) {
        let rows: Vec<(i64, i64, String, String, NaiveDate, NaiveTime, NaiveTime)> = assignments::table
            .inner_join(members::table)
            .inner_join(shifts::table.inner_join(venues::table))
            .filter(assignments::id.eq_any(chunk))
            .select((
                assignments::id,
                assignments::member_id,
                members::name,
                venues::name,
                shifts::local_date,
                shifts::start_time,
                shifts::end_time,
            ))
            .load(conn)?;
        for (id, member_id, member_name, venue_name, date, start_time, end_time) in rows {
            labels.insert(id, DutyLabel { member_id, member_name, venue_name, date, start_time, end_time });
        }
    }
    Ok(labels)
}
