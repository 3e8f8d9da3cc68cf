//! Aggregates over computed conversations: the views that `report.html` draws
//! and that the Kibana dashboards (`kibana/convstats.ndjson`) show, computed
//! once here from the documents' own field values. The dashboard check
//! (`tests/dashboards_live.rs`) runs each panel's aggregation on the engine
//! and compares it with these figures.
//!
//! Pure data: built one conversation at a time and merged in any order, so
//! parallel parts of a run combine into the same figures. Time buckets are
//! UTC calendar days, rolled up at the end into weeks (starting Monday, as
//! Elasticsearch's `calendar_interval: week`) or months when the span asks for
//! it. Each view reads the documents a Kibana panel on its data view would: a
//! conversation without the view's time field is not in it.
//!
//! Percentiles follow cli.md: linear interpolation between the closest ranks
//! (numpy's default), rounded down to whole seconds.

use crate::conversation::Conversation;
use crate::metrics::{Duration, Metrics};
use std::collections::BTreeMap;

const DAY: i64 = 86_400;

/// The value of percentile `p` (0–100) of `sorted` (ascending): linear
/// interpolation between the closest ranks, rounded down; `None` when empty.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    let n = sorted.len();
    let last = n.checked_sub(1)?;
    // rank = last * p / 100, kept as an exact fraction.
    let num = last as u128 * u128::from(p.min(100));
    let lo = usize::try_from(num / 100).ok()?;
    let frac = i128::try_from(num % 100).ok()?;
    let a = i128::from(*sorted.get(lo)?);
    if frac == 0 {
        return i64::try_from(a).ok();
    }
    let b = i128::from(*sorted.get(lo + 1)?);
    i64::try_from(a + ((b - a) * frac).div_euclid(100)).ok()
}

/// The values of one measure in one group, in no particular order. Exact
/// percentiles need every value: those that fit 32 bits (every duration
/// under 68 years) are kept in 4 bytes, the others in 8, so the report's
/// figures cost half the memory they would.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values {
    narrow: Vec<i32>,
    wide: Vec<i64>,
}

impl From<Vec<i64>> for Values {
    fn from(values: Vec<i64>) -> Values {
        let mut v = Values::default();
        for x in values {
            v.push(Some(x));
        }
        v
    }
}

impl Values {
    fn push(&mut self, v: Option<i64>) {
        if let Some(x) = v {
            match i32::try_from(x) {
                Ok(n) => self.narrow.push(n),
                Err(_) => self.wide.push(x),
            }
        }
    }

    /// Adds every value of `o`.
    pub fn merge_from(&mut self, o: &Values) {
        self.narrow.extend_from_slice(&o.narrow);
        self.wide.extend_from_slice(&o.wide);
    }

    pub fn len(&self) -> usize {
        self.narrow.len() + self.wide.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The given percentiles (0–100), each `None` when there are no values.
    pub fn percentiles<const N: usize>(&self, ps: [u32; N]) -> [Option<i64>; N] {
        let mut v: Vec<i64> = Vec::with_capacity(self.len());
        v.extend(self.narrow.iter().map(|&n| i64::from(n)));
        v.extend_from_slice(&self.wide);
        v.sort_unstable();
        ps.map(|p| percentile(&v, p))
    }

    pub fn median(&self) -> Option<i64> {
        self.percentiles([50])[0]
    }
}

/// The most values [`Views`] keep per conversation: by day, by workspace
/// and by team, plain and `_ooo` (16), in 4 bytes each; what a run over a
/// memory budget sets aside for the report's figures.
pub const VALUE_BYTES_PER_CONVERSATION: u64 = 16 * 4;

/// A plain duration and its out-of-office twin, gathered side by side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pair {
    pub plain: Values,
    pub ooo: Values,
}

impl Pair {
    fn push(&mut self, d: Duration) {
        self.plain.push(d.plain);
        self.ooo.push(d.ooo);
    }

    fn extend(&mut self, o: &Pair) {
        self.plain.merge_from(&o.plain);
        self.ooo.merge_from(&o.ooo);
    }
}

/// One conversation's values that the views read: the fields of its two
/// documents (metrics.md sections 4 to 6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub workspace_id: String,
    pub team_assignee_id: Option<String>,
    pub message_type: &'static str,
    pub inbound: bool,
    pub conversation_created_at: Option<i64>,
    pub message_created_at: Option<i64>,
    pub count_reopens: u64,
    pub count_assignments: u64,
    pub time_to_admin_reply: Duration,
    pub started_at: Option<i64>,
    pub last_closed_at: Option<i64>,
    pub last_closed_by_human_at: Option<i64>,
    pub first_response_time: Duration,
    pub time_to_last_close: Duration,
    pub time_to_last_close_by_human: Duration,
}

/// What `message_type` a document without one is counted under (the name
/// Kibana's "missing bucket" shows as well).
pub const NO_MESSAGE_TYPE: &str = "(none)";
/// What `team_assignee_id` a document without one is grouped under.
pub const NO_TEAM: &str = "(no team)";

impl Facts {
    /// The values of one computed conversation.
    pub fn of(c: &Conversation, m: &Metrics) -> Facts {
        Facts {
            workspace_id: c.key.workspace_id.to_string(),
            team_assignee_id: c.team_assignee_id.as_deref().map(str::to_string),
            message_type: m.message_type.map_or(NO_MESSAGE_TYPE, |t| t.as_str()),
            inbound: m.inbound,
            conversation_created_at: m.conversation_created_at,
            message_created_at: m.message_created_at,
            count_reopens: m.count_reopens,
            count_assignments: m.count_assignments,
            time_to_admin_reply: m.time_to_admin_reply,
            // metrics.md section 5: started_at is FCR, first_response_time
            // is FCR → FAR (the legacy time_to_admin_reply), last_closed_at
            // is last_close_at.
            started_at: m.first_contact_reply_at,
            last_closed_at: m.last_close_at,
            last_closed_by_human_at: m.last_closed_by_human_at,
            first_response_time: m.time_to_admin_reply,
            time_to_last_close: m.time_to_last_close,
            time_to_last_close_by_human: m.time_to_last_close_by_human,
        }
    }
}

/// How closed conversations (new pipeline) were closed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Closes {
    /// `last_closed_by_human_at` is set: a human closed it after FCR.
    pub by_human: u64,
    /// `last_closed_at` is set but `last_closed_by_human_at` is not: only
    /// bots (or other non-human authors) closed it.
    pub never_by_human: u64,
}

impl Closes {
    fn add(&mut self, f: &Facts) {
        if f.last_closed_by_human_at.is_some() {
            self.by_human += 1;
        } else if f.last_closed_at.is_some() {
            self.never_by_human += 1;
        }
    }

    fn merge(&mut self, o: Closes) {
        self.by_human += o.by_human;
        self.never_by_human += o.never_by_human;
    }
}

/// Legacy-pipeline figures of one day of `conversation_created_at`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct LegacyDay {
    inbound: u64,
    by_type: BTreeMap<&'static str, u64>,
    time_to_admin_reply: Pair,
}

impl LegacyDay {
    fn merge(&mut self, o: &LegacyDay) {
        self.inbound += o.inbound;
        for (t, n) in &o.by_type {
            *self.by_type.entry(t).or_default() += n;
        }
        self.time_to_admin_reply.extend(&o.time_to_admin_reply);
    }
}

/// New-pipeline figures of one day of `started_at`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct NewDay {
    conversations: u64,
    first_response_time: Pair,
    time_to_last_close: Pair,
    time_to_last_close_by_human: Pair,
    closes: Closes,
}

impl NewDay {
    fn merge(&mut self, o: &NewDay) {
        self.conversations += o.conversations;
        self.first_response_time.extend(&o.first_response_time);
        self.time_to_last_close.extend(&o.time_to_last_close);
        self.time_to_last_close_by_human
            .extend(&o.time_to_last_close_by_human);
        self.closes.merge(o.closes);
    }
}

/// The new-pipeline figures of one workspace or one team.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    pub conversations: u64,
    pub first_response_time: Pair,
    pub time_to_last_close: Pair,
    pub closes: Closes,
}

impl Group {
    fn add(&mut self, f: &Facts) {
        self.conversations += 1;
        self.first_response_time.push(f.first_response_time);
        self.time_to_last_close.push(f.time_to_last_close);
        self.closes.add(f);
    }

    /// Adds everything `o` gathered.
    pub fn merge(&mut self, o: &Group) {
        self.conversations += o.conversations;
        self.first_response_time.extend(&o.first_response_time);
        self.time_to_last_close.extend(&o.time_to_last_close);
        self.closes.merge(o.closes);
    }
}

/// How the time axis is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucketing {
    Day,
    Week,
    Month,
    Year,
}

impl Bucketing {
    /// Days up to 92 days of span, weeks up to two years, months up to ten
    /// years, years beyond (so a chart has at most about a hundred bars
    /// whatever the input's dates).
    pub fn for_span(first_day: i64, last_day: i64) -> Bucketing {
        match last_day.saturating_sub(first_day) {
            ..=92 => Bucketing::Day,
            93..=731 => Bucketing::Week,
            732..=3653 => Bucketing::Month,
            _ => Bucketing::Year,
        }
    }

    /// Elasticsearch's `calendar_interval` for these buckets.
    pub fn calendar_interval(self) -> &'static str {
        match self {
            Bucketing::Day => "day",
            Bucketing::Week => "week",
            Bucketing::Month => "month",
            Bucketing::Year => "year",
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            Bucketing::Day => "day",
            Bucketing::Week => "week",
            Bucketing::Month => "month",
            Bucketing::Year => "year",
        }
    }

    /// The first day (days since 1970-01-01) of the bucket holding `day`.
    pub fn start(self, day: i64) -> i64 {
        match self {
            Bucketing::Day => day,
            // 1970-01-01 was a Thursday: day + 3 counts from a Monday.
            Bucketing::Week => day - (day + 3).rem_euclid(7),
            Bucketing::Month => {
                let (y, m, _) = civil_from_days(day);
                days_from_civil(y, m, 1)
            }
            Bucketing::Year => days_from_civil(civil_from_days(day).0, 1, 1),
        }
    }

    /// The first day of the bucket after the one starting at `start`.
    pub fn next(self, start: i64) -> i64 {
        match self {
            Bucketing::Day => start + 1,
            Bucketing::Week => start + 7,
            Bucketing::Month => {
                let (y, m, _) = civil_from_days(start);
                if m == 12 {
                    days_from_civil(y + 1, 1, 1)
                } else {
                    days_from_civil(y, m + 1, 1)
                }
            }
            Bucketing::Year => days_from_civil(civil_from_days(start).0 + 1, 1, 1),
        }
    }
}

/// (year, month, day) of a day count since 1970-01-01 (proleptic Gregorian;
/// Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The day count since 1970-01-01 of a civil date (inverse of
/// [`civil_from_days`]).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn day_of(ts: i64) -> i64 {
    ts.div_euclid(DAY)
}

/// Everything the views need, gathered from any number of conversations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Views {
    legacy_days: BTreeMap<i64, LegacyDay>,
    /// Conversations by day of `message_created_at` (the CSV export's
    /// timeframe), every message type.
    csv_days: BTreeMap<i64, u64>,
    /// Legacy documents (those with `conversation_created_at`) by
    /// `count_reopens` and by `count_assignments`.
    reopens: BTreeMap<u64, u64>,
    assignments: BTreeMap<u64, u64>,
    new_days: BTreeMap<i64, NewDay>,
    /// New-pipeline documents (those with `started_at`) by workspace and by
    /// team.
    by_workspace: BTreeMap<String, Group>,
    by_team: BTreeMap<String, Group>,
}

/// A time series: the first day of each bucket with its value, every bucket
/// from the first to the last non-empty one (empty ones included, as a
/// `date_histogram` returns them).
pub type Series<T> = Vec<(i64, T)>;

impl Views {
    /// Adds one conversation.
    pub fn add(&mut self, c: &Conversation, m: &Metrics) {
        self.add_facts(&Facts::of(c, m));
    }

    /// Adds one conversation's values.
    pub fn add_facts(&mut self, f: &Facts) {
        if let Some(t) = f.conversation_created_at {
            let d = self.legacy_days.entry(day_of(t)).or_default();
            d.inbound += u64::from(f.inbound);
            *d.by_type.entry(f.message_type).or_default() += 1;
            d.time_to_admin_reply.push(f.time_to_admin_reply);
            *self.reopens.entry(f.count_reopens).or_default() += 1;
            *self.assignments.entry(f.count_assignments).or_default() += 1;
        }
        if let Some(t) = f.message_created_at {
            *self.csv_days.entry(day_of(t)).or_default() += 1;
        }
        if let Some(t) = f.started_at {
            let d = self.new_days.entry(day_of(t)).or_default();
            d.conversations += 1;
            d.first_response_time.push(f.first_response_time);
            d.time_to_last_close.push(f.time_to_last_close);
            d.time_to_last_close_by_human
                .push(f.time_to_last_close_by_human);
            d.closes.add(f);
            if let Some(g) = self.by_workspace.get_mut(&f.workspace_id) {
                g.add(f);
            } else {
                let mut g = Group::default();
                g.add(f);
                self.by_workspace.insert(f.workspace_id.clone(), g);
            }
            let team = f.team_assignee_id.as_deref().unwrap_or(NO_TEAM);
            if let Some(g) = self.by_team.get_mut(team) {
                g.add(f);
            } else {
                let mut g = Group::default();
                g.add(f);
                self.by_team.insert(team.to_string(), g);
            }
        }
    }

    /// Adds everything `other` gathered.
    pub fn merge(&mut self, other: Views) {
        for (k, v) in other.legacy_days {
            self.legacy_days.entry(k).or_default().merge(&v);
        }
        for (k, v) in other.csv_days {
            *self.csv_days.entry(k).or_default() += v;
        }
        for (k, v) in other.reopens {
            *self.reopens.entry(k).or_default() += v;
        }
        for (k, v) in other.assignments {
            *self.assignments.entry(k).or_default() += v;
        }
        for (k, v) in other.new_days {
            self.new_days.entry(k).or_default().merge(&v);
        }
        for (k, v) in other.by_workspace {
            self.by_workspace.entry(k).or_default().merge(&v);
        }
        for (k, v) in other.by_team {
            self.by_team.entry(k).or_default().merge(&v);
        }
    }

    /// The buckets the time series use: chosen by the span of every time
    /// field the views read.
    pub fn bucketing(&self) -> Bucketing {
        let firsts = [
            self.legacy_days.keys().next(),
            self.csv_days.keys().next(),
            self.new_days.keys().next(),
        ];
        let lasts = [
            self.legacy_days.keys().next_back(),
            self.csv_days.keys().next_back(),
            self.new_days.keys().next_back(),
        ];
        match (
            firsts.into_iter().flatten().min(),
            lasts.into_iter().flatten().max(),
        ) {
            (Some(a), Some(b)) => Bucketing::for_span(*a, *b),
            _ => Bucketing::Day,
        }
    }

    /// Rolls `days` up into buckets of `b`, filling the gaps with empty
    /// buckets, and maps each bucket's gathered value with `f`.
    fn series<D, A: Default, T>(
        days: &BTreeMap<i64, D>,
        b: Bucketing,
        mut fold: impl FnMut(&mut A, &D),
        f: impl Fn(&A) -> T,
    ) -> Series<T> {
        let mut out = Vec::new();
        let (Some(first), Some(last)) = (days.keys().next(), days.keys().next_back()) else {
            return out;
        };
        let mut start = b.start(*first);
        while start <= *last {
            let end = b.next(start);
            let mut acc = A::default();
            for (_, d) in days.range(start..end) {
                fold(&mut acc, d);
            }
            out.push((start, f(&acc)));
            start = end;
        }
        out
    }

    /// "New inbound conversations": legacy documents with `inbound: true` by
    /// `conversation_created_at`.
    pub fn new_inbound(&self, b: Bucketing) -> Series<u64> {
        Self::series(
            &self.legacy_days,
            b,
            |a: &mut u64, d| *a += d.inbound,
            |a| *a,
        )
    }

    /// Legacy documents by `message_type` and `conversation_created_at`.
    pub fn by_message_type(&self, b: Bucketing) -> Series<BTreeMap<&'static str, u64>> {
        Self::series(
            &self.legacy_days,
            b,
            |a: &mut BTreeMap<&'static str, u64>, d| {
                for (t, n) in &d.by_type {
                    *a.entry(t).or_default() += n;
                }
            },
            Clone::clone,
        )
    }

    /// Every message type seen, in order.
    pub fn message_types(&self) -> Vec<&'static str> {
        let mut types: Vec<&'static str> = self
            .legacy_days
            .values()
            .flat_map(|d| d.by_type.keys().copied())
            .collect();
        types.sort_unstable();
        types.dedup();
        types
    }

    /// The CSV export's conversations (every type) by `message_created_at`.
    pub fn csv_rows(&self, b: Bucketing) -> Series<u64> {
        Self::series(&self.csv_days, b, |a: &mut u64, d| *a += d, |a| *a)
    }

    /// Median `time_to_admin_reply` and `time_to_admin_reply_ooo` by
    /// `conversation_created_at`.
    pub fn time_to_admin_reply_median(&self, b: Bucketing) -> Series<[Option<i64>; 2]> {
        Self::series(
            &self.legacy_days,
            b,
            |a: &mut Pair, d| a.extend(&d.time_to_admin_reply),
            |a| [a.plain.median(), a.ooo.median()],
        )
    }

    /// How many legacy documents have each `count_reopens`.
    pub fn reopens(&self) -> &BTreeMap<u64, u64> {
        &self.reopens
    }

    /// How many legacy documents have each `count_assignments`.
    pub fn assignments(&self) -> &BTreeMap<u64, u64> {
        &self.assignments
    }

    /// New-pipeline conversations by `started_at`.
    pub fn started(&self, b: Bucketing) -> Series<u64> {
        Self::series(
            &self.new_days,
            b,
            |a: &mut u64, d| *a += d.conversations,
            |a| *a,
        )
    }

    /// `first_response_time` by `started_at`: [median, p90, median `_ooo`,
    /// p90 `_ooo`].
    pub fn first_response_time(&self, b: Bucketing) -> Series<[Option<i64>; 4]> {
        Self::series(
            &self.new_days,
            b,
            |a: &mut Pair, d| a.extend(&d.first_response_time),
            |a| {
                let [p50, p90] = a.plain.percentiles([50, 90]);
                let [o50, o90] = a.ooo.percentiles([50, 90]);
                [p50, p90, o50, o90]
            },
        )
    }

    /// Medians by `started_at`: [`time_to_last_close`, its `_ooo`,
    /// `time_to_last_close_by_human`, its `_ooo`].
    pub fn time_to_last_close_median(&self, b: Bucketing) -> Series<[Option<i64>; 4]> {
        Self::series(
            &self.new_days,
            b,
            |a: &mut (Pair, Pair), d| {
                a.0.extend(&d.time_to_last_close);
                a.1.extend(&d.time_to_last_close_by_human);
            },
            |(c, h)| {
                [
                    c.plain.median(),
                    c.ooo.median(),
                    h.plain.median(),
                    h.ooo.median(),
                ]
            },
        )
    }

    /// How closed conversations were closed, by `started_at`.
    pub fn closes(&self, b: Bucketing) -> Series<Closes> {
        Self::series(
            &self.new_days,
            b,
            |a: &mut Closes, d| a.merge(d.closes),
            |a| *a,
        )
    }

    /// `time_to_last_close` (plain and `_ooo`) of every new-pipeline
    /// document.
    pub fn time_to_last_close(&self) -> Pair {
        let mut all = Pair::default();
        for d in self.new_days.values() {
            all.extend(&d.time_to_last_close);
        }
        all
    }

    /// New-pipeline figures by workspace id.
    pub fn by_workspace(&self) -> &BTreeMap<String, Group> {
        &self.by_workspace
    }

    /// New-pipeline figures by team assignee id ([`NO_TEAM`] for none).
    pub fn by_team(&self) -> &BTreeMap<String, Group> {
        &self.by_team
    }
}

/// The `n` smallest keys of a distribution, and the number of documents with
/// a greater key (a `terms` aggregation ordered by key with size `n`, and
/// its "other" bucket).
pub fn smallest_keys(dist: &BTreeMap<u64, u64>, n: usize) -> (Vec<(u64, u64)>, u64) {
    let shown: Vec<(u64, u64)> = dist.iter().take(n).map(|(k, v)| (*k, *v)).collect();
    let other = dist.values().skip(n).sum();
    (shown, other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// numpy's default percentile, in exact rational arithmetic, floored.
    fn oracle(values: &[i64], p: u32) -> Option<i64> {
        let mut v = values.to_vec();
        v.sort();
        if v.is_empty() {
            return None;
        }
        let h_num = (v.len() as i128 - 1) * i128::from(p);
        let lo = (h_num / 100) as usize;
        let hi = (lo + 1).min(v.len() - 1);
        let (a, b) = (i128::from(v[lo]), i128::from(v[hi]));
        // a + (h - lo)(b - a), with h - lo = (h_num - 100 lo) / 100
        let exact_num = a * 100 + (h_num - 100 * lo as i128) * (b - a);
        Some(exact_num.div_euclid(100) as i64)
    }

    #[test]
    fn a_percentile_interpolates_linearly_between_the_closest_ranks_rounded_down() {
        let v = Values::from(vec![50, 10, 40, 20, 30]);
        assert_eq!(
            v.percentiles([0, 50, 90, 100]),
            [Some(10), Some(30), Some(46), Some(50)]
        );
        // Two values: the median is their mean rounded down, p90 near the top.
        let two = Values::from(vec![100, 0]);
        assert_eq!(two.percentiles([50, 90]), [Some(50), Some(90)]);
        assert_eq!(Values::from(vec![1, 2]).median(), Some(1));
        assert_eq!(Values::from(vec![-3, -2]).median(), Some(-3));
        assert_eq!(Values::default().percentiles([90]), [None]);
    }

    proptest! {
        #[test]
        fn p50_is_never_above_p90_and_both_match_a_sorted_list_oracle(
            values in proptest::collection::vec(-1_000_000_000i64..4_000_000_000, 1..60),
            p in 0u32..=100,
        ) {
            let v = Values::from(values.clone());
            let [p50, p90, pp] = v.percentiles([50, 90, p]);
            prop_assert!(p50 <= p90);
            prop_assert_eq!(p50, oracle(&values, 50));
            prop_assert_eq!(p90, oracle(&values, 90));
            prop_assert_eq!(pp, oracle(&values, p));
            // The median of metrics.md (mean of the middle two, floored).
            prop_assert_eq!(p50, crate::metrics::median(&values));
        }

        #[test]
        fn weeks_start_on_monday_and_months_on_the_first(day in -800_000i64..800_000) {
            let w = Bucketing::Week.start(day);
            prop_assert!(w <= day && day - w < 7);
            prop_assert_eq!((w + 3).rem_euclid(7), 0);
            let m = Bucketing::Month.start(day);
            let (y, mo, d) = civil_from_days(m);
            prop_assert_eq!(d, 1);
            prop_assert_eq!(civil_from_days(day).0, y);
            prop_assert_eq!(civil_from_days(day).1, mo);
            prop_assert!(Bucketing::Month.next(m) > day);
            prop_assert_eq!(days_from_civil(y, mo, d), m);
        }

        #[test]
        fn merged_parts_give_the_figures_of_the_whole(
            facts in proptest::collection::vec(arb_facts(), 0..40),
            cut in 0usize..40,
        ) {
            let mut whole = Views::default();
            for f in &facts { whole.add_facts(f); }
            let cut = cut.min(facts.len());
            let (mut a, mut b) = (Views::default(), Views::default());
            for f in &facts[..cut] { a.add_facts(f); }
            for f in &facts[cut..] { b.add_facts(f); }
            b.merge(a);
            let bk = whole.bucketing();
            prop_assert_eq!(b.new_inbound(bk), whole.new_inbound(bk));
            prop_assert_eq!(b.first_response_time(bk), whole.first_response_time(bk));
            prop_assert_eq!(b.time_to_last_close_median(bk), whole.time_to_last_close_median(bk));
            prop_assert_eq!(b.closes(bk), whole.closes(bk));
            prop_assert_eq!(b.by_team().len(), whole.by_team().len());
            prop_assert_eq!(b.reopens(), whole.reopens());
        }
    }

    fn arb_facts() -> impl Strategy<Value = Facts> {
        let t = proptest::option::of(1_600_000_000i64..1_700_000_000);
        let d = (
            proptest::option::of(0i64..900_000),
            proptest::option::of(0i64..900_000),
        )
            .prop_map(|(plain, ooo)| Duration { plain, ooo });
        (
            (
                0u8..3,
                proptest::option::of(0u8..3),
                any::<bool>(),
                t.clone(),
                t.clone(),
            ),
            (0u64..4, 0u64..4, d.clone(), t.clone(), t.clone(), t),
            (d.clone(), d.clone(), d),
        )
            .prop_map(
                |((ws, team, inbound, cc, mc), (r, a, tta, st, lc, lh), (frt, ttlc, ttlh))| Facts {
                    workspace_id: format!("w{ws}"),
                    team_assignee_id: team.map(|t| format!("t{t}")),
                    message_type: if inbound {
                        "UserMessage"
                    } else {
                        NO_MESSAGE_TYPE
                    },
                    inbound,
                    conversation_created_at: cc,
                    message_created_at: mc,
                    count_reopens: r,
                    count_assignments: a,
                    time_to_admin_reply: tta,
                    started_at: st,
                    last_closed_at: lc,
                    last_closed_by_human_at: lh,
                    first_response_time: frt,
                    time_to_last_close: ttlc,
                    time_to_last_close_by_human: ttlh,
                },
            )
    }

    #[test]
    fn the_time_axis_is_cut_in_days_up_to_three_months_then_weeks_then_months() {
        assert_eq!(Bucketing::for_span(0, 92), Bucketing::Day);
        assert_eq!(Bucketing::for_span(0, 93), Bucketing::Week);
        assert_eq!(Bucketing::for_span(0, 800), Bucketing::Month);
        assert_eq!(Bucketing::for_span(0, 4000), Bucketing::Year);
        // 2024-03-14 (a Thursday) is in the week of Monday 2024-03-11.
        let d = days_from_civil(2024, 3, 14);
        assert_eq!(civil_from_days(Bucketing::Week.start(d)), (2024, 3, 11));
        assert_eq!(civil_from_days(Bucketing::Month.next(d)), (2024, 4, 1));
    }
}
