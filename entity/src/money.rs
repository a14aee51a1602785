//! `Money`: an exact amount with two decimal places, stored as a BIGINT count of minor units (paise, cents).
//!
//! SeaORM keeps `Decimal` as REAL on SQLite, which loses digits; integers are exact on every backend and
//! can be summed in SQL. Two places suit every currency Cashfree settles in (INR, USD, EUR, …).

use rust_decimal::Decimal;
use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, QueryResult, TryGetError, TryGetable, Value};
use std::fmt;

/// An exact money amount with scale 2 (`1500.00`). Arithmetic is checked; it never passes through a float.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

/// Why a decimal is not a valid amount of money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoneyError {
    /// More than two decimal places: rounding silently would move money.
    TooPrecise(Decimal),
    /// Beyond what a BIGINT of minor units holds.
    OutOfRange(Decimal),
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooPrecise(d) => write!(f, "{d} has more than 2 decimal places"),
            Self::OutOfRange(d) => write!(f, "{d} is too large"),
        }
    }
}

impl std::error::Error for MoneyError {}

impl Money {
    /// Decimal places every amount carries.
    pub const SCALE: u32 = 2;
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// From a count of minor units (`150000` is `1500.00`).
    pub const fn from_minor(minor: i64) -> Self {
        Money(minor)
    }

    /// The count of minor units, as stored.
    pub const fn minor(self) -> i64 {
        self.0
    }

    /// Exact conversion; refuses more than two decimal places instead of rounding.
    pub fn from_decimal(d: Decimal) -> Result<Self, MoneyError> {
        let normal = d.normalize();
        if normal.scale() > Self::SCALE {
            return Err(MoneyError::TooPrecise(d));
        }
        let minor = normal
            .checked_mul(Decimal::ONE_HUNDRED)
            .and_then(|m| <i64 as TryFrom<Decimal>>::try_from(m).ok())
            .ok_or(MoneyError::OutOfRange(d))?;
        Ok(Money(minor))
    }

    /// The amount as a `Decimal` of scale 2.
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, Self::SCALE)
    }

    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// `self - other`, or `None` on overflow.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// The amount with its sign turned.
    pub fn negate(self) -> Money {
        Money(-self.0)
    }

    /// `percent` % of the amount, rounded half away from zero to the minor unit.
    pub fn percent(self, percent: Decimal) -> Option<Money> {
        let share = self.to_decimal().checked_mul(percent)? / Decimal::ONE_HUNDRED;
        let rounded = share.round_dp_with_strategy(Self::SCALE, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        Money::from_decimal(rounded).ok()
    }

    /// Whether the amount is above zero.
    pub fn is_positive(self) -> bool {
        self.0 > 0
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_decimal().fmt(f)
    }
}

/// Serialised as a decimal string (`"1500.00"`), never as a float.
impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let dec: Decimal = text.parse().map_err(serde::de::Error::custom)?;
        Money::from_decimal(dec).map_err(serde::de::Error::custom)
    }
}

impl From<Money> for Value {
    fn from(m: Money) -> Self {
        Value::BigInt(Some(m.0))
    }
}

impl TryGetable for Money {
    fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
        i64::try_get_by(res, idx).map(Money)
    }
}

impl ValueType for Money {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        <i64 as ValueType>::try_from(v).map(Money)
    }

    fn type_name() -> String {
        "Money".to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::BigInt
    }

    fn column_type() -> ColumnType {
        ColumnType::BigInteger
    }
}

impl Nullable for Money {
    fn null() -> Value {
        Value::BigInt(None)
    }
}

impl sea_orm::sea_query::postgres_array::NotU8 for Money {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn keeps_every_digit_of_a_large_amount() {
        let m = Money::from_decimal(dec("12345678901234.56")).unwrap();
        assert_eq!(m.minor(), 1_234_567_890_123_456);
        assert_eq!(m.to_string(), "12345678901234.56");
    }

    #[test]
    fn always_prints_two_places() {
        assert_eq!(Money::from_decimal(dec("1500")).unwrap().to_string(), "1500.00");
        assert_eq!(Money::from_decimal(dec("0.5")).unwrap().to_string(), "0.50");
    }

    #[test]
    fn refuses_sub_paisa_precision_instead_of_rounding() {
        assert!(matches!(Money::from_decimal(dec("1.005")), Err(MoneyError::TooPrecise(_))));
        assert!(Money::from_decimal(dec("1.500000")).is_ok(), "trailing zeros are not precision");
    }

    #[test]
    fn refuses_amounts_beyond_bigint() {
        assert!(matches!(Money::from_decimal(dec("99999999999999999999")), Err(MoneyError::OutOfRange(_))));
    }

    #[test]
    fn serialises_as_an_exact_string() {
        let m = Money::from_minor(123_456_789_012_345_678);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, "\"1234567890123456.78\"");
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m);
    }

    #[test]
    fn percent_rounds_half_away_from_zero() {
        let m = Money::from_decimal(dec("1234.55")).unwrap();
        assert_eq!(m.percent(dec("10")).unwrap().to_string(), "123.46");
        assert_eq!(Money::from_minor(5).percent(dec("10")).unwrap().to_string(), "0.01");
    }
}
