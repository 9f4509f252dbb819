//! The generator's rules, one test each.

use super::*;
use crate::roster::recurrence::{HolidayPolicy, ShiftTemplate};
use chrono::{NaiveDate, NaiveTime};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn member(id: i64, sector: &str, standing: bool) -> MemberProfile {
    MemberProfile { id, standing_committee: standing, sector: sector.into(), roving: false, active: true }
}

fn reception(id: i64, pool: Vec<i64>) -> ShiftTemplate {
    ShiftTemplate {
        id,
        venue_id: id,
        rrule: "FREQ=MONTHLY;BYMONTHDAY=25".into(),
        anchor: None,
        start: t(9, 0),
        end: t(11, 30),
        min_head_count: 2,
        max_head_count: 3,
        target_head_count: Some(3),
        pool_id: id,
        pool,
        holiday_policy: HolidayPolicy::Keep,
        also_on_adjusted_working_days: false,
        one_per_member_per_month: true,
    }
}

fn input(templates: Vec<ShiftTemplate>, members: Vec<MemberProfile>) -> GenerationInput {
    GenerationInput {
        period_from: d(2026, 3, 1),
        period_to: d(2026, 3, 31),
        templates,
        members,
        ..GenerationInput::default()
    }
}

fn ids(shift: &PlannedShift) -> Vec<i64> {
    shift.assignments.iter().map(|a| a.member_id).collect()
}

#[test]
fn composition_brings_in_standing_member_and_mixes_sectors() {
    // Ids 1..3 are best rested but share a sector; 5 is the only standing member.
    let members = vec![
        member(1, "教育界", false),
        member(2, "教育界", false),
        member(3, "教育界", false),
        member(4, "科技界", false),
        member(5, "农业界", true),
    ];
    let roster = generate(&input(vec![reception(1, vec![1, 2, 3, 4, 5])], members));
    let shift = &roster.shifts[0];
    assert_eq!(ids(shift), [5, 1, 4], "lead first, then by id");
    assert_eq!(shift.assignments[0].role, DutyRole::Lead);
    let goals: Vec<_> = shift
        .assignments
        .iter()
        .map(|a| match &a.reason {
            AssignmentReason::Selected { composition, .. } => *composition,
            AssignmentReason::Locked => None,
        })
        .collect();
    assert_eq!(goals, [Some(CompositionGoal::StandingCommittee), None, Some(CompositionGoal::SectorMix)]);
    assert!(roster.shortfalls.is_empty());
}

#[test]
fn balance_beats_composition() {
    let members = vec![member(1, "", false), member(2, "", false), member(3, "", false), member(4, "", true)];
    let mut inp = input(vec![reception(1, vec![1, 2, 3, 4])], members);
    inp.history.push(DutyHistory {
        member_id: 4,
        duties_this_year: [(1, 1)].into_iter().collect(),
        last_duty: Some(d(2025, 12, 25)),
        monthly_limited_duties: vec![],
    });
    let roster = generate(&inp);
    assert_eq!(ids(&roster.shifts[0]), [1, 2, 3]);
}

#[test]
fn longest_rested_first_and_reason_text() {
    let members = (1..=4).map(|id| member(id, "", false)).collect();
    let mut inp = input(vec![reception(1, vec![1, 2, 3, 4])], members);
    inp.templates[0].target_head_count = None; // min = 2
    for (id, last) in [(1, d(2026, 2, 25)), (2, d(2025, 6, 25)), (3, d(2025, 11, 25))] {
        inp.history.push(DutyHistory { member_id: id, last_duty: Some(last), ..DutyHistory::default() });
    }
    let roster = generate(&inp);
    let shift = &roster.shifts[0];
    assert_eq!(ids(shift), [4, 2], "never served, then rested since 2025-06-25");
    assert_eq!(shift.assignments[1].reason.to_string(), "0 duties this year in pool, rested since 2025-06-25");
    assert_eq!(shift.assignments[1].reason.label_zh(), "本年度本组已值班0次，自2025-06-25起未值班");
}

#[test]
fn shortfall_reasons() {
    let members = (1..=4).map(|id| member(id, "", false)).collect();
    // Template 1 and 2 meet at the same time; 2 has a single-member pool.
    let mut inp = input(vec![reception(1, vec![1, 2, 3]), reception(2, vec![1, 4])], members);
    inp.leave.push(LeaveSpan { member_id: 3, from: d(2026, 3, 20), to: d(2026, 3, 26) });
    inp.history.push(DutyHistory {
        member_id: 4,
        monthly_limited_duties: vec![d(2026, 3, 2)],
        ..DutyHistory::default()
    });
    let roster = generate(&inp);
    // Template 1 takes members 1 and 2; template 2 is left with nobody.
    assert_eq!(ids(&roster.shifts[0]), [1, 2]);
    assert!(roster.shifts[1].assignments.is_empty());
    assert_eq!(roster.shortfalls.len(), 1);
    let s = &roster.shortfalls[0];
    assert_eq!((s.shift.template_id, s.needed, s.got), (2, 2, 0));
    assert_eq!(s.reasons, [ShortfallReason::Overlap(1), ShortfallReason::MonthlyLimit(1)]);
    inp.members[0].active = false;
    let roster = generate(&inp);
    assert!(
        roster
            .shortfalls
            .iter()
            .any(|s| s.shift.template_id == 2 && s.reasons[0] == ShortfallReason::PoolTooSmall { active_members: 1 })
    );
}

#[test]
fn locked_assignments_are_kept_counted_and_checked() {
    let members = (1..=5).map(|id| member(id, "", false)).collect();
    let mut inp = input(vec![reception(1, vec![1, 2, 3, 4])], members);
    inp.leave.push(LeaveSpan { member_id: 4, from: d(2026, 3, 1), to: d(2026, 3, 31) });
    let lock = |member_id, role| LockedAssignment { template_id: 1, date: d(2026, 3, 25), member_id, role };
    inp.locked =
        vec![lock(4, None), lock(5, Some(DutyRole::Lead)), LockedAssignment { date: d(2026, 3, 24), ..lock(1, None) }];
    let roster = generate(&inp);
    let shift = &roster.shifts[0];
    assert_eq!(ids(shift), [5, 1, 4]);
    assert_eq!(shift.assignments[0].source, Source::Locked);
    assert_eq!(shift.assignments[1].source, Source::Generated);
    let issues: Vec<_> = roster.locked_conflicts.iter().map(|c| (c.assignment.member_id, c.issue)).collect();
    assert_eq!(issues, [(1, LockedIssue::UnknownShift), (4, LockedIssue::OnLeave), (5, LockedIssue::NotInPool)]);
}

#[test]
fn invalid_templates_are_reported() {
    let mut bad = reception(1, vec![]);
    bad.rrule = "FREQ=NEVER".into();
    let mut inverted = reception(2, vec![]);
    inverted.end = t(8, 0);
    let roster = generate(&input(vec![bad, inverted, reception(2, vec![])], vec![]));
    let problems: Vec<_> =
        roster.template_errors.iter().map(|e| (e.template_id, std::mem::discriminant(&e.problem))).collect();
    assert_eq!(problems.len(), 3);
    assert!(roster.shifts.is_empty());
}
