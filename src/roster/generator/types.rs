//! What the generator takes and what it gives: members, templates, leave and history in;
//! planned shifts, shortfalls and the reason for every pick out.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{NaiveDate, NaiveTime};

use crate::calendar::WorkingDayCalendar;
use crate::roster::recurrence::{RecurrenceError, ShiftTemplate};

// ---------------------------------------------------------------------------------------
// Input types
// ---------------------------------------------------------------------------------------

/// A committee member as the roster sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberProfile {
    pub id: i64,
    /// Member of the standing committee (常委); one per team is preferred, and they lead.
    pub standing_committee: bool,
    /// Sector (界别); teams avoid two members of one sector. Empty means unknown.
    pub sector: String,
    /// Roving member (流动委员) eligible for several studios; spread over venues.
    pub roving: bool,
    /// Inactive members are never assigned.
    pub active: bool,
}

/// Approved leave, inclusive dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LeaveSpan {
    pub member_id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Identifies a shift: a template has at most one shift per date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShiftKey {
    pub template_id: i64,
    pub date: NaiveDate,
}

/// An assignment a human fixed; it is always kept and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LockedAssignment {
    pub template_id: i64,
    pub date: NaiveDate,
    pub member_id: i64,
    /// `Some(DutyRole::Lead)` pins the team lead; `None` lets the generator choose.
    pub role: Option<DutyRole>,
}

/// A member's duty record before the generation period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DutyHistory {
    pub member_id: i64,
    /// Duties already done in the year of `period_from`, per pool id.
    pub duties_this_year: BTreeMap<i64, u32>,
    /// Last duty ever, any pool, any year (for longest-rested).
    pub last_duty: Option<NaiveDate>,
    /// Dates of past duties of `one_per_member_per_month` templates (only the months that
    /// overlap the period matter).
    pub monthly_limited_duties: Vec<NaiveDate>,
}

/// Everything the generator needs; no I/O happens past this point.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenerationInput {
    /// First local date of the period (inclusive).
    pub period_from: NaiveDate,
    /// Last local date of the period (inclusive).
    pub period_to: NaiveDate,
    pub templates: Vec<ShiftTemplate>,
    pub members: Vec<MemberProfile>,
    pub calendar: WorkingDayCalendar,
    pub leave: Vec<LeaveSpan>,
    pub locked: Vec<LockedAssignment>,
    pub history: Vec<DutyHistory>,
}

// ---------------------------------------------------------------------------------------
// Output types
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
/// A member's place in a duty's team (the account's roles are `domain::Role`).
pub enum DutyRole {
    /// Team lead (组长): standing-committee member first, then longest-rested.
    Lead,
    Member,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    Generated,
    Locked,
}

/// Team-composition goal that made the generator prefer a member over a better-rested one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CompositionGoal {
    StandingCommittee,
    SectorMix,
    RovingSpread,
}

/// Why a member holds a duty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignmentReason {
    /// Fixed by a human.
    Locked,
    /// Chosen by the generator, with the facts it ranked on (as of just before this duty).
    Selected {
        /// Duties this year in the template's pool (before this one).
        duties_this_year_in_pool: u32,
        /// Last duty before this one; `None` = never served.
        last_duty: Option<NaiveDate>,
        standing_committee: bool,
        /// Set when the member was swapped in for a composition goal.
        composition: Option<CompositionGoal>,
    },
}

impl AssignmentReason {
    /// Chinese rendering for the office's UI; [`fmt::Display`] gives the English one.
    pub fn label_zh(&self) -> String {
        match self {
            Self::Locked => "人工锁定".to_owned(),
            Self::Selected { duties_this_year_in_pool, last_duty, standing_committee, composition } => {
                let mut s = format!("本年度本组已值班{duties_this_year_in_pool}次，");
                match last_duty {
                    Some(d) => s.push_str(&format!("自{d}起未值班")),
                    None => s.push_str("从未值班"),
                }
                if *standing_committee {
                    s.push_str("，常委");
                }
                match composition {
                    Some(CompositionGoal::StandingCommittee) => s.push_str("，为配备常委调入"),
                    Some(CompositionGoal::SectorMix) => s.push_str("，为界别搭配调入"),
                    Some(CompositionGoal::RovingSpread) => s.push_str("，为流动委员均衡调入"),
                    None => {}
                }
                s
            }
        }
    }
}

impl fmt::Display for AssignmentReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Locked => f.write_str("locked by the office"),
            Self::Selected { duties_this_year_in_pool, last_duty, standing_committee, composition } => {
                write!(f, "{duties_this_year_in_pool} duties this year in pool, ")?;
                match last_duty {
                    Some(d) => write!(f, "rested since {d}")?,
                    None => f.write_str("never served")?,
                }
                if *standing_committee {
                    f.write_str(", standing committee")?;
                }
                match composition {
                    Some(CompositionGoal::StandingCommittee) => {
                        f.write_str(", chosen to put a standing-committee member in the team")
                    }
                    Some(CompositionGoal::SectorMix) => f.write_str(", chosen for sector mix"),
                    Some(CompositionGoal::RovingSpread) => f.write_str(", chosen to spread roving members over venues"),
                    None => Ok(()),
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedAssignment {
    pub member_id: i64,
    pub role: DutyRole,
    pub source: Source,
    pub reason: AssignmentReason,
}

/// A concrete shift with its team (lead first, then by member id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedShift {
    pub template_id: i64,
    pub venue_id: i64,
    pub date: NaiveDate,
    pub start: NaiveTime,
    pub end: NaiveTime,
    /// Date the recurrence produced (differs from `date` if a holiday policy moved it).
    pub original_date: NaiveDate,
    pub assignments: Vec<PlannedAssignment>,
}

impl PlannedShift {
    pub fn key(&self) -> ShiftKey {
        ShiftKey { template_id: self.template_id, date: self.date }
    }
}

/// Why a shift could not be staffed to its minimum. Counts are of pool members excluded for
/// that reason (each excluded member counted once, under the first rule that excluded them:
/// leave, then overlap, then the monthly limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ShortfallReason {
    /// Fewer active pool members than the minimum head count.
    PoolTooSmall {
        active_members: u32,
    },
    MembersOnLeave(u32),
    /// Already on an overlapping shift.
    Overlap(u32),
    /// Already had a reception-day-type duty this month.
    MonthlyLimit(u32),
}

/// A shift staffed below its minimum head count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortfall {
    pub shift: ShiftKey,
    pub venue_id: i64,
    /// The template's minimum head count.
    pub needed: u32,
    pub got: u32,
    pub reasons: Vec<ShortfallReason>,
}

/// What is wrong with a locked assignment (it is kept anyway unless it cannot be placed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockedIssue {
    /// No such shift in the period: the assignment is dropped from the roster.
    UnknownShift,
    /// No such member: the assignment is dropped from the roster.
    UnknownMember,
    NotInPool,
    Inactive,
    OnLeave,
    Overlap,
    MonthlyLimit,
    AboveMaxHeadCount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LockedConflict {
    pub assignment: LockedAssignment,
    pub issue: LockedIssue,
}

/// A template the generator had to ignore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateProblem {
    Recurrence(RecurrenceError),
    EndNotAfterStart,
    MinAboveMax,
    DuplicateId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub template_id: i64,
    pub problem: TemplateProblem,
}

/// Result of [`generate`]; every list is sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeneratedRoster {
    /// Sorted by (date, start, end, template id).
    pub shifts: Vec<PlannedShift>,
    pub shortfalls: Vec<Shortfall>,
    pub locked_conflicts: Vec<LockedConflict>,
    pub template_errors: Vec<TemplateError>,
}

/// A ranked replacement for a member who dropped out of a shift.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubstituteCandidate {
    pub member_id: i64,
    pub reason: AssignmentReason,
}
