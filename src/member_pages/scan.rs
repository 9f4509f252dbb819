//! Scan-in with the phone's own camera: the venue's QR code holds
//! `{public_url}/m/c/{payload}`, which opens this page on the member's phone. It shows the
//! venue and the duty the code matches, and one 签到 button; the POST is judged by the same
//! `checkin::scan::scan` as `POST /api/v1/checkins`, through the same group commit, and the
//! page shows the same outcome code and Chinese message.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::render::{self, Chrome, MemberError};
use super::session::MemberUser;
use crate::auth::tokens::random_token;
use crate::checkin::scan::{self, Outcome, ScanLocation, ScanRequest};
use crate::clock::Clock;
use crate::db::{self, DbPool};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(scan_page).service(scan_post);
}

#[derive(Template)]
#[template(path = "member_pages/scan.html")]
struct ScanPage {
    chrome: Chrome,
    payload: String,
    nonce: String,
    venue: Option<String>,
    address: Option<String>,
    poster: bool,
    duty: Option<String>,
}

#[derive(Template)]
#[template(path = "member_pages/scanned.html")]
struct ScannedPage {
    chrome: Chrome,
    ok: bool,
    outcome: &'static str,
    message: String,
    duty: Option<String>,
    late: bool,
}

fn duty_label(tz: chrono_tz::Tz, d: &scan::MatchedDuty) -> String {
    let (start, end) = (d.starts_at.with_timezone(&tz), d.ends_at.with_timezone(&tz));
    format!(
        "{} {} {}–{}",
        d.venue_name,
        super::today::date_label(start.date_naive()),
        start.format("%H:%M"),
        end.format("%H:%M")
    )
}

/// What the scanned code is: the venue, whether it is a printed poster (location needed),
/// the duty of the member's it would check in to — and the 签到 button.
#[get("/m/c/{payload}")]
async fn scan_page(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    clock: Clock,
    payload: web::Path<String>,
) -> Result<HttpResponse, MemberError> {
    let payload = payload.into_inner();
    let (committee_id, member_id, now) = (user.committee_id(), user.member_id(), clock.now());
    let looked_at = payload.clone();
    let preview = db::run(&pool, move |conn| scan::preview(conn, committee_id, member_id, &looked_at, now)).await?;
    let tz = user.timezone;
    let page = ScanPage {
        chrome: Chrome::new(&user, "today"),
        payload,
        nonce: random_token(),
        venue: preview.venue_name,
        address: preview.venue_address,
        poster: preview.poster,
        duty: preview.duty.as_ref().map(|d| duty_label(tz, d)),
    };
    render::page_as(&req, Some(&user), StatusCode::OK, render::CSP_WITH_SCRIPT, &page)
}

#[derive(Deserialize)]
struct ScanForm {
    csrf: String,
    nonce: String,
    #[serde(default)]
    latitude: String,
    #[serde(default)]
    longitude: String,
    #[serde(default)]
    accuracy_m: String,
}

impl ScanForm {
    /// The location the page's script filled in, when it could.
    fn location(&self) -> Option<ScanLocation> {
        let latitude: f64 = self.latitude.trim().parse().ok()?;
        let longitude: f64 = self.longitude.trim().parse().ok()?;
        let in_range = (-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude);
        in_range.then(|| ScanLocation { latitude, longitude, accuracy_m: self.accuracy_m.trim().parse().ok() })
    }
}

/// 签到: the scan, judged now. The form's nonce makes a resubmission get the first answer.
#[post("/m/c/{payload}")]
async fn scan_post(
    req: HttpRequest,
    user: MemberUser,
    writes: web::Data<db::GroupCommit>,
    clock: Clock,
    payload: web::Path<String>,
    form: web::Form<ScanForm>,
) -> Result<HttpResponse, MemberError> {
    user.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let nonce = form.nonce.trim().to_owned();
    if !(8..=64).contains(&nonce.len()) || !nonce.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(crate::error::ApiError::new(crate::error::ErrorCode::CsrfTokenInvalid).into());
    }
    let now = clock.now();
    let request = ScanRequest {
        payload: payload.into_inner().chars().take(512).collect(),
        nonce,
        scanned_at: now,
        location: form.location(),
    };
    let (committee_id, member_id) = (user.committee_id(), user.member_id());
    let result = writes.write(move |conn| scan::scan(conn, committee_id, member_id, &request, false, now)).await?;
    let tz = user.timezone;
    let ok = matches!(result.outcome, Outcome::Ok | Outcome::AlreadyCheckedIn);
    let page = ScannedPage {
        chrome: Chrome::new(&user, "today"),
        ok,
        outcome: result.outcome.as_str(),
        message: result.message.clone(),
        duty: result.duty.as_ref().map(|d| duty_label(tz, d)),
        late: result.late,
    };
    render::page(&req, &user, &page)
}
