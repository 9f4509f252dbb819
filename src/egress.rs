//! Where outgoing deliveries may connect. A committee's admin names the webhook, robot and SMS
//! addresses; unchecked, they could point zhiban at its own loopback, the cloud's metadata
//! service or the office network, and read what answered there in `last_error` (a blind
//! SSRF probe). So every delivery resolves the name itself and connects only to an allowed
//! address (no second lookup an attacker's DNS could answer differently), literal addresses
//! are checked before sending, and the admin is told at once when the address saved is
//! refused.
//!
//! Public addresses are allowed. Link-local (169.254.0.0/16 holds the metadata service),
//! unspecified, multicast and broadcast addresses never are. Loopback, private and shared
//! (carrier NAT) ranges only when `ZHIBAN_WEBHOOK_ALLOW_PRIVATE` lists them: a push bridge on
//! the office's own network, or a receiver on the same host in tests.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;

/// The networks beyond the public internet that deliveries may reach.
#[derive(Debug, Clone, Default)]
pub struct Egress {
    allowed_private: Vec<IpNet>,
}

/// A destination deliveries may not reach, said without what answered there.
#[derive(Debug, thiserror::Error)]
#[error("address not allowed for deliveries ({0}); see ZHIBAN_WEBHOOK_ALLOW_PRIVATE")]
pub struct Refused(pub IpAddr);

impl Egress {
    /// `1` (or `true`): every loopback and private network; `0` (or `false`): none;
    /// `10.0.0.0/8, 127.0.0.1`: those networks (a bare address is one host). The part that is
    /// not a network in the error.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => {
                return Self::parse(
                    "127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, ::1/128, fc00::/7",
                );
            }
            "0" | "false" | "no" => return Ok(Self::default()),
            _ => {}
        }
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<IpNet>().or_else(|_| s.parse::<IpAddr>().map(IpNet::from)).map_err(|_| s.to_owned()))
            .collect::<Result<_, _>>()
            .map(|allowed_private| Self { allowed_private })
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        if never_reachable(ip) {
            return false;
        }
        !is_internal(ip) || self.allowed_private.iter().any(|net| net.contains(&ip))
    }

    /// Refuses a URL whose host is a literal address that is not permitted (names are
    /// checked as they are resolved, by [`Resolver`]).
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), Refused> {
        match literal_address(url) {
            Some(ip) if !self.permits(ip) => Err(Refused(ip)),
            _ => Ok(()),
        }
    }

    /// The check when an admin saves an address: a literal address, or a name that
    /// resolves only to refused addresses, is refused. A name that does not resolve now is
    /// accepted: deliveries check again, and retry.
    pub async fn check_configured(&self, raw: &str) -> Result<(), Refused> {
        let Ok(url) = reqwest::Url::parse(raw) else { return Ok(()) };
        self.check_url(&url)?;
        let (None, Some(name), Some(port)) = (literal_address(&url), url.host_str(), url.port_or_known_default())
        else {
            return Ok(());
        };
        // A resolver that does not answer soon must not hold the admin's save.
        let lookup = tokio::time::timeout(std::time::Duration::from_secs(2), tokio::net::lookup_host((name, port)));
        let Ok(Ok(found)) = lookup.await else { return Ok(()) };
        let found: Vec<SocketAddr> = found.collect();
        match found.iter().find(|a| self.permits(a.ip())) {
            Some(_) => Ok(()),
            None => found.first().map_or(Ok(()), |a| Err(Refused(a.ip()))),
        }
    }
}

/// The URL's host when it is an address rather than a name (`[::1]` included).
fn literal_address(url: &reqwest::Url) -> Option<IpAddr> {
    url.host_str()?.trim_start_matches('[').trim_end_matches(']').parse().ok()
}

fn never_reachable(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local() || v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast(),
        // fe80::/10 is link-local.
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80 || v6.is_unspecified() || v6.is_multicast(),
    }
}

/// Not on the public internet: loopback, private, shared address space (100.64.0.0/10),
/// unique local IPv6 (fc00::/7).
fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback() || v4.is_private() || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// Refuses, field by field, configured addresses deliveries could not reach (422
/// `validation_failed`, reason `address_not_allowed`).
pub async fn check_fields(egress: &Egress, addresses: &[(&'static str, String)]) -> Result<(), crate::error::ApiError> {
    for (field, url) in addresses {
        if let Err(refused) = egress.check_configured(url).await {
            return Err(crate::error::ApiError::field(field, "address_not_allowed", refused.to_string()));
        }
    }
    Ok(())
}

/// What deliveries send with: one HTTP client (10 s timeout, no redirects — a signed body is
/// never forwarded elsewhere and a 3xx counts as a failure — rustls, names resolved through
/// [`Resolver`]) and the check of literal addresses.
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    egress: Arc<Egress>,
}

impl Outbound {
    pub fn new(egress: Egress, timeout: std::time::Duration) -> reqwest::Result<Self> {
        let egress = Arc::new(egress);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(Resolver(egress.clone())))
            .user_agent(concat!("zhiban/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, egress })
    }

    /// A POST to a stored address, or why it is not sent (recorded as the attempt's
    /// `last_error`): an address that is not a URL, or one deliveries may not reach.
    pub fn post(&self, url: &str) -> Result<reqwest::RequestBuilder, String> {
        let url = reqwest::Url::parse(url).map_err(|_| "invalid webhook URL".to_owned())?;
        self.egress.check_url(&url).map_err(|refused| refused.to_string())?;
        Ok(self.client.post(url))
    }
}

/// The refusal behind a failed request, if that is why it failed.
pub fn refusal(e: &reqwest::Error) -> Option<&Refused> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(refused) = c.downcast_ref::<Refused>() {
            return Some(refused);
        }
        cause = c.source();
    }
    None
}

/// The delivery client's name resolver: the system's lookup, keeping only permitted
/// addresses, so the connection is made to exactly what was checked.
pub struct Resolver(pub Arc<Egress>);

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let egress = self.0.clone();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = found.iter().copied().filter(|a| egress.permits(a.ip())).collect();
            if permitted.is_empty() {
                return Err(match found.first() {
                    Some(a) => Box::new(Refused(a.ip())) as Box<dyn std::error::Error + Send + Sync>,
                    None => "the name has no address".into(),
                });
            }
            Ok(Box::new(permitted.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn public_addresses_pass_and_internal_ones_need_listing() {
        let none = Egress::default();
        assert!(none.permits(ip("203.0.113.7")));
        assert!(none.permits(ip("2001:db8::1")));
        for internal in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "::1", "fd00::1"] {
            assert!(!none.permits(ip(internal)), "{internal}");
        }
        // An IPv4 address written as IPv6 is the same address.
        assert!(!none.permits(ip("::ffff:127.0.0.1")));
        let office = Egress::parse("10.0.0.0/8, 127.0.0.1").unwrap();
        assert!(office.permits(ip("10.9.8.7")));
        assert!(office.permits(ip("127.0.0.1")));
        assert!(!office.permits(ip("127.0.0.2")));
        assert!(!office.permits(ip("192.168.1.1")));
        let all = Egress::parse("1").unwrap();
        assert!(all.permits(ip("127.0.0.1")) && all.permits(ip("192.168.1.1")) && all.permits(ip("::1")));
        assert!(!all.permits(ip("169.254.169.254")));
        assert!(Egress::parse("0").unwrap().allowed_private.is_empty());
    }

    #[test]
    fn link_local_and_unspecified_are_never_reachable() {
        let all = Egress::parse("0.0.0.0/0, ::/0").unwrap();
        for never in ["169.254.169.254", "0.0.0.0", "fe80::1", "::", "224.0.0.1", "255.255.255.255"] {
            assert!(!all.permits(ip(never)), "{never}");
        }
    }

    #[test]
    fn literal_hosts_are_checked_in_urls() {
        let none = Egress::default();
        assert!(none.check_url(&"http://127.0.0.1:9/hook".parse().unwrap()).is_err());
        assert!(none.check_url(&"http://[::1]/hook".parse().unwrap()).is_err());
        assert!(none.check_url(&"https://oapi.dingtalk.com/robot/send".parse().unwrap()).is_ok());
        assert_eq!(Egress::parse("10.0.0.0/8, nonsense").unwrap_err(), "nonsense");
    }
}
