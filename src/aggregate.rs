//! Aggregates over computed conversations: counts and duration
//! distributions, grouped by workspace. Pure data, built one conversation at
//! a time and merged in any order (parallel parts of a run combine into the
//! same figures). The report page reads them; the dashboard check compares
//! the engine's aggregations with them.

use crate::conversation::Conversation;
use crate::metrics::{Metrics, median};
use std::collections::BTreeMap;
use std::ops::AddAssign;

/// How many conversations have each property.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub conversations: u64,
    pub inbound: u64,
    pub with_contact_reply: u64,
    pub with_admin_reply: u64,
    pub closed: u64,
    /// A sum over conversations, not a count of them.
    pub reopens: u64,
}

impl Counts {
    /// The counts of one conversation.
    pub fn of(m: &Metrics) -> Counts {
        Counts {
            conversations: 1,
            inbound: u64::from(m.inbound),
            with_contact_reply: u64::from(m.first_contact_reply_at.is_some()),
            with_admin_reply: u64::from(m.first_admin_reply_at.is_some()),
            closed: u64::from(m.last_close_at.is_some()),
            reopens: m.count_reopens,
        }
    }
}

impl AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.conversations += o.conversations;
        self.inbound += o.inbound;
        self.with_contact_reply += o.with_contact_reply;
        self.with_admin_reply += o.with_admin_reply;
        self.closed += o.closed;
        self.reopens += o.reopens;
    }
}

/// The durations whose distributions are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// `first_response_time` of the new pipeline (first contact reply to
    /// first admin reply).
    FirstResponse,
    FirstResponseOoo,
    TimeToLastClose,
    TimeToLastCloseOoo,
}

impl Measure {
    pub const ALL: [Measure; 4] = [
        Measure::FirstResponse,
        Measure::FirstResponseOoo,
        Measure::TimeToLastClose,
        Measure::TimeToLastCloseOoo,
    ];

    /// This measure of one conversation, if it has one.
    pub fn of(self, m: &Metrics) -> Option<i64> {
        match self {
            Measure::FirstResponse => m.time_to_admin_reply.plain,
            Measure::FirstResponseOoo => m.time_to_admin_reply.ooo,
            Measure::TimeToLastClose => m.time_to_last_close.plain,
            Measure::TimeToLastCloseOoo => m.time_to_last_close.ooo,
        }
    }
}

/// Every value of one measure, in no particular order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Distribution(Vec<i64>);

impl Distribution {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The median of metrics.md section 4 (the mean of the two middle values
    /// for an even count, rounded down).
    pub fn median(&self) -> Option<i64> {
        median(&self.0)
    }

    /// The nearest-rank-below percentile `p` (0–100): the value at index
    /// `(n - 1) * p / 100` of the sorted values.
    pub fn percentile(&self, p: usize) -> Option<i64> {
        let mut v = self.0.clone();
        v.sort_unstable();
        v.get(v.len().checked_sub(1)? * p.min(100) / 100).copied()
    }
}

/// The figures of one group of conversations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Aggregate {
    pub counts: Counts,
    /// Conversations by `message_type` (`(none)` when it has none).
    pub by_message_type: BTreeMap<&'static str, u64>,
    distributions: [Distribution; Measure::ALL.len()],
}

impl Aggregate {
    /// Adds one conversation.
    pub fn add(&mut self, m: &Metrics) {
        self.counts += Counts::of(m);
        *self
            .by_message_type
            .entry(m.message_type.map_or("(none)", |t| t.as_str()))
            .or_default() += 1;
        for (d, measure) in self.distributions.iter_mut().zip(Measure::ALL) {
            d.0.extend(measure.of(m));
        }
    }

    /// Adds everything `other` gathered.
    pub fn merge(&mut self, other: Aggregate) {
        self.counts += other.counts;
        for (t, n) in other.by_message_type {
            *self.by_message_type.entry(t).or_default() += n;
        }
        for (d, o) in self.distributions.iter_mut().zip(other.distributions) {
            d.0.extend(o.0);
        }
    }

    pub fn distribution(&self, measure: Measure) -> &Distribution {
        &self.distributions[measure as usize]
    }
}

/// Aggregates by workspace id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ByWorkspace {
    pub workspaces: BTreeMap<String, Aggregate>,
}

impl ByWorkspace {
    /// Adds one conversation to its workspace.
    pub fn add(&mut self, c: &Conversation, m: &Metrics) {
        self.workspaces
            .entry(c.key.workspace_id.to_string())
            .or_default()
            .add(m);
    }

    /// Adds everything `other` gathered.
    pub fn merge(&mut self, other: ByWorkspace) {
        for (k, o) in other.workspaces {
            self.workspaces.entry(k).or_default().merge(o);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_percentile_is_the_sorted_value_at_the_index_rounded_down() {
        let d = Distribution(vec![50, 10, 40, 20, 30]);
        assert_eq!(d.percentile(0), Some(10));
        assert_eq!(d.percentile(50), Some(30));
        assert_eq!(d.percentile(90), Some(40));
        assert_eq!(d.percentile(100), Some(50));
        assert_eq!(Distribution::default().percentile(90), None);
    }
}
