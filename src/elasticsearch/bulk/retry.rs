//! Capped exponential backoff with full jitter: attempt `n` waits a uniform
//! random time in `[0, min(cap, base * 2^n)]` (about 100 ms doubling to 30 s
//! by default).

use std::time::Duration;

/// Backoff delays; the jitter source is a small deterministic generator.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    state: u64,
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration, seed: u64) -> Self {
        Backoff {
            base,
            cap,
            state: seed ^ 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// The ceiling for `attempt` (0-based): `min(cap, base * 2^attempt)`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.min(24);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// A delay for `attempt`, uniformly jittered below the ceiling.
    pub fn delay(&mut self, attempt: u32) -> Duration {
        let ceiling = self.ceiling(attempt).as_nanos() as u64;
        if ceiling == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.next_u64() % (ceiling + 1))
    }

    fn next_u64(&mut self) -> u64 {
        // splitmix64
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_under_a_doubling_capped_ceiling() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(30), 1);
        assert_eq!(b.ceiling(0), Duration::from_millis(100));
        assert_eq!(b.ceiling(3), Duration::from_millis(800));
        assert_eq!(b.ceiling(40), Duration::from_secs(30));
        for attempt in 0..50 {
            let d = b.delay(attempt);
            assert!(d <= b.ceiling(attempt));
        }
        let distinct: std::collections::HashSet<_> = (0..20).map(|_| b.delay(10)).collect();
        assert!(distinct.len() > 10, "jitter spreads delays");
    }
}
