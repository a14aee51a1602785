//! Suspicious-activity rules as data: what a flag on a payout request says, and the thresholds that raise one.

use entity::Money;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A rule a payout request can trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RiskRule {
    /// More payout requests from one wallet within an hour than allowed.
    Velocity,
    /// Requested soon after the wallet was funded by a client paying for the first time.
    NewClientFunds,
    /// Far above the wallet's usual (median) payout.
    AboveMedian,
    /// The wallet was funded by a client whose payments keep failing.
    ClientFailedPayments,
}

/// One tripped rule and what tripped it, in words for the admin deciding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskFlag {
    pub rule: RiskRule,
    pub reason: String,
}

/// The thresholds (`PAYDESK_RISK_*`); a zero turns its rule off.
#[derive(Debug, Clone)]
pub struct RiskRules {
    pub requests_per_hour: u32,
    pub new_client_hours: u32,
    pub median_multiple: Decimal,
    pub failed_payments: u32,
    /// Payouts above this need two different admins' approvals; `None`: one suffices.
    pub four_eyes_above: Option<Money>,
}

/// Flags as stored on the request (JSON text), or `None` when there are none.
pub fn encode(flags: &[RiskFlag]) -> Option<String> {
    (!flags.is_empty()).then(|| serde_json::to_string(flags).unwrap_or_default())
}

/// The stored flags; text that does not parse (never written by us) reads as one flag saying so.
pub fn decode(stored: Option<&str>) -> Vec<RiskFlag> {
    match stored {
        None => Vec::new(),
        Some(text) => serde_json::from_str(text).unwrap_or_else(|_| {
            vec![RiskFlag { rule: RiskRule::Velocity, reason: format!("unreadable stored flags: {text}") }]
        }),
    }
}

/// The median of `amounts` (the lower middle one for an even count), or `None` for an empty list.
pub fn median(mut amounts: Vec<Money>) -> Option<Money> {
    amounts.sort();
    amounts.get(amounts.len().saturating_sub(1) / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_and_the_median_is_the_middle() {
        let flags = vec![RiskFlag { rule: RiskRule::AboveMedian, reason: "x".into() }];
        assert_eq!(decode(encode(&flags).as_deref()), flags);
        assert_eq!(encode(&[]), None);
        let m = |n| Money::from_minor(n);
        assert_eq!(median(vec![m(5), m(1), m(3)]), Some(m(3)));
        assert_eq!(median(vec![m(4), m(1), m(3), m(2)]), Some(m(2)));
        assert_eq!(median(vec![]), None);
    }
}
