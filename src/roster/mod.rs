//! Rosters (排班表): shift templates expanded with RFC 5545 recurrence rules over the working-day
//! calendar, the deterministic generator, drafts and published versions, swaps and leave.
//!
//! `recurrence` and `generator` are pure domain code: no I/O; callers load the inputs,
//! call [`generate`], and persist the result.

pub mod changes;
pub mod duties;
pub mod feed;
pub mod generator;
pub mod handlers;
pub mod leave;
pub mod recurrence;
pub mod reminders;
mod requests;
pub mod shortfalls;
pub mod store;
pub mod swaps;
pub mod templates;
pub mod views;

pub use crate::calendar::WorkingDayCalendar;
pub use generator::{
    AssignmentReason, CompositionGoal, DutyHistory, DutyRole, GeneratedRoster, GenerationInput, LeaveSpan,
    LockedAssignment, LockedConflict, LockedIssue, MemberProfile, PlannedAssignment, PlannedShift, ShiftKey, Shortfall,
    ShortfallReason, Source, SubstituteCandidate, TemplateError, TemplateProblem, generate, propose_substitutes,
};
pub use recurrence::{
    HolidayPolicy, MAX_POLICY_SHIFT_DAYS, RecurrenceError, ShiftSlot, ShiftTemplate, expand, validate_rule,
};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.configure(templates::routes).configure(handlers::routes).configure(requests::routes).configure(feed::routes);
}
