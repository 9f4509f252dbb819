//! Loads what a period's statistics are made of — attendance (derived as
//! `checkin::attendance` derives it), the items received and their timelines — with simple
//! queries, and counts in Rust. A period is at most a year of one committee, so the rows are
//! bounded.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;

use super::period::Period;
use super::views::{MemberStats, VenueStats, rank, round2};
use crate::auth::VenueScope;
use crate::checkin::attendance::{self, AttendanceRow, AttendanceStatus};
use crate::committee::{local_date, local_to_utc, timezone as committee_tz};
use crate::db::DbConnection;
use crate::domain::{ItemKind, ItemState, RankingWeights, Role, Roles};
use crate::error::ApiError;
use crate::schema::{assignments, item_events, items, members, venues};

/// eq_any lists are sent in chunks of this many ids.
const CHUNK: usize = 500;

/// Duty counts of a member or a venue.
#[derive(Debug, Default, Clone, Copy)]
struct Duties {
    scheduled: u32,
    present: u32,
    late: u32,
    absent: u32,
    excused: u32,
    /// Of `present` and `late`: resting on an offline check-in no coordinator confirmed yet.
    unconfirmed: u32,
}

impl Duties {
    /// Every duty counts as scheduled; only those that are over (or excused) get an outcome.
    /// A duty under way or ahead counts as scheduled only.
    fn add(&mut self, row: &AttendanceRow) {
        let status = row.status;
        self.scheduled += 1;
        if row.unconfirmed && matches!(status, AttendanceStatus::Present | AttendanceStatus::Late) {
            self.unconfirmed += 1;
        }
        match status {
            AttendanceStatus::Present => self.present += 1,
            AttendanceStatus::Late => self.late += 1,
            AttendanceStatus::Absent => self.absent += 1,
            AttendanceStatus::Excused => self.excused += 1,
            AttendanceStatus::CheckedIn | AttendanceStatus::NotCheckedIn | AttendanceStatus::Upcoming => {}
        }
    }
}

/// Answered items: how many and their total hours to the first answer.
#[derive(Debug, Default, Clone, Copy)]
struct Answers {
    count: u32,
    hours: f64,
}

impl Answers {
    fn add(&mut self, hours: f64) {
        self.count += 1;
        self.hours += hours;
    }

    fn average(&self) -> Option<f64> {
        (self.count > 0).then(|| round2(self.hours / f64::from(self.count)))
    }
}

/// One item received in the period, as the statistics see it.
#[derive(Debug)]
struct ItemFacts {
    venue_id: i64,
    consultation: bool,
    /// Recorded by, came in at a duty of, or taken from the live inbox by.
    collectors: BTreeSet<i64>,
    /// The member who gave the first answer, if a member did.
    answered_by: Option<i64>,
    /// Hours from receipt to the first answer, if answered.
    reply_hours: Option<f64>,
    overdue: bool,
}

/// Everything a period's statistics count, within the scope.
struct Facts {
    duties: Vec<AttendanceRow>,
    items: Vec<ItemFacts>,
}

type ItemRow = (
    i64,
    i64,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<NaiveDate>,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

/// A step of an item's timeline: when, actor kind, actor id, action.
type Step = (NaiveDateTime, String, Option<i64>, String);

fn hours_between(from: NaiveDateTime, to: NaiveDateTime) -> f64 {
    (to - from).num_seconds().max(0) as f64 / 3600.0
}

fn load_facts(
    conn: &mut DbConnection,
    committee_id: i64,
    scope: &VenueScope,
    period: &Period,
    now: NaiveDateTime,
) -> Result<Facts, ApiError> {
    let tz = committee_tz(conn, committee_id)?;
    let (from, to) = (period.first_day(), period.last_day());
    let duties: Vec<AttendanceRow> = attendance::compute(conn, committee_id, from, to, now)?
        .into_iter()
        .filter(|row| scope.includes(row.venue_id))
        .collect();

    // Items received in the period: the UTC instants of the period's local days.
    let starts = local_to_utc(tz, from, NaiveTime::MIN);
    let ends = local_to_utc(tz, to + chrono::Duration::days(1), NaiveTime::MIN);
    let mut query = items::table
        .filter(items::committee_id.eq(committee_id))
        .filter(items::created_at.ge(starts))
        .filter(items::created_at.lt(ends))
        .order(items::id)
        .select((
            items::id,
            items::venue_id,
            items::kind,
            items::state,
            items::recorded_by,
            items::assignment_id,
            items::taken_by,
            items::due_on,
            items::created_at,
            items::first_reply_at,
        ))
        .into_boxed();
    if let Some(ids) = scope.ids() {
        query = query.filter(items::venue_id.eq_any(ids));
    }
    let rows: Vec<ItemRow> = query.load(conn)?;

    // Who owns the duties items came in at, and the answering steps of each item's timeline.
    let item_ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let assignment_ids: Vec<i64> = rows.iter().filter_map(|r| r.5).collect::<BTreeSet<_>>().into_iter().collect();
    let mut owners: BTreeMap<i64, i64> = BTreeMap::new();
    for chunk in assignment_ids.chunks(CHUNK) {
        let found: Vec<(i64, i64)> = assignments::table
            .filter(assignments::id.eq_any(chunk))
            .select((assignments::id, assignments::member_id))
            .load(conn)?;
        owners.extend(found);
    }
    let mut events: BTreeMap<i64, Vec<Step>> = BTreeMap::new();
    for chunk in item_ids.chunks(CHUNK) {
        let found: Vec<(i64, NaiveDateTime, String, Option<i64>, String)> = item_events::table
            .filter(item_events::item_id.eq_any(chunk))
            .filter(item_events::action.eq_any(["reply", "close", "reopen"]))
            .order((item_events::at, item_events::id))
            .select((
                item_events::item_id,
                item_events::at,
                item_events::actor_kind,
                item_events::actor_id,
                item_events::action,
            ))
            .load(conn)?;
        for (item_id, at, kind, actor, action) in found {
            events.entry(item_id).or_default().push((at, kind, actor, action));
        }
    }

    let today = local_date(tz, now);
    let mut facts = Vec::with_capacity(rows.len());
    for (id, venue_id, kind, state, recorded_by, assignment_id, taken_by, due_on, created_at, first_reply_at) in rows {
        let timeline = events.remove(&id).unwrap_or_default();
        let consultation = kind == ItemKind::Consultation.as_str();
        // The first answer and who gave it (a member, a handling unit).
        let first_reply = timeline.iter().find(|e| e.3 == "reply");
        let answered_by = first_reply.filter(|e| e.1 == "member").and_then(|e| e.2);
        let awaits_answer = ItemState::parse(&state).is_none_or(ItemState::awaits_answer);
        let steps: Vec<(NaiveDate, &str)> = timeline.iter().map(|e| (local_date(tz, e.0), e.3.as_str())).collect();
        let overdue = is_overdue(due_on, awaits_answer, &steps, today);
        let collectors: BTreeSet<i64> = [recorded_by, assignment_id.and_then(|a| owners.get(&a).copied()), taken_by]
            .into_iter()
            .flatten()
            .collect();
        facts.push(ItemFacts {
            venue_id,
            consultation,
            collectors,
            answered_by,
            reply_hours: first_reply_at.map(|at| hours_between(created_at, at)),
            overdue,
        });
    }
    Ok(Facts { duties, items: facts })
}

/// Whether an item missed its deadline: answered or closed (the first time since its last
/// reopening, `steps` being its `reply`, `close` and `reopen` steps in order, as local dates)
/// after `due_on`, or still awaiting an answer after it.
fn is_overdue(due_on: Option<NaiveDate>, awaits_answer: bool, steps: &[(NaiveDate, &str)], today: NaiveDate) -> bool {
    let Some(due) = due_on else { return false };
    let since_reopen = steps.iter().rposition(|s| s.1 == "reopen").map_or(0, |i| i + 1);
    match steps[since_reopen..].iter().find(|s| s.1 == "reply" || s.1 == "close") {
        Some((settled, _)) => *settled > due,
        None => awaits_answer && today > due,
    }
}

/// Each member's figures over `period`, counting only duties and items at venues in `scope`,
/// ranked by the committee's `ranking_weights` (score descending, then name). Listed: the
/// active members (role `member`) whose studio group is in scope (with an unlimited scope,
/// every active member, the roving pool too), members with something counted in scope, and
/// staff accounts that were on duty. Answers given by staff count for the venue only.
pub fn member_stats(
    conn: &mut DbConnection,
    committee_id: i64,
    scope: &VenueScope,
    period: &Period,
    now: NaiveDateTime,
) -> Result<Vec<MemberStats>, ApiError> {
    let weights = crate::committee::load_settings(conn, committee_id)?.ranking_weights;
    member_stats_with(conn, committee_id, scope, period, now, &weights)
}

/// [`member_stats`] with the weights already loaded.
pub fn member_stats_with(
    conn: &mut DbConnection,
    committee_id: i64,
    scope: &VenueScope,
    period: &Period,
    now: NaiveDateTime,
    weights: &RankingWeights,
) -> Result<Vec<MemberStats>, ApiError> {
    let facts = load_facts(conn, committee_id, scope, period, now)?;
    let mut duties: BTreeMap<i64, Duties> = BTreeMap::new();
    for row in &facts.duties {
        duties.entry(row.member_id).or_default().add(row);
    }
    let mut collected: BTreeMap<i64, u32> = BTreeMap::new();
    let mut answered: BTreeMap<i64, Answers> = BTreeMap::new();
    let mut overdue: BTreeMap<i64, u32> = BTreeMap::new();
    for item in &facts.items {
        for m in &item.collectors {
            *collected.entry(*m).or_default() += 1;
        }
        if item.consultation
            && let (Some(m), Some(hours)) = (item.answered_by, item.reply_hours)
        {
            answered.entry(m).or_default().add(hours);
        }
        if item.overdue {
            let mut involved = item.collectors.clone();
            involved.extend(item.answered_by);
            for m in involved {
                *overdue.entry(m).or_default() += 1;
            }
        }
    }
    let counted: BTreeSet<i64> =
        duties.keys().chain(collected.keys()).chain(answered.keys()).chain(overdue.keys()).copied().collect();

    let venue_names: BTreeMap<i64, String> = venues::table
        .filter(venues::committee_id.eq(committee_id))
        .select((venues::id, venues::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let people: Vec<(i64, String, Option<i64>, bool, String)> = members::table
        .filter(members::committee_id.eq(committee_id))
        .order(members::id)
        .select((members::id, members::name, members::home_venue_id, members::active, members::roles))
        .load(conn)?;
    let mut rows = Vec::new();
    for (member_id, name, home_venue_id, is_active, roles) in people {
        let is_member = Roles::parse_list(&roles).is_ok_and(|r| r.contains(Role::Member));
        let home_in_scope = match (scope, home_venue_id) {
            (VenueScope::All, _) => true,
            (VenueScope::Venues(_), Some(v)) => scope.includes(v),
            (VenueScope::Venues(_), None) => false,
        };
        // Members (委员) of the scope, and members with something counted in it; staff
        // accounts (coordinators, admins) only when they were on duty themselves.
        let listed = if is_member {
            (is_active && home_in_scope) || counted.contains(&member_id)
        } else {
            duties.contains_key(&member_id)
        };
        if !listed {
            continue;
        }
        let d = duties.get(&member_id).copied().unwrap_or_default();
        let a = answered.get(&member_id).copied().unwrap_or_default();
        rows.push(MemberStats {
            member_id,
            name,
            home_venue: home_venue_id.and_then(|v| venue_names.get(&v).cloned()),
            home_venue_id,
            scheduled: d.scheduled,
            present: d.present,
            late: d.late,
            absent: d.absent,
            excused: d.excused,
            unconfirmed_present: d.unconfirmed,
            items_collected: collected.get(&member_id).copied().unwrap_or(0),
            consultations_answered: a.count,
            avg_reply_hours: a.average(),
            overdue: overdue.get(&member_id).copied().unwrap_or(0),
            score: 0.0,
            rank: 0,
        });
    }
    rank(&mut rows, weights);
    Ok(rows)
}

/// Each venue's figures over `period`: the active venues in `scope` and any other in scope
/// with something counted, by id.
pub fn venue_stats(
    conn: &mut DbConnection,
    committee_id: i64,
    scope: &VenueScope,
    period: &Period,
    now: NaiveDateTime,
) -> Result<Vec<VenueStats>, ApiError> {
    let facts = load_facts(conn, committee_id, scope, period, now)?;
    let mut duties: BTreeMap<i64, Duties> = BTreeMap::new();
    for row in &facts.duties {
        duties.entry(row.venue_id).or_default().add(row);
    }
    let mut received: BTreeMap<i64, u32> = BTreeMap::new();
    let mut answered: BTreeMap<i64, Answers> = BTreeMap::new();
    let mut overdue: BTreeMap<i64, u32> = BTreeMap::new();
    for item in &facts.items {
        *received.entry(item.venue_id).or_default() += 1;
        if item.consultation
            && let Some(hours) = item.reply_hours
        {
            answered.entry(item.venue_id).or_default().add(hours);
        }
        if item.overdue {
            *overdue.entry(item.venue_id).or_default() += 1;
        }
    }
    let mut query = venues::table
        .filter(venues::committee_id.eq(committee_id))
        .order(venues::id)
        .select((venues::id, venues::name, venues::kind, venues::active))
        .into_boxed();
    if let Some(ids) = scope.ids() {
        query = query.filter(venues::id.eq_any(ids));
    }
    let all: Vec<(i64, String, String, bool)> = query.load(conn)?;
    Ok(all
        .into_iter()
        .filter(|(id, _, _, active)| *active || duties.contains_key(id) || received.contains_key(id))
        .map(|(venue_id, name, kind, _)| {
            let d = duties.get(&venue_id).copied().unwrap_or_default();
            let a = answered.get(&venue_id).copied().unwrap_or_default();
            VenueStats {
                venue_id,
                name,
                kind,
                scheduled: d.scheduled,
                present: d.present,
                late: d.late,
                absent: d.absent,
                excused: d.excused,
                unconfirmed_present: d.unconfirmed,
                items_received: received.get(&venue_id).copied().unwrap_or(0),
                consultations_answered: a.count,
                avg_reply_hours: a.average(),
                overdue: overdue.get(&venue_id).copied().unwrap_or(0),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 9, day).unwrap()
    }

    #[test]
    fn overdue_is_judged_by_the_first_answer_since_the_last_reopening() {
        let due = Some(d(10));
        // No deadline: never overdue.
        assert!(!is_overdue(None, true, &[], d(30)));
        // Unanswered: overdue from the day after the deadline.
        assert!(!is_overdue(due, true, &[], d(10)));
        assert!(is_overdue(due, true, &[], d(11)));
        // Answered on the day, or late; a later second answer does not count.
        assert!(!is_overdue(due, false, &[(d(10), "reply"), (d(20), "reply")], d(30)));
        assert!(is_overdue(due, false, &[(d(12), "reply"), (d(13), "close")], d(30)));
        // Closed without an answer (a duplicate) after the deadline.
        assert!(is_overdue(due, false, &[(d(11), "close")], d(30)));
        // Reopened (with a fresh deadline): the answer before the reopening no longer settles it.
        let steps = [(d(1), "reply"), (d(5), "reopen")];
        assert!(is_overdue(due, true, &steps, d(11)));
        assert!(!is_overdue(due, false, &[(d(1), "reply"), (d(5), "reopen"), (d(9), "reply")], d(30)));
        // A closed item with no step recorded is not judged late.
        assert!(!is_overdue(due, false, &[], d(30)));
    }
}
