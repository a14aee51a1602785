//! Times in stored JSON (the event log's payloads) as chrono writes them, RFC 3339, read by chrono's strict RFC 3339
//! parser. chrono's own `Deserialize` reads every time with its relaxed parser, which runs its general format
//! machinery for every time of every event read. Text the strict parser refuses still gets the
//! relaxed one, so every time that was read before reads the same.
//!
//! `#[serde(deserialize_with = "crate::rfc3339::utc")]`, or `"crate::rfc3339::optional"` (with `default`) on an
//! `Option`.

use chrono::{DateTime, FixedOffset, Utc};
use serde::de::{Deserializer, Error, Visitor};
use serde::Deserialize;
use std::fmt;

/// A time.
pub fn utc<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    d.deserialize_str(Time)
}

/// A time or null: serde's own `Option`, around [`utc`].
pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    #[derive(Deserialize)]
    struct Read(#[serde(deserialize_with = "utc")] DateTime<Utc>);
    Ok(Option::<Read>::deserialize(d)?.map(|Read(at)| at))
}

struct Time;

impl Visitor<'_> for Time {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an RFC 3339 time")
    }

    fn visit_str<E: Error>(self, text: &str) -> Result<Self::Value, E> {
        DateTime::parse_from_rfc3339(text)
            .or_else(|_| text.parse::<DateTime<FixedOffset>>())
            .map(|t| t.with_timezone(&Utc))
            .map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Times {
        #[serde(deserialize_with = "super::utc")]
        at: DateTime<Utc>,
        #[serde(default, deserialize_with = "super::optional")]
        maybe: Option<DateTime<Utc>>,
    }

    #[derive(Deserialize)]
    struct ChronoTimes {
        at: DateTime<Utc>,
        maybe: Option<DateTime<Utc>>,
    }

    /// Whatever chrono's own `Deserialize` reads, and how; whatever it refuses, refused.
    #[test]
    fn times_read_as_chrono_reads_them() {
        let now = serde_json::to_string(&Utc::now()).unwrap();
        for text in [
            now.as_str(),
            r#""2026-11-29T10:00:00Z""#,
            r#""2026-11-29T10:00:00.123456789+05:30""#,
            r#""2026-11-29t10:00:00z""#,
            r#""2026-11-29 10:00:00+00:00""#,
            r#""2026-11-29T10:00:00 +05:30""#,
            r#""2026-11-29T10:00:00""#,
            r#""yesterday""#,
            "17",
        ] {
            for maybe in [text, "null"] {
                let json = format!(r#"{{"at": {text}, "maybe": {maybe}}}"#);
                let ours = serde_json::from_str::<Times>(&json).map(|t| (t.at, t.maybe));
                let chrono = serde_json::from_str::<ChronoTimes>(&json).map(|t| (t.at, t.maybe));
                assert_eq!(ours.is_ok(), chrono.is_ok(), "{json}");
                if let (Ok(ours), Ok(chrono)) = (ours, chrono) {
                    assert_eq!(ours, chrono, "{json}");
                }
            }
        }
        let missing = serde_json::from_str::<Times>(r#"{"at": "2026-11-29T10:00:00Z"}"#).unwrap();
        assert_eq!(missing.maybe, None);
    }
}
