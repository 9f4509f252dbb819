//! 消息: the member's notices, from the same outbox events the push bridge receives (duty
//! reminders, roster changes, swap offers and decisions, leave decisions, items waiting in
//! the inbox), each read or unread. Reading one marks it read.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;

use super::CsrfForm;
use super::render::{self, Chrome, MemberError};
use super::session::MemberUser;
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::outbox::notices::{self, Notice};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(read_all).service(read_one).service(sms_preference);
}

/// How many notices the page lists (newest first).
const SHOWN: i64 = 50;

pub struct NoticeEntry {
    pub id: i64,
    pub text: String,
    pub at: String,
    pub unread: bool,
}

/// The notice in words, from its kind and payload (the texts mobile-contract suggests).
fn text_of(n: &Notice) -> (String, &'static str) {
    let p = &n.payload;
    let s = |key: &str| p[key].as_str().unwrap_or_default().to_owned();
    let date = || {
        p["date"]
            .as_str()
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map(super::today::date_label)
            .unwrap_or_default()
    };
    match n.kind.as_str() {
        "duty.reminder" => (
            format!(
                "值班提醒：您将于{} {}–{}在{}值班{}。",
                date(),
                s("start_time"),
                s("end_time"),
                s("venue_name"),
                match p["days_until"].as_u64() {
                    Some(0) => "（今天）".to_owned(),
                    Some(d) => format!("（{d}天后）"),
                    None => String::new(),
                }
            ),
            "/m",
        ),
        "roster.published" => ("值班表已发布，请查看您的值班安排。".to_owned(), "/m"),
        "roster.changed" => (
            format!("您{}的值班安排有变动（{}）。", date(), if s("change") == "added" { "新增" } else { "已取消" }),
            "/m",
        ),
        "swap.offered" => (format!("有同事希望与您换班（{}），请查看。", date()), "/m/swaps"),
        "swap.accepted" => ("您的换班请求已被同事接受，等待联络员审批。".to_owned(), "/m/swaps"),
        "swap.rejected" => ("您的换班请求未获批准。".to_owned(), "/m/swaps"),
        "swap.approved" => ("换班已生效，请查看最新值班安排。".to_owned(), "/m"),
        "swap.cancelled" => ("换班请求已取消，原值班安排不变。".to_owned(), "/m/swaps"),
        "leave.decided" => (
            if s("status") == "approved" {
                "您的请假申请已批准。"
            } else {
                "您的请假申请未获批准。"
            }
            .to_owned(),
            "/m/leave",
        ),
        "item.inbox" => (format!("有群众在您值班的场所反映问题（{}），请及时查看。", s("topic")), "/m/inbox"),
        "item.overdue" => ("有事项已超过办理期限。".to_owned(), "/console/items"),
        "item.follow_up_due" => ("有事项到了回头看的日子。".to_owned(), "/console/items"),
        _ => ("您有一条新消息。".to_owned(), "/m"),
    }
}

#[derive(Template)]
#[template(path = "member_pages/notices.html")]
struct NoticesPage {
    chrome: Chrome,
    entries: Vec<NoticeEntry>,
    unread: usize,
    /// The member's own choice: reminders and decisions also by SMS.
    sms_enabled: bool,
}

#[get("/m/notices")]
async fn list(req: HttpRequest, user: MemberUser, pool: web::Data<DbPool>) -> Result<HttpResponse, MemberError> {
    let (member_id, tz) = (user.member_id(), user.timezone);
    let (rows, sms_enabled) = db::run(&pool, move |conn| {
        Ok((notices::list(conn, member_id, SHOWN)?, notices::sms_enabled(conn, member_id)?))
    })
    .await?;
    let entries: Vec<NoticeEntry> = rows
        .iter()
        .map(|n| {
            let (text, _) = text_of(n);
            let local = n.created_at.and_utc().with_timezone(&tz);
            NoticeEntry {
                id: n.id,
                text,
                at: format!("{} {}", super::today::date_label(local.date_naive()), local.format("%H:%M")),
                unread: n.read_at.is_none(),
            }
        })
        .collect();
    let unread = entries.iter().filter(|e| e.unread).count();
    render::page(&req, &user, &NoticesPage { chrome: Chrome::new(&user, "notices"), entries, unread, sms_enabled })
}

/// Marks one of the member's notices read and opens what it is about. Another member's
/// notice is not there (404).
#[post("/m/notices/{id}/read")]
async fn read_one(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    clock: Clock,
    id: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, MemberError> {
    user.check_csrf(&form.csrf)?;
    let (id, member_id, now) = (id.into_inner(), user.member_id(), clock.now_naive());
    let notice = db::run(&pool, move |conn| notices::mark_read(conn, member_id, id, now)).await?;
    let (_, link) = text_of(&notice);
    render::redirect(&req, &user, link)
}

#[post("/m/notices/read")]
async fn read_all(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    clock: Clock,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, MemberError> {
    user.check_csrf(&form.csrf)?;
    let (member_id, now) = (user.member_id(), clock.now_naive());
    db::run(&pool, move |conn| notices::mark_all_read(conn, member_id, now)).await?;
    render::redirect(&req, &user, "/m/notices")
}

#[derive(serde::Deserialize)]
struct SmsForm {
    csrf: String,
    /// `on` or `off`.
    sms: String,
}

/// 短信提醒 on or off: the member's own choice; the next reminder follows it.
#[post("/m/notices/sms")]
async fn sms_preference(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    clock: Clock,
    form: web::Form<SmsForm>,
) -> Result<HttpResponse, MemberError> {
    user.check_csrf(&form.csrf)?;
    let (member_id, now, on) = (user.member_id(), clock.now_naive(), form.sms == "on");
    db::run(&pool, move |conn| notices::set_sms_enabled(conn, member_id, on, now)).await?;
    render::redirect(&req, &user, "/m/notices")
}
