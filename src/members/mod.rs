//! Members (委员) and the other accounts: coordinators (联络员) and admins (政协办公室).

mod handlers;
pub mod import;
pub mod store;
pub mod views;
pub mod visibility;
pub mod workflow;

pub use handlers::routes;
pub use views::MemberView;
