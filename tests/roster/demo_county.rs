//! Demo-sized county: 16 studios with monthly reception days and the CPPCC Home.

use std::collections::BTreeMap;

use crate::common::{HOME_POOL, check_roster, d, demo_committee, pool_spreads};
use zhiban::roster::*;

#[test]
fn demo_county_2026() {
    let input = demo_committee();
    let started = std::time::Instant::now();
    let roster = generate(&input);
    println!("demo generation (test profile): {:?}", started.elapsed());

    assert!(roster.template_errors.is_empty());
    check_roster(&input, &roster).unwrap();
    assert!(roster.shortfalls.is_empty(), "{:?}", roster.shortfalls);

    let working_days = input.calendar.count_working_days(d(2026, 1, 1), d(2026, 12, 31));
    let per_template = |id| roster.shifts.iter().filter(|s| s.template_id == id).count();
    assert_eq!(per_template(101), working_days);
    assert_eq!(per_template(102), working_days);
    for studio in 1..=16 {
        assert_eq!(per_template(studio), 12);
    }
    for s in &roster.shifts {
        let tmpl = input.templates.iter().find(|t| t.id == s.template_id).unwrap();
        assert_eq!(s.assignments.len() as u32, tmpl.target_head_count());
        // The lead is a standing-committee member whenever the team has one.
        let standing = |id: i64| input.members.iter().any(|m| m.id == id && m.standing_committee);
        let lead = &s.assignments[0];
        assert_eq!(lead.role, DutyRole::Lead);
        if s.assignments.iter().any(|a| standing(a.member_id)) {
            assert!(standing(lead.member_id), "{s:?}");
        }
    }
    // Balance ranks above composition, so with 2–3 standing members among 19 only the
    // teams whose count tier still contains one can get one.
    let studio_teams = roster.shifts.iter().filter(|s| s.template_id <= 16);
    let with_standing = studio_teams
        .filter(|s| {
            s.assignments.iter().any(|a| input.members.iter().any(|m| m.id == a.member_id && m.standing_committee))
        })
        .count();
    println!("studio teams with a standing-committee member: {with_standing}/192");
    // Each standing member serves ~2 times a year; ~75 teams is the most balance allows.
    assert!(with_standing >= 70, "{with_standing}");
    for ((pool, _), (min, max)) in pool_spreads(&input, &roster) {
        assert!(max - min <= 1, "pool {pool}: {min}..{max}");
    }

    // Roving members are spread: nobody serves one venue twice before all of theirs once.
    let mut roving: BTreeMap<i64, BTreeMap<i64, u32>> = BTreeMap::new();
    for s in roster.shifts.iter().filter(|s| s.template_id <= 16) {
        for a in s.assignments.iter().filter(|a| a.member_id >= 9000) {
            *roving.entry(a.member_id).or_default().entry(s.venue_id).or_default() += 1;
        }
    }
    for (member, venues) in &roving {
        let (min, max) = (venues.values().min().unwrap(), venues.values().max().unwrap());
        assert!(venues.len() == 4 && max - min <= 1, "roving {member}: {venues:?}");
    }

    // Reasons read well.
    let sample = &roster.shifts.iter().find(|s| s.template_id == 1 && s.date == d(2026, 3, 25)).unwrap().assignments[0];
    println!("{} / {}", sample.reason, sample.reason.label_zh());
    assert!(sample.reason.to_string().contains("duties this year in pool"));
    let _ = HOME_POOL;
}

#[test]
fn leave_and_substitutes_in_demo() {
    let mut input = demo_committee();
    // Studio 3 mostly on leave in July: shortfall with explicit reasons.
    for j in 0..16 {
        input.leave.push(LeaveSpan { member_id: 300 + j, from: d(2026, 7, 1), to: d(2026, 7, 31) });
    }
    let roster = generate(&input);
    check_roster(&input, &roster).unwrap();
    let july = ShiftKey { template_id: 3, date: d(2026, 7, 25) };
    let shift = roster.shifts.iter().find(|s| s.key() == july).unwrap();
    // Members 316, 317 and roving 9002 remain.
    assert_eq!(shift.assignments.len(), 3);

    for j in 16..18 {
        input.leave.push(LeaveSpan { member_id: 300 + j, from: d(2026, 7, 1), to: d(2026, 7, 31) });
    }
    let roster = generate(&input);
    check_roster(&input, &roster).unwrap();
    let short = roster.shortfalls.iter().find(|s| s.shift == july).unwrap();
    assert_eq!((short.needed, short.got), (2, 1));
    assert_eq!(short.reasons, vec![ShortfallReason::MembersOnLeave(18)]);

    // A member of studio 1 drops out of March: substitutes come from studio 1's pool.
    let march = ShiftKey { template_id: 1, date: d(2026, 3, 25) };
    let shift = roster.shifts.iter().find(|s| s.key() == march).unwrap();
    let leaving = shift.assignments[1].member_id;
    let subs = propose_substitutes(&input, &roster.shifts, march, leaving, 3);
    assert_eq!(subs.len(), 3);
    let tmpl = input.templates.iter().find(|t| t.id == 1).unwrap();
    for s in &subs {
        assert!(tmpl.pool.contains(&s.member_id));
        assert!(shift.assignments.iter().all(|a| a.member_id != s.member_id));
    }
}
