//! Alerts: which signal fired, for whom (account and organisation ids), and what was done.
//! Each alert is stored (`alerts`), logged as a structured event (target `rempart::alert`,
//! ids only, never an identifying field), counted (`rempart_alerts_total{signal,severity}` on
//! `/metrics`) and POSTed as JSON to the configured webhook (bounded retries with backoff, in
//! the background).

use super::Guard;
use super::store::AlertRecord;
use serde::Serialize;
use std::time::Duration;
use uuid::Uuid;

/// How bad it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn code(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// What the guard did about it (`alerts.action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    None,
    Throttled,
    StepUpRequired,
    AccountSuspended,
    OrganisationSuspended,
    SuspensionLifted,
    SwitchedOff,
    SwitchedOn,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::None => "none",
            Action::Throttled => "throttled",
            Action::StepUpRequired => "step_up_required",
            Action::AccountSuspended => "account_suspended",
            Action::OrganisationSuspended => "organisation_suspended",
            Action::SuspensionLifted => "suspension_lifted",
            Action::SwitchedOff => "switched_off",
            Action::SwitchedOn => "switched_on",
        }
    }
}

/// An alert to raise. `signal` is a short stable code (`distinct_10min`, `non_match`,
/// `decoy`, `not_me`, …); `detail` holds counts and thresholds only.
#[derive(Debug, Clone)]
pub struct NewAlert {
    pub signal: &'static str,
    pub severity: Severity,
    pub account_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    pub action: Action,
    pub detail: String,
}

/// The JSON body POSTed to the webhook.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookBody {
    pub id: Uuid,
    pub signal: String,
    pub severity: String,
    pub account_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    pub action: String,
    pub detail: String,
    pub raised_at: String,
}

impl From<&AlertRecord> for WebhookBody {
    fn from(a: &AlertRecord) -> Self {
        Self {
            id: a.id,
            signal: a.signal.clone(),
            severity: a.severity.clone(),
            account_id: a.account_id,
            organisation_id: a.organisation_id,
            action: a.action.clone(),
            detail: a.detail.clone(),
            raised_at: a
                .raised_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        }
    }
}

/// Raises an alert: stores it (a storage failure is logged, the alert still goes to the log,
/// the counter and the webhook), logs it, counts it and sends it to the webhook.
pub async fn raise(guard: &Guard, alert: NewAlert) -> AlertRecord {
    let record = AlertRecord {
        id: guard.new_id(),
        signal: alert.signal.to_string(),
        severity: alert.severity.code().to_string(),
        account_id: alert.account_id,
        organisation_id: alert.organisation_id,
        action: alert.action.code().to_string(),
        detail: alert.detail,
        raised_at: guard.now(),
    };
    let account = record.account_id.map(|a| a.to_string()).unwrap_or_default();
    let organisation = record
        .organisation_id
        .map(|a| a.to_string())
        .unwrap_or_default();
    tracing::warn!(
        target: "rempart::alert",
        alert_id = %record.id,
        signal = %record.signal,
        severity = %record.severity,
        account_id = %account,
        organisation_id = %organisation,
        action = %record.action,
        detail = %record.detail,
        "guard alert"
    );
    guard.count_alert(&record.signal, &record.severity);
    if let Err(e) = guard.store().insert_alert(&record).await {
        tracing::error!(error = %e, alert_id = %record.id, "cannot store an alert");
    }
    if let Some(webhook) = guard.webhook() {
        webhook.send(WebhookBody::from(&record));
    }
    record
}

/// Delivery of alerts to a webhook (JSON POST), in the background.
#[derive(Clone)]
pub struct Webhook {
    url: String,
    client: reqwest::Client,
    attempts: u32,
    backoff: Duration,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook").finish_non_exhaustive()
    }
}

impl Webhook {
    pub fn new(url: &str, attempts: u32, backoff: Duration, timeout: Duration) -> Option<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .ok()?;
        Some(Self {
            url: url.to_string(),
            client,
            attempts: attempts.max(1),
            backoff,
        })
    }

    /// Sends in a background task: up to `attempts` tries, waiting `backoff`, then twice as
    /// long each time; a 2xx answer ends it. Gives up (logged) after the last attempt.
    pub fn send(&self, body: WebhookBody) {
        let this = self.clone();
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(alert_id = %body.id, "no runtime: alert not sent to the webhook");
            return;
        };
        handle.spawn(async move { this.deliver(&body).await });
    }

    /// Delivers now; `true` when the webhook answered 2xx.
    pub async fn deliver(&self, body: &WebhookBody) -> bool {
        let mut wait = self.backoff;
        for attempt in 1..=self.attempts {
            match self.client.post(&self.url).json(body).send().await {
                Ok(r) if r.status().is_success() => return true,
                Ok(r) => {
                    tracing::warn!(alert_id = %body.id, attempt, status = r.status().as_u16(), "alert webhook refused")
                }
                Err(e) => {
                    tracing::warn!(alert_id = %body.id, attempt, error = %e.without_url(), "alert webhook unreachable")
                }
            }
            if attempt < self.attempts {
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2);
            }
        }
        tracing::error!(alert_id = %body.id, attempts = self.attempts, "alert webhook: giving up");
        false
    }
}
