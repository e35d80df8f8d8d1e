//! Conformance cases of the access rows (`AccessStore`): invitations, passkey credentials,
//! ceremonies, sessions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::*;
use app::idempotency::IdempotencyRecord;
use app::store::{
    AccountRecord, CeremonyRecord, ClientCertificateRecord, CredentialRecord, InvitationRecord,
    SessionRecord, Store, StoreError,
};
use domain::accounts::{OrganisationKind, Role};
use std::sync::Arc;
use time::Duration;
use uuid::Uuid;

type S = Arc<dyn Store>;

async fn given_account(store: &dyn Store) -> AccountRecord {
    let org = given_organisation(store, OrganisationKind::Practice, "Optique", at(0)).await;
    let a = account(org.id, Role::Professional, None, at(0));
    store.insert_account(&a).await.unwrap();
    a
}

fn invitation(org: Uuid, hash: &[u8]) -> InvitationRecord {
    InvitationRecord {
        id: new_id(),
        token_hash: hash.to_vec(),
        role: Role::Professional,
        organisation_id: org,
        display_name: Some("Claire «Optique» O'Neil".into()),
        professional_id: Some(adeli("752812345")),
        account_id: None,
        created_by: Some(new_id()),
        created_at: at(0),
        expires_at: at(0) + Duration::hours(72),
        used_at: None,
    }
}

fn credential(account_id: Uuid, cred: &[u8], created: i64) -> CredentialRecord {
    CredentialRecord {
        id: new_id(),
        account_id,
        credential_id: cred.to_vec(),
        passkey: r#"{"cred":{"counter":0}}"#.into(),
        label: "phone".into(),
        created_at: at(created),
        last_used_at: None,
    }
}

fn session(account_id: Uuid, hash: &[u8]) -> SessionRecord {
    SessionRecord {
        id: new_id(),
        token_hash: hash.to_vec(),
        account_id,
        credential_id: new_id(),
        created_at: at(0),
        last_seen_at: at(0),
        expires_at: at(0) + Duration::hours(12),
        last_uv_at: at(0),
    }
}

fn conflict(c: &str) -> StoreError {
    StoreError::Conflict {
        constraint: c.into(),
    }
}

pub async fn invitation_round_trips_and_is_found_by_its_hash(store: S) {
    let org = given_organisation(&*store, OrganisationKind::Practice, "P", at(0)).await;
    let i = invitation(org.id, &[1; 32]);
    store.insert_invitation(&i).await.unwrap();
    assert_eq!(store.find_invitation(&[1; 32]).await.unwrap(), Some(i));
    assert_eq!(store.find_invitation(&[2; 32]).await.unwrap(), None);
}

pub async fn duplicate_invitation_hash_conflicts_on_invitations_token_hash(store: S) {
    let org = given_organisation(&*store, OrganisationKind::Practice, "P", at(0)).await;
    store
        .insert_invitation(&invitation(org.id, &[1; 32]))
        .await
        .unwrap();
    assert_eq!(
        store.insert_invitation(&invitation(org.id, &[1; 32])).await,
        Err(conflict("invitations_token_hash"))
    );
}

pub async fn an_invitation_is_used_once(store: S) {
    let org = given_organisation(&*store, OrganisationKind::Practice, "P", at(0)).await;
    let i = invitation(org.id, &[1; 32]);
    store.insert_invitation(&i).await.unwrap();
    store.use_invitation(i.id, at(10)).await.unwrap();
    assert_eq!(
        store.use_invitation(i.id, at(11)).await,
        Err(StoreError::NotFound)
    );
    assert_eq!(
        store.use_invitation(new_id(), at(11)).await,
        Err(StoreError::NotFound)
    );
    let found = store.find_invitation(&[1; 32]).await.unwrap().unwrap();
    assert_eq!(found.used_at, Some(at(10)));
}

pub async fn invitation_needs_its_organisation(store: S) {
    assert_eq!(
        store
            .insert_invitation(&invitation(new_id(), &[1; 32]))
            .await,
        Err(conflict("foreign_key"))
    );
}

pub async fn credentials_are_listed_per_account_oldest_first(store: S) {
    let a = given_account(&*store).await;
    let b = given_account(&*store).await;
    let second = credential(a.id, b"c2", 5);
    let first = credential(a.id, b"c1", 1);
    store.insert_credential(&second).await.unwrap();
    store.insert_credential(&first).await.unwrap();
    store
        .insert_credential(&credential(b.id, b"c3", 0))
        .await
        .unwrap();
    assert_eq!(
        store.list_credentials(a.id).await.unwrap(),
        vec![first.clone(), second]
    );
    assert_eq!(store.find_credential(b"c1").await.unwrap(), Some(first));
    assert_eq!(store.find_credential(b"nope").await.unwrap(), None);
}

pub async fn duplicate_credential_id_conflicts_on_credentials_credential_id(store: S) {
    let a = given_account(&*store).await;
    store
        .insert_credential(&credential(a.id, b"c1", 0))
        .await
        .unwrap();
    assert_eq!(
        store.insert_credential(&credential(a.id, b"c1", 1)).await,
        Err(conflict("credentials_credential_id"))
    );
    assert_eq!(
        store
            .insert_credential(&credential(new_id(), b"c2", 1))
            .await,
        Err(conflict("foreign_key"))
    );
}

pub async fn credential_update_and_delete_keep_to_the_account(store: S) {
    let a = given_account(&*store).await;
    let c = credential(a.id, b"c1", 0);
    store.insert_credential(&c).await.unwrap();
    store
        .update_credential(c.id, r#"{"cred":{"counter":7}}"#, at(9))
        .await
        .unwrap();
    let got = store.find_credential(b"c1").await.unwrap().unwrap();
    assert_eq!(got.passkey, r#"{"cred":{"counter":7}}"#);
    assert_eq!(got.last_used_at, Some(at(9)));
    assert_eq!(
        store.update_credential(new_id(), "{}", at(9)).await,
        Err(StoreError::NotFound)
    );
    // Another account cannot delete it.
    assert_eq!(
        store.delete_credential(new_id(), c.id).await,
        Err(StoreError::NotFound)
    );
    store.delete_credential(a.id, c.id).await.unwrap();
    assert!(store.list_credentials(a.id).await.unwrap().is_empty());
}

pub async fn a_ceremony_is_taken_once(store: S) {
    let c = CeremonyRecord {
        id: new_id(),
        kind: "login".into(),
        state: r#"{"ast":{}}"#.into(),
        account_id: Some(new_id()),
        session_id: None,
        created_at: at(0),
        expires_at: at(300),
    };
    store.insert_ceremony(&c).await.unwrap();
    assert_eq!(
        store.insert_ceremony(&c).await,
        Err(conflict("ceremonies_pkey"))
    );
    assert_eq!(store.take_ceremony(c.id).await.unwrap(), Some(c.clone()));
    assert_eq!(store.take_ceremony(c.id).await.unwrap(), None);
}

pub async fn sessions_are_found_touched_stepped_up_and_deleted(store: S) {
    let a = given_account(&*store).await;
    let s = session(a.id, &[7; 32]);
    store.insert_session(&s).await.unwrap();
    assert_eq!(
        store.insert_session(&session(a.id, &[7; 32])).await,
        Err(conflict("sessions_token_hash"))
    );
    assert_eq!(store.find_session(&[7; 32]).await.unwrap(), Some(s.clone()));
    store.touch_session(s.id, at(60)).await.unwrap();
    store.set_session_uv(s.id, at(90)).await.unwrap();
    let got = store.find_session(&[7; 32]).await.unwrap().unwrap();
    assert_eq!((got.last_seen_at, got.last_uv_at), (at(60), at(90)));
    assert_eq!(
        store.touch_session(new_id(), at(1)).await,
        Err(StoreError::NotFound)
    );
    store.delete_session(s.id).await.unwrap();
    store.delete_session(s.id).await.unwrap();
    assert_eq!(store.find_session(&[7; 32]).await.unwrap(), None);
}

fn client_certificate(org: Uuid, fingerprint: &[u8], created: i64) -> ClientCertificateRecord {
    ClientCertificateRecord {
        id: new_id(),
        organisation_id: org,
        role: Role::InsurerStaff,
        display_name: "Système «Mutuelle» d'O'Neil".into(),
        serial: "0193a1b2c3d4".into(),
        fingerprint: fingerprint.to_vec(),
        not_before: at(created),
        not_after: at(created) + Duration::days(365),
        created_at: at(created),
        revoked_at: None,
    }
}

pub async fn client_certificates_round_trip_by_fingerprint_and_list_oldest_first(store: S) {
    let org = given_organisation(&*store, OrganisationKind::Insurer, "Mutuelle", at(0)).await;
    let newer = client_certificate(org.id, &[2; 32], 60);
    let older = client_certificate(org.id, &[1; 32], 0);
    store.insert_client_certificate(&newer).await.unwrap();
    store.insert_client_certificate(&older).await.unwrap();
    assert_eq!(
        store.find_client_certificate(&[2; 32]).await.unwrap(),
        Some(newer.clone())
    );
    assert_eq!(store.find_client_certificate(&[3; 32]).await.unwrap(), None);
    assert_eq!(
        store.list_client_certificates().await.unwrap(),
        vec![older.clone(), newer.clone()]
    );
    assert_eq!(
        store
            .insert_client_certificate(&client_certificate(org.id, &[2; 32], 90))
            .await,
        Err(conflict("client_certificates_fingerprint"))
    );
    let mut same_id = client_certificate(org.id, &[4; 32], 90);
    same_id.id = older.id;
    assert_eq!(
        store.insert_client_certificate(&same_id).await,
        Err(conflict("client_certificates_pkey"))
    );
}

pub async fn a_client_certificate_is_revoked_once_and_needs_its_organisation(store: S) {
    let org = given_organisation(&*store, OrganisationKind::Insurer, "Mutuelle", at(0)).await;
    let c = client_certificate(org.id, &[5; 32], 0);
    store.insert_client_certificate(&c).await.unwrap();
    store.revoke_client_certificate(c.id, at(30)).await.unwrap();
    store.revoke_client_certificate(c.id, at(90)).await.unwrap();
    let got = store
        .find_client_certificate(&[5; 32])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.revoked_at, Some(at(30)));
    assert_eq!(
        store.revoke_client_certificate(new_id(), at(1)).await,
        Err(StoreError::NotFound)
    );
    assert!(matches!(
        store
            .insert_client_certificate(&client_certificate(new_id(), &[6; 32], 0))
            .await,
        Err(StoreError::Conflict { .. })
    ));
}

pub async fn purge_access_deletes_expired_ceremonies_sessions_and_unused_invitations(store: S) {
    let a = given_account(&*store).await;
    // Ceremonies: one expired at 300 s, one live until 600 s.
    let ceremony = |expires: i64| CeremonyRecord {
        id: new_id(),
        kind: "login".into(),
        state: "{}".into(),
        account_id: None,
        session_id: None,
        created_at: at(0),
        expires_at: at(expires),
    };
    let (old_c, live_c) = (ceremony(300), ceremony(600));
    store.insert_ceremony(&old_c).await.unwrap();
    store.insert_ceremony(&live_c).await.unwrap();
    // Sessions: past its absolute end, idle, and live.
    let mut ended = session(a.id, &[1; 32]);
    ended.expires_at = at(300);
    let mut idle = session(a.id, &[2; 32]);
    idle.last_seen_at = at(10);
    let mut live = session(a.id, &[3; 32]);
    live.last_seen_at = at(200);
    for s in [&ended, &idle, &live] {
        store.insert_session(s).await.unwrap();
    }
    // Invitations: expired unused, expired but used, live.
    let mut expired = invitation(a.organisation_id, &[4; 32]);
    expired.expires_at = at(300);
    let mut used = invitation(a.organisation_id, &[5; 32]);
    used.expires_at = at(300);
    let live_i = invitation(a.organisation_id, &[6; 32]);
    for i in [&expired, &used, &live_i] {
        store.insert_invitation(i).await.unwrap();
    }
    store.use_invitation(used.id, at(100)).await.unwrap();

    let purged = store.purge_access(at(300), at(100)).await.unwrap();
    assert_eq!(
        purged,
        app::store::AccessPurge {
            ceremonies: 1,
            sessions: 2,
            invitations: 1,
        }
    );
    assert_eq!(store.take_ceremony(old_c.id).await.unwrap(), None);
    assert_eq!(store.take_ceremony(live_c.id).await.unwrap(), Some(live_c));
    assert_eq!(store.find_session(&[1; 32]).await.unwrap(), None);
    assert_eq!(store.find_session(&[2; 32]).await.unwrap(), None);
    assert_eq!(store.find_session(&[3; 32]).await.unwrap(), Some(live));
    assert_eq!(store.find_invitation(&[4; 32]).await.unwrap(), None);
    assert!(store.find_invitation(&[5; 32]).await.unwrap().is_some());
    assert_eq!(store.find_invitation(&[6; 32]).await.unwrap(), Some(live_i));
    // Nothing left to purge.
    assert_eq!(
        store.purge_access(at(300), at(100)).await.unwrap(),
        app::store::AccessPurge::default()
    );
}

fn idempotency(actor: Uuid, route: &str, key: &str, created: i64) -> IdempotencyRecord {
    IdempotencyRecord {
        id: new_id(),
        actor_id: actor,
        organisation_id: new_id(),
        route: route.into(),
        key: key.into(),
        request_hash: None,
        status: None,
        response: None,
        created_at: at(created),
        expires_at: at(created) + Duration::hours(24),
    }
}

pub async fn idempotency_records_are_one_per_caller_route_and_key(store: S) {
    let (me, other) = (new_id(), new_id());
    let r = idempotency(me, "POST /api/v1/invitations", "k-1", 0);
    store.insert_idempotency(&r).await.unwrap();
    assert_eq!(
        store
            .find_idempotency(me, "POST /api/v1/invitations", "k-1")
            .await
            .unwrap(),
        Some(r.clone())
    );
    // The same key again for that caller and route: refused.
    assert_eq!(
        store
            .insert_idempotency(&idempotency(me, "POST /api/v1/invitations", "k-1", 1))
            .await,
        Err(conflict("idempotency_key"))
    );
    // Another caller, or another route, has its own keys.
    store
        .insert_idempotency(&idempotency(other, "POST /api/v1/invitations", "k-1", 1))
        .await
        .unwrap();
    store
        .insert_idempotency(&idempotency(me, "POST /api/v1/other", "k-1", 1))
        .await
        .unwrap();
    assert_eq!(
        store
            .find_idempotency(me, "POST /api/v1/invitations", "k-2")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .find_idempotency(other, "POST /api/v1/invitations", "k-1")
            .await
            .unwrap()
            .unwrap()
            .actor_id,
        other
    );
}

pub async fn idempotency_records_complete_delete_and_purge(store: S) {
    let me = new_id();
    let r = idempotency(me, "POST /x", "k", 0);
    store.insert_idempotency(&r).await.unwrap();
    store
        .complete_idempotency(r.id, &[7; 32], 201, &[0, 1, 2, 255])
        .await
        .unwrap();
    let found = store
        .find_idempotency(me, "POST /x", "k")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.request_hash, Some(vec![7; 32]));
    assert_eq!(found.status, Some(201));
    assert_eq!(found.response, Some(vec![0, 1, 2, 255]));
    assert_eq!(
        store
            .complete_idempotency(new_id(), &[7; 32], 201, b"")
            .await,
        Err(StoreError::NotFound)
    );
    store.delete_idempotency(r.id).await.unwrap();
    store.delete_idempotency(r.id).await.unwrap(); // absent: not an error
    assert_eq!(
        store.find_idempotency(me, "POST /x", "k").await.unwrap(),
        None
    );

    // Purge: what expired at `now` goes, the rest stays.
    let old = idempotency(me, "POST /x", "old", 0);
    let young = idempotency(me, "POST /x", "young", 3600);
    store.insert_idempotency(&old).await.unwrap();
    store.insert_idempotency(&young).await.unwrap();
    assert_eq!(store.purge_idempotency(old.expires_at).await.unwrap(), 1);
    assert_eq!(
        store.find_idempotency(me, "POST /x", "old").await.unwrap(),
        None
    );
    assert!(
        store
            .find_idempotency(me, "POST /x", "young")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.purge_idempotency(old.expires_at).await.unwrap(), 0);
}
