//! Shift templates and their expansion into concrete shifts with the `rrule` crate (RFC 5545).
//!
//! Times of day are local and naive. The recurrence engine only decides *dates*: every
//! occurrence is computed at midnight UTC (UTC has no DST, so dates never drift), and the
//! template's own start/end times are attached afterwards.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{NaiveDate, NaiveTime, TimeZone};
use rrule::{Frequency, RRule, RRuleError, RRuleSet, Tz, Unvalidated, ValidationError};

use crate::calendar::WorkingDayCalendar;

/// How far (in calendar days) a holiday policy may move an occurrence. Real calendars never
/// come close (the longest Chinese holiday block is 9 days); the bound only keeps absurd
/// calendars from producing far-away shifts. An occurrence that cannot be moved within it is
/// dropped as if the policy were [`HolidayPolicy::Skip`].
pub const MAX_POLICY_SHIFT_DAYS: i64 = 31;

/// What to do with an occurrence that falls on a non-working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HolidayPolicy {
    /// Hold the shift anyway (e.g. the monthly reception day on the 25th).
    Keep,
    /// Move it to the first working day after the occurrence.
    NextWorkingDay,
    /// Move it to the last working day before the occurrence.
    PreviousWorkingDay,
    /// Drop it (e.g. home duty: the CPPCC Home is closed on holidays).
    Skip,
}

/// A recurring duty at one venue, e.g. a studio's reception day or home-duty mornings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShiftTemplate {
    pub id: i64,
    pub venue_id: i64,
    /// RFC 5545 RRULE value, with or without the `RRULE:` prefix, e.g.
    /// `FREQ=MONTHLY;BYMONTHDAY=25` or `FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR`.
    /// Frequencies finer than DAILY are rejected.
    pub rrule: String,
    /// DTSTART of the rule. `None` means "the period start", which is right for rules that do
    /// not depend on a phase. Rules with `INTERVAL>1` (fortnightly...) or `COUNT` need a fixed
    /// anchor, otherwise every generation period restarts the cycle.
    pub anchor: Option<NaiveDate>,
    /// Local start time.
    pub start: NaiveTime,
    /// Local end time; must be after `start` (shifts do not cross midnight).
    pub end: NaiveTime,
    pub min_head_count: u32,
    pub max_head_count: u32,
    /// Desired head count; clamped to `min..=max`, `None` means `min`.
    pub target_head_count: Option<u32>,
    /// Balance group: templates sharing a pool id share the per-year duty counter (e.g.
    /// home-duty mornings and afternoons).
    pub pool_id: i64,
    /// Eligible member ids.
    pub pool: Vec<i64>,
    pub holiday_policy: HolidayPolicy,
    /// Also hold the shift on every adjusted working day (调休 weekend) in the period, even
    /// if the RRULE does not produce it. A `BYDAY=MO,...,FR` rule never yields a Saturday,
    /// but the CPPCC Home is open on every working day, so home duty sets this flag.
    pub also_on_adjusted_working_days: bool,
    /// A member may hold at most one duty per calendar month across *all* templates with this
    /// flag (reception-day type), counting history.
    pub one_per_member_per_month: bool,
}

impl ShiftTemplate {
    /// Head count the generator aims for: `target` clamped to `min..=max` (`min` if unset).
    pub fn target_head_count(&self) -> u32 {
        self.target_head_count.unwrap_or(self.min_head_count).min(self.max_head_count).max(self.min_head_count)
    }
}

/// One concrete occurrence of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShiftSlot {
    pub date: NaiveDate,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub template_id: i64,
    pub venue_id: i64,
    /// Date produced by the rule; differs from `date` when a holiday policy moved it.
    pub original_date: NaiveDate,
}

/// Why a template's recurrence cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecurrenceError {
    /// The RRULE does not parse or fails RFC 5545 validation.
    InvalidRule(String),
    /// HOURLY / MINUTELY / SECONDLY rules make no sense for day-level shifts.
    SubDailyFrequency,
}

impl fmt::Display for RecurrenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidRule(msg) => write!(f, "invalid recurrence rule: {msg}"),
            Self::SubDailyFrequency => f.write_str("recurrence finer than daily is not supported"),
        }
    }
}

impl std::error::Error for RecurrenceError {}

fn midnight_utc(date: NaiveDate) -> chrono::DateTime<Tz> {
    Tz::UTC.from_utc_datetime(&date.and_time(NaiveTime::MIN))
}

/// rrule parses a date-only `UNTIL=20261231` or a floating `UNTIL=20261231T120000` as the
/// *Local* zone and then rejects it against our UTC DTSTART. Our times are naive local
/// anyway, so such values are rewritten to UTC (a date-only UNTIL covers that whole day).
fn normalize_until(rule: &str) -> String {
    rule.split(';')
        .map(|part| match part.split_once('=') {
            Some((key, value)) if key.trim().eq_ignore_ascii_case("UNTIL") => {
                let value = value.trim();
                if value.len() == 8 && value.bytes().all(|b| b.is_ascii_digit()) {
                    format!("UNTIL={value}T235959Z")
                } else if value.ends_with(['Z', 'z']) {
                    part.to_owned()
                } else {
                    format!("UNTIL={value}Z")
                }
            }
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn parse_rule(rule: &str) -> Result<RRule<Unvalidated>, RecurrenceError> {
    let rule = rule.trim();
    let rule = rule.strip_prefix("RRULE:").unwrap_or(rule);
    let parsed: RRule<Unvalidated> =
        normalize_until(rule).parse().map_err(|e: RRuleError| RecurrenceError::InvalidRule(e.to_string()))?;
    if matches!(parsed.get_freq(), Frequency::Hourly | Frequency::Minutely | Frequency::Secondly) {
        return Err(RecurrenceError::SubDailyFrequency);
    }
    Ok(parsed)
}

/// Checks an RRULE string the way [`expand`] will use it (for validating template forms).
pub fn validate_rule(rule: &str) -> Result<(), RecurrenceError> {
    let parsed = parse_rule(rule)?;
    match parsed.validate(midnight_utc(NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid"))) {
        // An UNTIL in the past is a finished rule, not a malformed one.
        Ok(_) | Err(RRuleError::ValidationError(ValidationError::UntilBeforeStart { .. })) => Ok(()),
        Err(e) => Err(RecurrenceError::InvalidRule(e.to_string())),
    }
}

/// Expands `template` over the inclusive local-date period `[from, to]`.
///
/// Period membership is decided by the date the *rule* produces: an occurrence on Saturday
/// 01-31 moved by [`HolidayPolicy::NextWorkingDay`] to Monday 02-02 belongs to January's
/// expansion (and appears there with `date` 02-02) and not to February's. So consecutive
/// periods never lose or duplicate an occurrence. A moved occurrence landing on a date that
/// already has an occurrence of the same template is merged into it.
///
/// The result is sorted by date and holds at most one slot per date.
pub fn expand(
    template: &ShiftTemplate,
    from: NaiveDate,
    to: NaiveDate,
    calendar: &WorkingDayCalendar,
) -> Result<Vec<ShiftSlot>, RecurrenceError> {
    let parsed = parse_rule(&template.rrule)?;
    let anchor = template.anchor.unwrap_or(from);
    if from > to || anchor > to {
        return Ok(Vec::new());
    }
    let dt_start = midnight_utc(anchor);
    let rule = match parsed.validate(dt_start) {
        Ok(rule) => rule,
        // UNTIL before DTSTART: the rule has simply ended before this period.
        Err(RRuleError::ValidationError(ValidationError::UntilBeforeStart { .. })) => {
            return Ok(Vec::new());
        }
        Err(e) => return Err(RecurrenceError::InvalidRule(e.to_string())),
    };

    // `limit()` turns on rrule's iteration guard: without it a rule that can never match
    // (e.g. BYMONTH=2;BYMONTHDAY=30) would loop forever in the iterator API.
    let mut set = RRuleSet::new(dt_start).rrule(rule).limit();
    if template.also_on_adjusted_working_days {
        let first = from.max(anchor);
        for day in calendar.adjusted_working_days.range(first..=to) {
            set = set.rdate(midnight_utc(*day));
        }
    }

    // Keyed by final date; `BTreeMap` keeps the output sorted and deterministic.
    let mut slots: BTreeMap<NaiveDate, ShiftSlot> = BTreeMap::new();
    for occurrence in &set {
        let original = occurrence.date_naive();
        if original > to {
            break;
        }
        if original < from {
            continue;
        }
        let Some(date) = apply_policy(template.holiday_policy, original, calendar) else {
            continue;
        };
        let slot = ShiftSlot {
            date,
            start: template.start,
            end: template.end,
            template_id: template.id,
            venue_id: template.venue_id,
            original_date: original,
        };
        slots
            .entry(date)
            // Prefer the occurrence that genuinely falls on this date over a moved one.
            .and_modify(|existing| {
                if existing.original_date != date && original == date {
                    *existing = slot;
                }
            })
            .or_insert(slot);
    }
    Ok(slots.into_values().collect())
}

fn apply_policy(policy: HolidayPolicy, date: NaiveDate, calendar: &WorkingDayCalendar) -> Option<NaiveDate> {
    if calendar.is_working_day(date) {
        return Some(date);
    }
    let moved = match policy {
        HolidayPolicy::Keep => return Some(date),
        HolidayPolicy::Skip => return None,
        HolidayPolicy::NextWorkingDay => calendar.next_working_day(date)?,
        HolidayPolicy::PreviousWorkingDay => calendar.previous_working_day(date)?,
    };
    ((moved - date).num_days().abs() <= MAX_POLICY_SHIFT_DAYS).then_some(moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    /// The official 2026 arrangement (shared/data/holidays-cn-2026.json).
    fn cn_2026() -> WorkingDayCalendar {
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

    fn reception_day(policy: HolidayPolicy) -> ShiftTemplate {
        ShiftTemplate {
            id: 1,
            venue_id: 10,
            rrule: "FREQ=MONTHLY;BYMONTHDAY=25".into(),
            anchor: None,
            start: t(9, 0),
            end: t(11, 30),
            min_head_count: 2,
            max_head_count: 3,
            target_head_count: Some(3),
            pool_id: 100,
            pool: vec![],
            holiday_policy: policy,
            also_on_adjusted_working_days: false,
            one_per_member_per_month: true,
        }
    }

    fn home_duty(also_adjusted: bool) -> ShiftTemplate {
        ShiftTemplate {
            id: 2,
            venue_id: 20,
            rrule: "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR".into(),
            anchor: None,
            start: t(8, 30),
            end: t(12, 0),
            min_head_count: 1,
            max_head_count: 2,
            target_head_count: None,
            pool_id: 200,
            pool: vec![],
            holiday_policy: HolidayPolicy::Skip,
            also_on_adjusted_working_days: also_adjusted,
            one_per_member_per_month: false,
        }
    }

    fn dates(slots: &[ShiftSlot]) -> Vec<NaiveDate> {
        slots.iter().map(|s| s.date).collect()
    }

    #[test]
    fn reception_day_2026_has_twelve_occurrences_on_the_25th() {
        let cal = cn_2026();
        let slots = expand(&reception_day(HolidayPolicy::Keep), d(2026, 1, 1), d(2026, 12, 31), &cal).unwrap();
        assert_eq!(slots.len(), 12);
        for (i, s) in slots.iter().enumerate() {
            assert_eq!(s.date, d(2026, u32::try_from(i).unwrap() + 1, 25));
            assert_eq!(s.original_date, s.date);
            assert_eq!((s.start, s.end, s.template_id, s.venue_id), (t(9, 0), t(11, 30), 1, 10));
        }
    }

    #[test]
    fn home_duty_covers_working_days_only() {
        let cal = cn_2026();
        // September 2026: 22 weekdays, minus Fri 09-25 (Mid-Autumn) = 21; plus Sun 09-20.
        let without = expand(&home_duty(false), d(2026, 9, 1), d(2026, 9, 30), &cal).unwrap();
        assert_eq!(without.len(), 21);
        assert!(!dates(&without).contains(&d(2026, 9, 25)));
        assert!(!dates(&without).contains(&d(2026, 9, 20)));
        let with = expand(&home_duty(true), d(2026, 9, 1), d(2026, 9, 30), &cal).unwrap();
        assert_eq!(with.len(), 22);
        assert!(dates(&with).contains(&d(2026, 9, 20)));
        assert!(with.iter().all(|s| cal.is_working_day(s.date)));
        assert_eq!(with.len(), cal.count_working_days(d(2026, 9, 1), d(2026, 9, 30)));
        // October: Golden Week skipped, adjusted Saturday 10-10 covered.
        let oct = expand(&home_duty(true), d(2026, 10, 1), d(2026, 10, 31), &cal).unwrap();
        assert_eq!(dates(&oct)[..3], [d(2026, 10, 8), d(2026, 10, 9), d(2026, 10, 10)]);
        assert_eq!(oct.len(), cal.count_working_days(d(2026, 10, 1), d(2026, 10, 31)));
        // A whole year equals the number of working days.
        let year = expand(&home_duty(true), d(2026, 1, 1), d(2026, 12, 31), &cal).unwrap();
        assert_eq!(year.len(), cal.count_working_days(d(2026, 1, 1), d(2026, 12, 31)));
    }

    #[test]
    fn holiday_policies_on_mid_autumn_and_national_day() {
        let cal = cn_2026();
        let (from, to) = (d(2026, 9, 1), d(2026, 10, 31));
        let run = |p| expand(&reception_day(p), from, to, &cal).unwrap();

        let keep = run(HolidayPolicy::Keep);
        assert_eq!(dates(&keep), [d(2026, 9, 25), d(2026, 10, 25)]);

        // 09-25 is Mid-Autumn (Fri, 25–27 off); 10-25 is a plain Sunday.
        let next = run(HolidayPolicy::NextWorkingDay);
        assert_eq!(dates(&next), [d(2026, 9, 28), d(2026, 10, 26)]);
        assert_eq!(next[0].original_date, d(2026, 9, 25));

        let prev = run(HolidayPolicy::PreviousWorkingDay);
        assert_eq!(dates(&prev), [d(2026, 9, 24), d(2026, 10, 23)]);

        assert!(run(HolidayPolicy::Skip).is_empty());

        // First of the month during National Day: moved past the whole Golden Week.
        let mut first = reception_day(HolidayPolicy::NextWorkingDay);
        first.rrule = "FREQ=MONTHLY;BYMONTHDAY=1".into();
        let oct = expand(&first, d(2026, 10, 1), d(2026, 10, 31), &cal).unwrap();
        assert_eq!(dates(&oct), [d(2026, 10, 8)]);
        first.holiday_policy = HolidayPolicy::PreviousWorkingDay;
        let oct = expand(&first, d(2026, 10, 1), d(2026, 10, 31), &cal).unwrap();
        assert_eq!(dates(&oct), [d(2026, 9, 30)], "moved out of the period, still produced");
        let sep = expand(&first, d(2026, 9, 1), d(2026, 9, 30), &cal).unwrap();
        assert_eq!(dates(&sep), [d(2026, 9, 1)], "Oct 1 belongs to October's expansion only");
    }

    #[test]
    fn moved_occurrence_merges_into_existing_one() {
        let cal = cn_2026();
        let mut daily = home_duty(false);
        daily.holiday_policy = HolidayPolicy::NextWorkingDay;
        // Mon 10-05..Wed 10-07 are holidays; all move to Thu 10-08, which has its own.
        let slots = expand(&daily, d(2026, 10, 5), d(2026, 10, 9), &cal).unwrap();
        assert_eq!(dates(&slots), [d(2026, 10, 8), d(2026, 10, 9)]);
        assert_eq!(slots[0].original_date, d(2026, 10, 8));
    }

    #[test]
    fn anchor_keeps_fortnightly_phase_and_until_is_respected() {
        let cal = WorkingDayCalendar::default();
        let mut t = home_duty(false);
        t.rrule = "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE".into();
        t.anchor = Some(d(2026, 1, 7));
        let a = expand(&t, d(2026, 3, 1), d(2026, 3, 31), &cal).unwrap();
        assert_eq!(dates(&a), [d(2026, 3, 4), d(2026, 3, 18)]);
        let b = expand(&t, d(2026, 3, 10), d(2026, 3, 31), &cal).unwrap();
        assert_eq!(dates(&b), [d(2026, 3, 18)]);

        t.anchor = None;
        t.holiday_policy = HolidayPolicy::Keep;
        t.rrule = "FREQ=DAILY;UNTIL=20260105T000000Z".into();
        let c = expand(&t, d(2026, 1, 1), d(2026, 1, 31), &cal).unwrap();
        assert_eq!(c.len(), 5);
        assert!(expand(&t, d(2026, 2, 1), d(2026, 2, 28), &cal).unwrap().is_empty());
        // Date-only and floating UNTIL values are accepted (rrule alone would reject them).
        t.rrule = "FREQ=DAILY;UNTIL=20260105".into();
        assert_eq!(expand(&t, d(2026, 1, 1), d(2026, 1, 31), &cal).unwrap().len(), 5);
        t.rrule = "FREQ=DAILY;UNTIL=20260105T120000".into();
        assert_eq!(expand(&t, d(2026, 1, 1), d(2026, 1, 31), &cal).unwrap().len(), 5);
        assert!(validate_rule("FREQ=DAILY;UNTIL=20260105").is_ok());
    }

    #[test]
    fn invalid_and_never_matching_rules() {
        let cal = WorkingDayCalendar::default();
        let mut t = home_duty(false);
        t.rrule = "FREQ=SOMETIMES".into();
        assert!(matches!(expand(&t, d(2026, 1, 1), d(2026, 1, 31), &cal), Err(RecurrenceError::InvalidRule(_))));
        assert!(validate_rule("FREQ=SOMETIMES").is_err());
        t.rrule = "FREQ=HOURLY".into();
        assert_eq!(expand(&t, d(2026, 1, 1), d(2026, 1, 31), &cal), Err(RecurrenceError::SubDailyFrequency));
        // Never matches: must terminate (rrule's iteration guard), yielding nothing.
        t.rrule = "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30".into();
        let r = expand(&t, d(2026, 1, 1), d(2026, 12, 31), &cal);
        assert!(matches!(r, Ok(ref v) if v.is_empty()) || r.is_err());
        assert!(expand(&home_duty(true), d(2026, 2, 1), d(2026, 1, 1), &cal).unwrap().is_empty());
    }
}
