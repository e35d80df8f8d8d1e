//! The contrat-responsable limits (art. R871-2 CSS) applied on top of a responsible
//! contract's formulas: optics class B floors and ceilings by lens complexity ("since 2020"
//! table of reference/domain.md §3), the €100 frame limit within them, and the €1,700 cap on
//! AMO + AMC per ear for class II hearing aids.

use crate::money::Money;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Optical lens complexity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Complexity {
    Simple,
    Complex,
    VeryComplex,
}

impl Complexity {
    pub fn code(self) -> &'static str {
        match self {
            Complexity::Simple => "simple",
            Complexity::Complex => "complex",
            Complexity::VeryComplex => "very_complex",
        }
    }
}

/// The lens pair of an equipment, ordered (lower complexity first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LensPair(pub Complexity, pub Complexity);

impl LensPair {
    /// The pair of an equipment from its lenses' complexities. A missing lens (monocular
    /// equipment or frame alone) counts as a simple lens, the lowest category.
    pub fn of(lenses: &[Complexity]) -> LensPair {
        let mut a = lenses.first().copied().unwrap_or(Complexity::Simple);
        let mut b = lenses.get(1).copied().unwrap_or(Complexity::Simple);
        if b < a {
            std::mem::swap(&mut a, &mut b);
        }
        LensPair(a, b)
    }

    /// (floor, ceiling) of the AMC for a class B equipment, TM included, in cents.
    pub fn limits(self) -> (Money, Money) {
        use Complexity::*;
        let (floor, ceiling) = match (self.0, self.1) {
            (Simple, Simple) => (5_000, 42_000),
            (Simple, Complex) => (12_500, 56_000),
            (Complex, Complex) => (20_000, 70_000),
            (Simple, VeryComplex) => (12_500, 61_000),
            (Complex, VeryComplex) => (20_000, 75_000),
            (VeryComplex, VeryComplex) => (20_000, 80_000),
            // Unordered pairs never occur (`of` orders them); answer as the ordered pair.
            (a, b) => return LensPair(b, a).limits(),
        };
        (Money::from_cents(floor), Money::from_cents(ceiling))
    }
}

impl fmt::Display for LensPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |c: Complexity| match c {
            Complexity::Simple => "simple",
            Complexity::Complex => "complex",
            Complexity::VeryComplex => "very complex",
        };
        if self.0 == self.1 {
            write!(f, "2 {} lenses", name(self.0))
        } else {
            write!(f, "{} + {} lens", name(self.0), name(self.1))
        }
    }
}

/// A class B frame's AMC is at most €100 (within the equipment ceiling).
pub const FRAME_LIMIT: Money = Money::from_cents(10_000);

/// Class II hearing aid: AMO + AMC at most €1,700 per ear.
pub const HEARING_II_CAP: Money = Money::from_cents(170_000);

#[cfg(test)]
mod tests {
    use super::*;
    use Complexity::*;

    #[test]
    fn since_2020_table() {
        let l = |a, b| {
            let (f, c) = LensPair::of(&[a, b]).limits();
            (f.cents() / 100, c.cents() / 100)
        };
        assert_eq!(l(Simple, Simple), (50, 420));
        assert_eq!(l(Simple, Complex), (125, 560));
        assert_eq!(l(Complex, Simple), (125, 560));
        assert_eq!(l(Complex, Complex), (200, 700));
        assert_eq!(l(VeryComplex, Simple), (125, 610));
        assert_eq!(l(Complex, VeryComplex), (200, 750));
        assert_eq!(l(VeryComplex, VeryComplex), (200, 800));
    }

    #[test]
    fn a_missing_lens_counts_as_simple() {
        assert_eq!(LensPair::of(&[]), LensPair(Simple, Simple));
        assert_eq!(LensPair::of(&[VeryComplex]), LensPair(Simple, VeryComplex));
        assert_eq!(
            LensPair::of(&[Complex]).to_string(),
            "simple + complex lens"
        );
        assert_eq!(
            LensPair::of(&[Simple, Simple]).to_string(),
            "2 simple lenses"
        );
        assert_eq!(
            LensPair(VeryComplex, Simple).limits(),
            LensPair(Simple, VeryComplex).limits()
        );
    }
}
