//! Accounts and sessions: phone + password sign-in, short-lived JWT access tokens, rotating
//! refresh tokens with reuse detection, and the extractors handlers take as arguments.

mod extract;
mod handlers;
pub mod password;
pub mod sessions;
mod sign_in;
pub(crate) mod store;
mod throttle;
pub mod tokens;

pub use extract::{Admin, AuthUser, Coordinator, VenueScope, load_scope};
pub use handlers::routes;
pub use sessions::{CredentialChange, SessionCheck};
pub use sign_in::authenticate;
pub use tokens::JwtKeys;
