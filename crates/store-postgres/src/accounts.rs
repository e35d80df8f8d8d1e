//! Organisations, practices, professionals and accounts.

use crate::codec::{col, corrupt, micros, opt_parsed, parsed};
use crate::error::db_err;
use app::store::{
    AccountRecord, AccountStatus, OrganisationRecord, PracticeRecord, ProfessionalRecord,
    StoreError,
};
use domain::accounts::{OrganisationKind, Profession, ProfessionalId, Role};
use domain::ids::{AmNumber, Finess, Siret};
use sqlx::PgPool;
use sqlx::postgres::PgRow;
use uuid::Uuid;

// organisations

pub(crate) async fn insert_organisation(
    pool: &PgPool,
    org: &OrganisationRecord,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO organisations (id, kind, name, created_at) VALUES ($1, $2, $3, $4)")
        .bind(org.id)
        .bind(org.kind.code())
        .bind(&org.name)
        .bind(micros(org.created_at))
        .execute(pool)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn get_organisation(
    pool: &PgPool,
    id: Uuid,
) -> Result<OrganisationRecord, StoreError> {
    let row = sqlx::query("SELECT id, kind, name, created_at FROM organisations WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
    organisation(&row)
}

pub(crate) async fn list_organisations(
    pool: &PgPool,
    kind: OrganisationKind,
) -> Result<Vec<OrganisationRecord>, StoreError> {
    let rows = sqlx::query("SELECT id, kind, name, created_at FROM organisations WHERE kind = $1 ORDER BY created_at, id")
        .bind(kind.code())
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    rows.iter().map(organisation).collect()
}

fn organisation(row: &PgRow) -> Result<OrganisationRecord, StoreError> {
    Ok(OrganisationRecord {
        id: col(row, "id")?,
        kind: parsed(row, "kind", str::parse::<OrganisationKind>)?,
        name: col(row, "name")?,
        created_at: col(row, "created_at")?,
    })
}

// practices

pub(crate) async fn insert_practice(pool: &PgPool, p: &PracticeRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO practices (id, name, profession, am_number, finess, siret, iban_sealed, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(p.id)
    .bind(&p.name)
    .bind(p.profession.code())
    .bind(p.am_number.as_str())
    .bind(p.finess.as_ref().map(Finess::as_str))
    .bind(p.siret.as_ref().map(Siret::as_str))
    .bind(&p.iban_sealed)
    .bind(micros(p.created_at))
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn get_practice(pool: &PgPool, id: Uuid) -> Result<PracticeRecord, StoreError> {
    let row = sqlx::query("SELECT id, name, profession, am_number, finess, siret, iban_sealed, created_at FROM practices WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
    practice(&row)
}

pub(crate) async fn find_practice_by_am_number(
    pool: &PgPool,
    am: &AmNumber,
) -> Result<Option<PracticeRecord>, StoreError> {
    let row = sqlx::query("SELECT id, name, profession, am_number, finess, siret, iban_sealed, created_at FROM practices WHERE am_number = $1")
        .bind(am.as_str())
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    row.as_ref().map(practice).transpose()
}

pub(crate) async fn list_practices_page(
    pool: &PgPool,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<PracticeRecord>, StoreError> {
    let rows = sqlx::query("SELECT id, name, profession, am_number, finess, siret, iban_sealed, created_at FROM practices WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2")
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    rows.iter().map(practice).collect()
}

pub(crate) async fn update_practice_iban(
    pool: &PgPool,
    id: Uuid,
    iban_sealed: &[u8],
) -> Result<(), StoreError> {
    let done = sqlx::query("UPDATE practices SET iban_sealed = $2 WHERE id = $1")
        .bind(id)
        .bind(iban_sealed)
        .execute(pool)
        .await
        .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

fn practice(row: &PgRow) -> Result<PracticeRecord, StoreError> {
    Ok(PracticeRecord {
        id: col(row, "id")?,
        name: col(row, "name")?,
        profession: parsed(row, "profession", str::parse::<Profession>)?,
        am_number: parsed(row, "am_number", AmNumber::parse)?,
        finess: opt_parsed(row, "finess", Finess::parse)?,
        siret: opt_parsed(row, "siret", Siret::parse)?,
        iban_sealed: col(row, "iban_sealed")?,
        created_at: col(row, "created_at")?,
    })
}

// professionals

pub(crate) async fn insert_professional(
    pool: &PgPool,
    p: &ProfessionalRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO professionals (id, practice_id, national_id_kind, national_id, profession, display_name, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(p.id)
    .bind(p.practice_id)
    .bind(p.national_id.kind())
    .bind(p.national_id.value())
    .bind(p.profession.code())
    .bind(&p.display_name)
    .bind(micros(p.created_at))
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn find_professional_by_national_id(
    pool: &PgPool,
    id: &ProfessionalId,
) -> Result<Option<ProfessionalRecord>, StoreError> {
    let row = sqlx::query(
        "SELECT id, practice_id, national_id_kind, national_id, profession, display_name, created_at \
         FROM professionals WHERE national_id_kind = $1 AND national_id = $2",
    )
    .bind(id.kind())
    .bind(id.value())
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    row.as_ref().map(professional).transpose()
}

pub(crate) async fn list_professionals(
    pool: &PgPool,
    practice_id: Uuid,
) -> Result<Vec<ProfessionalRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, practice_id, national_id_kind, national_id, profession, display_name, created_at \
         FROM professionals WHERE practice_id = $1 ORDER BY created_at, id",
    )
    .bind(practice_id)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(professional).collect()
}

fn professional(row: &PgRow) -> Result<ProfessionalRecord, StoreError> {
    let kind: String = col(row, "national_id_kind")?;
    let value: String = col(row, "national_id")?;
    Ok(ProfessionalRecord {
        id: col(row, "id")?,
        practice_id: col(row, "practice_id")?,
        national_id: ProfessionalId::parse(&kind, &value).map_err(|_| corrupt("national_id"))?,
        profession: parsed(row, "profession", str::parse::<Profession>)?,
        display_name: col(row, "display_name")?,
        created_at: col(row, "created_at")?,
    })
}

// accounts

pub(crate) async fn insert_account(pool: &PgPool, a: &AccountRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO accounts (id, organisation_id, role, display_name, professional_id, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(a.id)
    .bind(a.organisation_id)
    .bind(a.role.code())
    .bind(&a.display_name)
    .bind(a.professional_id)
    .bind(a.status.code())
    .bind(micros(a.created_at))
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn get_account(pool: &PgPool, id: Uuid) -> Result<AccountRecord, StoreError> {
    let row = sqlx::query("SELECT id, organisation_id, role, display_name, professional_id, status, created_at FROM accounts WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
    account(&row)
}

pub(crate) async fn list_accounts(
    pool: &PgPool,
    organisation_id: Uuid,
) -> Result<Vec<AccountRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, organisation_id, role, display_name, professional_id, status, created_at \
         FROM accounts WHERE organisation_id = $1 ORDER BY created_at, id",
    )
    .bind(organisation_id)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(account).collect()
}

pub(crate) async fn set_account_status(
    pool: &PgPool,
    id: Uuid,
    status: AccountStatus,
) -> Result<(), StoreError> {
    let done = sqlx::query("UPDATE accounts SET status = $2 WHERE id = $1")
        .bind(id)
        .bind(status.code())
        .execute(pool)
        .await
        .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

fn account(row: &PgRow) -> Result<AccountRecord, StoreError> {
    Ok(AccountRecord {
        id: col(row, "id")?,
        organisation_id: col(row, "organisation_id")?,
        role: parsed(row, "role", str::parse::<Role>)?,
        display_name: col(row, "display_name")?,
        professional_id: col(row, "professional_id")?,
        status: parsed(row, "status", |s| AccountStatus::parse(s).ok_or(()))?,
        created_at: col(row, "created_at")?,
    })
}
