use super::*;
use time::macros::datetime;

fn actor(role: Role, org: Uuid) -> Actor {
    Actor {
        account_id: Uuid::from_u128(1),
        organisation_id: org,
        role,
        display_name: "x".into(),
        session_id: Some(Uuid::from_u128(2)),
        credential_id: Some(Uuid::from_u128(3)),
        last_uv_at: Some(datetime!(2026-01-15 09:00 UTC)),
    }
}

#[test]
fn another_organisation_is_not_found_for_non_operators() {
    let mine = Uuid::from_u128(10);
    let theirs = Uuid::from_u128(11);
    for role in [Role::InsurerStaff, Role::Professional] {
        let a = actor(role, mine);
        assert_eq!(policy::may_see_organisation(&a, mine), Ok(()));
        assert_eq!(
            policy::may_see_organisation(&a, theirs),
            Err(AccessError::NotFound)
        );
        assert_eq!(policy::owns(&a, theirs), Err(AccessError::NotFound));
    }
    for role in [Role::OperatorAdmin, Role::OperatorAnalyst, Role::Auditor] {
        assert_eq!(
            policy::may_see_organisation(&actor(role, mine), theirs),
            Ok(())
        );
    }
}

#[test]
fn only_operator_administrators_invite() {
    let org = Uuid::from_u128(10);
    assert_eq!(policy::may_invite(&actor(Role::OperatorAdmin, org)), Ok(()));
    for role in [
        Role::OperatorAnalyst,
        Role::Auditor,
        Role::InsurerStaff,
        Role::Professional,
    ] {
        assert_eq!(
            policy::may_invite(&actor(role, org)),
            Err(AccessError::Forbidden)
        );
    }
}

#[test]
fn step_up_is_fresh_for_five_minutes() {
    let a = actor(Role::OperatorAdmin, Uuid::from_u128(10));
    let uv = datetime!(2026-01-15 09:00 UTC);
    let w = Duration::minutes(5);
    assert_eq!(require_step_up(&a, uv + Duration::minutes(5), w), Ok(()));
    assert_eq!(
        require_step_up(&a, uv + Duration::minutes(5) + Duration::seconds(1), w),
        Err(AccessError::StepUpRequired)
    );
    let mut no_uv = a.clone();
    no_uv.last_uv_at = None;
    assert_eq!(
        require_step_up(&no_uv, uv, w),
        Err(AccessError::StepUpRequired)
    );
}

#[test]
fn token_hashes_are_keyed_and_separated_by_purpose() {
    let k1 = TokenKey::from_bytes([1; 32]);
    let k2 = TokenKey::from_bytes([2; 32]);
    assert_eq!(k1.hash("session", "t").len(), 32);
    assert_ne!(k1.hash("session", "t"), k2.hash("session", "t"));
    assert_ne!(k1.hash("session", "t"), k1.hash("invitation", "t"));
    assert_eq!(format!("{k1:?}"), "TokenKey(..)");
}

#[test]
fn the_relying_party_must_match_the_origin() {
    let cfg = AccessConfig::for_origin("localhost", "http://localhost:8080");
    assert!(cfg.rp_origin == "http://localhost:8080" && !cfg.is_https());
    assert!(AccessConfig::for_origin("rempart.fr", "https://rempart.fr/").is_https());
}
