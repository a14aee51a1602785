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

/// A three-letter ISO 4217 code, upper-cased.
pub fn currency(value: &str) -> Result<String, AppError> {
    let code = value.trim().to_ascii_uppercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(AppError::BadInput(format!("currency must be a three-letter ISO 4217 code such as INR, not {value:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

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
