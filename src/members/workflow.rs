//! Changing an account: the fields, and the sessions a change ends.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::store::{self, MemberRow};
use crate::auth::sessions::{self, CredentialChange};
use crate::db::DbConnection;
use crate::domain::Roles;
use crate::error::{ApiError, ErrorCode};
use crate::schema::members;

/// Checked changes to an account; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct MemberChanges {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub sector: Option<Option<String>>,
    pub home_venue_id: Option<Option<i64>>,
    pub standing_committee: Option<bool>,
    pub active: Option<bool>,
    pub roles: Option<Roles>,
    pub coordinator_venue_ids: Option<Vec<i64>>,
    /// A new password, hashed.
    pub password_hash: Option<String>,
}

#[derive(AsChangeset)]
#[diesel(table_name = members)]
struct Columns<'a> {
    name: Option<&'a str>,
    phone: Option<&'a str>,
    sector: Option<Option<&'a str>>,
    home_venue_id: Option<Option<i64>>,
    standing_committee: Option<bool>,
    active: Option<bool>,
    roles: Option<String>,
    password_hash: Option<&'a str>,
    updated_at: NaiveDateTime,
}

/// Applies `changes` to the account `current` (inside the caller's transaction). A new
/// password, a deactivation or other roles end every session of the account, by the one
/// rule of [`sessions::end_all`]; true when they did.
pub fn update(
    conn: &mut DbConnection,
    current: &MemberRow,
    changes: MemberChanges,
    now: NaiveDateTime,
) -> Result<bool, ApiError> {
    let (committee_id, id) = (current.committee_id, current.id);
    let credential = CredentialChange {
        password: changes.password_hash.is_some(),
        deactivated: current.active && changes.active == Some(false),
        roles: changes.roles.as_ref().is_some_and(|r| r.to_storage() != current.roles),
    };
    let target = members::table.filter(members::committee_id.eq(committee_id).and(members::id.eq(id)));
    // One statement for the account's own columns; a field left `None` is not set.
    let columns = Columns {
        name: changes.name.as_deref(),
        phone: changes.phone.as_deref(),
        sector: changes.sector.as_ref().map(|s| s.as_deref()),
        home_venue_id: changes.home_venue_id,
        standing_committee: changes.standing_committee,
        active: changes.active,
        roles: changes.roles.as_ref().map(Roles::to_storage),
        password_hash: changes.password_hash.as_deref(),
        updated_at: now,
    };
    diesel::update(target)
        .set(&columns)
        .execute(conn)
        // The phone is the only unique column a change can collide on.
        .map_err(|e| crate::error::conflict_on_unique(e, ErrorCode::PhoneTaken))?;
    if let Some(venues) = &changes.coordinator_venue_ids {
        store::set_coordinator_venues(conn, committee_id, id, venues)?;
    }
    if let Some(hash) = changes.password_hash {
        diesel::update(target).set(members::password_hash.eq(hash)).execute(conn)?;
    }
    sessions::end_all(conn, committee_id, id, credential, now)?;
    Ok(credential.ends_sessions())
}
