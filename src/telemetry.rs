//! Logging: `tracing` with request ids from tracing-actix-web, human or JSON lines.

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

/// Installs the global subscriber once, on standard output; later calls (tests) are no-ops.
pub fn init(format: LogFormat) {
    let _ = subscriber(format, std::io::stdout).try_init();
}

/// The subscriber [`init`] installs, writing to `writer`: a line per event, and a line per
/// finished request — the request span's close, with method, route, request id, status and
/// the time it took. Without the close line only failed requests would appear.
pub fn subscriber<W>(format: LogFormat, writer: W) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn,diesel=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(writer);
    match format {
        LogFormat::Json => Box::new(builder.json().flatten_event(true).finish()),
        LogFormat::Pretty => Box::new(builder.compact().finish()),
    }
}

/// The request span, without the request's path or query.
///
/// Several paths carry a secret in themselves — calendar feeds (`/ical/{token}.ics`), the
/// handling unit's link (`/h/{token}`), a resident's tracking code (`/r/t/{code}`), the display
/// device's `?device=` token — so the span records the matched route pattern instead of the
/// target, and no client address or user agent. Status and errors are recorded as usual.
pub struct RedactedRootSpan;

impl RootSpanBuilder for RedactedRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let route = request.match_pattern().unwrap_or_else(|| UNMATCHED_ROUTE.to_owned());
        let request_id = request.extensions().get::<RequestId>().map(|id| id.to_string()).unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            request_id = %request_id,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// What logs and metrics name a request that matched no route (its path may be anything).
pub const UNMATCHED_ROUTE: &str = "unmatched";
