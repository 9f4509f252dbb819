//! Where a committee's notifications go, and the secret that signs them.

use super::Invalid;

const MAX_URL_LEN: usize = 2000;
const MIN_SECRET_LEN: usize = 16;
const MAX_SECRET_LEN: usize = 256;

/// An absolute `http://` or `https://` URL with a host and no user info (credentials in the
/// URL would show in the committee view; the signature authenticates deliveries instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(Invalid::new("required", "must not be empty; send null to remove the webhook"));
        }
        if raw.len() > MAX_URL_LEN {
            return Err(Invalid::new("too_long", format!("must be at most {MAX_URL_LEN} characters")));
        }
        let url = reqwest::Url::parse(raw).map_err(|_| {
            Invalid::new("invalid_format", "must be an absolute URL such as https://bridge.example/zhiban")
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Invalid::new("invalid_scheme", "must start with https:// (or http:// on a private network)"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(Invalid::new("invalid_format", "must name a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Invalid::new(
                "credentials_in_url",
                "must not contain a user name or password; deliveries are authenticated by their signature",
            ));
        }
        if url.fragment().is_some() {
            return Err(Invalid::new("invalid_format", "must not contain a #fragment"));
        }
        Ok(Self(url.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The shared secret of the HMAC-SHA256 signature: 16–256 printable characters.
/// Its `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let n = raw.chars().count();
        if n < MIN_SECRET_LEN {
            return Err(Invalid::new("too_short", format!("must be at least {MIN_SECRET_LEN} characters")));
        }
        if n > MAX_SECRET_LEN {
            return Err(Invalid::new("too_long", format!("must be at most {MAX_SECRET_LEN} characters")));
        }
        if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(Invalid::new("invalid_characters", "must not contain spaces or control characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(WebhookUrl::parse(" https://bridge.example/hook ").unwrap().as_str(), "https://bridge.example/hook");
        assert!(WebhookUrl::parse("http://10.0.0.5:8080/zhiban?k=v").is_ok());
        assert_eq!(WebhookUrl::parse("ftp://x.example/").unwrap_err().reason, "invalid_scheme");
        assert_eq!(WebhookUrl::parse("bridge.example/hook").unwrap_err().reason, "invalid_format");
        assert_eq!(WebhookUrl::parse("https://u:p@x.example/").unwrap_err().reason, "credentials_in_url");
        assert_eq!(WebhookUrl::parse("").unwrap_err().reason, "required");
    }

    #[test]
    fn secrets() {
        assert!(WebhookSecret::parse("0123456789abcdef").is_ok());
        assert_eq!(WebhookSecret::parse("short").unwrap_err().reason, "too_short");
        assert_eq!(WebhookSecret::parse("0123456789 abcdef").unwrap_err().reason, "invalid_characters");
        assert!(!format!("{:?}", WebhookSecret::parse("0123456789abcdef").unwrap()).contains("0123"));
    }
}
