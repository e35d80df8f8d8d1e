//! Decoy cards: the operator issues cards that no real patient holds (`rempart decoy issue`).
//! They are signed and coded like any card of the insurer, under a member number that no
//! beneficiary or card of that insurer has, and stored only in `decoy_cards`. A lookup of one
//! gets the ordinary non-match answer, and the guard suspends the account at once with a
//! critical alert ([`super::Guard::observe`]).

use super::store::DecoyCardRecord;
use crate::Ports;
use crate::cards::{CardBeneficiary, CardError, CardIssuer};
use crate::store::InsurerRecord;
use domain::ids::{BirthRank, MemberNumber};
use time::{Date, Duration};

/// An issued decoy: what to print or plant (token and code are shown once, never stored).
#[derive(Debug, Clone)]
pub struct IssuedDecoy {
    pub record: DecoyCardRecord,
    /// The datamatrix token.
    pub token: String,
    /// The verification code printed under it.
    pub code: String,
}

/// Issues `count` decoy cards of `insurer`, valid from today for a year, and stores them.
pub async fn issue(
    ports: &Ports,
    insurer: &InsurerRecord,
    count: u32,
) -> Result<Vec<IssuedDecoy>, CardError> {
    if count == 0 || count > 1000 {
        return Err(CardError::Invalid("count: between 1 and 1000"));
    }
    let today = ports.clock.today();
    let contract = ports
        .store
        .list_contracts(insurer.id)
        .await?
        .into_iter()
        .find(|c| c.effective_from <= today && c.effective_to.is_none_or(|to| to >= today))
        .ok_or(CardError::Invalid(
            "the insurer has no contract in effect today to print on a decoy",
        ))?;
    let issuer = CardIssuer::from_vault(&ports.vault);
    let mut taken: std::collections::HashSet<String> = ports
        .store
        .list_decoy_cards()
        .await?
        .into_iter()
        .filter(|d| d.insurer_id == insurer.id)
        .map(|d| d.member_number)
        .collect();
    let mut out = Vec::with_capacity(count as usize);
    while out.len() < count as usize {
        let member = fresh_member(ports, insurer, &taken).await?;
        taken.insert(member.as_str().to_string());
        let family = [CardBeneficiary {
            first_name: "DECOY".to_string(),
            birth_date: Date::from_calendar_date(1970, time::Month::January, 1)
                .map_err(|_| CardError::Invalid("date"))?,
            birth_rank: BirthRank::new(1).map_err(|_| CardError::Invalid("birth rank"))?,
        }];
        let valid_to = today + Duration::days(365);
        let card = issuer.issue(
            ports,
            insurer,
            &member,
            &family,
            &contract,
            (today, valid_to),
        )?;
        out.push(IssuedDecoy {
            record: DecoyCardRecord {
                id: card.record.id,
                insurer_id: insurer.id,
                amc: insurer.amc.as_str().to_string(),
                member_number: member.as_str().to_string(),
                code_hash: card.record.code_hash.clone(),
                signing_kid: card.record.signing_kid,
                valid_from: today,
                valid_to,
                created_at: ports.clock.now(),
            },
            token: card.token,
            code: card.code.as_str().to_string(),
        });
    }
    let records: Vec<DecoyCardRecord> = out.iter().map(|d| d.record.clone()).collect();
    ports.store.insert_decoy_cards(&records).await?;
    Ok(out)
}

/// A 10-digit member number that no beneficiary, card or decoy of the insurer has.
async fn fresh_member(
    ports: &Ports,
    insurer: &InsurerRecord,
    decoys: &std::collections::HashSet<String>,
) -> Result<MemberNumber, CardError> {
    loop {
        let mut b = [0u8; 8];
        ports.rng.fill(&mut b);
        let n = u64::from_be_bytes(b) % 9_000_000_000 + 1_000_000_000;
        let member =
            MemberNumber::parse(&n.to_string()).map_err(|_| CardError::Invalid("member number"))?;
        let taken = !ports
            .store
            .find_member(insurer.id, &member)
            .await?
            .is_empty()
            || !ports
                .store
                .find_member_cards(insurer.id, &member)
                .await?
                .is_empty()
            || decoys.contains(member.as_str());
        if !taken {
            return Ok(member);
        }
    }
}
