//! An in-memory `AccessStore`, for test doubles of the `Store` (e.g. the demo's tests).

use crate::idempotency::{IdempotencyRecord, IdempotencyStore};
use crate::store::{
    AccessPurge, AccessStore, CeremonyRecord, ClientCertificateRecord, CredentialRecord,
    InvitationRecord, SessionRecord, StoreError,
};
use async_trait::async_trait;
use std::sync::Mutex;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Default)]
struct Rows {
    invitations: Vec<InvitationRecord>,
    credentials: Vec<CredentialRecord>,
    ceremonies: Vec<CeremonyRecord>,
    sessions: Vec<SessionRecord>,
    certificates: Vec<ClientCertificateRecord>,
    idempotency: Vec<IdempotencyRecord>,
}

/// Invitations, credentials, ceremonies and sessions kept in memory, with the store's rules
/// (unique ids and hashes, single-use invitations and ceremonies).
#[derive(Debug, Default)]
pub struct MemAccess(Mutex<Rows>);

impl MemAccess {
    fn with<T>(&self, f: impl FnOnce(&mut Rows) -> T) -> T {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }
}

fn conflict(c: &str) -> StoreError {
    StoreError::Conflict {
        constraint: c.into(),
    }
}

#[async_trait]
impl AccessStore for MemAccess {
    async fn insert_invitation(&self, i: &InvitationRecord) -> Result<(), StoreError> {
        self.with(|r| {
            if r.invitations.iter().any(|x| x.id == i.id) {
                return Err(conflict("invitations_pkey"));
            }
            if r.invitations.iter().any(|x| x.token_hash == i.token_hash) {
                return Err(conflict("invitations_token_hash"));
            }
            r.invitations.push(i.clone());
            Ok(())
        })
    }

    async fn find_invitation(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<InvitationRecord>, StoreError> {
        Ok(self.with(|r| {
            r.invitations
                .iter()
                .find(|x| x.token_hash == token_hash)
                .cloned()
        }))
    }

    async fn use_invitation(&self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError> {
        self.with(|r| {
            match r
                .invitations
                .iter_mut()
                .find(|x| x.id == id && x.used_at.is_none())
            {
                Some(x) => {
                    x.used_at = Some(at);
                    Ok(())
                }
                None => Err(StoreError::NotFound),
            }
        })
    }

    async fn insert_credential(&self, c: &CredentialRecord) -> Result<(), StoreError> {
        self.with(|r| {
            if r.credentials.iter().any(|x| x.id == c.id) {
                return Err(conflict("credentials_pkey"));
            }
            if r.credentials
                .iter()
                .any(|x| x.credential_id == c.credential_id)
            {
                return Err(conflict("credentials_credential_id"));
            }
            r.credentials.push(c.clone());
            Ok(())
        })
    }

    async fn list_credentials(
        &self,
        account_id: Uuid,
    ) -> Result<Vec<CredentialRecord>, StoreError> {
        Ok(self.with(|r| {
            r.credentials
                .iter()
                .filter(|x| x.account_id == account_id)
                .cloned()
                .collect()
        }))
    }

    async fn find_credential(
        &self,
        credential_id: &[u8],
    ) -> Result<Option<CredentialRecord>, StoreError> {
        Ok(self.with(|r| {
            r.credentials
                .iter()
                .find(|x| x.credential_id == credential_id)
                .cloned()
        }))
    }

    async fn update_credential(
        &self,
        id: Uuid,
        passkey: &str,
        last_used_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.with(|r| match r.credentials.iter_mut().find(|x| x.id == id) {
            Some(x) => {
                x.passkey = passkey.to_string();
                x.last_used_at = Some(last_used_at);
                Ok(())
            }
            None => Err(StoreError::NotFound),
        })
    }

    async fn delete_credential(&self, account_id: Uuid, id: Uuid) -> Result<(), StoreError> {
        self.with(|r| {
            let before = r.credentials.len();
            r.credentials
                .retain(|x| !(x.id == id && x.account_id == account_id));
            if r.credentials.len() == before {
                Err(StoreError::NotFound)
            } else {
                Ok(())
            }
        })
    }

    async fn insert_ceremony(&self, c: &CeremonyRecord) -> Result<(), StoreError> {
        self.with(|r| {
            if r.ceremonies.iter().any(|x| x.id == c.id) {
                return Err(conflict("ceremonies_pkey"));
            }
            r.ceremonies.push(c.clone());
            Ok(())
        })
    }

    async fn take_ceremony(&self, id: Uuid) -> Result<Option<CeremonyRecord>, StoreError> {
        Ok(self.with(|r| {
            let pos = r.ceremonies.iter().position(|x| x.id == id)?;
            Some(r.ceremonies.remove(pos))
        }))
    }

    async fn insert_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        self.with(|r| {
            if r.sessions.iter().any(|x| x.id == s.id) {
                return Err(conflict("sessions_pkey"));
            }
            if r.sessions.iter().any(|x| x.token_hash == s.token_hash) {
                return Err(conflict("sessions_token_hash"));
            }
            r.sessions.push(s.clone());
            Ok(())
        })
    }

    async fn find_session(&self, token_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.with(|r| {
            r.sessions
                .iter()
                .find(|x| x.token_hash == token_hash)
                .cloned()
        }))
    }

    async fn touch_session(&self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError> {
        self.with(|r| match r.sessions.iter_mut().find(|x| x.id == id) {
            Some(x) => {
                x.last_seen_at = at;
                Ok(())
            }
            None => Err(StoreError::NotFound),
        })
    }

    async fn set_session_uv(&self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError> {
        self.with(|r| match r.sessions.iter_mut().find(|x| x.id == id) {
            Some(x) => {
                x.last_uv_at = at;
                Ok(())
            }
            None => Err(StoreError::NotFound),
        })
    }

    async fn delete_session(&self, id: Uuid) -> Result<(), StoreError> {
        self.with(|r| r.sessions.retain(|x| x.id != id));
        Ok(())
    }

    async fn insert_client_certificate(
        &self,
        c: &ClientCertificateRecord,
    ) -> Result<(), StoreError> {
        self.with(|r| {
            if r.certificates.iter().any(|x| x.id == c.id) {
                return Err(conflict("client_certificates_pkey"));
            }
            if r.certificates
                .iter()
                .any(|x| x.fingerprint == c.fingerprint)
            {
                return Err(conflict("client_certificates_fingerprint"));
            }
            r.certificates.push(c.clone());
            Ok(())
        })
    }

    async fn find_client_certificate(
        &self,
        fingerprint: &[u8],
    ) -> Result<Option<ClientCertificateRecord>, StoreError> {
        Ok(self.with(|r| {
            r.certificates
                .iter()
                .find(|x| x.fingerprint == fingerprint)
                .cloned()
        }))
    }

    async fn list_client_certificates(&self) -> Result<Vec<ClientCertificateRecord>, StoreError> {
        Ok(self.with(|r| {
            let mut all = r.certificates.clone();
            all.sort_by_key(|c| (c.created_at, c.id));
            all
        }))
    }

    async fn revoke_client_certificate(
        &self,
        id: Uuid,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.with(|r| match r.certificates.iter_mut().find(|x| x.id == id) {
            Some(c) => {
                c.revoked_at.get_or_insert(at);
                Ok(())
            }
            None => Err(StoreError::NotFound),
        })
    }
    async fn purge_access(
        &self,
        now: OffsetDateTime,
        idle_before: OffsetDateTime,
    ) -> Result<AccessPurge, StoreError> {
        Ok(self.with(|r| {
            let before = (r.ceremonies.len(), r.sessions.len(), r.invitations.len());
            r.ceremonies.retain(|c| c.expires_at > now);
            r.sessions
                .retain(|s| s.expires_at > now && s.last_seen_at >= idle_before);
            r.invitations
                .retain(|i| i.used_at.is_some() || i.expires_at > now);
            let n = |a: usize, b: usize| u64::try_from(a - b).unwrap_or(u64::MAX);
            AccessPurge {
                ceremonies: n(before.0, r.ceremonies.len()),
                sessions: n(before.1, r.sessions.len()),
                invitations: n(before.2, r.invitations.len()),
            }
        }))
    }
}

/// Idempotency records kept in memory, with the store's rules (one per caller, route and key).
#[async_trait]
impl IdempotencyStore for MemAccess {
    async fn insert_idempotency(&self, record: &IdempotencyRecord) -> Result<(), StoreError> {
        self.with(|r| {
            if r.idempotency.iter().any(|x| {
                x.actor_id == record.actor_id && x.route == record.route && x.key == record.key
            }) {
                return Err(conflict("idempotency_key"));
            }
            if r.idempotency.iter().any(|x| x.id == record.id) {
                return Err(conflict("idempotency_pkey"));
            }
            r.idempotency.push(record.clone());
            Ok(())
        })
    }

    async fn find_idempotency(
        &self,
        actor_id: Uuid,
        route: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        Ok(self.with(|r| {
            r.idempotency
                .iter()
                .find(|x| x.actor_id == actor_id && x.route == route && x.key == key)
                .cloned()
        }))
    }

    async fn complete_idempotency(
        &self,
        id: Uuid,
        request_hash: &[u8],
        status: u16,
        response: &[u8],
    ) -> Result<(), StoreError> {
        self.with(|r| {
            let x = r
                .idempotency
                .iter_mut()
                .find(|x| x.id == id)
                .ok_or(StoreError::NotFound)?;
            x.request_hash = Some(request_hash.to_vec());
            x.status = Some(status);
            x.response = Some(response.to_vec());
            Ok(())
        })
    }

    async fn delete_idempotency(&self, id: Uuid) -> Result<(), StoreError> {
        self.with(|r| r.idempotency.retain(|x| x.id != id));
        Ok(())
    }

    async fn purge_idempotency(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        Ok(self.with(|r| {
            let before = r.idempotency.len();
            r.idempotency.retain(|x| x.expires_at > now);
            u64::try_from(before - r.idempotency.len()).unwrap_or(u64::MAX)
        }))
    }
}
