//! The one clock every rule reads "now" from.
//!
//! In production it is the system clock. Tests and the demo hand `Application::build_with` a
//! clock that starts at an instant of their choosing (and runs on), or one that stands still
//! until moved, so that a rule's behaviour at 23:30 local, on New Year's night or on
//! 29 February is a test input rather than an accident of the day CI runs. Nothing outside
//! this module calls `Utc::now()` or `SystemTime::now()`; monotonic timers (tokio's) are
//! not instants of the calendar and stay as they are.

use std::future::{Ready, ready};
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use crate::error::ApiError;

/// A source of the current instant. Cloning shares it: moving a test clock moves it for the
/// server, its worker and the test at once.
#[derive(Clone, Debug)]
pub struct Clock(Arc<Source>);

#[derive(Debug)]
enum Source {
    System,
    /// The system clock shifted by an amount: time runs, from the instant the clock was set to.
    Shifted(Mutex<Duration>),
    /// Stands still until `set` or `advance` moves it.
    Fixed(Mutex<DateTime<Utc>>),
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(Arc::new(Source::System))
    }

    /// A clock that reads `at` now and runs on at the system's pace.
    pub fn starting_at(at: DateTime<Utc>) -> Self {
        Self(Arc::new(Source::Shifted(Mutex::new(at - Utc::now()))))
    }

    /// A clock that stands at `at` until moved.
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self(Arc::new(Source::Fixed(Mutex::new(at))))
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        match &*self.0 {
            Source::System => Utc::now(),
            Source::Shifted(by) => Utc::now() + *by.lock().unwrap_or_else(PoisonError::into_inner),
            Source::Fixed(at) => *at.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// The current instant as stored: UTC without offset (the timestamp type both backends share).
    pub fn now_naive(&self) -> NaiveDateTime {
        self.now().naive_utc()
    }

    /// Moves a test clock to `at` (a running clock keeps running from there). The system
    /// clock cannot be moved: asking is a bug in the caller.
    pub fn set(&self, at: DateTime<Utc>) {
        match &*self.0 {
            Source::System => panic!("the system clock cannot be set"),
            Source::Shifted(by) => *by.lock().unwrap_or_else(PoisonError::into_inner) = at - Utc::now(),
            Source::Fixed(now) => *now.lock().unwrap_or_else(PoisonError::into_inner) = at,
        }
    }

    /// Moves a test clock forward (or back, with a negative amount).
    pub fn advance(&self, by: Duration) {
        self.set(self.now() + by);
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl Clock {
    /// The application's clock, for extractors that read the time themselves.
    pub fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        req.app_data::<web::Data<Clock>>()
            .map(|clock| clock.get_ref().clone())
            .ok_or_else(|| ApiError::unexpected(anyhow::anyhow!("no clock registered with the application")))
    }
}

/// Handlers take the clock as an argument, like the pool; `startup` registers the one clock.
impl FromRequest for Clock {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::of(req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_fixed_clock_stands_until_moved() {
        let clock = Clock::fixed(at("2028-02-29T15:30:00Z"));
        assert_eq!(clock.now(), at("2028-02-29T15:30:00Z"));
        clock.advance(Duration::minutes(45));
        assert_eq!(clock.now(), at("2028-02-29T16:15:00Z"));
        let shared = clock.clone();
        shared.set(at("2027-01-01T00:10:00+08:00"));
        assert_eq!(clock.now(), at("2026-12-31T16:10:00Z"));
    }

    #[test]
    fn a_started_clock_runs_from_its_instant() {
        let clock = Clock::starting_at(at("2030-06-30T15:45:00Z"));
        let first = clock.now();
        assert!(first >= at("2030-06-30T15:45:00Z") && first < at("2030-06-30T15:46:00Z"), "{first}");
        assert!(clock.now() >= first);
        clock.advance(Duration::days(1));
        assert!(clock.now() >= at("2030-07-01T15:45:00Z"));
    }
}
