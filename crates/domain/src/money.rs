//! Money as integer cents (euros), with checked arithmetic, and rates in basis points.
//!
//! Rounding rule: whenever a rate is applied, the exact product is rounded **half up to the
//! cent** (half away from zero for negative amounts), computed in i128 so no intermediate
//! overflows. No floating point is ever used near money.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of euros in cents. Negative amounts are allowed (refunds, recoveries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount overflows")]
    Overflow,
    #[error("{field}: {reason}")]
    Parse { field: &'static str, reason: &'static str },
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_cents(cents: i64) -> Self {
        Self(cents)
    }

    /// Whole euros, e.g. `Money::from_euros(150)` = €150.00.
    pub fn from_euros(euros: i64) -> Result<Self, MoneyError> {
        euros.checked_mul(100).map(Self).ok_or(MoneyError::Overflow)
    }

    pub const fn cents(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.0.checked_add(other.0).map(Money).ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.0.checked_sub(other.0).map(Money).ok_or(MoneyError::Overflow)
    }

    pub fn checked_mul(self, n: i64) -> Result<Money, MoneyError> {
        self.0.checked_mul(n).map(Money).ok_or(MoneyError::Overflow)
    }

    /// This amount times a rate, rounded half up to the cent.
    pub fn apply_rate(self, rate: Rate) -> Result<Money, MoneyError> {
        let exact = i128::from(self.0) * i128::from(rate.basis_points());
        let rounded = div_round_half_up(exact, 10_000);
        i64::try_from(rounded).map(Money).map_err(|_| MoneyError::Overflow)
    }

    pub fn min(self, other: Money) -> Money {
        if self <= other { self } else { other }
    }

    pub fn max(self, other: Money) -> Money {
        if self >= other { self } else { other }
    }

    /// Never below zero.
    pub fn floor_zero(self) -> Money {
        self.max(Money::ZERO)
    }

    /// Parses `"123.45"`, `"123,45"`, `"123.4"` or `"123"` (euros) into cents; more than two
    /// decimals is refused rather than rounded.
    pub fn parse_euros(input: &str, field: &'static str) -> Result<Money, MoneyError> {
        let s = input.trim().replace(',', ".");
        let (neg, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest.to_string()),
            None => (false, s),
        };
        let (whole, frac) = match s.split_once('.') {
            Some((w, f)) => (w.to_string(), f.to_string()),
            None => (s.clone(), String::new()),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MoneyError::Parse { field, reason: "must be an amount in euros such as 12.34" });
        }
        if frac.len() > 2 {
            return Err(MoneyError::Parse { field, reason: "must have at most two decimals" });
        }
        let whole: i64 = whole.parse().map_err(|_| MoneyError::Parse { field, reason: "amount too large" })?;
        let mut frac_cents: i64 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| MoneyError::Parse { field, reason: "bad decimals" })? };
        if frac.len() == 1 {
            frac_cents *= 10;
        }
        let cents = whole.checked_mul(100).and_then(|c| c.checked_add(frac_cents)).ok_or(MoneyError::Parse { field, reason: "amount too large" })?;
        Ok(Money(if neg { -cents } else { cents }))
    }
}

/// Integer division rounding half away from zero.
fn div_round_half_up(n: i128, d: i128) -> i128 {
    let q = n / d;
    let r = n % d;
    if 2 * r.abs() >= d.abs() { q + n.signum() * d.signum() } else { q }
}

impl fmt::Display for Money {
    /// `1234` cents displays as `12.34`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// A rate in basis points: 10_000 = 100 %, 30_000 = 300 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Rate(u32);

impl Rate {
    pub const fn from_basis_points(bp: u32) -> Self {
        Self(bp)
    }

    pub const fn percent(p: u32) -> Self {
        Self(p * 100)
    }

    pub const fn basis_points(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 % 100 == 0 { write!(f, "{}%", self.0 / 100) } else { write!(f, "{}.{:02}%", self.0 / 100, self.0 % 100) }
    }
}
