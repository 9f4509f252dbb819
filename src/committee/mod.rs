//! Committees: the tenants. Every row of every table belongs to one, and every query is
//! scoped by the committee of the caller's token.

mod handlers;
mod time;

pub use handlers::routes;

use chrono::NaiveDateTime;
use diesel::prelude::*;
pub use time::{local_date, local_to_utc, parse_timezone, timezone};

use crate::auth::password;
use crate::db::DbConnection;
use crate::domain::{CommitteeSettings, Password, PersonName, Phone, Role, Roles, Timezone};
use crate::error::ApiError;
use crate::members::store::{self as members, NewMember};
use crate::schema::committees;

/// What is needed to open a committee: its identity and its first admin.
pub struct NewCommittee<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub timezone: Timezone,
    pub admin_name: PersonName,
    pub admin_phone: Phone,
    pub admin_password: Password,
}

pub struct CreatedCommittee {
    pub committee_id: i64,
    pub admin_id: i64,
}

/// Creates a committee with default settings and its first admin, in one transaction.
pub fn create(
    conn: &mut DbConnection,
    new: NewCommittee<'_>,
    now: NaiveDateTime,
) -> Result<CreatedCommittee, ApiError> {
    let hash = password::hash(&new.admin_password).map_err(ApiError::unexpected)?;
    conn.transaction(|conn| {
        let settings = serde_json::to_string(&CommitteeSettings::default()).map_err(ApiError::unexpected)?;
        let committee_id: i64 = diesel::insert_into(committees::table)
            .values((
                committees::code.eq(new.code),
                committees::name.eq(new.name),
                committees::timezone.eq(new.timezone.0.name()),
                committees::settings.eq(settings),
                committees::created_at.eq(now),
                committees::updated_at.eq(now),
            ))
            .returning(committees::id)
            .get_result(conn)?;
        let admin = NewMember {
            name: new.admin_name.into_inner(),
            phone: new.admin_phone.as_str().to_owned(),
            sector: None,
            home_venue_id: None,
            standing_committee: false,
            active: true,
            roles: Roles::new([Role::Admin]).expect("non-empty").to_storage(),
            password_hash: Some(hash),
            coordinator_venue_ids: Vec::new(),
        };
        let admin_id = members::insert(conn, committee_id, &admin, now)?;
        Ok(CreatedCommittee { committee_id, admin_id })
    })
}

pub fn load_settings(conn: &mut DbConnection, committee_id: i64) -> Result<CommitteeSettings, ApiError> {
    let raw: String = committees::table.find(committee_id).select(committees::settings).first(conn)?;
    serde_json::from_str(&raw).map_err(ApiError::unexpected)
}

pub fn count(conn: &mut DbConnection) -> Result<i64, ApiError> {
    Ok(committees::table.count().get_result(conn)?)
}
