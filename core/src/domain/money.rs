//! Turning a caller's decimal into `Money`, with errors a person can act on.

use crate::error::AppError;
pub use entity::Money;
use rust_decimal::Decimal;

/// The largest amount one order, payout or adjustment may move: far above any real invoice, and far enough
/// below what a balance can hold that no sum of them overflows.
pub const MAX_AMOUNT: Money = Money::from_minor(100_000_000_000); // 1,000,000,000.00

/// An amount of either sign with at most two decimal places and at most `MAX_AMOUNT`; `field` names the input
/// in the message.
pub fn amount(field: &str, value: Decimal) -> Result<Money, AppError> {
    let too_large = || AppError::BadInput(format!("{field} {value} is too large: at most {MAX_AMOUNT} per amount"));
    let money = Money::from_decimal(value).map_err(|e| match e {
        entity::money::MoneyError::OutOfRange(_) => too_large(),
        e => AppError::BadInput(format!("{field}: {e}")),
    })?;
    if money > MAX_AMOUNT || money.negate() > MAX_AMOUNT {
        return Err(too_large());
    }
    Ok(money)
}

/// A positive amount with at most two decimal places; `field` names the input in the message.
pub fn positive_amount(field: &str, value: Decimal) -> Result<Money, AppError> {
    let money = amount(field, value)?;
    if !money.is_positive() {
        return Err(AppError::BadInput(format!("{field} must be greater than zero, not {value}")));
    }
    Ok(money)
}

/// An ISO 4217 currency code (upper-cased) whose amounts paydesk can hold exactly: one with at most two decimal
/// places (so not BHD's three, nor gold's none).
pub fn currency(value: &str) -> Result<String, AppError> {
    let code = value.trim().to_ascii_uppercase();
    let known = iso_currency::Currency::from_code(&code).ok_or_else(|| {
        AppError::BadInput(format!("currency must be an ISO 4217 code such as INR or USD, not {value:?}"))
    })?;
    match known.exponent() {
        Some(0..=2) => Ok(code),
        _ => Err(AppError::BadInput(format!(
            "{code} ({}) is not supported: paydesk holds amounts with at most two decimal places",
            known.name()
        ))),
    }
}

/// Refuses an amount finer than `currency`'s minor unit (a fraction of a yen, say).
pub fn fits_currency(field: &str, money: Money, currency: &str) -> Result<(), AppError> {
    let exponent = iso_currency::Currency::from_code(currency).and_then(|c| c.exponent()).unwrap_or(2);
    let step = 10i64.pow(2u32.saturating_sub(u32::from(exponent)));
    if money.minor() % step != 0 {
        return Err(AppError::BadInput(format!(
            "{field} {money} has more decimal places than {currency} has ({exponent})"
        )));
    }
    Ok(())
}

/// The reserve a payout must leave in a wallet: one per currency (`PAYOUT_RESERVES`), else `PAYOUT_RESERVE`.
#[derive(Debug, Clone, Default)]
pub struct Reserves {
    pub default: Money,
    pub by_currency: std::collections::BTreeMap<String, Money>,
}

impl Reserves {
    /// The reserve of wallets in `currency`.
    pub fn of(&self, currency: &str) -> Money {
        self.by_currency.get(currency).copied().unwrap_or(self.default)
    }

    /// Parses `CUR:amount` entries (e.g. `USD:10.00`) over `default`.
    pub fn parse(default: Money, entries: &[String]) -> Result<Self, String> {
        let mut by_currency = std::collections::BTreeMap::new();
        for entry in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            let (code, value) = entry.split_once(':').ok_or_else(|| format!("`{entry}` is not CUR:amount"))?;
            let code = currency(code).map_err(|e| e.to_string())?;
            let value: Decimal = value.trim().parse().map_err(|_| format!("`{entry}`: {value:?} is not an amount"))?;
            let money = amount(&code, value).map_err(|e| e.to_string())?;
            if money.to_decimal().is_sign_negative() {
                return Err(format!("`{entry}`: a reserve cannot be negative"));
            }
            by_currency.insert(code, money);
        }
        Ok(Self { default, by_currency })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn currencies_are_iso_4217_with_at_most_two_decimals() {
        assert_eq!(currency(" usd ").unwrap(), "USD");
        for bad in ["XYZ", "RUPEES", "BHD", "XAU", ""] {
            assert!(currency(bad).is_err(), "{bad}");
        }
        assert!(fits_currency("amount", Money::from_minor(150_000), "JPY").is_ok());
        assert!(fits_currency("amount", Money::from_minor(150_050), "JPY").is_err());
        let r = Reserves::parse(Money::from_minor(10_000), &["usd:5.00".into(), " ".into()]).unwrap();
        assert_eq!((r.of("USD"), r.of("INR")), (Money::from_minor(500), Money::from_minor(10_000)));
        assert!(Reserves::parse(Money::ZERO, &["USD=5".into()]).is_err());
        assert!(Reserves::parse(Money::ZERO, &["USD:-5".into()]).is_err());
    }

    #[test]
    fn zero_negative_and_sub_paisa_amounts_are_refused() {
        for bad in ["0", "-5", "10.001"] {
            assert!(positive_amount("amount", Decimal::from_str(bad).unwrap()).is_err(), "{bad}");
        }
        assert_eq!(positive_amount("amount", Decimal::from_str("10.5").unwrap()).unwrap().to_string(), "10.50");
    }

    #[test]
    fn amounts_beyond_the_business_maximum_are_refused_not_overflowed() {
        assert!(amount("amount", Decimal::from_str("1000000000.00").unwrap()).is_ok());
        for bad in ["1000000000.01", "-1000000000.01", "79228162514264337593543950335"] {
            let e = amount("amount", Decimal::from_str(bad).unwrap()).unwrap_err().to_string();
            assert!(e.contains("too large: at most 1000000000.00"), "{bad}: {e}");
        }
    }

    #[test]
    fn currency_codes_are_normalised() {
        assert_eq!(currency(" inr ").unwrap(), "INR");
        assert!(currency("RUPEES").is_err());
    }
}
