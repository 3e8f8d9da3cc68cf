//! Metrics (metrics.md sections 3 to 6), computed from one merged
//! conversation. Pure: the office-hours schedule is passed in, and every
//! `_ooo` value goes through [`Schedule::office_seconds`].

pub mod elements;

use crate::conversation::Conversation;
use crate::office_hours::Schedule;
use crate::record::{Id, MessageType};
pub use elements::{BotIds, Role};
use elements::{Element, elements, message_type, reopens};

/// A duration in whole seconds, plain and with out-of-office time excluded.
/// Both are null when either end is null.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Duration {
    pub plain: Option<i64>,
    pub ooo: Option<i64>,
}

impl Duration {
    /// `from → to` measured plainly and in office time.
    pub fn between(from: Option<i64>, to: Option<i64>, schedule: &Schedule) -> Duration {
        match (from, to) {
            (Some(a), Some(b)) => Duration {
                plain: Some(b - a),
                ooo: Some(schedule.office_seconds(a, b)),
            },
            _ => Duration::default(),
        }
    }
}

/// Every metric of one conversation, for both document families.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Metrics {
    pub message_type: Option<MessageType>,
    pub inbound: bool,
    pub conversation_created_at: Option<i64>,
    pub message_created_at: Option<i64>,

    pub first_contact_reply_at: Option<i64>,
    pub first_assignment_at: Option<i64>,
    pub first_admin_reply_at: Option<i64>,
    pub first_close_at: Option<i64>,
    pub last_assignment_at: Option<i64>,
    pub last_assignment_admin_reply_at: Option<i64>,
    pub last_contact_reply_at: Option<i64>,
    pub last_admin_reply_at: Option<i64>,
    pub last_close_at: Option<i64>,
    pub last_closed_by_id: Option<Id>,
    pub last_closed_by_human_at: Option<i64>,

    pub count_reopens: u64,
    pub count_assignments: u64,
    pub count_conversation_parts: u64,

    pub time_to_assignment: Duration,
    pub time_to_admin_reply: Duration,
    pub time_to_first_close: Duration,
    pub time_to_last_close: Duration,
    pub time_to_last_close_by_human: Duration,

    pub reply_times: Vec<i64>,
    pub reply_times_ooo: Vec<i64>,
    pub median_time_to_reply: Option<i64>,
    pub median_time_to_reply_ooo: Option<i64>,

    pub updated_at: Option<i64>,
}

/// The median of section 4: the middle value, or the mean of the two middle
/// values rounded down; null for an empty list.
pub fn median(values: &[i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let n = v.len();
    if n % 2 == 1 {
        v.get(n / 2).copied()
    } else {
        let a = i128::from(*v.get(n / 2 - 1)?);
        let b = i128::from(*v.get(n / 2)?);
        i64::try_from((a + b).div_euclid(2)).ok()
    }
}

fn time_of(elements: &[Element], i: Option<usize>) -> Option<i64> {
    i.and_then(|i| elements.get(i)).map(|e| e.time)
}

/// Computes every metric of `conv` with `bots` as configured bot author ids
/// and `schedule` as its workspace's office hours.
pub fn compute(conv: &Conversation, bots: &BotIds, schedule: &Schedule) -> Metrics {
    let mt = message_type(conv);
    let els = elements(conv, mt, bots);
    let reopen = reopens(&els);

    let fcr = els.iter().position(|e| e.contact_reply);
    // Indices strictly after FCR in element order; empty when FCR is null.
    let after = fcr.map_or(els.len(), |f| f + 1);
    let after_fcr = || els.iter().enumerate().skip(after);

    let first =
        |pred: &dyn Fn(&Element) -> bool| after_fcr().find(|(_, e)| pred(e)).map(|(i, _)| i);
    let last = |pred: &dyn Fn(&Element) -> bool| {
        after_fcr().filter(|(_, e)| pred(e)).last().map(|(i, _)| i)
    };

    let far = first(&|e| e.admin_reply);
    let first_assignment = first(&|e| e.assignment);
    let last_assignment = last(&|e| e.assignment);
    let first_close = first(&|e| e.close);
    let last_close = last(&|e| e.close);
    let last_human_close = last(&|e| e.human_close);
    let last_admin_reply = last(&|e| e.admin_reply);
    let last_assignment_before_far = far.and_then(|far| {
        after_fcr()
            .take_while(|(i, _)| *i < far)
            .filter(|(_, e)| e.assignment)
            .last()
            .map(|(i, _)| i)
    });
    let last_contact_reply = els.iter().rposition(|e| e.contact_reply);

    let count_reopens = after_fcr()
        .filter(|(i, _)| reopen.get(*i) == Some(&true))
        .count() as u64;
    let count_assignments = after_fcr().filter(|(_, e)| e.assignment).count() as u64;

    let fcr_at = time_of(&els, fcr);
    let far_at = time_of(&els, far);
    let first_close_at = time_of(&els, first_close);
    let last_close_at = time_of(&els, last_close);
    let last_closed_by_human_at = time_of(&els, last_human_close);
    let last_assignment_admin_reply_at = time_of(&els, last_assignment_before_far);

    let (reply_times, reply_times_ooo) = reply_times(&els, schedule);

    let updated_at = [conv.created_at, conv.max_record_updated_at]
        .into_iter()
        .flatten()
        .chain(els.iter().map(|e| e.time))
        .chain(conv.parts.iter().filter_map(|p| p.updated_at()))
        .max();

    Metrics {
        message_type: mt,
        inbound: mt == Some(MessageType::UserMessage),
        conversation_created_at: conv.created_at,
        message_created_at: conv.source_created_at.or(conv.created_at),
        first_contact_reply_at: fcr_at,
        first_assignment_at: time_of(&els, first_assignment),
        first_admin_reply_at: far_at,
        first_close_at,
        last_assignment_at: time_of(&els, last_assignment),
        last_assignment_admin_reply_at,
        last_contact_reply_at: time_of(&els, last_contact_reply),
        last_admin_reply_at: time_of(&els, last_admin_reply),
        last_close_at,
        last_closed_by_id: last_close
            .and_then(|i| els.get(i))
            .and_then(|e| e.author_id.cloned()),
        last_closed_by_human_at,
        count_reopens,
        count_assignments,
        count_conversation_parts: conv.parts.len() as u64,
        time_to_assignment: Duration::between(fcr_at, last_assignment_admin_reply_at, schedule),
        time_to_admin_reply: Duration::between(fcr_at, far_at, schedule),
        time_to_first_close: Duration::between(fcr_at, first_close_at, schedule),
        time_to_last_close: Duration::between(fcr_at, last_close_at, schedule),
        time_to_last_close_by_human: Duration::between(fcr_at, last_closed_by_human_at, schedule),
        median_time_to_reply: median(&reply_times),
        median_time_to_reply_ooo: median(&reply_times_ooo),
        reply_times,
        reply_times_ooo,
        updated_at,
    }
}

/// Section 4's reply times: for each admin reply E, the closest visible
/// element P before E; when P's author is a customer, `time(E) − time(P)`.
fn reply_times(els: &[Element], schedule: &Schedule) -> (Vec<i64>, Vec<i64>) {
    let mut plain = Vec::new();
    let mut ooo = Vec::new();
    let mut previous_visible: Option<&Element> = None;
    for e in els {
        if e.admin_reply
            && let Some(p) = previous_visible.filter(|p| p.role == Role::Customer)
        {
            plain.push(e.time - p.time);
            ooo.push(schedule.office_seconds(p.time, e.time));
        }
        if e.visible {
            previous_visible = Some(e);
        }
    }
    (plain, ooo)
}
