use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Invalid;
use super::TriageMatrix;
use super::{NoticeRoutes, QuietHours};

/// An IANA time zone name that chrono-tz knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timezone(pub chrono_tz::Tz);

impl Timezone {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        raw.trim()
            .parse::<chrono_tz::Tz>()
            .map(Self)
            .map_err(|_| Invalid::new("unknown_timezone", "must be an IANA time zone such as Asia/Shanghai"))
    }
}

/// The committee's rules, stored as one JSON document so later capabilities add fields with
/// defaults and no migration. Unknown fields are refused at the API, kept out of storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CommitteeSettings {
    /// Day of the month of the member reception day (委员接待日).
    pub reception_day_of_month: u32,
    /// Approved swaps need no coordinator when true.
    pub swap_auto_approve: bool,
    /// Days before a duty when reminders go out.
    pub reminder_days_before: Vec<u32>,
    /// Deadline of each tier (1..=4) in working days.
    pub tier_deadline_working_days: [u32; 4],
    /// Tier by importance (rows: normal, important, major) × difficulty (columns: easy,
    /// moderate, hard).
    pub triage_matrix: TriageMatrix,
    /// Working days after closing when a tier 3–4 item is looked at again (回头看).
    pub follow_up_working_days: u32,
    /// Days after an answer during which a resident may reopen an item (once).
    pub reopen_window_days: u32,
    /// Working days past the deadline before an overdue item is escalated to the admins
    /// (the coordinators are told on the first overdue day).
    pub escalate_to_admin_after_working_days: u32,
    /// Points per counted event in the members' ranking (履职排名) of the statistics.
    pub ranking_weights: RankingWeights,
    /// Whether members see their own rank in the ranking on the member pages (我的履职).
    /// Off by default: the ranking is the office's until the committee publishes it.
    pub ranking_visible_to_members: bool,
    /// Where each kind of notice goes besides the webhook: `sms`, `venue_group`,
    /// `committee_group` (see the README, "Notifications").
    pub notice_routes: NoticeRoutes,
    /// Committee-local hours in which SMS and robot messages wait until morning.
    pub quiet_hours: QuietHours,
}

/// Points each counted event adds to a member's score in the statistics' ranking: the score is
/// the sum over the period of count × weight. Each weight is −100..=100; fractions allowed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RankingWeights {
    /// Per duty attended on time (default +2).
    pub present: f64,
    /// Per duty attended late (default +1).
    pub late: f64,
    /// Per duty missed (default −2).
    pub absent: f64,
    /// Per duty excused by approved leave or swap (default 0).
    pub excused: f64,
    /// Per item collected (default +1).
    pub items_collected: f64,
    /// Per consultation answered (default +1).
    pub consultations_answered: f64,
    /// Per overdue item (default −1).
    pub overdue: f64,
}

impl Default for RankingWeights {
    fn default() -> Self {
        Self {
            present: 2.0,
            late: 1.0,
            absent: -2.0,
            excused: 0.0,
            items_collected: 1.0,
            consultations_answered: 1.0,
            overdue: -1.0,
        }
    }
}

impl RankingWeights {
    pub const MAX_ABS: f64 = 100.0;

    /// The weights by field name, in the order the statistics show them.
    pub fn fields(&self) -> [(&'static str, f64); 7] {
        [
            ("present", self.present),
            ("late", self.late),
            ("absent", self.absent),
            ("excused", self.excused),
            ("items_collected", self.items_collected),
            ("consultations_answered", self.consultations_answered),
            ("overdue", self.overdue),
        ]
    }

    pub fn validate(&self) -> Result<(), Invalid> {
        for (name, w) in self.fields() {
            if !w.is_finite() || w.abs() > Self::MAX_ABS {
                return Err(Invalid::new("out_of_range", format!("{name}: each weight must be between −100 and 100")));
            }
        }
        Ok(())
    }
}

impl Default for CommitteeSettings {
    fn default() -> Self {
        Self {
            reception_day_of_month: 25,
            swap_auto_approve: false,
            reminder_days_before: vec![7, 1],
            tier_deadline_working_days: [1, 10, 20, 60],
            triage_matrix: TriageMatrix::default(),
            follow_up_working_days: 20,
            reopen_window_days: 15,
            escalate_to_admin_after_working_days: 3,
            ranking_weights: RankingWeights::default(),
            ranking_visible_to_members: false,
            notice_routes: NoticeRoutes::default(),
            quiet_hours: QuietHours::default(),
        }
    }
}

impl CommitteeSettings {
    /// Checks the rules hang together; errors name the field.
    pub fn validate(&self) -> Result<(), (&'static str, Invalid)> {
        if !(1..=28).contains(&self.reception_day_of_month) {
            return Err(("reception_day_of_month", Invalid::new("out_of_range", "must be 1–28 so every month has it")));
        }
        if self.reminder_days_before.len() > 5 || self.reminder_days_before.iter().any(|d| *d > 60) {
            return Err((
                "reminder_days_before",
                Invalid::new("out_of_range", "at most 5 reminders, each 0–60 days before"),
            ));
        }
        if self.tier_deadline_working_days.iter().any(|d| !(1..=250).contains(d)) {
            return Err((
                "tier_deadline_working_days",
                Invalid::new("out_of_range", "each deadline must be 1–250 working days"),
            ));
        }
        self.triage_matrix.validate().map_err(|e| ("triage_matrix", e))?;
        if !(1..=250).contains(&self.follow_up_working_days) {
            return Err(("follow_up_working_days", Invalid::new("out_of_range", "must be 1–250 working days")));
        }
        if !(1..=90).contains(&self.reopen_window_days) {
            return Err(("reopen_window_days", Invalid::new("out_of_range", "must be 1–90 days")));
        }
        if !(1..=60).contains(&self.escalate_to_admin_after_working_days) {
            return Err((
                "escalate_to_admin_after_working_days",
                Invalid::new("out_of_range", "must be 1–60 working days"),
            ));
        }
        self.ranking_weights.validate().map_err(|e| ("ranking_weights", e))?;
        self.quiet_hours.validate().map_err(|e| ("quiet_hours", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_design() {
        let s = CommitteeSettings::default();
        assert_eq!(s.reception_day_of_month, 25);
        assert_eq!(s.tier_deadline_working_days, [1, 10, 20, 60]);
        assert!(s.validate().is_ok());
        // Stored documents missing newer fields still load.
        let old: CommitteeSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(old, s);
    }

    #[test]
    fn ranking_weights_have_defaults_and_ranges() {
        let partial: CommitteeSettings = serde_json::from_str(r#"{"ranking_weights": {"absent": -5}}"#).unwrap();
        assert_eq!(partial.ranking_weights.absent, -5.0);
        assert_eq!(partial.ranking_weights.present, 2.0);
        assert!(partial.validate().is_ok());
        let mut s = CommitteeSettings::default();
        s.ranking_weights.overdue = -100.5;
        assert_eq!(s.validate().unwrap_err().0, "ranking_weights");
        s.ranking_weights.overdue = f64::NAN;
        assert!(s.validate().is_err());
        assert!(serde_json::from_str::<CommitteeSettings>(r#"{"ranking_weights": {"bonus": 1}}"#).is_err());
    }

    #[test]
    fn timezones() {
        assert!(Timezone::parse("Asia/Shanghai").is_ok());
        assert!(Timezone::parse("Mars/Olympus").is_err());
    }
}
