use std::fmt;

use super::{Invalid, bounded_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VenueKind {
    /// 委员工作室 in a township.
    TownshipStudio,
    /// 政协之家, the county hub.
    CppccHome,
}

impl VenueKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VenueKind::TownshipStudio => "township_studio",
            VenueKind::CppccHome => "cppcc_home",
        }
    }

    pub fn from_storage(s: &str) -> Self {
        match s {
            "cppcc_home" => VenueKind::CppccHome,
            _ => VenueKind::TownshipStudio,
        }
    }
}

/// Short code used in QR URLs (`/r/{code}`, `/display/{code}`): lowercase ASCII letters,
/// digits and dashes, so it survives printing, typing and any QR reader.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VenueCode(String);

impl VenueCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let code = raw.trim().to_ascii_lowercase();
        let ok_chars = code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !(2..=32).contains(&code.len()) || !ok_chars || code.starts_with('-') || code.ends_with('-') {
            return Err(Invalid::new("invalid_format", "must be 2–32 characters of a–z, 0–9 and inner dashes"));
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VenueCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueName(String);

impl VenueName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        bounded_text(raw, 64).map(Self)
    }
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A venue's street address, as members are told the way (e.g. 昆阳镇城东街道解放街 128 号):
/// trimmed, 1–120 characters, one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueAddress(String);

impl VenueAddress {
    pub const MAX_CHARS: usize = 120;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        bounded_text(raw, Self::MAX_CHARS).map(Self)
    }
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Where a venue is and how far from it a poster scan may be made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geofence {
    pub latitude: f64,
    pub longitude: f64,
    pub radius_m: i32,
}

impl Geofence {
    /// Errors name the offending field (`latitude`, `longitude`, `radius_m`).
    pub fn parse(latitude: f64, longitude: f64, radius_m: i32) -> Result<Self, (&'static str, Invalid)> {
        if !(-90.0..=90.0).contains(&latitude) || !latitude.is_finite() {
            return Err(("latitude", Invalid::new("out_of_range", "must be between -90 and 90")));
        }
        if !(-180.0..=180.0).contains(&longitude) || !longitude.is_finite() {
            return Err(("longitude", Invalid::new("out_of_range", "must be between -180 and 180")));
        }
        if !(10..=5000).contains(&radius_m) {
            return Err(("radius_m", Invalid::new("out_of_range", "must be between 10 and 5000 metres")));
        }
        Ok(Self { latitude, longitude, radius_m })
    }

    /// Great-circle distance in metres (haversine; ample for a few hundred metres).
    pub fn distance_m(&self, latitude: f64, longitude: f64) -> f64 {
        const EARTH_RADIUS_M: f64 = 6_371_000.0;
        let (p1, p2) = (self.latitude.to_radians(), latitude.to_radians());
        let dp = p2 - p1;
        let dl = (longitude - self.longitude).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().asin()
    }

    pub fn contains(&self, latitude: f64, longitude: f64) -> bool {
        self.distance_m(latitude, longitude) <= f64::from(self.radius_m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(VenueCode::parse(" PY-Kunyang ").unwrap().as_str(), "py-kunyang");
        for bad in ["a", "-ab", "ab-", "a b", "昆阳", &"a".repeat(33)] {
            assert!(VenueCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses() {
        assert_eq!(VenueAddress::parse(" 解放街 128 号 ").unwrap().into_inner(), "解放街 128 号");
        assert_eq!(VenueAddress::parse(&"路".repeat(120)).unwrap().into_inner().chars().count(), 120);
        assert_eq!(VenueAddress::parse(&"路".repeat(121)).unwrap_err().reason, "too_long");
        assert_eq!(VenueAddress::parse("  ").unwrap_err().reason, "required");
        assert_eq!(VenueAddress::parse("一行\n两行").unwrap_err().reason, "invalid_characters");
    }

    #[test]
    fn geofence() {
        let fence = Geofence::parse(27.6617, 120.5650, 200).unwrap();
        assert!(fence.contains(27.6620, 120.5652));
        assert!(!fence.contains(27.6717, 120.5650)); // ~1.1 km north
        assert_eq!(Geofence::parse(91.0, 0.0, 100).unwrap_err().0, "latitude");
        assert_eq!(Geofence::parse(0.0, 0.0, 1).unwrap_err().0, "radius_m");
    }
}
