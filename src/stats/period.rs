//! Reporting periods in the committee's local dates: a month (`2026-11`), a quarter
//! (`2026-Q4`), a half-year (`2026-H2`) or a year (`2026`). Parsed once at the boundary;
//! `Display` prints the same form back.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::Invalid;

/// How long a period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Month,
    Quarter,
    Half,
    Year,
}

impl PeriodKind {
    /// Months in one period of this kind.
    fn months(self) -> u32 {
        match self {
            PeriodKind::Month => 1,
            PeriodKind::Quarter => 3,
            PeriodKind::Half => 6,
            PeriodKind::Year => 12,
        }
    }
}

/// One reporting period: a kind, a year and the period's index within the year (the month
/// 1–12, the quarter 1–4, the half 1–2, or 1 for the year).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    kind: PeriodKind,
    year: i32,
    index: u32,
}

/// Years a period may name: four digits, so the parse form stays unambiguous.
const YEARS: std::ops::RangeInclusive<i32> = 1000..=9999;

fn invalid() -> Invalid {
    Invalid::new("invalid_period", "a month 2026-11, a quarter 2026-Q4, a half-year 2026-H2 or a year 2026")
}

impl Period {
    /// Parses `2026-11`, `2026-Q4`, `2026-H2` or `2026` (letters in either case).
    pub fn parse(raw: &str) -> Result<Period, Invalid> {
        let raw = raw.trim();
        let (year, rest) = match raw.split_once('-') {
            Some((y, rest)) => (y, Some(rest)),
            None => (raw, None),
        };
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let year: i32 = year.parse().map_err(|_| invalid())?;
        if !YEARS.contains(&year) {
            return Err(invalid());
        }
        let digits = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
        let (kind, index) = match rest {
            None => (PeriodKind::Year, 1),
            Some(r) if digits(r, 2) => (PeriodKind::Month, r.parse().map_err(|_| invalid())?),
            Some(r) => match r.as_bytes() {
                [letter, digit] if digit.is_ascii_digit() => {
                    let index = u32::from(digit - b'0');
                    match letter.to_ascii_uppercase() {
                        b'Q' => (PeriodKind::Quarter, index),
                        b'H' => (PeriodKind::Half, index),
                        _ => return Err(invalid()),
                    }
                }
                _ => return Err(invalid()),
            },
        };
        if !(1..=12 / kind.months()).contains(&index) {
            return Err(invalid());
        }
        Ok(Period { kind, year, index })
    }

    /// The period of `kind` that contains `date`.
    pub fn containing(date: NaiveDate, kind: PeriodKind) -> Period {
        let index = (date.month() - 1) / kind.months() + 1;
        Period { kind, year: date.year(), index }
    }

    pub fn kind(&self) -> PeriodKind {
        self.kind
    }

    pub fn year(&self) -> i32 {
        self.year
    }

    fn first_month(&self) -> u32 {
        (self.index - 1) * self.kind.months() + 1
    }

    /// The first local date of the period.
    pub fn first_day(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.first_month(), 1).expect("a valid first day")
    }

    /// The last local date of the period.
    pub fn last_day(&self) -> NaiveDate {
        let last_month = self.first_month() + self.kind.months() - 1;
        let next = if last_month == 12 {
            NaiveDate::from_ymd_opt(self.year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(self.year, last_month + 1, 1)
        };
        next.and_then(|d| d.pred_opt()).expect("a valid last day")
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        (self.first_day()..=self.last_day()).contains(&date)
    }

    /// The period as a Chinese report title says it: `2026年11月`, `2026年第四季度`,
    /// `2026年上半年`, `2026年度`.
    pub fn label_zh(&self) -> String {
        const QUARTERS: [&str; 4] = ["一", "二", "三", "四"];
        match self.kind {
            PeriodKind::Month => format!("{}年{}月", self.year, self.index),
            PeriodKind::Quarter => format!("{}年第{}季度", self.year, QUARTERS[(self.index - 1) as usize]),
            PeriodKind::Half => format!("{}年{}半年", self.year, if self.index == 1 { "上" } else { "下" }),
            PeriodKind::Year => format!("{}年度", self.year),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            PeriodKind::Month => write!(f, "{:04}-{:02}", self.year, self.index),
            PeriodKind::Quarter => write!(f, "{:04}-Q{}", self.year, self.index),
            PeriodKind::Half => write!(f, "{:04}-H{}", self.year, self.index),
            PeriodKind::Year => write!(f, "{:04}", self.year),
        }
    }
}

impl FromStr for Period {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Period::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_four_kinds_parse_with_their_dates_and_labels() {
        let cases = [
            ("2026-11", d(2026, 11, 1), d(2026, 11, 30), "2026年11月"),
            ("2026-02", d(2026, 2, 1), d(2026, 2, 28), "2026年2月"),
            ("2028-02", d(2028, 2, 1), d(2028, 2, 29), "2028年2月"),
            ("2026-Q4", d(2026, 10, 1), d(2026, 12, 31), "2026年第四季度"),
            ("2026-Q1", d(2026, 1, 1), d(2026, 3, 31), "2026年第一季度"),
            ("2026-H1", d(2026, 1, 1), d(2026, 6, 30), "2026年上半年"),
            ("2026-H2", d(2026, 7, 1), d(2026, 12, 31), "2026年下半年"),
            ("2026", d(2026, 1, 1), d(2026, 12, 31), "2026年度"),
        ];
        for (raw, first, last, label) in cases {
            let p = Period::parse(raw).unwrap();
            assert_eq!((p.first_day(), p.last_day(), p.label_zh().as_str()), (first, last, label), "{raw}");
            assert_eq!(p.to_string(), raw);
        }
        assert_eq!(Period::parse(" 2026-q3 ").unwrap().to_string(), "2026-Q3");
        assert_eq!(Period::parse("2026-h1").unwrap().kind(), PeriodKind::Half);
    }

    #[test]
    fn malformed_periods_are_refused() {
        for bad in [
            "",
            "26",
            "2026-13",
            "2026-00",
            "2026-1",
            "2026-Q0",
            "2026-Q5",
            "2026-H3",
            "2026-H0",
            "2026-X1",
            "2026-",
            "2026-11-01",
            "-2026",
            "+202",
            "0999",
            "2026-Q12",
            "２０２６",
            "2026-１1",
            "2026-é",
            "2026-Ｑ4",
            "year",
        ] {
            let e = Period::parse(bad).unwrap_err();
            assert_eq!(e.reason, "invalid_period", "{bad:?}");
        }
    }

    #[test]
    fn containing_finds_the_period_of_a_date() {
        let date = d(2026, 11, 29);
        assert_eq!(Period::containing(date, PeriodKind::Month).to_string(), "2026-11");
        assert_eq!(Period::containing(date, PeriodKind::Quarter).to_string(), "2026-Q4");
        assert_eq!(Period::containing(date, PeriodKind::Half).to_string(), "2026-H2");
        assert_eq!(Period::containing(date, PeriodKind::Year).to_string(), "2026");
        assert_eq!(Period::containing(d(2026, 6, 30), PeriodKind::Half).to_string(), "2026-H1");
        assert_eq!(Period::containing(d(2026, 4, 1), PeriodKind::Quarter).to_string(), "2026-Q2");
    }

    fn any_kind() -> impl Strategy<Value = PeriodKind> {
        prop_oneof![Just(PeriodKind::Month), Just(PeriodKind::Quarter), Just(PeriodKind::Half), Just(PeriodKind::Year)]
    }

    proptest! {
        #[test]
        fn display_and_parse_round_trip(year in 1000i32..=9999, ordinal in 1u32..=365, kind in any_kind()) {
            let date = NaiveDate::from_yo_opt(year, ordinal).unwrap();
            let p = Period::containing(date, kind);
            prop_assert_eq!(Period::parse(&p.to_string()).unwrap(), p);
            prop_assert!(p.contains(date));
            prop_assert!(p.first_day() <= p.last_day());
            // Periods of one kind tile the year: the day after the last is the next period's first.
            let next = p.last_day().succ_opt().unwrap();
            prop_assert_eq!(Period::containing(next, kind).first_day(), next);
            prop_assert_eq!(Period::containing(p.first_day(), kind), p);
        }
    }
}
