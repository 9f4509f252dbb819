//! The committee's working-day calendar (节假日安排): per year, the public holidays and the
//! weekend dates that are adjusted working days (调休). Rosters and deadlines count on it.

pub mod attention;
mod handlers;
pub mod store;
mod views;
mod workflow;
mod working_days;

pub use handlers::routes;
pub use views::{CalendarUpload, CalendarYearDoc, Holiday};
pub use workflow::set_year;
pub use working_days::WorkingDayCalendar;

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};

use crate::domain::Invalid;

/// The years a committee has an official arrangement for. Working days counted into any other
/// year take weekends only, and what is counted so is provisional and must say so.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownYears(pub BTreeSet<i32>);

impl KnownYears {
    /// Whether every year from `from` to `to` has its arrangement.
    pub fn cover(&self, from: NaiveDate, to: NaiveDate) -> bool {
        (from.year().min(to.year())..=to.year().max(from.year())).all(|y| self.0.contains(&y))
    }
}

/// The official 2026 arrangement, shipped for the demo and tests; later years are uploaded.
pub const CHINA_2026_JSON: &str = include_str!("holidays-cn-2026.json");

/// One year's arrangement, checked: every date in the year, no date twice, adjusted working
/// days only on weekends, holidays named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearArrangement {
    pub year: i32,
    pub holidays: Vec<(NaiveDate, String)>,
    pub adjusted_working_days: Vec<NaiveDate>,
}

impl YearArrangement {
    /// Errors carry the field path (`holidays[3].date`) and why.
    pub fn new(
        year: i32,
        holidays: Vec<(NaiveDate, String)>,
        adjusted_working_days: Vec<NaiveDate>,
    ) -> Result<Self, Vec<(String, Invalid)>> {
        let mut errors = Vec::new();
        if !(2000..=2100).contains(&year) {
            errors.push(("year".to_owned(), Invalid::new("out_of_range", "must be 2000–2100")));
        }
        let mut seen = BTreeSet::new();
        let mut holidays_out = Vec::new();
        for (i, (date, name)) in holidays.into_iter().enumerate() {
            if date.year() != year {
                errors.push((
                    format!("holidays[{i}].date"),
                    Invalid::new("wrong_year", format!("{date} is not in {year}")),
                ));
            } else if !seen.insert(date) {
                errors.push((
                    format!("holidays[{i}].date"),
                    Invalid::new("duplicate", format!("{date} is listed twice")),
                ));
            }
            match crate::domain::bounded_text(&name, 32) {
                Ok(name) => holidays_out.push((date, name)),
                Err(e) => errors.push((format!("holidays[{i}].name"), e)),
            }
        }
        for (i, date) in adjusted_working_days.iter().enumerate() {
            let field = format!("adjusted_working_days[{i}]");
            if date.year() != year {
                errors.push((field, Invalid::new("wrong_year", format!("{date} is not in {year}"))));
            } else if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
                errors.push((
                    field,
                    Invalid::new(
                        "not_a_weekend",
                        format!("{date} is a weekday; only weekend dates can be adjusted working days"),
                    ),
                ));
            } else if !seen.insert(*date) {
                errors.push((field, Invalid::new("duplicate", format!("{date} is also listed elsewhere"))));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        holidays_out.sort();
        let mut adjusted = adjusted_working_days;
        adjusted.sort();
        Ok(Self { year, holidays: holidays_out, adjusted_working_days: adjusted })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_shipped_2026_file_is_valid() {
        let doc: views::CalendarUpload = serde_json::from_str(CHINA_2026_JSON).unwrap();
        let arrangement = doc.into_arrangement(2026).unwrap();
        assert_eq!(arrangement.holidays.len(), 33);
        assert!(arrangement.holidays.iter().any(|(date, name)| *date == d("2026-09-25") && name == "中秋节"));
        assert_eq!(arrangement.adjusted_working_days.len(), 6);
    }

    #[test]
    fn refuses_inconsistent_years() {
        let errors = YearArrangement::new(
            2026,
            vec![(d("2025-12-31"), "x".into()), (d("2026-05-01"), "劳动节".into()), (d("2026-05-01"), "劳动节".into())],
            vec![d("2026-05-06"), d("2026-05-09")],
        )
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|(f, e)| (f.as_str(), e.reason)).collect();
        assert_eq!(
            fields,
            vec![
                ("holidays[0].date", "wrong_year"),
                ("holidays[2].date", "duplicate"),
                ("adjusted_working_days[0]", "not_a_weekend")
            ]
        );
    }
}
