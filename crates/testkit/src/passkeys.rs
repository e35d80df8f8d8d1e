//! A software passkey client (webauthn-authenticator-rs `SoftPasskey`, user verification
//! faked as done) driving the real JSON ceremonies: `app.enrol(role, org)`, `app.login(&pk)`.
//!
//! `SoftPasskey` keeps no resident keys and returns no user handle; a browser's discoverable
//! passkey does both. [`TestPasskey::assert`] plays that part: it names its own credential in
//! the (empty) allow list, as the authenticator would pick it, and returns the user handle.

use crate::TestApp;
use app::store::{InsurerRecord, OrganisationRecord, PracticeRecord};
use domain::accounts::{OrganisationKind, Profession, ProfessionalId, Role};
use domain::ids::{Adeli, AmNumber, AmcNumber};
use serde_json::{Value, json};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use uuid::Uuid;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::prelude::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};

static SERIAL: AtomicU32 = AtomicU32::new(1);

/// A software authenticator holding one passkey of one account.
pub struct TestPasskey {
    authenticator: Mutex<SoftPasskey>,
    /// The credential id, base64url (as in `PublicKeyCredential.id`).
    pub credential_id: String,
    pub account_id: Uuid,
}

impl TestPasskey {
    /// A passkey made with [`TestPasskey::register`], once the server accepted it.
    pub fn from_parts(
        authenticator: Mutex<SoftPasskey>,
        credential_id: String,
        account_id: Uuid,
    ) -> Self {
        Self {
            authenticator,
            credential_id,
            account_id,
        }
    }

    /// Creates the passkey for `options` as a browser at `origin` would.
    pub fn register(
        origin: &str,
        options: CreationChallengeResponse,
    ) -> (Mutex<SoftPasskey>, RegisterPublicKeyCredential) {
        let mut soft = SoftPasskey::new(true);
        let credential = soft
            .do_registration(Url::parse(origin).unwrap(), options)
            .expect("the soft passkey registers");
        (Mutex::new(soft), credential)
    }

    /// An assertion for `options` made at `origin` (the relying party id is the options').
    pub fn assert(&self, origin: &str, options: RequestChallengeResponse) -> PublicKeyCredential {
        self.try_assert(origin, options)
            .expect("the soft passkey asserts")
    }

    /// Same, but a client-side refusal (e.g. an origin the rp id does not cover) is `None`.
    pub fn try_assert(
        &self,
        origin: &str,
        options: RequestChallengeResponse,
    ) -> Option<PublicKeyCredential> {
        // The discoverable part: choose our own credential.
        let mut value = serde_json::to_value(&options).unwrap();
        value["publicKey"]["allowCredentials"] =
            json!([{ "type": "public-key", "id": self.credential_id }]);
        let options: RequestChallengeResponse = serde_json::from_value(value).unwrap();
        let mut credential = self
            .authenticator
            .lock()
            .unwrap()
            .do_authentication(Url::parse(origin).unwrap(), options)
            .ok()?;
        credential.response.user_handle = Some(self.account_id.as_bytes().to_vec());
        Some(credential)
    }

    /// A phishing proxy at `evil_origin`: it relays our options but, as the browser demands,
    /// claims its own host as relying party id; the passkey signs for that origin.
    pub fn assert_for_phishing_proxy(
        &self,
        evil_origin: &str,
        options: RequestChallengeResponse,
    ) -> PublicKeyCredential {
        let host = Url::parse(evil_origin)
            .unwrap()
            .host_str()
            .unwrap()
            .to_string();
        let mut value = serde_json::to_value(&options).unwrap();
        value["publicKey"]["rpId"] = json!(host);
        let options: RequestChallengeResponse = serde_json::from_value(value).unwrap();
        self.assert(evil_origin, options)
    }
}

/// A signed-in person: their session cookie and passkey.
pub struct SignedIn {
    /// `name=value`, for the `Cookie` header.
    pub cookie: String,
    /// The session id (the cookie's value).
    pub token: String,
    /// The `Set-Cookie` header as received.
    pub set_cookie: String,
    pub passkey: std::sync::Arc<TestPasskey>,
    /// The session body (`me`, `expires_at`, `idle_timeout_seconds`).
    pub session: Value,
    pub account_id: Uuid,
    pub organisation_id: Uuid,
    pub role: Role,
}

fn read_cookie(response: &reqwest::Response) -> (String, String, String) {
    let set_cookie = response
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_string();
    let pair = set_cookie.split(';').next().unwrap().trim().to_string();
    let token = pair.split_once('=').unwrap().1.to_string();
    (pair, token, set_cookie)
}

impl TestApp {
    /// A new organisation of `kind` (an insurer or a practice with its records).
    /// A practice's IBAN sealed as `rempart` seals it (for practice `id`).
    pub fn sealed_practice_iban(&self, id: Uuid) -> Vec<u8> {
        use crypto::Sealer;
        self.ports
            .vault
            .sealer(crypto::envelope::PLATFORM_SCOPE)
            .expect("the platform's data key")
            .seal(
                &crypto::FieldRef::new("practices", "iban", id),
                crate::TEST_PRACTICE_IBAN.as_bytes(),
            )
            .expect("seal an IBAN")
    }

    pub async fn given_organisation(&self, kind: OrganisationKind) -> Uuid {
        let n = SERIAL.fetch_add(1, Ordering::SeqCst);
        let now = self.clock_now();
        let id = self.ports.new_id();
        self.ports
            .store
            .insert_organisation(&OrganisationRecord {
                id,
                kind,
                name: format!("Test {kind} {n}"),
                created_at: now,
            })
            .await
            .unwrap();
        match kind {
            OrganisationKind::Operator => {}
            OrganisationKind::Insurer => self
                .ports
                .store
                .insert_insurer(&InsurerRecord {
                    id,
                    amc: AmcNumber::parse(&format!("77{n:07}")).unwrap(),
                    name: format!("Test insurer {n}"),
                    created_at: now,
                })
                .await
                .unwrap(),
            OrganisationKind::Practice => self
                .ports
                .store
                .insert_practice(&PracticeRecord {
                    id,
                    name: format!("Test practice {n}"),
                    profession: Profession::Optician,
                    am_number: AmNumber::parse(&format!("99{n:07}")).unwrap(),
                    finess: None,
                    siret: None,
                    iban_sealed: self.sealed_practice_iban(id),
                    created_at: now,
                })
                .await
                .unwrap(),
        }
        id
    }

    fn clock_now(&self) -> time::OffsetDateTime {
        use app::Clock;
        self.clock.now()
    }

    /// An invitation token for `role` in `organisation` (as `rempart invite` makes it).
    pub async fn invite(&self, role: Role, organisation: Uuid) -> String {
        let n = SERIAL.fetch_add(1, Ordering::SeqCst);
        let professional_id = (role == Role::Professional)
            .then(|| ProfessionalId::Adeli(Adeli::parse(&format!("75{n:07}")).unwrap()));
        self.access
            .invite(
                None,
                app::accounts::InviteRequest {
                    role,
                    organisation_id: organisation,
                    display_name: Some(format!("Test {role} {n}")),
                    professional_id,
                },
            )
            .await
            .expect("invitation")
            .token
    }

    /// `POST` JSON with our `Origin` (what a browser on our pages sends).
    pub async fn post_origin(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("origin", &self.origin)
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// Enrols a new passkey with `invitation`.
    pub async fn enrol_with(&self, invitation: &str) -> SignedIn {
        let start = self
            .post_origin(
                "/api/v1/auth/enrol/start",
                &json!({ "invitation": invitation }),
            )
            .await;
        assert_eq!(start.status(), 200, "enrol/start");
        let start: Value = start.json().await.unwrap();
        let options: CreationChallengeResponse =
            serde_json::from_value(start["options"].clone()).unwrap();
        let account_id = Uuid::from_slice(options.public_key.user.id.as_ref()).unwrap();
        let (authenticator, credential) = TestPasskey::register(&self.origin, options);
        let finish = self
            .post_origin(
                "/api/v1/auth/enrol/finish",
                &json!({ "invitation": invitation, "credential": credential }),
            )
            .await;
        assert_eq!(finish.status(), 200, "enrol/finish");
        let passkey = TestPasskey {
            authenticator,
            credential_id: credential.id.clone(),
            account_id,
        };
        self.signed_in(finish, std::sync::Arc::new(passkey)).await
    }

    /// Invites and enrols a person of `role` in `organisation`.
    pub async fn enrol(&self, role: Role, organisation: Uuid) -> SignedIn {
        let invitation = self.invite(role, organisation).await;
        self.enrol_with(&invitation).await
    }

    /// `login/start`: the ceremony id and the request options.
    pub async fn login_start(&self) -> (Uuid, RequestChallengeResponse) {
        let start = self
            .post_origin("/api/v1/auth/login/start", &json!({}))
            .await;
        assert_eq!(start.status(), 200, "login/start");
        let start: Value = start.json().await.unwrap();
        let ceremony = Uuid::parse_str(start["ceremony"].as_str().unwrap()).unwrap();
        let options = serde_json::from_value(start["options"].clone()).unwrap();
        (ceremony, options)
    }

    /// `login/finish` with `credential`, as sent.
    pub async fn login_finish(
        &self,
        ceremony: Uuid,
        credential: &PublicKeyCredential,
    ) -> reqwest::Response {
        self.post_origin(
            "/api/v1/auth/login/finish",
            &json!({ "ceremony": ceremony, "credential": credential }),
        )
        .await
    }

    /// Signs in with `passkey` (a new session).
    pub async fn login(&self, passkey: &std::sync::Arc<TestPasskey>) -> SignedIn {
        let (ceremony, options) = self.login_start().await;
        let credential = passkey.assert(&self.origin, options);
        let finish = self.login_finish(ceremony, &credential).await;
        assert_eq!(finish.status(), 200, "login/finish");
        self.signed_in(finish, passkey.clone()).await
    }

    async fn signed_in(
        &self,
        response: reqwest::Response,
        passkey: std::sync::Arc<TestPasskey>,
    ) -> SignedIn {
        let (cookie, token, set_cookie) = read_cookie(&response);
        let session: Value = response.json().await.unwrap();
        let me = &session["me"];
        SignedIn {
            cookie,
            token,
            set_cookie,
            passkey,
            account_id: Uuid::parse_str(me["account_id"].as_str().unwrap()).unwrap(),
            organisation_id: Uuid::parse_str(me["organisation"]["id"].as_str().unwrap()).unwrap(),
            role: serde_json::from_value(me["role"].clone()).unwrap(),
            session,
        }
    }

    /// A request of `who` (their cookie and our `Origin`).
    pub fn request_as(
        &self,
        who: &SignedIn,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("cookie", &who.cookie)
            .header("origin", &self.origin)
    }

    pub async fn get_as(&self, who: &SignedIn, path: &str) -> reqwest::Response {
        self.request_as(who, reqwest::Method::GET, path)
            .send()
            .await
            .expect("GET")
    }

    pub async fn post_as(&self, who: &SignedIn, path: &str, body: &Value) -> reqwest::Response {
        self.request_as(who, reqwest::Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    pub async fn delete_as(&self, who: &SignedIn, path: &str) -> reqwest::Response {
        self.request_as(who, reqwest::Method::DELETE, path)
            .send()
            .await
            .expect("DELETE")
    }

    /// A step-up of `who`'s session with their passkey.
    pub async fn step_up(&self, who: &SignedIn) {
        let start = self
            .post_as(who, "/api/v1/auth/step-up/start", &json!({}))
            .await;
        assert_eq!(start.status(), 200, "step-up/start");
        let start: Value = start.json().await.unwrap();
        let options: RequestChallengeResponse =
            serde_json::from_value(start["options"].clone()).unwrap();
        let credential = who.passkey.assert(&self.origin, options);
        let finish = self
            .post_as(
                who,
                "/api/v1/auth/step-up/finish",
                &json!({ "ceremony": start["ceremony"], "credential": credential }),
            )
            .await;
        assert_eq!(finish.status(), 200, "step-up/finish");
    }
}
