//! The `Decimal` scalar: money and rates as strings, parsed strictly, never through a float.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use std::str::FromStr;

/// An exact decimal number written as a string: optional `-`, digits, optionally `.` and more digits
/// (`"1500.00"`, `"-12.5"`). Amounts carry at most two decimal places. JSON numbers, exponents (`1e3`),
/// digit separators (`1_000`), `+` and spaces are refused, so no value can change on its way in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Description)]
pub struct Decimal(pub rust_decimal::Decimal);

/// Why a value is not a `Decimal`, in words a person can act on.
fn refuse(got: &str) -> String {
    format!("a Decimal is a string of digits with an optional `-` and `.`, such as \"1500.00\"; not {got}")
}

#[Scalar(name = "Decimal", use_type_description)]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        let number = |n: &dyn std::fmt::Display| {
            InputValueError::custom(format!(
                "send amounts as strings (\"{n}\"), not JSON numbers: a number may lose its paise on the way"
            ))
        };
        let text = match &value {
            Value::String(s) => s,
            Value::Number(n) => return Err(number(n)),
            // A JSON number in the variables, as serde_json's arbitrary precision hands it over.
            Value::Object(o) if o.len() == 1 && o.keys().all(|k| k.as_str() == "$serde_json::private::Number") => {
                let n = o.values().next().map(|v| v.to_string()).unwrap_or_default();
                return Err(number(&n.trim_matches('"')));
            }
            other => return Err(InputValueError::custom(refuse(&other.to_string()))),
        };
        let digits = text.strip_prefix('-').unwrap_or(text);
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
        let plain = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !plain(whole) || !plain(fraction) || digits.len() > 30 {
            return Err(InputValueError::custom(refuse(&format!("{text:?}"))));
        }
        rust_decimal::Decimal::from_str(text)
            .map(Decimal)
            .map_err(|_| InputValueError::custom(format!("{text:?} is too large to be an amount")))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

/// An instant, RFC 3339 in UTC with a `Z` (`2026-11-28T06:44:55.123456Z`), the format REST answers use too.
/// Inputs may carry any offset; they are converted to UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, async_graphql::Description)]
pub struct DateTime(pub chrono::DateTime<chrono::Utc>);

#[Scalar(name = "DateTime", use_type_description)]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        let Value::String(text) = &value else {
            return Err(InputValueError::custom(format!("a DateTime is an RFC 3339 string, not {value}")));
        };
        chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| DateTime(t.to_utc()))
            .map_err(|_| InputValueError::custom(format!("{text:?} is not RFC 3339, e.g. \"2026-11-01T00:00:00Z\"")))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }
}

impl From<chrono::DateTime<chrono::Utc>> for DateTime {
    fn from(t: chrono::DateTime<chrono::Utc>) -> Self {
        DateTime(t)
    }
}

impl From<DateTime> for chrono::DateTime<chrono::Utc> {
    fn from(t: DateTime) -> Self {
        t.0
    }
}

impl From<rust_decimal::Decimal> for Decimal {
    fn from(d: rust_decimal::Decimal) -> Self {
        Decimal(d)
    }
}

impl From<entity::Money> for Decimal {
    fn from(m: entity::Money) -> Self {
        Decimal(m.to_decimal())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: serde_json::Value) -> Result<String, String> {
        Decimal::parse(Value::from_json(v).unwrap())
            .map(|d| d.0.to_string())
            .map_err(|e| e.into_server_error(Default::default()).message)
    }

    #[test]
    fn instants_go_out_in_utc_with_a_z_and_come_in_with_any_offset() {
        let t = DateTime::parse(Value::String("2026-11-28T12:00:00.5+05:30".into())).unwrap();
        assert_eq!(t.to_value(), Value::String("2026-11-28T06:30:00.500Z".into()));
        assert!(DateTime::parse(Value::String("yesterday".into())).is_err());
    }

    #[test]
    fn only_plain_decimal_strings_are_accepted() {
        assert_eq!(parse("1500.00".into()).unwrap(), "1500.00");
        assert_eq!(parse("-12.5".into()).unwrap(), "-12.5");
        for bad in ["1e3", "1_000", "+5", " 5", "5.", ".5", "", "-", "0x10", "1,000.00", "NaN"] {
            assert!(parse(bad.into()).unwrap_err().contains("string of digits"), "{bad:?}");
        }
        assert!(parse(serde_json::json!(10.5)).unwrap_err().contains("not JSON numbers"));
        assert!(parse("9".repeat(40).into()).is_err());
    }
}
