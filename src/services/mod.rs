//! Domain services: one module per domain. They take a connection and an actor, check access
//! through `crate::access`, and make each user action one transaction with its audit row.

pub mod accounts;
pub mod analytics;
pub mod dashboard;
pub mod demo;
pub mod digest;
pub mod goals;
pub mod lifecycle;
pub mod load_seed;
pub mod matching;
pub mod messaging;
pub mod messaging_runtime;
pub mod oversight;
pub mod review;

/// The dates a person may give (a goal's target, a background check's expiry) lie in this
/// window: four-digit years that sort correctly as text (SQLite) and fit PostgreSQL's range,
/// and that make sense for a programme.
pub fn check_date(date: chrono::NaiveDate, what: &str) -> crate::error::AppResult<chrono::NaiveDate> {
    let (first, last) = date_window();
    if date < first || date > last {
        return Err(crate::error::AppError::bad_request(format!(
            "Please give {what} between {first} and {last} (you gave {date})."
        )));
    }
    Ok(date)
}

pub fn date_window() -> (chrono::NaiveDate, chrono::NaiveDate) {
    (
        chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("a valid date"),
        chrono::NaiveDate::from_ymd_opt(2099, 12, 31).expect("a valid date"),
    )
}
