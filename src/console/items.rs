//! The triage board: the open items of the coordinator's venues by tier, deadlines shown and
//! overdue marked; an item's page with the resident's contact (coordinators only), its
//! timeline and the triage form.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;

use super::render::{Chrome, ConsoleError, page};
use super::session::ConsoleUser;
use crate::auth::VenueScope;
use crate::committee::local_date;
use crate::db::{self, DbConnection, DbPool};
use crate::domain::{Difficulty, Importance, ItemAction, ItemState, Resolution, Tier};
use crate::error::{ApiError, FieldChecks};
use crate::html::see_other;
use crate::items::store::{self, Actor, ItemRow};
use crate::items::workflow::{self, CommitteeRules};
use crate::items::workflow::{MAX_NOTE_CHARS, TriageChoice, coordinated_item, optional_text, triage_by_coordinator};
use crate::schema::{handling_units, items, members, venues};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(board).service(item_page).service(triage).service(refer).service(reply).service(close);
}

pub struct Card {
    pub id: i64,
    pub tracking_code: String,
    pub kind: &'static str,
    pub topic: String,
    pub venue: String,
    pub state: &'static str,
    pub due_on: Option<NaiveDate>,
    pub overdue: bool,
}

pub struct Column {
    pub title: &'static str,
    pub class: &'static str,
    pub cards: Vec<Card>,
}

#[derive(Template)]
#[template(path = "console/items.html")]
struct BoardPage {
    chrome: Chrome,
    columns: Vec<Column>,
    overdue: usize,
}

fn scoped_items(
    conn: &mut DbConnection,
    committee_id: i64,
    scope: &VenueScope,
    now: chrono::NaiveDateTime,
) -> Result<(Vec<(ItemRow, String)>, NaiveDate), ApiError> {
    let rules = CommitteeRules::load(conn, committee_id)?;
    let open: Vec<&str> = ItemState::ALL.iter().filter(|s| **s != ItemState::Closed).map(|s| s.as_str()).collect();
    let mut query = items::table
        .inner_join(venues::table)
        .filter(items::committee_id.eq(committee_id))
        .filter(items::state.eq_any(open))
        .order((items::due_on.asc(), items::id))
        .limit(1000)
        .select((ItemRow::as_select(), venues::name))
        .into_boxed();
    if let VenueScope::Venues(ids) = scope {
        query = query.filter(items::venue_id.eq_any(ids.iter().copied().collect::<Vec<_>>()));
    }
    Ok((query.load(conn)?, local_date(rules.tz, now)))
}

fn card(row: ItemRow, venue: String, today: NaiveDate) -> Card {
    let state = row.state;
    Card {
        id: row.id,
        kind: row.kind.label_zh(),
        topic: row.topic,
        venue,
        state: state.label_zh(),
        overdue: state.awaits_answer() && row.due_on.is_some_and(|due| due < today),
        due_on: row.due_on,
        tracking_code: crate::items::views::display_code(&row.tracking_code),
    }
}

#[get("/console/items")]
async fn board(user: ConsoleUser, pool: web::Data<DbPool>) -> Result<HttpResponse, ConsoleError> {
    let (committee_id, scope, now) = (user.committee_id(), user.coordinator.scope.clone(), user.now);
    let (rows, today) = db::run(&pool, move |conn| scoped_items(conn, committee_id, &scope, now)).await?;
    let mut columns = vec![
        Column { title: "待分级", class: "tier-none", cards: Vec::new() },
        Column { title: Tier::ALL[0].numbered_label_zh(), class: "tier-1", cards: Vec::new() },
        Column { title: Tier::ALL[1].numbered_label_zh(), class: "tier-2", cards: Vec::new() },
        Column { title: Tier::ALL[2].numbered_label_zh(), class: "tier-3", cards: Vec::new() },
        Column { title: Tier::ALL[3].numbered_label_zh(), class: "tier-4", cards: Vec::new() },
    ];
    for (row, venue) in rows {
        let column = row.tier.map_or(0, |t| usize::from(t.get()));
        columns[column].cards.push(card(row, venue, today));
    }
    let overdue = columns.iter().flat_map(|c| &c.cards).filter(|c| c.overdue).count();
    page(&BoardPage { chrome: Chrome::new(&user, "items"), columns, overdue })
}

pub struct EventLine {
    pub at: String,
    pub by: String,
    pub action: &'static str,
    pub note: Option<String>,
}

fn action_label(action: &str) -> &'static str {
    match action {
        "submit" => "居民提交",
        "record" => "委员记录",
        "take" => "委员认领",
        "triage" => "分级",
        "refer" => "转交办理",
        "reply" => "答复",
        "close" => "办结",
        "reopen" => "重新办理",
        "rate" => "居民评价",
        "escalate" => "超期提醒",
        "follow_up" => "回头看",
        _ => "其他",
    }
}

#[derive(Template)]
#[template(path = "console/item.html")]
struct ItemPage {
    chrome: Chrome,
    tracking_code: String,
    item: ItemRow,
    venue: String,
    kind: &'static str,
    state: &'static str,
    tier: Option<&'static str>,
    overdue: bool,
    /// The deadline was counted into a year with no holiday calendar: it may move.
    deadline_provisional: bool,
    can_triage: bool,
    /// The form starts from the item's current grade (一般 × 易 when it has none).
    importance: String,
    difficulty: String,
    /// Handling units to refer to, when the item can be referred (triaged or reopened).
    units: Vec<(i64, String)>,
    can_reply: bool,
    /// The resolutions the item can be closed with now: after an answer, resolved or
    /// answered; before one, only those that need none.
    closings: Vec<(&'static str, &'static str)>,
    events: Vec<EventLine>,
}

#[get("/console/items/{id}")]
async fn item_page(
    user: ConsoleUser,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ConsoleError> {
    let (id, committee_id, scope) = (id.into_inner(), user.committee_id(), user.coordinator.scope.clone());
    let now = user.now;
    let (item, venue, events, today, tz, units, calendar) = db::run(&pool, move |conn| {
        let item = store::find(conn, committee_id, id)?;
        let calendar = crate::calendar::store::known_years(conn, committee_id)?;
        scope.check(item.venue_id)?;
        let venue: String = venues::table.find(item.venue_id).select(venues::name).first(conn)?;
        let events = store::events(conn, item.id, false)?;
        let actors: Vec<i64> = events.iter().filter(|e| e.actor_kind == "member").filter_map(|e| e.actor_id).collect();
        let names: BTreeMap<i64, String> = members::table
            .filter(members::id.eq_any(actors))
            .select((members::id, members::name))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect();
        let rules = CommitteeRules::load(conn, committee_id)?;
        let units: Vec<(i64, String)> = handling_units::table
            .filter(handling_units::committee_id.eq(committee_id).and(handling_units::active.eq(true)))
            .order(handling_units::name)
            .select((handling_units::id, handling_units::name))
            .load(conn)?;
        let lines: Vec<(chrono::NaiveDateTime, String, String, Option<String>)> = events
            .into_iter()
            .map(|e| {
                let by = match e.actor_kind.as_str() {
                    "resident" => "居民".to_owned(),
                    "handling_unit" => "承办单位".to_owned(),
                    "system" => "系统".to_owned(),
                    _ => e.actor_id.and_then(|id| names.get(&id).cloned()).unwrap_or_default(),
                };
                (e.at, by, e.action, e.note)
            })
            .collect();
        Ok((item, venue, lines, local_date(rules.tz, now), rules.tz, units, calendar))
    })
    .await?;
    let state = item.state;
    let events = events
        .into_iter()
        .map(|(at, by, action, note)| EventLine {
            at: at.and_utc().with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
            by,
            action: action_label(&action),
            note,
        })
        .collect();
    let page_data = ItemPage {
        chrome: Chrome::new(&user, "items"),
        tracking_code: crate::items::views::display_code(&item.tracking_code),
        venue,
        kind: item.kind.label_zh(),
        state: state.label_zh(),
        tier: item.tier.map(Tier::numbered_label_zh),
        overdue: state.awaits_answer() && item.due_on.is_some_and(|due| due < today),
        deadline_provisional: crate::items::views::deadline_provisional(&item, &calendar),
        can_triage: matches!(state, ItemState::Received | ItemState::Triaged | ItemState::Reopened),
        importance: item.importance.unwrap_or(Importance::Normal).as_str().to_owned(),
        difficulty: item.difficulty.unwrap_or(Difficulty::Easy).as_str().to_owned(),
        units: if ItemAction::Refer.next_state(state).is_some() { units } else { Vec::new() },
        can_reply: ItemAction::Reply.next_state(state).is_some(),
        closings: Resolution::ALL
            .iter()
            .filter(|r| ItemAction::Close(**r).next_state(state).is_some())
            .map(|r| (r.as_str(), r.label_zh()))
            .collect(),
        events,
        item,
    };
    page(&page_data)
}

#[derive(Deserialize)]
struct TriageForm {
    csrf: String,
    importance: String,
    difficulty: String,
    /// Empty: the matrix's tier.
    #[serde(default)]
    tier: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
}

#[post("/console/items/{id}/triage")]
async fn triage(
    user: ConsoleUser,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    form: web::Form<TriageForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    user.check_csrf(&form.csrf)?;
    let id = id.into_inner();
    let mut checks = FieldChecks::new();
    let importance = Importance::parse(&form.importance);
    let difficulty = Difficulty::parse(&form.difficulty);
    if importance.is_none() {
        checks.push("importance", "invalid", "请选择重要性");
    }
    if difficulty.is_none() {
        checks.push("difficulty", "invalid", "请选择难易程度");
    }
    let tier = match form.tier.trim() {
        "" => None,
        raw => match raw.parse::<i64>() {
            Ok(t) => checks.check("tier", Tier::new(t)),
            Err(_) => {
                checks.push("tier", "invalid", "级别应为 1–4");
                None
            }
        },
    };
    let reason = optional_text(&mut checks, "reason", Some(&form.reason), 500);
    let note = optional_text(&mut checks, "note", Some(&form.note), MAX_NOTE_CHARS);
    checks.finish()?;
    let (Some(importance), Some(difficulty)) = (importance, difficulty) else {
        return Err(ApiError::field("importance", "invalid", "请选择重要性和难易程度").into());
    };
    let coordinator = user.coordinator.clone();
    db::transaction(&pool, move |conn| {
        let choice = TriageChoice { importance, difficulty, tier, reason: reason.as_deref(), note: note.as_deref() };
        triage_by_coordinator(conn, &coordinator, id, choice, user.now)
    })
    .await?;
    Ok(see_other(format!("/console/items/{id}")))
}

#[derive(Deserialize)]
struct ReferForm {
    csrf: String,
    handling_unit_id: i64,
    #[serde(default)]
    note: String,
}

#[derive(Template)]
#[template(path = "console/referred.html")]
struct ReferredPage {
    chrome: Chrome,
    item_id: i64,
    unit: String,
    link: String,
}

/// Refers the item to a handling unit. The unit's secret link is shown on the answer page
/// once (never in a redirect's URL) and is also sent as the `item.referred` notification.
#[post("/console/items/{id}/refer")]
async fn refer(
    req: HttpRequest,
    user: ConsoleUser,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    form: web::Form<ReferForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    user.check_csrf(&form.csrf)?;
    let mut checks = FieldChecks::new();
    let note = optional_text(&mut checks, "note", Some(&form.note), MAX_NOTE_CHARS);
    checks.finish()?;
    let (id, unit_id, coordinator) = (id.into_inner(), form.handling_unit_id, user.coordinator.clone());
    let (unit, token) = db::transaction(&pool, move |conn| {
        let item = coordinated_item(conn, &coordinator, id)?;
        let token = workflow::refer(conn, &item, coordinator.user.member_id, unit_id, note.as_deref(), user.now)?;
        let unit: String = handling_units::table.find(unit_id).select(handling_units::name).first(conn)?;
        Ok((unit, token))
    })
    .await?;
    let link = format!("{}/h/{token}", crate::public_url::BaseUrl::of(&req));
    page(&ReferredPage { chrome: Chrome::new(&user, "items"), item_id: id, unit, link })
}

#[derive(Deserialize)]
struct ReplyForm {
    csrf: String,
    text: String,
}

/// Answers the item as the coordinator; the answer is public on the resident's tracking page.
#[post("/console/items/{id}/reply")]
async fn reply(
    user: ConsoleUser,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    form: web::Form<ReplyForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    user.check_csrf(&form.csrf)?;
    let mut checks = FieldChecks::new();
    if form.text.trim().is_empty() {
        checks.push("text", "required", "请填写答复内容");
    }
    let text = optional_text(&mut checks, "text", Some(&form.text), MAX_NOTE_CHARS);
    checks.finish()?;
    let (id, coordinator, text) = (id.into_inner(), user.coordinator.clone(), text.unwrap_or_default());
    db::transaction(&pool, move |conn| {
        let item = coordinated_item(conn, &coordinator, id)?;
        workflow::reply(conn, &item, Actor::Member(coordinator.user.member_id), &text, user.now)
    })
    .await?;
    Ok(see_other(format!("/console/items/{id}")))
}

#[derive(Deserialize)]
struct CloseForm {
    csrf: String,
    resolution: String,
    #[serde(default)]
    note: String,
}

/// Closes the item with a resolution (after an answer; or without one as not actionable,
/// a duplicate or merged).
#[post("/console/items/{id}/close")]
async fn close(
    user: ConsoleUser,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    form: web::Form<CloseForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    user.check_csrf(&form.csrf)?;
    let mut checks = FieldChecks::new();
    let resolution = Resolution::parse(&form.resolution);
    if resolution.is_none() {
        checks.push("resolution", "invalid", "请选择办结方式");
    }
    let note = optional_text(&mut checks, "note", Some(&form.note), MAX_NOTE_CHARS);
    checks.finish()?;
    let Some(resolution) = resolution else {
        return Err(ApiError::field("resolution", "invalid", "请选择办结方式").into());
    };
    let (id, coordinator) = (id.into_inner(), user.coordinator.clone());
    db::transaction(&pool, move |conn| {
        let item = coordinated_item(conn, &coordinator, id)?;
        let rules = CommitteeRules::load(conn, item.committee_id)?;
        let closer = workflow::Closer::Coordinator(coordinator.user.member_id);
        workflow::close(conn, &item, closer, resolution, note.as_deref(), &rules, user.now)
    })
    .await?;
    Ok(see_other(format!("/console/items/{id}")))
}
