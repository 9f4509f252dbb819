//! Who could stand in for a member taken off a duty (leave): ranked as the generator ranks.

use std::cmp::Reverse;

use chrono::NaiveDate;

use super::super::types::*;
use super::{Candidate, CompositionScore, Engine, validate_templates};
use crate::roster::recurrence::ShiftSlot;

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
