//! zhiban (值班): the server behind the duty app of a county CPPCC committee.
//!
//! One folder per capability (handlers, queries and types together); `domain` holds the
//! types that know nothing of HTTP or SQL; `startup::Application` assembles the server.

pub mod audit;
pub mod auth;
pub mod calendar;
pub mod checkin;
pub mod cli;
pub mod client_address;
pub mod clock;
pub mod committee;
pub mod config;
pub mod console;
pub mod db;
pub mod demo;
pub mod domain;
pub mod egress;
pub mod error;
pub mod html;
pub mod items;
pub mod json;
pub mod member_pages;
pub mod members;
pub mod openapi;
pub mod ops;
pub mod outbox;
pub mod pagination;
pub mod public_url;
pub mod qr;
pub mod roster;
pub mod routes;
pub mod schema;
pub mod startup;
pub mod stats;
pub mod telemetry;
pub mod throttle;
pub mod venues;
pub mod worker;
