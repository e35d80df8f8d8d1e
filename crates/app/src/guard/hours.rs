//! A practice's declared opening hours, in French local time (Europe/Paris: UTC+1, UTC+2
//! from the last Sunday of March to the last Sunday of October, 01:00 UTC both).
//!
//! Format: `;`-separated rules `DAYS HH:MM-HH:MM[,HH:MM-HH:MM…]`, where DAYS is a day (`mon`
//! … `sun`), a range (`mon-fri`) or a `,` list (`mon,wed,fri`). Example:
//! `mon-fri 08:30-12:30,14:00-19:00; sat 09:00-12:00`. No declaration means always open.

use time::{Date, Duration, Month, OffsetDateTime, Time, UtcOffset, Weekday};

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Parsed opening hours: per weekday (Monday first), intervals in minutes since midnight.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpeningHours {
    days: [Vec<(u16, u16)>; 7],
}

fn day_index(s: &str) -> Result<usize, String> {
    DAYS.iter()
        .position(|d| *d == s.trim().to_ascii_lowercase())
        .ok_or_else(|| format!("opening hours: unknown day {:?} (mon … sun)", s.trim()))
}

fn minutes(s: &str) -> Result<u16, String> {
    let bad = || format!("opening hours: bad time {:?} (HH:MM)", s.trim());
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    if h > 24 || m > 59 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl OpeningHours {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut hours = OpeningHours::default();
        let mut any = false;
        for rule in text.split(';').map(str::trim).filter(|r| !r.is_empty()) {
            let (days, times) = rule
                .split_once(char::is_whitespace)
                .ok_or_else(|| format!("opening hours: {rule:?} needs DAYS HH:MM-HH:MM"))?;
            let mut selected = Vec::new();
            for part in days.split(',') {
                match part.split_once('-') {
                    Some((a, b)) => {
                        let (a, b) = (day_index(a)?, day_index(b)?);
                        if b < a {
                            return Err(format!("opening hours: day range {part:?} is backwards"));
                        }
                        selected.extend(a..=b);
                    }
                    None => selected.push(day_index(part)?),
                }
            }
            for interval in times.split(',') {
                let (from, to) = interval.split_once('-').ok_or_else(|| {
                    format!("opening hours: {:?} needs HH:MM-HH:MM", interval.trim())
                })?;
                let (from, to) = (minutes(from)?, minutes(to)?);
                if to <= from {
                    return Err(format!(
                        "opening hours: {:?} ends before it starts",
                        interval.trim()
                    ));
                }
                for d in &selected {
                    if let Some(day) = hours.days.get_mut(*d) {
                        day.push((from, to));
                    }
                }
                any = true;
            }
        }
        if !any {
            return Err("opening hours: no rule (leave unset for always open)".into());
        }
        Ok(hours)
    }

    /// Whether the practice is open at `at` (French local time).
    pub fn is_open(&self, at: OffsetDateTime) -> bool {
        let local = at.to_offset(paris_offset(at));
        let day = local.weekday().number_days_from_monday() as usize;
        let m = local.hour() as u16 * 60 + local.minute() as u16;
        self.days
            .get(day)
            .is_some_and(|d| d.iter().any(|(from, to)| *from <= m && m < *to))
    }
}

fn last_sunday(year: i32, month: Month) -> Option<Date> {
    let next = if month == Month::December {
        Date::from_calendar_date(year + 1, Month::January, 1)
    } else {
        Date::from_calendar_date(year, month.next(), 1)
    }
    .ok()?;
    let mut d = next - Duration::days(1);
    while d.weekday() != Weekday::Sunday {
        d -= Duration::days(1);
    }
    Some(d)
}

/// Europe/Paris offset at `at` (EU summer time rule).
pub fn paris_offset(at: OffsetDateTime) -> UtcOffset {
    let utc = at.to_offset(UtcOffset::UTC);
    let year = utc.year();
    let one = Time::from_hms(1, 0, 0).unwrap_or(Time::MIDNIGHT);
    let summer = match (
        last_sunday(year, Month::March),
        last_sunday(year, Month::October),
    ) {
        (Some(start), Some(end)) => {
            let start = start.with_time(one).assume_utc();
            let end = end.with_time(one).assume_utc();
            utc >= start && utc < end
        }
        _ => false,
    };
    let hours = if summer { 2 } else { 1 };
    UtcOffset::from_hms(hours, 0, 0).unwrap_or(UtcOffset::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn weekday_hours_in_paris_time() {
        let h = OpeningHours::parse("mon-fri 08:30-12:30,14:00-19:00; sat 09:00-12:00").unwrap();
        // Thursday 15 January 2026, winter (UTC+1).
        assert!(h.is_open(datetime!(2026-01-15 08:00 UTC))); // 09:00 local
        assert!(!h.is_open(datetime!(2026-01-15 07:00 UTC))); // 08:00 local
        assert!(!h.is_open(datetime!(2026-01-15 12:00 UTC))); // 13:00 local
        assert!(!h.is_open(datetime!(2026-01-18 10:00 UTC))); // Sunday
        assert!(h.is_open(datetime!(2026-01-17 09:00 UTC))); // Saturday 10:00
        // Summer (UTC+2): 06:45 UTC is 08:45 local.
        assert!(h.is_open(datetime!(2026-07-16 06:45 UTC)));
        assert!(!h.is_open(datetime!(2026-07-16 06:15 UTC)));
    }

    #[test]
    fn bad_declarations_name_the_problem() {
        assert!(OpeningHours::parse("").is_err());
        assert!(
            OpeningHours::parse("funday 08:00-09:00")
                .unwrap_err()
                .contains("unknown day")
        );
        assert!(
            OpeningHours::parse("mon 09:00-08:00")
                .unwrap_err()
                .contains("ends before")
        );
        assert!(
            OpeningHours::parse("mon 25:00-26:00")
                .unwrap_err()
                .contains("bad time")
        );
        assert!(
            OpeningHours::parse("fri-mon 08:00-09:00")
                .unwrap_err()
                .contains("backwards")
        );
    }
}
