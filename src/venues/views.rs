//! What the API shows of a venue.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::store::VenueRow;
use crate::domain::VenueKind;
use crate::outbox::channels::store::ChannelsView;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    /// How far from the point a poster scan may be made, 10–5000 m.
    pub radius_m: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VenueView {
    pub id: i64,
    pub kind: VenueKind,
    pub name: String,
    pub township: Option<String>,
    /// Street address shown to members on their duties and at check-in (at most 120
    /// characters); `null` when none was entered.
    pub address: Option<String>,
    /// Short code in QR URLs: `/r/{code}`, `/display/{code}`.
    pub code: String,
    pub location: Option<Location>,
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// The studio's group robots (in the answers of `GET` and `PATCH /venues/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channels: Option<ChannelsView>,
}

impl From<VenueRow> for VenueView {
    fn from(r: VenueRow) -> Self {
        let location = match (r.latitude, r.longitude, r.radius_m) {
            (Some(latitude), Some(longitude), Some(radius_m)) => Some(Location { latitude, longitude, radius_m }),
            _ => None,
        };
        Self {
            id: r.id,
            kind: VenueKind::from_storage(&r.kind),
            name: r.name,
            township: r.township,
            address: r.address,
            code: r.code,
            location,
            active: r.active,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            channels: None,
        }
    }
}
