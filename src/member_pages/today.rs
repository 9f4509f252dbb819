//! 首页: today's duty and the next ones (venue, time, role, the team and who has checked
//! in), the unread notices, and the phone-calendar subscription.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::{Datelike, Duration, NaiveDate};

use super::CsrfForm;
use super::render::{self, Chrome, MemberError};
use super::session::MemberUser;
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::domain::AssignmentRole;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(today).service(calendar_page).service(calendar_link);
}

/// How far ahead the page looks for the next duties.
const AHEAD_DAYS: i64 = 92;
/// How many of the next duties it lists.
const NEXT_SHOWN: usize = 5;

pub struct Teammate {
    pub name: String,
    pub lead: bool,
    pub me: bool,
    pub checked_in: bool,
}

pub struct DutyCard {
    pub assignment_id: i64,
    pub date: String,
    pub time: String,
    pub venue: String,
    pub address: String,
    pub role: &'static str,
    pub checked_in: bool,
    pub team: Vec<Teammate>,
}

#[derive(Template)]
#[template(path = "member_pages/today.html")]
struct TodayPage {
    chrome: Chrome,
    today_label: String,
    today: Vec<DutyCard>,
    next: Vec<DutyCard>,
    unread: i64,
}

const WEEKDAYS: [&str; 7] = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"];

/// `12月25日 星期五`.
pub fn date_label(date: NaiveDate) -> String {
    format!("{}月{}日 {}", date.month(), date.day(), WEEKDAYS[date.weekday().num_days_from_monday() as usize])
}

#[get("/m")]
async fn today(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    clock: Clock,
) -> Result<HttpResponse, MemberError> {
    let (committee_id, member_id) = (user.committee_id(), user.member_id());
    let (now, tz) = (clock.now_naive(), user.timezone);
    let (today, cards, unread) = db::run(&pool, move |conn| {
        let today = crate::committee::local_date(tz, now);
        let duties = crate::roster::views::member_duties(
            conn,
            committee_id,
            member_id,
            today,
            today + Duration::days(AHEAD_DAYS),
        )?;
        // Duties already over today drop off the list of what is to come.
        let duties: Vec<_> = duties.into_iter().filter(|d| d.date == today || d.ends_at.naive_utc() >= now).collect();
        let team_ids: Vec<i64> = duties.iter().flat_map(|d| d.team.iter().map(|t| t.id)).collect();
        let checked = crate::checkin::scan::checked_in_assignments(conn, &team_ids)?;
        let cards: Vec<(NaiveDate, DutyCard)> = duties
            .into_iter()
            .take(NEXT_SHOWN + 3)
            .map(|d| {
                let card = DutyCard {
                    assignment_id: d.assignment_id,
                    date: date_label(d.date),
                    time: format!("{}–{}", d.start_time.format("%H:%M"), d.end_time.format("%H:%M")),
                    address: d.venue_address.unwrap_or_default(),
                    venue: d.venue_name,
                    role: d.role.label_zh(),
                    checked_in: checked.contains(&d.assignment_id),
                    team: d
                        .team
                        .iter()
                        .map(|t| Teammate {
                            name: t.member_name.clone(),
                            lead: t.role == AssignmentRole::Lead,
                            me: t.member_id == member_id,
                            checked_in: checked.contains(&t.id),
                        })
                        .collect(),
                };
                (d.date, card)
            })
            .collect();
        let unread = crate::outbox::notices::unread_count(conn, member_id)?;
        Ok((today, cards, unread))
    })
    .await?;
    let (today_cards, next): (Vec<_>, Vec<_>) = cards.into_iter().partition(|(date, _)| *date == today);
    let page = TodayPage {
        chrome: Chrome::new(&user, "today"),
        today_label: date_label(today),
        today: today_cards.into_iter().map(|(_, c)| c).collect(),
        next: next.into_iter().map(|(_, c)| c).take(NEXT_SHOWN).collect(),
        unread,
    };
    render::page(&req, &user, &page)
}

#[derive(Template)]
#[template(path = "member_pages/calendar.html")]
struct CalendarPage {
    chrome: Chrome,
    /// Shown once, right after it was made: the feed's token is stored only as a digest.
    link: Option<(String, String)>,
}

/// 加入手机日历: what the subscription is, and a button that makes the member's feed link.
#[get("/m/calendar")]
async fn calendar_page(req: HttpRequest, user: MemberUser) -> Result<HttpResponse, MemberError> {
    let page = CalendarPage { chrome: Chrome::new(&user, "today"), link: None };
    render::page(&req, &user, &page)
}

/// Makes (or replaces) the member's calendar feed, as `POST /api/v1/me/calendar-feed` does,
/// and shows its `webcal://` link to tap.
#[post("/m/calendar")]
async fn calendar_link(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    clock: Clock,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, MemberError> {
    user.check_csrf(&form.csrf)?;
    let (committee_id, member_id, now) = (user.committee_id(), user.member_id(), clock.now_naive());
    let token =
        db::transaction(&pool, move |conn| crate::roster::feed::replace_feed(conn, committee_id, member_id, now))
            .await?;
    let link = crate::roster::feed::feed_links(crate::public_url::BaseUrl::of(&req).as_str(), &token);
    let page = CalendarPage { chrome: Chrome::new(&user, "today"), link: Some((link.webcal_url, link.url)) };
    render::page(&req, &user, &page)
}
