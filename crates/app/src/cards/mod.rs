//! Cards: issuing a member family's tiers-payant card for one validity period.
//!
//! A card carries the Inter-AMC fields (AMC number, convention type, routing criterion,
//! member number, validity), the domain codes with their rates or `PEC`, and — printed only,
//! never stored in clear — the beneficiaries' first names, dates of birth and birth ranks.
//! Its datamatrix is a signed token ([`crypto::cards`], docs/formats.md "Card token"); its
//! verification code is stored only as a keyed hash ([`CodeHasher`]).
//!
//! Issuance is pure: [`CardIssuer::issue`] (or [`issue`]) builds the [`CardRecord`], signs the token with the vault's
//! current card-signing key, draws a verification code and hashes it; the caller inserts the
//! records (`Store::insert_cards`) in its own batch.

use crate::Ports;
use crate::keys::Vault;
use crate::ledger::{DataCategory, Disclosure, Ledger, Purpose};
use crate::store::{CardRecord, ContractRecord, InsurerRecord};
use crypto::cards::{CardClaims, CardDomain, Regime as TokenRegime, VerificationCode};
use crypto::{CardSigningKey, CodeHasher, TokenError};
use domain::ids::{BirthRank, MemberNumber};
use domain::money::Rate;
use domain::rights::{CareDomain, Regime};
use serde::Deserialize;
use std::sync::Arc;
use time::Date;

/// The convention type printed on cards issued by rempart (standard tiers payant).
pub const CONVENTION_TYPE: &str = "TP";

#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The contract's guarantee table cannot be read (the message names no person).
    #[error("contract guarantees are unreadable: {0}")]
    Guarantees(String),
    /// A stored card's domain list cannot be read.
    #[error("card domains are unreadable: {0}")]
    Domains(String),
    #[error("card cannot be issued: {0}")]
    Invalid(&'static str),
    /// The card keys could not be obtained (vault).
    #[error("card keys are unavailable: {0}")]
    Keys(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A beneficiary of the card's family cannot be unsealed (the message names no person).
    #[error("a beneficiary cannot be opened: {0}")]
    Open(String),
    /// The export could not be recorded in the access ledger: nothing may be handed over.
    #[error("the export cannot be ledgered: {0}")]
    Ledger(String),
}

/// Who exports an insurer's cards, as the access ledger records it: one entry per printed
/// beneficiary, purpose `card_export`, organisation the insurer (the cards go to its printer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardExport {
    /// The exporter (`cli:{user}` for `rempart cards export`).
    pub credential: String,
    /// One id for the whole export run, on every entry.
    pub request_id: String,
}

/// One beneficiary as printed on the card. Identifying: it only exists in memory and in the
/// printer's export, never in clear in the database. `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct CardBeneficiary {
    pub first_name: String,
    pub birth_date: Date,
    pub birth_rank: BirthRank,
}

impl std::fmt::Debug for CardBeneficiary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CardBeneficiary(<redacted>)")
    }
}

/// A freshly issued card: the record to insert, the datamatrix token and the verification
/// code (printed under the datamatrix; only its hash is in `record.code_hash`).
#[derive(Debug, Clone)]
pub struct IssuedCard {
    pub record: CardRecord,
    pub token: String,
    pub code: VerificationCode,
    /// The family as printed, in the order given.
    pub beneficiaries: Vec<CardBeneficiary>,
}

/// A stored card given a new token and a new verification code (export to the printer).
#[derive(Debug, Clone)]
pub struct ReissuedCard {
    /// The card with its new `signing_kid` and `code_hash` (store them before handing the
    /// code out: the previous code no longer matches).
    pub record: CardRecord,
    pub token: String,
    pub code: VerificationCode,
}

/// Issues cards with one card-signing key and the code hasher. Cheap to build (an `Arc` and a
/// key copy): build one per import run or batch with [`CardIssuer::from_vault`], which takes
/// the vault's current key, so that a key rotation applies from the next run.
#[derive(Clone)]
pub struct CardIssuer {
    signer: Arc<CardSigningKey>,
    hasher: CodeHasher,
}

impl std::fmt::Debug for CardIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardIssuer")
            .field("kid", &self.signer.kid())
            .finish_non_exhaustive()
    }
}

impl CardIssuer {
    pub fn new(signer: Arc<CardSigningKey>, hasher: CodeHasher) -> Self {
        Self { signer, hasher }
    }

    /// The vault's current card-signing key and its code hasher.
    pub fn from_vault(vault: &Vault) -> Self {
        Self::new(vault.card_signer(), vault.code_hasher().clone())
    }

    /// The kid of the key this issuer signs with.
    pub fn kid(&self) -> u32 {
        self.signer.kid()
    }

    pub fn code_hasher(&self) -> &CodeHasher {
        &self.hasher
    }

    /// Issues the card of `member`'s family (`family`, as printed, in print order) for
    /// `validity` (first and last day, included) under `contract`, with a fresh verification
    /// code whose keyed hash is in `record.code_hash`. Pure: nothing is stored; insert
    /// `IssuedCard::record` with `Store::insert_cards` in the caller's batch.
    pub fn issue(
        &self,
        ports: &Ports,
        insurer: &InsurerRecord,
        member: &MemberNumber,
        family: &[CardBeneficiary],
        contract: &ContractRecord,
        validity: (Date, Date),
    ) -> Result<IssuedCard, CardError> {
        let domains = domains_from_guarantees(&contract.guarantees)?;
        let record = self.new_record(
            ports,
            insurer,
            member,
            family.len(),
            contract,
            validity,
            domains_text(&domains),
        )?;
        let ReissuedCard {
            record,
            token,
            code,
        } = sign_and_code(ports, &self.signer, &self.hasher, insurer, record, &domains)?;
        Ok(IssuedCard {
            record,
            token,
            code,
            beneficiaries: family.to_vec(),
        })
    }

    /// The card record an import stores for a family of `family_size` under `contract`, whose
    /// domain list (`domains`, from [`card_domains_text`] of that contract, computed once per
    /// contract) it carries — but no token and no verification code (an empty `code_hash`,
    /// which no code matches): nothing takes a card from an import to a counter without
    /// printing it, and printing ([`export_page`]) signs a new token and draws a new code for
    /// every card it prints, so a token or a code made here would be thrown away unseen (the
    /// token was 15 % of an import's CPU; the code a keyed hash and 33 bytes per card).
    #[allow(clippy::too_many_arguments)]
    pub fn issue_unprinted(
        &self,
        ports: &Ports,
        insurer: &InsurerRecord,
        member: &MemberNumber,
        family_size: usize,
        contract: &ContractRecord,
        validity: (Date, Date),
        domains: &str,
    ) -> Result<CardRecord, CardError> {
        self.new_record(
            ports,
            insurer,
            member,
            family_size,
            contract,
            validity,
            domains.to_string(),
        )
    }

    /// A card record without its code: the checks every issued card passes.
    #[allow(clippy::too_many_arguments)]
    fn new_record(
        &self,
        ports: &Ports,
        insurer: &InsurerRecord,
        member: &MemberNumber,
        family_size: usize,
        contract: &ContractRecord,
        (from, to): (Date, Date),
        domains: String,
    ) -> Result<CardRecord, CardError> {
        if contract.insurer_id != insurer.id {
            return Err(CardError::Invalid(
                "the contract belongs to another insurer",
            ));
        }
        if family_size == 0 {
            return Err(CardError::Invalid("a card needs at least one beneficiary"));
        }
        if to < from {
            return Err(CardError::Invalid("validity ends before it starts"));
        }
        Ok(CardRecord {
            id: ports.new_id(),
            insurer_id: insurer.id,
            member_number: member.clone(),
            convention_type: CONVENTION_TYPE.to_string(),
            routing_criterion: routing_criterion(insurer),
            valid_from: from,
            valid_to: to,
            domains,
            signing_kid: self.signer.kid(),
            code_hash: Vec::new(),
            created_at: ports.clock.now(),
        })
    }

    /// A new token and a new verification code for a stored card; store `record.signing_kid`
    /// and `record.code_hash` (`Store::update_card_codes`) before handing the code out.
    pub fn reissue(
        &self,
        ports: &Ports,
        insurer: &InsurerRecord,
        card: &CardRecord,
    ) -> Result<ReissuedCard, CardError> {
        if card.insurer_id != insurer.id {
            return Err(CardError::Invalid("the card belongs to another insurer"));
        }
        let domains = parse_domains(&card.domains)?;
        sign_and_code(
            ports,
            &self.signer,
            &self.hasher,
            insurer,
            card.clone(),
            &domains,
        )
    }
}

/// [`CardIssuer::issue`] with the vault's current key (`ports.vault.card_signer()`).
pub fn issue(
    ports: &Ports,
    insurer: &InsurerRecord,
    member: &MemberNumber,
    family: &[CardBeneficiary],
    contract: &ContractRecord,
    validity: (Date, Date),
) -> Result<IssuedCard, CardError> {
    CardIssuer::from_vault(&ports.vault).issue(ports, insurer, member, family, contract, validity)
}

/// [`CardIssuer::reissue`] with the vault's current key.
pub fn reissue(
    ports: &Ports,
    insurer: &InsurerRecord,
    card: &CardRecord,
) -> Result<ReissuedCard, CardError> {
    CardIssuer::from_vault(&ports.vault).reissue(ports, insurer, card)
}

/// A new verification code for card `card_id` and its keyed hash (what the store keeps).
fn fresh_code(
    ports: &Ports,
    hasher: &CodeHasher,
    card_id: uuid::Uuid,
) -> Result<(VerificationCode, Vec<u8>), CardError> {
    let code = crypto::cards::generate_verification_code(ports.rng.as_ref());
    let hash = hasher
        .hash(card_id, code.as_str())
        .ok_or(CardError::Invalid("generated code is not a code"))?;
    Ok((code, hash.to_vec()))
}

fn sign_and_code(
    ports: &Ports,
    signer: &CardSigningKey,
    hasher: &CodeHasher,
    insurer: &InsurerRecord,
    mut record: CardRecord,
    domains: &[(CareDomain, Regime)],
) -> Result<ReissuedCard, CardError> {
    let claims = claims(insurer, &record, domains)?;
    let token = signer.sign(&claims)?;
    let (code, hash) = fresh_code(ports, hasher, record.id)?;
    record.signing_kid = signer.kid();
    record.code_hash = hash;
    Ok(ReissuedCard {
        record,
        token,
        code,
    })
}

/// One page of the export to an insurer's card printer: the next `limit` cards of `insurer`
/// after `after` (by id), each re-issued with a new token (current key) and a new
/// verification code, with its family as printed (beneficiaries whose rights overlap the
/// card's validity, assuré first, then by birth rank). The new code hashes are stored in one
/// transaction before returning: the previous codes of these cards no longer match. Every
/// printed beneficiary is first recorded in `ledger` (see [`CardExport`]): if the ledger
/// fails, the page fails and the stored codes are unchanged. Returns the cards and the id to
/// continue after (`None`: done).
pub async fn export_page(
    ports: &Ports,
    ledger: &Ledger,
    export: &CardExport,
    insurer: &InsurerRecord,
    after: Option<uuid::Uuid>,
    limit: u32,
) -> Result<(Vec<IssuedCard>, Option<uuid::Uuid>), CardError> {
    let cards = ports
        .store
        .list_insurer_cards(insurer.id, after, limit)
        .await?;
    let next = cards.last().map(|c| c.id);
    let issuer = CardIssuer::from_vault(&ports.vault);
    let mut out = Vec::with_capacity(cards.len());
    let mut disclosures = Vec::with_capacity(cards.len() * 2);
    // The families of the page's members, in one lookup.
    let mut members: Vec<MemberNumber> = cards.iter().map(|c| c.member_number.clone()).collect();
    members.sort();
    members.dedup();
    let mut families: std::collections::HashMap<
        MemberNumber,
        Vec<crate::store::BeneficiaryRecord>,
    > = std::collections::HashMap::new();
    for b in ports
        .store
        .find_beneficiaries_of_members(insurer.id, &members)
        .await?
    {
        families
            .entry(b.record.member_number.clone())
            .or_default()
            .push(b.record);
    }
    for card in &cards {
        let mut members: Vec<&crate::store::BeneficiaryRecord> = families
            .get(&card.member_number)
            .map(|f| {
                f.iter()
                    .filter(|b| {
                        b.valid_from <= card.valid_to
                            && b.valid_to.is_none_or(|t| t >= card.valid_from)
                    })
                    .collect()
            })
            .unwrap_or_default();
        members.sort_by_key(|b| (b.quality.code(), b.birth_rank.get()));
        let mut printed = Vec::with_capacity(members.len());
        for b in members {
            let identity = crate::beneficiaries::open_identity(&ports.vault, b)
                .map_err(|e| CardError::Open(e.to_string()))?;
            disclosures.push(Disclosure {
                account_id: None,
                organisation_id: insurer.id,
                credential: export.credential.clone(),
                insurer_id: insurer.id,
                beneficiary_id: b.id,
                categories: vec![
                    DataCategory::Identity,
                    DataCategory::Membership,
                    DataCategory::Guarantees,
                ],
                purpose: Purpose::CardExport,
                request_id: export.request_id.clone(),
                client_addr: None,
            });
            printed.push(CardBeneficiary {
                first_name: identity.first_name.clone(),
                birth_date: identity.birth_date,
                birth_rank: identity.birth_rank,
            });
        }
        let again = issuer.reissue(ports, insurer, card)?;
        out.push(IssuedCard {
            record: again.record,
            token: again.token,
            code: again.code,
            beneficiaries: printed,
        });
    }
    // Ledgered before anything changes or leaves.
    ledger
        .record_all(disclosures)
        .await
        .map_err(|e| CardError::Ledger(e.to_string()))?;
    let updates: Vec<crate::store::CardCodeUpdate> = out
        .iter()
        .map(|c| crate::store::CardCodeUpdate {
            id: c.record.id,
            signing_kid: c.record.signing_kid,
            code_hash: c.record.code_hash.clone(),
        })
        .collect();
    ports.store.update_card_codes(insurer.id, &updates).await?;
    Ok((out, next))
}

/// Whether `code` is the verification code of `card` (constant-time compare of keyed hashes).
pub fn code_matches(hasher: &CodeHasher, card: &CardRecord, code: &str) -> bool {
    !card.code_hash.is_empty() && hasher.verify(card.id, code, &card.code_hash)
}

/// The routing criterion printed on an insurer's cards. Until insurers carry their own card
/// terms, the demo insurers print their short code and every other insurer its AMC number.
pub fn routing_criterion(insurer: &InsurerRecord) -> String {
    crate::demo::INSURERS
        .iter()
        .find(|(_, amc, _)| *amc == insurer.amc.as_str())
        .map_or_else(
            || insurer.amc.as_str().to_string(),
            |(_, _, r)| r.to_string(),
        )
}

fn days_since_epoch(d: Date) -> i32 {
    d.to_julian_day() - 2_440_588
}

/// The date `days` days after 1970-01-01 (token validity fields).
pub fn date_from_days(days: i32) -> Option<Date> {
    Date::from_julian_day(days.checked_add(2_440_588)?).ok()
}

/// The claims a card's token asserts.
pub fn claims(
    insurer: &InsurerRecord,
    card: &CardRecord,
    domains: &[(CareDomain, Regime)],
) -> Result<CardClaims, CardError> {
    let domains = domains
        .iter()
        .map(|&(d, r)| {
            let regime = match r {
                Regime::PriorApproval => TokenRegime::Pec,
                Regime::Rate(rate) => TokenRegime::RateBps(
                    u16::try_from(rate.basis_points())
                        .ok()
                        .filter(|&bp| bp < u16::MAX)
                        .ok_or(CardError::Invalid("rate above 655.34 %"))?,
                ),
            };
            Ok(CardDomain {
                code: d.code().to_string(),
                regime,
            })
        })
        .collect::<Result<Vec<_>, CardError>>()?;
    Ok(CardClaims {
        card_id: card.id,
        amc_number: insurer.amc.as_str().to_string(),
        member_number: card.member_number.as_str().to_string(),
        valid_from: days_since_epoch(card.valid_from),
        valid_to: days_since_epoch(card.valid_to),
        domains,
    })
}

// --- guarantees → domain regimes ---

#[derive(Deserialize)]
struct Guarantees {
    lines: Vec<GuaranteeLine>,
}

#[derive(Deserialize)]
struct GuaranteeLine {
    domain: String,
    item: String,
    formula: Formula,
}

#[derive(Deserialize)]
struct Formula {
    kind: String,
    #[serde(default)]
    percent: Option<u32>,
}

/// The regime of each care domain printed on a card, from a contract's guarantee table
/// (docs/formats.md): `OPTI` and `AUDI` print `PEC` (prior approval); every other domain
/// prints the rate of its whole-domain line (`item` `*`, a `br_percent` or
/// `br_percent_plus` formula, or 100 % for `in_full`/`tm_plus`). A domain without a
/// whole-domain line is not printed.
pub fn domains_from_guarantees(json: &str) -> Result<Vec<(CareDomain, Regime)>, CardError> {
    let g: Guarantees =
        serde_json::from_str(json).map_err(|e| CardError::Guarantees(e.to_string()))?;
    let mut out = Vec::with_capacity(CareDomain::ALL.len());
    for d in CareDomain::ALL {
        if d.needs_prior_approval() {
            if g.lines.iter().any(|l| l.domain == d.code()) {
                out.push((d, Regime::PriorApproval));
            }
            continue;
        }
        let Some(line) = g
            .lines
            .iter()
            .find(|l| l.domain == d.code() && l.item == "*")
        else {
            continue;
        };
        let percent = match (line.formula.kind.as_str(), line.formula.percent) {
            ("br_percent" | "br_percent_plus", Some(p)) => p,
            ("in_full" | "tm_plus", _) => 100,
            _ => {
                return Err(CardError::Guarantees(format!(
                    "domain {}: formula {} has no rate",
                    d.code(),
                    line.formula.kind
                )));
            }
        };
        let rate = Rate::checked_percent(percent)
            .ok_or_else(|| CardError::Guarantees(format!("domain {}: rate too high", d.code())))?;
        out.push((d, Regime::Rate(rate)));
    }
    Ok(out)
}

/// `cards.domains`: `PHAR=100%;MED=100%;…;OPTI=PEC` — each domain's code, `=`, its rate as
/// printed or `PEC`, separated by `;` (docs/formats.md). The stored domain list of the cards
/// issued under `contract` (its guarantee table read once).
pub fn card_domains_text(contract: &ContractRecord) -> Result<String, CardError> {
    Ok(domains_text(&domains_from_guarantees(
        &contract.guarantees,
    )?))
}

/// The `cards.domains` text of `domains`.
pub fn domains_text(domains: &[(CareDomain, Regime)]) -> String {
    domains
        .iter()
        .map(|(d, r)| format!("{}={r}", d.code()))
        .collect::<Vec<_>>()
        .join(";")
}

/// Reads `cards.domains` back (the empty text is no domain).
pub fn parse_domains(text: &str) -> Result<Vec<(CareDomain, Regime)>, CardError> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(';')
        .map(|entry| {
            let (code, regime) = entry
                .split_once('=')
                .ok_or_else(|| CardError::Domains("a domain has no regime".into()))?;
            let d: CareDomain = code
                .parse()
                .map_err(|_| CardError::Domains("unknown domain code".into()))?;
            let r = parse_regime(regime)
                .ok_or_else(|| CardError::Domains(format!("domain {}: bad regime", d.code())))?;
            Ok((d, r))
        })
        .collect()
}

/// `PEC`, or a rate as printed (`100%`, `12.50%`).
pub fn parse_regime(s: &str) -> Option<Regime> {
    if s == "PEC" {
        return Some(Regime::PriorApproval);
    }
    let number = s.strip_suffix('%')?;
    let (whole, frac) = match number.split_once('.') {
        Some((w, f)) if f.len() == 2 => (w, f),
        Some(_) => return None,
        None => (number, "00"),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let bp = whole
        .parse::<u32>()
        .ok()?
        .checked_mul(100)?
        .checked_add(frac.parse::<u32>().ok()?)?;
    Some(Regime::Rate(Rate::from_basis_points(bp)))
}

/// A token regime as printed (`100%`, `PEC`).
pub fn token_regime_text(r: TokenRegime) -> String {
    match r {
        TokenRegime::Pec => "PEC".to_string(),
        TokenRegime::RateBps(bp) => Rate::from_basis_points(u32::from(bp)).to_string(),
    }
}

#[cfg(test)]
mod tests;
