//! Member CSV import, shared by `POST /api/v1/members/import` and `zhiban import-members`.
//! All-or-nothing: every line is checked first; one bad cell and nothing is written.
//!
//! Columns (header required, order free): `name`, `phone`, `sector`, `home_venue_code`
//! (empty: the roving pool), `standing_committee` (是/否, yes/no, true/false, 1/0),
//! `roles` (default `member`; several separated by `|`), `password` (optional).

use chrono::NaiveDateTime;
use std::collections::{HashMap, HashSet};

use crate::auth::password;
use crate::db::DbConnection;
use crate::domain::{Password, PersonName, Phone, Roles, Sector};
use crate::error::{ApiError, ErrorCode, FieldError};

use super::store::{self, NewMember};

pub const MAX_IMPORT_BYTES: usize = 2 * 1024 * 1024;
const COLUMNS: [&str; 7] = ["name", "phone", "sector", "home_venue_code", "standing_committee", "roles", "password"];
const REQUIRED: [&str; 2] = ["name", "phone"];

/// A line that passed every check, with where it came from.
#[derive(Debug)]
pub struct ParsedLine {
    pub line: u64,
    pub member: NewMember,
    password: Option<Password>,
}

fn cell_error(line: u64, column: usize, field: &str, reason: &str, message: impl Into<String>) -> FieldError {
    FieldError { line: Some(line), column: Some(column as u64 + 1), ..FieldError::new(field, reason, message) }
}

fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_lowercase().as_str() {
        "" | "否" | "no" | "false" | "0" | "n" => Some(false),
        "是" | "yes" | "true" | "1" | "y" => Some(true),
        _ => None,
    }
}

/// Parses and checks the whole file against the committee's venue codes.
pub fn parse(data: &[u8], venue_codes: &HashMap<String, i64>) -> Result<Vec<ParsedLine>, ApiError> {
    let fail = |errors: Vec<FieldError>| {
        let mut e = ApiError::validation(errors);
        e.code = ErrorCode::ImportFailed;
        e
    };
    let data = data.strip_prefix("\u{feff}".as_bytes()).unwrap_or(data); // Excel's UTF-8 BOM
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(data);
    let headers = reader
        .headers()
        .map_err(|e| fail(vec![cell_error(1, 0, "header", "unreadable", format!("cannot read the header: {e}"))]))?
        .clone();
    let mut index = HashMap::new();
    let mut errors = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let h = h.trim().to_lowercase();
        if !COLUMNS.contains(&h.as_str()) {
            errors.push(cell_error(
                1,
                i,
                &h,
                "unknown_column",
                format!("unknown column; expected some of {}", COLUMNS.join(", ")),
            ));
        } else if index.insert(h.clone(), i).is_some() {
            errors.push(cell_error(1, i, &h, "duplicate_column", "column appears twice"));
        }
    }
    for required in REQUIRED {
        if !index.contains_key(required) {
            errors.push(cell_error(
                1,
                0,
                required,
                "missing_column",
                format!("the header needs a `{required}` column"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(fail(errors));
    }

    let mut lines = Vec::new();
    let mut seen_phones: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                errors.push(cell_error(line, 0, "line", "malformed", format!("cannot read this line: {e}")));
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let cell = |name: &str| index.get(name).map(|&i| (i, record.get(i).unwrap_or("")));
        let mut line_errors = Vec::new();
        let mut take = |name: &str, check: &mut dyn FnMut(&str) -> Result<(), crate::domain::Invalid>| {
            if let Some((i, value)) = cell(name)
                && let Err(e) = check(value)
            {
                line_errors.push(cell_error(line, i, name, e.reason, e.message));
            }
        };

        let mut name = None;
        take("name", &mut |v| PersonName::parse(v).map(|n| name = Some(n.into_inner())));
        let mut phone = None;
        take("phone", &mut |v| Phone::parse(v).map(|p| phone = Some(p.as_str().to_owned())));
        let mut sector = None;
        take("sector", &mut |v| {
            if v.is_empty() { Ok(()) } else { Sector::parse(v).map(|s| sector = Some(s.into_inner())) }
        });
        let mut home_venue_id = None;
        take("home_venue_code", &mut |v| match v {
            "" => Ok(()),
            code => venue_codes
                .get(&code.to_lowercase())
                .map(|id| home_venue_id = Some(*id))
                .ok_or_else(|| crate::domain::Invalid::new("unknown_venue", format!("no venue with code {code:?}"))),
        });
        let mut standing = false;
        take("standing_committee", &mut |v| {
            parse_bool(v)
                .map(|b| standing = b)
                .ok_or_else(|| crate::domain::Invalid::new("invalid_format", "use 是/否, yes/no, true/false or 1/0"))
        });
        let mut roles = Roles::parse_list("member").expect("member is a role");
        take("roles", &mut |v| {
            if v.is_empty() { Ok(()) } else { Roles::parse_list(v).map(|r| roles = r) }
        });
        let mut password = None;
        take("password", &mut |v| {
            if v.is_empty() { Ok(()) } else { Password::parse(v).map(|p| password = Some(p)) }
        });

        if let (Some(p), Some((i, _))) = (&phone, cell("phone"))
            && let Some(first) = seen_phones.insert(p.clone(), line)
        {
            line_errors.push(cell_error(line, i, "phone", "duplicate", format!("same phone as line {first}")));
        }
        if line_errors.is_empty() {
            lines.push(ParsedLine {
                line,
                member: NewMember {
                    name: name.expect("checked"),
                    phone: phone.expect("checked"),
                    sector,
                    home_venue_id,
                    standing_committee: standing,
                    active: true,
                    roles: roles.to_storage(),
                    password_hash: None,
                    coordinator_venue_ids: Vec::new(),
                },
                password,
            });
        }
        errors.extend(line_errors);
    }
    if !errors.is_empty() {
        return Err(fail(errors));
    }
    if lines.is_empty() {
        return Err(fail(vec![cell_error(2, 0, "line", "empty", "the file has no member lines")]));
    }
    Ok(lines)
}

/// Writes every parsed line in one transaction; phones already registered fail the whole
/// import naming their lines. `progress` is told after each line (for the CLI's bar).
pub fn store(
    conn: &mut DbConnection,
    committee_id: i64,
    mut lines: Vec<ParsedLine>,
    progress: &dyn Fn(u64),
    now: NaiveDateTime,
) -> Result<usize, ApiError> {
    let phones: Vec<String> = lines.iter().map(|l| l.member.phone.clone()).collect();
    let taken: HashSet<String> = store::taken_phones(conn, &phones)?.into_iter().collect();
    if !taken.is_empty() {
        let errors = lines
            .iter()
            .filter(|l| taken.contains(&l.member.phone))
            .map(|l| FieldError {
                line: Some(l.line),
                ..FieldError::new("phone", "taken", "this phone number is already registered")
            })
            .collect();
        let mut e = ApiError::validation(errors);
        e.code = ErrorCode::ImportFailed;
        return Err(e);
    }
    for line in &mut lines {
        if let Some(p) = line.password.take() {
            line.member.password_hash = Some(password::hash(&p).map_err(ApiError::unexpected)?);
        }
    }
    let count = lines.len();
    diesel::Connection::transaction(conn, |conn| {
        for (i, line) in lines.iter().enumerate() {
            store::insert(conn, committee_id, &line.member, now)?;
            progress(i as u64 + 1);
        }
        Ok::<_, ApiError>(())
    })?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes() -> HashMap<String, i64> {
        HashMap::from([("py-kunyang".to_owned(), 1)])
    }

    #[test]
    fn good_file_parses() {
        let csv = "name,phone,sector,home_venue_code,standing_committee\n张三,13800000001,经济界,py-kunyang,是\n李四,13800000002,,,否\n";
        let lines = parse(csv.as_bytes(), &codes()).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].member.home_venue_id, Some(1));
        assert!(lines[0].member.standing_committee);
        assert_eq!(lines[1].member.home_venue_id, None);
        assert_eq!(lines[1].line, 3);
    }

    #[test]
    fn errors_name_line_and_column() {
        let csv = "name,phone,home_venue_code\n张三,13800000001,py-kunyang\n李四,12345,nowhere\n";
        let err = parse(csv.as_bytes(), &codes()).unwrap_err();
        assert_eq!(err.code, ErrorCode::ImportFailed);
        let cells: Vec<_> = err.errors.iter().map(|e| (e.line, e.column, e.field.as_str())).collect();
        assert_eq!(cells, vec![(Some(3), Some(2), "phone"), (Some(3), Some(3), "home_venue_code")]);
    }

    #[test]
    fn header_problems_are_reported() {
        let err = parse("name,telephone\n".as_bytes(), &codes()).unwrap_err();
        let reasons: Vec<_> = err.errors.iter().map(|e| e.reason.as_str()).collect();
        assert_eq!(reasons, vec!["unknown_column", "missing_column"]);
    }
}
