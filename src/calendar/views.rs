//! A year's calendar as the API takes it (the State Council's arrangement, as shipped) and
//! shows it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{YearArrangement, store};
use crate::error::{ApiError, FieldError};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    pub date: NaiveDate,
    /// e.g. 春节, 中秋节.
    pub name: String,
}

/// The shape of the State Council's arrangement as the project ships it
/// (`holidays-cn-2026.json`), so an admin can upload next year's file as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarUpload {
    /// Optional; when present it must equal the year in the path.
    pub year: Option<i32>,
    /// Where the arrangement comes from, e.g. the notice's title.
    pub source: Option<String>,
    /// Free text, ignored.
    pub note: Option<String>,
    pub holidays: Vec<Holiday>,
    /// Weekend dates that are working days (调休上班).
    pub adjusted_working_days: Vec<NaiveDate>,
}

impl CalendarUpload {
    pub fn into_arrangement(self, year: i32) -> Result<YearArrangement, ApiError> {
        let mut errors = Vec::new();
        if self.year.is_some_and(|y| y != year) {
            errors.push(FieldError::new("year", "mismatch", format!("the body says {:?}, the path {year}", self.year)));
        }
        let holidays = self.holidays.into_iter().map(|h| (h.date, h.name)).collect();
        match YearArrangement::new(year, holidays, self.adjusted_working_days) {
            Ok(a) if errors.is_empty() => Ok(a),
            Ok(_) => Err(ApiError::validation(errors)),
            Err(found) => {
                errors.extend(found.into_iter().map(|(f, e)| FieldError::new(f, e.reason, e.message)));
                Err(ApiError::validation(errors))
            }
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarYearDoc {
    pub year: i32,
    pub source: Option<String>,
    pub holidays: Vec<Holiday>,
    pub adjusted_working_days: Vec<NaiveDate>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<store::StoredYear> for CalendarYearDoc {
    fn from(stored: store::StoredYear) -> Self {
        Self {
            year: stored.arrangement.year,
            source: stored.source,
            holidays: stored.arrangement.holidays.into_iter().map(|(date, name)| Holiday { date, name }).collect(),
            adjusted_working_days: stored.arrangement.adjusted_working_days,
            updated_at: stored.updated_at.and_utc(),
        }
    }
}

pub fn year_param(raw: i32) -> Result<i32, ApiError> {
    if (2000..=2100).contains(&raw) {
        Ok(raw)
    } else {
        Err(ApiError::field("year", "out_of_range", "must be 2000–2100"))
    }
}
