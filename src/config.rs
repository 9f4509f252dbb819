//! Configuration from the environment (table in the README).

use std::net::SocketAddr;

use crate::db::DatabaseLocation;

/// The JWT secret the demo uses. Any other mode refuses to start with it.
pub const DEMO_JWT_SECRET: &str = "zhiban-demo-secret-do-not-use-in-production";
const MIN_SECRET_LEN: usize = 32;
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/zhiban.db";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Clone)]
pub struct Settings {
    pub database: DatabaseLocation,
    pub bind: SocketAddr,
    /// Base URL printed in links (demo output, handling-unit links later).
    pub public_url: Option<String>,
    pub jwt_secret: JwtSecret,
    /// The secret being rotated out (`ZHIBAN_JWT_PREVIOUS_SECRET`): access tokens it signed are
    /// still accepted until they expire; new ones are signed with `jwt_secret` only.
    pub jwt_previous_secret: Option<JwtSecret>,
    pub log_format: LogFormat,
    pub db_pool_size: u32,
    /// Whether this instance runs the background worker (webhook deliveries, reminders).
    /// `ZHIBAN_WORKER=off` turns it off; the test harness drives the worker by hand.
    pub worker_enabled: bool,
    /// Residents' submissions accepted per client address in 10 minutes
    /// (`ZHIBAN_SUBMISSIONS_PER_ADDRESS`, default 30: generous, as one mobile carrier's NAT
    /// can put a whole reception day's queue behind one address).
    pub submissions_per_address: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`ZHIBAN_TRUSTED_PROXIES`).
    pub trusted_proxies: crate::client_address::TrustedProxies,
    /// The loopback and private networks deliveries may reach besides the public internet
    /// (`ZHIBAN_WEBHOOK_ALLOW_PRIVATE`, networks separated by commas; none by default).
    pub webhook_egress: crate::egress::Egress,
    /// Where every rule reads "now": the system clock, unless a test or the demo pins it.
    pub clock: crate::clock::Clock,
}

/// The signing secret; its `Debug` never prints it.
#[derive(Clone)]
pub struct JwtSecret(String);

impl JwtSecret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtSecret(***)")
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database", &self.database.redacted())
            .field("bind", &self.bind)
            .field("public_url", &self.public_url)
            .field("rotating_jwt_secret", &self.jwt_previous_secret.is_some())
            .field("log_format", &self.log_format)
            .field("db_pool_size", &self.db_pool_size)
            .field("worker_enabled", &self.worker_enabled)
            .field("submissions_per_address", &self.submissions_per_address)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    DatabaseUrl(#[from] crate::db::DatabaseUrlError),
    #[error("ZHIBAN_BIND must be an address like 127.0.0.1:8080 (got {0:?})")]
    Bind(String),
    #[error(
        "ZHIBAN_JWT_SECRET is not set. Set it to a random string of at least {MIN_SECRET_LEN} characters, \
         e.g. `export ZHIBAN_JWT_SECRET=$(head -c 48 /dev/urandom | base64)`. (`zhiban demo` runs without it.)"
    )]
    MissingSecret,
    #[error("ZHIBAN_JWT_SECRET is the published demo secret; set your own random secret")]
    DemoSecret,
    #[error("ZHIBAN_JWT_SECRET is too short: use at least {MIN_SECRET_LEN} characters")]
    ShortSecret,
    #[error("ZHIBAN_LOG_FORMAT must be `pretty` or `json` (got {0:?})")]
    LogFormat(String),
    #[error("ZHIBAN_DB_POOL_SIZE must be a number from 1 to 64 (got {0:?})")]
    PoolSize(String),
    #[error("ZHIBAN_WORKER must be `on` or `off` (got {0:?})")]
    Worker(String),
    #[error("ZHIBAN_SUBMISSIONS_PER_ADDRESS must be a number from 1 to 1000000 (got {0:?})")]
    SubmissionLimit(String),
    #[error("ZHIBAN_TRUSTED_PROXIES must be IP addresses separated by commas (not {0:?})")]
    TrustedProxies(String),
    #[error("ZHIBAN_WEBHOOK_ALLOW_PRIVATE must be networks such as 10.0.0.0/8 separated by commas (not {0:?})")]
    WebhookAllowPrivate(String),
}

/// Whether the process may fall back to the demo secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretPolicy {
    Required,
    DemoAllowed,
}

impl Settings {
    pub fn from_env(policy: SecretPolicy) -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok().filter(|v| !v.is_empty()), policy)
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>, policy: SecretPolicy) -> Result<Self, ConfigError> {
        let database =
            DatabaseLocation::parse(&lookup("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()))?;
        let bind_raw = lookup("ZHIBAN_BIND").unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let bind = bind_raw.parse().map_err(|_| ConfigError::Bind(bind_raw))?;
        let jwt_secret = match (lookup("ZHIBAN_JWT_SECRET"), policy) {
            (Some(s), _) if s == DEMO_JWT_SECRET && policy == SecretPolicy::Required => {
                return Err(ConfigError::DemoSecret);
            }
            (Some(s), _) if s.len() < MIN_SECRET_LEN => return Err(ConfigError::ShortSecret),
            (Some(s), _) => JwtSecret(s),
            (None, SecretPolicy::DemoAllowed) => JwtSecret(DEMO_JWT_SECRET.to_owned()),
            (None, SecretPolicy::Required) => return Err(ConfigError::MissingSecret),
        };
        let jwt_previous_secret = match lookup("ZHIBAN_JWT_PREVIOUS_SECRET") {
            Some(s) if s.len() < MIN_SECRET_LEN => return Err(ConfigError::ShortSecret),
            other => other.map(JwtSecret),
        };
        let log_format = match lookup("ZHIBAN_LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(ConfigError::LogFormat(other.to_owned())),
        };
        let db_pool_size = match lookup("ZHIBAN_DB_POOL_SIZE") {
            None => 8,
            Some(raw) => raw.parse().ok().filter(|n| (1..=64).contains(n)).ok_or(ConfigError::PoolSize(raw))?,
        };
        let worker_enabled = match lookup("ZHIBAN_WORKER").as_deref() {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => return Err(ConfigError::Worker(other.to_owned())),
        };
        let submissions_per_address = match lookup("ZHIBAN_SUBMISSIONS_PER_ADDRESS") {
            None => 30,
            Some(raw) => {
                raw.parse().ok().filter(|n| (1..=1_000_000).contains(n)).ok_or(ConfigError::SubmissionLimit(raw))?
            }
        };
        let trusted_proxies = match lookup("ZHIBAN_TRUSTED_PROXIES") {
            None => Default::default(),
            Some(raw) => crate::client_address::TrustedProxies::parse(&raw).map_err(ConfigError::TrustedProxies)?,
        };
        let webhook_egress = match lookup("ZHIBAN_WEBHOOK_ALLOW_PRIVATE") {
            None => Default::default(),
            Some(raw) => crate::egress::Egress::parse(&raw).map_err(ConfigError::WebhookAllowPrivate)?,
        };
        Ok(Self {
            database,
            bind,
            public_url: lookup("ZHIBAN_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_owned()),
            jwt_secret,
            jwt_previous_secret,
            log_format,
            db_pool_size,
            worker_enabled,
            submissions_per_address,
            trusted_proxies,
            webhook_egress,
            clock: crate::clock::Clock::system(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)], policy: SecretPolicy) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|k| map.get(k).cloned(), policy)
    }

    #[test]
    fn refuses_to_start_without_a_real_secret() {
        let err = settings(&[], SecretPolicy::Required).unwrap_err();
        assert!(err.to_string().contains("ZHIBAN_JWT_SECRET"));
        assert!(matches!(
            settings(&[("ZHIBAN_JWT_SECRET", DEMO_JWT_SECRET)], SecretPolicy::Required),
            Err(ConfigError::DemoSecret)
        ));
        assert!(matches!(
            settings(&[("ZHIBAN_JWT_SECRET", "short")], SecretPolicy::Required),
            Err(ConfigError::ShortSecret)
        ));
        assert!(settings(&[], SecretPolicy::DemoAllowed).is_ok());
        let rotating = [("ZHIBAN_JWT_SECRET", "n".repeat(32)), ("ZHIBAN_JWT_PREVIOUS_SECRET", "short".to_owned())];
        let rotating: Vec<(&str, &str)> = rotating.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert!(matches!(settings(&rotating, SecretPolicy::Required), Err(ConfigError::ShortSecret)));
    }

    #[test]
    fn defaults_to_a_sqlite_file() {
        let s = settings(&[], SecretPolicy::DemoAllowed).unwrap();
        assert_eq!(s.database, DatabaseLocation::SqliteFile("./data/zhiban.db".into()));
        assert_eq!(s.bind.port(), 8080);
        assert!(s.worker_enabled, "the worker runs unless turned off");
        let off = settings(&[("ZHIBAN_WORKER", "off")], SecretPolicy::DemoAllowed).unwrap();
        assert!(!off.worker_enabled);
        assert!(settings(&[("ZHIBAN_WORKER", "maybe")], SecretPolicy::DemoAllowed).is_err());
        assert!(!format!("{s:?}").contains(DEMO_JWT_SECRET));
    }
}
