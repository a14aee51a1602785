//! How long a payment's credit waits before it is available (`PAYDESK_FUNDS_HOLD`, a wallet's own hold): written
//! as people write durations, in whole seconds, bounded.

use std::time::Duration;

/// The longest hold there may be.
pub const MAX: Duration = Duration::from_secs(366 * 24 * 3600);

/// A hold as people write it (`0s`, `36h`, `7d`), in whole seconds, at most [`MAX`].
pub fn parse(text: &str) -> Result<Duration, String> {
    let hold = humantime::parse_duration(text.trim())
        .map_err(|e| format!("{text:?} is not a duration ({e}); write e.g. 7d, 36h or 0s"))?;
    if hold > MAX {
        return Err(format!("{text:?} is longer than the longest hold, 366 days"));
    }
    if hold.subsec_nanos() != 0 {
        return Err(format!("{text:?} is not a whole number of seconds"));
    }
    Ok(hold)
}

/// A hold as the API writes it (`7days`, `0s`).
pub fn format(hold: Duration) -> String {
    humantime::format_duration(hold).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_are_written_as_people_write_them_and_bounded() {
        assert_eq!(parse("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse(" 0s "), Ok(Duration::ZERO));
        assert!(parse("367d").unwrap_err().contains("366 days"));
        assert!(parse("1.5s").unwrap_err().contains("whole number of seconds"));
        assert!(parse("soon").unwrap_err().contains("not a duration"));
        assert_eq!(format(Duration::from_secs(7 * 86_400)), "7days");
    }
}
