//! The `zhiban` command line.

use chrono::NaiveDateTime;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{SecretPolicy, Settings};
use crate::db;
use crate::startup::Application;

#[derive(Debug, Parser)]
#[command(
    name = "zhiban",
    version,
    about = "值班 — duty rosters, QR check-in and residents' items for a CPPCC committee"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create the demo county if the database is empty, print the logins, and serve.
    Demo,
    /// Open a committee with its first admin (password from ZHIBAN_ADMIN_PASSWORD).
    CreateCommittee {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "Asia/Shanghai")]
        timezone: String,
        #[arg(long)]
        admin_name: String,
        #[arg(long)]
        admin_phone: String,
    },
    /// Import members from a CSV file, all lines or none.
    ImportMembers {
        file: PathBuf,
        /// The committee's code, e.g. `pingyang`.
        #[arg(long)]
        committee: String,
    },
    /// Print the OpenAPI document (the committed api-spec/openapi.json).
    Openapi,
    /// Write a consistent copy of the SQLite database to FILE, while the server runs.
    Backup { file: PathBuf },
    /// Restore a backup FILE into the new SQLite database DATABASE_URL names, then migrate it.
    Restore { file: PathBuf },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            print!("{}", crate::openapi::document_json());
            Ok(())
        }
        Command::Serve => serve(load(SecretPolicy::Required)?).await,
        Command::Demo => demo(load(SecretPolicy::DemoAllowed)?).await,
        Command::Migrate => {
            let settings = load(SecretPolicy::DemoAllowed)?;
            let pool = db::connect(&settings.database, 1)?;
            let applied = db::run_migrations(&mut *pool.get()?).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{applied} migration(s) applied to {}", settings.database.redacted());
            Ok(())
        }
        Command::CreateCommittee { code, name, timezone, admin_name, admin_phone } => {
            let settings = load(SecretPolicy::DemoAllowed)?;
            create_committee(&settings, &code, &name, &timezone, &admin_name, &admin_phone, settings.clock.now_naive())
        }
        Command::ImportMembers { file, committee } => {
            let settings = load(SecretPolicy::DemoAllowed)?;
            import_members(&settings, &file, &committee, settings.clock.now_naive())
        }
        Command::Backup { file } => {
            let summary = db::backup::backup(&load(SecretPolicy::DemoAllowed)?.database, &file)?;
            println!("backup written: {summary}");
            Ok(())
        }
        Command::Restore { file } => {
            let summary = db::backup::restore(&file, &load(SecretPolicy::DemoAllowed)?.database)?;
            println!("restored into {summary}");
            Ok(())
        }
    }
}

fn load(policy: SecretPolicy) -> anyhow::Result<Settings> {
    let settings = Settings::from_env(policy)?;
    crate::telemetry::init(settings.log_format);
    Ok(settings)
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    if settings.public_url.is_none() {
        tracing::warn!(
            "ZHIBAN_PUBLIC_URL is not set: QR codes, posters and tracking links will name whatever host \
             each request was sent to; set it to the address residents and members reach"
        );
    }
    let app = Application::build(settings.clone()).await?;
    tracing::info!(bind = %settings.bind, port = app.port(), database = %settings.database.redacted(), "zhiban listening");
    app.run_until_stopped().await?;
    Ok(())
}

async fn demo(settings: Settings) -> anyhow::Result<()> {
    // The county is written before the server and its worker start, so nothing else waits
    // on (or is refused by) the long first write.
    let location = settings.database.clone();
    let now = settings.clock.now_naive();
    let county = actix_web::web::block(move || -> anyhow::Result<crate::demo::DemoCounty> {
        let pool = db::connect(&location, 1)?;
        let mut conn = pool.get()?;
        db::run_migrations(&mut conn).map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
        if crate::demo::demo_committee(&mut conn)? == crate::demo::DemoDatabase::NotTheDemos {
            anyhow::bail!("zhiban demo refuses {}: {}", location.redacted(), crate::demo::NOT_A_DEMO_DATABASE);
        }
        crate::demo::ensure(&mut conn, now).map_err(|e| anyhow::anyhow!("demo county: {e}"))
    })
    .await??;
    let app = Application::build(settings.clone()).await?;
    let base = settings.public_url.clone().unwrap_or_else(|| format!("http://{}:{}", settings.bind.ip(), app.port()));
    let calendars = if county.provisional_years.is_empty() {
        "official holiday calendars for every year of it".to_owned()
    } else {
        let years: Vec<String> = county.provisional_years.iter().map(i32::to_string).collect();
        format!(
            "no official holiday calendar yet for {}: weekends only there, until the office enters it at {base}/console/calendar",
            years.join(", ")
        )
    };
    let displays: String = county
        .displays
        .iter()
        .map(|(name, path)| format!("  Display      {base}{path}   ({name}; the token in the link is the device's)\n"))
        .collect();
    println!(
        "\n  zhiban demo — 平阳县政协: {venues} venues, {members} members, rosters published {from} to {to}\n  \
         ({calendars})\n\n  \
         Members      {base}/m   (委员 on their phones, in WeChat, DingTalk or any browser: sign in below)\n  \
         Console      {base}/console   (coordinators and the office, in a browser: sign in below)\n  \
         API          {base}/api/v1\n  \
         OpenAPI      {base}/api-spec/openapi.json\n  \
         Health       {base}/health   Ready {base}/ready   Metrics {base}/metrics\n  \
         Resident     {base}/r/{first_venue}   (the page behind a studio's printed QR; no login)\n\
         {displays}\n  \
         Sign in (phone / password):\n  \
         admin        {admin} / {pw}\n  \
         coordinator  {coord} / {pw}   ({coord_venue})\n  \
         member       {member} / {pw}   ({member_venue})\n  \
         \x20            on duty at the CPPCC Home 30 minutes from now, check-in open: scan the Home display\n  \
         \x20            with the phone's camera (it opens {base}/m/c/…), or sign in at {base}/m\n\n  \
         Try:\n  \
         curl -s {base}/api/v1/auth/login -H 'content-type: application/json' \\\n    \
         -d '{{\"phone\":\"{admin}\",\"password\":\"{pw}\"}}'\n  \
         then: curl -s {base}/api/v1/venues -H \"authorization: Bearer $ACCESS_TOKEN\"\n",
        venues = county.venue_codes.len(),
        first_venue = county.venue_codes[0],
        members = county.members,
        from = county.period.0,
        to = county.period.1,
        admin = county.admin_phone,
        coord = county.coordinator_phone,
        coord_venue = county.coordinator_venue,
        member = county.member_phone,
        member_venue = county.member_venue,
        pw = crate::demo::PASSWORD,
    );
    if settings.jwt_secret.expose() == crate::config::DEMO_JWT_SECRET.as_bytes() {
        tracing::warn!("running with the published demo JWT secret: for demonstration only");
    }
    app.run_until_stopped().await?;
    Ok(())
}

fn create_committee(
    settings: &Settings,
    code: &str,
    name: &str,
    timezone: &str,
    admin_name: &str,
    admin_phone: &str,
    now: NaiveDateTime,
) -> anyhow::Result<()> {
    use crate::domain::{Password, PersonName, Phone, Timezone, VenueCode};
    let password = std::env::var("ZHIBAN_ADMIN_PASSWORD")
        .map_err(|_| anyhow::anyhow!("set ZHIBAN_ADMIN_PASSWORD to the first admin's password (8+ characters)"))?;
    let code_checked = VenueCode::parse(code).map_err(|e| anyhow::anyhow!("--code: {e}"))?;
    let new = crate::committee::NewCommittee {
        code: code_checked.as_str(),
        name,
        timezone: Timezone::parse(timezone).map_err(|e| anyhow::anyhow!("--timezone: {e}"))?,
        admin_name: PersonName::parse(admin_name).map_err(|e| anyhow::anyhow!("--admin-name: {e}"))?,
        admin_phone: Phone::parse(admin_phone).map_err(|e| anyhow::anyhow!("--admin-phone: {e}"))?,
        admin_password: Password::parse(&password).map_err(|e| anyhow::anyhow!("ZHIBAN_ADMIN_PASSWORD: {e}"))?,
    };
    let pool = db::connect(&settings.database, 1)?;
    let mut conn = pool.get()?;
    db::run_migrations(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))?;
    let created = crate::committee::create(&mut conn, new, now).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("committee {code} created (id {}), admin id {}", created.committee_id, created.admin_id);
    Ok(())
}

fn import_members(
    settings: &Settings,
    file: &std::path::Path,
    committee: &str,
    now: NaiveDateTime,
) -> anyhow::Result<()> {
    use diesel::prelude::*;
    let data = std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    if data.len() > crate::members::import::MAX_IMPORT_BYTES {
        anyhow::bail!("{} is larger than {} bytes", file.display(), crate::members::import::MAX_IMPORT_BYTES);
    }
    let pool = db::connect(&settings.database, 1)?;
    let mut conn = pool.get()?;
    db::run_migrations(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))?;
    let committee_id: i64 = crate::schema::committees::table
        .filter(crate::schema::committees::code.eq(committee))
        .select(crate::schema::committees::id)
        .first(&mut *conn)
        .optional()?
        .ok_or_else(|| anyhow::anyhow!("no committee with code {committee:?}"))?;
    let codes = crate::venues::store::ids_by_code(&mut conn, committee_id)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .into_iter()
        .collect();
    let lines = match crate::members::import::parse(&data, &codes) {
        Ok(lines) => lines,
        Err(e) => {
            for err in &e.errors {
                eprintln!(
                    "{}:{}:{}: {} ({}): {}",
                    file.display(),
                    err.line.unwrap_or(0),
                    err.column.unwrap_or(0),
                    err.field,
                    err.reason,
                    err.message
                );
            }
            anyhow::bail!("{} error(s); nothing was imported", e.errors.len());
        }
    };
    let bar = indicatif::ProgressBar::new(lines.len() as u64)
        .with_style(indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} members").expect("valid template"));
    let result = crate::members::import::store(&mut conn, committee_id, lines, &|n| bar.set_position(n), now);
    bar.finish_and_clear();
    match result {
        Ok(n) => {
            println!("{n} members imported into {committee}");
            Ok(())
        }
        Err(e) => {
            for err in &e.errors {
                eprintln!(
                    "{}:{}: {} ({}): {}",
                    file.display(),
                    err.line.unwrap_or(0),
                    err.field,
                    err.reason,
                    err.message
                );
            }
            anyhow::bail!("{e}; nothing was imported")
        }
    }
}
