//! Judging a scan: which code, which venue, which duty, which window — and storing the
//! outcome so a retry with the same nonce gets the same answer.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::code::{ScannedCode, step_fresh, step_of};
use crate::db::DbConnection;
use crate::domain::{Assurance, CheckinMethod, CheckinReview, Geofence};
use crate::error::ApiError;
use crate::schema::{assignments, checkin_attempts, checkins, rosters, shifts, venues};

/// Check-in opens this long before a shift starts: the duty's window.
pub use crate::roster::duties::OPENS_BEFORE_MINUTES;
/// Arriving later than this after the start counts as late.
pub const LATE_AFTER_MINUTES: i64 = 15;
/// Offline scans uploaded later than this are flagged `late_upload`.
pub const LATE_UPLOAD_MINUTES: i64 = 2;
/// Offline scans older than this are refused.
pub const MAX_OFFLINE_AGE_HOURS: i64 = 72;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    AlreadyCheckedIn,
    InvalidCode,
    ExpiredCode,
    WrongVenue,
    NoDuty,
    OutsideWindow,
    OutsideGeofence,
    Revoked,
    /// An offline scan uploaded more than 72 hours after it was made.
    UploadTooOld,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::AlreadyCheckedIn => "already_checked_in",
            Self::InvalidCode => "invalid_code",
            Self::ExpiredCode => "expired_code",
            Self::WrongVenue => "wrong_venue",
            Self::NoDuty => "no_duty",
            Self::OutsideWindow => "outside_window",
            Self::OutsideGeofence => "outside_geofence",
            Self::Revoked => "revoked",
            Self::UploadTooOld => "upload_too_old",
        }
    }

    /// What the app shows (also in mobile-contract/README.md, "QR check-in").
    pub fn message_zh(self) -> &'static str {
        match self {
            Self::Ok => "签到成功",
            Self::AlreadyCheckedIn => "您已签到，无需重复签到",
            Self::InvalidCode => "无法识别的二维码，请扫描场所屏幕或海报上的签到码",
            Self::ExpiredCode => "二维码已过期，请扫描屏幕上最新的二维码",
            Self::WrongVenue => "您今天的值班不在此场所",
            Self::NoDuty => "您今天在此场所没有值班安排",
            Self::OutsideWindow => "不在签到时间内（开班前60分钟至下班）",
            Self::OutsideGeofence => "您不在场所附近，请到场后再扫海报签到",
            Self::Revoked => "该签到码已作废，请扫描最新的签到码",
            Self::UploadTooOld => "离线签到记录已超过72小时，无法补传",
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanLocation {
    pub latitude: f64,
    pub longitude: f64,
    /// Reported accuracy in metres, if the phone gives one.
    pub accuracy_m: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    /// The scanned text, exactly as read from the QR code.
    pub payload: String,
    /// A fresh random string per scan (8–64 characters); a retry reuses it.
    pub nonce: String,
    /// When the phone read the code (RFC 3339).
    pub scanned_at: DateTime<Utc>,
    pub location: Option<ScanLocation>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MatchedDuty {
    pub assignment_id: i64,
    pub shift_id: i64,
    pub venue_id: i64,
    pub venue_name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScanResult {
    pub outcome: Outcome,
    /// The Chinese message to show.
    pub message: String,
    /// The duty the scan matched (when one did).
    pub duty: Option<MatchedDuty>,
    pub checkin_id: Option<i64>,
    /// Later than 15 minutes after the start.
    pub late: bool,
    /// Judged at its scan time because it was queued on the phone.
    pub offline: bool,
    /// Uploaded more than 2 minutes after it was made.
    pub late_upload: bool,
    /// Present when the member was checked in: `high` for a live scan of the display's code,
    /// `low` for the printed poster and for every scan uploaded from the offline queue.
    pub assurance: Option<Assurance>,
    /// `pending` when the check-in was uploaded offline: it counts, marked unconfirmed, until a
    /// coordinator of the venue confirms or refuses it. Absent for live scans.
    #[serde(default)]
    pub review: Option<CheckinReview>,
}

/// What the app shows for an offline check-in that waits for the coordinator.
pub const PENDING_REVIEW_MESSAGE: &str = "离线签到已记录，待联络员确认";

impl ScanResult {
    fn new(outcome: Outcome, offline: bool, late_upload: bool) -> Self {
        Self {
            outcome,
            message: outcome.message_zh().to_owned(),
            duty: None,
            checkin_id: None,
            late: false,
            offline,
            late_upload,
            assurance: None,
            review: None,
        }
    }
}

struct Candidate {
    duty: MatchedDuty,
    starts_at: NaiveDateTime,
}

/// Published, active duties of the member whose check-in window contains `at`.
fn duties_open_at(
    conn: &mut DbConnection,
    committee_id: i64,
    member_id: i64,
    at: NaiveDateTime,
) -> Result<Vec<Candidate>, ApiError> {
    let rows: Vec<(i64, i64, i64, String, NaiveDateTime, NaiveDateTime)> = assignments::table
        .inner_join(shifts::table.inner_join(rosters::table).inner_join(venues::table))
        .filter(assignments::committee_id.eq(committee_id))
        .filter(assignments::member_id.eq(member_id))
        .filter(crate::roster::duties::live())
        .filter(crate::roster::duties::window_holds(at))
        .order(shifts::starts_at)
        .select((assignments::id, shifts::id, shifts::venue_id, venues::name, shifts::starts_at, shifts::ends_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(assignment_id, shift_id, venue_id, venue_name, starts_at, ends_at)| Candidate {
            duty: MatchedDuty {
                assignment_id,
                shift_id,
                venue_id,
                venue_name,
                starts_at: starts_at.and_utc(),
                ends_at: ends_at.and_utc(),
            },
            starts_at,
        })
        .collect())
}

fn has_duty_near(conn: &mut DbConnection, member_id: i64, venue_id: i64, at: NaiveDateTime) -> Result<bool, ApiError> {
    let found: Option<i64> = assignments::table
        .inner_join(shifts::table.inner_join(rosters::table))
        .filter(assignments::member_id.eq(member_id))
        .filter(crate::roster::duties::live())
        .filter(shifts::venue_id.eq(venue_id))
        .filter(shifts::starts_at.between(at - Duration::hours(18), at + Duration::hours(18)))
        .select(assignments::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

struct VenueSecret {
    id: i64,
    committee_id: i64,
    secret: Option<String>,
    version: i32,
    fence: Option<Geofence>,
}

fn venue_by_code(conn: &mut DbConnection, code: &str) -> Result<Option<VenueSecret>, ApiError> {
    type Row = (i64, i64, Option<String>, i32, Option<f64>, Option<f64>, Option<i32>);
    let row: Option<Row> = venues::table
        .filter(venues::code.eq(code))
        .select((
            venues::id,
            venues::committee_id,
            venues::checkin_secret,
            venues::checkin_secret_version,
            venues::latitude,
            venues::longitude,
            venues::radius_m,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(id, committee_id, secret, version, lat, lng, radius)| VenueSecret {
        id,
        committee_id,
        secret,
        version,
        fence: match (lat, lng, radius) {
            (Some(la), Some(lo), Some(r)) => Geofence::parse(la, lo, r).ok(),
            _ => None,
        },
    }))
}

/// Whether the phone's location lies inside the venue's geofence (never, without either).
fn inside_fence(venue: &VenueSecret, location: Option<ScanLocation>) -> bool {
    match (location, venue.fence) {
        (Some(l), Some(fence)) => fence.contains(l.latitude, l.longitude),
        _ => false,
    }
}

/// Judges a scan at `now` (or at its scan time when `offline`) and records it. Runs inside
/// the caller's transaction; the same (member, nonce) always yields the stored answer.
pub fn scan(
    conn: &mut DbConnection,
    committee_id: i64,
    member_id: i64,
    request: &ScanRequest,
    offline: bool,
    now: DateTime<Utc>,
) -> Result<ScanResult, ApiError> {
    if let Some(stored) = stored_answer(conn, member_id, &request.nonce)? {
        return Ok(stored);
    }
    let age = now - request.scanned_at;
    let late_upload = offline && age > Duration::minutes(LATE_UPLOAD_MINUTES);
    let mut result = if offline && age > Duration::hours(MAX_OFFLINE_AGE_HOURS) {
        ScanResult::new(Outcome::UploadTooOld, offline, late_upload)
    } else {
        // Online scans are judged by the server's clock; queued ones by when they were made,
        // never later than now (a clock running ahead gains nothing).
        let at = if offline { request.scanned_at.min(now) } else { now };
        judge(conn, committee_id, member_id, request, at, offline, late_upload, now.naive_utc())?
    };
    // Two requests with one nonce at once: the loser of the insert returns the winner's answer.
    let stored = crate::db::may_conflict(conn, |conn| {
        diesel::insert_into(checkin_attempts::table)
            .values((
                checkin_attempts::committee_id.eq(committee_id),
                checkin_attempts::member_id.eq(member_id),
                checkin_attempts::nonce.eq(&request.nonce),
                checkin_attempts::outcome.eq(result.outcome.as_str()),
                checkin_attempts::response.eq(serde_json::to_string(&result).unwrap_or_default()),
                checkin_attempts::raw_payload.eq(request.payload.chars().take(512).collect::<String>()),
                checkin_attempts::scanned_at.eq(request.scanned_at.naive_utc()),
                checkin_attempts::received_at.eq(now.naive_utc()),
                checkin_attempts::offline.eq(offline),
            ))
            .execute(conn)
    });
    match stored {
        Ok(_) => {}
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            if let Some(winner) = stored_answer(conn, member_id, &request.nonce)? {
                result = winner;
            }
        }
        Err(e) => return Err(e.into()),
    }
    Ok(result)
}

fn stored_answer(conn: &mut DbConnection, member_id: i64, nonce: &str) -> Result<Option<ScanResult>, ApiError> {
    let stored: Option<String> = checkin_attempts::table
        .filter(checkin_attempts::member_id.eq(member_id).and(checkin_attempts::nonce.eq(nonce)))
        .select(checkin_attempts::response)
        .first(conn)
        .optional()?;
    Ok(stored.and_then(|s| serde_json::from_str(&s).ok()))
}

// Each argument is one column of what is recorded; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
fn judge(
    conn: &mut DbConnection,
    committee_id: i64,
    member_id: i64,
    request: &ScanRequest,
    at: DateTime<Utc>,
    offline: bool,
    late_upload: bool,
    now: NaiveDateTime,
) -> Result<ScanResult, ApiError> {
    let fail = |outcome| Ok(ScanResult::new(outcome, offline, late_upload));
    let Some(code) = ScannedCode::parse(&request.payload) else { return fail(Outcome::InvalidCode) };
    let Some(venue) = venue_by_code(conn, code.venue_code())? else { return fail(Outcome::InvalidCode) };
    // Another committee's venue looks like no venue at all.
    let Some(secret) = venue.secret.as_deref().filter(|_| venue.committee_id == committee_id) else {
        return fail(Outcome::InvalidCode);
    };
    if code.version() < venue.version {
        return fail(Outcome::Revoked);
    }
    if code.version() != venue.version || !code.signature_valid(secret.as_bytes()) {
        return fail(Outcome::InvalidCode);
    }
    let (method, assurance, code_step) = match &code {
        ScannedCode::Display { step, .. } => {
            if *step > step_of(at.timestamp()) {
                return fail(Outcome::InvalidCode);
            }
            if !step_fresh(*step, at.timestamp()) {
                return fail(Outcome::ExpiredCode);
            }
            // Queued offline, the scan time is the phone's word: a photo of the screen sent on
            // would pass the step check. So the phone must have been inside the venue's
            // geofence (when the venue has one), the check-in is of low assurance, and it waits
            // for a coordinator's review.
            if offline && venue.fence.is_some() && !inside_fence(&venue, request.location) {
                return fail(Outcome::OutsideGeofence);
            }
            (CheckinMethod::Display, if offline { Assurance::Low } else { Assurance::High }, Some(*step))
        }
        ScannedCode::Poster { .. } => {
            if !inside_fence(&venue, request.location) {
                return fail(Outcome::OutsideGeofence);
            }
            (CheckinMethod::Poster, Assurance::Low, None)
        }
    };
    let review = offline.then_some(CheckinReview::Pending);
    let at_naive = at.naive_utc();
    let (here, elsewhere): (Vec<Candidate>, Vec<Candidate>) =
        duties_open_at(conn, committee_id, member_id, at_naive)?.into_iter().partition(|c| c.duty.venue_id == venue.id);
    let Some(candidate) = here.into_iter().next() else {
        if !elsewhere.is_empty() {
            return fail(Outcome::WrongVenue);
        }
        return fail(if has_duty_near(conn, member_id, venue.id, at_naive)? {
            Outcome::OutsideWindow
        } else {
            Outcome::NoDuty
        });
    };
    let late = at_naive > candidate.starts_at + Duration::minutes(LATE_AFTER_MINUTES);
    let mut result = ScanResult::new(Outcome::Ok, offline, late_upload);
    result.duty = Some(candidate.duty.clone());
    let mark = ScanMark {
        checked_in_at: at_naive,
        received_at: now,
        method,
        assurance,
        late,
        offline,
        late_upload,
        latitude: request.location.map(|l| l.latitude),
        longitude: request.location.map(|l| l.longitude),
        review,
        code_step,
    };
    let inserted = crate::db::may_conflict(conn, |conn| {
        diesel::insert_into(checkins::table)
            .values((
                checkins::committee_id.eq(committee_id),
                checkins::assignment_id.eq(candidate.duty.assignment_id),
                checkins::member_id.eq(member_id),
                checkins::venue_id.eq(venue.id),
                checkins::shift_id.eq(candidate.duty.shift_id),
                &mark,
            ))
            .returning(checkins::id)
            .get_result::<i64>(conn)
    });
    match inserted {
        Ok(id) => {
            result.checkin_id = Some(id);
            result.late = late;
            result.assurance = Some(assurance);
            result.review = review;
            if review.is_some() {
                result.message = PENDING_REVIEW_MESSAGE.to_owned();
            }
        }
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            let (id, was_late, was_assurance, was_review): (i64, bool, Assurance, Option<CheckinReview>) =
                checkins::table
                    .filter(checkins::assignment_id.eq(candidate.duty.assignment_id))
                    .select((checkins::id, checkins::late, checkins::assurance, checkins::review))
                    .first(conn)?;
            // A coordinator refused the offline check-in, and now the member scans live at the
            // venue: that proves presence, so the live scan takes the refused row's place.
            if was_review == Some(CheckinReview::Refused) && review.is_none() {
                let retaken = diesel::update(
                    checkins::table.filter(checkins::id.eq(id).and(checkins::review.eq(CheckinReview::Refused))),
                )
                // A live scan (no review): the mark is not offline, and the refusal is cleared.
                .set((
                    &mark,
                    checkins::reviewed_by.eq(None::<i64>),
                    checkins::reviewed_at.eq(None::<NaiveDateTime>),
                    checkins::review_note.eq(None::<String>),
                ))
                .execute(conn)?;
                if retaken == 1 {
                    result.checkin_id = Some(id);
                    result.late = late;
                    result.assurance = Some(assurance);
                    return Ok(result);
                }
            }
            result.outcome = Outcome::AlreadyCheckedIn;
            result.message = Outcome::AlreadyCheckedIn.message_zh().to_owned();
            result.checkin_id = Some(id);
            result.late = was_late;
            result.assurance = Some(was_assurance);
            result.review = was_review;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(result)
}

/// What a scanned code would check the member in to, before they confirm: the venue (of the
/// member's committee), whether it is a printed poster (the phone's location is needed), and
/// the member's duty there whose window is open at `now`. Nothing is stored.
pub struct ScanPreview {
    /// `None`: not a code of a venue of this committee.
    pub venue_name: Option<String>,
    /// Where the venue is: its street address, else its township.
    pub venue_address: Option<String>,
    pub poster: bool,
    pub duty: Option<MatchedDuty>,
}

pub fn preview(
    conn: &mut DbConnection,
    committee_id: i64,
    member_id: i64,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<ScanPreview, ApiError> {
    let none = ScanPreview { venue_name: None, venue_address: None, poster: false, duty: None };
    let Some(code) = ScannedCode::parse(payload) else { return Ok(none) };
    let Some(venue) = venue_by_code(conn, code.venue_code())?.filter(|v| v.committee_id == committee_id) else {
        return Ok(none);
    };
    let (name, address, township): (String, Option<String>, Option<String>) =
        venues::table.find(venue.id).select((venues::name, venues::address, venues::township)).first(conn)?;
    let duty = duties_open_at(conn, committee_id, member_id, now.naive_utc())?
        .into_iter()
        .find(|c| c.duty.venue_id == venue.id)
        .map(|c| c.duty);
    Ok(ScanPreview {
        venue_name: Some(name),
        venue_address: address.or(township),
        poster: matches!(code, ScannedCode::Poster { .. }),
        duty,
    })
}

/// What a scan records of the check-in: written when it is first made, and written again
/// when a live scan takes the place of a refused offline one.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = checkins, treat_none_as_null = true)]
struct ScanMark {
    checked_in_at: NaiveDateTime,
    received_at: NaiveDateTime,
    method: CheckinMethod,
    assurance: Assurance,
    late: bool,
    offline: bool,
    late_upload: bool,
    latitude: Option<f64>,
    longitude: Option<f64>,
    review: Option<CheckinReview>,
    code_step: Option<i64>,
}

/// Which of these assignments have a check-in that counts (not refused by a coordinator).
pub fn checked_in_assignments(
    conn: &mut DbConnection,
    assignment_ids: &[i64],
) -> Result<std::collections::BTreeSet<i64>, ApiError> {
    let mut found = std::collections::BTreeSet::new();
    for chunk in assignment_ids.chunks(500) {
        let ids: Vec<i64> = checkins::table
            .filter(checkins::assignment_id.eq_any(chunk))
            .filter(counts())
            .select(checkins::assignment_id)
            .load(conn)?;
        found.extend(ids);
    }
    Ok(found)
}

/// The check-ins that count as attended: all but those a coordinator refused.
pub fn counts()
-> diesel::dsl::Or<diesel::dsl::IsNull<checkins::review>, diesel::dsl::NotEq<checkins::review, CheckinReview>> {
    checkins::review.is_null().or(checkins::review.ne(CheckinReview::Refused))
}
