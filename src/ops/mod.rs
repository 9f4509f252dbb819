//! Operations endpoints: liveness, readiness, Prometheus metrics.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::{self, DbPool};
use crate::error::{ApiError, ErrorCode, Problem};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health).service(ready).service(metrics).service(serve_document);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `ready`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
}

/// Liveness: the process answers. Touches nothing else.
#[utoipa::path(tag = "ops", responses((status = 200, body = Health)))]
#[get("/health")]
async fn health() -> web::Json<Health> {
    web::Json(Health { status: "ok", database: None })
}

/// Readiness: the database answers and its migrations are current.
#[utoipa::path(
    tag = "ops",
    responses(
        (status = 200, body = Health),
        (status = 503, description = "`not_ready`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/ready")]
async fn ready(pool: web::Data<DbPool>) -> Result<web::Json<Health>, ApiError> {
    let backend = db::run(&pool, |conn| {
        let pending = db::has_pending_migrations(conn).map_err(|e| ApiError::unexpected(anyhow::anyhow!("{e}")))?;
        if pending {
            return Err(ApiError::new(ErrorCode::NotReady).with_detail("migrations are pending"));
        }
        Ok(match conn {
            db::DbConnection::Postgresql(_) => "postgresql",
            db::DbConnection::Sqlite(_) => "sqlite",
        })
    })
    .await
    .map_err(|e| {
        if e.code == ErrorCode::NotReady {
            e
        } else {
            ApiError::new(ErrorCode::NotReady).with_detail("database unreachable")
        }
    })?;
    Ok(web::Json(Health { status: "ready", database: Some(backend) }))
}

/// Prometheus text exposition: request counts and latencies by route, pool state.
#[utoipa::path(tag = "ops", responses((status = 200, content_type = "text/plain", body = String)))]
#[get("/metrics")]
async fn metrics(registry: web::Data<prometheus::Registry>, pool: web::Data<DbPool>) -> HttpResponse {
    use prometheus::Encoder;
    let state = pool.state();
    let mut body = Vec::new();
    let encoder = prometheus::TextEncoder::new();
    if let Err(e) = encoder.encode(&registry.gather(), &mut body) {
        tracing::error!(error = %e, "metrics encoding failed");
    }
    body.extend_from_slice(
        format!(
            "# HELP zhiban_db_pool_connections Connections held by the pool.\n# TYPE zhiban_db_pool_connections gauge\nzhiban_db_pool_connections {}\n\
             # HELP zhiban_db_pool_idle Idle connections in the pool.\n# TYPE zhiban_db_pool_idle gauge\nzhiban_db_pool_idle {}\n",
            state.connections, state.idle_connections
        )
        .as_bytes(),
    );
    HttpResponse::Ok().content_type(encoder.format_type()).body(body)
}

/// Serves the document this server was built with.
#[utoipa::path(tag = "ops", responses((status = 200, content_type = "application/json", body = Object)))]
#[get("/api-spec/openapi.json")]
pub async fn serve_document(doc: web::Data<SpecJson>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(doc.0.clone())
}

/// The OpenAPI document as served, built once at start (`openapi::document_json`).
pub struct SpecJson(pub String);
