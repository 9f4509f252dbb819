//! The one error type of the API: every failure becomes an RFC 9457 problem+json body with a
//! stable `code` from [`ErrorCode`]. Unexpected errors log their cause chain and answer an
//! opaque 500, so no SQL, secret or personal datum reaches a client.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

macro_rules! error_codes {
    ($( $variant:ident = $code:literal, $status:ident, $title:literal, $zh:literal; )*) => {
        /// The stable error codes the app translates. Never rename one: add a new code instead.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode { $( $variant, )* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )* }
            }

            pub fn status(self) -> StatusCode {
                match self { $( ErrorCode::$variant => StatusCode::$status, )* }
            }

            /// Short English title for the problem document.
            pub fn title(self) -> &'static str {
                match self { $( ErrorCode::$variant => $title, )* }
            }

            /// The Chinese message the app shows (also in `mobile-contract/error-codes.json`).
            pub fn message_zh(self) -> &'static str {
                match self { $( ErrorCode::$variant => $zh, )* }
            }
        }
    };
}

error_codes! {
    BadRequest = "bad_request", BAD_REQUEST, "The request could not be read", "请求格式有误，请更新应用后重试";
    ValidationFailed = "validation_failed", UNPROCESSABLE_ENTITY, "Some fields are invalid", "填写的内容有误，请检查标红的项目";
    ImportFailed = "import_failed", UNPROCESSABLE_ENTITY, "The file has invalid lines; nothing was imported", "文件中有错误行，未导入任何数据";
    Unauthenticated = "unauthenticated", UNAUTHORIZED, "Sign-in required", "请先登录";
    InvalidCredentials = "invalid_credentials", UNAUTHORIZED, "Phone number or password is wrong", "手机号或密码错误";
    TokenExpired = "token_expired", UNAUTHORIZED, "The access token has expired", "登录已过期，正在重新登录";
    TokenInvalid = "token_invalid", UNAUTHORIZED, "The access token is not valid", "登录状态无效，请重新登录";
    RefreshTokenInvalid = "refresh_token_invalid", UNAUTHORIZED, "The refresh token is not valid", "登录已失效，请重新登录";
    SessionEnded = "session_ended", UNAUTHORIZED, "The session was ended: signed out, or the account's password, roles or standing changed", "登录已结束，请重新登录";
    RefreshTokenReused = "refresh_token_reused", UNAUTHORIZED, "A used refresh token was presented; the session was ended", "检测到异常登录，已退出所有设备上的本次登录，请重新登录";
    AccountInactive = "account_inactive", FORBIDDEN, "The account is not active", "账号已停用，请联系政协办公室";
    Forbidden = "forbidden", FORBIDDEN, "Your role does not allow this", "您没有权限进行此操作";
    OutOfScope = "out_of_scope", FORBIDDEN, "Outside the venues you coordinate", "该场所不在您的管理范围内";
    NotFound = "not_found", NOT_FOUND, "Not found", "内容不存在或已删除";
    CalendarYearNotSet = "calendar_year_not_set", NOT_FOUND, "No working-day calendar for that year", "该年度节假日安排尚未设置";
    MethodNotAllowed = "method_not_allowed", METHOD_NOT_ALLOWED, "Method not allowed", "不支持的操作";
    PhoneTaken = "phone_taken", CONFLICT, "That phone number is already registered", "该手机号已被登记";
    VenueCodeTaken = "venue_code_taken", CONFLICT, "That venue code is already in use", "该场所编码已被使用";
    VenueNameTaken = "venue_name_taken", CONFLICT, "A venue with that name exists", "已有同名场所";
    HandlingUnitNameTaken = "handling_unit_name_taken", CONFLICT, "A handling unit with that name exists", "已有同名承办单位";
    CalendarMissing = "calendar_missing", UNPROCESSABLE_ENTITY, "The working-day calendar of a year in the period is not set", "所选时段的节假日安排尚未设置，请先上传";
    RosterPeriodOverlaps = "roster_period_overlaps", CONFLICT, "A published roster already covers part of that period", "该时段已有已发布的排班表";
    InvalidTransition = "invalid_transition", CONFLICT, "Not possible in the current state", "当前状态下无法进行此操作";
    AssignmentConflict = "assignment_conflict", CONFLICT, "The change breaks a roster rule", "此调整与排班规则冲突";
    AlreadyCheckedOut = "already_checked_out", CONFLICT, "The duty was already checked out", "已签退";
    ItemTaken = "item_taken", CONFLICT, "Another member on duty has taken this item", "该事项已由其他值班委员接手";
    ReopenLimitReached = "reopen_limit_reached", CONFLICT, "A resident can reopen an item once", "每个事项只能申请重新办理一次";
    ReopenWindowClosed = "reopen_window_closed", CONFLICT, "The time to reopen this item has passed", "已超过可申请重新办理的期限";
    CloseNeedsCoordinator = "close_needs_coordinator", FORBIDDEN, "Members close only a consultation they answered or a tier 1 item; a coordinator closes this one", "此事项需由联络员办结：委员只能办结本人已答复的咨询或一级（即办）事项";
    NotOnDuty = "not_on_duty", FORBIDDEN, "Only members on duty for this item may do that", "您不是该事项的值班委员";
    SubmissionRejected = "submission_rejected", BAD_REQUEST, "The submission was not accepted", "提交未被受理，请刷新页面后重试";
    SubmissionThrottled = "submission_throttled", TOO_MANY_REQUESTS, "Too many submissions; try again later", "提交过于频繁，请稍后再试";
    PayloadTooLarge = "payload_too_large", PAYLOAD_TOO_LARGE, "The request body is too large", "提交的内容过大";
    UnsupportedMediaType = "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "Unsupported content type", "不支持的内容格式";
    OutboxNotRetryable = "outbox_not_retryable", CONFLICT, "Only dead-lettered notifications can be retried", "只有投递失败的通知可以重新投递";
    LoginThrottled = "login_throttled", TOO_MANY_REQUESTS, "Too many failed sign-ins; try again later", "登录失败次数过多，请稍后再试";
    LookupThrottled = "lookup_throttled", TOO_MANY_REQUESTS, "Too many unknown tracking codes from this address; try again later", "查询失败次数过多，请稍后再试";
    CsrfTokenInvalid = "csrf_token_invalid", FORBIDDEN, "The form has expired; reload the page and try again", "页面已过期，请刷新后重试";
    NotReady = "not_ready", SERVICE_UNAVAILABLE, "The service is not ready", "服务暂不可用，请稍后再试";
    InternalError = "internal_error", INTERNAL_SERVER_ERROR, "Internal error", "服务器开小差了，请稍后再试";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One invalid field (or CSV cell): where, and why, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON pointer-ish field name, e.g. `phone` or `location.radius_m`.
    pub field: String,
    /// Machine-readable reason, e.g. `required`, `too_long`, `invalid_format`.
    pub reason: String,
    pub message: String,
    /// 1-based line of an imported file (header is line 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// 1-based column of an imported file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: &str, message: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into(), message: message.into(), line: None, column: None }
    }
}

/// RFC 9457 problem details, as sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// URI naming the problem type: `urn:zhiban:problem:{code}`.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    /// Explanation for this occurrence; never contains secrets or personal data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub code: ErrorCode,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<FieldError>,
}

/// The API's error: a stable code, an optional safe detail, field errors, and for 500s the
/// hidden cause that is logged but never sent.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: Option<String>,
    pub errors: Vec<FieldError>,
    pub retry_after_secs: Option<u64>,
    cause: Option<anyhow::Error>,
}

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        Self { code, detail: None, errors: Vec::new(), retry_after_secs: None, cause: None }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self { errors, ..Self::new(ErrorCode::ValidationFailed) }
    }

    pub fn field(field: &str, reason: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, reason, message)])
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound)
    }

    pub fn forbidden() -> Self {
        Self::new(ErrorCode::Forbidden)
    }

    /// Anything we did not plan for: logged with its chain, answered as an opaque 500.
    pub fn unexpected(cause: impl Into<anyhow::Error>) -> Self {
        Self { cause: Some(cause.into()), ..Self::new(ErrorCode::InternalError) }
    }

    /// Logs the hidden cause of an unexpected error (never sent to the client).
    pub fn log_cause(&self) {
        if let Some(cause) = &self.cause {
            // `{:?}` of anyhow prints the whole chain.
            tracing::error!(error.cause_chain = ?cause, "unexpected error");
        }
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_uri: format!("urn:zhiban:problem:{}", self.code),
            title: self.code.title().to_owned(),
            status: self.code.status().as_u16(),
            detail: self.detail.clone(),
            code: self.code,
            errors: self.errors.clone(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Some(cause) => write!(f, "{}: {cause:#}", self.code),
            None => write!(f, "{}", self.code),
        }
    }
}

impl std::error::Error for ApiError {}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => Self::not_found(),
            other => Self::unexpected(other),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.log_cause();
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json")));
        if let Some(secs) = self.retry_after_secs {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        response.json(self.problem())
    }
}

/// Maps diesel's unique-violation to a conflict code; anything else stays unexpected.
pub fn conflict_on_unique(e: diesel::result::Error, code: ErrorCode) -> ApiError {
    match e {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
            ApiError::new(code)
        }
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate code {code}");
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
            assert!(code.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
    }

    #[test]
    fn unexpected_errors_are_opaque() {
        let e = ApiError::unexpected(anyhow::anyhow!("password=hunter2 in the SQL"));
        let body = serde_json::to_string(&e.problem()).unwrap();
        assert!(!body.contains("hunter2"));
        assert_eq!(e.code.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}

/// Collects every invalid field of a request before answering, so a form shows all its
/// problems at once instead of one per round trip.
#[derive(Debug, Default)]
pub struct FieldChecks(Vec<FieldError>);

impl FieldChecks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the parsed value, or records why `field` was refused.
    pub fn check<T>(&mut self, field: &str, result: Result<T, crate::domain::Invalid>) -> Option<T> {
        result.map_err(|e| self.0.push(FieldError::new(field, e.reason, e.message))).ok()
    }

    pub fn push(&mut self, field: &str, reason: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, reason, message));
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() { Ok(()) } else { Err(ApiError::validation(self.0)) }
    }
}
