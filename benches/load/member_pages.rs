//! The member pages (`/m`) under load, at the demo's size: the demo county (`zhiban demo`'s
//! own `demo::ensure`: 16 township studios and the CPPCC Home, 300 members, a year of
//! published rosters, three months of check-ins and residents' items) in a fresh database,
//! served by the release binary. Every demo member signs in through the sign-in form
//! (`GET` then `POST /m/login`, argon2 included) and keeps the `zhiban_m` cookie; then the
//! members read 首页 (`GET /m`) and 接待 (`GET /m/inbox`) at 64 connections, each request as
//! the next member in turn. A page counts as an error unless it is the page asked for (a
//! lost session would be answered with the sign-in form).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use diesel::prelude::*;
use reqwest::redirect::Policy;
use zhiban::db::{self, DatabaseLocation};
use zhiban::schema::members;

use super::support::{self, Figures};
use super::{CONCURRENCY, metered, start_server};

const PAGE_READS: usize = 10_000;
/// Sign-ins are argon2-bound: a few at a time, as members arrive.
const SIGN_IN_CONCURRENCY: usize = 4;
/// The issue's target for the pages' server time.
const P99_TARGET: Duration = Duration::from_millis(20);

pub struct PagesRun {
    pub backend: &'static str,
    pub members: usize,
    pub sign_in: Figures,
    pub today: Figures,
    pub inbox: Figures,
}

impl PagesRun {
    pub fn judge(&self) {
        let ms = |f: &Figures| f.percentile(0.99).as_secs_f64() * 1e3;
        let ok = self.today.percentile(0.99) <= P99_TARGET && self.today.errors == 0 && self.sign_in.errors == 0;
        println!(
            "  member pages at the demo's size ({} members signed in, {} failed), GET /m p99 ≤ {} ms, 0 errors: \
             p99 {:.1} ms, {} errors — {} (GET /m/inbox p99 {:.1} ms, {} errors)",
            self.members - self.sign_in.errors,
            self.sign_in.errors,
            P99_TARGET.as_millis(),
            ms(&self.today),
            self.today.errors,
            if ok { "met" } else { "MISSED" },
            ms(&self.inbox),
            self.inbox.errors
        );
    }
}

/// The value of the hidden `csrf` field of the sign-in form.
fn csrf_in(html: &str) -> Option<String> {
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker)? + marker.len();
    Some(html[start..start + html[start..].find('"')?].to_owned())
}

/// The value of cookie `name` among the response's `Set-Cookie` headers.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(name)?.strip_prefix('=')?.split(';').next().map(str::to_owned))
}

/// Signs `phone` in through the form as a phone's browser does; the session cookie's value.
async fn sign_in(client: &reqwest::Client, base: &str, phone: &str) -> Option<String> {
    let form = client.get(format!("{base}/m/login")).send().await.ok()?;
    let signin = set_cookie(&form, "zhiban_m_signin")?;
    let csrf = csrf_in(&form.text().await.ok()?)?;
    let res = client
        .post(format!("{base}/m/login"))
        .header("cookie", format!("zhiban_m_signin={signin}"))
        .form(&[("phone", phone), ("password", zhiban::demo::PASSWORD), ("csrf", &csrf), ("next", "/m")])
        .send()
        .await
        .ok()?;
    if res.status() != 303 {
        return None;
    }
    set_cookie(&res, "zhiban_m")
}

/// GETs `path` with the session cookie: true when it is the page asked for (`marker` in it).
async fn read_page(client: &reqwest::Client, url: String, cookie: &str, marker: &str) -> bool {
    match client.get(url).header("cookie", format!("zhiban_m={cookie}")).send().await {
        Ok(r) if r.status() == 200 => r.text().await.is_ok_and(|body| body.contains(marker)),
        _ => false,
    }
}

pub async fn run(backend: &'static str, url: &str, dir: &std::path::Path) -> PagesRun {
    println!("\n== {backend}: the demo county for the member pages ==");
    let location = DatabaseLocation::parse(url).unwrap();
    let started = std::time::Instant::now();
    let phones: Vec<String> = tokio::task::spawn_blocking(move || {
        let pool = db::connect(&location, 1).unwrap();
        let mut conn = pool.get().unwrap();
        db::run_migrations(&mut conn).unwrap();
        let county = zhiban::demo::ensure(&mut conn, Utc::now().naive_utc()).unwrap();
        let accounts: Vec<(String, String)> = members::table
            .filter(members::committee_id.eq(county.committee_id))
            .filter(members::active.eq(true))
            .order(members::id)
            .select((members::phone, members::roles))
            .load(&mut conn)
            .unwrap();
        accounts.into_iter().filter(|(_, roles)| roles == "member").map(|(phone, _)| phone).collect()
    })
    .await
    .unwrap();
    println!("demo county written in {:.1} s: {} members", started.elapsed().as_secs_f64(), phones.len());

    let client = reqwest::Client::builder().redirect(Policy::none()).pool_max_idle_per_host(256).build().unwrap();
    let (mut server, base, ready) =
        start_server(url, &dir.join(format!("server-pages-{backend}.log")), &support::client()).await;
    println!("ready {} ms after start (server pid {})", ready.as_millis(), server.0.id());
    let pid = server.0.id();

    let members = phones.len();
    let phones = Arc::new(phones);
    let cookies: Arc<Mutex<Vec<Option<String>>>> = Arc::new(Mutex::new(vec![None; members]));
    let (c, b, p, k) = (client.clone(), base.clone(), phones.clone(), cookies.clone());
    let sign_ins = support::load("POST /m/login (sign-in)", members, SIGN_IN_CONCURRENCY, move |i| {
        let (c, b, p, k) = (c.clone(), b.clone(), p.clone(), k.clone());
        async move {
            let cookie = sign_in(&c, &b, &p[i]).await;
            let ok = cookie.is_some();
            k.lock().unwrap()[i] = cookie;
            ok
        }
    })
    .await;
    let cookies: Arc<Vec<String>> =
        Arc::new(cookies.lock().unwrap().iter().map(|c| c.clone().unwrap_or_default()).collect());

    let (c, b, k) = (client.clone(), base.clone(), cookies.clone());
    drop(
        support::load("warm-up", 1000, CONCURRENCY, move |i| {
            let (c, b, k) = (c.clone(), b.clone(), k.clone());
            async move { read_page(&c, format!("{b}/m"), &k[i % k.len()], "接下来的值班").await }
        })
        .await,
    );
    let (c, b, k) = (client.clone(), base.clone(), cookies.clone());
    let (today, today_cpu) = metered(
        pid,
        support::load("GET /m (首页)", PAGE_READS, CONCURRENCY, move |i| {
            let (c, b, k) = (c.clone(), b.clone(), k.clone());
            async move { read_page(&c, format!("{b}/m"), &k[i % k.len()], "接下来的值班").await }
        }),
    )
    .await;
    let (c, b, k) = (client.clone(), base.clone(), cookies.clone());
    let (inbox, inbox_cpu) = metered(
        pid,
        support::load("GET /m/inbox (接待)", PAGE_READS, CONCURRENCY, move |i| {
            let (c, b, k) = (c.clone(), b.clone(), k.clone());
            async move { read_page(&c, format!("{b}/m/inbox"), &k[i % k.len()], "<h1>接待</h1>").await }
        }),
    )
    .await;
    server.stop();

    println!(
        "\nmember pages under load ({backend}, the demo county: {members} members signed in, {CONCURRENCY} connections)"
    );
    sign_ins.print(None);
    today.print(None);
    inbox.print(None);
    println!("CPU per request, µs (user + system, from /proc): server, database server, load generator");
    for (f, cpu) in [(&today, today_cpu), (&inbox, inbox_cpu)] {
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
    PagesRun { backend, members, sign_in: sign_ins, today, inbox }
}
