//! Invitations, passkey credentials, ceremonies and sessions (`AccessStore`).

use crate::PgStore;
use crate::codec::{col, corrupt, micros, parsed};
use crate::error::db_err;
use app::store::{
    AccessPurge, AccessStore, CeremonyRecord, ClientCertificateRecord, CredentialRecord,
    InvitationRecord, SessionRecord, StoreError,
};
use async_trait::async_trait;
use domain::accounts::{ProfessionalId, Role};
use sqlx::postgres::PgRow;
use time::OffsetDateTime;
use uuid::Uuid;

fn opt_micros(at: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    at.map(micros)
}

fn invitation(row: &PgRow) -> Result<InvitationRecord, StoreError> {
    let kind: Option<String> = col(row, "professional_id_kind")?;
    let value: Option<String> = col(row, "professional_id")?;
    let professional_id = match (kind, value) {
        (Some(k), Some(v)) => {
            Some(ProfessionalId::parse(&k, &v).map_err(|_| corrupt("professional_id"))?)
        }
        _ => None,
    };
    Ok(InvitationRecord {
        id: col(row, "id")?,
        token_hash: col(row, "token_hash")?,
        role: parsed(row, "role", str::parse::<Role>)?,
        organisation_id: col(row, "organisation_id")?,
        display_name: col(row, "display_name")?,
        professional_id,
        account_id: col(row, "account_id")?,
        created_by: col(row, "created_by")?,
        created_at: col(row, "created_at")?,
        expires_at: col(row, "expires_at")?,
        used_at: col(row, "used_at")?,
    })
}

fn credential(row: &PgRow) -> Result<CredentialRecord, StoreError> {
    Ok(CredentialRecord {
        id: col(row, "id")?,
        account_id: col(row, "account_id")?,
        credential_id: col(row, "credential_id")?,
        passkey: col(row, "passkey")?,
        label: col(row, "label")?,
        created_at: col(row, "created_at")?,
        last_used_at: col(row, "last_used_at")?,
    })
}

fn ceremony(row: &PgRow) -> Result<CeremonyRecord, StoreError> {
    Ok(CeremonyRecord {
        id: col(row, "id")?,
        kind: col(row, "kind")?,
        state: col(row, "state")?,
        account_id: col(row, "account_id")?,
        session_id: col(row, "session_id")?,
        created_at: col(row, "created_at")?,
        expires_at: col(row, "expires_at")?,
    })
}

fn session(row: &PgRow) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        id: col(row, "id")?,
        token_hash: col(row, "token_hash")?,
        account_id: col(row, "account_id")?,
        credential_id: col(row, "credential_id")?,
        created_at: col(row, "created_at")?,
        last_seen_at: col(row, "last_seen_at")?,
        expires_at: col(row, "expires_at")?,
        last_uv_at: col(row, "last_uv_at")?,
    })
}

fn client_certificate(row: &PgRow) -> Result<ClientCertificateRecord, StoreError> {
    Ok(ClientCertificateRecord {
        id: col(row, "id")?,
        organisation_id: col(row, "organisation_id")?,
        role: parsed(row, "role", str::parse::<Role>)?,
        display_name: col(row, "display_name")?,
        serial: col(row, "serial")?,
        fingerprint: col(row, "fingerprint")?,
        not_before: col(row, "not_before")?,
        not_after: col(row, "not_after")?,
        created_at: col(row, "created_at")?,
        revoked_at: col(row, "revoked_at")?,
    })
}

fn found(rows_affected: u64) -> Result<(), StoreError> {
    if rows_affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

#[async_trait]
impl AccessStore for PgStore {
    async fn insert_invitation(&self, i: &InvitationRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO invitations (id, token_hash, role, organisation_id, display_name, professional_id_kind, professional_id, account_id, created_by, created_at, expires_at, used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(i.id)
        .bind(&i.token_hash)
        .bind(i.role.code())
        .bind(i.organisation_id)
        .bind(&i.display_name)
        .bind(i.professional_id.as_ref().map(ProfessionalId::kind))
        .bind(i.professional_id.as_ref().map(ProfessionalId::value))
        .bind(i.account_id)
        .bind(i.created_by)
        .bind(micros(i.created_at))
        .bind(micros(i.expires_at))
        .bind(opt_micros(i.used_at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn find_invitation(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<InvitationRecord>, StoreError> {
        let row = sqlx::query("SELECT id, token_hash, role, organisation_id, display_name, professional_id_kind, professional_id, account_id, created_by, created_at, expires_at, used_at FROM invitations WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(invitation).transpose()
    }

    async fn use_invitation(&self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError> {
        let done =
            sqlx::query("UPDATE invitations SET used_at = $2 WHERE id = $1 AND used_at IS NULL")
                .bind(id)
                .bind(micros(at))
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
        found(done.rows_affected())
    }

    async fn insert_credential(&self, c: &CredentialRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO credentials (id, account_id, credential_id, passkey, label, created_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(c.id)
        .bind(c.account_id)
        .bind(&c.credential_id)
        .bind(&c.passkey)
        .bind(&c.label)
        .bind(micros(c.created_at))
        .bind(opt_micros(c.last_used_at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn list_credentials(
        &self,
        account_id: Uuid,
    ) -> Result<Vec<CredentialRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, account_id, credential_id, passkey, label, created_at, last_used_at \
             FROM credentials WHERE account_id = $1 ORDER BY created_at, id",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(credential).collect()
    }

    async fn find_credential(
        &self,
        credential_id: &[u8],
    ) -> Result<Option<CredentialRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, account_id, credential_id, passkey, label, created_at, last_used_at \
             FROM credentials WHERE credential_id = $1",
        )
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(credential).transpose()
    }

    async fn update_credential(
        &self,
        id: Uuid,
        passkey: &str,
        last_used_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done =
            sqlx::query("UPDATE credentials SET passkey = $2, last_used_at = $3 WHERE id = $1")
                .bind(id)
                .bind(passkey)
                .bind(micros(last_used_at))
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
        found(done.rows_affected())
    }

    async fn delete_credential(&self, account_id: Uuid, id: Uuid) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM credentials WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        found(done.rows_affected())
    }

    async fn insert_ceremony(&self, c: &CeremonyRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO ceremonies (id, kind, state, account_id, session_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(c.id)
        .bind(&c.kind)
        .bind(&c.state)
        .bind(c.account_id)
        .bind(c.session_id)
        .bind(micros(c.created_at))
        .bind(micros(c.expires_at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn take_ceremony(&self, id: Uuid) -> Result<Option<CeremonyRecord>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM ceremonies WHERE id = $1 \
             RETURNING id, kind, state, account_id, session_id, created_at, expires_at",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(ceremony).transpose()
    }

    async fn insert_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, account_id, credential_id, created_at, last_seen_at, expires_at, last_uv_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(s.id)
        .bind(&s.token_hash)
        .bind(s.account_id)
        .bind(s.credential_id)
        .bind(micros(s.created_at))
        .bind(micros(s.last_seen_at))
        .bind(micros(s.expires_at))
        .bind(micros(s.last_uv_at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn find_session(&self, token_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, token_hash, account_id, credential_id, created_at, last_seen_at, expires_at, last_uv_at \
             FROM sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(session).transpose()
    }

    async fn touch_session(
        &self,
        id: Uuid,
        last_seen_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1")
            .bind(id)
            .bind(micros(last_seen_at))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        found(done.rows_affected())
    }

    async fn set_session_uv(&self, id: Uuid, last_uv_at: OffsetDateTime) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE sessions SET last_uv_at = $2 WHERE id = $1")
            .bind(id)
            .bind(micros(last_uv_at))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        found(done.rows_affected())
    }

    async fn delete_session(&self, id: Uuid) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn insert_client_certificate(
        &self,
        c: &ClientCertificateRecord,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO client_certificates (id, organisation_id, role, display_name, serial, fingerprint, not_before, not_after, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(c.id)
        .bind(c.organisation_id)
        .bind(c.role.code())
        .bind(&c.display_name)
        .bind(&c.serial)
        .bind(&c.fingerprint)
        .bind(micros(c.not_before))
        .bind(micros(c.not_after))
        .bind(micros(c.created_at))
        .bind(opt_micros(c.revoked_at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn find_client_certificate(
        &self,
        fingerprint: &[u8],
    ) -> Result<Option<ClientCertificateRecord>, StoreError> {
        let row = sqlx::query("SELECT id, organisation_id, role, display_name, serial, fingerprint, not_before, not_after, created_at, revoked_at FROM client_certificates WHERE fingerprint = $1")
            .bind(fingerprint)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(client_certificate).transpose()
    }

    async fn list_client_certificates(&self) -> Result<Vec<ClientCertificateRecord>, StoreError> {
        let rows = sqlx::query("SELECT id, organisation_id, role, display_name, serial, fingerprint, not_before, not_after, created_at, revoked_at FROM client_certificates ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(client_certificate).collect()
    }

    async fn revoke_client_certificate(
        &self,
        id: Uuid,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE client_certificates SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
        )
        .bind(id)
        .bind(micros(at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        found(done.rows_affected())
    }

    async fn purge_access(
        &self,
        now: OffsetDateTime,
        idle_before: OffsetDateTime,
    ) -> Result<AccessPurge, StoreError> {
        let ceremonies = sqlx::query("DELETE FROM ceremonies WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db_err)?
            .rows_affected();
        let sessions =
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2")
                .bind(now)
                .bind(idle_before)
                .execute(&self.pool)
                .await
                .map_err(db_err)?
                .rows_affected();
        let invitations =
            sqlx::query("DELETE FROM invitations WHERE used_at IS NULL AND expires_at <= $1")
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(db_err)?
                .rows_affected();
        Ok(AccessPurge {
            ceremonies,
            sessions,
            invitations,
        })
    }
}
