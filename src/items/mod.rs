//! Residents' items (社情民意 / 咨询): submitted from a venue's printed QR or recorded by a
//! member at reception, answered live by the members on duty, triaged into four tiers with
//! working-day deadlines, referred to handling units, and closed with the resident.
//!
//! `workflow` holds every step of an item's life, whoever takes it; `handlers` is the staff
//! API, `public` the residents' and handling units' API, `pages` their HTML, `deadlines`
//! the worker's escalations.

pub mod deadlines;
pub mod handlers;
pub mod pages;
pub mod public;
pub mod reception;
pub mod store;
mod units;
pub mod views;
pub mod workflow;

pub use public::SubmissionLimits;

/// The authenticated and public JSON routes, under `/api/v1`.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.configure(handlers::routes).configure(units::routes).configure(public::routes);
}
