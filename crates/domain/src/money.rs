//! Money as integer cents (euros), with checked arithmetic, and rates in basis points.
//!
//! Rounding rule: whenever a rate is applied, the exact product is rounded **half up to the
//! cent** (half away from zero for negative amounts), computed in i128 so no intermediate
//! overflows. No floating point is ever used near money.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of euros in cents. Negative amounts are allowed (refunds, recoveries).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount overflows")]
    Overflow,
    #[error("{field}: {reason}")]
    Parse {
        field: &'static str,
        reason: &'static str,
    },
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
        self.0
            .checked_add(other.0)
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.0
            .checked_sub(other.0)
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_mul(self, n: i64) -> Result<Money, MoneyError> {
        self.0.checked_mul(n).map(Money).ok_or(MoneyError::Overflow)
    }

    /// This amount times a rate, rounded half up to the cent.
    pub fn apply_rate(self, rate: Rate) -> Result<Money, MoneyError> {
        let exact = i128::from(self.0) * i128::from(rate.basis_points());
        let rounded = div_round_half_up(exact, 10_000);
        i64::try_from(rounded)
            .map(Money)
            .map_err(|_| MoneyError::Overflow)
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

    /// Parses `"123.45"`, `"123,45"`, `"123.4"`, `"123"` or `"-12.30"` (euros) into cents;
    /// more than two decimals is refused rather than rounded, and so are a sign other than a
    /// leading `-`, an empty whole or decimal part (`".5"`, `"5."`) and thousands separators.
    /// Every value `Display` writes parses back to the same amount. The error names `field`
    /// and never echoes the input.
    pub fn parse_euros(input: &str, field: &'static str) -> Result<Money, MoneyError> {
        const FORMAT: &str = "must be an amount in euros such as 12.34";
        let s = input.trim();
        let (neg, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (whole, frac) = match s.split_once(['.', ',']) {
            Some((w, f)) => (w, Some(f)),
            None => (s, None),
        };
        let is_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if !is_digits(whole) || frac.is_some_and(|f| !is_digits(f)) {
            return Err(MoneyError::Parse {
                field,
                reason: FORMAT,
            });
        }
        let frac = frac.unwrap_or("");
        if frac.len() > 2 {
            return Err(MoneyError::Parse {
                field,
                reason: "must have at most two decimals",
            });
        }
        let too_large = MoneyError::Parse {
            field,
            reason: "amount too large",
        };
        // Whole part as i128 so that i64::MIN (whose magnitude exceeds i64::MAX) parses.
        if whole.len() > 30 {
            return Err(too_large);
        }
        let whole: i128 = whole.parse().map_err(|_| too_large.clone())?;
        let frac_cents = frac
            .bytes()
            .chain(std::iter::repeat(b'0'))
            .take(2)
            .fold(0i128, |acc, b| acc * 10 + i128::from(b - b'0'));
        let cents = whole * 100 + frac_cents;
        let signed = if neg { -cents } else { cents };
        i64::try_from(signed).map(Money).map_err(|_| too_large)
    }
}

/// Integer division rounding half away from zero.
fn div_round_half_up(n: i128, d: i128) -> i128 {
    let q = n / d;
    let r = n % d;
    if 2 * r.abs() >= d.abs() {
        q + n.signum() * d.signum()
    } else {
        q
    }
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

    /// A whole percentage, e.g. `Rate::percent(300)` = 300 % = 30 000 basis points.
    /// Saturates at `u32::MAX` basis points (above 42 949 672 %); see
    /// [`Rate::checked_percent`] to refuse such values instead.
    pub const fn percent(p: u32) -> Self {
        Self(p.saturating_mul(100))
    }

    /// A whole percentage, or `None` when it does not fit in basis points.
    pub const fn checked_percent(p: u32) -> Option<Self> {
        match p.checked_mul(100) {
            Some(bp) => Some(Self(bp)),
            None => None,
        }
    }

    pub const fn basis_points(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(100) {
            write!(f, "{}%", self.0 / 100)
        } else {
            write!(f, "{}.{:02}%", self.0 / 100, self.0 % 100)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Half-up rounding computed another way: floor((2·|n| + d) / 2d), sign restored.
    fn reference_apply_rate(cents: i64, bp: u32) -> i128 {
        let n = i128::from(cents) * i128::from(bp);
        let rounded = (2 * n.abs() + 10_000) / 20_000;
        if n < 0 { -rounded } else { rounded }
    }

    fn parse_err(input: &str) -> MoneyError {
        Money::parse_euros(input, "amount").unwrap_err()
    }

    #[test]
    fn money_constructors_agree() {
        assert_eq!(Money::from_euros(150).unwrap(), Money::from_cents(15_000));
        assert_eq!(Money::from_euros(150).unwrap().cents(), 15_000);
        assert_eq!(Money::default(), Money::ZERO);
    }

    #[test]
    fn money_from_too_many_euros_overflows() {
        assert_eq!(Money::from_euros(i64::MAX), Err(MoneyError::Overflow));
        assert_eq!(Money::from_euros(i64::MIN / 99), Err(MoneyError::Overflow));
    }

    #[test]
    fn money_arithmetic_is_exact() {
        let a = Money::from_cents(1_050);
        let b = Money::from_cents(-275);
        assert_eq!(a.checked_add(b), Ok(Money::from_cents(775)));
        assert_eq!(a.checked_sub(b), Ok(Money::from_cents(1_325)));
        assert_eq!(a.checked_mul(3), Ok(Money::from_cents(3_150)));
    }

    #[test]
    fn money_arithmetic_overflow_is_an_error_not_a_wrap() {
        let max = Money::from_cents(i64::MAX);
        let min = Money::from_cents(i64::MIN);
        let one = Money::from_cents(1);
        assert_eq!(max.checked_add(one), Err(MoneyError::Overflow));
        assert_eq!(min.checked_sub(one), Err(MoneyError::Overflow));
        assert_eq!(
            min.checked_add(Money::from_cents(-1)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(max.checked_mul(2), Err(MoneyError::Overflow));
        assert_eq!(min.checked_mul(-1), Err(MoneyError::Overflow));
        assert_eq!(MoneyError::Overflow.to_string(), "amount overflows");
    }

    #[test]
    fn money_min_max_and_floor_zero() {
        let a = Money::from_cents(-5);
        let b = Money::from_cents(7);
        assert_eq!(a.min(b), a);
        assert_eq!(a.max(b), b);
        assert_eq!(a.floor_zero(), Money::ZERO);
        assert_eq!(b.floor_zero(), b);
    }

    #[test]
    fn apply_rate_rounds_half_up_to_the_cent() {
        // 0.05 € × 50 % = 0.025 € → 0.03 €
        assert_eq!(
            Money::from_cents(5).apply_rate(Rate::percent(50)),
            Ok(Money::from_cents(3))
        );
        // 0.03 € × 50 % = 0.015 € → 0.02 €
        assert_eq!(
            Money::from_cents(3).apply_rate(Rate::percent(50)),
            Ok(Money::from_cents(2))
        );
        // 0.01 € × 30 % = 0.003 € → 0.00 €
        assert_eq!(
            Money::from_cents(1).apply_rate(Rate::percent(30)),
            Ok(Money::ZERO)
        );
        // 10.01 € × 65 % = 6.5065 € → 6.51 €
        assert_eq!(
            Money::from_cents(1_001).apply_rate(Rate::percent(65)),
            Ok(Money::from_cents(651))
        );
        // 19.99 € × 15 % = 2.9985 € → 3.00 €
        assert_eq!(
            Money::from_cents(1_999).apply_rate(Rate::percent(15)),
            Ok(Money::from_cents(300))
        );
    }

    #[test]
    fn apply_rate_rounds_negative_halves_away_from_zero() {
        assert_eq!(
            Money::from_cents(-5).apply_rate(Rate::percent(50)),
            Ok(Money::from_cents(-3))
        );
        assert_eq!(
            Money::from_cents(-1).apply_rate(Rate::percent(30)),
            Ok(Money::ZERO)
        );
    }

    #[test]
    fn apply_rate_at_100_and_0_percent_is_exact() {
        let a = Money::from_cents(12_345);
        assert_eq!(a.apply_rate(Rate::percent(100)), Ok(a));
        assert_eq!(a.apply_rate(Rate::percent(0)), Ok(Money::ZERO));
        assert_eq!(
            a.apply_rate(Rate::percent(300)),
            Ok(Money::from_cents(37_035))
        );
    }

    #[test]
    fn apply_rate_that_overflows_is_an_error() {
        let max = Money::from_cents(i64::MAX);
        assert_eq!(
            max.apply_rate(Rate::percent(200)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(max.apply_rate(Rate::percent(100)), Ok(max));
        let min = Money::from_cents(i64::MIN);
        assert_eq!(
            min.apply_rate(Rate::percent(101)),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn money_displays_as_euros_with_two_decimals() {
        assert_eq!(Money::from_cents(1_234).to_string(), "12.34");
        assert_eq!(Money::from_cents(5).to_string(), "0.05");
        assert_eq!(Money::from_cents(-5).to_string(), "-0.05");
        assert_eq!(Money::from_cents(-1_230).to_string(), "-12.30");
        assert_eq!(Money::ZERO.to_string(), "0.00");
        assert_eq!(
            Money::from_cents(i64::MIN).to_string(),
            "-92233720368547758.08"
        );
    }

    #[test]
    fn parse_euros_accepts_dot_comma_one_or_no_decimals() {
        let p = |s: &str| Money::parse_euros(s, "amount").unwrap().cents();
        assert_eq!(p("123.45"), 12_345);
        assert_eq!(p("123,45"), 12_345);
        assert_eq!(p("123.4"), 12_340);
        assert_eq!(p("123"), 12_300);
        assert_eq!(p(" 0.05 "), 5);
        assert_eq!(p("-12.30"), -1_230);
        assert_eq!(p("-0"), 0);
        assert_eq!(p("007.50"), 750);
    }

    #[test]
    fn parse_euros_reaches_both_ends_of_the_range() {
        let p = |s: &str| Money::parse_euros(s, "amount").unwrap().cents();
        assert_eq!(p("92233720368547758.07"), i64::MAX);
        assert_eq!(p("-92233720368547758.08"), i64::MIN);
    }

    #[test]
    fn parse_euros_refuses_malformed_amounts_naming_the_field() {
        for input in [
            "", "-", "abc", "12a", "1.2.3", ".5", "5.", "+5", "--5", "1 000", "1,000.00", "12.-3",
            "١٢", "12.3é",
        ] {
            assert_eq!(
                parse_err(input),
                MoneyError::Parse {
                    field: "amount",
                    reason: "must be an amount in euros such as 12.34"
                },
                "{input:?}"
            );
        }
    }

    #[test]
    fn parse_euros_refuses_more_than_two_decimals() {
        let e = parse_err("12.345");
        assert_eq!(
            e,
            MoneyError::Parse {
                field: "amount",
                reason: "must have at most two decimals"
            }
        );
        assert_eq!(e.to_string(), "amount: must have at most two decimals");
    }

    #[test]
    fn parse_euros_refuses_amounts_beyond_the_range() {
        let too_large = MoneyError::Parse {
            field: "amount",
            reason: "amount too large",
        };
        for input in [
            "92233720368547758.08",
            "-92233720368547758.09",
            "99999999999999999999",
            "1234567890123456789012345678901234567890",
        ] {
            assert_eq!(parse_err(input), too_large, "{input}");
        }
    }

    #[test]
    fn parse_euros_error_never_echoes_the_input() {
        let e = parse_err("secret-12x");
        assert!(!format!("{e} {e:?}").contains("secret"));
    }

    #[test]
    fn rate_constructors_and_display() {
        assert_eq!(Rate::percent(65).basis_points(), 6_500);
        assert_eq!(Rate::from_basis_points(6_500), Rate::percent(65));
        assert_eq!(Rate::percent(300).to_string(), "300%");
        assert_eq!(Rate::from_basis_points(1_234).to_string(), "12.34%");
        assert_eq!(Rate::from_basis_points(1_205).to_string(), "12.05%");
        assert_eq!(Rate::from_basis_points(1_250).to_string(), "12.50%");
        assert_eq!(Rate::from_basis_points(0).to_string(), "0%");
    }

    #[test]
    fn rate_percent_beyond_u32_saturates_and_checked_percent_refuses() {
        assert_eq!(Rate::percent(u32::MAX).basis_points(), u32::MAX);
        assert_eq!(Rate::checked_percent(u32::MAX), None);
        assert_eq!(
            Rate::checked_percent(42_949_672),
            Some(Rate::from_basis_points(4_294_967_200))
        );
        assert_eq!(Rate::checked_percent(42_949_673), None);
    }

    proptest! {
        #[test]
        fn money_addition_is_associative_when_nothing_overflows(
            a in -(1i64 << 61)..(1i64 << 61),
            b in -(1i64 << 61)..(1i64 << 61),
            c in -(1i64 << 61)..(1i64 << 61),
        ) {
            let (a, b, c) = (Money::from_cents(a), Money::from_cents(b), Money::from_cents(c));
            let left = a.checked_add(b).and_then(|ab| ab.checked_add(c)).unwrap();
            let right = b.checked_add(c).and_then(|bc| a.checked_add(bc)).unwrap();
            prop_assert_eq!(left, right);
        }

        #[test]
        fn money_sum_is_exact_or_an_overflow_error(a in any::<i64>(), b in any::<i64>(), c in any::<i64>()) {
            let exact = i128::from(a) + i128::from(b) + i128::from(c);
            let (a, b, c) = (Money::from_cents(a), Money::from_cents(b), Money::from_cents(c));
            for result in [
                a.checked_add(b).and_then(|ab| ab.checked_add(c)),
                b.checked_add(c).and_then(|bc| a.checked_add(bc)),
            ] {
                match result {
                    Ok(sum) => prop_assert_eq!(i128::from(sum.cents()), exact),
                    Err(e) => prop_assert_eq!(e, MoneyError::Overflow),
                }
            }
            if i64::try_from(exact).is_err() {
                prop_assert!(a.checked_add(b).and_then(|ab| ab.checked_add(c)).is_err());
            }
        }

        #[test]
        fn money_subtraction_is_exact_or_an_overflow_error(a in any::<i64>(), b in any::<i64>()) {
            let exact = i128::from(a) - i128::from(b);
            let result = Money::from_cents(a).checked_sub(Money::from_cents(b));
            match i64::try_from(exact) {
                Ok(e) => prop_assert_eq!(result, Ok(Money::from_cents(e))),
                Err(_) => prop_assert_eq!(result, Err(MoneyError::Overflow)),
            }
        }

        #[test]
        fn money_subtraction_undoes_addition(
            a in -(1i64 << 62)..(1i64 << 62),
            b in -(1i64 << 62)..(1i64 << 62),
        ) {
            let (a, b) = (Money::from_cents(a), Money::from_cents(b));
            prop_assert_eq!(a.checked_add(b).and_then(|s| s.checked_sub(b)), Ok(a));
        }

        #[test]
        fn money_multiplication_is_exact_or_an_overflow_error(a in any::<i64>(), n in any::<i64>()) {
            let exact = i128::from(a) * i128::from(n);
            let result = Money::from_cents(a).checked_mul(n);
            match i64::try_from(exact) {
                Ok(e) => prop_assert_eq!(result, Ok(Money::from_cents(e))),
                Err(_) => prop_assert_eq!(result, Err(MoneyError::Overflow)),
            }
        }

        #[test]
        fn apply_rate_matches_the_i128_reference(cents in any::<i64>(), bp in 0u32..=100_000) {
            let expected = reference_apply_rate(cents, bp);
            let result = Money::from_cents(cents).apply_rate(Rate::from_basis_points(bp));
            match i64::try_from(expected) {
                Ok(e) => prop_assert_eq!(result, Ok(Money::from_cents(e))),
                Err(_) => prop_assert_eq!(result, Err(MoneyError::Overflow)),
            }
        }

        #[test]
        fn apply_rate_matches_the_reference_on_everyday_amounts(
            cents in -10_000_000i64..10_000_000,
            bp in any::<u32>(),
        ) {
            let result = Money::from_cents(cents).apply_rate(Rate::from_basis_points(bp)).unwrap();
            prop_assert_eq!(i128::from(result.cents()), reference_apply_rate(cents, bp));
        }

        #[test]
        fn apply_rate_is_within_half_a_cent_of_the_exact_product(
            cents in -1_000_000_000i64..1_000_000_000,
            bp in 0u32..=100_000,
        ) {
            let result = Money::from_cents(cents).apply_rate(Rate::from_basis_points(bp)).unwrap();
            let exact_times_10k = i128::from(cents) * i128::from(bp);
            let error = (i128::from(result.cents()) * 10_000 - exact_times_10k).abs();
            prop_assert!(error <= 5_000);
        }

        #[test]
        fn apply_rate_is_symmetric_around_zero(cents in -(1i64 << 40)..(1i64 << 40), bp in 0u32..=100_000) {
            let rate = Rate::from_basis_points(bp);
            let pos = Money::from_cents(cents).apply_rate(rate).unwrap();
            let neg = Money::from_cents(-cents).apply_rate(rate).unwrap();
            prop_assert_eq!(pos.cents(), -neg.cents());
        }

        #[test]
        fn money_display_parses_back_to_the_same_amount(cents in any::<i64>()) {
            let m = Money::from_cents(cents);
            prop_assert_eq!(Money::parse_euros(&m.to_string(), "amount"), Ok(m));
        }

        #[test]
        fn parse_euros_of_whole_and_cents_is_exact(
            euros in 0i64..1_000_000_000,
            cents in 0i64..100,
            comma in any::<bool>(),
            negative in any::<bool>(),
        ) {
            let sep = if comma { ',' } else { '.' };
            let sign = if negative { "-" } else { "" };
            let text = format!("{sign}{euros}{sep}{cents:02}");
            let expected = (euros * 100 + cents) * if negative { -1 } else { 1 };
            prop_assert_eq!(Money::parse_euros(&text, "amount"), Ok(Money::from_cents(expected)));
        }

        #[test]
        fn parse_euros_never_panics(s in any::<String>()) {
            let _ = Money::parse_euros(&s, "amount");
        }

        #[test]
        fn parse_euros_never_panics_on_amount_like_input(s in "[-+0-9.,é ]{0,40}") {
            let _ = Money::parse_euros(&s, "amount");
        }
    }
}
