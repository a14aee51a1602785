//! Reading the fields of a provider's payload: ids, amounts, currencies and free text, each refused with a
//! message that names the field when it cannot be trusted.

use entity::Money;
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

/// Longest id accepted from a delivery (Cashfree's are at most 50 characters).
const MAX_ID: usize = 100;
/// Longest free text kept from a delivery (messages, references), in characters.
const MAX_TEXT: usize = 500;
/// Longest dedupe key stored as it is; a longer one is stored as its SHA-256.
const MAX_KEY: usize = 200;

/// A decimal from a JSON number or string, never through a float.
pub fn decimal(v: &Value) -> Option<Decimal> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    Decimal::from_str(&text).or_else(|_| Decimal::from_scientific(&text)).ok()
}

/// An amount a provider reported (`field` names it): a JSON number or string, greater than zero, at most
/// `MAX_AMOUNT`, and in whole minor units of `currency`. Anything else makes the delivery MALFORMED, so that
/// nothing is ever booked from a negative, zero or sub-paisa amount, however well it is signed.
pub fn amount(field: &str, v: &Value, currency: &str) -> Result<Money, String> {
    let value = decimal(v).ok_or_else(|| format!("{field} is not a number"))?;
    let money = crate::domain::money::positive_amount(field, value).map_err(|e| e.to_string())?;
    crate::domain::money::fits_currency(field, money, currency).map_err(|e| e.to_string())?;
    Ok(money)
}

/// A currency code a provider reported (`field` names it): one paydesk can hold amounts of.
pub fn currency(field: &str, v: &Value) -> Result<String, String> {
    let code = text(v).ok_or_else(|| format!("{field} is missing"))?;
    crate::domain::money::currency(&code).map_err(|e| format!("{field}: {e}"))
}

/// An id that Cashfree sends as a string or (before 2023-08-01) a number; `field` names it in the refusal.
/// Control characters (a NUL cannot even be stored in PostgreSQL text) and absurd lengths are refused.
pub fn id(field: &str, v: &Value) -> Result<String, String> {
    let s = match v {
        Value::String(s) if !s.trim().is_empty() => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return Err(format!("{field} is missing")),
    };
    if s.chars().any(char::is_control) {
        return Err(format!("{field} contains control characters"));
    }
    if s.chars().count() > MAX_ID {
        return Err(format!("{field} is longer than {MAX_ID} characters"));
    }
    Ok(s)
}

/// Free text, trimmed, without control characters, at most `MAX_TEXT` characters; "NA" counts as none.
pub fn text(v: &Value) -> Option<String> {
    let s = v.as_str().map(str::trim).filter(|s| !s.is_empty() && *s != "NA")?;
    Some(s.chars().filter(|c| !c.is_control()).take(MAX_TEXT).collect())
}

/// The key a delivery is deduplicated on, short enough for its column whatever Cashfree (or anyone) sent.
pub fn storable_key(key: String) -> String {
    if key.len() <= MAX_KEY {
        return key;
    }
    format!("sha256:{}", sha_hex(key.as_bytes()))
}

/// The SHA-256 of `bytes`, in lower-case hex.
pub fn sha_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
