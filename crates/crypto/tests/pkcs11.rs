//! The PKCS#11 key provider against a real token (SoftHSM2 locally and in CI):
//!
//!     eval "$(scripts/softhsm-setup.sh)" && cargo test -p crypto --test pkcs11
//!
//! One test function runs the whole scenario sequentially: a PKCS#11 library may be
//! initialised only once at a time per process.

use crypto::keys::{KeyError, KeyProvider, Pkcs11KeyProvider};
use crypto::{DataKey, SeededRandom};
use secrecy::SecretString;

struct Token {
    module: String,
    label: String,
    pin: String,
}

fn token() -> Option<Token> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (
        get("REMPART_TEST_PKCS11_MODULE"),
        get("REMPART_TEST_PKCS11_TOKEN"),
        get("REMPART_TEST_PKCS11_PIN"),
    ) {
        (Some(module), Some(label), Some(pin)) => Some(Token { module, label, pin }),
        _ => None,
    }
}

#[test]
fn pkcs11_provider_wraps_rotates_and_rewraps_inside_the_token() {
    let Some(t) = token() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but no SoftHSM2 token: run scripts/softhsm-setup.sh and export its variables"
        );
        println!("SKIPPED: no SoftHSM2 token (run scripts/softhsm-setup.sh)");
        return;
    };
    let rng = SeededRandom::new(2024);

    // A wrong PIN fails cleanly, does not leak the PIN, and finalises the library.
    let err = Pkcs11KeyProvider::open(&t.module, &t.label, SecretString::from("wrong-pin-1234"))
        .unwrap_err();
    assert!(
        matches!(
            err,
            KeyError::Pkcs11 {
                operation: "C_Login",
                ..
            }
        ),
        "{err}"
    );
    assert!(!err.to_string().contains("wrong-pin-1234"));
    let err = Pkcs11KeyProvider::open(
        &t.module,
        "no-such-token",
        SecretString::from(t.pin.clone()),
    )
    .unwrap_err();
    assert!(matches!(err, KeyError::TokenNotFound(_)), "{err}");

    let p =
        Pkcs11KeyProvider::open(&t.module, &t.label, SecretString::from(t.pin.clone())).unwrap();
    // The token may hold versions from earlier runs; a fresh token starts empty.
    let before = p.versions().unwrap();
    if before.is_empty() {
        assert!(matches!(p.current_version(), Err(KeyError::NoVersion)));
    }
    let v1 = p.create_version().unwrap();
    assert_eq!(v1, before.last().map_or(1, |v| v + 1));
    assert_eq!(p.current_version().unwrap(), v1);

    // Wrap / unwrap.
    let dek = DataKey::generate(&rng);
    let w1 = p.wrap(v1, &dek).unwrap();
    assert_eq!(w1.len(), 40, "RFC 3394 wrap of 32 bytes");
    assert!(!w1.windows(32).any(|w| w == dek.expose()));
    assert_eq!(p.unwrap(v1, &w1).unwrap(), dek);

    // The KEK is not extractable: CKA_VALUE is sensitive.
    let prot = p.kek_protection(v1).unwrap();
    assert!(prot.value_is_sensitive, "{prot:?}");
    assert!(
        prot.sensitive && !prot.extractable && prot.always_sensitive && prot.never_extractable,
        "{prot:?}"
    );

    // Rotation: v2; the old blob still unwraps; rewrap v1 → v2 inside the token.
    let v2 = p.create_version().unwrap();
    assert_eq!(v2, v1 + 1);
    assert_eq!(p.current_version().unwrap(), v2);
    assert_eq!(p.unwrap(v1, &w1).unwrap(), dek);
    let w2 = p.rewrap(v1, v2, &w1).unwrap();
    assert_eq!(w2.len(), 40);
    assert_ne!(w2, w1);
    assert_eq!(p.unwrap(v2, &w2).unwrap(), dek);
    assert!(
        matches!(p.unwrap(v2, &w1), Err(KeyError::Unwrap(_))),
        "blob under the wrong version"
    );

    // Tampered, truncated and unknown-version blobs fail without panicking.
    for i in [0, 7, 20, 39] {
        let mut bad = w1.clone();
        bad[i] ^= 0x01;
        assert!(
            matches!(p.unwrap(v1, &bad), Err(KeyError::Unwrap(_))),
            "flipped byte {i}"
        );
        assert!(
            matches!(p.rewrap(v1, v2, &bad), Err(KeyError::Unwrap(_))),
            "rewrap of flipped byte {i}"
        );
    }
    assert!(matches!(
        p.unwrap(v1, &w1[..39]),
        Err(KeyError::Malformed { .. })
    ));
    assert!(matches!(
        p.unwrap(v2 + 100, &w1),
        Err(KeyError::UnknownVersion(_))
    ));

    // Many wraps leave no session object behind (each call destroys its DEK object).
    for _ in 0..50 {
        let d = DataKey::generate(&rng);
        assert_eq!(p.unwrap(v2, &p.wrap(v2, &d).unwrap()).unwrap(), d);
    }

    let described = p.describe();
    assert!(
        described.contains(&t.label) && !described.contains(&t.pin),
        "{described}"
    );
    println!("{described}");

    // Persistence: close (C_Finalize), reopen in the same process, unwrap the old blobs.
    drop(p);
    let q =
        Pkcs11KeyProvider::open(&t.module, &t.label, SecretString::from(t.pin.clone())).unwrap();
    assert_eq!(q.current_version().unwrap(), v2);
    assert_eq!(q.unwrap(v1, &w1).unwrap(), dek);
    assert_eq!(q.unwrap(v2, &w2).unwrap(), dek);
}
