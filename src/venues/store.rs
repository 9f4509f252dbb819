use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::schema::venues;

/// The most venues one request may name (a committee has a few dozen): longer lists answer
/// 422 rather than a query with thousands of parameters.
pub const MAX_VENUE_REFS: usize = 200;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = venues)]
pub struct VenueRow {
    pub id: i64,
    pub committee_id: i64,
    pub kind: String,
    pub name: String,
    pub township: Option<String>,
    pub address: Option<String>,
    pub code: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub radius_m: Option<i32>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub struct NewVenue {
    pub kind: &'static str,
    pub name: String,
    pub township: Option<String>,
    pub address: Option<String>,
    pub code: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub radius_m: Option<i32>,
}

pub fn insert(
    conn: &mut DbConnection,
    committee_id: i64,
    v: &NewVenue,
    now: NaiveDateTime,
) -> Result<i64, diesel::result::Error> {
    diesel::insert_into(venues::table)
        .values((
            venues::committee_id.eq(committee_id),
            venues::kind.eq(v.kind),
            venues::name.eq(&v.name),
            venues::township.eq(&v.township),
            venues::address.eq(&v.address),
            venues::code.eq(&v.code),
            venues::latitude.eq(v.latitude),
            venues::longitude.eq(v.longitude),
            venues::radius_m.eq(v.radius_m),
            venues::active.eq(true),
            venues::created_at.eq(now),
            venues::updated_at.eq(now),
        ))
        .returning(venues::id)
        .get_result(conn)
}

pub fn find(conn: &mut DbConnection, committee_id: i64, id: i64) -> Result<VenueRow, ApiError> {
    Ok(venues::table
        .filter(venues::committee_id.eq(committee_id).and(venues::id.eq(id)))
        .select(VenueRow::as_select())
        .first(conn)?)
}

/// The committee's venue with `code`.
pub fn find_by_code(conn: &mut DbConnection, committee_id: i64, code: &str) -> Result<VenueRow, ApiError> {
    Ok(venues::table
        .filter(venues::committee_id.eq(committee_id).and(venues::code.eq(code)))
        .select(VenueRow::as_select())
        .first(conn)?)
}

pub fn list(
    conn: &mut DbConnection,
    committee_id: i64,
    kind: Option<&str>,
    active: Option<bool>,
    after_id: i64,
    limit: i64,
) -> Result<Vec<VenueRow>, ApiError> {
    let mut query =
        venues::table.filter(venues::committee_id.eq(committee_id)).filter(venues::id.gt(after_id)).into_boxed();
    if let Some(kind) = kind {
        query = query.filter(venues::kind.eq(kind.to_owned()));
    }
    if let Some(active) = active {
        query = query.filter(venues::active.eq(active));
    }
    Ok(query.order(venues::id).limit(limit).select(VenueRow::as_select()).load(conn)?)
}

/// Ids of the committee's venues among `ids` (to check references without leaking others').
pub fn existing_ids(conn: &mut DbConnection, committee_id: i64, ids: &[i64]) -> Result<Vec<i64>, ApiError> {
    Ok(venues::table
        .filter(venues::committee_id.eq(committee_id))
        .filter(venues::id.eq_any(ids))
        .select(venues::id)
        .load(conn)?)
}

pub fn ids_by_code(conn: &mut DbConnection, committee_id: i64) -> Result<Vec<(String, i64)>, ApiError> {
    Ok(venues::table.filter(venues::committee_id.eq(committee_id)).select((venues::code, venues::id)).load(conn)?)
}
