//! `Application::build`: the one way the server is assembled, used by `main` and by tests.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Server, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{App, HttpRequest, HttpServer, web};
use tracing_actix_web::TracingLogger;

use utoipa_actix_web::AppExt;

use crate::auth::JwtKeys;
use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::error::{ApiError, ErrorCode};
use crate::ops::SpecJson;
use crate::public_url::PublicUrl;

/// Largest JSON body any endpoint takes; CSV imports have their own cap.
pub const JSON_LIMIT_BYTES: usize = 256 * 1024;

pub use crate::html::FORM_LIMIT_BYTES;

pub struct Application {
    port: u16,
    pool: DbPool,
    server: Server,
    /// The background worker (outbox deliveries, reminders) and its stop signal.
    worker: Option<(tokio::sync::watch::Sender<bool>, tokio::task::JoinHandle<()>)>,
}

impl Application {
    /// Connects, migrates, binds. The server runs once `run_until_stopped` is awaited.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let location = settings.database.clone();
        let pool_size = settings.db_pool_size;
        let pool = web::block(move || -> anyhow::Result<DbPool> {
            let pool = db::connect(&location, pool_size)?;
            let mut conn = pool.get()?;
            let applied = db::run_migrations(&mut conn).map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
            if applied > 0 {
                tracing::info!(applied, "database migrated");
            }
            Ok(pool)
        })
        .await??;
        let listener =
            TcpListener::bind(settings.bind).map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.bind))?;
        Self::build_with(settings, pool, listener)
    }

    pub fn build_with(settings: Settings, pool: DbPool, listener: TcpListener) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let pool_data = web::Data::new(pool.clone());
        let clock = web::Data::new(settings.clock.clone());
        let keys = web::Data::new(JwtKeys::rotating(
            &settings.jwt_secret,
            settings.jwt_previous_secret.as_ref(),
            settings.clock.clone(),
        ));
        let spec = web::Data::new(SpecJson(crate::openapi::document_json()));
        let public_url = web::Data::new(PublicUrl(settings.public_url.clone()));
        let submission_limits =
            web::Data::new(crate::items::SubmissionLimits { per_address: settings.submissions_per_address });
        let trusted_proxies = web::Data::new(settings.trusted_proxies.clone());
        let webhook_egress = web::Data::new(settings.webhook_egress.clone());
        // One per instance: its recent looks at API sessions (see `auth::sessions`).
        let session_check = web::Data::new(crate::auth::SessionCheck::default());
        // SQLite has one writer at a time anyway; PostgreSQL commits groups side by side.
        let writers = match settings.database {
            db::DatabaseLocation::Postgres(_) => (settings.db_pool_size as usize / 2).clamp(1, 4),
            _ => 1,
        };
        let group_commit = web::Data::new(db::GroupCommit::start(pool.clone(), writers));
        let registry = prometheus::Registry::new();
        let prometheus_mw = actix_web_prom::PrometheusMetricsBuilder::new("zhiban")
            .registry(registry.clone())
            // Label by route pattern only; an unmatched path may carry anything, secrets included.
            .mask_unmatched_patterns(crate::telemetry::UNMATCHED_ROUTE)
            .build()
            .map_err(|e| anyhow::anyhow!("metrics setup failed: {e}"))?;
        let registry = web::Data::new(registry);
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let server = HttpServer::new(move || {
            App::new()
                .wrap_fn(never_cache_personal_data)
                .wrap(problem_fallback())
                .wrap(prometheus_mw.clone())
                .wrap(TracingLogger::<crate::telemetry::RedactedRootSpan>::new())
                .app_data(web::JsonConfig::default().limit(JSON_LIMIT_BYTES).error_handler(json_error))
                .app_data(web::QueryConfig::default().error_handler(|e, _| query_error(e)))
                .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::not_found().into()))
                .app_data(web::PayloadConfig::new(crate::members::import::MAX_IMPORT_BYTES + 1024))
                .app_data(pool_data.clone())
                .app_data(keys.clone())
                .app_data(clock.clone())
                .app_data(spec.clone())
                .app_data(public_url.clone())
                .app_data(submission_limits.clone())
                .app_data(trusted_proxies.clone())
                .app_data(webhook_egress.clone())
                .app_data(session_check.clone())
                .app_data(group_commit.clone())
                .app_data(web::FormConfig::default().limit(FORM_LIMIT_BYTES))
                .app_data(registry.clone())
                .into_utoipa_app()
                .configure(crate::routes::routes)
                .into_app()
                // The console is a user interface, not part of the API document.
                .configure(crate::console::routes)
                // So are the member pages, over the same capability functions.
                .configure(crate::member_pages::routes)
                .default_service(web::to(|| async { Err::<actix_web::HttpResponse, _>(ApiError::not_found()) }))
        })
        .listen(listener)?
        .workers(workers)
        // As many blocking threads as there are connections for them: more would only wake
        // to wait on the pool, and the switching cost a fifth of the read path's time.
        .worker_max_blocking_threads((settings.db_pool_size as usize).div_ceil(workers).max(1))
        .client_request_timeout(Duration::from_secs(10))
        .keep_alive(Duration::from_secs(30))
        .shutdown_timeout(10)
        .run();
        let worker = settings.worker_enabled.then(|| {
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let worker_id = crate::outbox::worker::worker_id();
            (
                stop,
                tokio::spawn(crate::worker::run_worker(
                    settings.clock.clone(),
                    pool.clone(),
                    settings.webhook_egress.clone(),
                    worker_id,
                    stopped,
                )),
            )
        });
        Ok(Self { port, pool, server, worker })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// Serves until SIGINT/SIGTERM, then lets in-flight requests finish (graceful shutdown).
    /// Then stops the background worker, letting a delivery in flight finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some((stop, handle)) = self.worker {
            let _ = stop.send(true);
            let _ = tokio::time::timeout(Duration::from_secs(15), handle).await;
        }
        served
    }
}

fn json_error(err: actix_web::error::JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let api = match &err {
        E::OverflowKnownLength { .. } | E::Overflow { .. } => ApiError::new(ErrorCode::PayloadTooLarge),
        E::ContentType => ApiError::new(ErrorCode::UnsupportedMediaType).with_detail("send application/json"),
        E::Deserialize(e) => ApiError::new(ErrorCode::BadRequest).with_detail(safe_serde_detail(e)),
        _ => ApiError::new(ErrorCode::BadRequest).with_detail("the body could not be read"),
    };
    api.into()
}

/// serde's messages can quote the offending value (a password, a phone): keep only the
/// ones that name fields, and positions.
fn safe_serde_detail(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let names_a_field =
        msg.starts_with("missing field") || msg.starts_with("unknown field") || msg.starts_with("duplicate field");
    if names_a_field {
        // "unknown field `x`, expected one of …" — field names only.
        msg
    } else if e.is_syntax() || e.is_eof() {
        format!("malformed JSON at line {} column {}", e.line(), e.column())
    } else {
        format!("a value has the wrong type or form at line {} column {}", e.line(), e.column())
    }
}

fn query_error(e: actix_web::error::QueryPayloadError) -> actix_web::Error {
    let detail = match &e {
        actix_web::error::QueryPayloadError::Deserialize(inner) => {
            let msg = inner.to_string();
            if msg.starts_with("unknown variant")
                || msg.starts_with("invalid digit")
                || msg.starts_with("provided string")
            {
                msg
            } else {
                "a query parameter has the wrong form".to_owned()
            }
        }
        _ => "the query string could not be read".to_owned(),
    };
    ApiError::new(ErrorCode::BadRequest).with_detail(detail).into()
}

/// Errors raised by actix itself (unknown method, payload limits, timeouts) come as plain
/// text; this turns any non-problem error response into problem+json with a stable code.
/// Answers that carry residents' contacts or members' phones are never kept by a browser or a
/// proxy cache (`Cache-Control: no-store`), unless the route chose its own policy.
fn never_cache_personal_data<S, B>(
    req: actix_web::dev::ServiceRequest,
    service: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: actix_web::dev::Service<actix_web::dev::ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    const PERSONAL: [&str; 5] =
        ["/api/v1/items", "/api/v1/me/inbox", "/api/v1/public/items", "/api/v1/referrals", "/api/v1/members"];
    let personal = PERSONAL.iter().any(|p| req.path().starts_with(p));
    let answer = service.call(req);
    async move {
        let mut res = answer.await?;
        let headers = res.headers_mut();
        if personal && !headers.contains_key(actix_web::http::header::CACHE_CONTROL) {
            headers.insert(
                actix_web::http::header::CACHE_CONTROL,
                actix_web::http::header::HeaderValue::from_static("no-store"),
            );
        }
        Ok(res)
    }
}

fn problem_fallback<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    let mut handlers = ErrorHandlers::new();
    for status in [
        StatusCode::BAD_REQUEST,
        StatusCode::NOT_FOUND,
        StatusCode::METHOD_NOT_ALLOWED,
        StatusCode::PAYLOAD_TOO_LARGE,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        StatusCode::REQUEST_TIMEOUT,
        StatusCode::INTERNAL_SERVER_ERROR,
    ] {
        handlers = handlers.handler(status, to_problem);
    }
    handlers
}

fn to_problem<B: MessageBody + 'static>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // Our own answers pass: problems, and the error pages residents and handling units see in
    // Chinese. What remains is actix's plain-text defaults (unmatched route, wrong method…).
    let ours = res.headers().get(actix_web::http::header::CONTENT_TYPE).is_some_and(|v| {
        let v = v.as_bytes();
        v.starts_with(b"application/problem+json") || v.starts_with(b"text/html")
    });
    if ours {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let code = match res.status() {
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::INTERNAL_SERVER_ERROR => ErrorCode::InternalError,
        _ => ErrorCode::BadRequest,
    };
    let (req, _) = res.into_parts();
    let response = actix_web::ResponseError::error_response(&ApiError::new(code));
    let response: actix_web::HttpResponse<EitherBody<B, BoxBody>> = response.map_into_right_body();
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, response)))
}
