//! Degraded-mode invoices (docs/degraded-mode.md): while lookups were switched off for the
//! practice (a kill switch covering its insurer, care domain, channel, profession,
//! organisation, account, or everything) at some time of the care day (Paris time), a practice
//! bills the care without an engagement number: it sends the card's datamatrix token and the
//! patient's birth date and rank, as a rights check would. The card and the patient are matched
//! exactly like a rights check (`rights::CardMatcher`: a non-match is the same 404 as an unknown
//! engagement); an engagement is then recorded for the invoice, and every line is held to the
//! card's printed rate for the domain (`domain::invoices::hold_to_card_rate`). A domain the card
//! prints as `PEC` needs a prior approval, as always. Outside a switched-off time, an invoice
//! without an engagement number is refused (422, naming `engagement`) before any lookup, from
//! the signed token alone, so that the answer never tells a matching patient from another.
//!
//! The match is a lookup, so the guard observes it like a rights check's (`Guard::observe`:
//! non-matches count towards suspension, distinct beneficiaries, decoy cards suspend at once);
//! its admission is not asked (lookups are switched off by definition here), but a suspended
//! account never gets this far (`Authenticated` refuses it).

use super::claim::{ClaimFailure as F, Quoted, age_on, invalid};
use super::{CardTokenBody, InvoiceRequest};
use crate::Ports;
use crate::accounts::Actor;
use crate::guard::{Scope, channel, hours::paris_offset};
use crate::rights::{
    BeneficiaryHint, CardHints, CardMatcher, CardProof, ENGAGEMENT_VALID_DAYS, EngagementRecord,
    Evaluation, RightsError, RightsRequest, new_engagement_number, regime_on_card,
};
use domain::ids::BirthRank;
use domain::money::Rate;
use domain::rights::{CareDomain, Regime};
use time::Duration;

fn rights_failure(e: RightsError) -> F {
    match e {
        RightsError::Forbidden => F::Forbidden,
        RightsError::Invalid { field, reason } => invalid(field, reason),
        RightsError::Store(e) => F::Store(e),
        other => F::Internal(other.to_string()),
    }
}

/// Whether lookups were switched off for `actor` asking `domain` of the insurer `amc` at some
/// time of the care day.
async fn switched_off_that_day(
    ports: &Ports,
    actor: &Actor,
    profession: &str,
    amc: &str,
    domain: CareDomain,
    care_date: time::Date,
) -> Result<bool, F> {
    let noon = care_date.midnight().assume_utc() + Duration::hours(12);
    let from = care_date.midnight().assume_offset(paris_offset(noon));
    let to = from + Duration::days(1);
    let scopes = [
        Scope::Global,
        Scope::Insurer(amc.to_string()),
        Scope::Domain(domain.code().to_string()),
        Scope::Channel(channel(actor)),
        Scope::Profession(profession.to_string()),
        Scope::Organisation(actor.organisation_id),
        Scope::Account(actor.account_id),
    ];
    Ok(ports
        .store
        .find_kill_switches_overlapping(from, to)
        .await?
        .iter()
        .any(|s| scopes.contains(&s.scope)))
}

/// The quoted claim of a degraded-mode invoice: the matched beneficiary, a new engagement
/// (stored), the contract in effect, and the card's printed rate for the domain (`None`: the
/// card prints `PEC`, a prior approval decides).
pub(crate) async fn quote(
    ports: &Ports,
    guard: &crate::guard::Guard,
    actor: &Actor,
    request: &InvoiceRequest,
    card: &CardTokenBody,
    info: super::ClaimContextInfo,
) -> Result<(Quoted, Option<Rate>), F> {
    let request_id = info.request_id;
    let profession = crate::rights::caller_profession(ports, guard, actor)
        .await
        .map_err(rights_failure)?;
    let patient = request
        .patient
        .as_ref()
        .ok_or_else(|| invalid("patient", "is required with the card (degraded mode)"))?;
    let domain: CareDomain = request
        .domain
        .as_deref()
        .ok_or_else(|| invalid("domain", "is required with the card (degraded mode)"))?
        .parse()
        .map_err(|_| {
            invalid(
                "domain",
                "must be one of PHAR, MED, LABO, RAD, AUXM, SVIL, HOSP, DENT, OPTI, AUDI",
            )
        })?;
    if !profession.domains().contains(&domain) {
        return Err(invalid(
            "domain",
            "not a domain of the practice's profession",
        ));
    }
    let birth_rank = BirthRank::new(patient.birth_rank)
        .map_err(|_| invalid("patient.birth_rank", "must be a whole number from 1 to 9"))?;
    let rights_request = RightsRequest {
        card: CardProof::Token(card.token.clone()),
        patient: BeneficiaryHint {
            birth_date: patient.birth_date,
            birth_rank,
        },
        domain,
        care_date: request.care_date,
    };
    let mut hints = CardHints::of(ports, &rights_request.card);
    // Whether this is degraded mode, and what the card prints, are read from the signed token
    // before any lookup: the answer must not tell a matching patient from another.
    if let Some(amc) = &hints.amc {
        if !switched_off_that_day(
            ports,
            actor,
            profession.code(),
            amc,
            domain,
            request.care_date,
        )
        .await?
        {
            return Err(invalid(
                "engagement",
                "is required: lookups were not switched off for this practice on the care date, so quote the engagement number of a rights check",
            ));
        }
        let printed = hints
            .verified
            .as_ref()
            .and_then(|v| v.as_ref().ok())
            .is_some_and(|c| c.domains.iter().any(|d| d.code == domain.code()));
        if !printed {
            return Err(invalid(
                "domain",
                "the card prints no coverage for this domain",
            ));
        }
    }
    // A token that does not verify goes through the match all the same: a non-match.
    let verified = hints.verified.take();
    let evaluation = CardMatcher::new(ports)
        .evaluate_with(&rights_request, verified)
        .await
        .map_err(rights_failure)?;
    let matched_id = match &evaluation {
        Evaluation::Matched(m) => Some(m.beneficiary.id),
        Evaluation::NoMatch(_) => None,
    };
    guard
        .observe(&hints.observation(hints.request(actor, info.client_addr, domain), matched_id))
        .await;
    let matched = match evaluation {
        Evaluation::Matched(m) => m,
        Evaluation::NoMatch(_) => return Err(F::NotFound),
    };
    let regime = regime_on_card(&matched.card, domain)
        .map_err(rights_failure)?
        .ok_or_else(|| F::Internal("the stored card disagrees with its token".into()))?;
    let rate = match regime {
        Regime::Rate(r) => Some(r),
        Regime::PriorApproval => None,
    };
    let b = &matched.beneficiary;
    let engagement = EngagementRecord {
        id: ports.new_id(),
        number: new_engagement_number(ports.rng.as_ref()),
        insurer_id: b.insurer_id,
        beneficiary_id: b.id,
        card_id: matched.card.id,
        organisation_id: actor.organisation_id,
        actor_id: actor.account_id,
        domain,
        regime,
        care_date: request.care_date,
        valid_until: request.care_date + Duration::days(ENGAGEMENT_VALID_DAYS),
        request_id,
        created_at: ports.clock.now(),
    };
    ports.store.insert_engagement(&engagement).await?;
    let contract =
        crate::contracts::in_effect(ports, b.insurer_id, b.contract_id, request.care_date).await?;
    Ok((
        Quoted {
            age: age_on(patient.birth_date, request.care_date),
            engagement,
            beneficiary: matched.beneficiary.clone(),
            contract,
        },
        rate,
    ))
}
