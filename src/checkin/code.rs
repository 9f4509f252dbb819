//! The codes a member scans, signed so they cannot be forged or reused later.
//!
//! Rotating display code (the TOTP idea of RFC 6238): `ZB1.{venue}.{step}.{version}.{mac}`,
//! where `step` is the 30-second interval and `mac` is HMAC-SHA256 over the rest with the
//! venue's secret. Only the current and the previous step are accepted, so a photo of the
//! screen is useless a minute later.
//!
//! Printed poster code: `ZBP1.{venue}.{version}.{mac}`, long-lived, accepted only with the
//! phone's location inside the venue's radius.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const STEP_SECONDS: i64 = 30;

/// What a scanned string claims, before its signature is checked against a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScannedCode {
    Display { venue_code: String, step: i64, version: i32, mac: String },
    Poster { venue_code: String, version: i32, mac: String },
}

impl ScannedCode {
    /// Parses a code as scanned: the bare payload, or the URL the QR code holds,
    /// `{public_url}/m/c/{payload}` (any host: the signature is what counts).
    pub fn parse(raw: &str) -> Option<Self> {
        let parts: Vec<&str> = bare_payload(raw).split('.').collect();
        match parts.as_slice() {
            ["ZB1", venue, step, version, mac] => Some(Self::Display {
                venue_code: (*venue).to_owned(),
                step: step.parse().ok()?,
                version: version.parse().ok()?,
                mac: (*mac).to_owned(),
            }),
            ["ZBP1", venue, version, mac] => Some(Self::Poster {
                venue_code: (*venue).to_owned(),
                version: version.parse().ok()?,
                mac: (*mac).to_owned(),
            }),
            _ => None,
        }
    }

    pub fn venue_code(&self) -> &str {
        match self {
            Self::Display { venue_code, .. } | Self::Poster { venue_code, .. } => venue_code,
        }
    }

    pub fn version(&self) -> i32 {
        match self {
            Self::Display { version, .. } | Self::Poster { version, .. } => *version,
        }
    }

    /// Constant-time check of the signature with `secret`.
    pub fn signature_valid(&self, secret: &[u8]) -> bool {
        let (message, mac) = match self {
            Self::Display { venue_code, step, version, mac } => (format!("ZB1.{venue_code}.{step}.{version}"), mac),
            Self::Poster { venue_code, version, mac } => (format!("ZBP1.{venue_code}.{version}"), mac),
        };
        let Ok(expected) = URL_SAFE_NO_PAD.decode(mac) else { return false };
        let mut hmac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
        hmac.update(message.as_bytes());
        hmac.verify_slice(&expected).is_ok()
    }
}

/// Where the member pages open a scanned code: `/m/c/{payload}` under the public URL.
pub const SCAN_PATH: &str = "/m/c/";

/// The payload inside a scanned text: the text itself, or the last path segment of an
/// `http(s)://…/m/c/{payload}` URL (without query or fragment).
pub fn bare_payload(raw: &str) -> &str {
    let raw = raw.trim();
    if !(raw.starts_with("https://") || raw.starts_with("http://")) {
        return raw;
    }
    let without_extra = raw.split(['?', '#']).next().unwrap_or(raw);
    match without_extra.rfind(SCAN_PATH) {
        Some(at) => &without_extra[at + SCAN_PATH.len()..],
        None => raw,
    }
}

/// What a venue's QR code holds: the member pages' scan address for `payload`.
pub fn scan_url(base_url: &str, payload: &str) -> String {
    format!("{}{SCAN_PATH}{payload}", base_url.trim_end_matches('/'))
}

fn sign(secret: &[u8], message: &str) -> String {
    let mut hmac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    hmac.update(message.as_bytes());
    URL_SAFE_NO_PAD.encode(hmac.finalize().into_bytes())
}

/// The 30-second step an instant (Unix seconds) falls in.
pub fn step_of(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

pub fn display_code(secret: &[u8], venue_code: &str, version: i32, step: i64) -> String {
    let message = format!("ZB1.{venue_code}.{step}.{version}");
    let mac = sign(secret, &message);
    format!("{message}.{mac}")
}

pub fn poster_code(secret: &[u8], venue_code: &str, version: i32) -> String {
    let message = format!("ZBP1.{venue_code}.{version}");
    let mac = sign(secret, &message);
    format!("{message}.{mac}")
}

/// Whether a display code's step is the current or the previous one at `unix_seconds`.
pub fn step_fresh(step: i64, unix_seconds: i64) -> bool {
    let now = step_of(unix_seconds);
    step == now || step == now - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"venue-secret-for-tests";

    #[test]
    fn display_codes_round_trip_and_expire() {
        let t = 1_795_000_000;
        let code = display_code(SECRET, "py-kunyang", 1, step_of(t));
        let scanned = ScannedCode::parse(&code).unwrap();
        assert!(scanned.signature_valid(SECRET));
        assert!(!scanned.signature_valid(b"another secret"));
        let ScannedCode::Display { step, .. } = scanned else { panic!() };
        assert!(step_fresh(step, t));
        assert!(step_fresh(step, t + STEP_SECONDS)); // previous step still accepted
        assert!(!step_fresh(step, t + 2 * STEP_SECONDS)); // two steps ago: expired
        assert!(!step_fresh(step, t - STEP_SECONDS)); // from the future
    }

    #[test]
    fn tampering_is_detected() {
        let code = display_code(SECRET, "py-kunyang", 1, 42);
        let forged = code.replace("py-kunyang", "py-aojiang");
        assert!(!ScannedCode::parse(&forged).unwrap().signature_valid(SECRET));
        let later = code.replace(".42.", ".43.");
        assert!(!ScannedCode::parse(&later).unwrap().signature_valid(SECRET));
        assert!(ScannedCode::parse("https://example.com/x").is_none());
        // The URL the QR code holds reads as its payload, on any host.
        let url = scan_url("https://zhiban.example.gov.cn/", &code);
        assert_eq!(url, format!("https://zhiban.example.gov.cn/m/c/{code}"));
        assert_eq!(ScannedCode::parse(&url), ScannedCode::parse(&code));
        assert_eq!(bare_payload(&format!("{url}?from=wechat")), code);
        assert!(ScannedCode::parse("https://example.com/m/c/").is_none());
        let poster = poster_code(SECRET, "py-home", 2);
        assert!(ScannedCode::parse(&poster).unwrap().signature_valid(SECRET));
    }
}
