//! The client's address, for the throttles of sign-in and residents' submissions.
//!
//! Behind a reverse proxy every request comes from the proxy, and all residents would share
//! one limit. `ZHIBAN_TRUSTED_PROXIES` names the proxies whose `X-Forwarded-For` is believed;
//! from anyone else the header is ignored, since a client can write whatever it likes there.

use std::net::IpAddr;

use actix_web::{HttpRequest, web};

/// The proxies in front of this server (app data; empty: none is trusted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<IpAddr>);

impl TrustedProxies {
    /// `10.0.0.2,10.0.0.3` → the addresses; `None` names the value that is not an address.
    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().map_err(|_| s.to_owned()))
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

/// Whether the request reached us through one of our own reverse proxies: only then are
/// forwarded headers (`X-Forwarded-For`, `-Host`, `-Proto`, `Forwarded`) believed, since
/// anyone else can send them.
pub fn from_trusted_proxy(req: &HttpRequest) -> bool {
    req.peer_addr().is_some_and(|peer| trusted(req).contains(&peer.ip()))
}

fn trusted(req: &HttpRequest) -> &[IpAddr] {
    req.app_data::<web::Data<TrustedProxies>>().map(|t| t.0.as_slice()).unwrap_or_default()
}

/// The peer, or — when the peer is a trusted proxy — the nearest hop of `X-Forwarded-For`
/// that is not one of ours (the proxies append; the rightmost entries are the most trusted).
pub fn client_address(req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else { return String::new() };
    let trusted = trusted(req);
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let hops: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    hops.iter().rev().find(|ip| !trusted.contains(ip)).unwrap_or(&peer).to_string()
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn from(peer: &str, forwarded: &[&str], trusted: &str) -> String {
        let mut req = TestRequest::default().peer_addr(format!("{peer}:40000").parse().unwrap());
        for f in forwarded {
            req = req.append_header(("x-forwarded-for", *f));
        }
        let req = req.app_data(web::Data::new(TrustedProxies::parse(trusted).unwrap())).to_http_request();
        client_address(&req)
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        assert_eq!(from("203.0.113.9", &["198.51.100.1"], ""), "203.0.113.9");
        assert_eq!(from("203.0.113.9", &["198.51.100.1"], "10.0.0.2"), "203.0.113.9");
        assert_eq!(from("10.0.0.2", &["198.51.100.1"], "10.0.0.2"), "198.51.100.1");
        // A client's own forged entry sits left of what our proxies appended.
        assert_eq!(from("10.0.0.2", &["6.6.6.6, 198.51.100.1, 10.0.0.3"], "10.0.0.2,10.0.0.3"), "198.51.100.1");
        assert_eq!(from("10.0.0.2", &[], "10.0.0.2"), "10.0.0.2");
        assert_eq!(TrustedProxies::parse("10.0.0.2, ::1").unwrap().0.len(), 2);
        assert_eq!(TrustedProxies::parse("10.0.0.2,proxy").unwrap_err(), "proxy");
    }
}
