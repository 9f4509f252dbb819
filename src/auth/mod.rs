//! Accounts and sessions: phone + password sign-in, short-lived JWT access tokens, rotating
//! refresh tokens with reuse detection, and the extractors handlers take as arguments.

mod extract;
mod handlers;
pub mod password;
pub(crate) mod queries;
mod throttle;
pub mod tokens;

pub use extract::{Admin, AuthUser, Coordinator, VenueScope, load_scope};
pub use handlers::{authenticate, routes};
pub use tokens::JwtKeys;
