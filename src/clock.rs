//! TEMPORARY stand-in for main's `src/clock.rs` ("One clock"), to be replaced by the merge:
//! the same API (`Clock::now`, `now_naive`, the extractor, `Clock::of`).

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use chrono::{DateTime, NaiveDateTime, Utc};

#[derive(Debug, Clone, Default)]
pub struct Clock {
    fixed: Option<DateTime<Utc>>,
    shift: std::sync::Arc<std::sync::Mutex<Option<chrono::Duration>>>,
}

impl Clock {
    pub fn system() -> Self {
        Self { fixed: None, shift: Default::default() }
    }

    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self { fixed: Some(at), shift: Default::default() }
    }

    pub fn starting_at(at: DateTime<Utc>) -> Self {
        Self { fixed: None, shift: std::sync::Arc::new(std::sync::Mutex::new(Some(at - Utc::now()))) }
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut shift = self.shift.lock().unwrap();
        *shift = Some(shift.unwrap_or_default() + by);
    }

    pub fn now(&self) -> DateTime<Utc> {
        let shift = *self.shift.lock().unwrap();
        match (self.fixed, shift) {
            (Some(at), s) => at + s.unwrap_or_default(),
            (None, Some(s)) => Utc::now() + s,
            (None, None) => Utc::now(),
        }
    }

    pub fn now_naive(&self) -> NaiveDateTime {
        self.now().naive_utc()
    }

    pub fn of(req: &HttpRequest) -> Result<Self, crate::error::ApiError> {
        Ok(req.app_data::<web::Data<Clock>>().map(|c| c.get_ref().clone()).unwrap_or_default())
    }
}

impl FromRequest for Clock {
    type Error = crate::error::ApiError;
    type Future = Ready<Result<Self, crate::error::ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::of(req))
    }
}
