//! Shift templates (排班规则): venue + RFC 5545 recurrence + time window + head count + pool.

use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDateTime;
use chrono::{NaiveDate, NaiveTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{HolidayPolicy, validate_rule};
use crate::auth::{Admin, Coordinator};
use crate::clock::Clock;
use crate::db::{self, DbConnection, DbPool};
use crate::error::{ApiError, FieldChecks, Problem};
use crate::schema::shift_templates as t;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_templates).service(create_template);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TemplateKind {
    /// 委员接待日: the monthly reception day at a township studio.
    ReceptionDay,
    /// 政协之家值班: standing duty at the CPPCC Home.
    HomeDuty,
    Custom,
}

impl TemplateKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::ReceptionDay => "reception_day",
            Self::HomeDuty => "home_duty",
            Self::Custom => "custom",
        }
    }
    fn from_storage(s: &str) -> Self {
        match s {
            "reception_day" => Self::ReceptionDay,
            "home_duty" => Self::HomeDuty,
            _ => Self::Custom,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HolidayPolicyDto {
    Keep,
    NextWorkingDay,
    PreviousWorkingDay,
    Skip,
}

impl HolidayPolicyDto {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keep => "keep",
            Self::NextWorkingDay => "next_working_day",
            Self::PreviousWorkingDay => "previous_working_day",
            Self::Skip => "skip",
        }
    }
    pub fn from_storage(s: &str) -> Self {
        match s {
            "next_working_day" => Self::NextWorkingDay,
            "previous_working_day" => Self::PreviousWorkingDay,
            "skip" => Self::Skip,
            _ => Self::Keep,
        }
    }
    pub fn domain(self) -> HolidayPolicy {
        match self {
            Self::Keep => HolidayPolicy::Keep,
            Self::NextWorkingDay => HolidayPolicy::NextWorkingDay,
            Self::PreviousWorkingDay => HolidayPolicy::PreviousWorkingDay,
            Self::Skip => HolidayPolicy::Skip,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct TemplateRow {
    pub id: i64,
    pub committee_id: i64,
    pub venue_id: i64,
    pub name: String,
    pub kind: String,
    pub rrule: String,
    pub start_time: NaiveTime,
    pub end_time: NaiveTime,
    pub head_min: i32,
    pub head_max: i32,
    pub head_target: i32,
    pub pool_venue_id: Option<i64>,
    pub include_roving: bool,
    pub holiday_policy: String,
    pub one_per_member_per_month: bool,
    pub also_on_adjusted_working_days: bool,
    pub active: bool,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateView {
    pub id: i64,
    pub venue_id: i64,
    pub name: String,
    pub kind: TemplateKind,
    /// RFC 5545 recurrence rule, e.g. `FREQ=MONTHLY;BYMONTHDAY=25`.
    pub rrule: String,
    /// Local time `HH:MM:SS`.
    #[schema(value_type = String, example = "08:30:00")]
    pub start_time: NaiveTime,
    #[schema(value_type = String, example = "12:00:00")]
    pub end_time: NaiveTime,
    pub head_min: i32,
    pub head_max: i32,
    pub head_target: i32,
    /// Members homed here are eligible; absent: every member of the committee.
    pub pool_venue_id: Option<i64>,
    /// The roving pool is eligible too.
    pub include_roving: bool,
    pub holiday_policy: HolidayPolicyDto,
    /// At most one such duty per member per month (the reception day).
    pub one_per_member_per_month: bool,
    /// Also staffed on adjusted working days (调休 weekends).
    pub also_on_adjusted_working_days: bool,
    pub active: bool,
}

impl From<TemplateRow> for TemplateView {
    fn from(r: TemplateRow) -> Self {
        Self {
            id: r.id,
            venue_id: r.venue_id,
            name: r.name,
            kind: TemplateKind::from_storage(&r.kind),
            rrule: r.rrule,
            start_time: r.start_time,
            end_time: r.end_time,
            head_min: r.head_min,
            head_max: r.head_max,
            head_target: r.head_target,
            pool_venue_id: r.pool_venue_id,
            include_roving: r.include_roving,
            holiday_policy: HolidayPolicyDto::from_storage(&r.holiday_policy),
            one_per_member_per_month: r.one_per_member_per_month,
            also_on_adjusted_working_days: r.also_on_adjusted_working_days,
            active: r.active,
        }
    }
}

pub fn active_templates(conn: &mut DbConnection, committee_id: i64) -> Result<Vec<TemplateRow>, ApiError> {
    Ok(t::table
        .filter(t::committee_id.eq(committee_id).and(t::active.eq(true)))
        .order(t::id)
        .select(TemplateRow::as_select())
        .load(conn)?)
}

/// Shift templates of the committee.
#[utoipa::path(
    tag = "rosters",
    responses((status = 200, body = Vec<TemplateView>), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/shift-templates")]
async fn list_templates(c: Coordinator, pool: web::Data<DbPool>) -> Result<web::Json<Vec<TemplateView>>, ApiError> {
    let committee_id = c.user.committee_id;
    let rows = db::run(&pool, move |conn| {
        Ok(t::table
            .filter(t::committee_id.eq(committee_id))
            .order(t::id)
            .select(TemplateRow::as_select())
            .load(conn)?)
    })
    .await?;
    let rows: Vec<TemplateRow> = rows;
    Ok(web::Json(rows.into_iter().filter(|r| c.scope.includes(r.venue_id)).map(TemplateView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTemplate {
    pub venue_id: i64,
    pub name: String,
    pub kind: TemplateKind,
    pub rrule: String,
    #[schema(value_type = String, example = "08:30:00")]
    pub start_time: NaiveTime,
    #[schema(value_type = String, example = "12:00:00")]
    pub end_time: NaiveTime,
    pub head_min: i32,
    pub head_max: i32,
    /// Default: `head_min`.
    pub head_target: Option<i32>,
    pub pool_venue_id: Option<i64>,
    #[serde(default)]
    pub include_roving: bool,
    /// Default: `keep` for the reception day, `skip` otherwise.
    pub holiday_policy: Option<HolidayPolicyDto>,
    /// Default: true for the reception day.
    pub one_per_member_per_month: Option<bool>,
    /// Default: true for home duty.
    pub also_on_adjusted_working_days: Option<bool>,
}

/// Validated template ready to store.
pub struct NewTemplate {
    pub venue_id: i64,
    pub name: String,
    pub kind: TemplateKind,
    pub rrule: String,
    pub start_time: NaiveTime,
    pub end_time: NaiveTime,
    pub head_min: i32,
    pub head_max: i32,
    pub head_target: i32,
    pub pool_venue_id: Option<i64>,
    pub include_roving: bool,
    pub holiday_policy: HolidayPolicyDto,
    pub one_per_member_per_month: bool,
    pub also_on_adjusted_working_days: bool,
}

impl CreateTemplate {
    pub fn validate(self) -> Result<NewTemplate, ApiError> {
        let mut checks = FieldChecks::new();
        let name = checks.check("name", crate::domain::VenueName::parse(&self.name));
        if let Err(e) = validate_rule(&self.rrule) {
            checks.push("rrule", "invalid_rrule", e.to_string());
        }
        if self.end_time <= self.start_time {
            checks.push("end_time", "before_start", "must be after start_time (shifts do not cross midnight)");
        }
        if !(1..=20).contains(&self.head_min) {
            checks.push("head_min", "out_of_range", "must be 1–20");
        }
        if self.head_max < self.head_min || self.head_max > 20 {
            checks.push("head_max", "out_of_range", "must be head_min–20");
        }
        let target = self.head_target.unwrap_or(self.head_min);
        if target < self.head_min || target > self.head_max {
            checks.push("head_target", "out_of_range", "must be within head_min..head_max");
        }
        checks.finish()?;
        let reception = self.kind == TemplateKind::ReceptionDay;
        Ok(NewTemplate {
            venue_id: self.venue_id,
            name: name.expect("checked").into_inner(),
            kind: self.kind,
            rrule: self.rrule.trim().trim_start_matches("RRULE:").to_owned(),
            start_time: self.start_time,
            end_time: self.end_time,
            head_min: self.head_min,
            head_max: self.head_max,
            head_target: target,
            pool_venue_id: self.pool_venue_id,
            include_roving: self.include_roving,
            holiday_policy: self.holiday_policy.unwrap_or(if reception {
                HolidayPolicyDto::Keep
            } else {
                HolidayPolicyDto::Skip
            }),
            one_per_member_per_month: self.one_per_member_per_month.unwrap_or(reception),
            also_on_adjusted_working_days: self
                .also_on_adjusted_working_days
                .unwrap_or(self.kind == TemplateKind::HomeDuty),
        })
    }
}

pub fn insert(
    conn: &mut DbConnection,
    committee_id: i64,
    n: &NewTemplate,
    now: NaiveDateTime,
) -> Result<i64, ApiError> {
    let wanted: Vec<i64> = [Some(n.venue_id), n.pool_venue_id].into_iter().flatten().collect();
    let found = crate::venues::store::existing_ids(conn, committee_id, &wanted)?;
    let mut checks = FieldChecks::new();
    if !found.contains(&n.venue_id) {
        checks.push("venue_id", "unknown_venue", format!("no venue {}", n.venue_id));
    }
    if let Some(p) = n.pool_venue_id.filter(|p| !found.contains(p)) {
        checks.push("pool_venue_id", "unknown_venue", format!("no venue {p}"));
    }
    checks.finish()?;
    Ok(diesel::insert_into(t::table)
        .values((
            t::committee_id.eq(committee_id),
            t::venue_id.eq(n.venue_id),
            t::name.eq(&n.name),
            t::kind.eq(n.kind.as_str()),
            t::rrule.eq(&n.rrule),
            t::start_time.eq(n.start_time),
            t::end_time.eq(n.end_time),
            t::head_min.eq(n.head_min),
            t::head_max.eq(n.head_max),
            t::head_target.eq(n.head_target),
            t::pool_venue_id.eq(n.pool_venue_id),
            t::include_roving.eq(n.include_roving),
            t::holiday_policy.eq(n.holiday_policy.as_str()),
            t::one_per_member_per_month.eq(n.one_per_member_per_month),
            t::also_on_adjusted_working_days.eq(n.also_on_adjusted_working_days),
            t::active.eq(true),
            t::created_at.eq(now),
            t::updated_at.eq(now),
        ))
        .returning(t::id)
        .get_result(conn)?)
}

/// Add a shift template (admin).
#[utoipa::path(
    tag = "rosters",
    request_body = CreateTemplate,
    responses(
        (status = 201, body = TemplateView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/shift-templates")]
async fn create_template(
    clock: Clock,
    Admin(admin): Admin,
    pool: web::Data<DbPool>,
    body: web::Json<CreateTemplate>,
) -> Result<HttpResponse, ApiError> {
    let new = body.into_inner().validate()?;
    let committee_id = admin.committee_id;
    let row = db::transaction(&pool, move |conn| {
        let id = insert(conn, committee_id, &new, clock.now_naive())?;
        crate::audit::record(
            conn,
            committee_id,
            Some(admin.member_id),
            "shift_template.created",
            "shift_template",
            Some(id),
            "",
            clock.now_naive(),
        )?;
        Ok(t::table.find(id).select(TemplateRow::as_select()).first(conn)?)
    })
    .await?;
    Ok(HttpResponse::Created().json(TemplateView::from(row)))
}

/// The domain template the generator expands, with its eligible pool resolved.
pub fn to_domain(row: &TemplateRow, pool: Vec<i64>) -> super::ShiftTemplate {
    super::ShiftTemplate {
        id: row.id,
        venue_id: row.venue_id,
        rrule: row.rrule.clone(),
        anchor: None::<NaiveDate>,
        start: row.start_time,
        end: row.end_time,
        min_head_count: row.head_min as u32,
        max_head_count: row.head_max as u32,
        target_head_count: Some(row.head_target as u32),
        // Templates drawing on the same pool (home-duty mornings and afternoons) share the
        // yearly balance; the committee-wide pool is 0.
        pool_id: row.pool_venue_id.unwrap_or(0),
        pool,
        holiday_policy: HolidayPolicyDto::from_storage(&row.holiday_policy).domain(),
        also_on_adjusted_working_days: row.also_on_adjusted_working_days,
        one_per_member_per_month: row.one_per_member_per_month,
    }
}
