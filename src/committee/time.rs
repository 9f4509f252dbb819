//! The committee's time zone, and the conversions between its local dates and times (what
//! people read: the 25th, 08:30) and the UTC instants the database stores.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::schema::committees;

/// The committee's time zone.
pub fn timezone(conn: &mut DbConnection, committee_id: i64) -> Result<chrono_tz::Tz, ApiError> {
    let name: String = committees::table.find(committee_id).select(committees::timezone).first(conn)?;
    Ok(parse_timezone(committee_id, &name))
}

/// The one rule for a stored zone name: it was checked when written (`Timezone::parse`), so
/// an unknown one is a damaged row; it is logged and read as the default, Asia/Shanghai,
/// rather than stopping the committee's duties.
pub fn parse_timezone(committee_id: i64, name: &str) -> chrono_tz::Tz {
    name.parse().unwrap_or_else(|_| {
        tracing::warn!(committee_id, timezone = name, "unknown stored time zone; reading it as Asia/Shanghai");
        chrono_tz::Asia::Shanghai
    })
}

/// Converts a committee-local date and time to the stored UTC instant.
pub fn local_to_utc(tz: chrono_tz::Tz, date: NaiveDate, time: NaiveTime) -> NaiveDateTime {
    let local = date.and_time(time);
    // Asia/Shanghai has no DST; for zones that do, take the earlier of an ambiguous pair.
    tz.from_local_datetime(&local).earliest().map(|dt| dt.naive_utc()).unwrap_or(local)
}

/// The committee-local date of a stored instant.
pub fn local_date(tz: chrono_tz::Tz, at: NaiveDateTime) -> NaiveDate {
    tz.from_utc_datetime(&at).date_naive()
}
