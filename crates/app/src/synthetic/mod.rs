//! Synthetic data: a deterministic, streaming generator of a French-looking population of
//! member families and their beneficiaries, and the beneficiary CSV row format
//! (docs/formats.md).
//!
//! The generator is seeded ChaCha8 (`rand_chacha`) and uses only its raw `u64` stream with
//! fixed arithmetic (no `rand` distributions), so a seed and a reference year always give the
//! same population, whatever the `rand` version. It holds one family at a time: memory does
//! not grow with the number of rows.
//!
//! Every beneficiary has their own NIR (as adults have had since 2016), with a correct key and
//! consistent with the person: sex digit 1/2, birth year and month, a department of birth
//! weighted by population (Corsica `20` before 1976 and `2A`/`2B` from 1976; Seine and
//! Seine-et-Oise before the 1968 split of the Paris region; overseas `97x` with a 2-digit
//! commune; `99` + country code abroad).

mod names;
mod places;

use domain::beneficiaries::{Beneficiary, Identity, MaritalStatus, Quality, Validity};
use domain::ids::{BirthRank, MemberNumber, Nir};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::{Date, Month};

/// The contract codes a synthetic family is given.
pub const CONTRACT_CODES: [&str; 2] = ["ESSENTIEL", "CONFORT"];

/// The header of the beneficiary CSV file, in column order.
pub const CSV_HEADER: [&str; 11] = [
    "member_number",
    "nir",
    "birth_rank",
    "last_name",
    "first_name",
    "birth_date",
    "marital_status",
    "quality",
    "contract_code",
    "valid_from",
    "valid_to",
];

/// The fields of one beneficiary row of the CSV format, in `CSV_HEADER` order (dates ISO
/// 8601, an empty `valid_to` for an open validity).
pub fn csv_record(b: &Beneficiary) -> [String; 11] {
    let id = &b.identity;
    [
        b.member_number.as_str().to_string(),
        id.nir.as_str().to_string(),
        id.birth_rank.get().to_string(),
        id.last_name.clone(),
        id.first_name.clone(),
        iso_date(id.birth_date),
        id.marital_status.code().to_string(),
        b.quality.code().to_string(),
        b.contract_code.clone(),
        iso_date(b.validity.from),
        b.validity.to.map(iso_date).unwrap_or_default(),
    ]
}

/// `YYYY-MM-DD`.
pub fn iso_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The same seed (and year) gives the same population.
    pub seed: u64,
    /// The insurer (AMC number) the file is for: it varies the member numbers, so files of
    /// different insurers do not share them. The people themselves depend only on the seed.
    pub insurer: Option<String>,
    /// The current year: everybody is born by 31 December of the year before, validities
    /// start on a 1 January up to this year and end on a 31 December or stay open.
    pub year: i32,
}

/// A member (adhérent) and the beneficiaries of the membership: the assuré first, then a
/// conjoint or concubin, the children (enfants) and sometimes another dependant (autre).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    pub member_number: MemberNumber,
    pub contract_code: &'static str,
    pub members: Vec<Beneficiary>,
}

/// The stream of families. An endless iterator: `take` what you need.
pub struct Population {
    r: Draw,
    year: i32,
    /// The day everybody is born by (31 December of the year before `year`).
    reference: Date,
    member_tag: u64,
    member_offset: u64,
    families: u64,
    rejected: u64,
    dept_cumulative: Vec<u64>,
    overseas_cumulative: Vec<u64>,
    country_cumulative: Vec<u64>,
}

/// Member numbers: a 3-digit insurer tag and a 9-digit bijective scramble of the family index.
const MEMBER_SPACE: u64 = 1_000_000_000;
const MEMBER_MULTIPLIER: u64 = 387_420_489; // 3^18, coprime with 10^9

impl Population {
    pub fn new(config: &Config) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let member_offset = rng.next_u64() % MEMBER_SPACE;
        let member_tag = config
            .insurer
            .as_deref()
            .map(|s| fnv1a(s.as_bytes()) % 1000)
            .unwrap_or(100);
        let reference =
            Date::from_calendar_date(config.year - 1, Month::December, 31).unwrap_or(Date::MIN);
        Self {
            r: Draw(rng),
            year: config.year,
            reference,
            member_tag,
            member_offset,
            families: 0,
            rejected: 0,
            dept_cumulative: cumulative(places::METROPOLITAN.iter().map(|d| d.weight)),
            overseas_cumulative: cumulative(places::OVERSEAS.iter().map(|o| o.1)),
            country_cumulative: cumulative(places::COUNTRIES.iter().map(|c| c.1)),
        }
    }

    /// Families dropped because a value did not parse (always 0 unless the generator has a bug;
    /// tests assert it).
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// The beneficiaries of the population, family after family.
    pub fn beneficiaries(self) -> impl Iterator<Item = Beneficiary> {
        self.flat_map(|f| f.members)
    }

    // --- people ---

    fn next_member_number(&mut self) -> Option<MemberNumber> {
        let scrambled =
            (self.families % MEMBER_SPACE * MEMBER_MULTIPLIER + self.member_offset) % MEMBER_SPACE;
        self.families += 1;
        MemberNumber::parse(&format!("{:03}{:09}", self.member_tag, scrambled)).ok()
    }

    /// A birth date at `days_ago` days before the reference day.
    fn date_days_ago(&self, days_ago: i64) -> Date {
        let julian = i64::from(self.reference.to_julian_day()) - days_ago;
        i32::try_from(julian)
            .ok()
            .and_then(|j| Date::from_julian_day(j).ok())
            .unwrap_or(self.reference)
    }

    /// Days before the reference day for someone aged `age` (in whole years) on it.
    fn days_for_age(&mut self, age: i64) -> i64 {
        age * 36_525 / 100 + self.r.between(0, 364)
    }

    /// Age of an assuré: adults, more of them of working age.
    fn assure_age(&mut self) -> i64 {
        const BANDS: [(i64, i64, u64); 8] = [
            (18, 24, 4),
            (25, 34, 16),
            (35, 44, 18),
            (45, 54, 18),
            (55, 64, 17),
            (65, 74, 15),
            (75, 84, 9),
            (85, 96, 3),
        ];
        let cumulative = [4u64, 20, 38, 56, 73, 88, 97, 100];
        let band = self.r.weighted(&cumulative).min(BANDS.len() - 1);
        let (lo, hi, _) = BANDS[band];
        self.r.between(lo, hi)
    }

    fn surname(&mut self) -> &'static str {
        names::SURNAMES[self.r.skewed(names::SURNAMES.len())]
    }

    fn first_name(&mut self, male: bool, birth_year: i32) -> &'static str {
        let period = names::PERIOD_ENDS
            .iter()
            .position(|&end| birth_year <= end)
            .unwrap_or(names::PERIOD_ENDS.len() - 1);
        let list = if male {
            names::MALE[period]
        } else {
            names::FEMALE[period]
        };
        list[self.r.skewed(list.len())]
    }

    /// The department (2 characters) and commune (3 digits) parts of a NIR, given the home
    /// department (index in `METROPOLITAN`) that children are often born in.
    fn birthplace(&mut self, birth_year: i32, home: Option<usize>) -> (String, String) {
        let roll = self.r.below(1000);
        if home.is_none() && roll < 25 || home.is_some() && roll < 10 {
            let (code, _, communes) = places::OVERSEAS[self
                .r
                .weighted(&self.overseas_cumulative)
                .min(places::OVERSEAS.len() - 1)];
            let commune = self.r.between(1, i64::from(communes));
            return (
                code[..2].to_string(),
                format!("{}{:02}", &code[2..3], commune),
            );
        }
        if home.is_none() && roll < 70 || home.is_some() && roll < 25 {
            let i = self
                .r
                .weighted(&self.country_cumulative)
                .min(places::COUNTRIES.len() - 1);
            return ("99".to_string(), places::COUNTRIES[i].0.to_string());
        }
        let i = match home {
            Some(h) if self.r.chance(700) => h,
            _ => self
                .r
                .weighted(&self.dept_cumulative)
                .min(places::METROPOLITAN.len() - 1),
        };
        self.metropolitan(i, birth_year)
    }

    fn metropolitan(&mut self, index: usize, birth_year: i32) -> (String, String) {
        let dept = &places::METROPOLITAN[index];
        let commune = match dept.code {
            "75" => self.r.between(101, 120),
            "13" if self.r.chance(500) => self.r.between(201, 216),
            "69" if self.r.chance(500) => self.r.between(381, 389),
            _ if self.r.chance(350) => i64::from(dept.main_commune),
            _ => self.r.between(1, i64::from(dept.max_commune)),
        };
        let code = match dept.code {
            "20" if birth_year >= 1976 => {
                if self.r.chance(470) {
                    "2A"
                } else {
                    "2B"
                }
            }
            // Before 1968, the Paris region was Seine (75) and Seine-et-Oise (78).
            "92" | "93" | "94" if birth_year < 1968 => "75",
            "91" | "95" if birth_year < 1968 => "78",
            other => other,
        };
        let commune = if code == "75" && dept.code != "75" {
            self.r.between(101, 120)
        } else {
            commune
        };
        (code.to_string(), format!("{commune:03}"))
    }

    fn nir(&mut self, male: bool, birth_date: Date, place: &(String, String)) -> Option<Nir> {
        let order = self.r.between(1, 999);
        let body = format!(
            "{}{:02}{:02}{}{}{:03}",
            if male { 1 } else { 2 },
            birth_date.year().rem_euclid(100),
            u8::from(birth_date.month()),
            place.0,
            place.1,
            order
        );
        let key = Nir::compute_key(&body)?;
        Nir::parse(&format!("{body}{key:02}")).ok()
    }

    #[allow(clippy::too_many_arguments)]
    fn person(
        &mut self,
        family: &FamilyContext,
        quality: Quality,
        male: bool,
        days_ago: i64,
        last_name: &str,
        marital_status: MaritalStatus,
        birth_rank: u8,
        home: Option<usize>,
    ) -> Option<Beneficiary> {
        let birth_date = self.date_days_ago(days_ago);
        let place = self.birthplace(birth_date.year(), home);
        let nir = self.nir(male, birth_date, &place)?;
        let first_name = self.first_name(male, birth_date.year()).to_string();
        let birth_year_start =
            Date::from_calendar_date(birth_date.year(), Month::January, 1).ok()?;
        let from = family.valid_from.max(birth_year_start);
        Some(Beneficiary {
            member_number: family.member_number.clone(),
            identity: Identity {
                nir,
                birth_rank: BirthRank::new(birth_rank).ok()?,
                last_name: last_name.to_string(),
                first_name,
                birth_date,
                marital_status,
            },
            quality,
            contract_code: family.contract_code.to_string(),
            validity: Validity::new(from, family.valid_to).ok()?,
        })
    }

    fn single_status(&mut self, age: i64) -> MaritalStatus {
        let roll = self.r.below(100);
        match age {
            ..30 if roll < 95 => MaritalStatus::Celibataire,
            ..30 => MaritalStatus::Divorce,
            30..60 if roll < 55 => MaritalStatus::Celibataire,
            30..60 if roll < 95 => MaritalStatus::Divorce,
            30..60 => MaritalStatus::Veuf,
            _ if roll < 20 => MaritalStatus::Celibataire,
            _ if roll < 55 => MaritalStatus::Divorce,
            _ => MaritalStatus::Veuf,
        }
    }

    fn family(&mut self) -> Option<Family> {
        let member_number = self.next_member_number()?;
        let contract_code = if self.r.chance(600) {
            CONTRACT_CODES[0]
        } else {
            CONTRACT_CODES[1]
        };
        let start_back = match self.r.below(100) {
            0..30 => 0,
            30..50 => 1,
            50..65 => 2,
            _ => self.r.between(3, 12),
        };
        let valid_from =
            Date::from_calendar_date(self.year - start_back as i32, Month::January, 1).ok()?;
        let year_end = Date::from_calendar_date(self.year, Month::December, 31).ok()?;
        let last_year_end = Date::from_calendar_date(self.year - 1, Month::December, 31).ok()?;
        let valid_to = match self.r.below(100) {
            0..60 => None,
            95.. if last_year_end >= valid_from => Some(last_year_end),
            _ => Some(year_end),
        };
        let ctx = FamilyContext {
            member_number: member_number.clone(),
            contract_code,
            valid_from,
            valid_to,
        };
        let home = self
            .r
            .weighted(&self.dept_cumulative)
            .min(places::METROPOLITAN.len() - 1);

        let mut members = Vec::with_capacity(6);
        let assure_male = self.r.chance(500);
        let assure_age = self.assure_age();
        let assure_days = self.days_for_age(assure_age);

        // Partner: conjoint (married or PACS) or concubin, most often of the other sex.
        let couple = assure_age >= 20 && self.r.chance(620);
        let (partner_quality, couple_status) = if !couple {
            (None, self.single_status(assure_age))
        } else if self.r.chance(750) {
            let pacs = if assure_age < 40 { 300 } else { 100 };
            (
                Some(Quality::Conjoint),
                if self.r.chance(pacs) {
                    MaritalStatus::Pacse
                } else {
                    MaritalStatus::Marie
                },
            )
        } else {
            (Some(Quality::Concubin), MaritalStatus::Concubinage)
        };
        let family_name = self.surname();
        let mut father_name = family_name;
        let mut youngest_parent_days = assure_days;

        if let Some(quality) = partner_quality {
            let partner_male = if self.r.chance(960) {
                !assure_male
            } else {
                assure_male
            };
            let bias = match (assure_male, partner_male) {
                (false, true) => 2,
                (true, false) => -2,
                _ => 0,
            };
            let partner_age =
                (assure_age + self.r.between(0, 6) + self.r.between(0, 6) - 6 + bias).max(18);
            let partner_days = self.days_for_age(partner_age);
            youngest_parent_days = youngest_parent_days.min(partner_days);
            let married = couple_status == MaritalStatus::Marie && assure_male != partner_male;
            // The husband carries the family name; a wife often uses it.
            let (assure_name, partner_name) = if !married {
                (family_name, self.surname())
            } else {
                let wife_name = if self.r.chance(700) {
                    family_name
                } else {
                    self.surname()
                };
                if assure_male {
                    (family_name, wife_name)
                } else {
                    (wife_name, family_name)
                }
            };
            if !assure_male && partner_male {
                father_name = partner_name;
            } else {
                father_name = assure_name;
            }
            members.push(self.person(
                &ctx,
                Quality::Assure,
                assure_male,
                assure_days,
                assure_name,
                couple_status,
                1,
                None,
            )?);
            members.push(self.person(
                &ctx,
                quality,
                partner_male,
                partner_days,
                partner_name,
                couple_status,
                1,
                None,
            )?);
        } else {
            members.push(self.person(
                &ctx,
                Quality::Assure,
                assure_male,
                assure_days,
                family_name,
                couple_status,
                1,
                None,
            )?);
        }

        // Children: from the eldest, one to five years apart, younger than 25 and born when
        // the youngest parent was 18 to 45; sometimes twins (same date, ranks 1 and 2).
        let max_child_days = (25 * 365 - 1).min(youngest_parent_days - 18 * 366);
        let min_child_days = (youngest_parent_days - 45 * 365).max(0);
        let wanted = if max_child_days < min_child_days {
            0
        } else {
            let roll = self.r.below(100);
            match (couple, roll) {
                (true, 0..25) | (false, 0..65) => 0,
                (true, 25..50) | (false, 65..85) => 1,
                (true, 50..80) | (false, 85..95) => 2,
                (true, 80..94) | (false, _) => 3,
                _ => 4,
            }
        };
        if wanted > 0 {
            let mut days = self.r.between(min_child_days, max_child_days);
            let mut made = 0;
            while made < wanted && days >= min_child_days {
                let twins = wanted - made >= 2 && self.r.chance(30);
                let births = if twins { 2 } else { 1 };
                for rank in 1..=births {
                    let male = self.r.chance(512);
                    members.push(self.person(
                        &ctx,
                        Quality::Enfant,
                        male,
                        days,
                        father_name,
                        MaritalStatus::Celibataire,
                        rank,
                        Some(home),
                    )?);
                }
                made += births;
                days -= self.r.between(330, 1_800);
            }
        }

        // Sometimes another dependant: a widowed parent of the assuré.
        if assure_age <= 62 && self.r.chance(40) {
            let age = (assure_age + self.r.between(22, 38)).min(98);
            let days = self.days_for_age(age);
            let male = self.r.chance(300);
            let status = match self.r.below(100) {
                0..75 => MaritalStatus::Veuf,
                75..90 => MaritalStatus::Divorce,
                _ => MaritalStatus::Marie,
            };
            let name = if male || self.r.chance(500) {
                family_name
            } else {
                self.surname()
            };
            members.push(self.person(&ctx, Quality::Autre, male, days, name, status, 1, None)?);
        }

        Some(Family {
            member_number,
            contract_code,
            members,
        })
    }
}

/// Draws over the ChaCha stream with fixed arithmetic.
struct Draw(ChaCha8Rng);

impl Draw {
    /// Uniform in `0..n` (multiply-shift; the bias is below 2^-32 for the sizes used here).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.0.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// True with probability `per_mille / 1000`.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// An index in `0..n` skewed towards the start of the list (the minimum of two uniform
    /// draws: the first item is about twice as frequent as the middle one).
    fn skewed(&mut self, n: usize) -> usize {
        let a = self.below(n as u64);
        let b = self.below(n as u64);
        a.min(b) as usize
    }

    fn weighted(&mut self, cumulative: &[u64]) -> usize {
        let total = cumulative.last().copied().unwrap_or(1);
        let x = self.below(total);
        cumulative.partition_point(|&c| c <= x)
    }
}

struct FamilyContext {
    member_number: MemberNumber,
    contract_code: &'static str,
    valid_from: Date,
    valid_to: Option<Date>,
}

impl Iterator for Population {
    type Item = Family;

    fn next(&mut self) -> Option<Family> {
        loop {
            match self.family() {
                Some(f) => return Some(f),
                None => self.rejected += 1,
            }
        }
    }
}

/// The beneficiaries of a population, family after family (the first `n` of them with `take`).
pub fn beneficiaries(config: &Config) -> impl Iterator<Item = Beneficiary> + use<> {
    Population::new(config).beneficiaries()
}

fn cumulative(weights: impl Iterator<Item = u32>) -> Vec<u64> {
    weights
        .scan(0u64, |acc, w| {
            *acc += u64::from(w);
            Some(*acc)
        })
        .collect()
}

/// FNV-1a, 64 bits: a stable hash for the insurer tag of member numbers.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests;
