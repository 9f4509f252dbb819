//! Roster generation: staffs expanded shifts with members under hard rules, then soft goals.
//!
//! Hard rules (never broken by generated assignments): only active members of the template's
//! pool; never on approved leave; never two overlapping shifts on one date (across venues);
//! at most one duty per month across templates flagged `one_per_member_per_month`; never
//! above the template's maximum head count. Locked assignments are always kept; if they
//! break a rule themselves that is reported as a [`LockedConflict`], not silently fixed.
//!
//! Soft goals, in order: (1) balance of per-pool yearly duty counts, (2) longest-rested first,
//! (3) a standing-committee member per team, (4) no two members of one sector in a team,
//! (5) roving members spread over venues. The greedy pass handles (1) and (2); a
//! team-composition pass then swaps picks for candidates *with the same yearly count* to
//! serve (3)–(5), so composition may override rest order but never balance.
//!
//! Determinism: every collection that reaches the output is ordered (sorted `Vec`s,
//! `BTreeMap`s) and all ties break on member id; there is no randomness.

mod engine;
mod types;

pub use engine::{generate, propose_substitutes};
pub use types::*;

#[cfg(test)]
mod tests;
