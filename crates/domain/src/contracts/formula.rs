//! Guarantee formulas, written as in insurers' tables: `100% BR`, `TM + €150 per equipment`,
//! `frais réels`, `300% BR`, `100% BR + 1600 € per ear`, `€50 per line`,
//! `100% BR + €500 per 12 months`, `25% BR hors RO`.
//!
//! Grammar (keywords case-insensitive, terms joined by `+`):
//!
//! ```text
//! formula = term *( "+" term )
//! term    = PERCENT "% BR"            x% of the BR, AMO share included (AMC = x% × BR − AMO)
//!         | PERCENT "% BR hors RO"    x% of the BR on top of the AMO (no AMO deducted)
//!         | "TM" | "ticket modérateur"  = 100% BR
//!         | "frais réels" | "FR" | "in full"   the price (AMC = price − AMO)
//!         | AMOUNT [ "per" UNIT ]       a fixed amount; UNIT defaults to line
//! AMOUNT  = "€" EUROS | EUROS "€" | EUROS "EUR"      EUROS: 150, 150.00, 150,5
//! UNIT    = "line" | "equipment" | "ear" | "year" | N "months"
//! ```
//!
//! At most one AMO-inclusive base (`x% BR`, `TM`, `frais réels`) per formula: the AMO is
//! deducted once from it and the result never goes below zero; the other terms add to it.

use crate::money::{Money, Rate};
use std::fmt;

/// Largest rate a formula may carry: 2,000 % BR.
pub const MAX_RATE_BP: u32 = 200_000;
/// Largest fixed amount a formula may carry: €100,000.
pub const MAX_FIXED_CENTS: i64 = 10_000_000;
/// Longest period of a per-period amount: 120 months.
pub const MAX_PERIOD_MONTHS: u16 = 120;

/// The AMO-inclusive part of a formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// x% × BR − AMO.
    BrPercent(Rate),
    /// Ticket modérateur: BR − AMO.
    Tm,
    /// Frais réels: price − AMO.
    RealCost,
}

/// What a fixed amount is counted per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Per {
    /// Each invoice or quote line.
    Line,
    /// One optical equipment (frame and lenses of one claim), shared among its lines.
    Equipment,
    /// One hearing aid (one ear).
    Ear,
    /// A budget per beneficiary over a sliding period of this many months.
    Months(u16),
}

impl fmt::Display for Per {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Per::Line => f.write_str("per line"),
            Per::Equipment => f.write_str("per equipment"),
            Per::Ear => f.write_str("per ear"),
            Per::Months(12) => f.write_str("per year"),
            Per::Months(n) => write!(f, "per {n} months"),
        }
    }
}

/// A fixed euro amount and what it is counted per.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fixed {
    pub amount: Money,
    pub per: Per,
}

/// A parsed guarantee formula.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formula {
    pub base: Option<Base>,
    /// `x% BR hors RO`: paid on top of the AMO, nothing deducted.
    pub on_top: Option<Rate>,
    pub fixed: Vec<Fixed>,
}

impl Formula {
    /// Parses a formula; the error is the reason, to be prefixed with the field path.
    pub fn parse(input: &str) -> Result<Formula, String> {
        let terms: Vec<&str> = input.split('+').map(str::trim).collect();
        if input.trim().is_empty() {
            return Err("must not be empty".into());
        }
        let single = terms.len() == 1;
        let mut f = Formula {
            base: None,
            on_top: None,
            fixed: Vec::new(),
        };
        for raw in terms {
            if raw.is_empty() {
                return Err("empty term around \"+\"".into());
            }
            let unknown = || {
                if single {
                    format!("unknown formula \"{}\"", shorten(raw))
                } else {
                    format!("unknown term \"{}\"", shorten(raw))
                }
            };
            match parse_term(raw).map_err(|e| e.unwrap_or_else(unknown))? {
                Term::Base(b) => {
                    if f.base.is_some() {
                        return Err("more than one base among x% BR, TM and frais réels".into());
                    }
                    f.base = Some(b);
                }
                Term::OnTop(r) => {
                    if f.on_top.is_some() {
                        return Err("more than one \"% BR hors RO\" term".into());
                    }
                    f.on_top = Some(r);
                }
                Term::Fixed(x) => {
                    if f.fixed.iter().any(|y| y.per == x.per) {
                        return Err(format!("more than one amount {}", x.per));
                    }
                    f.fixed.push(x);
                }
            }
        }
        let periods = f
            .fixed
            .iter()
            .filter(|x| matches!(x.per, Per::Months(_)))
            .count();
        if periods > 1 {
            return Err("at most one amount per period".into());
        }
        Ok(f)
    }

    /// True when the AMC covers at least the ticket modérateur (what a responsible contract
    /// must do): a base of at least 100% BR, `TM` or `frais réels`.
    pub fn covers_tm(&self) -> bool {
        match self.base {
            Some(Base::BrPercent(r)) => r.basis_points() >= 10_000,
            Some(Base::Tm | Base::RealCost) => true,
            None => false,
        }
    }

    /// The fixed amount counted per `per`, if any.
    pub fn fixed_per(&self, per: Per) -> Option<Money> {
        self.fixed.iter().find(|x| x.per == per).map(|x| x.amount)
    }

    /// The per-period budget, if any: (amount, months).
    pub fn period(&self) -> Option<(Money, u16)> {
        self.fixed.iter().find_map(|x| match x.per {
            Per::Months(m) => Some((x.amount, m)),
            _ => None,
        })
    }
}

impl fmt::Display for Formula {
    /// The canonical text: `100% BR + 800.00 € per ear`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        match self.base {
            Some(Base::BrPercent(r)) => parts.push(format!("{r} BR")),
            Some(Base::Tm) => parts.push("TM".into()),
            Some(Base::RealCost) => parts.push("frais réels".into()),
            None => {}
        }
        if let Some(r) = self.on_top {
            parts.push(format!("{r} BR hors RO"));
        }
        for x in &self.fixed {
            parts.push(format!("{} € {}", x.amount, x.per));
        }
        f.write_str(&parts.join(" + "))
    }
}

enum Term {
    Base(Base),
    OnTop(Rate),
    Fixed(Fixed),
}

fn shorten(s: &str) -> String {
    s.chars().take(40).collect()
}

/// `Err(None)`: not a term we know (the caller words it); `Err(Some(reason))`: a known
/// term with a bad value.
fn parse_term(raw: &str) -> Result<Term, Option<String>> {
    let lower = raw.to_lowercase();
    let t = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    match t.as_str() {
        "tm" | "ticket modérateur" | "ticket moderateur" => return Ok(Term::Base(Base::Tm)),
        "frais réels"
        | "frais reels"
        | "fr"
        | "in full"
        | "frais réels − ro"
        | "frais réels - ro"
        | "frais reels - ro" => return Ok(Term::Base(Base::RealCost)),
        _ => {}
    }
    if let Some(p) = t.strip_suffix("% br hors ro") {
        return parse_percent(p).map(Term::OnTop);
    }
    if let Some(p) = t.strip_suffix("% br") {
        return parse_percent(p).map(|r| Term::Base(Base::BrPercent(r)));
    }
    let (amount, per) = match t.split_once(" per ") {
        Some((a, u)) => (a.trim(), parse_unit(u.trim())?),
        None => (t.as_str(), Per::Line),
    };
    let euros = if let Some(a) = amount.strip_prefix('€') {
        a
    } else if let Some(a) = amount.strip_suffix('€') {
        a
    } else if let Some(a) = amount.strip_suffix("eur") {
        a
    } else {
        return Err(None);
    };
    let euros = euros.trim();
    if euros.is_empty()
        || !euros
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
    {
        return Err(None);
    }
    let amount = Money::parse_euros(euros, "amount")
        .map_err(|_| Some(format!("\"{}\" is not an amount in euros", shorten(raw))))?;
    if amount.cents() <= 0 || amount.cents() > MAX_FIXED_CENTS {
        return Err(Some(
            "a fixed amount must be above 0 and at most 100000 €".into(),
        ));
    }
    Ok(Term::Fixed(Fixed { amount, per }))
}

fn parse_percent(p: &str) -> Result<Rate, Option<String>> {
    let p = p.trim();
    let bad = || {
        Some(format!(
            "\"{}%\" is not a percentage such as 100 or 12.5",
            shorten(p)
        ))
    };
    if p.is_empty()
        || !p
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
    {
        return Err(None);
    }
    // Percent with up to two decimals = basis points, through the cents parser.
    let bp = Money::parse_euros(p, "rate").map_err(|_| bad())?.cents();
    match u32::try_from(bp) {
        Ok(bp) if bp <= MAX_RATE_BP => Ok(Rate::from_basis_points(bp)),
        _ => Err(Some("a rate must be at most 2000% BR".into())),
    }
}

fn parse_unit(u: &str) -> Result<Per, Option<String>> {
    Ok(match u {
        "line" | "item" | "act" => Per::Line,
        "equipment" => Per::Equipment,
        "ear" => Per::Ear,
        "year" => Per::Months(12),
        _ => {
            let n = u
                .strip_suffix(" months")
                .or_else(|| u.strip_suffix(" month"))
                .ok_or_else(|| {
                    Some(format!(
                        "unknown unit \"{}\" (line, equipment, ear, year or N months)",
                        shorten(u)
                    ))
                })?;
            match n.trim().parse::<u16>() {
                Ok(m) if (1..=MAX_PERIOD_MONTHS).contains(&m) => Per::Months(m),
                _ => return Err(Some("a period must be 1 to 120 months".into())),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Formula {
        Formula::parse(s).unwrap()
    }

    #[test]
    fn percent_of_br_tm_and_real_cost() {
        assert_eq!(p("100% BR").base, Some(Base::BrPercent(Rate::percent(100))));
        assert_eq!(
            p("300 % br").base,
            Some(Base::BrPercent(Rate::percent(300)))
        );
        assert_eq!(
            p("12.5% BR").base,
            Some(Base::BrPercent(Rate::from_basis_points(1_250)))
        );
        assert_eq!(p("TM").base, Some(Base::Tm));
        assert_eq!(p("ticket modérateur").base, Some(Base::Tm));
        assert_eq!(p("frais réels").base, Some(Base::RealCost));
        assert_eq!(p("in full").base, Some(Base::RealCost));
        assert_eq!(p("25% BR hors RO").on_top, Some(Rate::percent(25)));
    }

    #[test]
    fn combinations_and_units() {
        let f = p("TM + €150 per equipment");
        assert_eq!(f.base, Some(Base::Tm));
        assert_eq!(
            f.fixed,
            vec![Fixed {
                amount: Money::from_cents(15_000),
                per: Per::Equipment
            }]
        );
        let f = p("100% BR + 1600 € per ear");
        assert_eq!(f.fixed_per(Per::Ear), Some(Money::from_cents(160_000)));
        assert_eq!(
            p("€50").fixed_per(Per::Line),
            Some(Money::from_cents(5_000))
        );
        assert_eq!(
            p("50 EUR per line").fixed_per(Per::Line),
            Some(Money::from_cents(5_000))
        );
        assert_eq!(
            p("100% BR + €500 per year").period(),
            Some((Money::from_cents(50_000), 12))
        );
        assert_eq!(
            p("100% BR + €500 per 24 months").period(),
            Some((Money::from_cents(50_000), 24))
        );
    }

    #[test]
    fn canonical_text() {
        assert_eq!(
            p("tm+€150 per equipment").to_string(),
            "TM + 150.00 € per equipment"
        );
        assert_eq!(
            p("100% BR + 800 € per ear").to_string(),
            "100% BR + 800.00 € per ear"
        );
        assert_eq!(p("FR").to_string(), "frais réels");
        assert_eq!(
            p("100% BR + 10% BR hors RO + €20 + €500 per year").to_string(),
            "100% BR + 10% BR hors RO + 20.00 € per line + 500.00 € per year"
        );
    }

    #[test]
    fn responsible_needs_the_tm() {
        assert!(p("100% BR").covers_tm());
        assert!(p("TM + €1 per line").covers_tm());
        assert!(p("frais réels").covers_tm());
        assert!(!p("90% BR").covers_tm());
        assert!(!p("€150 per equipment").covers_tm());
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let e = |s: &str| Formula::parse(s).unwrap_err();
        assert_eq!(e("120% PMSS"), "unknown formula \"120% PMSS\"");
        assert_eq!(e("TM + 120% PMSS"), "unknown term \"120% PMSS\"");
        assert_eq!(e(""), "must not be empty");
        assert_eq!(e("TM +"), "empty term around \"+\"");
        assert_eq!(
            e("TM + 100% BR"),
            "more than one base among x% BR, TM and frais réels"
        );
        assert_eq!(e("€10 + €20"), "more than one amount per line");
        assert_eq!(
            e("€10 per week"),
            "unknown unit \"week\" (line, equipment, ear, year or N months)"
        );
        assert_eq!(e("€10 per 0 months"), "a period must be 1 to 120 months");
        assert_eq!(
            e("€0"),
            "a fixed amount must be above 0 and at most 100000 €"
        );
        assert_eq!(e("€1.234"), "\"€1.234\" is not an amount in euros");
        assert_eq!(e("2001% BR"), "a rate must be at most 2000% BR");
        assert_eq!(
            e("€5 per year + €6 per 6 months"),
            "at most one amount per period"
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = Formula::parse(&s);
        }

        #[test]
        fn canonical_text_parses_back(pct in 0u32..2000, euros in 1i64..100_000, unit in 0usize..5) {
            let per = ["per line", "per equipment", "per ear", "per year", "per 18 months"][unit];
            let f = p(&format!("{pct}% BR + €{euros} {per}"));
            prop_assert_eq!(p(&f.to_string()), f);
        }
    }
}
