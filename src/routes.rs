//! The route table of the API document: every operation, registered with its OpenAPI entry
//! (utoipa-actix-web), so `openapi` can build the document from the same table `startup`
//! serves. The console and the member pages are user interfaces, registered by `startup`.

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Every route of the service, registered with its OpenAPI entry.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.configure(crate::ops::routes)
        .configure(crate::roster::feed::public_routes)
        .configure(crate::checkin::display::public_routes)
        .configure(crate::items::pages::routes)
        .service(
            scope::scope("/api/v1")
                .configure(crate::auth::routes)
                .configure(crate::members::routes)
                .configure(crate::venues::routes)
                .configure(crate::calendar::routes)
                .configure(crate::committee::routes)
                .configure(crate::roster::routes)
                .configure(crate::checkin::routes)
                .configure(crate::outbox::routes)
                .configure(crate::items::routes)
                .configure(crate::stats::routes),
        );
}
