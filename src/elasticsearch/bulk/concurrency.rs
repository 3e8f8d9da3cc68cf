//! AIMD limit on bulk requests in flight: halve on back-pressure (an HTTP 429
//! or item-level 429s), add one after `limit` consecutive clean responses,
//! between 1 and the configured maximum. Every HTTP attempt holds a
//! [`Permit`], so requests waiting in backoff do not count.

use std::sync::Mutex;

use tokio::sync::Notify;

#[derive(Debug)]
struct State {
    limit: usize,
    in_flight: usize,
    clean: usize,
}

/// The limiter.
#[derive(Debug)]
pub struct Aimd {
    max: usize,
    state: Mutex<State>,
    notify: Notify,
}

/// Held while a request is in flight.
#[derive(Debug)]
pub struct Permit<'a> {
    aimd: &'a Aimd,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if let Ok(mut s) = self.aimd.state.lock() {
            s.in_flight = s.in_flight.saturating_sub(1);
        }
        self.aimd.notify.notify_waiters();
    }
}

impl Aimd {
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Aimd {
            max,
            state: Mutex::new(State {
                limit: max,
                in_flight: 0,
                clean: 0,
            }),
            notify: Notify::new(),
        }
    }

    /// Waits until fewer than `limit` requests are in flight.
    pub async fn acquire(&self) -> Permit<'_> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Ok(mut s) = self.state.lock()
                && s.in_flight < s.limit
            {
                s.in_flight += 1;
                return Permit { aimd: self };
            }
            notified.await;
        }
    }

    /// Multiplicative decrease.
    pub fn backpressure(&self) {
        if let Ok(mut s) = self.state.lock() {
            let before = s.limit;
            s.limit = (s.limit / 2).max(1);
            s.clean = 0;
            if s.limit != before {
                tracing::debug!(
                    limit = s.limit,
                    "bulk concurrency decreased (back-pressure)"
                );
            }
        }
    }

    /// Additive increase after `limit` clean responses in a row.
    pub fn success(&self) {
        let mut grew = false;
        if let Ok(mut s) = self.state.lock() {
            s.clean += 1;
            if s.clean >= s.limit && s.limit < self.max {
                s.limit += 1;
                s.clean = 0;
                grew = true;
            }
        }
        if grew {
            self.notify.notify_waiters();
        }
    }

    pub fn limit(&self) -> usize {
        self.state.lock().map(|s| s.limit).unwrap_or(1)
    }

    pub fn in_flight(&self) -> usize {
        self.state.lock().map(|s| s.in_flight).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn halves_on_backpressure_and_grows_back() {
        let a = Aimd::new(4);
        a.backpressure();
        assert_eq!(a.limit(), 2);
        a.backpressure();
        a.backpressure();
        assert_eq!(a.limit(), 1);
        let p = a.acquire().await;
        assert_eq!(a.in_flight(), 1);
        drop(p);
        for _ in 0..20 {
            a.success();
        }
        assert_eq!(a.limit(), 4);
    }
}
