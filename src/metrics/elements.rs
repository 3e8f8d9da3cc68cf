//! A conversation's elements (metrics.md sections 1 and 2): its parts plus
//! the initial message, in order, each classified once.

use crate::conversation::Conversation;
use crate::record::id::cmp_part_ids;
use crate::record::{Author, AuthorType, Id, MessageType, PartType};
use rustc_hash::FxHashSet;
use std::cmp::Ordering;

/// Author ids configured as bots (`[bots] author_ids`).
#[derive(Debug, Clone, Default)]
pub struct BotIds(FxHashSet<Id>);

impl BotIds {
    pub fn new(ids: impl IntoIterator<Item = Id>) -> BotIds {
        BotIds(ids.into_iter().collect())
    }

    pub fn contains(&self, id: &str) -> bool {
        self.0.contains(id)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// How an author counts (section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Customer,
    HumanAdmin,
    Bot,
    Other,
}

/// Classifies an author: customers are never bots; admins are bots when an
/// AI flag is set or their id is configured as a bot.
pub fn role(author: &Author, bots: &BotIds) -> Role {
    author_role(author.kind, author.id.as_deref(), author.ai, bots)
}

fn author_role(kind: AuthorType, id: Option<&str>, ai: bool, bots: &BotIds) -> Role {
    match kind {
        AuthorType::Customer => Role::Customer,
        AuthorType::Bot => Role::Bot,
        AuthorType::Admin => {
            if ai || id.is_some_and(|id| bots.contains(id)) {
                Role::Bot
            } else {
                Role::HumanAdmin
            }
        }
        AuthorType::Other => Role::Other,
    }
}

/// The conversation's message type (section 1).
pub fn message_type(conv: &Conversation) -> Option<MessageType> {
    conv.message_type_extension.or_else(|| {
        let src = conv.source.as_ref()?;
        src.delivered_as.or_else(|| {
            src.author
                .as_ref()
                .filter(|a| a.kind == AuthorType::Customer)
                .map(|_| MessageType::UserMessage)
        })
    })
}

/// Visibility of a part (section 2).
pub fn part_visible(part_type: PartType, body_non_empty: bool, visible_ext: Option<bool>) -> bool {
    if let Some(v) = visible_ext {
        return v;
    }
    match part_type {
        PartType::Comment | PartType::QuickReply => true,
        PartType::Note | PartType::NoteAndReopen => false,
        _ => body_non_empty,
    }
}

/// One element, classified.
#[derive(Debug, Clone)]
pub struct Element<'a> {
    pub time: i64,
    /// `None` for the initial message.
    pub part_type: Option<PartType>,
    pub part_id: Option<&'a str>,
    pub author_id: Option<&'a Id>,
    pub role: Role,
    pub visible: bool,
    pub contact_reply: bool,
    pub admin_reply: bool,
    pub assignment: bool,
    pub close: bool,
    pub human_close: bool,
    /// An `open`, `assign_and_reopen` or `note_and_reopen` part.
    pub reopening_type: bool,
}

fn cmp_elements(a: &Element, b: &Element) -> Ordering {
    a.time
        .cmp(&b.time)
        .then_with(|| match (a.part_id, b.part_id) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => cmp_part_ids(x, y),
        })
}

/// The elements of `conv` in order: by time; at equal times the initial
/// message first, then parts by part id (numeric-aware).
pub fn elements<'a>(
    conv: &'a Conversation,
    message_type: Option<MessageType>,
    bots: &BotIds,
) -> Vec<Element<'a>> {
    let mut out = Vec::with_capacity(conv.parts.len() + 1);
    if let (Some(created_at), Some(author)) = (
        conv.created_at,
        conv.source.as_ref().and_then(|s| s.author.as_ref()),
    ) {
        out.push(Element {
            time: created_at,
            part_type: None,
            part_id: None,
            author_id: author.id.as_ref(),
            role: role(author, bots),
            visible: true,
            contact_reply: message_type == Some(MessageType::UserMessage),
            admin_reply: false,
            assignment: false,
            close: false,
            human_close: false,
            reopening_type: false,
        });
    }
    for p in &conv.parts {
        let role = author_role(p.author_type, p.author_id.as_deref(), p.author_ai, bots);
        let visible = part_visible(p.part_type, p.body_non_empty, p.visible);
        let close = p.part_type == PartType::Close;
        out.push(Element {
            time: p.created_at,
            part_type: Some(p.part_type),
            part_id: Some(p.id.as_str()),
            author_id: p.author_id.as_ref(),
            role,
            visible,
            contact_reply: (visible && role == Role::Customer)
                || p.part_type == PartType::AttributeCollected,
            admin_reply: visible && role == Role::HumanAdmin,
            assignment: matches!(
                p.part_type,
                PartType::Assignment
                    | PartType::AssignAndReopen
                    | PartType::DefaultAssignment
                    | PartType::AwayModeAssignment
            ),
            close,
            human_close: close && role == Role::HumanAdmin,
            reopening_type: matches!(
                p.part_type,
                PartType::Open | PartType::AssignAndReopen | PartType::NoteAndReopen
            ),
        });
    }
    out.sort_by(cmp_elements);
    out
}

/// The reopen walk (section 2): `result[i]` is true when element `i` is a
/// reopen. State starts open; a close sets it closed; while closed, a
/// reopening part type or a contact reply (that is not a close) reopens.
pub fn reopens(elements: &[Element]) -> Vec<bool> {
    let mut closed = false;
    elements
        .iter()
        .map(|e| {
            if e.close {
                closed = true;
                false
            } else if closed && (e.reopening_type || e.contact_reply) {
                closed = false;
                true
            } else {
                false
            }
        })
        .collect()
}
