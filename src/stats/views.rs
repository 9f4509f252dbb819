//! The statistics' rows and reports, and the ranking — plain data and rules, no HTTP or SQL.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::period::{Period, PeriodKind};
use crate::domain::RankingWeights;

/// One member's record (履职档案) over a period, counting only the venues in the caller's
/// scope. See the README, "Statistics", for what each number counts.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MemberStats {
    pub member_id: i64,
    pub name: String,
    /// Id of the member's studio group; `null` for the roving pool.
    pub home_venue_id: Option<i64>,
    /// Name of the member's studio group (所属工作室); `null` for the roving pool.
    pub home_venue: Option<String>,
    /// Duties on published rosters in the period (all of the next five, plus any not yet over).
    pub scheduled: u32,
    /// Checked in on time, shift over.
    pub present: u32,
    /// Checked in more than 15 minutes after the start, shift over.
    pub late: u32,
    /// Not checked in, shift over, no approved leave or swap.
    pub absent: u32,
    /// Off the duty through approved leave or an approved swap.
    pub excused: u32,
    /// Of `present` and `late`: how many rest on a check-in uploaded offline that no
    /// coordinator has confirmed yet (they count until one refuses them).
    pub unconfirmed_present: u32,
    /// Items received in the period that the member recorded, that came in at one of their
    /// duties, or that they took from the live inbox.
    pub items_collected: u32,
    /// Consultations received in the period whose first answer the member gave.
    pub consultations_answered: u32,
    /// Mean hours from receipt to first answer over `consultations_answered`; `null` when none.
    pub avg_reply_hours: Option<f64>,
    /// Items collected or answered by the member that missed their deadline: still unanswered
    /// after `due_on`, or answered (or closed) after it.
    pub overdue: u32,
    /// Σ count × the committee's `ranking_weights`, rounded to two decimals.
    pub score: f64,
    /// 1 for the highest score; equal scores share a rank (1, 1, 3 …).
    pub rank: u32,
}

/// One venue's figures over a period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct VenueStats {
    pub venue_id: i64,
    pub name: String,
    /// `township_studio` or `cppcc_home`.
    pub kind: String,
    /// Duties at the venue on published rosters in the period, as for members.
    pub scheduled: u32,
    pub present: u32,
    pub late: u32,
    pub absent: u32,
    pub excused: u32,
    /// Of `present` and `late`: how many rest on a check-in uploaded offline that no
    /// coordinator has confirmed yet (they count until one refuses them).
    pub unconfirmed_present: u32,
    /// Items (consultations and opinions) received at the venue in the period.
    pub items_received: u32,
    /// Consultations received at the venue in the period that have an answer (by anyone).
    pub consultations_answered: u32,
    /// Mean hours from receipt to first answer over `consultations_answered`; `null` when none.
    pub avg_reply_hours: Option<f64>,
    /// Items received at the venue that missed their deadline.
    pub overdue: u32,
}

/// How a statistics endpoint answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    #[default]
    Json,
    /// UTF-8 with a byte-order mark, Chinese headers.
    Csv,
    /// An Excel workbook: a title row with the period, Chinese headers.
    Xlsx,
}

/// The members' statistics and ranking of a period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MembersReport {
    /// The period as asked for, normalised: `2026-11`, `2026-Q4`, `2026-H2` or `2026`.
    pub period: String,
    pub kind: PeriodKind,
    /// First local date of the period (committee time zone).
    pub from: NaiveDate,
    /// Last local date of the period.
    pub to: NaiveDate,
    /// e.g. `2026年第四季度`.
    pub label: String,
    /// The venue the figures were limited to, if one was asked for.
    pub venue_id: Option<i64>,
    /// When the figures were computed: duties not over by then count only as scheduled.
    pub as_of: DateTime<Utc>,
    /// The committee's weights the scores were computed with.
    pub weights: RankingWeights,
    /// Ranked: score descending, then name.
    pub rows: Vec<MemberStats>,
}

/// The venues' statistics of a period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VenuesReport {
    /// The period as asked for, normalised.
    pub period: String,
    pub kind: PeriodKind,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub label: String,
    pub venue_id: Option<i64>,
    pub as_of: DateTime<Utc>,
    /// By venue id.
    pub rows: Vec<VenueStats>,
}

impl MembersReport {
    pub fn new(
        period: &Period,
        venue_id: Option<i64>,
        as_of: DateTime<Utc>,
        weights: RankingWeights,
        rows: Vec<MemberStats>,
    ) -> Self {
        Self {
            period: period.to_string(),
            kind: period.kind(),
            from: period.first_day(),
            to: period.last_day(),
            label: period.label_zh(),
            venue_id,
            as_of,
            weights,
            rows,
        }
    }
}

impl VenuesReport {
    pub fn new(period: &Period, venue_id: Option<i64>, as_of: DateTime<Utc>, rows: Vec<VenueStats>) -> Self {
        Self {
            period: period.to_string(),
            kind: period.kind(),
            from: period.first_day(),
            to: period.last_day(),
            label: period.label_zh(),
            venue_id,
            as_of,
            rows,
        }
    }
}

/// Rounds to two decimals, so sums of fractional weights compare equal when they should.
pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The member's score under `weights`.
pub fn score(row: &MemberStats, w: &RankingWeights) -> f64 {
    round2(
        f64::from(row.present) * w.present
            + f64::from(row.late) * w.late
            + f64::from(row.absent) * w.absent
            + f64::from(row.excused) * w.excused
            + f64::from(row.items_collected) * w.items_collected
            + f64::from(row.consultations_answered) * w.consultations_answered
            + f64::from(row.overdue) * w.overdue,
    )
}

/// Scores every row, sorts by score (descending), then name, then id, and gives ranks with
/// ties sharing one (standard competition ranking: 1, 1, 3).
pub fn rank(rows: &mut [MemberStats], weights: &RankingWeights) {
    for row in rows.iter_mut() {
        row.score = score(row, weights);
    }
    rows.sort_by(|a, b| {
        b.score
            .partial_cmp(&a.score)
            .unwrap_or(Ordering::Equal)
            .then_with(|| a.name.cmp(&b.name))
            .then(a.member_id.cmp(&b.member_id))
    });
    let mut previous: Option<(f64, u32)> = None;
    for (i, row) in rows.iter_mut().enumerate() {
        let position = u32::try_from(i).unwrap_or(u32::MAX).saturating_add(1);
        row.rank = match previous {
            Some((score, rank)) if score == row.score => rank,
            _ => position,
        };
        previous = Some((row.score, row.rank));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, name: &str, present: u32, absent: u32) -> MemberStats {
        MemberStats {
            member_id: id,
            name: name.to_owned(),
            home_venue_id: None,
            home_venue: None,
            scheduled: present + absent,
            present,
            late: 0,
            absent,
            excused: 0,
            unconfirmed_present: 0,
            items_collected: 0,
            consultations_answered: 0,
            avg_reply_hours: None,
            overdue: 0,
            score: 0.0,
            rank: 0,
        }
    }

    #[test]
    fn ties_share_a_rank_and_order_by_name() {
        let mut rows = vec![row(1, "丙", 1, 0), row(2, "乙", 2, 0), row(3, "甲", 1, 0), row(4, "丁", 0, 1)];
        rank(&mut rows, &RankingWeights::default());
        let got: Vec<(i64, f64, u32)> = rows.iter().map(|r| (r.member_id, r.score, r.rank)).collect();
        // 乙 4; 丙 and 甲 2 each (丙 U+4E19 sorts before 甲 U+7532); 丁 −2.
        assert_eq!(got, vec![(2, 4.0, 1), (1, 2.0, 2), (3, 2.0, 2), (4, -2.0, 4)]);
    }

    #[test]
    fn fractional_weights_do_not_break_ties() {
        let w = RankingWeights { present: 0.1, absent: 0.2, ..RankingWeights::default() };
        let mut rows = vec![row(1, "a", 3, 0), row(2, "b", 1, 1)];
        rank(&mut rows, &w);
        assert_eq!((rows[0].score, rows[1].score), (0.3, 0.3));
        assert_eq!((rows[0].rank, rows[1].rank), (1, 1));
    }
}
