pub mod attendance;
pub mod code;
pub mod display;
mod handlers;
pub mod scan;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.configure(handlers::routes).configure(display::routes);
}
