//! Places of duty: township member studios (委员工作室) and the CPPCC Home (政协之家).

mod handlers;
pub mod store;
pub mod views;

pub use handlers::routes;
pub use views::VenueView;
