use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode, conflict_on_unique};
use crate::schema::{coordinator_venues, members};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = members)]
pub struct MemberRow {
    pub id: i64,
    pub committee_id: i64,
    pub name: String,
    pub phone: String,
    pub sector: Option<String>,
    pub home_venue_id: Option<i64>,
    pub standing_committee: bool,
    pub active: bool,
    pub roles: String,
    pub password_hash: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A validated account ready to store.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub name: String,
    pub phone: String,
    pub sector: Option<String>,
    pub home_venue_id: Option<i64>,
    pub standing_committee: bool,
    pub active: bool,
    pub roles: String,
    pub password_hash: Option<String>,
    pub coordinator_venue_ids: Vec<i64>,
}

pub fn insert(conn: &mut DbConnection, committee_id: i64, m: &NewMember, now: NaiveDateTime) -> Result<i64, ApiError> {
    let id = diesel::insert_into(members::table)
        .values((
            members::committee_id.eq(committee_id),
            members::name.eq(&m.name),
            members::phone.eq(&m.phone),
            members::sector.eq(&m.sector),
            members::home_venue_id.eq(m.home_venue_id),
            members::standing_committee.eq(m.standing_committee),
            members::active.eq(m.active),
            members::roles.eq(&m.roles),
            members::password_hash.eq(&m.password_hash),
            members::created_at.eq(now),
            members::updated_at.eq(now),
        ))
        .returning(members::id)
        .get_result(conn)
        .map_err(|e| conflict_on_unique(e, ErrorCode::PhoneTaken))?;
    set_coordinator_venues(conn, committee_id, id, &m.coordinator_venue_ids)?;
    Ok(id)
}

pub fn set_coordinator_venues(
    conn: &mut DbConnection,
    committee_id: i64,
    member_id: i64,
    venue_ids: &[i64],
) -> Result<(), ApiError> {
    diesel::delete(coordinator_venues::table.filter(coordinator_venues::member_id.eq(member_id))).execute(conn)?;
    // A venue named twice is coordinated once.
    let venue_ids: std::collections::BTreeSet<i64> = venue_ids.iter().copied().collect();
    for venue_id in venue_ids {
        diesel::insert_into(coordinator_venues::table)
            .values((
                coordinator_venues::committee_id.eq(committee_id),
                coordinator_venues::member_id.eq(member_id),
                coordinator_venues::venue_id.eq(venue_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn find(conn: &mut DbConnection, committee_id: i64, id: i64) -> Result<MemberRow, ApiError> {
    Ok(members::table
        .filter(members::committee_id.eq(committee_id).and(members::id.eq(id)))
        .select(MemberRow::as_select())
        .first(conn)?)
}

#[derive(Debug, Default, Clone)]
pub struct MemberQuery {
    /// `Some(None)`: the roving pool only.
    pub home_venue: Option<Option<i64>>,
    /// Restrict to members homed at these venues or roving (a coordinator's scope).
    pub within_venues: Option<Vec<i64>>,
    pub sector: Option<String>,
    pub active: Option<bool>,
    pub role: Option<String>,
}

pub fn list(
    conn: &mut DbConnection,
    committee_id: i64,
    q: &MemberQuery,
    after_id: i64,
    limit: i64,
) -> Result<Vec<MemberRow>, ApiError> {
    let mut query =
        members::table.filter(members::committee_id.eq(committee_id)).filter(members::id.gt(after_id)).into_boxed();
    match q.home_venue {
        Some(Some(venue)) => query = query.filter(members::home_venue_id.eq(venue)),
        Some(None) => query = query.filter(members::home_venue_id.is_null()),
        None => {}
    }
    if let Some(venues) = &q.within_venues {
        // The roving pool is shared by every coordinator; staff accounts without a home are not in it.
        query = super::visibility::readable_within(query, venues.clone());
    }
    if let Some(sector) = &q.sector {
        query = query.filter(members::sector.eq(sector.clone()));
    }
    if let Some(active) = q.active {
        query = query.filter(members::active.eq(active));
    }
    if let Some(role) = &q.role {
        // Roles are stored as a sorted comma list of known words, so a LIKE on the word is exact.
        query = query.filter(members::roles.like(format!("%{role}%")));
    }
    Ok(query.order(members::id).limit(limit).select(MemberRow::as_select()).load(conn)?)
}

/// Coordinator scopes of many members at once (one query, not one per member).
pub fn coordinator_venues_of(
    conn: &mut DbConnection,
    committee_id: i64,
    member_ids: &[i64],
) -> Result<Vec<(i64, i64)>, ApiError> {
    Ok(coordinator_venues::table
        .filter(coordinator_venues::committee_id.eq(committee_id))
        .filter(coordinator_venues::member_id.eq_any(member_ids))
        .select((coordinator_venues::member_id, coordinator_venues::venue_id))
        .order((coordinator_venues::member_id, coordinator_venues::venue_id))
        .load(conn)?)
}

/// Which of `phones` are already registered (in any committee: phones sign in).
pub fn taken_phones(conn: &mut DbConnection, phones: &[String]) -> Result<Vec<String>, ApiError> {
    let mut taken = Vec::new();
    // Chunks keep the IN list under SQLite's bound-parameter limit.
    for chunk in phones.chunks(500) {
        let found: Vec<String> =
            members::table.filter(members::phone.eq_any(chunk)).select(members::phone).load(conn)?;
        taken.extend(found);
    }
    Ok(taken)
}

/// The names of these accounts of the committee, by id.
pub fn names(
    conn: &mut DbConnection,
    committee_id: i64,
    ids: &[i64],
) -> Result<std::collections::BTreeMap<i64, String>, ApiError> {
    let mut names = std::collections::BTreeMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(i64, String)> = members::table
            .filter(members::committee_id.eq(committee_id).and(members::id.eq_any(chunk)))
            .select((members::id, members::name))
            .load(conn)?;
        names.extend(rows);
    }
    Ok(names)
}
