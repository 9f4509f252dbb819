//! Each provider's request signing, as its documentation gives it. Pure functions: the
//! worker and the tests' receivers (which recompute them) share nothing else.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// DingTalk custom robot, 加签: Base64 of HMAC-SHA256 keyed with the `SEC…` secret over
/// `"{timestamp}\n{secret}"` (`timestamp` in milliseconds). The caller URL-encodes it into
/// the webhook's query as `sign`, beside `timestamp`.
pub fn dingtalk(secret: &str, timestamp_ms: i64) -> String {
    let to_sign = format!("{timestamp_ms}\n{secret}");
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(secret.as_bytes(), to_sign.as_bytes()))
}

/// The parts of a Tencent Cloud API 3.0 request that TC3-HMAC-SHA256 covers.
pub struct Tc3<'a> {
    pub secret_id: &'a str,
    pub secret_key: &'a str,
    /// Product, e.g. `sms`; also the credential scope's service.
    pub service: &'a str,
    /// As the `Host` header carries it (host, and `:port` when not the default).
    pub host: &'a str,
    pub content_type: &'a str,
    pub body: &'a str,
    /// `X-TC-Timestamp`, Unix seconds.
    pub timestamp: i64,
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

impl Tc3<'_> {
    /// Step 1: the canonical request (POST, URI `/`, no query, headers `content-type;host`).
    pub fn canonical_request(&self) -> String {
        format!(
            "POST\n/\n\ncontent-type:{}\nhost:{}\n\ncontent-type;host\n{}",
            self.content_type.to_ascii_lowercase(),
            self.host.to_ascii_lowercase(),
            sha256_hex(self.body.as_bytes())
        )
    }

    /// The UTC date of the timestamp, `YYYY-MM-DD` (never the local one).
    pub fn date(&self) -> String {
        chrono::DateTime::from_timestamp(self.timestamp, 0)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    }

    /// Step 2: the string to sign.
    pub fn string_to_sign(&self) -> String {
        format!(
            "TC3-HMAC-SHA256\n{}\n{}/{}/tc3_request\n{}",
            self.timestamp,
            self.date(),
            self.service,
            sha256_hex(self.canonical_request().as_bytes())
        )
    }

    /// Step 3: the signature, hex, with the key derived from the SecretKey, date and service.
    pub fn signature(&self) -> String {
        let date = hmac_sha256(format!("TC3{}", self.secret_key).as_bytes(), self.date().as_bytes());
        let service = hmac_sha256(&date, self.service.as_bytes());
        let signing = hmac_sha256(&service, b"tc3_request");
        hex::encode(hmac_sha256(&signing, self.string_to_sign().as_bytes()))
    }

    /// Step 4: the `Authorization` header.
    pub fn authorization(&self) -> String {
        format!(
            "TC3-HMAC-SHA256 Credential={}/{}/{}/tc3_request, SignedHeaders=content-type;host, Signature={}",
            self.secret_id,
            self.date(),
            self.service,
            self.signature()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tencents_published_example() {
        // The worked example of Tencent Cloud's "Signature v3" (签名方法 v3) document: CVM
        // DescribeInstances at 1551113065 with the document's SecretKey; every intermediate
        // value below is printed in the document.
        let req = Tc3 {
            secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            secret_key: "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            service: "cvm",
            host: "cvm.tencentcloudapi.com",
            content_type: "application/json; charset=utf-8",
            body: r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#,
            timestamp: 1_551_113_065,
        };
        assert_eq!(sha256_hex(req.body.as_bytes()), "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064");
        assert_eq!(
            req.canonical_request(),
            "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n\
             35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(
            req.string_to_sign(),
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n\
             5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        assert_eq!(req.signature(), "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
        assert!(req.authorization().starts_with(
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, \
             SignedHeaders=content-type;host, Signature=72e494ea"
        ));
    }

    #[test]
    fn dingtalk_sign() {
        // Computed independently: python3 -c "import hmac,hashlib,base64; s='SECabcdef0123456789';
        // print(base64.b64encode(hmac.new(s.encode(), b'1700000000000\n'+s.encode(), hashlib.sha256).digest()))"
        assert_eq!(dingtalk("SECabcdef0123456789", 1_700_000_000_000), DINGTALK_VECTOR);
    }

    const DINGTALK_VECTOR: &str = "dV0RXHUD72d0VKcnHrBhJ9jhSbDS3HUiduucxO+izso=";
}
