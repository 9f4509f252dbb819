//! The engine: member state under the hard rules, the greedy pass and the team-composition
//! pass. `substitutes` replays a stored roster into the same state.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, NaiveTime};

use super::types::*;
use crate::roster::recurrence::{ShiftSlot, ShiftTemplate, expand};

mod substitutes;

pub use substitutes::propose_substitutes;

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
    fn lead(&self, team: &[(usize, Source, Option<DutyRole>)], date: NaiveDate) -> Option<usize> {
        if let Some(&(m, _, _)) = team.iter().find(|(_, _, r)| *r == Some(DutyRole::Lead)) {
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
            crate::roster::recurrence::validate_rule(&t.rrule).err().map(TemplateProblem::Recurrence)
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
    let mut teams: Vec<Vec<(usize, Source, Option<DutyRole>)>> = vec![Vec::new(); slots.len()];
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
            if entry.2 == Some(DutyRole::Lead) {
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
                role: if Some(m) == lead { DutyRole::Lead } else { DutyRole::Member },
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
