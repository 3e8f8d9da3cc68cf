//! Input records (input.md): parsing one NDJSON line into a validated
//! [`Record`], or a one-line reason why the whole line is rejected.
//!
//! Pure: bytes in, record or reason out.

pub mod id;
mod raw;
pub mod rejection;
mod scan;
pub mod timestamp;

use compact_str::CompactString;
pub use id::Id;
use raw::{FromJson, RawAuthor, RawPart, RawRecord, RawSource, Tri};
pub use rejection::{Counts, Rejection};
use scan::Scanner;

/// Lines longer than this are rejected without being parsed.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// The workspace of a record that names none.
pub const DEFAULT_WORKSPACE: &str = "default";

/// A conversation's identity: `(workspace_id, conversation id)`. Orders
/// byte-wise by workspace, then id, the order of every output.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct ConversationKey {
    pub workspace_id: Id,
    pub id: Id,
}

/// The four message types of metrics.md section 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MessageType {
    UserMessage,
    AdminMessage,
    AutoMessage,
    BotMessage,
}

impl MessageType {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::UserMessage => "UserMessage",
            MessageType::AdminMessage => "AdminMessage",
            MessageType::AutoMessage => "AutoMessage",
            MessageType::BotMessage => "BotMessage",
        }
    }

    /// The `message_type` extension: one of the four names, else nothing.
    pub fn from_extension(s: &str) -> Option<MessageType> {
        match s {
            "UserMessage" => Some(MessageType::UserMessage),
            "AdminMessage" => Some(MessageType::AdminMessage),
            "AutoMessage" => Some(MessageType::AutoMessage),
            "BotMessage" => Some(MessageType::BotMessage),
            _ => None,
        }
    }

    /// What `source.delivered_as` implies.
    pub fn from_delivered_as(s: &str) -> Option<MessageType> {
        match s {
            "customer_initiated" => Some(MessageType::UserMessage),
            "admin_initiated" => Some(MessageType::AdminMessage),
            "automated" | "campaigns_initiated" => Some(MessageType::AutoMessage),
            "operator_initiated" => Some(MessageType::BotMessage),
            _ => None,
        }
    }
}

/// `author.type`, classified (metrics.md section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AuthorType {
    /// `user`, `lead` or `contact`.
    Customer,
    Admin,
    Bot,
    /// Any other value: neither customer, admin nor bot.
    Other,
}

impl AuthorType {
    fn from_name(s: &[u8]) -> AuthorType {
        match s {
            b"user" | b"lead" | b"contact" => AuthorType::Customer,
            b"admin" => AuthorType::Admin,
            b"bot" => AuthorType::Bot,
            _ => AuthorType::Other,
        }
    }
}

/// An element's author as far as metrics need it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Author {
    pub kind: AuthorType,
    pub id: Option<Id>,
    /// `from_ai_agent` or `is_ai_answer` is `true`.
    pub ai: bool,
}

/// The part types metrics distinguish; every other value is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PartType {
    Comment,
    QuickReply,
    Note,
    NoteAndReopen,
    Assignment,
    AssignAndReopen,
    DefaultAssignment,
    AwayModeAssignment,
    Close,
    Open,
    AttributeCollected,
    Other,
}

impl PartType {
    fn from_name(s: &[u8]) -> PartType {
        match s {
            b"comment" => PartType::Comment,
            b"quick_reply" => PartType::QuickReply,
            b"note" => PartType::Note,
            b"note_and_reopen" => PartType::NoteAndReopen,
            b"assignment" => PartType::Assignment,
            b"assign_and_reopen" => PartType::AssignAndReopen,
            b"default_assignment" => PartType::DefaultAssignment,
            b"away_mode_assignment" => PartType::AwayModeAssignment,
            b"close" => PartType::Close,
            b"open" => PartType::Open,
            b"attribute_collected" => PartType::AttributeCollected,
            _ => PartType::Other,
        }
    }
}

/// One validated conversation part. Laid out flat (80 bytes) because a
/// run holds every part of every conversation in memory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Part {
    pub id: Id,
    /// `author.id`.
    pub author_id: Option<Id>,
    pub created_at: i64,
    /// `updated_at`, or [`Part::NO_UPDATE`] when absent (see [`Part::updated_at`]).
    updated_at: i64,
    /// Read position of the record it came from (set when merged).
    pub read_seq: u64,
    /// Index inside that record (saturating): later wins a tie.
    pub read_sub: u16,
    pub part_type: PartType,
    /// `author.type`, classified.
    pub author_type: AuthorType,
    /// `author.from_ai_agent` or `author.is_ai_answer` is `true`.
    pub author_ai: bool,
    /// `body` is a string that is non-empty after trimming white space.
    pub body_non_empty: bool,
    /// The `visible` extension when it is `true` or `false`.
    pub visible: Option<bool>,
}

impl Part {
    /// Stored `updated_at` when the part has none (timestamps are >= 0).
    const NO_UPDATE: i64 = i64::MIN;

    /// The part's `updated_at`, if it has one.
    pub fn updated_at(&self) -> Option<i64> {
        (self.updated_at != Part::NO_UPDATE).then_some(self.updated_at)
    }
}

/// A conversation's `source`, as far as metrics need it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Source {
    pub delivered_as: Option<MessageType>,
    /// Present when `source.author.type` is.
    pub author: Option<Author>,
}

/// The conversation-level content of a `conversation` record (or a
/// notification's `data.item`). Each `Option<Option<_>>` is `None` when the
/// record does not carry the field and `Some(None)` when it carries null.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConversationRecord {
    pub key: ConversationKey,
    pub updated_at: Option<i64>,
    pub created_at: i64,
    pub source: Option<Option<Source>>,
    pub source_created_at: Option<Option<i64>>,
    pub state: Option<Option<CompactString>>,
    pub admin_assignee_id: Option<Option<Id>>,
    pub team_assignee_id: Option<Option<Id>>,
    pub message_type: Option<Option<MessageType>>,
    pub parts: Vec<Part>,
}

/// One accepted input line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Record {
    Conversation(Box<ConversationRecord>),
    Part {
        key: ConversationKey,
        part: Part,
    },
    /// `conversation.deleted`.
    Deleted(ConversationKey),
    /// A notification whose topic is not about conversations.
    IgnoredEvent,
}

impl Record {
    /// The conversation the record is about (`None` for an ignored event).
    pub fn key(&self) -> Option<&ConversationKey> {
        match self {
            Record::Conversation(c) => Some(&c.key),
            Record::Part { key, .. } | Record::Deleted(key) => Some(key),
            Record::IgnoredEvent => None,
        }
    }
}

/// Removes a trailing `\r` and a leading byte-order mark; `None` for a blank
/// line (empty or only white space).
pub fn trim_line(line: &[u8]) -> Option<&[u8]> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line);
    if line
        .iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        None
    } else {
        Some(line)
    }
}

/// Parses one line (without its `\n`). `Ok(None)` for a blank line; `Err`
/// holds the one-line reason the whole line is rejected.
pub fn parse_line(line: &[u8]) -> Result<Option<Record>, String> {
    if line.len() > MAX_LINE_BYTES {
        return Err(format!(
            "line is {} bytes, over the 16 MiB limit; it was not parsed",
            line.len()
        ));
    }
    let Some(line) = trim_line(line) else {
        return Ok(None);
    };
    let first = line.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err("not a JSON object".to_string());
    }
    let raw = read_record(line).map_err(|f| f.describe(true))?;
    validate(raw).map(Some)
}

/// Reads one JSON object, and nothing after it, as a [`RawRecord`].
fn read_record(text: &[u8]) -> Result<RawRecord<'_>, scan::Fail> {
    let mut s = Scanner::new(text);
    let raw = RawRecord::read(&mut s)?;
    s.end()?;
    Ok(raw)
}

fn missing(what: &str) -> String {
    format!("missing required field `{what}`")
}

fn workspace_of(workspace_id: Option<Id>, app_id: Option<Id>) -> Result<Option<Id>, String> {
    let (field, ws) = match (workspace_id, app_id) {
        (Some(w), _) => ("workspace_id", w),
        (None, Some(a)) => ("app_id", a),
        (None, None) => return Ok(None),
    };
    if ws.contains(':') {
        return Err(format!(
            "{field} {} contains ':', which is reserved as the document id separator",
            scan::quote(&ws)
        ));
    }
    Ok(Some(ws))
}

/// An author; `None` when absent or without a type.
fn author(raw: Option<RawAuthor>) -> Option<Author> {
    let a = raw?;
    let kind = a.kind?;
    Some(Author {
        kind: kind.0,
        id: a.id.map(|i| i.0),
        ai: a.from_ai_agent.0 || a.is_ai_answer.0,
    })
}

struct PartFields {
    id: Option<id::RawId>,
    part_type: Option<raw::Named<PartType>>,
    created_at: Option<raw::RawTs>,
    updated_at: Option<raw::RawTs>,
    body: raw::Body,
    author: Option<RawAuthor>,
    visible: raw::VisibleExt,
}

impl From<RawPart> for PartFields {
    fn from(p: RawPart) -> Self {
        PartFields {
            id: p.id,
            part_type: p.part_type,
            created_at: p.created_at,
            updated_at: p.updated_at,
            body: p.body,
            author: p.author,
            visible: p.visible,
        }
    }
}

/// Validates a part; the error names the missing field (callers say where).
fn part(p: PartFields) -> Result<Part, String> {
    let id = p.id.ok_or_else(|| missing("id"))?.0;
    let part_type = p.part_type.ok_or_else(|| missing("part_type"))?;
    let created_at = p.created_at.ok_or_else(|| missing("created_at"))?.0;
    let author = author(p.author).ok_or_else(|| missing("author.type"))?;
    Ok(Part {
        id,
        author_id: author.id,
        created_at,
        updated_at: p.updated_at.map_or(Part::NO_UPDATE, |t| t.0),
        read_seq: 0,
        read_sub: 0,
        part_type: part_type.0,
        author_type: author.kind,
        author_ai: author.ai,
        body_non_empty: p.body.non_empty,
        visible: p.visible.0,
    })
}

fn source(raw: RawSource) -> (Source, Tri<raw::RawTs>) {
    let src = Source {
        delivered_as: raw
            .delivered_as
            .0
            .as_deref()
            .and_then(MessageType::from_delivered_as),
        author: author(raw.author),
    };
    (src, raw.created_at)
}

/// Builds a conversation record from the conversation fields of `raw`.
fn conversation(
    raw: RawRecord,
    fallback_workspace: Option<Id>,
    at: &str,
) -> Result<ConversationRecord, String> {
    let id = raw.id.ok_or_else(|| format!("{at}{}", missing("id")))?.0;
    let created_at = raw
        .created_at
        .ok_or_else(|| format!("{at}{}", missing("created_at")))?
        .0;
    let workspace_id = workspace_of(raw.workspace_id.map(|i| i.0), raw.app_id.map(|i| i.0))
        .map_err(|e| format!("{at}{e}"))?
        .or(fallback_workspace)
        .unwrap_or_else(|| Id::from(DEFAULT_WORKSPACE));
    let (source, source_created_at) = match raw.source {
        Tri::Absent => (None, None),
        Tri::Null => (Some(None), None),
        Tri::Value(s) => {
            let (src, created) = source(s);
            (Some(Some(src)), created.carried().map(|o| o.map(|t| t.0)))
        }
    };
    let list = raw
        .conversation_parts
        .and_then(|l| l.conversation_parts)
        .unwrap_or_default();
    if let Some((i, e)) = list.invalid {
        return Err(format!(
            "{at}conversation_parts.conversation_parts[{i}]: {e}"
        ));
    }
    let parts = list.parts;
    Ok(ConversationRecord {
        key: ConversationKey { workspace_id, id },
        updated_at: raw.updated_at.map(|t| t.0),
        created_at,
        source,
        source_created_at,
        state: raw.state.carried(),
        admin_assignee_id: raw.admin_assignee_id.carried().map(|o| o.map(|i| i.0)),
        team_assignee_id: raw.team_assignee_id.carried().map(|o| o.map(|i| i.0)),
        message_type: raw
            .message_type
            .carried()
            .map(|o| o.and_then(|s| s.0.as_deref().and_then(MessageType::from_extension))),
        parts,
    })
}

fn validate(raw: RawRecord) -> Result<Record, String> {
    let Some(kind) = raw.kind.clone() else {
        return Err(missing("type"));
    };
    match kind.as_str() {
        "conversation" => conversation(raw, None, "").map(|c| Record::Conversation(Box::new(c))),
        "conversation_part" => {
            let conversation_id = raw
                .conversation_id
                .ok_or_else(|| missing("conversation_id"))?
                .0;
            let workspace_id =
                workspace_of(raw.workspace_id.map(|i| i.0), raw.app_id.map(|i| i.0))?
                    .unwrap_or_else(|| Id::from(DEFAULT_WORKSPACE));
            let p = part(PartFields {
                id: raw.id,
                part_type: raw.part_type,
                created_at: raw.created_at,
                updated_at: raw.updated_at,
                body: raw.body,
                author: raw.author,
                visible: raw.visible,
            })?;
            Ok(Record::Part {
                key: ConversationKey {
                    workspace_id,
                    id: conversation_id,
                },
                part: p,
            })
        }
        "notification_event" => notification(raw),
        other => Err(format!(
            "unknown record type {} (expected conversation, conversation_part or notification_event)",
            scan::quote(other)
        )),
    }
}

fn notification(raw: RawRecord) -> Result<Record, String> {
    let topic = raw.topic.ok_or_else(|| missing("topic"))?;
    if !topic.starts_with("conversation.") {
        return Ok(Record::IgnoredEvent);
    }
    let event_workspace = workspace_of(raw.workspace_id.map(|i| i.0), raw.app_id.map(|i| i.0))?;
    let item = raw
        .data
        .and_then(|d| d.item)
        .ok_or_else(|| missing("data.item"))?;
    let text = item.0;
    if text.first() != Some(&b'{') {
        return Err("data.item: not a JSON object".to_string());
    }
    let item = read_record(text).map_err(|f| f.nest("data.item").describe(false))?;
    if topic == "conversation.deleted" {
        let id = item
            .id
            .ok_or_else(|| format!("data.item.{}", missing("id")))?
            .0;
        let workspace_id = workspace_of(item.workspace_id.map(|i| i.0), item.app_id.map(|i| i.0))
            .map_err(|e| format!("data.item.{e}"))?
            .or(event_workspace)
            .unwrap_or_else(|| Id::from(DEFAULT_WORKSPACE));
        return Ok(Record::Deleted(ConversationKey { workspace_id, id }));
    }
    conversation(item, event_workspace, "data.item.").map(|c| Record::Conversation(Box::new(c)))
}
