//! What a provider's field must be to be trusted: ids, amounts and currencies, each refused with a message that
//! names the field. The payloads' shapes are `cashfree::payloads`; these are the checks on their values.

use crate::cashfree::payloads::{Amount, CfId, Text};
use entity::Money;

/// Longest id accepted from a delivery (Cashfree's are at most 50 characters).
const MAX_ID: usize = 100;
/// Longest dedupe key stored as it is; a longer one is stored as its SHA-256.
const MAX_KEY: usize = 200;

/// An id (`field` names it in the refusal): present, without control characters (a NUL cannot even be stored in
/// PostgreSQL text) and of a sane length.
pub fn id(field: &str, v: Option<&CfId>) -> Result<String, String> {
    let s = v.map(|id| id.0.as_str()).filter(|s| !s.is_empty()).ok_or_else(|| format!("{field} is missing"))?;
    if s.chars().any(char::is_control) {
        return Err(format!("{field} contains control characters"));
    }
    if s.chars().count() > MAX_ID {
        return Err(format!("{field} is longer than {MAX_ID} characters"));
    }
    Ok(s.to_owned())
}

/// An amount a provider reported (`field` names it): present, greater than zero, at most `MAX_AMOUNT`, and in
/// whole minor units of `currency`. Anything else makes the delivery MALFORMED, so that nothing is ever booked from
/// a negative, zero or sub-paisa amount, however well it is signed.
pub fn amount(field: &str, v: Option<Amount>, currency: &str) -> Result<Money, String> {
    let value = v.ok_or_else(|| format!("{field} is not a number"))?.0;
    let money = crate::domain::money::positive_amount(field, value).map_err(|e| e.to_string())?;
    crate::domain::money::fits_currency(field, money, currency).map_err(|e| e.to_string())?;
    Ok(money)
}

/// A currency code a provider reported (`field` names it): one paydesk can hold amounts of.
pub fn currency(field: &str, v: &Text) -> Result<String, String> {
    let code = v.0.as_deref().ok_or_else(|| format!("{field} is missing"))?;
    crate::domain::money::currency(code).map_err(|e| format!("{field}: {e}"))
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
