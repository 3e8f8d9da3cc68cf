//! What `serve` knows about its own health, shared by its tasks: why it is
//! not ready (the store failing, Elasticsearch unreachable), and the last
//! measured backlog (which `POST /v1/records` compares with the backlog
//! limit without querying the store on every request).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Readiness reasons and the cached backlog.
#[derive(Debug, Default)]
pub struct Status {
    store: Mutex<Option<String>>,
    elasticsearch: Mutex<Option<String>>,
    backlog: AtomicU64,
}

fn set(slot: &Mutex<Option<String>>, value: Option<String>) {
    match slot.lock() {
        Ok(mut g) => *g = value,
        Err(p) => *p.into_inner() = value,
    }
}

fn get(slot: &Mutex<Option<String>>) -> Option<String> {
    match slot.lock() {
        Ok(g) => g.clone(),
        Err(p) => p.into_inner().clone(),
    }
}

impl Status {
    /// `None`: the store answers; else why not.
    pub fn set_store(&self, problem: Option<String>) {
        set(&self.store, problem);
    }

    /// `None`: the cluster answers; else why not.
    pub fn set_elasticsearch(&self, problem: Option<String>) {
        set(&self.elasticsearch, problem);
    }

    /// Why `serve` is not ready, when it is not.
    pub fn not_ready(&self) -> Option<String> {
        let reasons: Vec<String> = [
            get(&self.store).map(|p| format!("state store: {p}")),
            get(&self.elasticsearch).map(|p| format!("elasticsearch: {p}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }

    pub fn set_backlog(&self, dirty: u64) {
        self.backlog.store(dirty, Ordering::Relaxed);
    }

    pub fn backlog(&self) -> u64 {
        self.backlog.load(Ordering::Relaxed)
    }
}
