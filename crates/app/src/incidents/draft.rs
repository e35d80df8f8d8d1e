//! Notice drafts from an incident scope, per insurer (the data controller):
//!
//! | file | what |
//! |---|---|
//! | `AMC/art33-notification.md` | GDPR article 33: the notification to the supervisory authority (CNIL), within 72 hours |
//! | `AMC/art34-notice.fr.md`, `AMC/art34-notice.en.md` | GDPR article 34: the notice to each affected person, in plain French and English |
//! | `AMC/nis2-early-warning.md` | NIS2 article 23: the early warning to the CSIRT (ANSSI/CERT-FR), within 24 hours |
//! | `AMC/members.csv` | the people to write to (member number, birth rank, birth date, categories, counts, first and last time) |
//!
//! The drafts hold counts, categories and dates; only `members.csv` names people, by member
//! number, birth rank and birth date. They are drafts: the insurer's DPO completes and sends them.

use super::{IncidentError, IncidentScope, InsurerScope};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What the drafts say about the operator and the response.
#[derive(Debug, Clone)]
pub struct DraftOptions {
    /// The platform operator's name.
    pub operator: String,
    /// Whom to contact (the operator's DPO or security desk).
    pub contact: String,
    /// When the breach was detected (defaults to when the scope was computed).
    pub detected_at: Option<OffsetDateTime>,
    /// Measures already taken (suspensions, switches), one per line.
    pub measures_taken: Vec<String>,
}

/// One drafted file: its path under the output directory and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftFile {
    pub path: PathBuf,
    pub contents: String,
}

fn when(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn category_label(code: &str) -> (&'static str, &'static str) {
    match code {
        "coverage" => (
            "whether you were covered for one kind of care on one day",
            "si vous étiez couvert pour un type de soins à une date",
        ),
        "guarantees" => (
            "the rate or amounts your contract guarantees for that care",
            "le taux ou les montants garantis par votre contrat pour ces soins",
        ),
        "engagement" => (
            "a payment engagement number",
            "un numéro d'engagement de paiement",
        ),
        "approval" => (
            "the amounts of a prior approval (glasses, hearing aids, dental)",
            "les montants d'un accord préalable (optique, audition, dentaire)",
        ),
        "payment" => ("the amounts of an invoice", "les montants d'une facture"),
        "identity" => (
            "first names and dates of birth",
            "prénoms et dates de naissance",
        ),
        "membership" => (
            "your insurer and member number",
            "votre organisme et votre numéro d'adhérent",
        ),
        _ => ("other data", "d'autres données"),
    }
}

fn measures(options: &DraftOptions) -> String {
    if options.measures_taken.is_empty() {
        return "- (none recorded yet)\n".to_string();
    }
    options
        .measures_taken
        .iter()
        .map(|m| format!("- {m}\n"))
        .collect()
}

fn categories_en(insurer: &InsurerScope) -> String {
    insurer
        .categories
        .iter()
        .map(|(code, people)| format!("- {} (`{code}`): {people} people\n", category_label(code).0))
        .collect()
}

fn art33(scope: &IncidentScope, insurer: &InsurerScope, options: &DraftOptions) -> String {
    let detected = options.detected_at.unwrap_or(scope.computed_at);
    format!(
        "# Personal data breach notification — GDPR article 33 (DRAFT)\n\n\
         Controller: {name} (AMC {amc}). Processor: {operator} (tiers-payant platform).\n\
         Detected: {detected}. To be notified to the CNIL within 72 hours of detection.\n\n\
         ## Nature of the breach\n\n\
         Unauthorised consultation of beneficiaries' rights through the tiers-payant platform,\n\
         using the access of one or more health-professional accounts or systems named in the\n\
         scope below, between {first} and {last}. Every disclosure counted here is recorded in\n\
         the platform's tamper-evident access ledger; people whose data was only stored are not\n\
         counted.\n\n\
         Scope: {subjects}.\n\n\
         ## Categories and approximate numbers\n\n\
         - Data subjects concerned: {people} (of whom {unresolved} since erased)\n\
         - Records concerned (disclosures): {records}\n\
         - Categories of data disclosed:\n{categories}\n\
         No social security number (NIR), name, postal address or bank details are returned by\n\
         a rights check; they were not disclosed through the platform.\n\n\
         ## Likely consequences\n\n\
         Knowing that a person is covered by this insurer, with which guarantees, makes targeted\n\
         phishing credible (false messages from the insurer or the health insurance asking for\n\
         bank details or offering a reimbursement). Health-related inferences (optics, hearing,\n\
         dental care) are possible for the categories above.\n\n\
         ## Measures taken\n\n{measures}\n\
         ## Measures proposed\n\n\
         - Notify the people concerned (article 34; drafts attached) and warn them against\n\
           phishing.\n\
         - Keep the accounts and organisations concerned suspended until their devices are\n\
           cleaned and new passkeys enrolled through fresh invitations.\n\
         - Watch the ledger and the platform's alerts for further use of the same credentials\n\
           or client addresses.\n\n\
         ## Contact point\n\n{contact}\n",
        name = insurer.name,
        amc = insurer.amc,
        operator = options.operator,
        detected = when(detected),
        first = when(insurer.first),
        last = when(insurer.last),
        subjects = subjects(scope),
        people = insurer.people,
        unresolved = insurer.unresolved_people,
        records = insurer.records,
        categories = categories_en(insurer),
        measures = measures(options),
        contact = options.contact,
    )
}

fn subjects(scope: &IncidentScope) -> String {
    let q = &scope.query;
    let mut parts = Vec::new();
    if !q.accounts.is_empty() {
        parts.push(format!("{} account(s)", q.accounts.len()));
    }
    if !q.organisations.is_empty() {
        parts.push(format!("{} organisation(s)", q.organisations.len()));
    }
    if !q.credentials.is_empty() {
        parts.push(format!("{} credential(s)", q.credentials.len()));
    }
    if !q.client_addrs.is_empty() {
        parts.push(format!("{} client address(es)", q.client_addrs.len()));
    }
    let window = match (q.from, q.to) {
        (Some(f), Some(t)) => format!("from {} to {}", when(f), when(t)),
        (Some(f), None) => format!("from {}", when(f)),
        (None, Some(t)) => format!("until {}", when(t)),
        (None, None) => "the whole ledger".to_string(),
    };
    if parts.is_empty() {
        window
    } else {
        format!("{}, {window}", parts.join(", "))
    }
}

fn art34_fr(insurer: &InsurerScope, options: &DraftOptions) -> String {
    let categories: String = insurer
        .categories
        .keys()
        .map(|code| format!("- {}\n", category_label(code).1))
        .collect();
    format!(
        "# Information sur une violation de vos données (projet — article 34 du RGPD)\n\n\
         Madame, Monsieur,\n\n\
         {name} vous informe qu'entre le {first} et le {last}, une personne non autorisée a\n\
         consulté, au moyen de l'accès d'un professionnel de santé à la plateforme de tiers\n\
         payant {operator}, des informations vous concernant :\n\n{categories}\n\
         Votre numéro de sécurité sociale, votre nom, votre adresse et vos coordonnées bancaires\n\
         n'ont pas été communiqués par cette voie.\n\n\
         **Ce que nous avons fait** : l'accès utilisé a été coupé, et chaque consultation est\n\
         enregistrée dans un journal infalsifiable qui nous a permis de savoir exactement qui\n\
         était concerné.\n\n\
         **Ce que vous pouvez faire** : méfiez-vous des messages (courriel, SMS, appel) qui\n\
         semblent venir de votre mutuelle ou de l'Assurance maladie. **Personne de chez\n\
         {name} ne vous demandera vos coordonnées bancaires ni ne vous proposera un\n\
         remboursement par message.** En cas de doute, appelez le numéro de votre carte.\n\n\
         Pour toute question : {contact}. Vous pouvez aussi saisir la CNIL (www.cnil.fr).\n",
        name = insurer.name,
        first = when(insurer.first),
        last = when(insurer.last),
        operator = options.operator,
        contact = options.contact,
    )
}

fn art34_en(insurer: &InsurerScope, options: &DraftOptions) -> String {
    let categories: String = insurer
        .categories
        .keys()
        .map(|code| format!("- {}\n", category_label(code).0))
        .collect();
    format!(
        "# About a breach of your personal data (draft — GDPR article 34)\n\n\
         Dear member,\n\n\
         {name} is letting you know that between {first} and {last}, someone without\n\
         permission used a health professional's access to the {operator} tiers-payant platform\n\
         to look up information about you:\n\n{categories}\n\
         Your social security number, name, address and bank details were not disclosed this\n\
         way.\n\n\
         **What we did**: the access that was used has been cut off, and every lookup is kept\n\
         in a tamper-evident log, which is how we know exactly who was affected.\n\n\
         **What you can do**: be wary of messages (e-mail, text, phone call) that seem to come\n\
         from your insurer or the health insurance. **No one from {name} will ever ask for\n\
         your bank details or offer you a reimbursement by message.** If in doubt, call the\n\
         number on your card.\n\n\
         Questions: {contact}. You may also complain to the CNIL (www.cnil.fr).\n",
        name = insurer.name,
        first = when(insurer.first),
        last = when(insurer.last),
        operator = options.operator,
        contact = options.contact,
    )
}

fn nis2(scope: &IncidentScope, insurer: &InsurerScope, options: &DraftOptions) -> String {
    let detected = options.detected_at.unwrap_or(scope.computed_at);
    format!(
        "# NIS2 early warning — article 23(4)(a) (DRAFT)\n\n\
         Entity: {operator}, tiers-payant platform, on behalf of {name} (AMC {amc}).\n\
         Became aware: {detected}. To be sent to the CSIRT (CERT-FR) within 24 hours.\n\n\
         - Significant incident: unauthorised access to beneficiaries' data through\n\
           health-professional credentials ({subjects}).\n\
         - Suspected unlawful or malicious act: yes (use of a professional's access outside its\n\
           normal activity).\n\
         - Cross-border impact: none known.\n\
         - Scale: {people} people, {records} disclosures, between {first} and {last}.\n\
         - Containment so far:\n{measures}\n\
         An incident notification (72 hours) and a final report (one month) will follow.\n\n\
         Contact: {contact}\n",
        operator = options.operator,
        name = insurer.name,
        amc = insurer.amc,
        detected = when(detected),
        subjects = subjects(scope),
        people = insurer.people,
        records = insurer.records,
        first = when(insurer.first),
        last = when(insurer.last),
        measures = measures(options),
        contact = options.contact,
    )
}

/// The CSV for the insurer's mailing (formula-safe: member numbers are letters and digits).
fn members_csv(insurer: &InsurerScope) -> Result<String, IncidentError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| IncidentError::Write {
        path: "members.csv".into(),
        reason: e.to_string(),
    };
    w.write_record([
        "member_number",
        "birth_rank",
        "birth_date",
        "categories",
        "records",
        "first",
        "last",
    ])
    .map_err(fail)?;
    for m in &insurer.members {
        w.write_record([
            m.member_number.as_str(),
            &m.birth_rank.to_string(),
            m.birth_date.as_deref().unwrap_or(""),
            &m.categories.join(" "),
            &m.records.to_string(),
            &when(m.first),
            &when(m.last),
        ])
        .map_err(fail)?;
    }
    let bytes = w.into_inner().map_err(|e| IncidentError::Write {
        path: "members.csv".into(),
        reason: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|e| IncidentError::Write {
        path: "members.csv".into(),
        reason: e.to_string(),
    })
}

/// Every draft of `scope`, per insurer (see the module documentation).
pub fn draft(
    scope: &IncidentScope,
    options: &DraftOptions,
) -> Result<Vec<DraftFile>, IncidentError> {
    let mut files = Vec::new();
    for insurer in &scope.insurers {
        let dir = PathBuf::from(if insurer.amc.is_empty() {
            insurer.insurer_id.to_string()
        } else {
            insurer.amc.clone()
        });
        let mut add = |name: &str, contents: String| {
            files.push(DraftFile {
                path: dir.join(name),
                contents,
            });
        };
        add("art33-notification.md", art33(scope, insurer, options));
        add("art34-notice.fr.md", art34_fr(insurer, options));
        add("art34-notice.en.md", art34_en(insurer, options));
        add("nis2-early-warning.md", nis2(scope, insurer, options));
        add("members.csv", members_csv(insurer)?);
    }
    Ok(files)
}

/// Writes `files` under `out` (directories 0700, files 0600: they name members).
pub fn write(out: &Path, files: &[DraftFile]) -> Result<(), IncidentError> {
    let fail = |path: &Path, e: std::io::Error| IncidentError::Write {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    for f in files {
        let path = out.join(&f.path);
        if let Some(parent) = path.parent() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            builder.create(parent).map_err(|e| fail(parent, e))?;
            // An existing directory keeps its mode on create: tighten it.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o700))
                    .map_err(|e| fail(parent, e))?;
            }
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(|e| fail(&path, e))?;
        // An existing file keeps its mode on open: tighten it.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|e| fail(&path, e))?;
        }
        std::io::Write::write_all(&mut file, f.contents.as_bytes()).map_err(|e| fail(&path, e))?;
    }
    Ok(())
}
