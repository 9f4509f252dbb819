//! The roster generator as a pure function: properties on random pools, leave, locks and
//! calendars, and the demo-sized county. (HTTP-level roster tests live in tests/api.)

mod common;
mod demo_county;
mod properties;
