//! 我的履职: the member's own numbers over a month, quarter, half-year or year — the same
//! rows `GET /api/v1/stats/members` gives (`stats::member_stats_with` over the whole
//! committee) — and the member's rank only when the committee publishes the ranking to its
//! members (`settings.ranking_visible_to_members`, off by default).

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;

use super::render::{self, Chrome, MemberError};
use super::session::MemberUser;
use crate::auth::VenueScope;
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::error::ApiError;
use crate::stats::{MemberStats, Period, PeriodKind};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(my_record);
}

#[derive(Deserialize)]
struct PeriodQuery {
    period: Option<String>,
}

pub struct PeriodChoice {
    pub code: String,
    pub label: &'static str,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "member_pages/me.html")]
struct RecordPage {
    chrome: Chrome,
    period_label: String,
    choices: Vec<PeriodChoice>,
    row: Option<MemberStats>,
    /// `(rank, of how many)` when the committee shows the ranking to members.
    rank: Option<(u32, usize)>,
}

#[get("/m/me")]
async fn my_record(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    clock: Clock,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, MemberError> {
    let (committee_id, member_id, now) = (user.committee_id(), user.member_id(), clock.now_naive());
    let asked = match query.period.as_deref().filter(|p| !p.trim().is_empty()) {
        Some(raw) => Some(Period::parse(raw).map_err(|e| ApiError::field("period", e.reason, e.message))?),
        None => None,
    };
    let (period, today, rows, ranking_shown) = db::run(&pool, move |conn| {
        let rules = crate::items::workflow::CommitteeRules::load(conn, committee_id)?;
        let today = crate::committee::local_date(rules.tz, now);
        let period = asked.unwrap_or_else(|| Period::containing(today, PeriodKind::Month));
        let weights = rules.settings.ranking_weights;
        let rows = crate::stats::member_stats_with(conn, committee_id, &VenueScope::All, &period, now, &weights)?;
        Ok((period, today, rows, rules.settings.ranking_visible_to_members))
    })
    .await?;
    let listed = rows.len();
    let row = rows.into_iter().find(|r| r.member_id == member_id);
    let rank = if ranking_shown { row.as_ref().map(|r| (r.rank, listed)) } else { None };
    let choices = [
        (PeriodKind::Month, "本月"),
        (PeriodKind::Quarter, "本季度"),
        (PeriodKind::Half, "本半年"),
        (PeriodKind::Year, "本年度"),
    ]
    .into_iter()
    .map(|(kind, label)| {
        let code = Period::containing(today, kind).to_string();
        PeriodChoice { current: code == period.to_string(), code, label }
    })
    .collect();
    let page = RecordPage { chrome: Chrome::new(&user, "me"), period_label: period.label_zh(), choices, row, rank };
    render::page(&req, &user, &page)
}
