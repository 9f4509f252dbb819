pub mod attendance;
pub mod code;
pub mod display;
mod handlers;
pub mod review;
pub mod scan;
pub mod views;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.configure(handlers::routes).configure(display::routes);
}
