//! Shared fixtures and the hard-rule checker for integration tests and the bench example.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, NaiveTime};
use zhiban::roster::*;

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

pub fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

/// The official 2026 arrangement (shared/data/holidays-cn-2026.json).
pub fn cn_2026() -> WorkingDayCalendar {
    let holidays = [
        "2026-01-01",
        "2026-01-02",
        "2026-01-03",
        "2026-02-15",
        "2026-02-16",
        "2026-02-17",
        "2026-02-18",
        "2026-02-19",
        "2026-02-20",
        "2026-02-21",
        "2026-02-22",
        "2026-02-23",
        "2026-04-04",
        "2026-04-05",
        "2026-04-06",
        "2026-05-01",
        "2026-05-02",
        "2026-05-03",
        "2026-05-04",
        "2026-05-05",
        "2026-06-19",
        "2026-06-20",
        "2026-06-21",
        "2026-09-25",
        "2026-09-26",
        "2026-09-27",
        "2026-10-01",
        "2026-10-02",
        "2026-10-03",
        "2026-10-04",
        "2026-10-05",
        "2026-10-06",
        "2026-10-07",
    ];
    let adjusted = ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"];
    let parse = |s: &&str| s.parse::<NaiveDate>().unwrap();
    WorkingDayCalendar::new(holidays.iter().map(parse), adjusted.iter().map(parse))
}

pub const SECTORS: [&str; 9] = ["中共", "民革", "民盟", "民建", "工商联", "无党派", "科技界", "教育界", "农业界"];

pub const HOME_POOL: i64 = 2000;

/// A county committee of the demo size: 16 studios × 18 members with a monthly reception
/// day (target 3, min 2, max 3), 4 roving members each eligible for 4 studios, and a
/// 30-member CPPCC Home pool (two members from each of 15 studios) staffing mornings and
/// afternoons on every working day, adjusted weekends included.
pub fn demo_committee() -> GenerationInput {
    let mut members = Vec::new();
    let mut templates = Vec::new();
    let mut home_pool = Vec::new();
    for studio in 1..=16i64 {
        let mut pool = Vec::new();
        for j in 0..18i64 {
            let id = studio * 100 + j;
            members.push(MemberProfile {
                id,
                standing_committee: j % 9 == 0,
                sector: SECTORS[usize::try_from((studio + j * 5) % 9).unwrap()].to_owned(),
                roving: false,
                active: j != 17 || studio % 4 != 0,
            });
            pool.push(id);
            if studio <= 15 && j < 2 {
                home_pool.push(id);
            }
        }
        // Roving member r is eligible in studios r, r+4, r+8, r+12.
        pool.push(9000 + (studio - 1) % 4);
        templates.push(ShiftTemplate {
            id: studio,
            venue_id: studio,
            rrule: "FREQ=MONTHLY;BYMONTHDAY=25".into(),
            anchor: None,
            start: t(9, 0),
            end: t(11, 30),
            min_head_count: 2,
            max_head_count: 3,
            target_head_count: Some(3),
            pool_id: 1000 + studio,
            pool,
            holiday_policy: HolidayPolicy::Keep,
            also_on_adjusted_working_days: false,
            one_per_member_per_month: true,
        });
    }
    for r in 0..4 {
        members.push(MemberProfile {
            id: 9000 + r,
            standing_committee: r == 0,
            sector: SECTORS[usize::try_from(r).unwrap()].to_owned(),
            roving: true,
            active: true,
        });
    }
    for (id, start, end) in [(101, t(8, 30), t(12, 0)), (102, t(14, 0), t(17, 30))] {
        templates.push(ShiftTemplate {
            id,
            venue_id: 100,
            rrule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR".into(),
            anchor: None,
            start,
            end,
            min_head_count: 1,
            max_head_count: 2,
            target_head_count: Some(2),
            pool_id: HOME_POOL,
            pool: home_pool.clone(),
            holiday_policy: HolidayPolicy::Skip,
            also_on_adjusted_working_days: true,
            one_per_member_per_month: false,
        });
    }
    GenerationInput {
        period_from: d(2026, 1, 1),
        period_to: d(2026, 12, 31),
        templates,
        members,
        calendar: cn_2026(),
        leave: vec![],
        locked: vec![],
        history: vec![],
    }
}

fn overlaps(a: &PlannedShift, b: &PlannedShift) -> bool {
    a.date == b.date && a.start < b.end && b.start < a.end
}

/// Checks every hard rule and the shortfall contract; returns a description of the first
/// violation.
pub fn check_roster(input: &GenerationInput, roster: &GeneratedRoster) -> Result<(), String> {
    let templates: BTreeMap<i64, &ShiftTemplate> = input.templates.iter().map(|t| (t.id, t)).collect();
    let members: BTreeMap<i64, &MemberProfile> = input.members.iter().map(|m| (m.id, m)).collect();
    let on_leave =
        |m: i64, date: NaiveDate| input.leave.iter().any(|l| l.member_id == m && l.from <= date && date <= l.to);
    let shortfalls: BTreeMap<ShiftKey, &Shortfall> = roster.shortfalls.iter().map(|s| (s.shift, s)).collect();
    if shortfalls.len() != roster.shortfalls.len() {
        return Err("duplicate shortfall".into());
    }
    // Per member: (shift index, generated?) for overlap and monthly checks.
    let mut by_member: BTreeMap<i64, Vec<(usize, bool)>> = BTreeMap::new();
    for (i, s) in roster.shifts.iter().enumerate() {
        let tmpl = templates[&s.template_id];
        let ids: BTreeSet<i64> = s.assignments.iter().map(|a| a.member_id).collect();
        if ids.len() != s.assignments.len() {
            return Err(format!("member twice on {s:?}"));
        }
        let locked = s.assignments.iter().filter(|a| a.source == Source::Locked).count();
        let generated = s.assignments.len() - locked;
        let max = tmpl.max_head_count as usize;
        if generated > 0 && s.assignments.len() > max {
            return Err(format!("above max head count on {s:?}"));
        }
        if s.assignments.len() > max.max(locked) {
            return Err(format!("above max head count on {s:?}"));
        }
        let leads = s.assignments.iter().filter(|a| a.role == DutyRole::Lead).count();
        if leads != usize::from(!s.assignments.is_empty()) {
            return Err(format!("expected exactly one lead on {s:?}"));
        }
        for a in &s.assignments {
            by_member.entry(a.member_id).or_default().push((i, a.source == Source::Generated));
            if a.source == Source::Generated {
                let m = members[&a.member_id];
                if !m.active || !tmpl.pool.contains(&m.id) || on_leave(m.id, s.date) {
                    return Err(format!("ineligible member {} on {s:?}", m.id));
                }
            }
        }
        let short = s.assignments.len() < tmpl.min_head_count as usize;
        match (short, shortfalls.get(&s.key())) {
            (true, Some(f)) if f.got as usize == s.assignments.len() => {}
            (false, None) => {}
            _ => return Err(format!("shortfall mismatch on {s:?}")),
        }
    }
    if roster.shifts.len() < shortfalls.len() {
        return Err("shortfall for unknown shift".into());
    }
    let history_months: BTreeMap<i64, Vec<(i32, u32)>> = input
        .history
        .iter()
        .map(|h| {
            let months = h.monthly_limited_duties.iter().map(|d| (d.year(), d.month()));
            (h.member_id, months.collect())
        })
        .collect();
    for (member, shifts) in &by_member {
        for (x, &(i, gen_i)) in shifts.iter().enumerate() {
            for &(j, gen_j) in &shifts[x + 1..] {
                if (gen_i || gen_j) && overlaps(&roster.shifts[i], &roster.shifts[j]) {
                    return Err(format!("member {member} on overlapping shifts"));
                }
            }
        }
        let mut months: BTreeMap<(i32, u32), (usize, bool)> = BTreeMap::new();
        for ym in history_months.get(member).into_iter().flatten() {
            months.entry(*ym).or_default().0 += 1;
        }
        for &(i, generated) in shifts {
            let s = &roster.shifts[i];
            if templates[&s.template_id].one_per_member_per_month {
                let e = months.entry((s.date.year(), s.date.month())).or_default();
                e.0 += 1;
                e.1 |= generated;
            }
        }
        if let Some((ym, _)) = months.iter().find(|(_, (n, generated))| *generated && *n > 1) {
            return Err(format!("member {member} breaks the monthly limit in {ym:?}"));
        }
    }
    // Every placeable locked assignment is present.
    for l in &input.locked {
        let placeable = roster.locked_conflicts.iter().all(|c| {
            let a = c.assignment;
            (a.template_id, a.date, a.member_id) != (l.template_id, l.date, l.member_id)
                || !matches!(c.issue, LockedIssue::UnknownShift | LockedIssue::UnknownMember)
        });
        let present = roster.shifts.iter().any(|s| {
            s.template_id == l.template_id
                && s.date == l.date
                && s.assignments.iter().any(|a| a.member_id == l.member_id && a.source == Source::Locked)
        });
        if placeable && !present {
            return Err(format!("locked assignment lost: {l:?}"));
        }
    }
    Ok(())
}

/// Per pool and year: (min, max) duty count over active pool members, counting history.
pub fn pool_spreads(input: &GenerationInput, roster: &GeneratedRoster) -> BTreeMap<(i64, i32), (u32, u32)> {
    let active: BTreeSet<i64> = input.members.iter().filter(|m| m.active).map(|m| m.id).collect();
    let mut pools: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for t in &input.templates {
        pools.entry(t.pool_id).or_default().extend(t.pool.iter().filter(|id| active.contains(id)));
    }
    let pool_of: BTreeMap<i64, i64> = input.templates.iter().map(|t| (t.id, t.pool_id)).collect();
    let mut counts: BTreeMap<(i64, i32), BTreeMap<i64, u32>> = BTreeMap::new();
    for s in &roster.shifts {
        let pool = pool_of[&s.template_id];
        let c = counts.entry((pool, s.date.year())).or_insert_with(|| pools[&pool].iter().map(|&m| (m, 0)).collect());
        for a in &s.assignments {
            *c.entry(a.member_id).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|(k, c)| {
            let min = c.values().copied().min().unwrap_or(0);
            let max = c.values().copied().max().unwrap_or(0);
            (k, (min, max))
        })
        .collect()
}
