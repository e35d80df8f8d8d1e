//! Rights checks: a practice that holds the patient's card asks whether that patient is
//! covered in one care domain on one day, and gets that and nothing else.
//!
//! [`RightsCheck::check`] runs, in this order and in one place:
//!
//! 1. **Who may ask** ([`caller_profession`]): practices only (their people signed in with a
//!    passkey, or their software with a client certificate); the practice's profession gives
//!    the domains it may ask ([`domain::accounts::Profession::domains`]). Insurer staff and
//!    operators may not run rights checks (403): they have no patient at a counter.
//! 2. **The guard's admission** ([`crate::guard::Guard::admit`]): kill switches (global,
//!    insurer, domain, channel, profession, organisation, account), suspensions, a pending
//!    step-up demand, the per-account and per-organisation rate limits. A refusal
//!    ([`RightsError::Refused`]) discloses nothing and is not ledgered.
//! 3. **The proof and the match** ([`RightsCheck::evaluate`]): the card is proven by its signed
//!    datamatrix token (verified offline with the published card keys, valid on the care date)
//!    or by the AMC number, member number and verification code (keyed-hash compare against
//!    each card of the member valid on the care date); then the member's family is read and
//!    exactly one beneficiary must have that birth rank and, once unsealed, that birth date.
//! 4. **The answer**: covered or not in that domain on that day (the beneficiary's own rights
//!    period and the regime the card prints for the domain); when covered, the regime and an
//!    engagement number ([`EngagementRecord`]) valid [`ENGAGEMENT_VALID_DAYS`] days.
//!    The disclosure is recorded in the ledger before the answer is returned, and the
//!    engagement with it, in the same group-commit transaction
//!    ([`crate::ledger::Ledger::record_granting`]): if it cannot be, the check fails, nothing
//!    is disclosed and no engagement exists.
//! 5. **The guard's observation** ([`crate::guard::Guard::observe`]): the match (the
//!    beneficiary's id, in memory only) or the non-match feeds its signals; a decoy card
//!    suspends the account at once. The answer already ledgered still leaves.
//!
//! **Every non-match is the same answer, after the same work**: an unknown card, a bad code,
//! a bad, expired or not-yet-valid token or one signed by an unknown key, a wrong birth date
//! or rank, two beneficiaries matching, or a domain outside the caller's profession all end in
//! [`RightsOutcome::NoMatch`] (the web layer sends one fixed body), and each path does the same
//! store reads, one signature verification, at least one keyed-hash compare (typed proof) and
//! at least one unseal (a decoy when there is no candidate). A matched beneficiary whose rights
//! are closed on that day is not a non-match: it is the answer "not covered", and it is ledgered.

pub mod access_log;
pub mod memory;
pub mod store;

pub use store::{EngagementRecord, NotMeReportRecord, RightsStore};

use crate::Ports;
use crate::accounts::Actor;
use crate::guard::{Guard, Observation, Outcome, Refusal};
use crate::ledger::{DataCategory, Disclosure, Ledger, Purpose};
use crate::store::{BeneficiaryRecord, CardRecord, StoreError};
use crypto::cards::{CardClaims, CardSigningKey, CardVerifyingKeys};
use crypto::{FieldRef, Sealer};
use domain::accounts::{Profession, Role};
use domain::ids::{AmcNumber, BirthRank, MemberNumber};
use domain::rights::{CareDomain, Regime};
use std::net::IpAddr;
use std::sync::{LazyLock, Mutex};
use time::{Date, Duration};
use uuid::Uuid;

/// How long an engagement can be quoted after the care date (prior-approval request or
/// invoice): 90 days, the care date excluded.
pub const ENGAGEMENT_VALID_DAYS: i64 = 90;
/// How far back a care date may be (late invoicing): 365 days before today.
pub const CARE_DATE_PAST_DAYS: i64 = 365;
/// How far ahead a care date may be (a planned admission or fitting): 90 days after today.
pub const CARE_DATE_FUTURE_DAYS: i64 = 90;

/// Proof that the card is at the counter.
#[derive(Clone, PartialEq, Eq)]
pub enum CardProof {
    /// The datamatrix token, `RP1.…`.
    Token(String),
    /// The card's fields typed by hand: AMC number, member number and verification code.
    Typed {
        amc: AmcNumber,
        member_number: MemberNumber,
        verification_code: String,
    },
}

impl std::fmt::Debug for CardProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CardProof::Token(_) => f.write_str("CardProof::Token(<redacted>)"),
            CardProof::Typed { .. } => f.write_str("CardProof::Typed(<redacted>)"),
        }
    }
}

/// Who the patient is among the card's beneficiaries. Identifying: `Debug` is redacted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct BeneficiaryHint {
    pub birth_date: Date,
    pub birth_rank: BirthRank,
}

impl std::fmt::Debug for BeneficiaryHint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BeneficiaryHint(<redacted>)")
    }
}

/// A rights check as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RightsRequest {
    pub card: CardProof,
    pub patient: BeneficiaryHint,
    pub domain: CareDomain,
    pub care_date: Date,
}

/// Where the request came from, for the ledger entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestContext {
    pub request_id: Uuid,
    pub client_addr: Option<IpAddr>,
}

/// The whole answer of a matched check: nothing else leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RightsAnswer {
    pub covered: bool,
    pub domain: CareDomain,
    pub care_date: Date,
    /// When covered: the regime the card prints for the domain.
    pub regime: Option<Regime>,
    /// When covered: the engagement number.
    pub engagement: Option<String>,
    /// When covered: the last day the engagement can be quoted.
    pub valid_until: Option<Date>,
}

/// What a check answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RightsOutcome {
    Answered(RightsAnswer),
    /// One answer for every kind of non-match (never say which).
    NoMatch,
}

/// Why a check did not match: for the guard's counters and the tests, never for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoMatchReason {
    /// Malformed token, bad signature, unknown key.
    BadToken,
    /// The card is not valid on the care date.
    CardNotValid,
    /// No card of that id, AMC number or member number.
    UnknownCard,
    /// The verification code matches no card of the member valid on the care date.
    BadCode,
    /// No beneficiary of the family has that birth date and rank.
    NoBeneficiary,
    /// More than one has.
    Ambiguous,
    /// The domain is not one of the caller's profession.
    DomainNotAllowed,
}

#[derive(Debug, thiserror::Error)]
pub enum RightsError {
    /// The caller's role may not run rights checks.
    #[error("this role may not run rights checks")]
    Forbidden,
    /// The request is well formed but not acceptable; names the field.
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The ledger could not record the disclosure: nothing was disclosed.
    #[error("the ledger could not record the disclosure: {0}")]
    Ledger(String),
    /// Unexpected (unreadable stored data, keys); never shown.
    #[error("internal: {0}")]
    Internal(String),
    /// The guard refused the request before any lookup (switched off, suspended, step-up
    /// demanded, throttled).
    #[error("refused by the guard: {0}")]
    Refused(Refusal),
}

/// A matched beneficiary and the card that proved it.
#[derive(Debug, Clone)]
pub struct Matched {
    pub card: CardRecord,
    pub beneficiary: BeneficiaryRecord,
}

/// The result of the proof and the match, before any disclosure.
#[derive(Debug, Clone)]
pub enum Evaluation {
    Matched(Box<Matched>),
    NoMatch(NoMatchReason),
}

/// The profession of a caller that may run rights checks: a practice's person or machine.
/// Read from the practice profile the guard keeps for a minute (a profession never changes),
/// from the store when the guard has none.
pub async fn caller_profession(
    ports: &Ports,
    guard: &Guard,
    actor: &Actor,
) -> Result<Profession, RightsError> {
    if actor.role != Role::Professional {
        return Err(RightsError::Forbidden);
    }
    if let Some(profession) = guard.practice_profession(actor.organisation_id).await {
        return Ok(profession);
    }
    match ports.store.get_practice(actor.organisation_id).await {
        Ok(practice) => Ok(practice.profession),
        Err(StoreError::NotFound) => Err(RightsError::Forbidden),
        Err(e) => Err(e.into()),
    }
}

/// Refuses a care date outside [today − 365 days, today + 90 days].
pub fn check_care_date(today: Date, care_date: Date) -> Result<(), RightsError> {
    if care_date < today - Duration::days(CARE_DATE_PAST_DAYS) {
        return Err(RightsError::Invalid {
            field: "care_date",
            reason: "must not be more than 365 days ago",
        });
    }
    if care_date > today + Duration::days(CARE_DATE_FUTURE_DAYS) {
        return Err(RightsError::Invalid {
            field: "care_date",
            reason: "must not be more than 90 days ahead",
        });
    }
    Ok(())
}

/// The rights-check use case over the ports, the ledger and the guard.
pub struct RightsCheck<'a> {
    pub ports: &'a Ports,
    pub ledger: &'a Ledger,
    pub guard: &'a Guard,
}

/// What the guard is told about the card before the match: the AMC number (typed, or from a
/// token whose signature verifies), the token's card id, the typed or signed member number.
/// Shared by the rights check and the degraded-mode invoice.
pub(crate) struct CardHints {
    pub(crate) amc: Option<String>,
    card_id: Option<Uuid>,
    member_number: Option<String>,
    /// The token's verification, done once for the guard and the proof.
    pub(crate) verified: Option<Result<CardClaims, crypto::cards::TokenError>>,
}

impl CardHints {
    pub(crate) fn of(ports: &Ports, card: &CardProof) -> Self {
        match card {
            CardProof::Token(token) => {
                let verified = crypto::cards::verify(token, &ports.vault.card_keys());
                let claims = verified.as_ref().ok();
                CardHints {
                    amc: claims.map(|c| c.amc_number.clone()),
                    card_id: claims.map(|c| c.card_id),
                    member_number: claims.map(|c| c.member_number.clone()),
                    verified: Some(verified),
                }
            }
            CardProof::Typed {
                amc, member_number, ..
            } => CardHints {
                amc: Some(amc.as_str().to_string()),
                card_id: None,
                member_number: Some(member_number.as_str().to_string()),
                verified: None,
            },
        }
    }

    /// The guard's view of a lookup of this card in `domain`.
    pub(crate) fn request<'a>(
        &'a self,
        actor: &'a Actor,
        client: Option<IpAddr>,
        domain: CareDomain,
    ) -> crate::guard::Request<'a> {
        crate::guard::Request {
            actor,
            client,
            insurer: self.amc.as_deref(),
            domain: Some(domain.code()),
        }
    }

    /// What the guard observes: the lookup and the beneficiary matched, if any.
    pub(crate) fn observation<'a>(
        &'a self,
        request: crate::guard::Request<'a>,
        matched: Option<Uuid>,
    ) -> Observation<'a> {
        Observation {
            request,
            card_id: self.card_id,
            member_number: self.member_number.as_deref(),
            outcome: match matched {
                Some(beneficiary) => Outcome::Match { beneficiary },
                None => Outcome::NonMatch,
            },
        }
    }
}

impl<'a> RightsCheck<'a> {
    pub fn new(ports: &'a Ports, ledger: &'a Ledger, guard: &'a Guard) -> Self {
        Self {
            ports,
            ledger,
            guard,
        }
    }

    /// Runs a rights check for `actor` (see the module documentation).
    pub async fn check(
        &self,
        actor: &Actor,
        context: RequestContext,
        request: &RightsRequest,
    ) -> Result<RightsOutcome, RightsError> {
        check_care_date(self.ports.clock.today(), request.care_date)?;
        let profession = caller_profession(self.ports, self.guard, actor).await?;
        let mut hints = CardHints::of(self.ports, &request.card);
        let verified = hints.verified.take();
        let guarded = hints.request(actor, context.client_addr, request.domain);
        self.guard
            .admit(&guarded)
            .await
            .map_err(RightsError::Refused)?;
        let evaluation = CardMatcher::new(self.ports)
            .evaluate_with(request, verified)
            .await?;
        let allowed = profession.domains().contains(&request.domain);
        // A domain outside the caller's profession is a non-match, whoever matched.
        let (outcome, matched) = match evaluation {
            Evaluation::Matched(m) if allowed => {
                let answer = self.disclose(actor, context, request, &m).await?;
                (RightsOutcome::Answered(answer), Some(m.beneficiary.id))
            }
            Evaluation::Matched(_) | Evaluation::NoMatch(_) => (RightsOutcome::NoMatch, None),
        };
        self.guard
            .observe(&hints.observation(guarded, matched))
            .await;
        Ok(outcome)
    }

    /// The proof and the match: no disclosure, no write ([`CardMatcher::evaluate`]).
    pub async fn evaluate(&self, request: &RightsRequest) -> Result<Evaluation, RightsError> {
        CardMatcher::new(self.ports).evaluate(request).await
    }

    /// The answer for a matched beneficiary: the disclosure ledgered with the engagement it
    /// grants, in one transaction (`Ledger::record_granting`).
    async fn disclose(
        &self,
        actor: &Actor,
        context: RequestContext,
        request: &RightsRequest,
        matched: &Matched,
    ) -> Result<RightsAnswer, RightsError> {
        let (answer, engagement) = self.answer_for(actor, context, request, matched)?;
        let categories = if answer.covered {
            vec![
                DataCategory::Coverage,
                DataCategory::Guarantees,
                DataCategory::Engagement,
            ]
        } else {
            vec![DataCategory::Coverage]
        };
        let disclosure = Disclosure {
            account_id: actor.session_id.map(|_| actor.account_id),
            organisation_id: actor.organisation_id,
            credential: credential(actor),
            insurer_id: matched.beneficiary.insurer_id,
            beneficiary_id: matched.beneficiary.id,
            categories,
            purpose: Purpose::RightsCheck,
            request_id: context.request_id.to_string(),
            client_addr: context.client_addr,
        };
        match engagement {
            Some(e) => self.ledger.record_granting(disclosure, e).await,
            None => self.ledger.record(disclosure).await,
        }
        .map_err(|e| RightsError::Ledger(e.to_string()))?;
        Ok(answer)
    }

    /// The answer, and when covered the engagement to store with the disclosure.
    fn answer_for(
        &self,
        actor: &Actor,
        context: RequestContext,
        request: &RightsRequest,
        matched: &Matched,
    ) -> Result<(RightsAnswer, Option<EngagementRecord>), RightsError> {
        let regime = regime_on_card(&matched.card, request.domain)?;
        let b = &matched.beneficiary;
        let in_rights = b.valid_from <= request.care_date
            && b.valid_to.is_none_or(|to| request.care_date <= to);
        let regime = regime.filter(|_| in_rights);
        let Some(regime) = regime else {
            let answer = RightsAnswer {
                covered: false,
                domain: request.domain,
                care_date: request.care_date,
                regime: None,
                engagement: None,
                valid_until: None,
            };
            return Ok((answer, None));
        };
        let valid_until = request.care_date + Duration::days(ENGAGEMENT_VALID_DAYS);
        let engagement = EngagementRecord {
            id: self.ports.new_id(),
            number: new_engagement_number(self.ports.rng.as_ref()),
            insurer_id: b.insurer_id,
            beneficiary_id: b.id,
            card_id: matched.card.id,
            organisation_id: actor.organisation_id,
            actor_id: actor.account_id,
            domain: request.domain,
            regime,
            care_date: request.care_date,
            valid_until,
            request_id: context.request_id,
            created_at: self.ports.clock.now(),
        };
        let answer = RightsAnswer {
            covered: true,
            domain: request.domain,
            care_date: request.care_date,
            regime: Some(regime),
            engagement: Some(engagement.number.clone()),
            valid_until: Some(valid_until),
        };
        Ok((answer, Some(engagement)))
    }
}

/// The proof of the card and the match of the patient, with the same work for every kind of
/// non-match (the module documentation): the rights check's step 3, and the degraded-mode
/// invoice's (`crate::invoices::degraded`).
pub struct CardMatcher<'a> {
    pub ports: &'a Ports,
}

impl<'a> CardMatcher<'a> {
    pub fn new(ports: &'a Ports) -> Self {
        Self { ports }
    }

    /// The proof and the match: no disclosure, no write.
    pub async fn evaluate(&self, request: &RightsRequest) -> Result<Evaluation, RightsError> {
        self.evaluate_with(request, None).await
    }

    /// [`Self::evaluate`], with the token's signature already checked by the caller
    /// (`verified`: the outcome of `crypto::cards::verify` on the request's token), so that a
    /// check verifies it once.
    pub async fn evaluate_with(
        &self,
        request: &RightsRequest,
        verified: Option<Result<CardClaims, crypto::cards::TokenError>>,
    ) -> Result<Evaluation, RightsError> {
        let proven = match &request.card {
            CardProof::Token(token) => {
                self.card_from_token(token, request.care_date, verified)
                    .await?
            }
            CardProof::Typed {
                amc,
                member_number,
                verification_code,
            } => {
                self.card_from_code(amc, member_number, verification_code, request.care_date)
                    .await?
            }
        };
        let (insurer_id, member) = match &proven {
            Ok(card) => (card.insurer_id, card.member_number.clone()),
            Err(_) => (Uuid::nil(), decoy_member()),
        };
        // The family (empty for the decoy: no insurer has the nil id).
        let family = self.ports.store.find_member(insurer_id, &member).await?;
        let found = self.match_beneficiary(&family, &request.patient)?;
        Ok(match (proven, found) {
            (Err(reason), _) => Evaluation::NoMatch(reason),
            (Ok(card), Ok(beneficiary)) => {
                Evaluation::Matched(Box::new(Matched { card, beneficiary }))
            }
            (Ok(_), Err(reason)) => Evaluation::NoMatch(reason),
        })
    }

    /// The card a token proves, valid on `care_date`.
    async fn card_from_token(
        &self,
        token: &str,
        care_date: Date,
        verified: Option<Result<CardClaims, crypto::cards::TokenError>>,
    ) -> Result<Result<CardRecord, NoMatchReason>, RightsError> {
        let verified =
            verified.unwrap_or_else(|| crypto::cards::verify(token, &self.ports.vault.card_keys()));
        let claims = match verified {
            Ok(claims) => Ok(claims),
            Err(_) => {
                decoy_verify();
                Err(NoMatchReason::BadToken)
            }
        };
        let claims = claims.and_then(|c| {
            if claims_valid_on(&c, care_date) {
                Ok(c)
            } else {
                Err(NoMatchReason::CardNotValid)
            }
        });
        let id = claims.as_ref().map_or(Uuid::nil(), |c| c.card_id);
        let card = match self.ports.store.get_card(id).await {
            Ok(card) => Some(card),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        Ok(match (claims, card) {
            (Err(reason), _) => Err(reason),
            (Ok(_), None) => Err(NoMatchReason::UnknownCard),
            (Ok(claims), Some(card)) => {
                if card.member_number.as_str() != claims.member_number
                    || !card_valid_on(&card, care_date)
                {
                    Err(NoMatchReason::UnknownCard)
                } else {
                    Ok(card)
                }
            }
        })
    }

    /// The card of `member` at the insurer of `amc`, valid on `care_date`, whose verification
    /// code is `code`.
    async fn card_from_code(
        &self,
        amc: &AmcNumber,
        member: &MemberNumber,
        code: &str,
        care_date: Date,
    ) -> Result<Result<CardRecord, NoMatchReason>, RightsError> {
        let insurer = self.ports.store.find_insurer_by_amc(amc).await?;
        let insurer_id = insurer.as_ref().map_or(Uuid::nil(), |i| i.id);
        let cards = self
            .ports
            .store
            .find_member_cards(insurer_id, member)
            .await?;
        let hasher = self.ports.vault.code_hasher();
        let valid: Vec<CardRecord> = cards
            .into_iter()
            .filter(|c| card_valid_on(c, care_date))
            .collect();
        if valid.is_empty() {
            // The same keyed-hash work as a real compare, against nothing.
            let _ = hasher.verify(Uuid::nil(), code, &[0u8; 32]);
            return Ok(Err(if insurer.is_none() {
                NoMatchReason::UnknownCard
            } else {
                NoMatchReason::BadCode
            }));
        }
        let mut hit = None;
        for card in valid {
            // Every candidate is compared, whatever the first one gives.
            if crate::cards::code_matches(hasher, &card, code) && hit.is_none() {
                hit = Some(card);
            }
        }
        Ok(hit.ok_or(NoMatchReason::BadCode))
    }

    /// The one beneficiary of `family` with that birth rank and birth date.
    fn match_beneficiary(
        &self,
        family: &[BeneficiaryRecord],
        hint: &BeneficiaryHint,
    ) -> Result<Result<BeneficiaryRecord, NoMatchReason>, RightsError> {
        let candidates: Vec<&BeneficiaryRecord> = family
            .iter()
            .filter(|b| b.birth_rank == hint.birth_rank)
            .collect();
        if candidates.is_empty() {
            decoy_unseal(&self.ports.vault);
            return Ok(Err(NoMatchReason::NoBeneficiary));
        }
        let mut matching = Vec::with_capacity(1);
        for b in candidates {
            match crate::beneficiaries::open_birth_date(&self.ports.vault, b) {
                Ok(d) if d == hint.birth_date => matching.push(b),
                Ok(_) => {}
                // A shredded insurer's beneficiaries cannot be opened: they are gone.
                Err(crate::beneficiaries::OpenError::NoKey) => {}
                Err(e) => return Err(RightsError::Internal(e.to_string())),
            }
        }
        Ok(match matching.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(NoMatchReason::NoBeneficiary),
            _ => Err(NoMatchReason::Ambiguous),
        })
    }
}

/// The credential a ledger entry names: `passkey:<credential id>` for a person signed in
/// with a passkey, `cert:<certificate id>` for a machine (its client certificate's record).
pub fn credential(actor: &Actor) -> String {
    match (actor.session_id, actor.credential_id) {
        (Some(_), Some(id)) => format!("passkey:{id}"),
        (Some(_), None) => format!("session:{}", actor.account_id),
        (None, _) => format!("cert:{}", actor.credential_id.unwrap_or(actor.account_id)),
    }
}

/// The regime the card prints for `domain`, if any.
pub fn regime_on_card(
    card: &CardRecord,
    domain: CareDomain,
) -> Result<Option<Regime>, RightsError> {
    let domains = crate::cards::parse_domains(&card.domains)
        .map_err(|e| RightsError::Internal(e.to_string()))?;
    Ok(domains
        .into_iter()
        .find(|(d, _)| *d == domain)
        .map(|(_, r)| r))
}

fn card_valid_on(card: &CardRecord, day: Date) -> bool {
    card.valid_from <= day && day <= card.valid_to
}

fn claims_valid_on(claims: &CardClaims, day: Date) -> bool {
    match (
        crate::cards::date_from_days(claims.valid_from),
        crate::cards::date_from_days(claims.valid_to),
    ) {
        (Some(from), Some(to)) => from <= day && day <= to,
        _ => false,
    }
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new engagement number: `E` and 20 Crockford base32 characters (100 random bits).
pub fn new_engagement_number(rng: &dyn crate::SecureRandom) -> String {
    let mut bytes = [0u8; 13];
    rng.fill(&mut bytes);
    let mut bits: u128 = 0;
    for b in bytes {
        bits = bits << 8 | u128::from(b);
    }
    let mut out = String::with_capacity(21);
    out.push('E');
    for i in 0..20 {
        let index = ((bits >> (99 - 5 * i - 4)) & 0x1F) as usize;
        out.push(char::from(CROCKFORD[index]));
    }
    out
}

/// Whether `s` has the shape of an engagement number (`E` + 20 Crockford base32 characters).
pub fn is_engagement_number(s: &str) -> bool {
    s.len() == 21 && s.starts_with('E') && s.bytes().skip(1).all(|b| CROCKFORD.contains(&b))
}

// ---- decoys: the same work on the non-match paths ----

/// A member number no card carries (the decoy family read).
fn decoy_member() -> MemberNumber {
    static MEMBER: LazyLock<Option<MemberNumber>> =
        LazyLock::new(|| MemberNumber::parse("0000000000").ok());
    MEMBER
        .clone()
        .unwrap_or_else(|| unreachable!("the decoy member number is a member number"))
}

/// A token signed by a key nobody else uses, and that key: verifying it costs what verifying a
/// real token costs.
struct DecoyToken {
    token: String,
    keys: CardVerifyingKeys,
}

static DECOY_TOKEN: LazyLock<Option<DecoyToken>> = LazyLock::new(|| {
    let key = CardSigningKey::from_seed(1, &[0x5a; 32]);
    let claims = CardClaims {
        card_id: Uuid::nil(),
        amc_number: "100000000".into(),
        member_number: "0000000000".into(),
        valid_from: 0,
        valid_to: 0,
        domains: vec![crypto::cards::CardDomain {
            code: "PHAR".into(),
            regime: crypto::cards::Regime::RateBps(10_000),
        }],
    };
    let token = key.sign(&claims).ok()?;
    let mut keys = CardVerifyingKeys::new();
    keys.insert(1, key.verifying_key()).ok()?;
    Some(DecoyToken { token, keys })
});

fn decoy_verify() {
    if let Some(d) = DECOY_TOKEN.as_ref() {
        let _ = crypto::cards::verify(&d.token, &d.keys);
    }
}

/// A birth date sealed under the platform scope of the current vault (keyed by the platform
/// key id, resealed when another vault is in use), opened when no candidate exists.
static DECOY_SEALED: Mutex<Option<(u32, Vec<u8>)>> = Mutex::new(None);

fn decoy_field() -> FieldRef {
    FieldRef::new(crate::beneficiaries::TABLE, "birth_date", Uuid::nil())
}

fn decoy_unseal(vault: &crate::keys::Vault) {
    let scope = crypto::envelope::PLATFORM_SCOPE;
    let Ok(sealer) = vault.sealer(scope) else {
        return;
    };
    let Some(kid) = vault.current_key_id(scope) else {
        return;
    };
    let sealed = {
        let mut guard = DECOY_SEALED.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some((k, s)) if *k == kid => s.clone(),
            _ => match sealer.seal(&decoy_field(), b"1970-01-01") {
                Ok(s) => {
                    *guard = Some((kid, s.clone()));
                    s
                }
                Err(_) => return,
            },
        }
    };
    let _ = sealer.open_string(&decoy_field(), &sealed);
}

#[cfg(test)]
mod tests;
