//! A past for the demo county, so the console and the statistics have something to show: the
//! duties already over are checked in (most on time, some late, some missed), members have
//! recorded residents' items on the reception days of the last three months (answered,
//! triaged — some of them overdue — or not yet sorted), and a swap and a leave request wait
//! for a coordinator. Deterministic, like the rest of the demo.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::domain::{Difficulty, Importance, ItemKind, ItemState};
use crate::error::ApiError;
use crate::items::store::{self, Actor, Event, NewItem};
use crate::items::workflow::{self, CommitteeRules, Triage};
use crate::schema::{assignments, checkins, leave_requests, members, rosters, shifts, swap_requests, venues};

/// What residents told the members on reception days (topic, what they said).
const CONCERNS: [(&str, &str); 8] = [
    ("交通出行", "村口到镇上的公交班次太少，早上七点前没有车，上班上学很不方便。"),
    ("环境卫生", "河边垃圾收集点离住户太近，夏天气味很大，希望能挪一挪位置。"),
    ("养老托育", "村里老人多，想问问居家养老服务补贴怎么申请，需要哪些材料。"),
    ("医疗卫生", "卫生院周末没有儿科医生，孩子发烧只能跑到县城。"),
    ("城乡建设", "老街的路灯坏了好几盏，晚上走路看不清，存在安全隐患。"),
    ("就业社保", "灵活就业人员的医保怎么续缴？网上操作不会用。"),
    ("教育", "学校门口上下学时段车辆拥堵，希望增加交通协管。"),
    ("农业农村", "今年的种粮补贴什么时候发放，标准有没有调整？"),
];

pub fn record(conn: &mut DbConnection, committee_id: i64, admin_id: i64, now: NaiveDateTime) -> Result<(), ApiError> {
    conn.transaction(|conn| {
        check_in_past_duties(conn, committee_id, admin_id, now)?;
        collect_items(conn, committee_id, now)?;
        open_requests(conn, committee_id, now)
    })
}

/// Nine in ten duties that are over were attended; of those, one in nine came late.
fn check_in_past_duties(
    conn: &mut DbConnection,
    committee_id: i64,
    admin_id: i64,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let past: Vec<(i64, i64, i64, i64, NaiveDateTime)> = assignments::table
        .inner_join(shifts::table.inner_join(rosters::table))
        .filter(assignments::committee_id.eq(committee_id))
        .filter(crate::roster::duties::live())
        .filter(shifts::ends_at.lt(now))
        .select((assignments::id, assignments::member_id, shifts::venue_id, shifts::id, shifts::starts_at))
        .load(conn)?;
    for (assignment_id, member_id, venue_id, shift_id, starts_at) in past {
        let (at, late) = match assignment_id % 10 {
            0 => continue,
            1 => (starts_at + Duration::minutes(25), true),
            _ => (starts_at - Duration::minutes(5), false),
        };
        diesel::insert_into(checkins::table)
            .values((
                checkins::committee_id.eq(committee_id),
                checkins::assignment_id.eq(assignment_id),
                checkins::member_id.eq(member_id),
                checkins::venue_id.eq(venue_id),
                checkins::shift_id.eq(shift_id),
                checkins::checked_in_at.eq(at),
                checkins::received_at.eq(at),
                checkins::method.eq("manual"),
                checkins::assurance.eq("manual"),
                checkins::late.eq(late),
                checkins::manual_reason.eq("演示数据"),
                checkins::recorded_by.eq(admin_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// One item per studio on each of the last three reception days that are over, recorded by
/// the first member on duty.
fn collect_items(conn: &mut DbConnection, committee_id: i64, now: NaiveDateTime) -> Result<(), ApiError> {
    let rules = CommitteeRules::load(conn, committee_id)?;
    let duties: Vec<(i64, i64, i64, NaiveDate, NaiveDateTime)> = assignments::table
        .inner_join(shifts::table.inner_join(rosters::table).inner_join(venues::table))
        .filter(assignments::committee_id.eq(committee_id))
        .filter(crate::roster::duties::published())
        .filter(venues::kind.eq("township_studio"))
        .filter(shifts::ends_at.lt(now))
        .order((shifts::local_date.desc(), shifts::venue_id, assignments::id))
        .select((assignments::id, assignments::member_id, shifts::venue_id, shifts::local_date, shifts::starts_at))
        .load(conn)?;
    let mut days: Vec<NaiveDate> = duties.iter().map(|d| d.3).collect();
    days.dedup();
    days.truncate(3);
    let mut seen = std::collections::BTreeSet::new();
    for (n, (assignment_id, member_id, venue_id, date, starts_at)) in
        duties.into_iter().filter(|d| days.contains(&d.3)).filter(|d| seen.insert((d.2, d.3))).enumerate()
    {
        // Rows run studio by studio within a day: shift the pattern per day so each studio
        // gets a mix.
        let mix = n + n / 16;
        let (topic, body) = CONCERNS[(n * 3 + n / 16) % CONCERNS.len()];
        let kind = if mix % 2 == 0 { ItemKind::Consultation } else { ItemKind::Opinion };
        let received = starts_at + Duration::minutes(40);
        let new = NewItem {
            committee_id,
            venue_id,
            kind: kind.as_str(),
            topic,
            body,
            resident_name: Some("居民"),
            resident_phone: None,
            source: "member",
            recorded_by: Some(member_id),
            assignment_id: Some(assignment_id),
        };
        let item = store::insert(conn, &new, received)?;
        let recorded = Event { action: "record", from: None, to: Some(ItemState::Received), note: None, public: true };
        store::add_event(conn, &item, Actor::Member(member_id), recorded, received)?;
        // The newest reception day's items are still waiting to be sorted.
        if date == days[0] {
            continue;
        }
        let triage = Triage {
            importance: if mix % 3 == 0 { Importance::Important } else { Importance::Normal },
            difficulty: if mix % 4 == 0 { Difficulty::Moderate } else { Difficulty::Easy },
            override_tier: None,
            note: None,
        };
        let triaged_at = received + Duration::hours(20);
        workflow::triage(conn, &item, Actor::Member(member_id), triage, &rules, triaged_at)?;
        // Half are answered within days; the rest stay open, and the older of those run overdue.
        if mix % 3 != 1 {
            let item = store::find(conn, committee_id, item.id)?;
            let answer = "已联系相关部门核实，答复如下：情况属实，已列入近期整改计划，将于下月内完成。";
            workflow::reply(conn, &item, Actor::Member(member_id), answer, received + Duration::hours(50))?;
        }
    }
    Ok(())
}

/// At the first studio: a swap both colleagues agreed on, and a member's leave, each awaiting
/// the coordinator.
fn open_requests(conn: &mut DbConnection, committee_id: i64, now: NaiveDateTime) -> Result<(), ApiError> {
    let first_studio: i64 = venues::table
        .filter(venues::committee_id.eq(committee_id).and(venues::kind.eq("township_studio")))
        .order(venues::id)
        .select(venues::id)
        .first(conn)?;
    let next_duty: Option<(i64, i64, i64, NaiveDate)> = assignments::table
        .inner_join(shifts::table)
        .filter(assignments::committee_id.eq(committee_id))
        .filter(assignments::removed_at.is_null())
        .filter(shifts::venue_id.eq(first_studio))
        .filter(shifts::starts_at.gt(now))
        .order((shifts::starts_at, assignments::id))
        .select((assignments::id, assignments::member_id, shifts::id, shifts::local_date))
        .first(conn)
        .optional()?;
    // Late in the year the shipped calendar has no duty left: nothing to ask for.
    let Some((assignment_id, giver, shift_id, date)) = next_duty else { return Ok(()) };
    let on_shift: Vec<i64> = assignments::table
        .filter(assignments::shift_id.eq(shift_id).and(assignments::removed_at.is_null()))
        .select(assignments::member_id)
        .load(conn)?;
    let colleagues: Vec<i64> = members::table
        .filter(members::committee_id.eq(committee_id))
        .filter(members::home_venue_id.eq(first_studio))
        .filter(members::active.eq(true))
        .order(members::id)
        .select(members::id)
        .load(conn)?;
    let free: Vec<i64> = colleagues.into_iter().filter(|m| !on_shift.contains(m)).collect();
    let (Some(&taker), Some(&on_leave)) = (free.first(), free.get(1)) else { return Ok(()) };
    diesel::insert_into(swap_requests::table)
        .values((
            swap_requests::committee_id.eq(committee_id),
            swap_requests::assignment_id.eq(assignment_id),
            swap_requests::from_member_id.eq(giver),
            swap_requests::to_member_id.eq(taker),
            swap_requests::accepted_by.eq(taker),
            swap_requests::status.eq("accepted"),
            swap_requests::note.eq("当天要陪家人到县医院复查"),
            swap_requests::created_at.eq(now),
            swap_requests::updated_at.eq(now),
        ))
        .execute(conn)?;
    let from = date - Duration::days(11);
    diesel::insert_into(leave_requests::table)
        .values((
            leave_requests::committee_id.eq(committee_id),
            leave_requests::member_id.eq(on_leave),
            leave_requests::date_from.eq(from),
            leave_requests::date_to.eq(from + Duration::days(4)),
            leave_requests::reason.eq("外出参加培训"),
            leave_requests::status.eq("pending"),
            leave_requests::created_at.eq(now),
            leave_requests::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
