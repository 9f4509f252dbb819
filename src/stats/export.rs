//! The statistics as files: CSV (UTF-8 with a byte-order mark, so Excel reads the Chinese
//! headers right) and XLSX (a sheet named after the period, a title row, Chinese headers).
//! Plain functions of the rows, for the API and the console alike.

use actix_web::HttpResponse;
use actix_web::http::header::{Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue};
use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

use super::period::Period;
use super::views::{ExportFormat, MemberStats, VenueStats};
use crate::error::ApiError;

/// The media type of an XLSX workbook.
pub const XLSX_MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// The media type of the CSV files.
pub const CSV_MEDIA_TYPE: &str = "text/csv; charset=utf-8";
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One cell's value.
enum Cell {
    Text(String),
    Count(u32),
    /// A decimal that may be missing (an average over nothing): empty cell.
    Decimal(Option<f64>),
}

impl Cell {
    /// The CSV form. Text that a spreadsheet would take for a formula is quoted with `'`.
    fn csv(&self) -> String {
        match self {
            Cell::Text(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{s}"),
            Cell::Text(s) => s.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Decimal(Some(x)) => x.to_string(),
            Cell::Decimal(None) => String::new(),
        }
    }
}

type Column<R> = (&'static str, f64, fn(&R) -> Cell);

/// The members' columns: header, XLSX width, value.
pub const MEMBER_HEADERS: [&str; 13] = [
    "委员",
    "所属工作室",
    "应值班",
    "出勤",
    "迟到",
    "缺勤",
    "请假/调班",
    "收集事项",
    "答复咨询",
    "平均答复时长(小时)",
    "超期事项",
    "得分",
    "排名",
];

fn member_columns() -> [Column<MemberStats>; 13] {
    let h = MEMBER_HEADERS;
    [
        (h[0], 12.0, |r| Cell::Text(r.name.clone())),
        (h[1], 22.0, |r| Cell::Text(r.home_venue.clone().unwrap_or_default())),
        (h[2], 8.0, |r| Cell::Count(r.scheduled)),
        (h[3], 8.0, |r| Cell::Count(r.present)),
        (h[4], 8.0, |r| Cell::Count(r.late)),
        (h[5], 8.0, |r| Cell::Count(r.absent)),
        (h[6], 10.0, |r| Cell::Count(r.excused)),
        (h[7], 10.0, |r| Cell::Count(r.items_collected)),
        (h[8], 10.0, |r| Cell::Count(r.consultations_answered)),
        (h[9], 20.0, |r| Cell::Decimal(r.avg_reply_hours)),
        (h[10], 10.0, |r| Cell::Count(r.overdue)),
        (h[11], 8.0, |r| Cell::Decimal(Some(r.score))),
        (h[12], 8.0, |r| Cell::Count(r.rank)),
    ]
}

/// The venues' columns.
pub const VENUE_HEADERS: [&str; 10] =
    ["工作室", "应值班", "出勤", "迟到", "缺勤", "请假/调班", "收到事项", "答复咨询", "平均答复时长(小时)", "超期事项"];

fn venue_columns() -> [Column<VenueStats>; 10] {
    let h = VENUE_HEADERS;
    [
        (h[0], 24.0, |r| Cell::Text(r.name.clone())),
        (h[1], 8.0, |r| Cell::Count(r.scheduled)),
        (h[2], 8.0, |r| Cell::Count(r.present)),
        (h[3], 8.0, |r| Cell::Count(r.late)),
        (h[4], 8.0, |r| Cell::Count(r.absent)),
        (h[5], 10.0, |r| Cell::Count(r.excused)),
        (h[6], 10.0, |r| Cell::Count(r.items_received)),
        (h[7], 10.0, |r| Cell::Count(r.consultations_answered)),
        (h[8], 20.0, |r| Cell::Decimal(r.avg_reply_hours)),
        (h[9], 10.0, |r| Cell::Count(r.overdue)),
    ]
}

fn csv<R>(columns: &[Column<R>], rows: &[R]) -> Vec<u8> {
    let mut out = BOM.to_vec();
    {
        let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(&mut out);
        // Writing into a Vec cannot fail.
        let _ = writer.write_record(columns.iter().map(|c| c.0));
        for row in rows {
            let _ = writer.write_record(columns.iter().map(|c| (c.2)(row).csv()));
        }
        let _ = writer.flush();
    }
    out
}

fn xlsx<R>(title: &str, sheet: &str, columns: &[Column<R>], rows: &[R]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let ws = workbook.add_worksheet();
    ws.set_name(sheet)?;
    let title_format = Format::new().set_bold().set_font_size(14).set_align(FormatAlign::Center);
    let header = Format::new().set_bold().set_align(FormatAlign::Center).set_background_color("#DDEBF7");
    let decimal = Format::new().set_num_format("0.00");
    let last_col = u16::try_from(columns.len().saturating_sub(1)).unwrap_or(0);
    ws.merge_range(0, 0, 0, last_col, title, &title_format)?;
    for (col, (name, width, _)) in columns.iter().enumerate() {
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        ws.write_string_with_format(1, col, *name, &header)?;
        ws.set_column_width(col, *width)?;
    }
    ws.set_freeze_panes(2, 0)?;
    for (i, row) in rows.iter().enumerate() {
        let r = u32::try_from(i + 2).map_err(|_| XlsxError::RowColumnLimitError)?;
        for (col, (_, _, value)) in columns.iter().enumerate() {
            let col = u16::try_from(col).unwrap_or(u16::MAX);
            match value(row) {
                Cell::Text(s) => {
                    ws.write_string(r, col, s)?;
                }
                Cell::Count(n) => {
                    ws.write_number(r, col, n)?;
                }
                Cell::Decimal(Some(x)) => {
                    ws.write_number_with_format(r, col, x, &decimal)?;
                }
                Cell::Decimal(None) => {}
            }
        }
    }
    workbook.save_to_buffer()
}

/// The members' title: `2026年第四季度委员履职统计`.
pub fn members_title(period: &Period) -> String {
    format!("{}委员履职统计", period.label_zh())
}

/// The venues' title: `2026年第四季度工作室履职统计`.
pub fn venues_title(period: &Period) -> String {
    format!("{}工作室履职统计", period.label_zh())
}

/// The ASCII file name: `zhiban-members-2026-Q4.xlsx`.
pub fn filename(report: &str, period: &Period, extension: &str) -> String {
    format!("zhiban-{report}-{period}.{extension}")
}

pub fn members_csv(_period: &Period, rows: &[MemberStats]) -> Vec<u8> {
    csv(&member_columns(), rows)
}

pub fn members_xlsx(period: &Period, rows: &[MemberStats]) -> Result<Vec<u8>, ApiError> {
    xlsx(&members_title(period), &period.label_zh(), &member_columns(), rows).map_err(ApiError::unexpected)
}

pub fn venues_csv(_period: &Period, rows: &[VenueStats]) -> Vec<u8> {
    csv(&venue_columns(), rows)
}

pub fn venues_xlsx(period: &Period, rows: &[VenueStats]) -> Result<Vec<u8>, ApiError> {
    xlsx(&venues_title(period), &period.label_zh(), &venue_columns(), rows).map_err(ApiError::unexpected)
}

/// A report file (`csv` or `xlsx`) as an attachment named `zhiban-{report}-{period}.{ext}`,
/// with `title` as the Chinese name. Used by the API and the console's export buttons.
pub fn download(report: &str, title: &str, period: &Period, format: ExportFormat, body: Vec<u8>) -> HttpResponse {
    let (media_type, extension) = match format {
        ExportFormat::Xlsx => (XLSX_MEDIA_TYPE, "xlsx"),
        _ => (CSV_MEDIA_TYPE, "csv"),
    };
    attachment(media_type, filename(report, period, extension), format!("{title}.{extension}"), body)
}

/// An attachment: the ASCII name, and the Chinese one as RFC 5987 `filename*`.
fn attachment(media_type: &str, ascii_name: String, chinese_name: String, body: Vec<u8>) -> HttpResponse {
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii_name),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".to_owned()),
                language_tag: None,
                value: chinese_name.into_bytes(),
            }),
        ],
    };
    HttpResponse::Ok().content_type(media_type).insert_header(disposition).body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str) -> MemberStats {
        MemberStats {
            member_id: 1,
            name: name.to_owned(),
            home_venue_id: Some(1),
            home_venue: Some("昆阳镇委员工作室".to_owned()),
            scheduled: 3,
            present: 1,
            late: 1,
            absent: 1,
            excused: 0,
            unconfirmed_present: 0,
            items_collected: 2,
            consultations_answered: 1,
            avg_reply_hours: Some(1.5),
            overdue: 0,
            score: 3.0,
            rank: 1,
        }
    }

    #[test]
    fn csv_has_a_bom_chinese_headers_and_defused_text() {
        let period = Period::parse("2026-Q4").unwrap();
        let bytes = members_csv(&period, &[member("张三"), member("=HYPERLINK(\"x\")")]);
        assert!(bytes.starts_with(BOM));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), MEMBER_HEADERS.join(","));
        assert_eq!(lines.next().unwrap(), "张三,昆阳镇委员工作室,3,1,1,1,0,2,1,1.5,0,3,1");
        assert!(lines.next().unwrap().starts_with("\"'=HYPERLINK"));
    }

    #[test]
    fn xlsx_is_a_zip() {
        let period = Period::parse("2026").unwrap();
        let bytes = members_xlsx(&period, &[member("张三")]).unwrap();
        assert!(bytes.starts_with(b"PK"));
        assert!(venues_xlsx(&period, &[]).unwrap().starts_with(b"PK"));
    }
}
