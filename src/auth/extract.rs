//! Auth as extractor arguments: a handler that takes `AuthUser`, `Coordinator` or `Admin`
//! cannot run for a caller without that standing.

use std::collections::BTreeSet;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};

use super::sessions::{self, SessionCheck};
use super::tokens::JwtKeys;
use crate::clock::Clock;
use crate::db::DbPool;
use crate::domain::{Role, Roles};
use crate::error::{ApiError, ErrorCode};

/// A signed-in account of some committee.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub member_id: i64,
    pub committee_id: i64,
    pub roles: Roles,
}

impl AuthUser {
    /// The token's claims, checked for signature and expiry; and the session it belongs to.
    fn from_token(req: &HttpRequest) -> Result<(Self, String), ApiError> {
        let keys = req
            .app_data::<web::Data<JwtKeys>>()
            .ok_or_else(|| ApiError::unexpected(anyhow::anyhow!("JwtKeys missing from app data")))?;
        let value = req.headers().get(header::AUTHORIZATION).ok_or(ErrorCode::Unauthenticated)?;
        let token = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).ok_or(ErrorCode::TokenInvalid)?;
        let claims = keys.verify(token.trim())?;
        let roles = Roles::new(claims.roles).map_err(|_| ErrorCode::TokenInvalid)?;
        let member_id = claims.sub.parse().map_err(|_| ErrorCode::TokenInvalid)?;
        if claims.sid.is_empty() {
            return Err(ErrorCode::TokenInvalid.into());
        }
        Ok((Self { member_id, committee_id: claims.cid, roles }, claims.sid))
    }

    /// A valid token of a session still on: signed out, deactivated or changed accounts are
    /// refused with `session_ended` within [`sessions::CHECK_TTL_SECS`] on every instance.
    /// Every authenticated API call goes through here (also the load benchmark's).
    fn extract(req: &HttpRequest) -> Pin<Box<dyn Future<Output = Result<Self, ApiError>>>> {
        let token = Self::from_token(req);
        let pool = req.app_data::<web::Data<DbPool>>().cloned();
        let check = req.app_data::<web::Data<SessionCheck>>().cloned();
        let clock = Clock::of(req);
        Box::pin(async move {
            let (user, sid) = token?;
            let missing = || ApiError::unexpected(anyhow::anyhow!("pool or session check missing from app data"));
            let (pool, check, now) = (pool.ok_or_else(missing)?, check.ok_or_else(missing)?, clock?.now_naive());
            let live = match check.recent(&sid, now) {
                Some(live) => live,
                None => {
                    let (committee_id, member_id, lookup) = (user.committee_id, user.member_id, sid.clone());
                    let live =
                        crate::db::run(&pool, move |conn| sessions::is_live(conn, committee_id, member_id, &lookup))
                            .await?;
                    check.remember(&sid, member_id, live, now);
                    live
                }
            };
            if live { Ok(user) } else { Err(ErrorCode::SessionEnded.into()) }
        })
    }

    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.roles.contains(role) { Ok(()) } else { Err(ApiError::forbidden()) }
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Self::extract(req)
    }
}

/// An admin of the committee (政协办公室).
#[derive(Debug, Clone)]
pub struct Admin(pub AuthUser);

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = AuthUser::extract(req);
        Box::pin(async move {
            let user = user.await?;
            if user.roles.is_admin() { Ok(Admin(user)) } else { Err(ApiError::forbidden()) }
        })
    }
}

/// Which venues a coordinator may act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VenueScope {
    /// Admins: every venue of the committee.
    All,
    Venues(BTreeSet<i64>),
}

impl VenueScope {
    pub fn includes(&self, venue_id: i64) -> bool {
        match self {
            VenueScope::All => true,
            VenueScope::Venues(ids) => ids.contains(&venue_id),
        }
    }

    /// The venue ids, for a query filter; `None` for all venues.
    pub fn ids(&self) -> Option<Vec<i64>> {
        match self {
            VenueScope::All => None,
            VenueScope::Venues(ids) => Some(ids.iter().copied().collect()),
        }
    }

    /// Fails with `out_of_scope` unless the venue is covered.
    pub fn check(&self, venue_id: i64) -> Result<(), ApiError> {
        if self.includes(venue_id) { Ok(()) } else { Err(ErrorCode::OutOfScope.into()) }
    }
}

/// A coordinator (or admin) with the venues they coordinate, read from the database on
/// each request so a change of scope takes effect at once.
#[derive(Debug, Clone)]
pub struct Coordinator {
    pub user: AuthUser,
    pub scope: VenueScope,
}

impl FromRequest for Coordinator {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = AuthUser::extract(req);
        let pool = req.app_data::<web::Data<DbPool>>().cloned();
        Box::pin(async move {
            let user = user.await?;
            if !user.roles.can_coordinate() {
                return Err(ApiError::forbidden());
            }
            if user.roles.is_admin() {
                return Ok(Coordinator { user, scope: VenueScope::All });
            }
            let pool = pool.ok_or_else(|| ApiError::unexpected(anyhow::anyhow!("pool missing")))?;
            let for_query = user.clone();
            let scope = crate::db::run(&pool, move |conn| load_scope(conn, &for_query)).await?;
            Ok(Coordinator { user, scope })
        })
    }
}

/// The venues `user` may coordinate: all for admins, their assigned venues for coordinators,
/// none for everyone else.
pub fn load_scope(conn: &mut crate::db::DbConnection, user: &AuthUser) -> Result<VenueScope, ApiError> {
    if user.roles.is_admin() {
        return Ok(VenueScope::All);
    }
    if !user.roles.can_coordinate() {
        return Ok(VenueScope::Venues(BTreeSet::new()));
    }
    let ids = super::store::coordinator_venue_ids(conn, user.committee_id, user.member_id)?;
    Ok(VenueScope::Venues(ids.into_iter().collect()))
}
