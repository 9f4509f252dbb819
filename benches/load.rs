//! The load harness: the reception-day burst against a release server in its own process.
//!
//! `cargo bench --bench load` builds the release `zhiban` binary, writes a fixture of
//! 50,000 members each on a duty at one venue today into a fresh database, starts
//! `zhiban serve` on it and drives it from this process at 64 connections: `GET /health`
//! (the framework's ceiling), `GET /api/v1/me/duties`, `POST /api/v1/checkins` (valid,
//! unique scans, each a different member) and `POST /api/v1/public/items`. Per endpoint it
//! prints requests/s, p50, p99, errors and the ratio to `/health`, then the server's peak
//! memory and how long it took to be ready; first on SQLite, then on PostgreSQL
//! (`ZHIBAN_BENCH_POSTGRES`, default the machine's local server; skipped, saying so, when
//! unreachable). The members' tokens belong to real sessions, so the authenticated calls
//! include the per-session check of sign-out and deactivation (`auth::sessions`). Acknowledged check-ins and submissions are counted in the database after.
//! Then, per backend, the member pages at the demo's size (`load/member_pages.rs`).

#[path = "load/member_pages.rs"]
mod member_pages;
mod support;

use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use support::Figures;
use zhiban::db::{self, DatabaseLocation, DbConnection};
use zhiban::schema::{assignments, checkins, items, members, refresh_tokens, rosters, shift_templates, shifts};

const MEMBERS: usize = 50_000;
/// Members per duty: a reception-day team, so the teammates in each duties read are real.
const TEAM: usize = 2;
const CONCURRENCY: usize = 64;
const HEALTH_REQUESTS: usize = 40_000;
const DUTY_READS: usize = 20_000;
const SUBMISSIONS: usize = 10_000;
const SECRET: &str = "bench-secret-0123456789abcdef0123456789abcdef";

#[tokio::main]
async fn main() {
    // `ZHIBAN_BENCH_BACKENDS=sqlite` (or `postgres`) runs one backend only, for profiling.
    let only = std::env::var("ZHIBAN_BENCH_BACKENDS").unwrap_or_default();
    let mut runs = Vec::new();
    let mut pages = Vec::new();
    let dir = std::env::temp_dir().join(format!("zhiban-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = format!("sqlite://{}", dir.join("load.db").display());
    if only != "postgres" {
        runs.push(run("SQLite", &sqlite, &dir).await);
        let demo = format!("sqlite://{}", dir.join("demo.db").display());
        pages.push(member_pages::run("SQLite", &demo, &dir).await);
    }

    let admin = std::env::var("ZHIBAN_BENCH_POSTGRES")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/postgres?sslmode=disable".to_owned());
    match diesel::PgConnection::establish(&admin)
        .map_err(|e| e.to_string())
        .and_then(|c| if only == "sqlite" { Err("not asked for (ZHIBAN_BENCH_BACKENDS=sqlite)".into()) } else { Ok(c) })
    {
        Ok(mut conn) => {
            let name = format!("zhiban_load_{}", std::process::id());
            conn.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
            let url = replace_database(&admin, &name);
            runs.push(run("PostgreSQL", &url, &dir).await);
            conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
            let demo = format!("zhiban_load_demo_{}", std::process::id());
            conn.batch_execute(&format!("CREATE DATABASE {demo}")).unwrap();
            pages.push(member_pages::run("PostgreSQL", &replace_database(&admin, &demo), &dir).await);
            conn.batch_execute(&format!("DROP DATABASE IF EXISTS {demo} WITH (FORCE)")).unwrap();
        }
        Err(e) => println!("\nPostgreSQL run skipped: {e}"),
    }
    let _ = std::fs::remove_dir_all(&dir);

    println!("\n== targets (2-core machine) ==");
    for r in &runs {
        r.judge();
        if let Some(p) = pages.iter().find(|p| p.backend == r.backend) {
            p.judge();
        }
    }
}

struct Run {
    backend: &'static str,
    health: Figures,
    duties: Figures,
    checkins: Figures,
    submissions: Figures,
    peak_kib: u64,
    ready: Duration,
}

impl Run {
    fn judge(&self) {
        let ratio = |f: &Figures| f.per_second() / self.health.per_second();
        let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
        let p99 = self.checkins.percentile(0.99);
        println!("{}:", self.backend);
        println!(
            "  check-ins ≥ 25% of /health, 0 errors, p99 ≤ 25 ms: {:.1}%, {} errors, p99 {:.1} ms — {}",
            100.0 * ratio(&self.checkins),
            self.checkins.errors,
            p99.as_secs_f64() * 1e3,
            verdict(ratio(&self.checkins) >= 0.25 && self.checkins.errors == 0 && p99 <= Duration::from_millis(25))
        );
        println!("  duties read ≥ 50%: {:.1}% — {}", 100.0 * ratio(&self.duties), verdict(ratio(&self.duties) >= 0.5));
        println!(
            "  resident submissions ≥ 20%: {:.1}% — {}",
            100.0 * ratio(&self.submissions),
            verdict(ratio(&self.submissions) >= 0.2)
        );
        println!(
            "  peak memory ≤ 150 MB: {:.1} MB — {}",
            self.peak_kib as f64 / 1024.0,
            verdict(self.peak_kib <= 150 * 1024)
        );
        println!(
            "  ready within 1 s on an existing database: {} ms — {}",
            self.ready.as_millis(),
            verdict(self.ready <= Duration::from_secs(1))
        );
    }
}

async fn run(backend: &'static str, url: &str, dir: &std::path::Path) -> Run {
    println!("\n== {backend}: writing the fixture ({MEMBERS} members on duty today at one venue) ==");
    let location = DatabaseLocation::parse(url).unwrap();
    let started = Instant::now();
    let fixture = {
        let location = location.clone();
        tokio::task::spawn_blocking(move || {
            let pool = db::connect(&location, 1).unwrap();
            let mut conn = pool.get().unwrap();
            db::run_migrations(&mut conn).unwrap();
            fixture(&mut conn)
        })
        .await
        .unwrap()
    };
    println!("fixture written in {:.1} s", started.elapsed().as_secs_f64());

    let client = support::client();
    let (mut server, base, ready) = start_server(url, &dir.join(format!("server-{backend}.log")), &client).await;
    println!("ready {} ms after start (server pid {})", ready.as_millis(), server.0.id());

    let pid = server.0.id();
    let b = base.clone();
    let c = client.clone();
    drop(
        support::load("warm-up", 2000, CONCURRENCY, move |_| {
            let (c, b) = (c.clone(), b.clone());
            async move { c.get(format!("{b}/health")).send().await.is_ok_and(|r| r.status().is_success()) }
        })
        .await,
    );
    let (c, b) = (client.clone(), base.clone());
    let (health, health_cpu) = metered(
        pid,
        support::load("GET /health", HEALTH_REQUESTS, CONCURRENCY, move |_| {
            let (c, b) = (c.clone(), b.clone());
            async move { c.get(format!("{b}/health")).send().await.is_ok_and(|r| r.status().is_success()) }
        }),
    )
    .await;

    // Real sessions' tokens: every authenticated call below pays the session check
    // (`auth::sessions`: a query per session and instance every 10 s, an in-process map
    // otherwise). The duty reads go round 50,000 sessions, so most of them pay the query.
    let keys = zhiban::auth::JwtKeys::new(&zhiban::config::JwtSecret::new(SECRET), zhiban::clock::Clock::system());
    let tokens: Arc<Vec<String>> = Arc::new(
        fixture
            .members
            .iter()
            .zip(&fixture.sessions)
            .map(|(m, sid)| keys.issue(*m, fixture.committee_id, vec![zhiban::domain::Role::Member], sid).unwrap().0)
            .collect(),
    );

    let (c, b, t) = (client.clone(), base.clone(), tokens.clone());
    let (duties, duties_cpu) = metered(
        pid,
        support::load("GET /api/v1/me/duties", DUTY_READS, CONCURRENCY, move |i| {
            let (c, b, t) = (c.clone(), b.clone(), t.clone());
            async move {
                match c.get(format!("{b}/api/v1/me/duties")).bearer_auth(&t[i * 7 % MEMBERS]).send().await {
                    Ok(r) if r.status().is_success() => {
                        r.json::<serde_json::Value>().await.is_ok_and(|v| v.as_array().is_some_and(|d| d.len() == 1))
                    }
                    _ => false,
                }
            }
        }),
    )
    .await;

    let (c, b, t) = (client.clone(), base.clone(), tokens.clone());
    let (code, secret, version) = fixture.venue_secret.clone();
    let (checkins, checkins_cpu) = metered(
        pid,
        support::load("POST /api/v1/checkins", MEMBERS, CONCURRENCY, move |i| {
            let (c, b, t) = (c.clone(), b.clone(), t.clone());
            let step = zhiban::checkin::code::step_of(Utc::now().timestamp());
            let payload = zhiban::checkin::code::display_code(secret.as_bytes(), &code, version, step);
            async move {
                let body = serde_json::json!({
                    "payload": payload, "nonce": format!("load-nonce-{i:08}"), "scanned_at": Utc::now(),
                });
                match c.post(format!("{b}/api/v1/checkins")).bearer_auth(&t[i]).json(&body).send().await {
                    Ok(r) if r.status().is_success() => {
                        r.json::<serde_json::Value>().await.is_ok_and(|v| v["outcome"] == "ok")
                    }
                    _ => false,
                }
            }
        }),
    )
    .await;

    let (c, b) = (client.clone(), base.clone());
    let (submissions, submissions_cpu) = metered(
        pid,
        support::load("POST /api/v1/public/items", SUBMISSIONS, CONCURRENCY, move |i| {
            let (c, b) = (c.clone(), b.clone());
            async move {
                let body = serde_json::json!({
                    "venue_code": "load-studio", "kind": if i % 2 == 0 { "opinion" } else { "consultation" },
                    "topic": "交通出行", "body": format!("第{i}条：村口道路破损，雨天积水，希望尽快修复。"),
                    "consent": true,
                });
                let resident = format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255);
                c.post(format!("{b}/api/v1/public/items"))
                    .header("x-forwarded-for", resident)
                    .json(&body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().as_u16() == 201)
            }
        }),
    )
    .await;
    let peak_kib = peak_memory_kib(pid);
    server.stop();

    println!("\nzhiban under load ({backend}, release server in its own process, {CONCURRENCY} connections)");
    health.print(None);
    duties.print(Some(&health));
    checkins.print(Some(&health));
    submissions.print(Some(&health));
    println!("server peak memory (VmHWM) {:.1} MB", peak_kib as f64 / 1024.0);
    println!("CPU per request, µs (user + system, from /proc): server, database server, load generator");
    for (f, cpu) in
        [(&health, health_cpu), (&duties, duties_cpu), (&checkins, checkins_cpu), (&submissions, submissions_cpu)]
    {
        let per = |seconds: f64| seconds * 1e6 / f.requests as f64;
        println!(
            "{:<28} server {:>6.1}  database {:>6.1}  load {:>6.1}  total {:>6.1}",
            f.label,
            per(cpu.server),
            per(cpu.database),
            per(cpu.load),
            per(cpu.server + cpu.database + cpu.load)
        );
    }

    let (stored_checkins, stored_items) = tokio::task::spawn_blocking(move || {
        let pool = db::connect(&location, 1).unwrap();
        let mut conn = pool.get().unwrap();
        let c: i64 = checkins::table.count().get_result(&mut conn).unwrap();
        let i: i64 = items::table.count().get_result(&mut conn).unwrap();
        (c as usize, i as usize)
    })
    .await
    .unwrap();
    let (acked_checkins, acked_items) =
        (checkins.requests - checkins.errors, submissions.requests - submissions.errors);
    println!("acknowledged check-ins {acked_checkins}, rows after the server stopped {stored_checkins}");
    println!("acknowledged submissions {acked_items}, rows after the server stopped {stored_items}");
    assert_eq!(stored_checkins, acked_checkins, "every acknowledged check-in is durable, once");
    assert_eq!(stored_items, acked_items, "every acknowledged submission is durable, once");
    Run { backend, health, duties, checkins, submissions, peak_kib, ready }
}

/// Starts the release `zhiban serve` on the database at `url` (its log written to `log`) and
/// waits until it is ready: the process, its base URL, and how long it took.
async fn start_server(url: &str, log: &std::path::Path, client: &reqwest::Client) -> (ServerProcess, String, Duration) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(log).unwrap();
    let started = Instant::now();
    let mut server = ServerProcess(
        Command::new(env!("CARGO_BIN_EXE_zhiban"))
            .arg("serve")
            .env("DATABASE_URL", url)
            .env("ZHIBAN_BIND", format!("127.0.0.1:{port}"))
            .env("ZHIBAN_JWT_SECRET", SECRET)
            .env("ZHIBAN_LOG_FORMAT", "json")
            // Residents come through the county's reverse proxy, each from their own address.
            .env("ZHIBAN_TRUSTED_PROXIES", "127.0.0.1")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start the release server"),
    );
    let ready = loop {
        if client.get(format!("{base}/ready")).send().await.is_ok_and(|r| r.status().is_success()) {
            break started.elapsed();
        }
        assert!(server.0.try_wait().unwrap().is_none(), "the server exited; see its log");
        assert!(started.elapsed() < Duration::from_secs(30), "the server was not ready in 30 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    (server, base, ready)
}

/// The server process, stopped (SIGTERM, then waited for) however the run ends.
struct ServerProcess(Child);

impl ServerProcess {
    /// A graceful stop (SIGTERM), as a service manager would.
    fn stop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// CPU seconds (user + system) used so far by the server, by this process (the load
/// generator) and by the machine's PostgreSQL processes: where the two cores went.
#[derive(Clone, Copy, Default)]
struct CpuTime {
    server: f64,
    database: f64,
    load: f64,
}

impl std::ops::Sub for CpuTime {
    type Output = CpuTime;
    fn sub(self, o: CpuTime) -> CpuTime {
        CpuTime { server: self.server - o.server, database: self.database - o.database, load: self.load - o.load }
    }
}

/// utime + stime of a process, in seconds (clock ticks of 1/100 s on Linux).
fn cpu_seconds(stat: &str) -> f64 {
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) as f64 / 100.0
}

fn cpu_now(server: u32) -> CpuTime {
    let read = |pid: &str| std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let database = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
        .filter(|e| std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "postgres"))
        .map(|e| cpu_seconds(&read(&e.file_name().to_string_lossy())))
        .sum();
    CpuTime { server: cpu_seconds(&read(&server.to_string())), database, load: cpu_seconds(&read("self")) }
}

/// Runs one phase of load and measures the CPU it cost each party.
async fn metered(server: u32, phase: impl std::future::Future<Output = Figures>) -> (Figures, CpuTime) {
    let before = cpu_now(server);
    let figures = phase.await;
    (figures, cpu_now(server) - before)
}

/// The server's peak resident memory so far, from the kernel's own high-water mark.
fn peak_memory_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn replace_database(url: &str, name: &str) -> String {
    let (before, after) = url.split_once('?').map(|(b, a)| (b, Some(a))).unwrap_or((url, None));
    let base = &before[..before.rfind('/').unwrap()];
    let mut out = format!("{base}/{name}");
    if let Some(query) = after {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// Multi-row inserts exist per backend, not through the multi-backend connection.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            DbConnection::Sqlite($c) => $body,
            DbConnection::Postgresql($c) => $body,
        }
    };
}

struct Fixture {
    committee_id: i64,
    members: Vec<i64>,
    /// Each member's signed-in session (refresh-token family), as a login would leave it.
    sessions: Vec<String>,
    venue_secret: (String, String, i32),
}

/// One committee, one venue (`load-home`) with `MEMBERS` members in teams of `TEAM`, each
/// team on a duty there that started five minutes ago, and a township studio
/// (`load-studio`, where residents submit) with its team of three on duty. Written in batches:
/// member by member it would take minutes on PostgreSQL.
fn fixture(conn: &mut DbConnection) -> Fixture {
    use zhiban::domain::*;
    let created = zhiban::committee::create(
        conn,
        zhiban::committee::NewCommittee {
            code: "load",
            name: "基准政协",
            timezone: Timezone::parse("Asia/Shanghai").unwrap(),
            admin_name: PersonName::parse("管理员").unwrap(),
            admin_phone: Phone::parse("13900000000").unwrap(),
            admin_password: Password::parse("load-password").unwrap(),
        },
        Utc::now().naive_utc(),
    )
    .unwrap();
    let committee_id = created.committee_id;
    let now = Utc::now().naive_utc();
    let (venue, members) = db::write_transaction(conn, |conn| {
        let venue = zhiban::venues::store::insert(
            conn,
            committee_id,
            &zhiban::venues::store::NewVenue {
                kind: "cppcc_home",
                name: "政协之家".into(),
                township: None,
                address: Some("基准县政协大楼一楼".into()),
                code: "load-home".into(),
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
                shift_templates::head_min.eq(TEAM as i32),
                shift_templates::head_max.eq(TEAM as i32),
                shift_templates::head_target.eq(TEAM as i32),
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
        let (starts, ends) = (now - chrono::Duration::minutes(5), now + chrono::Duration::hours(3));
        let local = |t: chrono::NaiveDateTime| t.and_utc().with_timezone(&chrono_tz::Asia::Shanghai).naive_local();
        let local_date = local(starts).date();
        let mut members = Vec::with_capacity(MEMBERS);
        for chunk in (0..MEMBERS).collect::<Vec<_>>().chunks(1000) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|i| {
                    (
                        members::committee_id.eq(committee_id),
                        members::name.eq(format!("委员{i}")),
                        members::phone.eq(format!("137{i:08}")),
                        members::home_venue_id.eq(Some(venue)),
                        members::standing_committee.eq(i % 10 == 0),
                        members::active.eq(true),
                        members::roles.eq("member"),
                        members::created_at.eq(now),
                        members::updated_at.eq(now),
                    )
                })
                .collect();
            let ids: Vec<i64> = on_backend!(conn, |c| diesel::insert_into(members::table)
                .values(&rows)
                .returning(members::id)
                .get_results(c))?;
            members.extend(ids);
        }
        // Every member signed in once: a session each, whose family the access tokens carry.
        let expires = now + chrono::Duration::days(30);
        for chunk in members.chunks(1000) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|m| {
                    (
                        refresh_tokens::committee_id.eq(committee_id),
                        refresh_tokens::member_id.eq(*m),
                        refresh_tokens::family.eq(format!("load-session-{m}")),
                        refresh_tokens::token_hash.eq(format!("load-refresh-{m}")),
                        refresh_tokens::issued_at.eq(now),
                        refresh_tokens::expires_at.eq(expires),
                    )
                })
                .collect();
            on_backend!(conn, |c| diesel::insert_into(refresh_tokens::table).values(&rows).execute(c))?;
        }
        // A duty at `venue` that started five minutes ago, for `min..=max` members.
        let shift_row = |venue: i64, min: usize, max: usize| {
            (
                shifts::committee_id.eq(committee_id),
                shifts::roster_id.eq(roster),
                shifts::template_id.eq(template),
                shifts::venue_id.eq(venue),
                shifts::local_date.eq(local_date),
                shifts::start_time.eq(local(starts).time()),
                shifts::end_time.eq(local(ends).time()),
                shifts::starts_at.eq(starts),
                shifts::ends_at.eq(ends),
                shifts::head_min.eq(min as i32),
                shifts::head_max.eq(max as i32),
            )
        };
        for team in members.chunks(TEAM * 500) {
            let rows: Vec<_> = team.chunks(TEAM).map(|_| shift_row(venue, TEAM, TEAM)).collect();
            let shift_ids: Vec<i64> = on_backend!(conn, |c| diesel::insert_into(shifts::table)
                .values(&rows)
                .returning(shifts::id)
                .get_results(c))?;
            let rows: Vec<_> = team
                .chunks(TEAM)
                .zip(&shift_ids)
                .flat_map(|(members, shift)| {
                    members.iter().map(move |member| {
                        (
                            assignments::committee_id.eq(committee_id),
                            assignments::shift_id.eq(*shift),
                            assignments::member_id.eq(*member),
                            assignments::role.eq("member"),
                            assignments::source.eq("manual"),
                            assignments::reason.eq("基准"),
                            assignments::created_at.eq(now),
                        )
                    })
                })
                .collect();
            on_backend!(conn, |c| diesel::insert_into(assignments::table).values(&rows).execute(c))?;
        }
        // The studio whose poster residents scan: one reception team of three on duty.
        let studio = zhiban::venues::store::insert(
            conn,
            committee_id,
            &zhiban::venues::store::NewVenue {
                kind: "township_studio",
                name: "城关镇委员工作室".into(),
                township: Some("城关镇".into()),
                address: Some("城关镇便民服务中心二楼".into()),
                code: "load-studio".into(),
                latitude: None,
                longitude: None,
                radius_m: None,
            },
            now,
        )?;
        let shift: i64 = diesel::insert_into(shifts::table)
            .values(shift_row(studio, 2, 3))
            .returning(shifts::id)
            .get_result(conn)?;
        for i in 0..3 {
            let member = zhiban::members::store::insert(
                conn,
                committee_id,
                &zhiban::members::store::NewMember {
                    name: format!("驻站委员{i}"),
                    phone: format!("136{i:08}"),
                    sector: None,
                    home_venue_id: Some(studio),
                    standing_committee: i == 0,
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
        }
        Ok((venue, members))
    })
    .unwrap();
    let venue_secret = zhiban::checkin::display::venue_secret(conn, venue).unwrap();
    let sessions = members.iter().map(|m| format!("load-session-{m}")).collect();
    Fixture { committee_id, members, sessions, venue_secret }
}
