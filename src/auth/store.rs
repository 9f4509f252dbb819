use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::schema::{coordinator_venues, members, refresh_tokens};

pub struct LoginAccount {
    pub id: i64,
    pub committee_id: i64,
    pub roles: String,
    pub active: bool,
    pub password_hash: Option<String>,
}

pub fn account_by_phone(conn: &mut DbConnection, phone: &str) -> Result<Option<LoginAccount>, ApiError> {
    let row = members::table
        .filter(members::phone.eq(phone))
        .select((members::id, members::committee_id, members::roles, members::active, members::password_hash))
        .first::<(i64, i64, String, bool, Option<String>)>(conn)
        .optional()?;
    Ok(row.map(|(id, committee_id, roles, active, password_hash)| LoginAccount {
        id,
        committee_id,
        roles,
        active,
        password_hash,
    }))
}

pub fn account_by_id(conn: &mut DbConnection, committee_id: i64, id: i64) -> Result<Option<LoginAccount>, ApiError> {
    let row = members::table
        .filter(members::committee_id.eq(committee_id).and(members::id.eq(id)))
        .select((members::id, members::committee_id, members::roles, members::active, members::password_hash))
        .first::<(i64, i64, String, bool, Option<String>)>(conn)
        .optional()?;
    Ok(row.map(|(id, committee_id, roles, active, password_hash)| LoginAccount {
        id,
        committee_id,
        roles,
        active,
        password_hash,
    }))
}

pub fn coordinator_venue_ids(conn: &mut DbConnection, committee_id: i64, member_id: i64) -> Result<Vec<i64>, ApiError> {
    Ok(coordinator_venues::table
        .filter(coordinator_venues::committee_id.eq(committee_id))
        .filter(coordinator_venues::member_id.eq(member_id))
        .select(coordinator_venues::venue_id)
        .order(coordinator_venues::venue_id)
        .load(conn)?)
}

pub fn insert_refresh_token(
    conn: &mut DbConnection,
    committee_id: i64,
    member_id: i64,
    family: &str,
    token_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), ApiError> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::committee_id.eq(committee_id),
            refresh_tokens::member_id.eq(member_id),
            refresh_tokens::family.eq(family),
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::issued_at.eq(now),
            refresh_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub struct StoredRefreshToken {
    pub id: i64,
    pub committee_id: i64,
    pub member_id: i64,
    pub family: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn refresh_token_by_hash(
    conn: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<StoredRefreshToken>, ApiError> {
    let row = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select((
            refresh_tokens::id,
            refresh_tokens::committee_id,
            refresh_tokens::member_id,
            refresh_tokens::family,
            refresh_tokens::expires_at,
            refresh_tokens::used_at,
            refresh_tokens::revoked_at,
        ))
        .first::<(i64, i64, i64, String, NaiveDateTime, Option<NaiveDateTime>, Option<NaiveDateTime>)>(conn)
        .optional()?;
    Ok(row.map(|(id, committee_id, member_id, family, expires_at, used_at, revoked_at)| StoredRefreshToken {
        id,
        committee_id,
        member_id,
        family,
        expires_at,
        used_at,
        revoked_at,
    }))
}

/// Marks a token used, only if nobody did first; false means it was already spent (a replay
/// or a race between two devices), which the caller treats as reuse.
pub fn mark_refresh_token_used(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> Result<bool, ApiError> {
    let updated = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(id))
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn revoke_family(conn: &mut DbConnection, family: &str, now: NaiveDateTime) -> Result<(), ApiError> {
    diesel::update(
        refresh_tokens::table.filter(refresh_tokens::family.eq(family)).filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}
