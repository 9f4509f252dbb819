//! What the API shows of a member.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::store::{self, MemberRow};
use crate::db::DbConnection;
use crate::domain::{Role, Roles};
use crate::error::ApiError;

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub id: i64,
    pub name: String,
    /// Shown to the member themself, coordinators and admins.
    pub phone: String,
    /// 界别, e.g. 经济界. Absent for staff accounts.
    pub sector: Option<String>,
    /// The studio group the member belongs to; absent for the roving pool.
    pub home_venue_id: Option<i64>,
    /// In the roving pool (a member without a home venue).
    pub roving: bool,
    /// 常委.
    pub standing_committee: bool,
    pub active: bool,
    pub roles: Vec<Role>,
    /// Venues a coordinator manages.
    pub coordinator_venue_ids: Vec<i64>,
    /// False until a password is set: the account cannot sign in yet.
    pub can_sign_in: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl MemberView {
    pub fn new(row: MemberRow, coordinator_venue_ids: Vec<i64>) -> Self {
        let roles: Vec<Role> = Roles::parse_list(&row.roles).map(|r| r.iter().collect()).unwrap_or_default();
        Self {
            id: row.id,
            roving: row.home_venue_id.is_none() && roles.contains(&Role::Member),
            name: row.name,
            phone: row.phone,
            sector: row.sector,
            home_venue_id: row.home_venue_id,
            standing_committee: row.standing_committee,
            active: row.active,
            roles,
            coordinator_venue_ids,
            can_sign_in: row.password_hash.is_some(),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

pub fn views(conn: &mut DbConnection, committee_id: i64, rows: Vec<MemberRow>) -> Result<Vec<MemberView>, ApiError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut scopes: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (member, venue) in store::coordinator_venues_of(conn, committee_id, &ids)? {
        scopes.entry(member).or_default().push(venue);
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let s = scopes.remove(&r.id).unwrap_or_default();
            MemberView::new(r, s)
        })
        .collect())
}
