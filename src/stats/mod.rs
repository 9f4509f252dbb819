//! Statistics (履职档案): per member and per venue over a month, quarter, half-year or year —
//! duties scheduled, present, late, absent, excused; items collected or received;
//! consultations answered and the average time to answer; overdue items — and the members'
//! ranking by the committee's weights. JSON from the API, CSV and XLSX exports from the same
//! rows; the console calls [`member_stats`], [`venue_stats`] and [`export`] directly.
//!
//! Counting rules (also in the README, "Statistics"):
//! - Duties: the assignments of published rosters whose shift's local date is in the period,
//!   at venues in scope, with the attendance `checkin::attendance` derives. A duty not over yet
//!   (upcoming or under way) counts as scheduled only; an excused one (approved leave or swap)
//!   counts as scheduled and excused.
//! - Items belong to the period in which they were received (local date of `created_at`) and
//!   to the venue they came in at; only venues in scope count.

pub mod export;
mod handlers;
mod period;
mod store;
mod views;

pub use export::download;
pub use handlers::routes;
pub use period::{Period, PeriodKind};
pub use store::{member_stats, member_stats_with, venue_stats};
pub use views::{ExportFormat, MemberStats, MembersReport, VenueStats, VenuesReport, rank, score};
