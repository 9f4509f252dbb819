use std::collections::BTreeSet;
use std::fmt;

use super::{Invalid, bounded_text};

/// A mainland China mobile number, normalised to 11 digits (`+86`, spaces and dashes dropped).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = digits.strip_prefix("+86").or_else(|| digits.strip_prefix("0086")).unwrap_or(&digits);
        let valid = digits.len() == 11
            && digits.bytes().all(|b| b.is_ascii_digit())
            && digits.starts_with('1')
            && (b'3'..=b'9').contains(&digits.as_bytes()[1]);
        if valid {
            Ok(Self(digits.to_owned()))
        } else {
            Err(Invalid::new("invalid_format", "must be an 11-digit mobile number starting with 13–19"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****1234`: enough for a person to recognise, not to dial.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's name as written (Chinese names are 2–4 characters; allow room for others).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        bounded_text(raw, 32).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A member's sector (界别), e.g. 经济界.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sector(String);

impl Sector {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        bounded_text(raw, 32).map(Self)
    }
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A password as typed, checked for length only (NIST SP 800-63B: length over composition).
pub struct Password(String);

impl Password {
    pub const MIN_LEN: usize = 8;
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let n = raw.chars().count();
        if n < Self::MIN_LEN {
            return Err(Invalid::new("too_short", format!("must be at least {} characters", Self::MIN_LEN)));
        }
        if n > Self::MAX_LEN {
            return Err(Invalid::new("too_long", format!("must be at most {} characters", Self::MAX_LEN)));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 委员: does duties, checks in, records items.
    Member,
    /// 联络员: manages rosters and items of the venues in scope.
    Coordinator,
    /// 政协办公室: everything in the committee.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Coordinator => "coordinator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw.trim() {
            "member" => Ok(Role::Member),
            "coordinator" => Ok(Role::Coordinator),
            "admin" => Ok(Role::Admin),
            other => {
                Err(Invalid::new("unknown_role", format!("unknown role {other:?}; use member, coordinator or admin")))
            }
        }
    }
}

/// The set of roles of an account; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles(BTreeSet<Role>);

impl Roles {
    pub fn new(roles: impl IntoIterator<Item = Role>) -> Result<Self, Invalid> {
        let set: BTreeSet<Role> = roles.into_iter().collect();
        if set.is_empty() {
            return Err(Invalid::new("required", "at least one role is needed"));
        }
        Ok(Self(set))
    }

    /// Parses the stored or CSV form: roles separated by commas, `|` or spaces.
    pub fn parse_list(raw: &str) -> Result<Self, Invalid> {
        Self::new(
            raw.split([',', '|', ' '])
                .filter(|s| !s.trim().is_empty())
                .map(Role::parse)
                .collect::<Result<Vec<_>, _>>()?,
        )
    }

    pub fn contains(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    pub fn is_admin(&self) -> bool {
        self.contains(Role::Admin)
    }

    /// Coordinators and admins manage rosters and items.
    pub fn can_coordinate(&self) -> bool {
        self.contains(Role::Coordinator) || self.contains(Role::Admin)
    }

    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    /// Stored form, e.g. `member,coordinator`.
    pub fn to_storage(&self) -> String {
        self.iter().map(Role::as_str).collect::<Vec<_>>().join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_normalise() {
        assert_eq!(Phone::parse("+86 138-0000-1234").unwrap().as_str(), "13800001234");
        assert_eq!(Phone::parse("13800001234").unwrap().masked(), "138****1234");
        for bad in ["", "1380000123", "12800001234", "1380000123a", "23800001234"] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_count_characters_not_bytes() {
        assert!(PersonName::parse("欧阳明月").is_ok());
        assert_eq!(PersonName::parse("  ").unwrap_err().reason, "required");
        assert_eq!(PersonName::parse(&"名".repeat(33)).unwrap_err().reason, "too_long");
    }

    #[test]
    fn roles_round_trip() {
        let roles = Roles::parse_list("coordinator, member").unwrap();
        assert_eq!(roles.to_storage(), "member,coordinator");
        assert!(roles.can_coordinate() && !roles.is_admin());
        assert!(Roles::parse_list("").is_err());
        assert!(Roles::parse_list("member,boss").is_err());
    }
}
