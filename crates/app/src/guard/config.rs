//! The guard's thresholds (server config section `[guard]`); defaults documented in
//! docs/operating.md.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many distinct beneficiaries a profession's practice normally looks up: the peers'
/// norm the signals compare with (with the account's own history, whichever is higher).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Distinct beneficiaries in any 10 minutes.
    pub distinct_10min: u32,
    /// Distinct beneficiaries in any 24 hours.
    pub distinct_24h: u32,
}

/// Every threshold of the guard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuardConfig {
    /// `false` turns the guard off entirely (benchmarks only: no switch, suspension, limit
    /// or signal is applied). Default true.
    pub enabled: bool,
    /// Per account (or machine certificate): sustained lookups per minute (GCRA). Default 60.
    pub account_per_minute: u32,
    /// Per account: burst. Default 20.
    pub account_burst: u32,
    /// Per organisation: sustained lookups per minute. Default 300.
    pub organisation_per_minute: u32,
    /// Per organisation: burst. Default 60.
    pub organisation_burst: u32,
    /// Throttled (429) requests in 10 minutes after which a step-up is demanded. Default 20.
    pub throttles_before_step_up: u32,
    /// Norms per profession (`optician`, `pharmacist`, …); others use `default_baseline`.
    pub baselines: BTreeMap<String, Baseline>,
    /// The norm of a profession not listed (and of non-practice accounts).
    pub default_baseline: Baseline,
    /// The account's own history counts at this percentage of its highest day. Default 150.
    pub own_history_percent: u32,
    /// The peers' observed 24 h counts (90th percentile, at least 5 peers) count at this
    /// percentage. Default 150.
    pub peer_percent: u32,
    /// 24 h distinct beneficiaries above this percentage of the threshold suspend at once.
    /// Default 200.
    pub suspend_percent: u32,
    /// Non-matching lookups in an hour that demand a step-up. Default 5.
    pub non_match_step_up: u32,
    /// The non-matching lookup in an hour that suspends (the 11th by default).
    pub non_match_suspend: u32,
    /// Requests refused for a pending step-up after which the account is suspended. Default 3.
    pub step_up_refusals_to_suspend: u32,
    /// Machine-regular cadence: this many consecutive intervals… Default 20.
    pub cadence_intervals: u32,
    /// …whose standard deviation is under this percentage of their mean… Default 10.
    pub cadence_max_deviation_percent: u32,
    /// …and whose mean is under this many seconds. Default 60.
    pub cadence_max_mean_secs: u32,
    /// Account suspensions in one organisation within 24 h that suspend the organisation.
    /// Default 3.
    pub organisation_suspend_after: u32,
    /// Rights checks not used (approval or invoice) within this many hours count as unused.
    /// Default 48.
    pub unused_after_hours: u32,
    /// An account is flagged when at least this many of its checks are due… Default 20.
    pub unused_min_checks: u32,
    /// …and more than this percentage of them were never used. Default 80.
    pub unused_max_percent: u32,
    /// How often each process re-reads switches, suspensions and decoys (milliseconds).
    /// Default 500.
    pub poll_ms: u64,
    /// Whom a suspended account should contact (shown in the 403 problem).
    pub operator_contact: String,
    /// Alerts are POSTed (JSON) here when set.
    pub webhook_url: Option<String>,
    /// Delivery attempts per alert (backoff doubles from `webhook_backoff_ms`). Default 5.
    pub webhook_attempts: u32,
    /// Default 500.
    pub webhook_backoff_ms: u64,
    /// Per attempt. Default 5000.
    pub webhook_timeout_ms: u64,
    /// How fresh the operator's passkey check must be to lift a suspension or set a switch
    /// (seconds). Default 300.
    pub step_up_window_secs: u64,
}

impl Default for GuardConfig {
    fn default() -> Self {
        let mut baselines = BTreeMap::new();
        for (p, ten, day) in [
            ("optician", 10, 80),
            ("audio_prosthetist", 8, 60),
            ("pharmacist", 40, 600),
            ("dentist", 12, 100),
            ("laboratory", 60, 900),
            ("physician", 15, 120),
            ("radiologist", 30, 400),
            ("hospital", 80, 2000),
        ] {
            baselines.insert(
                p.to_string(),
                Baseline {
                    distinct_10min: ten,
                    distinct_24h: day,
                },
            );
        }
        Self {
            enabled: true,
            account_per_minute: 60,
            account_burst: 20,
            organisation_per_minute: 300,
            organisation_burst: 60,
            throttles_before_step_up: 20,
            baselines,
            default_baseline: Baseline {
                distinct_10min: 15,
                distinct_24h: 150,
            },
            own_history_percent: 150,
            peer_percent: 150,
            suspend_percent: 200,
            non_match_step_up: 5,
            non_match_suspend: 11,
            step_up_refusals_to_suspend: 3,
            cadence_intervals: 20,
            cadence_max_deviation_percent: 10,
            cadence_max_mean_secs: 60,
            organisation_suspend_after: 3,
            unused_after_hours: 48,
            unused_min_checks: 20,
            unused_max_percent: 80,
            poll_ms: 500,
            operator_contact: "the rempart operator's security desk".to_string(),
            webhook_url: None,
            webhook_attempts: 5,
            webhook_backoff_ms: 500,
            webhook_timeout_ms: 5000,
            step_up_window_secs: 300,
        }
    }
}

impl GuardConfig {
    /// The norm of a profession.
    pub fn baseline(&self, profession: Option<&str>) -> Baseline {
        profession
            .and_then(|p| self.baselines.get(p))
            .copied()
            .unwrap_or(self.default_baseline)
    }

    /// Checks ranges; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("account_per_minute", self.account_per_minute),
            ("account_burst", self.account_burst),
            ("organisation_per_minute", self.organisation_per_minute),
            ("organisation_burst", self.organisation_burst),
            ("non_match_suspend", self.non_match_suspend),
            (
                "step_up_refusals_to_suspend",
                self.step_up_refusals_to_suspend,
            ),
            (
                "organisation_suspend_after",
                self.organisation_suspend_after,
            ),
            ("cadence_intervals", self.cadence_intervals),
            ("webhook_attempts", self.webhook_attempts),
        ];
        for (key, v) in positive {
            if v == 0 {
                return Err(format!("guard.{key}: must be at least 1"));
            }
        }
        if self.non_match_step_up >= self.non_match_suspend {
            return Err("guard.non_match_step_up: must be below non_match_suspend".into());
        }
        if self.poll_ms == 0 || self.poll_ms > 1000 {
            return Err(
                "guard.poll_ms: must be between 1 and 1000 (switches take effect within a second)"
                    .into(),
            );
        }
        if self.suspend_percent < 100 {
            return Err("guard.suspend_percent: must be at least 100".into());
        }
        if let Some(url) = &self.webhook_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err("guard.webhook_url: must be an http(s) URL".into());
        }
        if self.operator_contact.trim().is_empty() {
            return Err("guard.operator_contact: must not be empty".into());
        }
        Ok(())
    }
}
