//! JSON helpers shared by request types.

use serde::{Deserialize, Deserializer};

/// For PATCH bodies: tells "absent" (`None`) from "set to null" (`Some(None)`).
/// Use with `#[serde(default, deserialize_with = "crate::json::present")]`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A stored UTC instant (the backends share only naive timestamps) sent as RFC 3339 with `Z`.
/// Lets diesel rows load straight into response types (`deserialize_as = NaiveDateTime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct UtcInstant(pub chrono::DateTime<chrono::Utc>);

impl From<chrono::NaiveDateTime> for UtcInstant {
    fn from(naive: chrono::NaiveDateTime) -> Self {
        Self(naive.and_utc())
    }
}
