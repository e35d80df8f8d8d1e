//! `rempart invite`: a one-time enrolment link (72 h, single use) for a role in an
//! organisation, made by the local operator. The token is a secret: it is printed once (in the
//! link) and never logged.

use crate::cli::InviteArgs;
use crate::config::Config;
use anyhow::bail;
use app::Ports;
use app::accounts::{Access, InviteRequest, NewInvitation};
use domain::accounts::{ProfessionalId, Role};
use domain::ids::{AmNumber, AmcNumber};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// What `--json` prints and the demo writes to `demo-invitations.json`, per invitation.
#[derive(Debug, Clone, Serialize)]
pub struct InvitationOut {
    pub role: String,
    pub organisation: String,
    pub organisation_id: Uuid,
    /// The profession of a practice (`optician`, …), for professionals.
    pub profession: Option<String>,
    pub professional_id: Option<String>,
    pub display_name: Option<String>,
    pub invitation: String,
    pub link: String,
    pub expires_at: String,
}

pub async fn run(config: &Config, args: &InviteArgs) -> anyhow::Result<()> {
    let role: Role = args
        .role
        .parse()
        .map_err(|_| usage("--role must be operator_admin, operator_analyst, auditor, insurer_staff or professional"))?;
    let professional_id = args
        .professional
        .as_deref()
        .map(parse_professional)
        .transpose()?;
    let ports = crate::storage::open(config, crate::storage::MissingKeys::Create).await?;
    let organisation_id = resolve_organisation(&ports, &args.org).await?;
    let access = open_access(config, ports.clone(), config.listen.port())?;
    let new = access
        .invite(
            None,
            InviteRequest {
                role,
                organisation_id,
                display_name: args.name.clone(),
                professional_id,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot make the invitation: {e}"))?;
    let out = describe(&ports, &new).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "Invitation for a {} of {} (valid until {}, usable once):\n  {}",
            out.role, out.organisation, out.expires_at, out.link
        );
    }
    Ok(())
}

/// A usage error (exit code 2 is for clap; this is reported as a failure with a clear text).
fn usage(text: &str) -> anyhow::Error {
    anyhow::anyhow!("{text}")
}

/// `rpps:NNNNNNNNNNN` or `adeli:NNNNNNNNN`.
pub fn parse_professional(text: &str) -> anyhow::Result<ProfessionalId> {
    let Some((kind, value)) = text.split_once(':') else {
        bail!("--professional must be rpps:NUMBER or adeli:NUMBER");
    };
    ProfessionalId::parse(kind, value)
        .map_err(|_| anyhow::anyhow!("--professional is not a valid RPPS or ADELI number"))
}

/// An organisation id, or an insurer's AMC number, or a practice's AM number.
pub async fn resolve_organisation(ports: &Ports, org: &str) -> anyhow::Result<Uuid> {
    if let Ok(id) = Uuid::parse_str(org) {
        return Ok(id);
    }
    if let Ok(amc) = AmcNumber::parse(org)
        && let Some(i) = ports.store.find_insurer_by_amc(&amc).await?
    {
        return Ok(i.id);
    }
    if let Ok(am) = AmNumber::parse(org)
        && let Some(p) = ports.store.find_practice_by_am_number(&am).await?
    {
        return Ok(p.id);
    }
    bail!("--org: no organisation with this id, insurer AMC number or practice AM number")
}

/// The printed form of an invitation.
pub async fn describe(ports: &Ports, new: &NewInvitation) -> anyhow::Result<InvitationOut> {
    let profession = match ports.store.get_practice(new.organisation_id).await {
        Ok(p) => Some(p.profession.code().to_string()),
        Err(_) => None,
    };
    Ok(InvitationOut {
        role: new.role.code().to_string(),
        organisation: new.organisation_name.clone(),
        organisation_id: new.organisation_id,
        profession,
        professional_id: new
            .professional_id
            .as_ref()
            .map(|p| format!("{}:{}", p.kind(), p.value())),
        display_name: new.display_name.clone(),
        invitation: new.token.clone(),
        link: new.link.clone(),
        expires_at: new
            .expires_at
            .format(&Rfc3339)
            .unwrap_or_else(|_| new.expires_at.to_string()),
    })
}

/// The access use cases for this configuration (`port`: the listening port, for the default
/// origin `http://localhost:PORT`).
/// The token key comes from the vault (a platform data key, wrapped by the KEK), so every
/// server of a deployment has the same one and it is never on disk in the clear.
pub fn open_access(config: &Config, ports: Ports, port: u16) -> anyhow::Result<Access> {
    let key = ports.vault.token_key();
    Access::new(ports, config.access(port), key)
        .map_err(|e| anyhow::anyhow!("config: rp_id/rp_origin: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn professional_ids_are_parsed_with_their_kind() {
        assert!(matches!(
            parse_professional("adeli:752812345").unwrap(),
            ProfessionalId::Adeli(_)
        ));
        assert!(parse_professional("752812345").is_err());
        assert!(parse_professional("nir:1").is_err());
    }
}
