//! One whole conversation drawn from its own random stream (`generate`):
//! its workspace, customer and kind, when it arrives, its parts (a `Story`),
//! occasional edits, and the attributes around them (source subject and body,
//! e-mail or chat, read, priority, tags). Nothing here writes bytes: a
//! `Conversation` is everything `render` needs.

use super::arrival;
use super::params::GenParams;
use super::people::{CUSTOMERS_PER_WORKSPACE, Customer};
use super::rnd::Rnd;
use super::story::{Part, State, Story, Who};
use super::text::{
    BOT_MESSAGE, CUSTOMER_FALLBACK, CUSTOMER_OPENERS, EMAIL_SUBJECTS, OUTBOUND, OUTBOUND_FALLBACK,
    OUTBOUND_REPLIES, TAGS,
};
use super::workspace::{pick_workspace, profile};
use super::{DAY, HOUR, MINUTE};

/// How a conversation began (`source.delivered_as`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Customer,
    AdminInitiated,
    Automated,
    OperatorInitiated,
}

/// The tags of a conversation: `count` of them, indices `first`,
/// `first + step`, ... into `TAGS` (modulo its length).
pub(super) struct Tags {
    count: usize,
    first: usize,
    step: usize,
}

impl Tags {
    /// The indices into `TAGS` of the tags, in order.
    pub(super) fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.count).map(|k| (self.first + k * self.step) % TAGS.len())
    }
}

/// The conversation's `source`: its first message.
pub(super) struct Source {
    /// Sent by e-mail (`type: "email"`), else in the messenger.
    pub(super) email: bool,
    pub(super) kind: Kind,
    pub(super) subject: &'static str,
    pub(super) body: &'static str,
    pub(super) author: Who,
    pub(super) attachment: bool,
    /// The `created_at` extension: the send time of an automated message
    /// whose conversation was created when the customer answered.
    pub(super) created: Option<i64>,
}

/// A generated conversation, before it is written (fields in the order of
/// the JSON object).
pub(super) struct Conversation {
    /// Its 0-based index in the data set: the ids derive from it.
    pub(super) index: u64,
    pub(super) created: i64,
    /// Unset unless the conversation is open or snoozed.
    pub(super) waiting_since: Option<i64>,
    /// Unset unless the conversation is snoozed.
    pub(super) snoozed_until: Option<i64>,
    pub(super) source: Source,
    pub(super) customer: Customer,
    /// First contact reply.
    pub(super) fcr: Option<i64>,
    pub(super) admin: Option<u8>,
    pub(super) team: Option<u8>,
    pub(super) state: State,
    pub(super) read: bool,
    pub(super) tags: Tags,
    pub(super) priority: bool,
    /// `is_ai_answer` of the AI agent's parts.
    pub(super) ai_answer: bool,
    pub(super) parts: Vec<Part>,
    /// Its workspace (0-based).
    pub(super) ws: u32,
}

impl Conversation {
    /// `updated_at`: its last part's time, or its creation.
    pub(super) fn updated(&self) -> i64 {
        self.parts
            .iter()
            .map(|p| p.t.max(p.updated))
            .max()
            .unwrap_or(self.created)
            .max(self.created)
    }
}

/// Conversation `index` (0-based) of a data set. Depends only on `params`
/// (not on `params.conversations`) and `index`.
pub(super) fn generate(params: &GenParams, index: u64) -> Conversation {
    let mut rng = Rnd::new(params.seed, index);
    let ws = pick_workspace(&mut rng, params.workspace_count());
    let p = profile(ws);

    // A skewed pick from the pool: some customers write often.
    let u = rng.f64();
    let customer = Customer::new(
        params.seed,
        ws,
        (u * u * CUSTOMERS_PER_WORKSPACE as f64) as u64,
    );

    let kind = match rng.f64() {
        x if x < 0.74 => Kind::Customer,
        x if x < 0.85 => Kind::AdminInitiated,
        x if x < 0.96 => Kind::Automated,
        _ => Kind::OperatorInitiated,
    };
    let weights = match kind {
        Kind::Customer => &arrival::CUSTOMER,
        Kind::AdminInitiated => &arrival::ADMIN_INITIATED,
        Kind::Automated | Kind::OperatorInitiated => &arrival::AUTOMATED,
    };
    let sent = arrival::arrival(&mut rng, params, p, weights);
    let owner = rng.below(u64::from(p.admins)) as u8;
    let mut story = Story::new(&mut rng, p, owner, sent);

    // The initial message's author, and when the conversation was created.
    let mut created = sent;
    let mut source_created: Option<i64> = None;
    let source_author: Who;
    match kind {
        Kind::Customer => {
            source_author = Who::Customer;
            let _ = story.customer_initiated();
        }
        Kind::AdminInitiated | Kind::Automated | Kind::OperatorInitiated => {
            source_author = match kind {
                Kind::OperatorInitiated => Who::Fin,
                Kind::Automated if story.rng.chance(0.3) => Who::Operator,
                _ => Who::Admin(owner),
            };
            story.state = State::Closed;
            let answered = story.rng.chance(match kind {
                Kind::AdminInitiated => 0.7,
                Kind::Automated => 0.55,
                _ => 0.6,
            });
            if answered {
                let delay = if story.rng.chance(0.4) {
                    story.rng.lognormal(3.0 * HOUR as f64, 1.0, 2 * MINUTE, DAY)
                } else {
                    story
                        .rng
                        .lognormal(2.0 * DAY as f64, 0.8, 6 * HOUR, 12 * DAY)
                };
                let at = sent + delay;
                if kind == Kind::Automated && story.rng.chance(0.35) {
                    // Created when the customer answered; the extension keeps the send time.
                    created = at;
                    source_created = Some(sent);
                    story.t = at;
                }
                let body = story.rng.pick(OUTBOUND_REPLIES, CUSTOMER_FALLBACK);
                let part = if kind != Kind::OperatorInitiated && story.rng.chance(0.8) {
                    "open"
                } else {
                    "comment"
                };
                let _ = story.customer_answers(part, at, body);
            }
        }
    }

    // Occasional edits: a part updated after it was created, never after the
    // last part.
    let last = story.parts.last().map_or(created, |p| p.t);
    let edits: Vec<usize> = (0..story.parts.len())
        .filter(|_| story.rng.chance(0.03))
        .collect();
    for i in edits {
        let bump = story.rng.range(5, 30 * MINUTE);
        if let Some(part) = story.parts.get_mut(i)
            && part.body.is_some()
        {
            part.updated = (part.t + bump).min(last);
        }
    }
    let read = story.rng.chance(0.7);
    let priority = story.rng.chance(0.1);
    let count = story.rng.weighted(&[0.55, 0.3, 0.15]);
    let first = story.rng.below(TAGS.len() as u64) as usize;
    let step = 1 + story.rng.below(TAGS.len() as u64 - 1) as usize;
    let tags = Tags { count, first, step };
    let email = kind == Kind::Customer && story.rng.chance(0.3);
    let source_attachment = kind == Kind::Customer && story.rng.chance(0.05);
    let (subject, source_body) = match kind {
        Kind::Customer => (
            if email {
                story.rng.pick(EMAIL_SUBJECTS, "Help")
            } else {
                ""
            },
            story.rng.pick(CUSTOMER_OPENERS, CUSTOMER_FALLBACK),
        ),
        Kind::OperatorInitiated => ("", BOT_MESSAGE),
        Kind::AdminInitiated | Kind::Automated => story.rng.pick(OUTBOUND, OUTBOUND_FALLBACK),
    };
    let ai_answer = story.rng.chance(0.5);

    let state = story.state;
    Conversation {
        index,
        created,
        waiting_since: story.waiting_since.filter(|_| state != State::Closed),
        snoozed_until: story.snoozed_until.filter(|_| state == State::Snoozed),
        source: Source {
            email,
            kind,
            subject,
            body: source_body,
            author: source_author,
            attachment: source_attachment,
            created: source_created,
        },
        customer,
        fcr: story.fcr,
        admin: story.admin,
        team: story.team,
        state,
        read,
        tags,
        priority,
        ai_answer,
        parts: story.parts,
        ws,
    }
}
