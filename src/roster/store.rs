//! Loading the generator's inputs from the database and storing its output.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;

use super::templates::{self, TemplateRow};
use super::{DutyHistory, GeneratedRoster, GenerationInput, LeaveSpan, MemberProfile};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::schema::{assignments, leave_requests, members, rosters, shift_templates, shifts};

#[derive(Queryable)]
pub struct PoolMember {
    pub id: i64,
    pub home_venue_id: Option<i64>,
    pub standing_committee: bool,
    pub sector: Option<String>,
    pub active: bool,
}

/// Members who can do duties (role `member`), active or not (the generator skips inactive).
pub fn duty_members(conn: &mut DbConnection, committee_id: i64) -> Result<Vec<PoolMember>, ApiError> {
    Ok(members::table
        .filter(members::committee_id.eq(committee_id))
        .filter(members::roles.like("%member%"))
        .order(members::id)
        .select((members::id, members::home_venue_id, members::standing_committee, members::sector, members::active))
        .load(conn)?)
}

pub fn pool_of(row: &TemplateRow, members: &[PoolMember]) -> Vec<i64> {
    members.iter().filter(|m| in_pool(row.pool_venue_id, row.include_roving, m.home_venue_id)).map(|m| m.id).collect()
}

/// Whether `member_id` is in the eligible pool of the shift's template, by the rule of
/// [`pool_of`]: swaps stay within the pool the generator draws from.
pub fn in_pool_of_shift(conn: &mut DbConnection, shift_id: i64, member_id: i64) -> Result<bool, ApiError> {
    let (pool_venue, include_roving): (Option<i64>, bool) = shifts::table
        .inner_join(shift_templates::table)
        .filter(shifts::id.eq(shift_id))
        .select((shift_templates::pool_venue_id, shift_templates::include_roving))
        .first(conn)?;
    let home: Option<i64> = members::table.find(member_id).select(members::home_venue_id).first(conn)?;
    Ok(in_pool(pool_venue, include_roving, home))
}

/// A template's pool: members homed at its pool venue (and the roving pool, members without a
/// home venue, when it includes them); no pool venue means the whole committee.
pub fn in_pool(pool_venue: Option<i64>, include_roving: bool, home: Option<i64>) -> bool {
    match pool_venue {
        None => true,
        Some(v) => home == Some(v) || (include_roving && home.is_none()),
    }
}

/// Everything the generator needs for `[from, to]`: templates (optionally only some venues),
/// members, the calendar around the period, approved leave, and history from published rosters.
pub fn generation_input(
    conn: &mut DbConnection,
    committee_id: i64,
    from: NaiveDate,
    to: NaiveDate,
    venue_ids: Option<&[i64]>,
) -> Result<(GenerationInput, Vec<TemplateRow>), ApiError> {
    let template_rows: Vec<TemplateRow> = templates::active_templates(conn, committee_id)?
        .into_iter()
        .filter(|t| venue_ids.is_none_or(|v| v.contains(&t.venue_id)))
        .collect();
    let people = duty_members(conn, committee_id)?;
    let templates = template_rows.iter().map(|row| templates::to_domain(row, pool_of(row, &people))).collect();
    // Holiday moves may reach a month beyond the period.
    let margin = Duration::days(super::MAX_POLICY_SHIFT_DAYS + 1);
    let calendar = crate::calendar::store::working_days(conn, committee_id, from - margin, to + margin)?;
    let leave: Vec<(i64, NaiveDate, NaiveDate)> = leave_requests::table
        .filter(leave_requests::committee_id.eq(committee_id))
        .filter(leave_requests::status.eq("approved"))
        .filter(leave_requests::date_to.ge(from - margin))
        .filter(leave_requests::date_from.le(to + margin))
        .select((leave_requests::member_id, leave_requests::date_from, leave_requests::date_to))
        .load(conn)?;
    let history = history(conn, committee_id, from, &template_rows)?;
    let members = people
        .iter()
        .map(|m| MemberProfile {
            id: m.id,
            standing_committee: m.standing_committee,
            sector: m.sector.clone().unwrap_or_default(),
            roving: m.home_venue_id.is_none(),
            active: m.active,
        })
        .collect();
    let input = GenerationInput {
        period_from: from,
        period_to: to,
        templates,
        members,
        calendar,
        leave: leave.into_iter().map(|(member_id, from, to)| LeaveSpan { member_id, from, to }).collect(),
        locked: Vec::new(),
        history,
    };
    Ok((input, template_rows))
}

/// Duties already published before `from`: per member, counts this year per pool, the last
/// duty ever, and the month-limited duty dates (for the one-per-month rule near the period).
fn history(
    conn: &mut DbConnection,
    committee_id: i64,
    from: NaiveDate,
    templates: &[TemplateRow],
) -> Result<Vec<DutyHistory>, ApiError> {
    let pool_of_template: BTreeMap<i64, (i64, bool)> =
        templates.iter().map(|t| (t.id, (t.pool_venue_id.unwrap_or(0), t.one_per_member_per_month))).collect();
    let year_start = NaiveDate::from_ymd_opt(from.year(), 1, 1).expect("valid");
    let rows: Vec<(i64, i64, NaiveDate)> = assignments::table
        .inner_join(shifts::table.inner_join(rosters::table))
        .filter(assignments::committee_id.eq(committee_id))
        .filter(crate::roster::duties::live())
        .filter(shifts::local_date.lt(from))
        .select((assignments::member_id, shifts::template_id, shifts::local_date))
        .load(conn)?;
    let mut by_member: BTreeMap<i64, DutyHistory> = BTreeMap::new();
    for (member_id, template_id, date) in rows {
        let h = by_member.entry(member_id).or_insert_with(|| DutyHistory { member_id, ..Default::default() });
        h.last_duty = h.last_duty.max(Some(date));
        if let Some(&(pool_id, monthly)) = pool_of_template.get(&template_id) {
            if date >= year_start {
                *h.duties_this_year.entry(pool_id).or_default() += 1;
            }
            if monthly {
                h.monthly_limited_duties.push(date);
            }
        }
    }
    Ok(by_member.into_values().collect())
}

/// Stores a generated roster as a draft; returns its id.
// Each argument is one column of what is recorded; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn insert_draft(
    conn: &mut DbConnection,
    committee_id: i64,
    actor_id: i64,
    from: NaiveDate,
    to: NaiveDate,
    generated: &GeneratedRoster,
    templates: &[TemplateRow],
    calendar_missing_years: &[i32],
    now: NaiveDateTime,
) -> Result<i64, ApiError> {
    let tz = crate::committee::timezone(conn, committee_id)?;
    let head: BTreeMap<i64, (i32, i32)> = templates.iter().map(|t| (t.id, (t.head_min, t.head_max))).collect();
    let shortfalls = serde_json::to_string(&super::views::shortfall_views(generated)).map_err(ApiError::unexpected)?;
    let roster_id: i64 = diesel::insert_into(rosters::table)
        .values((
            rosters::committee_id.eq(committee_id),
            rosters::period_from.eq(from),
            rosters::period_to.eq(to),
            rosters::status.eq("draft"),
            rosters::version.eq(1),
            rosters::shortfalls.eq(shortfalls),
            rosters::calendar_missing_years.eq(super::views::RosterWarning::to_storage(calendar_missing_years)),
            rosters::created_by.eq(Some(actor_id)),
            rosters::created_at.eq(now),
            rosters::updated_at.eq(now),
        ))
        .returning(rosters::id)
        .get_result(conn)?;
    for shift in &generated.shifts {
        let (head_min, head_max) = head.get(&shift.template_id).copied().unwrap_or((1, 1));
        let shift_id: i64 = diesel::insert_into(shifts::table)
            .values((
                shifts::committee_id.eq(committee_id),
                shifts::roster_id.eq(roster_id),
                shifts::template_id.eq(shift.template_id),
                shifts::venue_id.eq(shift.venue_id),
                shifts::local_date.eq(shift.date),
                shifts::start_time.eq(shift.start),
                shifts::end_time.eq(shift.end),
                shifts::starts_at.eq(crate::committee::local_to_utc(tz, shift.date, shift.start)),
                shifts::ends_at.eq(crate::committee::local_to_utc(tz, shift.date, shift.end)),
                shifts::head_min.eq(head_min),
                shifts::head_max.eq(head_max),
            ))
            .returning(shifts::id)
            .get_result(conn)?;
        for a in &shift.assignments {
            diesel::insert_into(assignments::table)
                .values((
                    assignments::committee_id.eq(committee_id),
                    assignments::shift_id.eq(shift_id),
                    assignments::member_id.eq(a.member_id),
                    assignments::role.eq(match a.role {
                        super::DutyRole::Lead => "lead",
                        super::DutyRole::Member => "member",
                    }),
                    assignments::source.eq(match a.source {
                        super::Source::Generated => "generated",
                        super::Source::Locked => "manual",
                    }),
                    assignments::locked.eq(matches!(a.source, super::Source::Locked)),
                    assignments::reason.eq(a.reason.label_zh()),
                    assignments::added_in_version.eq(1),
                    assignments::created_at.eq(now),
                ))
                .execute(conn)?;
        }
    }
    Ok(roster_id)
}

/// A stored roster in the generator's terms (active assignments only), for substitute
/// proposals that must respect everything already planned.
pub fn planned_shifts(conn: &mut DbConnection, roster_id: i64) -> Result<Vec<super::PlannedShift>, ApiError> {
    let rows: Vec<(i64, i64, i64, NaiveDate, NaiveTime, NaiveTime)> = shifts::table
        .filter(shifts::roster_id.eq(roster_id))
        .order(shifts::id)
        .select((
            shifts::id,
            shifts::template_id,
            shifts::venue_id,
            shifts::local_date,
            shifts::start_time,
            shifts::end_time,
        ))
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let mut teams = super::views::assignments_of(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|(id, template_id, venue_id, date, start, end)| super::PlannedShift {
            template_id,
            venue_id,
            date,
            start,
            end,
            original_date: date,
            assignments: teams
                .remove(&id)
                .unwrap_or_default()
                .into_iter()
                .map(|a| super::PlannedAssignment {
                    member_id: a.member_id,
                    role: if a.role == "lead" { super::DutyRole::Lead } else { super::DutyRole::Member },
                    source: super::Source::Locked,
                    reason: super::AssignmentReason::Locked,
                })
                .collect(),
        })
        .collect())
}

/// The colleagues (active members of the committee, by name) in the pool of a shift's
/// template — those a duty may be offered to — except `except`.
pub fn pool_colleagues(
    conn: &mut DbConnection,
    committee_id: i64,
    shift_id: i64,
    except: i64,
) -> Result<Vec<(i64, String)>, ApiError> {
    let (pool_venue, include_roving): (Option<i64>, bool) = shifts::table
        .inner_join(shift_templates::table)
        .filter(shifts::id.eq(shift_id))
        .select((shift_templates::pool_venue_id, shift_templates::include_roving))
        .first(conn)?;
    let people: Vec<(i64, String, Option<i64>, String)> = members::table
        .filter(members::committee_id.eq(committee_id))
        .filter(members::active.eq(true))
        .filter(members::id.ne(except))
        .order((members::name, members::id))
        .select((members::id, members::name, members::home_venue_id, members::roles))
        .load(conn)?;
    Ok(people
        .into_iter()
        .filter(|(_, _, home, roles)| roles.contains("member") && in_pool(pool_venue, include_roving, *home))
        .map(|(id, name, ..)| (id, name))
        .collect())
}
