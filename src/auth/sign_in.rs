//! Signing in: a phone and a password checked under the throttle, one rule for every front end.

use chrono::NaiveDateTime;

use super::{password, store, throttle};
use crate::db::DbConnection;
use crate::domain::Phone;
use crate::error::{ApiError, ErrorCode};

/// Checks a phone (as typed) and password, throttled per phone and client `address` (see [`throttle`]): the
/// account, or `invalid_credentials` (the same answer for an unknown phone, after the same
/// hashing work). Shared by the API's login, the console's
/// and the member pages' sign-in.
pub fn authenticate(
    conn: &mut DbConnection,
    phone: &str,
    candidate: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<store::LoginAccount, ApiError> {
    // Unparseable phones still count against the address and give the same answer.
    let phone = Phone::parse(phone).map(|p| p.as_str().to_owned()).unwrap_or_else(|_| phone.to_owned());
    let keys = &throttle::ThrottleKeys::new(&phone, address);
    // Counted before the password is looked at, so parallel attempts cannot all pass.
    throttle::begin(conn, keys, now)?;
    let account = store::account_by_phone(conn, &phone)?;
    let stored = account.as_ref().and_then(|a| a.password_hash.as_deref());
    let matches = password::verify(candidate, stored.unwrap_or_else(|| password::decoy_hash()));
    match account {
        Some(account) if matches && stored.is_some() => {
            throttle::succeeded(conn, keys)?;
            Ok(account)
        }
        // The failure was counted by `begin`.
        _ => Err(ErrorCode::InvalidCredentials.into()),
    }
}
