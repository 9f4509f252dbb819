//! The committee's working-day calendar: weekends and official holidays are off, adjusted
//! working days (调休, weekend dates declared working days) are on.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};

/// Working-day calendar of one committee.
///
/// A date is a working day iff it is Monday–Friday and not in `holidays`, or it is in
/// `adjusted_working_days`. An adjusted working day wins over a holiday entry for the same
/// date (the official notices never list both; this just makes the rule total).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkingDayCalendar {
    /// Dates off work (法定节假日), including weekdays inside holiday blocks.
    pub holidays: BTreeSet<NaiveDate>,
    /// Weekend dates that are working days (调休上班).
    pub adjusted_working_days: BTreeSet<NaiveDate>,
}

impl WorkingDayCalendar {
    /// Builds a calendar from any iterables of dates.
    pub fn new(
        holidays: impl IntoIterator<Item = NaiveDate>,
        adjusted_working_days: impl IntoIterator<Item = NaiveDate>,
    ) -> Self {
        Self {
            holidays: holidays.into_iter().collect(),
            adjusted_working_days: adjusted_working_days.into_iter().collect(),
        }
    }

    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.adjusted_working_days.contains(&date) {
            return true;
        }
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        !weekend && !self.holidays.contains(&date)
    }

    /// Whether `date` is an adjusted working day (a weekend date that is worked).
    pub fn is_adjusted_working_day(&self, date: NaiveDate) -> bool {
        self.adjusted_working_days.contains(&date)
    }

    /// First working day strictly after `date`.
    ///
    /// `None` only at the end of chrono's date range. The search always terminates because
    /// the holiday set is finite.
    pub fn next_working_day(&self, date: NaiveDate) -> Option<NaiveDate> {
        self.working_day_on_or_after(date.succ_opt()?)
    }

    /// Last working day strictly before `date`.
    pub fn previous_working_day(&self, date: NaiveDate) -> Option<NaiveDate> {
        self.working_day_on_or_before(date.pred_opt()?)
    }

    /// `date` itself if it is a working day, otherwise the next one.
    pub fn working_day_on_or_after(&self, mut date: NaiveDate) -> Option<NaiveDate> {
        while !self.is_working_day(date) {
            date = date.succ_opt()?;
        }
        Some(date)
    }

    /// `date` itself if it is a working day, otherwise the previous one.
    pub fn working_day_on_or_before(&self, mut date: NaiveDate) -> Option<NaiveDate> {
        while !self.is_working_day(date) {
            date = date.pred_opt()?;
        }
        Some(date)
    }

    /// Deadline counting: the `n`-th working day strictly after `start` (`start` itself is
    /// never counted, whether or not it is a working day). `n == 0` returns `start` unchanged.
    ///
    /// Example: an item received on Friday 2026-09-18 with a 5-working-day deadline is due on
    /// 2026-09-24 (the adjusted Sunday 2026-09-20 counts).
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> Option<NaiveDate> {
        let mut date = start;
        for _ in 0..n {
            date = self.next_working_day(date)?;
        }
        Some(date)
    }

    /// Number of working days in the inclusive range `[from, to]` (0 if `from > to`).
    pub fn count_working_days(&self, from: NaiveDate, to: NaiveDate) -> usize {
        from.iter_days().take_while(|d| *d <= to).filter(|d| self.is_working_day(*d)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// Part of the official 2026 arrangement (国办发明电〔2025〕 notice, see
    /// shared/data/holidays-cn-2026.json): Mid-Autumn 09-25..27, National Day 10-01..07,
    /// adjusted working days Sun 09-20 and Sat 10-10.
    fn autumn_2026() -> WorkingDayCalendar {
        let mut holidays = vec![d(2026, 9, 25), d(2026, 9, 26), d(2026, 9, 27)];
        holidays.extend((1..=7).map(|day| d(2026, 10, day)));
        WorkingDayCalendar::new(holidays, [d(2026, 9, 20), d(2026, 10, 10)])
    }

    #[test]
    fn working_day_rules() {
        let cal = autumn_2026();
        assert!(cal.is_working_day(d(2026, 9, 24))); // Thursday
        assert!(!cal.is_working_day(d(2026, 9, 25))); // Friday, Mid-Autumn
        assert!(!cal.is_working_day(d(2026, 9, 19))); // plain Saturday
        assert!(cal.is_working_day(d(2026, 9, 20))); // adjusted Sunday
        assert!(cal.is_working_day(d(2026, 10, 10))); // adjusted Saturday
        assert!(!cal.is_working_day(d(2026, 10, 11))); // plain Sunday
    }

    #[test]
    fn next_and_previous_are_strict() {
        let cal = autumn_2026();
        assert_eq!(cal.next_working_day(d(2026, 9, 24)), Some(d(2026, 9, 28)));
        assert_eq!(cal.next_working_day(d(2026, 9, 30)), Some(d(2026, 10, 8)));
        assert_eq!(cal.next_working_day(d(2026, 10, 9)), Some(d(2026, 10, 10)));
        assert_eq!(cal.previous_working_day(d(2026, 9, 25)), Some(d(2026, 9, 24)));
        assert_eq!(cal.previous_working_day(d(2026, 9, 21)), Some(d(2026, 9, 20)));
        assert_eq!(cal.previous_working_day(d(2026, 10, 8)), Some(d(2026, 9, 30)));
        assert_eq!(cal.working_day_on_or_after(d(2026, 9, 24)), Some(d(2026, 9, 24)));
    }

    #[test]
    fn deadline_counting() {
        let cal = autumn_2026();
        assert_eq!(cal.add_working_days(d(2026, 9, 18), 0), Some(d(2026, 9, 18)));
        assert_eq!(cal.add_working_days(d(2026, 9, 18), 1), Some(d(2026, 9, 20)));
        assert_eq!(cal.add_working_days(d(2026, 9, 18), 5), Some(d(2026, 9, 24)));
        // Across the Golden Week: 09-28, 09-29, 09-30, 10-08, 10-09, 10-10.
        assert_eq!(cal.add_working_days(d(2026, 9, 24), 6), Some(d(2026, 10, 10)));
        assert_eq!(cal.count_working_days(d(2026, 10, 1), d(2026, 10, 11)), 3);
    }
}
