//! The demo county: Pingyang's 16 township member studios and the CPPCC Home, 300 synthetic
//! members, an admin and a coordinator per studio. Deterministic: every run makes the same
//! people with the same phones, so the printed logins always work.

mod history;
mod rosters;

use chrono::NaiveDateTime;
use chrono_tz::Asia::Shanghai;

use crate::auth::password;
use crate::db::DbConnection;
use crate::domain::{Password, PersonName, Phone, Role, Roles, Timezone, VenueKind};
use crate::error::ApiError;
use crate::members::store::{self as members, NewMember};
use crate::venues::store::{self as venues, NewVenue};

pub const COMMITTEE_CODE: &str = "pingyang";
pub const PASSWORD: &str = "zhiban-demo";
pub const ADMIN_PHONE: &str = "13900000000";
const HOME_CODE: &str = "py-home";
const MEMBERS_PER_STUDIO: usize = 18;
const ROVING_MEMBERS: usize = 12;

/// (township, pinyin for the venue code, latitude, longitude)
pub const TOWNSHIPS: [(&str, &str, f64, f64); 16] = [
    ("昆阳镇", "kunyang", 27.6617, 120.5650),
    ("鳌江镇", "aojiang", 27.6010, 120.5530),
    ("水头镇", "shuitou", 27.6860, 120.4240),
    ("萧江镇", "xiaojiang", 27.6300, 120.4850),
    ("万全镇", "wanquan", 27.6340, 120.6170),
    ("腾蛟镇", "tengjiao", 27.7070, 120.4950),
    ("麻步镇", "mabu", 27.6160, 120.4400),
    ("山门镇", "shanmen", 27.7330, 120.3460),
    ("顺溪镇", "shunxi", 27.6840, 120.2980),
    ("南雁镇", "nanyan", 27.6530, 120.3340),
    ("海西镇", "haixi", 27.5690, 120.6250),
    ("南麂镇", "nanji", 27.4660, 121.0850),
    ("凤卧镇", "fengwo", 27.7520, 120.4080),
    ("怀溪镇", "huaixi", 27.6380, 120.3850),
    ("闹村乡", "naocun", 27.7180, 120.4530),
    ("青街畲族乡", "qingjie", 27.6250, 120.2760),
];

/// The CPPCC Home's address in the demo (synthetic, like every address of the demo county).
const HOME_ADDRESS: &str = "平阳县昆阳镇县政协大楼一楼";

/// A studio's address in the demo: synthetic, in the form a member is told the way (studios
/// usually sit in the township's public service centre).
fn studio_address(town: &str) -> String {
    format!("平阳县{town}便民服务中心二楼")
}

const SECTORS: [&str; 14] = [
    "中国共产党",
    "民革",
    "民盟",
    "民建",
    "民进",
    "农工党",
    "九三学社",
    "无党派人士",
    "经济界",
    "农业界",
    "教育界",
    "科技界",
    "医药卫生界",
    "社会福利和社会保障界",
];

const SURNAMES: [&str; 40] = [
    "林", "陈", "黄", "王", "张", "李", "杨", "郑", "吴", "周", "蔡", "徐", "叶", "潘", "谢", "苏", "金", "刘", "胡",
    "章", "朱", "高", "何", "郭", "梁", "宋", "唐", "许", "余", "曾", "彭", "董", "方", "施", "孙", "钟", "应", "缪",
    "温", "姜",
];

const GIVEN_NAMES: [&str; 61] = [
    "建国", "伟", "芳", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
    "秀兰", "霞", "平", "刚", "桂英", "晓东", "海燕", "志强", "文华", "国庆", "春梅", "玉兰", "永明", "建华", "丽华",
    "晓燕", "德胜", "海峰", "振华", "雪梅", "立新", "红霞", "金龙", "美玲", "思远", "慧敏", "家豪", "婷婷", "子涵",
    "浩然", "雅琴", "建平", "国华", "鸿飞", "晓光", "素芬", "卫东", "凌云", "瑞霖", "秋菊", "宏伟", "一鸣", "佳怡",
];

/// The n-th synthetic name; a stride coprime with the number of combinations keeps names
/// distinct and spread over surnames.
fn person_name(n: usize) -> String {
    let combos = SURNAMES.len() * GIVEN_NAMES.len(); // 2440
    let k = (n * 1031 + 7) % combos;
    format!("{}{}", SURNAMES[k % SURNAMES.len()], GIVEN_NAMES[k / SURNAMES.len()])
}

pub struct DemoCounty {
    pub committee_id: i64,
    pub admin_phone: String,
    pub coordinator_phone: String,
    pub coordinator_venue: String,
    pub member_phone: String,
    pub member_venue: String,
    pub venue_codes: Vec<String>,
    pub members: usize,
    /// The published period around the day the demo was made.
    pub period: (chrono::NaiveDate, chrono::NaiveDate),
    /// Years of that period with no official calendar (weekends only, flagged as provisional).
    pub provisional_years: Vec<i32>,
    /// (venue name, path of its display page with a device token) for the CPPCC Home and the
    /// printed member's studio: fresh tokens at every start, as the old ones are stored hashed.
    pub displays: Vec<(String, String)>,
}

/// Why `zhiban demo` refuses a database.
pub const NOT_A_DEMO_DATABASE: &str = "this database was not created by `zhiban demo`: the demo signs tokens with a \
     published secret, so it serves only a database it created itself (a forged token of any committee on it \
     would work). Start the demo on an empty database — move the SQLite file aside, or point DATABASE_URL at an \
     empty one — and serve real committees with `zhiban serve` and a secret of your own";

/// What a database is to the demo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoDatabase {
    /// No committee yet: the demo creates its county.
    Empty,
    /// Created by the demo (its `demo_database` row) and holding only its county.
    Demo(i64),
    /// Anything else: the demo refuses it.
    NotTheDemos,
}

pub fn demo_committee(conn: &mut DbConnection) -> Result<DemoDatabase, ApiError> {
    use crate::schema::demo_database;
    use diesel::prelude::*;
    let marker: Option<i64> = demo_database::table.select(demo_database::committee_id).first(conn).optional()?;
    Ok(match (marker, crate::committee::count(conn)?) {
        (None, 0) => DemoDatabase::Empty,
        // The marker's committee exists (a foreign key): with one committee, it is that one.
        (Some(id), 1) => DemoDatabase::Demo(id),
        _ => DemoDatabase::NotTheDemos,
    })
}

/// Creates the demo county around `now` on an empty database; on a database the demo created
/// (its `demo_database` row, written with the county, and no other committee) reuses it.
/// Either way returns what to print. Any other database — a real committee's, even one coded
/// `pingyang`, or the demo's with another committee added — is refused
/// ([`NOT_A_DEMO_DATABASE`]): the demo runs with the published JWT secret.
pub fn ensure(conn: &mut DbConnection, now: NaiveDateTime) -> Result<DemoCounty, ApiError> {
    let committee_id = match demo_committee(conn)? {
        DemoDatabase::Empty => create(conn, now)?,
        DemoDatabase::Demo(id) => id,
        DemoDatabase::NotTheDemos => return Err(ApiError::unexpected(anyhow::anyhow!(NOT_A_DEMO_DATABASE))),
    };
    let tz = crate::committee::timezone(conn, committee_id)?;
    let today = crate::committee::local_date(tz, now);
    if !rosters::covers(conn, committee_id, today)? {
        tracing::warn!(%today, "the demo's rosters do not cover today: start on an empty data folder to lay them around today");
    }
    let period = rosters::period(today);
    let provisional_years = crate::calendar::store::missing_years(conn, committee_id, period.0, period.1)?;
    let mut displays = Vec::new();
    let admin = rosters::member_id(conn, committee_id, ADMIN_PHONE)?;
    for code in [HOME_CODE.to_owned(), format!("py-{}", TOWNSHIPS[0].1)] {
        let venue = venues::find_by_code(conn, committee_id, &code)?;
        let (_, token) =
            crate::checkin::display::register_device(conn, committee_id, venue.id, "演示显示屏", admin, now)?;
        displays.push((venue.name, format!("/display/{code}?device={token}")));
    }
    Ok(DemoCounty {
        committee_id,
        admin_phone: ADMIN_PHONE.to_owned(),
        coordinator_phone: coordinator_phone(0),
        coordinator_venue: format!("{}委员工作室", TOWNSHIPS[0].0),
        member_phone: member_phone(0),
        member_venue: format!("{}委员工作室", TOWNSHIPS[0].0),
        venue_codes: TOWNSHIPS.iter().map(|t| format!("py-{}", t.1)).chain([HOME_CODE.to_owned()]).collect(),
        members: TOWNSHIPS.len() * MEMBERS_PER_STUDIO + ROVING_MEMBERS,
        period,
        provisional_years,
        displays,
    })
}

fn coordinator_phone(i: usize) -> String {
    format!("136{:08}", i + 1)
}

fn member_phone(i: usize) -> String {
    format!("137{:08}", i + 1)
}

fn create(conn: &mut DbConnection, now: NaiveDateTime) -> Result<i64, ApiError> {
    use diesel::prelude::*;
    let demo_password = Password::parse(PASSWORD).expect("demo password is valid");
    // One hash for every demo account: argon2 is slow by design and these are synthetic.
    let hash = password::hash(&demo_password).map_err(ApiError::unexpected)?;
    // The committee and the mark that the demo made this database, together.
    let created = diesel::Connection::transaction(conn, |conn| -> Result<_, ApiError> {
        let created = crate::committee::create(
            conn,
            crate::committee::NewCommittee {
                code: COMMITTEE_CODE,
                name: "平阳县政协",
                timezone: Timezone(Shanghai),
                admin_name: PersonName::parse("政协办公室").expect("valid"),
                admin_phone: Phone::parse(ADMIN_PHONE).expect("valid"),
                admin_password: demo_password,
            },
            now,
        )?;
        use crate::schema::demo_database;
        diesel::insert_into(demo_database::table)
            .values((
                demo_database::id.eq(1),
                demo_database::committee_id.eq(created.committee_id),
                demo_database::created_at.eq(now),
            ))
            .execute(conn)?;
        Ok(created)
    })?;
    let committee_id = created.committee_id;
    diesel::Connection::transaction(conn, |conn| {
        let mut studio_ids = Vec::new();
        for (town, pinyin, lat, lng) in TOWNSHIPS {
            let id = venues::insert(
                conn,
                committee_id,
                &NewVenue {
                    kind: VenueKind::TownshipStudio.as_str(),
                    name: format!("{town}委员工作室"),
                    township: Some(town.to_owned()),
                    address: Some(studio_address(town)),
                    code: format!("py-{pinyin}"),
                    latitude: Some(lat),
                    longitude: Some(lng),
                    radius_m: Some(200),
                },
                now,
            )?;
            studio_ids.push(id);
        }
        let home_id = venues::insert(
            conn,
            committee_id,
            &NewVenue {
                kind: VenueKind::CppccHome.as_str(),
                name: "平阳县政协之家".to_owned(),
                township: Some("昆阳镇".to_owned()),
                address: Some(HOME_ADDRESS.to_owned()),
                code: HOME_CODE.to_owned(),
                latitude: Some(27.6652),
                longitude: Some(120.5702),
                radius_m: Some(150),
            },
            now,
        )?;

        // Handling units items are referred to: each township government and a few county bureaus.
        let units = TOWNSHIPS.iter().map(|t| (format!("{}人民政府", t.0), "township_government")).chain(
            [
                "县交通运输局",
                "县教育局",
                "县卫生健康局",
                "县住房和城乡建设局",
                "县农业农村局",
                "县人力资源和社会保障局",
            ]
            .into_iter()
            .map(|n| (n.to_owned(), "county_department")),
        );
        for (name, kind) in units {
            diesel::insert_into(crate::schema::handling_units::table)
                .values((
                    crate::schema::handling_units::committee_id.eq(committee_id),
                    crate::schema::handling_units::name.eq(name),
                    crate::schema::handling_units::kind.eq(kind),
                    crate::schema::handling_units::active.eq(true),
                    crate::schema::handling_units::created_at.eq(now),
                ))
                .execute(conn)?;
        }

        let member_roles = Roles::new([Role::Member]).expect("non-empty").to_storage();
        let total = TOWNSHIPS.len() * MEMBERS_PER_STUDIO + ROVING_MEMBERS;
        for i in 0..total {
            let home = studio_ids.get(i / MEMBERS_PER_STUDIO).copied(); // the rest: roving pool
            members::insert(
                conn,
                committee_id,
                &NewMember {
                    name: person_name(i),
                    phone: member_phone(i),
                    // Stride 5 over 14 sectors: neighbours in a studio differ in sector.
                    sector: Some(SECTORS[(i * 5) % SECTORS.len()].to_owned()),
                    home_venue_id: home,
                    standing_committee: i % 8 == 3,
                    active: true,
                    roles: member_roles.clone(),
                    password_hash: Some(hash.clone()),
                    coordinator_venue_ids: Vec::new(),
                },
                now,
            )?;
        }
        let coordinator_roles = Roles::new([Role::Coordinator]).expect("non-empty").to_storage();
        for (i, venue_id) in studio_ids.iter().chain([&home_id]).enumerate() {
            members::insert(
                conn,
                committee_id,
                &NewMember {
                    name: person_name(total + i),
                    phone: coordinator_phone(i),
                    sector: None,
                    home_venue_id: None,
                    standing_committee: false,
                    active: true,
                    roles: coordinator_roles.clone(),
                    password_hash: Some(hash.clone()),
                    coordinator_venue_ids: vec![*venue_id],
                },
                now,
            )?;
        }
        let doc: crate::calendar::CalendarUpload =
            serde_json::from_str(crate::calendar::CHINA_2026_JSON).map_err(ApiError::unexpected)?;
        let source = doc.source.clone();
        let arrangement = doc.into_arrangement(2026)?;
        crate::calendar::store::replace(
            conn,
            committee_id,
            &arrangement,
            source.as_deref(),
            Some(created.admin_id),
            now,
        )?;
        create_templates(conn, committee_id, &studio_ids, home_id, now)?;
        Ok::<_, ApiError>(())
    })?;
    let (roster_id, _) = rosters::publish_period(conn, committee_id, created.admin_id, now)?;
    history::record(conn, committee_id, created.admin_id, now)?;
    let member = rosters::member_id(conn, committee_id, &member_phone(0))?;
    let studio = venues::find_by_code(conn, committee_id, &format!("py-{}", TOWNSHIPS[0].1))?.id;
    let home = venues::find_by_code(conn, committee_id, HOME_CODE)?.id;
    rosters::printed_member_duties(conn, committee_id, roster_id, member, studio, home, now)?;
    Ok(committee_id)
}

/// The reception day at every studio (2–3 members of the studio or the roving pool, on the
/// 25th whatever the calendar says) and CPPCC Home duty (every working day, mornings and
/// afternoons, 1–2 members of the whole committee).
fn create_templates(
    conn: &mut DbConnection,
    committee_id: i64,
    studios: &[i64],
    home: i64,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    use crate::roster::templates::{CreateTemplate, TemplateKind, insert};
    let time = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0).expect("valid time");
    for &studio in studios {
        let reception = CreateTemplate {
            venue_id: studio,
            name: "委员接待日".to_owned(),
            kind: TemplateKind::ReceptionDay,
            rrule: "FREQ=MONTHLY;BYMONTHDAY=25".to_owned(),
            start_time: time(8, 30),
            end_time: time(11, 30),
            head_min: 2,
            head_max: 3,
            head_target: Some(2),
            pool_venue_id: Some(studio),
            include_roving: true,
            holiday_policy: None,
            one_per_member_per_month: None,
            also_on_adjusted_working_days: None,
        };
        insert(conn, committee_id, &reception.validate()?, now)?;
    }
    for (name, start, end) in
        [("政协之家值班（上午）", time(8, 30), time(12, 0)), ("政协之家值班（下午）", time(14, 0), time(17, 30))]
    {
        let home_duty = CreateTemplate {
            venue_id: home,
            name: name.to_owned(),
            kind: TemplateKind::HomeDuty,
            rrule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR".to_owned(),
            start_time: start,
            end_time: end,
            head_min: 1,
            head_max: 2,
            head_target: Some(1),
            pool_venue_id: None,
            include_roving: false,
            holiday_policy: None,
            one_per_member_per_month: None,
            also_on_adjusted_working_days: None,
        };
        insert(conn, committee_id, &home_duty.validate()?, now)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_and_plausible() {
        let names: std::collections::HashSet<_> = (0..400).map(person_name).collect();
        assert_eq!(names.len(), 400);
        assert!(names.iter().all(|n| (2..=3).contains(&n.chars().count())));
    }
}
