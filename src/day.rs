//! UTC calendar days, the unit of every report.
//!
//! Types: [`Day`] (a UTC date; parses `YYYY-MM-DD`, orders, steps, encodes as a
//! sortable storage key), [`DayError`].

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A UTC calendar day.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(NaiveDate);

/// A day argument that is not a `YYYY-MM-DD` date (holding the argument, clipped).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a day: write it as YYYY-MM-DD (UTC), e.g. 2022-10-27")]
pub struct DayError(pub String);

impl Day {
    /// The day `year-month-day`, or `None` if there is no such date (e.g. February 30).
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Day> {
        NaiveDate::from_ymd_opt(year, month, day).map(Day)
    }

    /// The UTC day an instant falls on.
    pub fn of(instant: DateTime<Utc>) -> Day {
        Day(instant.date_naive())
    }

    /// The first instant of the day.
    pub fn start(self) -> DateTime<Utc> {
        Utc.from_utc_datetime(&self.0.and_time(NaiveTime::MIN))
    }

    /// The first instant of the next day: a day is the half-open range [start, end).
    pub fn end(self) -> DateTime<Utc> {
        self.add_days(1).start()
    }

    /// The day `n` days later (earlier when `n` is negative).
    pub fn add_days(self, n: i64) -> Day {
        Day(self.0 + Duration::days(n))
    }

    /// Whole days from `earlier` to `self` (negative when `earlier` is later).
    pub fn days_since(self, earlier: Day) -> i64 {
        (self.0 - earlier.0).num_days()
    }

    /// The inclusive range of days `from..=to`.
    pub fn range(from: Day, to: Day) -> impl Iterator<Item = Day> {
        let n = to.days_since(from).max(-1);
        (0..=n).map(move |i| from.add_days(i))
    }

    /// The day as a chrono date.
    pub fn date(self) -> NaiveDate {
        self.0
    }

    /// "October 27, 2022": dates in words, for headlines.
    pub fn in_words(self) -> String {
        self.0.format("%B %-d, %Y").to_string()
    }

    /// "October 27": for headlines within the current year.
    pub fn month_day(self) -> String {
        self.0.format("%B %-d").to_string()
    }

    /// The calendar year the day falls in.
    pub fn year(self) -> i32 {
        self.0.year()
    }

    /// A 4-byte big-endian key that sorts like the days it encodes (days since
    /// 1970-01-01, offset so that dates before 1970 still sort first).
    pub fn to_key(self) -> [u8; 4] {
        let days = self
            .0
            .signed_duration_since(NaiveDate::default())
            .num_days();
        ((days as i32 as u32) ^ 0x8000_0000).to_be_bytes()
    }

    /// The day a key made by [`Day::to_key`] encodes.
    pub fn from_key(key: [u8; 4]) -> Day {
        let days = (u32::from_be_bytes(key) ^ 0x8000_0000) as i32;
        Day(NaiveDate::default() + Duration::days(days.into()))
    }
}

impl FromStr for Day {
    type Err = DayError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map(Day)
            .map_err(|_| DayError(crate::echo::clip(s)))
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl fmt::Debug for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Day({self})")
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let d: Day = "2022-10-27".parse().unwrap();
        assert_eq!(d.to_string(), "2022-10-27");
        assert_eq!(d.in_words(), "October 27, 2022");
        assert_eq!(d.month_day(), "October 27");
        assert!("2022-13-01".parse::<Day>().is_err());
        assert!("27/10/2022".parse::<Day>().is_err());
        let msg = "yesterday".parse::<Day>().unwrap_err().to_string();
        assert!(msg.contains("YYYY-MM-DD"), "{msg}");
    }

    #[test]
    fn boundaries_are_utc_half_open() {
        let d = Day::from_ymd(2022, 11, 7).unwrap();
        let end = d.end();
        assert_eq!(Day::of(end - Duration::nanoseconds(1)), d);
        assert_eq!(Day::of(end), d.add_days(1));
        assert_eq!(d.start().to_rfc3339(), "2022-11-07T00:00:00+00:00");
    }

    #[test]
    fn keys_sort_like_days() {
        let days = [
            Day::from_ymd(1969, 12, 31).unwrap(),
            Day::from_ymd(1970, 1, 1).unwrap(),
            Day::from_ymd(2022, 10, 27).unwrap(),
            Day::from_ymd(2022, 10, 28).unwrap(),
        ];
        for pair in days.windows(2) {
            assert!(pair[0].to_key() < pair[1].to_key());
        }
        for d in days {
            assert_eq!(Day::from_key(d.to_key()), d);
        }
    }

    #[test]
    fn range_is_inclusive() {
        let a = Day::from_ymd(2022, 10, 30).unwrap();
        let b = Day::from_ymd(2022, 11, 2).unwrap();
        assert_eq!(Day::range(a, b).count(), 4);
        assert_eq!(Day::range(b, a).count(), 0);
        assert_eq!(b.days_since(a), 3);
    }
}
