//! Property tests: hard rules, shortfall contract, balance, determinism, substitutes.

use crate::common::{check_roster, d, pool_spreads, t};
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use proptest::prelude::*;
use zhiban::roster::*;

const RULES: [&str; 6] = [
    "FREQ=MONTHLY;BYMONTHDAY=25",
    "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    "FREQ=WEEKLY;BYDAY=SA",
    "FREQ=DAILY",
    "FREQ=MONTHLY;BYDAY=1MO",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
];
const POLICIES: [HolidayPolicy; 4] =
    [HolidayPolicy::Keep, HolidayPolicy::NextWorkingDay, HolidayPolicy::PreviousWorkingDay, HolidayPolicy::Skip];
const WINDOWS: [(u32, u32, u32, u32); 4] = [(8, 30, 12, 0), (9, 0, 11, 30), (14, 0, 17, 30), (10, 0, 15, 0)];
const SECTORS: [&str; 5] = ["", "民盟", "民建", "教育界", "科技界"];

fn start() -> NaiveDate {
    d(2026, 1, 1)
}

fn day(offset: i64) -> NaiveDate {
    start() + Duration::days(offset)
}

#[derive(Debug, Clone)]
struct RawTemplate {
    rule: usize,
    policy: usize,
    window: usize,
    min: u32,
    extra: u32,
    target: Option<u32>,
    pool_id: i64,
    pool_mask: Vec<bool>,
    also_adjusted: bool,
    monthly: bool,
}

fn raw_template() -> impl Strategy<Value = RawTemplate> {
    (
        (0..RULES.len(), 0..4usize, 0..4usize, 0..4u32, 0..3u32),
        (proptest::option::of(0..6u32), 1..=2i64, proptest::collection::vec(any::<bool>(), 30)),
        (any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |((rule, policy, window, min, extra), (target, pool_id, pool_mask), (also_adjusted, monthly))| {
                RawTemplate { rule, policy, window, min, extra, target, pool_id, pool_mask, also_adjusted, monthly }
            },
        )
}

fn build_template(id: i64, raw: &RawTemplate, member_ids: &[i64]) -> ShiftTemplate {
    let (h1, m1, h2, m2) = WINDOWS[raw.window];
    ShiftTemplate {
        id,
        venue_id: id % 2,
        rrule: RULES[raw.rule].into(),
        anchor: Some(start()),
        start: t(h1, m1),
        end: t(h2, m2),
        min_head_count: raw.min,
        max_head_count: raw.min + raw.extra,
        target_head_count: raw.target,
        pool_id: raw.pool_id,
        pool: member_ids.iter().zip(&raw.pool_mask).filter(|(_, keep)| **keep).map(|(id, _)| *id).collect(),
        holiday_policy: POLICIES[raw.policy],
        also_on_adjusted_working_days: raw.also_adjusted,
        one_per_member_per_month: raw.monthly,
    }
}

fn calendar() -> impl Strategy<Value = WorkingDayCalendar> {
    (proptest::collection::vec(0..90i64, 0..20), proptest::collection::vec(0..90i64, 0..6)).prop_map(
        |(holidays, adjusted)| {
            WorkingDayCalendar::new(
                holidays.into_iter().map(day),
                adjusted.into_iter().map(day).filter(|d| matches!(d.weekday(), Weekday::Sat | Weekday::Sun)),
            )
        },
    )
}

type RawMember = (bool, usize, bool, bool);
type RawLeave = (usize, i64, i64);
type RawLocked = (usize, usize, usize, bool);
type RawHistory = (usize, u32, Option<i64>, Option<i64>);

#[allow(clippy::type_complexity)]
fn committee() -> impl Strategy<
    Value = (Vec<RawMember>, Vec<RawTemplate>, WorkingDayCalendar, Vec<RawLeave>, Vec<RawLocked>, Vec<RawHistory>),
> {
    (
        proptest::collection::vec(
            (prop::bool::weighted(0.2), 0..SECTORS.len(), any::<bool>(), prop::bool::weighted(0.9)),
            0..30,
        ),
        proptest::collection::vec(raw_template(), 1..=3),
        calendar(),
        proptest::collection::vec((0..30usize, 0..90i64, 0..20i64), 0..10),
        proptest::collection::vec((0..3usize, 0..200usize, 0..30usize, any::<bool>()), 0..8),
        proptest::collection::vec(
            (0..30usize, 0..5u32, proptest::option::of(1..400i64), proptest::option::of(0..60i64)),
            0..10,
        ),
    )
}

#[allow(clippy::type_complexity)]
fn build_input(
    (members, templates, calendar, leave, locked, history): (
        Vec<RawMember>,
        Vec<RawTemplate>,
        WorkingDayCalendar,
        Vec<RawLeave>,
        Vec<RawLocked>,
        Vec<RawHistory>,
    ),
) -> GenerationInput {
    let member_ids: Vec<i64> = (0..members.len()).map(|i| 1000 + i64::try_from(i).unwrap() * 7).collect();
    let profiles = members
        .iter()
        .zip(&member_ids)
        .map(|(&(standing, sector, roving, active), &id)| MemberProfile {
            id,
            standing_committee: standing,
            sector: SECTORS[sector].to_owned(),
            roving,
            active,
        })
        .collect();
    let templates: Vec<ShiftTemplate> =
        templates.iter().zip(1..).map(|(raw, id)| build_template(id, raw, &member_ids)).collect();
    let (period_from, period_to) = (start(), day(89));
    let pick = |i: usize| member_ids.get(i % member_ids.len().max(1)).copied().unwrap_or(-1);
    let leave = leave
        .into_iter()
        .map(|(m, from, len)| LeaveSpan { member_id: pick(m), from: day(from), to: day(from + len) })
        .collect();
    // Locked assignments mostly land on real shifts: index into the template's expansion.
    let locked = locked
        .into_iter()
        .filter_map(|(ti, si, m, lead)| {
            let tmpl = &templates[ti % templates.len()];
            let slots = expand(tmpl, period_from, period_to, &calendar).ok()?;
            let date = slots.get(si % (slots.len() + 1)).map_or(day(5), |s| s.date);
            let member_id = if tmpl.pool.is_empty() { pick(m) } else { tmpl.pool[m % tmpl.pool.len()] };
            Some(LockedAssignment { template_id: tmpl.id, date, member_id, role: lead.then_some(DutyRole::Lead) })
        })
        .collect();
    let history = history
        .into_iter()
        .map(|(m, n, last, monthly)| DutyHistory {
            member_id: pick(m),
            duties_this_year: [(1, n)].into_iter().collect(),
            last_duty: last.map(|back| start() - Duration::days(back)),
            monthly_limited_duties: monthly.map(day).into_iter().collect(),
        })
        .collect();
    GenerationInput { period_from, period_to, templates, members: profiles, calendar, leave, locked, history }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn hard_rules_and_shortfalls_hold(raw in committee()) {
        let input = build_input(raw);
        let roster = generate(&input);
        prop_assert!(roster.template_errors.is_empty(), "{:?}", roster.template_errors);
        if let Err(e) = check_roster(&input, &roster) {
            return Err(TestCaseError::fail(e));
        }
    }

    #[test]
    fn deterministic_and_independent_of_input_order(raw in committee()) {
        let input = build_input(raw);
        let first = generate(&input);
        prop_assert_eq!(&first, &generate(&input));
        let mut shuffled = input.clone();
        shuffled.members.reverse();
        shuffled.templates.reverse();
        shuffled.leave.reverse();
        shuffled.locked.reverse();
        shuffled.history.reverse();
        for t in &mut shuffled.templates {
            t.pool.reverse();
        }
        prop_assert_eq!(&first, &generate(&shuffled));
    }

    #[test]
    fn substitutes_respect_hard_rules(raw in committee(), pick in 0..1000usize, limit in 1..5usize) {
        let input = build_input(raw);
        let roster = generate(&input);
        let generated: Vec<(usize, usize)> = roster.shifts.iter().enumerate().flat_map(|(i, s)| {
            s.assignments.iter().enumerate()
                .filter(|(_, a)| a.source == Source::Generated)
                .map(move |(j, _)| (i, j))
        }).collect();
        if generated.is_empty() {
            return Ok(());
        }
        let (si, ai) = generated[pick % generated.len()];
        let shift = &roster.shifts[si];
        let leaving = shift.assignments[ai].member_id;
        let subs = propose_substitutes(&input, &roster.shifts, shift.key(), leaving, limit);
        prop_assert!(subs.len() <= limit);
        for sub in &subs {
            prop_assert_ne!(sub.member_id, leaving);
            let mut edited = roster.clone();
            edited.shifts[si].assignments[ai].member_id = sub.member_id;
            if let Err(e) = check_roster(&input, &edited) {
                return Err(TestCaseError::fail(format!("substitute {}: {e}", sub.member_id)));
            }
        }
        // Ranked by this year's count in the pool first.
        let counts: Vec<u32> = subs.iter().map(|s| match s.reason {
            AssignmentReason::Selected { duties_this_year_in_pool, .. } => duties_this_year_in_pool,
            AssignmentReason::Locked => u32::MAX,
        }).collect();
        prop_assert!(counts.windows(2).all(|w| w[0] <= w[1]));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// With no leave, no locks, no history, non-overlapping templates and pools at least as
    /// large as any team, yearly counts within a pool differ by at most one.
    #[test]
    fn balance_within_pools(
        pool_size in 4..30usize,
        rules in proptest::collection::vec((0..RULES.len(), 1..=3u32, 0..4usize), 1..=3),
        calendar in calendar(),
        sectors in proptest::collection::vec(0..SECTORS.len(), 30),
    ) {
        let members: Vec<MemberProfile> = (0..pool_size).map(|i| MemberProfile {
            id: 500 + i64::try_from(i).unwrap(),
            standing_committee: i % 5 == 0,
            sector: SECTORS[sectors[i]].to_owned(),
            roving: i % 3 == 0,
            active: true,
        }).collect();
        let pool: Vec<i64> = members.iter().map(|m| m.id).collect();
        // Morning, afternoon, evening: never overlapping.
        let windows = [(t(8, 30), t(12, 0)), (t(14, 0), t(17, 30)), (t(18, 0), t(20, 0))];
        let templates = rules.iter().zip(1..).map(|(&(rule, heads, policy), id)| ShiftTemplate {
            id,
            venue_id: id,
            rrule: RULES[rule].into(),
            anchor: Some(start()),
            start: windows[usize::try_from(id - 1).unwrap()].0,
            end: windows[usize::try_from(id - 1).unwrap()].1,
            min_head_count: heads,
            max_head_count: heads,
            target_head_count: None,
            pool_id: 7,
            pool: pool.clone(),
            holiday_policy: POLICIES[policy],
            also_on_adjusted_working_days: policy == 3,
            one_per_member_per_month: false,
        }).collect();
        let input = GenerationInput {
            period_from: start(),
            period_to: d(2026, 12, 31),
            templates,
            members,
            calendar,
            ..GenerationInput::default()
        };
        let roster = generate(&input);
        prop_assert!(roster.shortfalls.is_empty());
        for (key, (min, max)) in pool_spreads(&input, &roster) {
            prop_assert!(max - min <= 1, "pool {:?}: {}..{}", key, min, max);
        }
    }
}
