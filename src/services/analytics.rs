//! Programme analytics for coordinators: weekly message volume, intervention rates by
//! category, review latency, mentor response times and active pairs — as figures, SVG charts
//! drawn on the server, and CSV.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::access::{Actor, Capability};
use crate::db::schema::{conversations, matches, messages, moderation_reviews};
use crate::db::{now, DbConnection};
use crate::error::AppResult;

#[derive(Debug, Clone, Serialize)]
pub struct WeekRow {
    pub week: String,
    pub messages: i64,
    pub held: i64,
    pub blocked: i64,
    pub redacted: i64,
    pub median_review_hours: Option<f64>,
    pub median_mentor_response_hours: Option<f64>,
    pub active_pairs: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryRow {
    pub category: String,
    pub flagged: i64,
    pub rate_percent: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Analytics {
    pub weeks: Vec<WeekRow>,
    pub categories: Vec<CategoryRow>,
    pub total_messages: i64,
}

fn week_start(t: NaiveDateTime) -> NaiveDate {
    let d = t.date();
    d - Duration::days(d.weekday().num_days_from_monday() as i64)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) { (v[mid - 1] + v[mid]) / 2.0 } else { v[mid] })
}

pub fn compute(conn: &mut DbConnection, actor: &Actor, weeks: i64) -> AppResult<Analytics> {
    actor.require(Capability::ProgrammeOversight)?;
    let at = now();
    let first_week = week_start(at) - Duration::weeks(weeks - 1);
    let since = first_week.and_hms_opt(0, 0, 0).unwrap_or(at);
    let rows: Vec<(String, String, String, String, NaiveDateTime, String)> = messages::table
        .inner_join(conversations::table.inner_join(matches::table))
        .filter(messages::created_at.ge(since))
        .order(messages::created_at.asc())
        .select((
            messages::id,
            messages::conversation_id,
            messages::sender_id,
            messages::status,
            messages::created_at,
            messages::flags,
        ))
        .load(conn)?;
    let mentors: BTreeMap<String, String> = matches::table
        .inner_join(conversations::table)
        .select((conversations::id, matches::mentor_id))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let reviews: Vec<(NaiveDateTime, NaiveDateTime)> = moderation_reviews::table
        .inner_join(messages::table)
        .filter(moderation_reviews::created_at.ge(since))
        .select((messages::created_at, moderation_reviews::created_at))
        .load(conn)?;
    let pairs: Vec<(Option<NaiveDateTime>, Option<NaiveDateTime>)> =
        matches::table.select((matches::started_at, matches::closed_at)).load(conn)?;

    let mut weeks_map: BTreeMap<NaiveDate, WeekRow> = BTreeMap::new();
    for i in 0..weeks {
        let w = first_week + Duration::weeks(i);
        let end = (w + Duration::weeks(1)).and_hms_opt(0, 0, 0).unwrap_or(at);
        let active = pairs
            .iter()
            .filter(|(start, closed)| {
                start.is_some_and(|s| s < end) && closed.is_none_or(|c| c >= end - Duration::weeks(1))
            })
            .count() as i64;
        weeks_map.insert(
            w,
            WeekRow {
                week: w.format("%Y-%m-%d").to_string(),
                messages: 0,
                held: 0,
                blocked: 0,
                redacted: 0,
                median_review_hours: None,
                median_mentor_response_hours: None,
                active_pairs: active,
            },
        );
    }
    let mut flagged: BTreeMap<String, i64> = BTreeMap::new();
    // Mentor response time: from a student's message to the mentor's next message.
    let mut waiting_since: BTreeMap<String, NaiveDateTime> = BTreeMap::new();
    let mut responses: BTreeMap<NaiveDate, Vec<f64>> = BTreeMap::new();
    for (_, conversation_id, sender, status, created, flags) in &rows {
        if let Some(w) = weeks_map.get_mut(&week_start(*created)) {
            w.messages += 1;
            match status.as_str() {
                "held" | "rejected" => w.held += 1,
                "blocked" => w.blocked += 1,
                "redacted" => w.redacted += 1,
                _ => {}
            }
        }
        for f in flags.split(',').filter(|f| !f.is_empty()) {
            *flagged.entry(f.to_owned()).or_default() += 1;
        }
        let is_mentor = mentors.get(conversation_id) == Some(sender);
        if is_mentor {
            if let Some(since) = waiting_since.remove(conversation_id) {
                responses.entry(week_start(*created)).or_default().push((*created - since).num_minutes() as f64 / 60.0);
            }
        } else {
            waiting_since.entry(conversation_id.clone()).or_insert(*created);
        }
    }
    let mut latencies: BTreeMap<NaiveDate, Vec<f64>> = BTreeMap::new();
    for (sent, reviewed) in reviews {
        latencies.entry(week_start(reviewed)).or_default().push((reviewed - sent).num_minutes() as f64 / 60.0);
    }
    for (w, row) in weeks_map.iter_mut() {
        row.median_review_hours = latencies.remove(w).and_then(median);
        row.median_mentor_response_hours = responses.remove(w).and_then(median);
    }
    let total = rows.len() as i64;
    let categories = crate::moderation::Category::ALL
        .iter()
        .map(|c| {
            let n = flagged.get(c.as_str()).copied().unwrap_or(0);
            CategoryRow {
                category: c.as_str().to_owned(),
                flagged: n,
                rate_percent: if total > 0 { (n as f64) * 100.0 / total as f64 } else { 0.0 },
            }
        })
        .collect();
    Ok(Analytics { weeks: weeks_map.into_values().collect(), categories, total_messages: total })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

pub fn to_csv(a: &Analytics) -> String {
    let mut out = String::from(
        "week,messages,held_or_rejected,blocked,redacted,median_review_hours,median_mentor_response_hours,active_pairs\n",
    );
    let opt = |v: Option<f64>| v.map(|x| format!("{x:.2}")).unwrap_or_default();
    for w in &a.weeks {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            csv_field(&w.week),
            w.messages,
            w.held,
            w.blocked,
            w.redacted,
            opt(w.median_review_hours),
            opt(w.median_mentor_response_hours),
            w.active_pairs
        );
    }
    out.push_str("\ncategory,flagged_messages,rate_percent\n");
    for c in &a.categories {
        let _ = writeln!(out, "{},{},{:.2}", csv_field(&c.category), c.flagged, c.rate_percent);
    }
    out
}

/// A bar chart as inline SVG. Labels are escaped; the SVG has a title for screen readers.
pub fn bar_chart(title: &str, bars: &[(String, f64)], unit: &str) -> (String, String) {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let width = 640.0;
    let height = 220.0;
    let left = 44.0;
    let bottom = 40.0;
    let top = 16.0;
    let max = bars.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max).max(1.0);
    let n = bars.len().max(1) as f64;
    let slot = (width - left - 8.0) / n;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{t}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{t}</title>",
        t = esc(title)
    );
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" class=\"axis\"/><text x=\"4\" y=\"{ty}\" class=\"tick\">{max:.0}{u}</text><text x=\"4\" y=\"{y}\" class=\"tick\">0</text>",
        y = height - bottom,
        x2 = width - 8.0,
        ty = top + 10.0,
        u = esc(unit)
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let h = (value / max) * (height - bottom - top);
        let x = left + i as f64 * slot + slot * 0.15;
        let y = height - bottom - h;
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" class=\"bar\"><title>{l}: {value:.1}{u}</title></rect><text x=\"{tx:.1}\" y=\"{ly}\" class=\"label\" text-anchor=\"middle\">{l}</text>",
            w = slot * 0.7,
            l = esc(label),
            u = esc(unit),
            tx = x + slot * 0.35,
            ly = height - bottom + 16.0
        );
    }
    svg.push_str("</svg>");
    (title.to_owned(), svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_labels() {
        let (_, svg) = bar_chart("A <b>", &[("x<y".into(), 3.0)], "%");
        assert!(svg.contains("x&lt;y") && !svg.contains("x<y"));
        assert!(svg.starts_with("<svg"));
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
    }

    #[test]
    fn csv_quotes_when_needed() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
