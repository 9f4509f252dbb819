//! Check-ins per second and latency on SQLite, next to `GET /health` in the same run.
//! `cargo bench --bench checkin` (release). The load runs in this process, sharing the
//! machine's cores with the server; every acknowledged check-in is then counted in the database.

mod support;

use chrono::{Duration, Utc};
use diesel::prelude::*;
use zhiban::schema::{assignments, checkins, rosters, shift_templates, shifts};

const MEMBERS: usize = 4000;
const CONCURRENCY: usize = 64;

#[tokio::main]
async fn main() {
    let server = support::start("checkin").await;
    let pool = server.pool.clone();
    let (committee_id, venue_id, members) = tokio::task::spawn_blocking(move || fixture(&pool)).await.unwrap();
    let keys = zhiban::auth::JwtKeys::new(&zhiban::config::JwtSecret::new(support::SECRET));
    let tokens: Vec<String> =
        members.iter().map(|m| keys.issue(*m, committee_id, vec![zhiban::domain::Role::Member]).unwrap().0).collect();
    let pool = server.pool.clone();
    let (code, secret, version) = tokio::task::spawn_blocking(move || {
        zhiban::checkin::display::venue_secret(&mut pool.get().unwrap(), venue_id).unwrap()
    })
    .await
    .unwrap();

    let client = support::client();
    let base = server.base.clone();
    let (c, b) = (client.clone(), base.clone());
    let warm = support::load("warm-up", 2000, CONCURRENCY, move |_| {
        let (c, b) = (c.clone(), b.clone());
        async move { c.get(format!("{b}/health")).send().await.is_ok_and(|r| r.status().is_success()) }
    })
    .await;
    drop(warm);
    let (c, b) = (client.clone(), base.clone());
    let health = support::load("GET /health", 20_000, CONCURRENCY, move |_| {
        let (c, b) = (c.clone(), b.clone());
        async move { c.get(format!("{b}/health")).send().await.is_ok_and(|r| r.status().is_success()) }
    })
    .await;

    let tokens = std::sync::Arc::new(tokens);
    let (c, b) = (client.clone(), base.clone());
    let checkin = support::load("POST /api/v1/checkins", MEMBERS, CONCURRENCY, move |i| {
        let (c, b, tokens) = (c.clone(), b.clone(), tokens.clone());
        let step = zhiban::checkin::code::step_of(Utc::now().timestamp());
        let payload = zhiban::checkin::code::display_code(secret.as_bytes(), &code, version, step);
        async move {
            let body = serde_json::json!({
                "payload": payload, "nonce": format!("bench-nonce-{i:08}"), "scanned_at": Utc::now(),
            });
            match c.post(format!("{b}/api/v1/checkins")).bearer_auth(&tokens[i]).json(&body).send().await {
                Ok(r) if r.status().is_success() => {
                    r.json::<serde_json::Value>().await.is_ok_and(|v| v["outcome"] == "ok")
                }
                _ => false,
            }
        }
    })
    .await;

    println!("\nzhiban check-in benchmark (SQLite, release, {CONCURRENCY} concurrent clients in-process)");
    health.print(None);
    checkin.print(Some(&health));
    let pool = server.pool.clone();
    let stored: i64 =
        tokio::task::spawn_blocking(move || checkins::table.count().get_result(&mut pool.get().unwrap()).unwrap())
            .await
            .unwrap();
    let acknowledged = checkin.requests - checkin.errors;
    println!("acknowledged check-ins {acknowledged}, rows in the database {stored}");
    assert_eq!(stored as usize, acknowledged, "every acknowledged check-in is stored");
}

/// A committee with `MEMBERS` members on one shift at one venue, open now.
fn fixture(pool: &zhiban::db::DbPool) -> (i64, i64, Vec<i64>) {
    use zhiban::domain::*;
    let mut conn = pool.get().unwrap();
    let created = zhiban::committee::create(
        &mut conn,
        zhiban::committee::NewCommittee {
            code: "bench",
            name: "基准政协",
            timezone: Timezone::parse("Asia/Shanghai").unwrap(),
            admin_name: PersonName::parse("管理员").unwrap(),
            admin_phone: Phone::parse("13900000000").unwrap(),
            admin_password: Password::parse("bench-password").unwrap(),
        },
    )
    .unwrap();
    let committee_id = created.committee_id;
    zhiban::db::write_transaction(&mut conn, |conn| {
        let now = Utc::now().naive_utc();
        let venue = zhiban::venues::queries::insert(
            conn,
            committee_id,
            &zhiban::venues::queries::NewVenue {
                kind: "cppcc_home",
                name: "政协之家".into(),
                township: None,
                code: "bench-home".into(),
                latitude: None,
                longitude: None,
                radius_m: None,
            },
            now,
        )?;
        let template: i64 = diesel::insert_into(shift_templates::table)
            .values((
                shift_templates::committee_id.eq(committee_id),
                shift_templates::venue_id.eq(venue),
                shift_templates::name.eq("接待日"),
                shift_templates::kind.eq("reception_day"),
                shift_templates::rrule.eq("FREQ=DAILY"),
                shift_templates::start_time.eq(chrono::NaiveTime::MIN),
                shift_templates::end_time.eq(chrono::NaiveTime::from_hms_opt(23, 0, 0).unwrap()),
                shift_templates::head_min.eq(1),
                shift_templates::head_max.eq(MEMBERS as i32),
                shift_templates::head_target.eq(1),
                shift_templates::holiday_policy.eq("keep"),
                shift_templates::created_at.eq(now),
                shift_templates::updated_at.eq(now),
            ))
            .returning(shift_templates::id)
            .get_result(conn)?;
        let roster: i64 = diesel::insert_into(rosters::table)
            .values((
                rosters::committee_id.eq(committee_id),
                rosters::period_from.eq(now.date()),
                rosters::period_to.eq(now.date()),
                rosters::status.eq("published"),
                rosters::created_at.eq(now),
                rosters::updated_at.eq(now),
            ))
            .returning(rosters::id)
            .get_result(conn)?;
        let (starts, ends) = (now - Duration::minutes(5), now + Duration::hours(3));
        let shift: i64 = diesel::insert_into(shifts::table)
            .values((
                shifts::committee_id.eq(committee_id),
                shifts::roster_id.eq(roster),
                shifts::template_id.eq(template),
                shifts::venue_id.eq(venue),
                shifts::local_date.eq(now.date()),
                shifts::start_time.eq(starts.time()),
                shifts::end_time.eq(ends.time()),
                shifts::starts_at.eq(starts),
                shifts::ends_at.eq(ends),
                shifts::head_min.eq(1),
                shifts::head_max.eq(MEMBERS as i32),
            ))
            .returning(shifts::id)
            .get_result(conn)?;
        let mut members = Vec::with_capacity(MEMBERS);
        for i in 0..MEMBERS {
            let member = zhiban::members::queries::insert(
                conn,
                committee_id,
                &zhiban::members::queries::NewMember {
                    name: format!("委员{i}"),
                    phone: format!("137{i:08}"),
                    sector: None,
                    home_venue_id: Some(venue),
                    standing_committee: false,
                    active: true,
                    roles: "member".into(),
                    password_hash: None,
                    coordinator_venue_ids: Vec::new(),
                },
                now,
            )?;
            diesel::insert_into(assignments::table)
                .values((
                    assignments::committee_id.eq(committee_id),
                    assignments::shift_id.eq(shift),
                    assignments::member_id.eq(member),
                    assignments::role.eq("member"),
                    assignments::source.eq("manual"),
                    assignments::reason.eq("基准"),
                    assignments::created_at.eq(now),
                ))
                .execute(conn)?;
            members.push(member);
        }
        Ok((committee_id, venue, members))
    })
    .unwrap()
}
