//! End-to-end tests: the real server on a real port, real HTTP, a fresh database per test.
//! SQLite always; PostgreSQL too when `TEST_DATABASE_URL` is set (see `.ci/run`).

mod architecture;
mod auth;
mod authorization;
mod backup;
mod browser;
mod calendar;
mod channels;
mod checkin;
mod console;
mod contract;
mod crash;
mod demo;
mod egress;
mod group_commit;
mod helpers;
mod instances;
mod instants;
mod items;
mod lookups;
mod member_pages;
mod members;
mod migrations;
mod notices;
mod offline_review;
mod outbox;
mod requests;
mod rosters;
mod sessions;
mod spec;
mod stats;
mod telemetry;
mod tenancy;
mod untrusted_input;
mod venues;
