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

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{Datelike, NaiveDate, NaiveTime};

use super::recurrence::{RecurrenceError, ShiftSlot, ShiftTemplate, expand};
use crate::calendar::WorkingDayCalendar;

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
    /// `Some(Role::Lead)` pins the team lead; `None` lets the generator choose.
    pub role: Option<Role>,
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
pub enum Role {
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
    pub fn zh(&self) -> String {
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
    pub role: Role,
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

// ---------------------------------------------------------------------------------------
// Engine state
// ---------------------------------------------------------------------------------------

/// Hard-rule violation that excludes a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Leave,
    Overlap,
    MonthlyLimit,
}

#[derive(Debug, Default)]
struct MemberState {
    /// Sorted, merged leave spans.
    leave: Vec<(NaiveDate, NaiveDate)>,
    /// Duties held in this roster, by date (for overlap and rest).
    busy: BTreeMap<NaiveDate, Vec<(NaiveTime, NaiveTime)>>,
    /// Duty counts per (pool id, year), history included.
    pool_year_counts: BTreeMap<(i64, i32), u32>,
    history_last_duty: Option<NaiveDate>,
    /// (year, month) pairs with a reception-day-type duty.
    limited_months: BTreeSet<(i32, u32)>,
    /// Duties per venue in this roster (roving spread).
    venue_counts: BTreeMap<i64, u32>,
    /// Venues whose templates list the member (roving members have several).
    venues: BTreeSet<i64>,
    /// Number of distinct pools listing the member.
    pool_count: u32,
}

impl MemberState {
    /// How many more duties this member has at `venue` than at their least-served venue.
    fn venue_excess(&self, venue: i64) -> u32 {
        let at = |v: &i64| self.venue_counts.get(v).copied().unwrap_or(0);
        let least = self.venues.iter().map(at).min().unwrap_or(0);
        at(&venue).saturating_sub(least)
    }

    fn on_leave(&self, date: NaiveDate) -> bool {
        self.leave.iter().any(|&(from, to)| from <= date && date <= to)
    }

    fn overlaps(&self, date: NaiveDate, start: NaiveTime, end: NaiveTime) -> bool {
        self.busy.get(&date).is_some_and(|spans| spans.iter().any(|&(s, e)| s < end && start < e))
    }

    fn count(&self, pool_id: i64, year: i32) -> u32 {
        self.pool_year_counts.get(&(pool_id, year)).copied().unwrap_or(0)
    }

    /// Last duty strictly before `date` (history or this roster).
    fn rested_since(&self, date: NaiveDate) -> Option<NaiveDate> {
        let in_roster = self.busy.range(..date).next_back().map(|(d, _)| *d);
        in_roster.max(self.history_last_duty)
    }
}

struct TemplateInfo<'a> {
    template: &'a ShiftTemplate,
    /// Indices of active, known pool members, ascending by member id.
    pool: Vec<usize>,
}

struct Engine<'a> {
    members: Vec<&'a MemberProfile>,
    /// Dense sector id per member; `None` for an empty sector.
    sectors: Vec<Option<u32>>,
    index: BTreeMap<i64, usize>,
    states: Vec<MemberState>,
}

/// Templates by id; kept apart from [`Engine`] so pools can be read while state is updated.
type Templates<'a> = BTreeMap<i64, TemplateInfo<'a>>;

/// A ranked candidate for one shift.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    member: usize,
    count: u32,
    rested: Option<NaiveDate>,
}

/// Team-composition penalty, compared lexicographically (lower is better).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct CompositionScore {
    missing_standing: u8,
    sector_duplicates: u32,
    roving_repeats: u32,
    rest_rank_sum: usize,
}

impl CompositionScore {
    /// The goal whose component improved first when moving from `self` to `better`.
    fn improved_goal(&self, better: &Self) -> Option<CompositionGoal> {
        if better.missing_standing < self.missing_standing {
            Some(CompositionGoal::StandingCommittee)
        } else if better.missing_standing == self.missing_standing && better.sector_duplicates < self.sector_duplicates
        {
            Some(CompositionGoal::SectorMix)
        } else if better.missing_standing == self.missing_standing
            && better.sector_duplicates == self.sector_duplicates
            && better.roving_repeats < self.roving_repeats
        {
            Some(CompositionGoal::RovingSpread)
        } else {
            None
        }
    }
}

impl<'a> Engine<'a> {
    /// Builds member state from the input; templates are those that passed validation.
    fn new(input: &'a GenerationInput, templates: &[&'a ShiftTemplate]) -> (Self, Templates<'a>) {
        let mut members: Vec<&MemberProfile> = input.members.iter().collect();
        members.sort_by_key(|m| m.id);
        members.dedup_by_key(|m| m.id);
        let index: BTreeMap<i64, usize> = members.iter().enumerate().map(|(i, m)| (m.id, i)).collect();

        let sector_names: BTreeSet<&str> = members.iter().map(|m| m.sector.trim()).filter(|s| !s.is_empty()).collect();
        let sector_ids: BTreeMap<&str, u32> = sector_names.into_iter().zip(0u32..).collect();
        let sectors = members.iter().map(|m| sector_ids.get(m.sector.trim()).copied()).collect();

        let mut states: Vec<MemberState> = members.iter().map(|_| MemberState::default()).collect();
        let mut leave = input.leave.clone();
        leave.sort();
        for span in &leave {
            if let Some(&i) = index.get(&span.member_id) {
                states[i].leave.push((span.from, span.to));
            }
        }
        let history_year = input.period_from.year();
        for h in &input.history {
            let Some(&i) = index.get(&h.member_id) else {
                continue;
            };
            let state = &mut states[i];
            for (&pool, &n) in &h.duties_this_year {
                *state.pool_year_counts.entry((pool, history_year)).or_default() += n;
            }
            state.history_last_duty = state.history_last_duty.max(h.last_duty);
            state.limited_months.extend(h.monthly_limited_duties.iter().map(|d| (d.year(), d.month())));
        }

        let mut pools_of: Vec<BTreeSet<i64>> = vec![BTreeSet::new(); members.len()];
        for t in templates {
            for &i in t.pool.iter().filter_map(|id| index.get(id)) {
                states[i].venues.insert(t.venue_id);
                pools_of[i].insert(t.pool_id);
            }
        }
        for (state, pools) in states.iter_mut().zip(&pools_of) {
            state.pool_count = u32::try_from(pools.len()).unwrap_or(u32::MAX);
        }

        let templates = templates
            .iter()
            .map(|&t| {
                let mut pool: Vec<usize> =
                    t.pool.iter().filter_map(|id| index.get(id).copied()).filter(|&i| members[i].active).collect();
                pool.sort_unstable();
                pool.dedup();
                (t.id, TemplateInfo { template: t, pool })
            })
            .collect();

        let engine = Self { members, sectors, index, states };
        (engine, templates)
    }

    fn check(&self, member: usize, template: &ShiftTemplate, slot: &ShiftSlot) -> Result<(), Block> {
        let state = &self.states[member];
        if state.on_leave(slot.date) {
            Err(Block::Leave)
        } else if state.overlaps(slot.date, slot.start, slot.end) {
            Err(Block::Overlap)
        } else if template.one_per_member_per_month
            && state.limited_months.contains(&(slot.date.year(), slot.date.month()))
        {
            Err(Block::MonthlyLimit)
        } else {
            Ok(())
        }
    }

    fn record(&mut self, member: usize, template: &ShiftTemplate, slot: &ShiftSlot) {
        let state = &mut self.states[member];
        state.busy.entry(slot.date).or_default().push((slot.start, slot.end));
        *state.pool_year_counts.entry((template.pool_id, slot.date.year())).or_default() += 1;
        if template.one_per_member_per_month {
            state.limited_months.insert((slot.date.year(), slot.date.month()));
        }
        *state.venue_counts.entry(template.venue_id).or_default() += 1;
    }

    fn candidate(&self, member: usize, template: &ShiftTemplate, date: NaiveDate) -> Candidate {
        let state = &self.states[member];
        Candidate { member, count: state.count(template.pool_id, date.year()), rested: state.rested_since(date) }
    }

    /// Composition penalty of `team` (locked members plus ranked picks) at `venue`.
    /// `ranked` gives (member, rest rank) for members that were chosen by the generator.
    fn score(&self, fixed: &[usize], ranked: &[(usize, usize)], venue: i64) -> CompositionScore {
        let team = || fixed.iter().copied().chain(ranked.iter().map(|&(m, _)| m));
        let has_standing = team().any(|m| self.members[m].standing_committee);
        // Teams are tiny (≤ max head count), so a sorted scratch vector beats a set.
        let mut sectors: Vec<u32> = team().filter_map(|m| self.sectors[m]).collect();
        let with_sector = sectors.len();
        sectors.sort_unstable();
        sectors.dedup();
        let roving_repeats = ranked
            .iter()
            .filter(|&&(m, _)| self.members[m].roving)
            .map(|&(m, _)| self.states[m].venue_excess(venue))
            .sum();
        CompositionScore {
            missing_standing: u8::from(!has_standing && team().next().is_some()),
            sector_duplicates: u32::try_from(with_sector - sectors.len()).unwrap_or(u32::MAX),
            roving_repeats,
            rest_rank_sum: ranked.iter().map(|&(_, r)| r).sum(),
        }
    }

    fn selected_reason(&self, c: &Candidate, composition: Option<CompositionGoal>) -> AssignmentReason {
        AssignmentReason::Selected {
            duties_this_year_in_pool: c.count,
            last_duty: c.rested,
            standing_committee: self.members[c.member].standing_committee,
            composition,
        }
    }

    /// Chooses the lead among `team` (lead pinned by a locked assignment wins).
    fn lead(&self, team: &[(usize, Source, Option<Role>)], date: NaiveDate) -> Option<usize> {
        if let Some(&(m, _, _)) = team.iter().find(|(_, _, r)| *r == Some(Role::Lead)) {
            return Some(m);
        }
        team.iter().map(|&(m, _, _)| m).min_by_key(|&m| {
            (
                !self.members[m].standing_committee,
                // `None` (never served) sorts first = longest rested.
                self.states[m].rested_since(date),
                self.members[m].id,
            )
        })
    }
}

/// Greedy order: fewest duties this year in the pool, then members listed in more pools
/// (roving members, home-duty members who also serve a studio), then longest rested, then id.
///
/// The second key protects balance: a member in several pools is often blocked (overlapping
/// reception days, the monthly limit), so using them whenever they are free in their tier
/// keeps them from ending the year behind in some pool.
fn rank_key(c: &Candidate, pool_count: u32, member_id: i64) -> (u32, Reverse<u32>, Option<NaiveDate>, i64) {
    (c.count, Reverse(pool_count), c.rested, member_id)
}

/// Swaps picks for same-count candidates while the composition score improves. Returns the
/// chosen candidate positions (into `cands`) and, per pick, the goal it was swapped in for.
fn improve_composition(
    engine: &Engine<'_>,
    fixed: &[usize],
    cands: &[Candidate],
    mut picks: Vec<usize>,
    venue: i64,
) -> Vec<(usize, Option<CompositionGoal>)> {
    let mut goals: Vec<Option<CompositionGoal>> = vec![None; picks.len()];
    let as_ranked = |picks: &[usize]| -> Vec<(usize, usize)> { picks.iter().map(|&p| (cands[p].member, p)).collect() };
    let mut current = engine.score(fixed, &as_ranked(&picks), venue);
    // Each accepted swap strictly lowers the score; the cap is a cheap safety net.
    for _ in 0..(4 * picks.len() + 4) {
        let mut best: Option<(CompositionScore, usize, usize)> = None;
        for slot in 0..picks.len() {
            let tier = cands[picks[slot]].count;
            for (pos, c) in cands.iter().enumerate() {
                if c.count != tier || picks.contains(&pos) {
                    continue;
                }
                let mut trial = picks.clone();
                trial[slot] = pos;
                let score = engine.score(fixed, &as_ranked(&trial), venue);
                if score < best.map_or(current, |b| b.0) {
                    best = Some((score, slot, pos));
                }
            }
        }
        let Some((score, slot, pos)) = best else {
            break;
        };
        goals[slot] = current.improved_goal(&score);
        picks[slot] = pos;
        current = score;
    }
    picks.into_iter().zip(goals).collect()
}

fn validate_templates(templates: &[ShiftTemplate]) -> (Vec<&ShiftTemplate>, Vec<TemplateError>) {
    let mut sorted: Vec<&ShiftTemplate> = templates.iter().collect();
    sorted.sort_by_key(|t| t.id);
    let mut ok = Vec::with_capacity(sorted.len());
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    for t in sorted {
        let problem = if !seen.insert(t.id) {
            Some(TemplateProblem::DuplicateId)
        } else if t.end <= t.start {
            Some(TemplateProblem::EndNotAfterStart)
        } else if t.min_head_count > t.max_head_count {
            Some(TemplateProblem::MinAboveMax)
        } else {
            super::recurrence::validate_rule(&t.rrule).err().map(TemplateProblem::Recurrence)
        };
        match problem {
            Some(problem) => errors.push(TemplateError { template_id: t.id, problem }),
            None => ok.push(t),
        }
    }
    (ok, errors)
}

fn u32_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Generates the roster for `input.period_from..=input.period_to`.
pub fn generate(input: &GenerationInput) -> GeneratedRoster {
    let (templates, mut template_errors) = validate_templates(&input.templates);

    let mut slots: Vec<ShiftSlot> = Vec::new();
    let mut valid: Vec<&ShiftTemplate> = Vec::with_capacity(templates.len());
    for t in templates {
        match expand(t, input.period_from, input.period_to, &input.calendar) {
            Ok(s) => {
                slots.extend(s);
                valid.push(t);
            }
            Err(e) => {
                template_errors.push(TemplateError { template_id: t.id, problem: TemplateProblem::Recurrence(e) })
            }
        }
    }
    slots.sort();
    let (mut engine, infos) = Engine::new(input, &valid);

    let slot_index: BTreeMap<ShiftKey, usize> =
        slots.iter().enumerate().map(|(i, s)| (ShiftKey { template_id: s.template_id, date: s.date }, i)).collect();

    // Team per slot: (member index, source, pinned role).
    let mut teams: Vec<Vec<(usize, Source, Option<Role>)>> = vec![Vec::new(); slots.len()];
    let mut reasons: Vec<Vec<AssignmentReason>> = vec![Vec::new(); slots.len()];
    let mut locked_conflicts = Vec::new();

    // Locked assignments first, so the generator counts them and never overlaps them.
    let mut locked = input.locked.clone();
    locked.sort();
    locked.dedup_by_key(|l| (l.template_id, l.date, l.member_id));
    for l in locked {
        let key = ShiftKey { template_id: l.template_id, date: l.date };
        let mut conflict = |issue| locked_conflicts.push(LockedConflict { assignment: l, issue });
        let Some(&si) = slot_index.get(&key) else {
            conflict(LockedIssue::UnknownShift);
            continue;
        };
        let Some(&m) = engine.index.get(&l.member_id) else {
            conflict(LockedIssue::UnknownMember);
            continue;
        };
        let info = &infos[&l.template_id];
        let template = info.template;
        let slot = slots[si];
        if !template.pool.contains(&l.member_id) {
            conflict(LockedIssue::NotInPool);
        }
        if !engine.members[m].active {
            conflict(LockedIssue::Inactive);
        }
        match engine.check(m, template, &slot) {
            Err(Block::Leave) => conflict(LockedIssue::OnLeave),
            Err(Block::Overlap) => conflict(LockedIssue::Overlap),
            Err(Block::MonthlyLimit) => conflict(LockedIssue::MonthlyLimit),
            Ok(()) => {}
        }
        if u32_of(teams[si].len()) >= template.max_head_count {
            conflict(LockedIssue::AboveMaxHeadCount);
        }
        engine.record(m, template, &slot);
        teams[si].push((m, Source::Locked, l.role));
        reasons[si].push(AssignmentReason::Locked);
    }
    // Leads pinned twice on one shift: keep the first (lowest member id) only.
    for team in &mut teams {
        let mut seen_lead = false;
        for entry in team.iter_mut() {
            if entry.2 == Some(Role::Lead) {
                if seen_lead {
                    entry.2 = None;
                }
                seen_lead = true;
            }
        }
    }

    let mut shortfalls = Vec::new();
    let mut shifts = Vec::with_capacity(slots.len());
    let mut cands: Vec<Candidate> = Vec::new();
    for (si, slot) in slots.iter().enumerate() {
        let info = &infos[&slot.template_id];
        let template = info.template;
        let fixed: Vec<usize> = teams[si].iter().map(|t| t.0).collect();
        let needed = template.target_head_count().saturating_sub(u32_of(fixed.len()));
        let (mut on_leave, mut overlap, mut monthly) = (0u32, 0u32, 0u32);

        if needed > 0 {
            cands.clear();
            for &m in &info.pool {
                if fixed.contains(&m) {
                    continue;
                }
                match engine.check(m, template, slot) {
                    Ok(()) => cands.push(engine.candidate(m, template, slot.date)),
                    Err(Block::Leave) => on_leave += 1,
                    Err(Block::Overlap) => overlap += 1,
                    Err(Block::MonthlyLimit) => monthly += 1,
                }
            }
            let (members, states) = (&engine.members, &engine.states);
            cands.sort_by_key(|c| rank_key(c, states[c.member].pool_count, members[c.member].id));
            let take = cands.len().min(needed as usize);
            let picks = improve_composition(&engine, &fixed, &cands, (0..take).collect(), template.venue_id);
            for (pos, goal) in picks {
                let c = cands[pos];
                reasons[si].push(engine.selected_reason(&c, goal));
                teams[si].push((c.member, Source::Generated, None));
            }
            for &(m, source, _) in &teams[si] {
                if source == Source::Generated {
                    engine.record(m, template, slot);
                }
            }
        }

        let got = u32_of(teams[si].len());
        if got < template.min_head_count {
            let active = u32_of(info.pool.len());
            let mut why = Vec::new();
            if active < template.min_head_count {
                why.push(ShortfallReason::PoolTooSmall { active_members: active });
            }
            if on_leave > 0 {
                why.push(ShortfallReason::MembersOnLeave(on_leave));
            }
            if overlap > 0 {
                why.push(ShortfallReason::Overlap(overlap));
            }
            if monthly > 0 {
                why.push(ShortfallReason::MonthlyLimit(monthly));
            }
            shortfalls.push(Shortfall {
                shift: ShiftKey { template_id: slot.template_id, date: slot.date },
                venue_id: slot.venue_id,
                needed: template.min_head_count,
                got,
                reasons: why,
            });
        }

        // Rest is judged as of just before this shift; `record` only touched this date.
        let lead = engine.lead(&teams[si], slot.date);
        let mut assignments: Vec<PlannedAssignment> = teams[si]
            .iter()
            .zip(std::mem::take(&mut reasons[si]))
            .map(|(&(m, source, _), reason)| PlannedAssignment {
                member_id: engine.members[m].id,
                role: if Some(m) == lead { Role::Lead } else { Role::Member },
                source,
                reason,
            })
            .collect();
        assignments.sort_by_key(|a| (a.role, a.member_id));
        shifts.push(PlannedShift {
            template_id: slot.template_id,
            venue_id: slot.venue_id,
            date: slot.date,
            start: slot.start,
            end: slot.end,
            original_date: slot.original_date,
            assignments,
        });
    }

    locked_conflicts.sort();
    template_errors.sort_by_key(|e| e.template_id);
    GeneratedRoster { shifts, shortfalls, locked_conflicts, template_errors }
}

/// Ranks up to `limit` substitutes for `leaving_member_id` on the shift `freed`.
///
/// `shifts` is the current roster (as generated or as edited and stored); `input` supplies
/// the same context as for [`generate`] (members, templates, leave, history). Every hard rule
/// is enforced against all other assignments in `shifts`. Ranking follows the generator:
/// fewest duties this year in the pool, then best team composition (standing committee,
/// sector mix, roving spread), then members in more pools, then longest rested, then id. Returns an empty list if the shift or its template is unknown.
pub fn propose_substitutes(
    input: &GenerationInput,
    shifts: &[PlannedShift],
    freed: ShiftKey,
    leaving_member_id: i64,
    limit: usize,
) -> Vec<SubstituteCandidate> {
    let (templates, _) = validate_templates(&input.templates);
    let (mut engine, infos) = Engine::new(input, &templates);
    let Some(target) = shifts.iter().find(|s| s.key() == freed) else {
        return Vec::new();
    };
    let Some(info) = infos.get(&freed.template_id) else {
        return Vec::new();
    };
    let template = info.template;
    let slot_of = |s: &PlannedShift| ShiftSlot {
        date: s.date,
        start: s.start,
        end: s.end,
        template_id: s.template_id,
        venue_id: s.venue_id,
        original_date: s.original_date,
    };

    // Replay the roster, minus the freed assignment, into the engine state.
    let mut sorted: Vec<&PlannedShift> = shifts.iter().collect();
    sorted.sort_by_key(|s| (s.date, s.start, s.end, s.template_id));
    for s in sorted {
        let Some(t) = infos.get(&s.template_id).map(|i| i.template) else {
            continue;
        };
        for a in &s.assignments {
            if s.key() == freed && a.member_id == leaving_member_id {
                continue;
            }
            if let Some(&m) = engine.index.get(&a.member_id) {
                engine.record(m, t, &slot_of(s));
            }
        }
    }

    let slot = slot_of(target);
    let team: Vec<usize> = target
        .assignments
        .iter()
        .filter(|a| a.member_id != leaving_member_id)
        .filter_map(|a| engine.index.get(&a.member_id).copied())
        .collect();
    type Ranked = (u32, CompositionScore, Reverse<u32>, Option<NaiveDate>, i64, Candidate);
    let mut ranked: Vec<Ranked> = info
        .pool
        .iter()
        .copied()
        .filter(|&m| engine.members[m].id != leaving_member_id && !team.contains(&m))
        .filter(|&m| engine.check(m, template, &slot).is_ok())
        .map(|m| {
            let c = engine.candidate(m, template, slot.date);
            let score = engine.score(&team, &[(m, 0)], template.venue_id);
            let pools = Reverse(engine.states[m].pool_count);
            (c.count, score, pools, c.rested, engine.members[m].id, c)
        })
        .collect();
    ranked.sort_by_key(|r| (r.0, r.1, r.2, r.3, r.4));
    ranked
        .into_iter()
        .take(limit)
        .map(|(_, _, _, _, id, c)| SubstituteCandidate { member_id: id, reason: engine.selected_reason(&c, None) })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::recurrence::HolidayPolicy;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn member(id: i64, sector: &str, standing: bool) -> MemberProfile {
        MemberProfile { id, standing_committee: standing, sector: sector.into(), roving: false, active: true }
    }

    fn reception(id: i64, pool: Vec<i64>) -> ShiftTemplate {
        ShiftTemplate {
            id,
            venue_id: id,
            rrule: "FREQ=MONTHLY;BYMONTHDAY=25".into(),
            anchor: None,
            start: t(9, 0),
            end: t(11, 30),
            min_head_count: 2,
            max_head_count: 3,
            target_head_count: Some(3),
            pool_id: id,
            pool,
            holiday_policy: HolidayPolicy::Keep,
            also_on_adjusted_working_days: false,
            one_per_member_per_month: true,
        }
    }

    fn input(templates: Vec<ShiftTemplate>, members: Vec<MemberProfile>) -> GenerationInput {
        GenerationInput {
            period_from: d(2026, 3, 1),
            period_to: d(2026, 3, 31),
            templates,
            members,
            ..GenerationInput::default()
        }
    }

    fn ids(shift: &PlannedShift) -> Vec<i64> {
        shift.assignments.iter().map(|a| a.member_id).collect()
    }

    #[test]
    fn composition_brings_in_standing_member_and_mixes_sectors() {
        // Ids 1..3 are best rested but share a sector; 5 is the only standing member.
        let members = vec![
            member(1, "教育界", false),
            member(2, "教育界", false),
            member(3, "教育界", false),
            member(4, "科技界", false),
            member(5, "农业界", true),
        ];
        let roster = generate(&input(vec![reception(1, vec![1, 2, 3, 4, 5])], members));
        let shift = &roster.shifts[0];
        assert_eq!(ids(shift), [5, 1, 4], "lead first, then by id");
        assert_eq!(shift.assignments[0].role, Role::Lead);
        let goals: Vec<_> = shift
            .assignments
            .iter()
            .map(|a| match &a.reason {
                AssignmentReason::Selected { composition, .. } => *composition,
                AssignmentReason::Locked => None,
            })
            .collect();
        assert_eq!(goals, [Some(CompositionGoal::StandingCommittee), None, Some(CompositionGoal::SectorMix)]);
        assert!(roster.shortfalls.is_empty());
    }

    #[test]
    fn balance_beats_composition() {
        let members = vec![member(1, "", false), member(2, "", false), member(3, "", false), member(4, "", true)];
        let mut inp = input(vec![reception(1, vec![1, 2, 3, 4])], members);
        inp.history.push(DutyHistory {
            member_id: 4,
            duties_this_year: [(1, 1)].into_iter().collect(),
            last_duty: Some(d(2025, 12, 25)),
            monthly_limited_duties: vec![],
        });
        let roster = generate(&inp);
        assert_eq!(ids(&roster.shifts[0]), [1, 2, 3]);
    }

    #[test]
    fn longest_rested_first_and_reason_text() {
        let members = (1..=4).map(|id| member(id, "", false)).collect();
        let mut inp = input(vec![reception(1, vec![1, 2, 3, 4])], members);
        inp.templates[0].target_head_count = None; // min = 2
        for (id, last) in [(1, d(2026, 2, 25)), (2, d(2025, 6, 25)), (3, d(2025, 11, 25))] {
            inp.history.push(DutyHistory { member_id: id, last_duty: Some(last), ..DutyHistory::default() });
        }
        let roster = generate(&inp);
        let shift = &roster.shifts[0];
        assert_eq!(ids(shift), [4, 2], "never served, then rested since 2025-06-25");
        assert_eq!(shift.assignments[1].reason.to_string(), "0 duties this year in pool, rested since 2025-06-25");
        assert_eq!(shift.assignments[1].reason.zh(), "本年度本组已值班0次，自2025-06-25起未值班");
    }

    #[test]
    fn shortfall_reasons() {
        let members = (1..=4).map(|id| member(id, "", false)).collect();
        // Template 1 and 2 meet at the same time; 2 has a single-member pool.
        let mut inp = input(vec![reception(1, vec![1, 2, 3]), reception(2, vec![1, 4])], members);
        inp.leave.push(LeaveSpan { member_id: 3, from: d(2026, 3, 20), to: d(2026, 3, 26) });
        inp.history.push(DutyHistory {
            member_id: 4,
            monthly_limited_duties: vec![d(2026, 3, 2)],
            ..DutyHistory::default()
        });
        let roster = generate(&inp);
        // Template 1 takes members 1 and 2; template 2 is left with nobody.
        assert_eq!(ids(&roster.shifts[0]), [1, 2]);
        assert!(roster.shifts[1].assignments.is_empty());
        assert_eq!(roster.shortfalls.len(), 1);
        let s = &roster.shortfalls[0];
        assert_eq!((s.shift.template_id, s.needed, s.got), (2, 2, 0));
        assert_eq!(s.reasons, [ShortfallReason::Overlap(1), ShortfallReason::MonthlyLimit(1)]);
        inp.members[0].active = false;
        let roster = generate(&inp);
        assert!(
            roster.shortfalls.iter().any(
                |s| s.shift.template_id == 2 && s.reasons[0] == ShortfallReason::PoolTooSmall { active_members: 1 }
            )
        );
    }

    #[test]
    fn locked_assignments_are_kept_counted_and_checked() {
        let members = (1..=5).map(|id| member(id, "", false)).collect();
        let mut inp = input(vec![reception(1, vec![1, 2, 3, 4])], members);
        inp.leave.push(LeaveSpan { member_id: 4, from: d(2026, 3, 1), to: d(2026, 3, 31) });
        let lock = |member_id, role| LockedAssignment { template_id: 1, date: d(2026, 3, 25), member_id, role };
        inp.locked =
            vec![lock(4, None), lock(5, Some(Role::Lead)), LockedAssignment { date: d(2026, 3, 24), ..lock(1, None) }];
        let roster = generate(&inp);
        let shift = &roster.shifts[0];
        assert_eq!(ids(shift), [5, 1, 4]);
        assert_eq!(shift.assignments[0].source, Source::Locked);
        assert_eq!(shift.assignments[1].source, Source::Generated);
        let issues: Vec<_> = roster.locked_conflicts.iter().map(|c| (c.assignment.member_id, c.issue)).collect();
        assert_eq!(issues, [(1, LockedIssue::UnknownShift), (4, LockedIssue::OnLeave), (5, LockedIssue::NotInPool)]);
    }

    #[test]
    fn invalid_templates_are_reported() {
        let mut bad = reception(1, vec![]);
        bad.rrule = "FREQ=NEVER".into();
        let mut inverted = reception(2, vec![]);
        inverted.end = t(8, 0);
        let roster = generate(&input(vec![bad, inverted, reception(2, vec![])], vec![]));
        let problems: Vec<_> =
            roster.template_errors.iter().map(|e| (e.template_id, std::mem::discriminant(&e.problem))).collect();
        assert_eq!(problems.len(), 3);
        assert!(roster.shifts.is_empty());
    }
}
