//! The rate limit of the sign-in and enrolment ceremonies (`/api/v1/auth/login/*`,
//! `/api/v1/auth/enrol/*`), per client address ([`crate::middleware::ClientAddr`]): a
//! generic-cell rate (governor) of `auth_rate_per_minute` with a burst of `auth_rate_burst`.
//! Past it: 429 problem `rate-limited` with `retry-after` (seconds).
//!
//! Time comes from the application's `Clock` (a governor clock over it), so tests that move the
//! clock move the limiter too.

use crate::AppState;
use crate::WebConfig;
use crate::error::ApiError;
use crate::middleware::ClientAddr;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// Governor's clock over the application's `Clock`: instants are durations since the epoch.
#[derive(Clone)]
pub struct AppClock(Arc<dyn app::Clock>);

impl GovernorClock for AppClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let nanos = self.0.now().unix_timestamp_nanos();
        Nanos::from(u64::try_from(nanos).unwrap_or(0))
    }
}

/// The per-address limiter of the sign-in and enrolment ceremonies.
pub struct AuthLimiter {
    limiter: RateLimiter<IpAddr, HashMapStateStore<IpAddr>, AppClock, NoOpMiddleware<Nanos>>,
    clock: AppClock,
    checks: std::sync::atomic::AtomicU32,
}

impl AuthLimiter {
    /// `None` when the limit is off (`auth_rate_per_minute = 0`).
    pub fn new(config: &WebConfig, clock: Arc<dyn app::Clock>) -> Option<Self> {
        let rate = NonZeroU32::new(config.auth_rate_per_minute)?;
        let burst = NonZeroU32::new(config.auth_rate_burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(rate).allow_burst(burst);
        let clock = AppClock(clock);
        Some(Self {
            limiter: RateLimiter::hashmap_with_clock(quota, clock.clone()),
            clock,
            checks: std::sync::atomic::AtomicU32::new(0),
        })
    }

    /// `Ok` if `addr` may start another ceremony now, else how long to wait.
    pub fn check(&self, addr: IpAddr) -> Result<(), Duration> {
        // Forget idle addresses now and then, so the table stays small.
        let n = self
            .checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n % 1024 == 1023 {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&addr)
            .map(|_| ())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// 429 problem with `retry-after` (whole seconds, at least 1).
fn too_many(wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = ApiError::too_many_requests(
        "Too many sign-in attempts from this address; wait, then try again.",
    )
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Admits a ceremony request under the per-address limit (an extractor for the ceremony
/// routes). Requests without a known address (in-process tests) pass.
#[derive(Debug, Clone, Copy)]
pub struct CeremonyRate;

impl FromRequestParts<AppState> for CeremonyRate {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let (Some(limiter), Some(ClientAddr(addr))) = (
            state.auth_limiter.as_ref(),
            parts.extensions.get::<ClientAddr>().copied(),
        ) else {
            return Ok(CeremonyRate);
        };
        match limiter.check(addr) {
            Ok(()) => Ok(CeremonyRate),
            Err(wait) => {
                tracing::info!(wait_secs = wait.as_secs(), "sign-in ceremony rate-limited");
                Err(too_many(wait))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use app::ManualClock;
    use time::macros::datetime;

    #[test]
    fn the_burst_then_the_rate_per_address() {
        let clock = Arc::new(ManualClock::new(datetime!(2026-01-15 09:00 UTC)));
        let config = WebConfig {
            auth_rate_per_minute: 6,
            auth_rate_burst: 3,
            ..WebConfig::default()
        };
        let limiter = AuthLimiter::new(&config, clock.clone()).unwrap();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.check(a).is_ok());
        }
        let wait = limiter.check(a).unwrap_err();
        assert_eq!(
            wait,
            Duration::from_secs(10),
            "one every 10 s at 6 a minute"
        );
        // Another address has its own allowance.
        assert!(limiter.check(b).is_ok());
        // After the wait, one more.
        clock.advance(time::Duration::seconds(10));
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(a).is_err());
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let clock = Arc::new(ManualClock::new(datetime!(2026-01-15 09:00 UTC)));
        let config = WebConfig {
            auth_rate_per_minute: 0,
            ..WebConfig::default()
        };
        assert!(AuthLimiter::new(&config, clock).is_none());
    }
}
