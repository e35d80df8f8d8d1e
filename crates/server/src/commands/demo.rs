//! `rempart demo`: open (or create) the embedded store under the data directory, load the
//! synthetic demo data on first run, print where to go, and serve.
//!
//! The banner names counts, the URL and the data directory, never personal data.

use crate::cli::DemoArgs;
use crate::config::Config;
use anyhow::Context;
use app::demo::DemoSummary;
use std::net::SocketAddr;

/// The seed of the demo population (docs/demo.md): every demo holds the same people.
pub const DEMO_SEED: u64 = 2024;

pub async fn run(config: &Config, _args: &DemoArgs) -> anyhow::Result<()> {
    // `--listen` is already folded into `config.listen` by the configuration loader.
    let ports = crate::storage::open(config, crate::storage::MissingKeys::Create).await?;
    let summary = app::demo::seed(&ports, DEMO_SEED)
        .await
        .context("cannot load the demo data")?;
    let cards_path = crate::commands::cards::demo_cards_path(&config.data_dir);
    if !summary.already_seeded {
        crate::commands::cards::write_demo_cards(&cards_path, &summary.cards)
            .context("cannot write the demo cards file")?;
    }
    let cards_file = cards_path
        .is_file()
        .then(|| cards_path.display().to_string());
    let data_dir = config.data_dir.display().to_string();
    let invitations_path = config.data_dir.join(INVITATIONS_FILE);
    let demo_ports = ports.clone();
    // Demo mode mounts the routes waiting for the access issue (insurers' beneficiary imports).
    let config = &Config {
        demo: true,
        ..config.clone()
    };
    crate::commands::serve::serve_with(config, ports, async move |addr, access| {
        println!(
            "{}",
            banner(&summary, addr, &data_dir, cards_file.as_deref())
        );
        if summary.already_seeded {
            println!("{}", invite_hint(&demo_ports, &summary).await);
        } else {
            let made = demo_invitations(&demo_ports, access).await?;
            write_invitations(&invitations_path, &made)?;
            println!("{}", invitations_banner(&made, &invitations_path));
        }
        Ok(())
    })
    .await
}

/// Every invitation the demo made, in the data directory (0600): scripts and tests enrol with them.
pub const INVITATIONS_FILE: &str = "demo-invitations.json";

/// One invitation per demo role (operator_admin, operator_analyst, auditor, insurer_staff per
/// insurer) and one per demo practice (its first professional). The administrator's and the
/// professionals' invitations bind a passkey to their existing accounts.
async fn demo_invitations(
    ports: &app::Ports,
    access: &app::accounts::Access,
) -> anyhow::Result<Vec<crate::commands::invite::InvitationOut>> {
    use app::accounts::InviteRequest;
    use domain::accounts::{OrganisationKind, Role};
    let failed =
        |e: app::accounts::AccessError| anyhow::anyhow!("cannot make a demo invitation: {e}");
    let mut made = Vec::new();
    let operator = ports
        .store
        .list_organisations(OrganisationKind::Operator)
        .await?
        .into_iter()
        .find(|o| o.name == app::demo::OPERATOR_NAME)
        .context("the demo operator is missing")?;
    let admin = ports
        .store
        .list_accounts(operator.id)
        .await?
        .into_iter()
        .find(|a| a.role == Role::OperatorAdmin)
        .context("the demo administrator is missing")?;
    made.push(
        access
            .invite_account(None, admin.id)
            .await
            .map_err(failed)?,
    );
    for (role, name) in [
        (Role::OperatorAnalyst, "Analyste de démonstration"),
        (Role::Auditor, "Auditeur de démonstration"),
    ] {
        made.push(
            access
                .invite(
                    None,
                    InviteRequest {
                        role,
                        organisation_id: operator.id,
                        display_name: Some(name.into()),
                        professional_id: None,
                    },
                )
                .await
                .map_err(failed)?,
        );
    }
    for insurer in ports.store.list_insurers().await? {
        made.push(
            access
                .invite(
                    None,
                    InviteRequest {
                        role: Role::InsurerStaff,
                        organisation_id: insurer.id,
                        display_name: Some(format!("Gestionnaire — {}", insurer.name)),
                        professional_id: None,
                    },
                )
                .await
                .map_err(failed)?,
        );
    }
    for practice in ports
        .store
        .list_organisations(OrganisationKind::Practice)
        .await?
    {
        let Some(first) = ports
            .store
            .list_professionals(practice.id)
            .await?
            .into_iter()
            .next()
        else {
            continue;
        };
        made.push(
            access
                .invite(
                    None,
                    InviteRequest {
                        role: Role::Professional,
                        organisation_id: practice.id,
                        display_name: Some(first.display_name.clone()),
                        professional_id: Some(first.national_id.clone()),
                    },
                )
                .await
                .map_err(failed)?,
        );
    }
    let mut out = Vec::with_capacity(made.len());
    for new in &made {
        out.push(crate::commands::invite::describe(ports, new).await?);
    }
    Ok(out)
}

fn write_invitations(
    path: &std::path::Path,
    made: &[crate::commands::invite::InvitationOut],
) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let text = serde_json::to_string_pretty(made)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn invitations_banner(
    made: &[crate::commands::invite::InvitationOut],
    path: &std::path::Path,
) -> String {
    let operator = made.iter().find(|i| i.role == "operator_admin");
    let optician = made
        .iter()
        .find(|i| i.profession.as_deref() == Some("optician"));
    let mut text = String::from(
        "  sign in  enrol a passkey (links valid 72 h, usable once):
",
    );
    if let Some(i) = operator {
        text.push_str(&format!(
            "    operator administrator  {}
",
            i.link
        ));
    }
    if let Some(i) = optician {
        text.push_str(&format!(
            "    optician ({})  {}
",
            i.organisation, i.link
        ));
    }
    text.push_str(&format!(
        "    every demo invitation (each role, each practice): {}",
        path.display()
    ));
    text
}

async fn invite_hint(ports: &app::Ports, summary: &DemoSummary) -> String {
    let org = match summary.operator_admin {
        Some(id) => ports
            .store
            .get_account(id)
            .await
            .map(|a| a.organisation_id.to_string())
            .unwrap_or_else(|_| "ORG".into()),
        None => "ORG".into(),
    };
    format!(
        "  sign in  the demo's invitations were single-use; make a new one with
    \
         rempart invite --data-dir DIR --role operator_admin --org {org}"
    )
}

/// The URL to open: `localhost` (WebAuthn refuses IP addresses as relying party ids).
pub fn url(addr: SocketAddr) -> String {
    format!("http://localhost:{}/", addr.port())
}

fn banner(
    summary: &DemoSummary,
    addr: SocketAddr,
    data_dir: &str,
    cards_file: Option<&str>,
) -> String {
    let c = &summary.counts;
    let loaded = if summary.already_seeded {
        "reusing the demo data"
    } else {
        "loaded the demo data"
    };
    let insurers: Vec<String> = summary
        .insurers
        .iter()
        .map(|i| format!("{} (AMC {})", i.name, i.amc))
        .collect();
    let cards = cards_file.map_or_else(String::new, |f| {
        format!(
            "\n  cards     {f}  (the synthetic patients' cards: member number, first name, birth date, code, datamatrix token)"
        )
    });
    format!(
        "rempart demo: {loaded}\n  \
         open      {url}\n  \
         insurers  {insurers}\n  \
         loaded    {} insurers, {} contracts, {} beneficiaries (synthetic), {} cards, {} practices, {} professionals, {} accounts\n  \
         data dir  {data_dir}  (delete it to start over){cards}\n  \
         listening on {addr}; Ctrl-C to stop",
        c.insurers,
        c.contracts,
        c.beneficiaries,
        c.cards,
        c.practices,
        c.professionals,
        c.accounts,
        url = url(addr),
        insurers = insurers.join(", "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_uses_localhost() {
        assert_eq!(
            url("127.0.0.1:8443".parse().unwrap()),
            "http://localhost:8443/"
        );
        assert_eq!(url("[::1]:3000".parse().unwrap()), "http://localhost:3000/");
    }
}
