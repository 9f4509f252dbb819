//! The sign-in throttle, counted with [`crate::throttle`] (in the database, atomically, before
//! the password is looked at), against three keys per attempt:
//!
//! - **the phone from this client address**: 5 attempts in 15 minutes, then 429
//!   `login_throttled`. Keying the hard limit by phone *and* address is what keeps an attacker
//!   elsewhere from locking the real member out: their failures fill their own counter, not
//!   the one of the member's phone or office.
//! - **the client address**: 20 attempts in 15 minutes, over all phones (one address trying
//!   many accounts).
//! - **the phone from anywhere**: a soft limit of 50 in 15 minutes. It never locks; past it the
//!   phone is under a guessing run from many addresses, and every address gets only 2 attempts
//!   at it per window instead of 5. So a botnet's guesses against one account are slowed, and
//!   the member, from their own address, still always has an attempt.
//!
//! So the counts are of passwords actually evaluated: a refused attempt gives its hits back
//! (the window is fixed, so a key over its limit stays over until the window ends), and a
//! right password clears its phone-and-address counter and gives back its hits on the others
//! (an office behind one address signs in all day).

use chrono::{Duration, NaiveDateTime};

use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode};
use crate::throttle::{self, Key};

const WINDOW_MINUTES: i64 = 15;
pub const MAX_ATTEMPTS_PER_PHONE_AT_ADDRESS: i64 = 5;
pub const MAX_ATTEMPTS_PER_ADDRESS: i64 = 20;
/// Past this many evaluated attempts at one phone from all addresses, the phone is under attack.
pub const PHONE_UNDER_ATTACK_AFTER: i64 = 50;
/// Attempts per phone and address per window while the phone is under attack.
pub const MAX_ATTEMPTS_PER_PHONE_AT_ADDRESS_UNDER_ATTACK: i64 = 2;

/// The three keys a sign-in attempt counts against.
pub struct ThrottleKeys {
    phone_at_address: Key,
    address: Key,
    phone: Key,
}

impl ThrottleKeys {
    pub fn new(phone: &str, address: &str) -> Self {
        Self {
            phone_at_address: Key::new("login-phone-address", &format!("{phone}|{address}")),
            address: Key::new("login-address", address),
            phone: Key::new("login-phone", phone),
        }
    }
}

/// Counts an attempt; refuses it with `login_throttled` (and Retry-After) past a limit, before
/// any password is evaluated.
pub fn begin(conn: &mut DbConnection, keys: &ThrottleKeys, now: NaiveDateTime) -> Result<(), ApiError> {
    let window = Duration::minutes(WINDOW_MINUTES);
    let address = throttle::hit(conn, &keys.address, window, now)?;
    let phone = throttle::hit(conn, &keys.phone, window, now)?;
    let pair = throttle::hit(conn, &keys.phone_at_address, window, now)?;
    let pair_limit = if phone.exceeds(PHONE_UNDER_ATTACK_AFTER) {
        MAX_ATTEMPTS_PER_PHONE_AT_ADDRESS_UNDER_ATTACK
    } else {
        MAX_ATTEMPTS_PER_PHONE_AT_ADDRESS
    };
    let refused = if address.exceeds(MAX_ATTEMPTS_PER_ADDRESS) {
        Some(address)
    } else if pair.exceeds(pair_limit) {
        Some(pair)
    } else {
        None
    };
    match refused {
        Some(count) => {
            for key in [&keys.address, &keys.phone, &keys.phone_at_address] {
                throttle::refund(conn, key)?;
            }
            Err(count.refusal(ErrorCode::LoginThrottled, now))
        }
        None => Ok(()),
    }
}

/// A right password: its attempt was no guess.
pub fn succeeded(conn: &mut DbConnection, keys: &ThrottleKeys) -> Result<(), ApiError> {
    throttle::clear(conn, &keys.phone_at_address)?;
    throttle::refund(conn, &keys.address)?;
    throttle::refund(conn, &keys.phone)
}
