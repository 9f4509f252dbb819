use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::sessions::{self, SessionCheck};
use super::sign_in::authenticate;
use super::store;
use super::tokens::{JwtKeys, REFRESH_TOKEN_TTL_DAYS, random_token, sha256_hex};
use crate::clock::Clock;
use crate::db::{self, DbConnection, DbPool};
use crate::domain::{Role, Roles};
use crate::error::{ApiError, ErrorCode, Problem};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(login).service(refresh).service(logout);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Mobile number, e.g. `13800000001`.
    pub phone: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// JWT for `Authorization: Bearer …`, valid `expires_in` seconds.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    pub expires_in: i64,
    /// Single-use: each refresh returns a new one. Presenting a used one ends the session.
    pub refresh_token: String,
    pub refresh_expires_at: chrono::DateTime<chrono::Utc>,
    pub member_id: i64,
    pub roles: Vec<Role>,
}

/// Sign in with phone and password.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenPair),
        (status = 401, description = "`invalid_credentials`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`account_inactive`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`login_throttled`, with Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
async fn login(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    keys: web::Data<JwtKeys>,
    clock: Clock,
    body: web::Json<LoginRequest>,
) -> Result<web::Json<TokenPair>, ApiError> {
    let LoginRequest { phone, password: candidate } = body.into_inner();
    let address = crate::client_address::client_address(&req);
    let now = clock.now_naive();
    // Password hashing is CPU work: it runs on the blocking pool with the queries.
    let account = db::run(&pool, move |conn| authenticate(conn, &phone, &candidate, &address, now)).await?;
    if !account.active {
        return Err(ErrorCode::AccountInactive.into());
    }
    let roles = Roles::parse_list(&account.roles).map_err(|e| ApiError::unexpected(anyhow::anyhow!("{e}")))?;
    let (member_id, committee_id) = (account.id, account.committee_id);
    let session = db::run(&pool, move |conn| sessions::start(conn, committee_id, member_id, now)).await?;
    token_pair(
        &keys,
        member_id,
        committee_id,
        &roles,
        &session.family,
        session.refresh_token,
        session.refresh_expires_at,
    )
}

/// Exchange a refresh token for a new pair. The old refresh token is spent.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenPair),
        (status = 401, description = "`refresh_token_invalid` or `refresh_token_reused` (the whole session is revoked)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`account_inactive`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
async fn refresh(
    pool: web::Data<DbPool>,
    keys: web::Data<JwtKeys>,
    clock: Clock,
    body: web::Json<RefreshRequest>,
) -> Result<web::Json<TokenPair>, ApiError> {
    let presented = sha256_hex(body.refresh_token.trim());
    let now = clock.now_naive();
    // The reuse verdict must be committed even though the request fails, so the family
    // revocation runs in its own transaction and the outcome is returned, not thrown.
    let outcome = db::transaction(&pool, move |conn| rotate(conn, &presented, now)).await?;
    match outcome {
        Rotation::Rotated { member_id, committee_id, roles, family, token, expires_at } => {
            token_pair(&keys, member_id, committee_id, &roles, &family, token, expires_at)
        }
        Rotation::Refused(code) => Err(code.into()),
    }
}

enum Rotation {
    Rotated {
        member_id: i64,
        committee_id: i64,
        roles: Roles,
        family: String,
        token: String,
        expires_at: chrono::NaiveDateTime,
    },
    Refused(ErrorCode),
}

fn rotate(conn: &mut DbConnection, presented_hash: &str, now: NaiveDateTime) -> Result<Rotation, ApiError> {
    let Some(stored) = store::refresh_token_by_hash(conn, presented_hash)? else {
        return Ok(Rotation::Refused(ErrorCode::RefreshTokenInvalid));
    };
    if stored.revoked_at.is_some() {
        return Ok(Rotation::Refused(ErrorCode::RefreshTokenInvalid));
    }
    if stored.used_at.is_some() || !store::mark_refresh_token_used(conn, stored.id, now)? {
        // A spent token came back: someone holds a copy. End every token of the family.
        store::revoke_family(conn, &stored.family, now)?;
        tracing::warn!(member_id = stored.member_id, "refresh token reuse; session family revoked");
        return Ok(Rotation::Refused(ErrorCode::RefreshTokenReused));
    }
    if stored.expires_at <= now {
        return Ok(Rotation::Refused(ErrorCode::RefreshTokenInvalid));
    }
    let account = store::account_by_id(conn, stored.committee_id, stored.member_id)?;
    let Some(account) = account else {
        return Ok(Rotation::Refused(ErrorCode::RefreshTokenInvalid));
    };
    if !account.active {
        store::revoke_family(conn, &stored.family, now)?;
        return Ok(Rotation::Refused(ErrorCode::AccountInactive));
    }
    let roles = Roles::parse_list(&account.roles).map_err(|e| ApiError::unexpected(anyhow::anyhow!("{e}")))?;
    let token = random_token();
    let expires_at = now + Duration::days(REFRESH_TOKEN_TTL_DAYS);
    store::insert_refresh_token(
        conn,
        account.committee_id,
        account.id,
        &stored.family,
        &sha256_hex(&token),
        now,
        expires_at,
    )?;
    Ok(Rotation::Rotated {
        member_id: account.id,
        committee_id: account.committee_id,
        roles,
        family: stored.family,
        token,
        expires_at,
    })
}

/// End the session the refresh token belongs to (every token of its family). Its access
/// tokens answer 401 `session_ended` from then on: at once on this instance, within
/// seconds on the others.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses((status = 204, description = "Signed out (also when the token was already unknown)"))
)]
#[post("/auth/logout")]
async fn logout(
    pool: web::Data<DbPool>,
    check: web::Data<SessionCheck>,
    clock: Clock,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = sha256_hex(body.refresh_token.trim());
    let now = clock.now_naive();
    let family = db::run(&pool, move |conn| {
        let stored = store::refresh_token_by_hash(conn, &presented)?;
        if let Some(stored) = &stored {
            store::revoke_family(conn, &stored.family, now)?;
        }
        Ok(stored.map(|s| s.family))
    })
    .await?;
    if let Some(family) = family {
        check.forget(&family);
    }
    Ok(HttpResponse::NoContent().finish())
}

fn token_pair(
    keys: &JwtKeys,
    member_id: i64,
    committee_id: i64,
    roles: &Roles,
    sid: &str,
    refresh_token: String,
    refresh_expires_at: chrono::NaiveDateTime,
) -> Result<web::Json<TokenPair>, ApiError> {
    let roles: Vec<Role> = roles.iter().collect();
    let (access_token, expires_in) = keys.issue(member_id, committee_id, roles.clone(), sid)?;
    Ok(web::Json(TokenPair {
        access_token,
        token_type: "Bearer",
        expires_in,
        refresh_token,
        refresh_expires_at: refresh_expires_at.and_utc(),
        member_id,
        roles,
    }))
}
