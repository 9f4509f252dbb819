//! Access tokens (JWT, HS256 pinned) and opaque refresh tokens (stored only as SHA-256).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::config::JwtSecret;
use crate::domain::Role;
use crate::error::{ApiError, ErrorCode};

pub const ACCESS_TOKEN_TTL_SECS: i64 = 15 * 60;
pub const REFRESH_TOKEN_TTL_DAYS: i64 = 30;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Member id, as a string (RFC 7519 says `sub` is a string; jsonwebtoken checks it).
    pub sub: String,
    /// Committee id: every query of the request is scoped by it.
    pub cid: i64,
    pub roles: Vec<Role>,
    /// The session (refresh-token family) the token belongs to: revoking it stops the token
    /// within seconds (see `auth::sessions`). Tokens without one are refused.
    #[serde(default)]
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
}

/// Signing and verifying keys made once from the configured secret (and, while it is being
/// rotated out, the previous one, which verifies but never signs).
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    previous: Option<DecodingKey>,
    validation: Validation,
    clock: Clock,
}

impl JwtKeys {
    pub fn new(secret: &JwtSecret, clock: Clock) -> Self {
        Self::rotating(secret, None, clock)
    }

    pub fn rotating(secret: &JwtSecret, previous: Option<&JwtSecret>, clock: Clock) -> Self {
        // Only HS256 is accepted: a token claiming `none` or another algorithm is refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        // Expiry is judged below against the service's clock, not the library's system time.
        validation.validate_exp = false;
        Self {
            encoding: EncodingKey::from_secret(secret.expose()),
            decoding: DecodingKey::from_secret(secret.expose()),
            previous: previous.map(|p| DecodingKey::from_secret(p.expose())),
            validation,
            clock,
        }
    }

    /// An access token of the session `sid` (see [`crate::auth::sessions::start`]).
    pub fn issue(
        &self,
        member_id: i64,
        committee_id: i64,
        roles: Vec<Role>,
        sid: &str,
    ) -> Result<(String, i64), ApiError> {
        let now = self.clock.now().timestamp();
        let claims = AccessClaims {
            sub: member_id.to_string(),
            cid: committee_id,
            roles,
            sid: sid.to_owned(),
            iat: now,
            exp: now + ACCESS_TOKEN_TTL_SECS,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::unexpected)?;
        Ok((token, ACCESS_TOKEN_TTL_SECS))
    }

    pub fn verify(&self, token: &str) -> Result<AccessClaims, ApiError> {
        use jsonwebtoken::errors::ErrorKind;
        let decode = |key| jsonwebtoken::decode::<AccessClaims>(token, key, &self.validation);
        let decoded = match (decode(&self.decoding), &self.previous) {
            (Err(e), Some(previous)) if *e.kind() == ErrorKind::InvalidSignature => decode(previous),
            (result, _) => result,
        };
        let claims = decoded.map(|data| data.claims).map_err(|_| ApiError::from(ErrorCode::TokenInvalid))?;
        if claims.exp + self.validation.leeway as i64 <= self.clock.now().timestamp() {
            return Err(ErrorCode::TokenExpired.into());
        }
        Ok(claims)
    }
}

/// 256 random bits, URL-safe: refresh tokens, token families, calendar tokens.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}
