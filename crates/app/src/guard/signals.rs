//! The in-memory counters of one account, and the pure decisions over them. Nothing here
//! touches the store or the clock: times are given.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

/// The most lookups kept per account (a bot is suspended long before).
const MAX_KEPT: usize = 20_000;
/// Days of own history kept.
const HISTORY_DAYS: usize = 30;

/// What the guard remembers of one account.
#[derive(Debug, Default)]
pub struct AccountState {
    /// Matching lookups of the last 24 h: time and beneficiary.
    pub lookups: VecDeque<(OffsetDateTime, Uuid)>,
    /// The same, of the last 10 minutes.
    recent: VecDeque<(OffsetDateTime, Uuid)>,
    /// Lookups per beneficiary in `lookups` (its size is the 24 h distinct count).
    counts_24h: HashMap<Uuid, u32>,
    /// Lookups per beneficiary in `recent` (its size is the 10 min distinct count).
    counts_10min: HashMap<Uuid, u32>,
    /// Non-matching lookups of the last hour.
    pub non_matches: VecDeque<OffsetDateTime>,
    /// The latest request times (for the cadence).
    pub arrivals: VecDeque<OffsetDateTime>,
    /// Throttled requests of the last 10 minutes.
    pub throttled: VecDeque<OffsetDateTime>,
    /// A step-up is demanded since then, for that signal.
    pub step_up_demanded: Option<(OffsetDateTime, &'static str)>,
    pub step_up_refusals: u32,
    /// Distinct counts acknowledged by a step-up (thresholds start above them).
    pub ack_10min: usize,
    pub ack_24h: usize,
    /// Non-matches acknowledged by a step-up.
    pub ack_non_match: usize,
    /// Client addresses and credentials seen.
    pub addresses: HashSet<IpAddr>,
    pub credentials: HashSet<Uuid>,
    /// Highest 24 h distinct count per past day (own history).
    pub history: VecDeque<(Date, usize)>,
    /// When a signal last raised an alert (one alert per signal per 10 minutes).
    pub last_alert: HashMap<&'static str, OffsetDateTime>,
    /// The day being counted, and its highest 24 h distinct count so far.
    pub today: Option<(Date, usize)>,
    /// The account's practice profession (for peer comparisons).
    pub profession: Option<String>,
}

fn forget(counts: &mut HashMap<Uuid, u32>, b: Uuid) {
    if let Some(n) = counts.get_mut(&b) {
        *n -= 1;
        if *n == 0 {
            counts.remove(&b);
        }
    }
}

impl AccountState {
    /// Records a matching lookup at `now` (call [`Self::prune`] with `now` first).
    pub fn push_lookup(&mut self, now: OffsetDateTime, beneficiary: Uuid) {
        self.lookups.push_back((now, beneficiary));
        self.recent.push_back((now, beneficiary));
        *self.counts_24h.entry(beneficiary).or_default() += 1;
        *self.counts_10min.entry(beneficiary).or_default() += 1;
        while self.lookups.len() > MAX_KEPT {
            if let Some((_, b)) = self.lookups.pop_front() {
                forget(&mut self.counts_24h, b);
            }
        }
        while self.recent.len() > MAX_KEPT {
            if let Some((_, b)) = self.recent.pop_front() {
                forget(&mut self.counts_10min, b);
            }
        }
    }

    /// Distinct beneficiaries in the last 10 minutes, as of the last [`Self::prune`]: O(1),
    /// kept incrementally (the guard runs on every lookup).
    pub fn distinct_10min(&self) -> usize {
        self.counts_10min.len()
    }

    /// Distinct beneficiaries in the last 24 hours (at most the last `MAX_KEPT` lookups), as
    /// of the last [`Self::prune`].
    pub fn distinct_24h(&self) -> usize {
        self.counts_24h.len()
    }

    /// Drops what fell out of the windows at `now`.
    pub fn prune(&mut self, now: OffsetDateTime) {
        while self
            .lookups
            .front()
            .is_some_and(|(t, _)| now - *t >= Duration::hours(24))
        {
            if let Some((_, b)) = self.lookups.pop_front() {
                forget(&mut self.counts_24h, b);
            }
        }
        while self
            .recent
            .front()
            .is_some_and(|(t, _)| now - *t >= Duration::minutes(10))
        {
            if let Some((_, b)) = self.recent.pop_front() {
                forget(&mut self.counts_10min, b);
            }
        }
        while self
            .non_matches
            .front()
            .is_some_and(|t| now - *t >= Duration::hours(1))
        {
            self.non_matches.pop_front();
        }
        if self.non_matches.len() < self.ack_non_match {
            self.ack_non_match = self.non_matches.len();
        }
        while self
            .throttled
            .front()
            .is_some_and(|t| now - *t >= Duration::minutes(10))
        {
            self.throttled.pop_front();
        }
    }

    /// Distinct beneficiaries looked up within `window` before `now` (a scan: for peers and
    /// tests; the hot path uses the incremental counts).
    pub fn distinct_within(&self, now: OffsetDateTime, window: Duration) -> usize {
        let mut seen = HashSet::new();
        for (t, b) in self.lookups.iter().rev() {
            if now - *t >= window {
                break;
            }
            seen.insert(*b);
        }
        seen.len()
    }

    /// Records the day's highest 24 h count, rolling finished days into the history.
    pub fn note_day(&mut self, now: OffsetDateTime, distinct_24h: usize) {
        let day = now.date();
        match self.today {
            Some((d, max)) if d == day => self.today = Some((d, max.max(distinct_24h))),
            Some((d, max)) => {
                self.history.push_back((d, max));
                while self.history.len() > HISTORY_DAYS {
                    self.history.pop_front();
                }
                self.today = Some((day, distinct_24h));
            }
            None => self.today = Some((day, distinct_24h)),
        }
    }

    /// The highest 24 h count of a past day (the account's own history).
    pub fn own_max_24h(&self) -> usize {
        self.history.iter().map(|(_, n)| *n).max().unwrap_or(0)
    }

    /// Whether the signal may raise an alert now (one per 10 minutes), recording it.
    pub fn may_alert(&mut self, signal: &'static str, now: OffsetDateTime) -> bool {
        self.may_alert_every(signal, now, Duration::minutes(10))
    }

    /// Whether the signal may raise an alert now (one per `every`), recording it.
    pub fn may_alert_every(
        &mut self,
        signal: &'static str,
        now: OffsetDateTime,
        every: Duration,
    ) -> bool {
        match self.last_alert.get(signal) {
            Some(t) if now - *t < every => false,
            _ => {
                self.last_alert.insert(signal, now);
                true
            }
        }
    }

    /// Records a request time; keeps `keep` intervals.
    pub fn arrive(&mut self, now: OffsetDateTime, keep: usize) {
        self.arrivals.push_back(now);
        while self.arrivals.len() > keep + 1 {
            self.arrivals.pop_front();
        }
    }
}

/// Machine-regular cadence: `intervals` consecutive intervals whose standard deviation is
/// under `max_deviation_percent` of their mean, the mean being under `max_mean_secs`.
/// Integer arithmetic on milliseconds.
pub fn machine_regular(
    arrivals: &VecDeque<OffsetDateTime>,
    intervals: usize,
    max_deviation_percent: u32,
    max_mean_secs: u32,
) -> bool {
    if intervals == 0 || arrivals.len() < intervals + 1 {
        return false;
    }
    let start = arrivals.len() - (intervals + 1);
    let gaps: Vec<i128> = arrivals
        .iter()
        .skip(start)
        .zip(arrivals.iter().skip(start + 1))
        .map(|(a, b)| (*b - *a).whole_milliseconds())
        .collect();
    let n = gaps.len() as i128;
    let mean = gaps.iter().sum::<i128>() / n;
    if mean <= 0 {
        // Bursts at the same instant are machine-made too.
        return true;
    }
    if mean > i128::from(max_mean_secs) * 1000 {
        return false;
    }
    let variance = gaps.iter().map(|g| (g - mean) * (g - mean)).sum::<i128>() / n;
    // deviation / mean < p/100  <=>  variance * 100^2 < p^2 * mean^2
    variance * 10_000 < i128::from(max_deviation_percent).pow(2) * mean * mean
}

/// The 90th percentile of the peers' counts, when there are at least 5 peers.
pub fn peer_p90(mut counts: Vec<usize>) -> Option<usize> {
    if counts.len() < 5 {
        return None;
    }
    counts.sort_unstable();
    let idx = (counts.len() * 9).div_ceil(10).saturating_sub(1);
    counts.get(idx).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn times(gaps_ms: &[i64]) -> VecDeque<OffsetDateTime> {
        let mut t = datetime!(2026-01-15 09:00 UTC);
        let mut out = VecDeque::from([t]);
        for g in gaps_ms {
            t += Duration::milliseconds(*g);
            out.push_back(t);
        }
        out
    }

    #[test]
    fn constant_spacing_is_machine_regular_and_human_spacing_is_not() {
        assert!(machine_regular(&times(&[1000; 20]), 20, 10, 60));
        assert!(machine_regular(&times(&[250; 25]), 20, 10, 60));
        let human: Vec<i64> = (0..20).map(|i| 20_000 + (i * 7919 % 40_000)).collect();
        assert!(!machine_regular(&times(&human), 20, 10, 60));
        // Too few intervals: no opinion.
        assert!(!machine_regular(&times(&[1000; 10]), 20, 10, 60));
        // Regular but slow (every 5 minutes): not flagged.
        assert!(!machine_regular(&times(&[300_000; 20]), 20, 10, 60));
    }

    #[test]
    fn distinct_counts_keep_to_the_window() {
        let mut s = AccountState::default();
        let t0 = datetime!(2026-01-15 09:00 UTC);
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        s.lookups.push_back((t0, a));
        s.lookups.push_back((t0 + Duration::minutes(5), a));
        s.lookups.push_back((t0 + Duration::minutes(11), b));
        let now = t0 + Duration::minutes(12);
        assert_eq!(s.distinct_within(now, Duration::minutes(10)), 2);
        assert_eq!(s.distinct_within(now, Duration::hours(24)), 2);
        assert_eq!(s.distinct_within(now, Duration::minutes(2)), 1);
    }

    #[test]
    fn peer_percentile_needs_five_peers() {
        assert_eq!(peer_p90(vec![1, 2, 3, 4]), None);
        assert_eq!(
            peer_p90(vec![10, 20, 30, 40, 50, 60, 70, 80, 90, 100]),
            Some(90)
        );
    }

    #[test]
    fn the_incremental_counts_equal_a_full_scan() {
        let mut s = AccountState::default();
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let people: Vec<Uuid> = (0..40u128).map(Uuid::from_u128).collect();
        let mut x: u64 = 7;
        for step in 0..3_000i64 {
            // A pseudo-random walk: 1 to 90 seconds apart, 40 people, repeats.
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let now = t0 + Duration::seconds(step * 45 + (x >> 60) as i64);
            s.prune(now);
            s.push_lookup(now, people[(x >> 33) as usize % people.len()]);
            assert_eq!(
                s.distinct_10min(),
                s.distinct_within(now, Duration::minutes(10))
            );
            assert_eq!(
                s.distinct_24h(),
                s.distinct_within(now, Duration::hours(24))
            );
        }
    }
}
