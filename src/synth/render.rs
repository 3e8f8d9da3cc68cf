//! A `Conversation` as one NDJSON line in the shape of Intercom's
//! `GET /conversations/{id}` response (plus `workspace_id`): the conversation,
//! its source, contact, first contact reply, assignees, state, tags and parts,
//! and the ids derived from its index. [`write_conversation`] draws and writes one.

use super::conversation::{Conversation, Kind, generate};
use super::json::{boolean, id_string, int, opt_int, raw, string, uint};
use super::params::GenParams;
use super::people::write_author;
use super::rnd::mix;
use super::story::{Part, State, Target};
use super::text::TAGS;
use super::workspace::{admin_number, team_number};

/// Conversation ids: globally unique, so unique per workspace too.
const CONVERSATION_ID_BASE: u64 = 100_000_000;
/// Part ids of conversation `i` are `PART_ID_STRIDE * i + 1 ..`: unique, and
/// increasing in time order within a conversation.
const PART_ID_STRIDE: u64 = 64;
/// `source.id` of conversation `i` is `SOURCE_ID_BASE + i`.
const SOURCE_ID_BASE: u64 = 400_000_000;

/// Writes conversation `index` (0-based) as one NDJSON line (with trailing
/// `'\n'`) into `out`. Depends only on `params` (not on
/// `params.conversations`) and `index`.
pub fn write_conversation(params: &GenParams, index: u64, out: &mut Vec<u8>) {
    write(&generate(params, index), out);
}

/// Writes `c` as one NDJSON line (with trailing `'\n'`) into `out`.
fn write(c: &Conversation, out: &mut Vec<u8>) {
    out.reserve(4096);
    raw(out, "{\"type\":\"conversation\",\"id\":");
    id_string(out, CONVERSATION_ID_BASE.wrapping_add(c.index));
    raw(out, ",\"created_at\":");
    int(out, c.created);
    raw(out, ",\"updated_at\":");
    int(out, c.updated());
    raw(out, ",\"waiting_since\":");
    opt_int(out, c.waiting_since);
    raw(out, ",\"snoozed_until\":");
    opt_int(out, c.snoozed_until);
    raw(out, ",\"source\":");
    write_source(c, out);

    raw(
        out,
        ",\"contacts\":{\"type\":\"contact.list\",\"contacts\":[{\"type\":\"contact\",\"id\":",
    );
    c.customer.write_id(out);
    raw(out, ",\"external_id\":");
    if c.customer.kind() == "user" {
        raw(out, "\"user-");
        uint(out, c.customer.n);
        raw(out, "\"");
    } else {
        raw(out, "null");
    }
    raw(out, "}]}");

    raw(out, ",\"first_contact_reply\":");
    match c.fcr {
        Some(t) => {
            raw(out, "{\"created_at\":");
            int(out, t);
            raw(out, ",\"type\":");
            string(out, source_type(c));
            raw(out, ",\"url\":null}");
        }
        None => raw(out, "null"),
    }
    raw(out, ",\"admin_assignee_id\":");
    match c.admin {
        Some(a) => uint(out, admin_number(c.ws, a)),
        None => raw(out, "null"),
    }
    raw(out, ",\"team_assignee_id\":");
    match c.team {
        Some(t) => uint(out, team_number(c.ws, t)),
        None => raw(out, "null"),
    }
    raw(out, ",\"open\":");
    boolean(out, c.state != State::Closed);
    raw(out, ",\"state\":");
    string(
        out,
        match c.state {
            State::Open => "open",
            State::Closed => "closed",
            State::Snoozed => "snoozed",
        },
    );
    raw(out, ",\"read\":");
    boolean(out, c.read);
    raw(out, ",\"tags\":{\"type\":\"tag.list\",\"tags\":[");
    for (k, i) in c.tags.indices().enumerate() {
        if k > 0 {
            raw(out, ",");
        }
        raw(out, "{\"type\":\"tag\",\"id\":");
        id_string(out, 7_000_000 + u64::from(c.ws) * 100 + i as u64);
        raw(out, ",\"name\":");
        string(out, TAGS[i]);
        raw(out, "}");
    }
    raw(out, "]},\"priority\":");
    string(
        out,
        if c.priority {
            "priority"
        } else {
            "not_priority"
        },
    );
    raw(out, ",\"statistics\":null");

    raw(
        out,
        ",\"conversation_parts\":{\"type\":\"conversation_part.list\",\"conversation_parts\":[",
    );
    let part_base = PART_ID_STRIDE.wrapping_mul(c.index).wrapping_add(1);
    for (k, part) in c.parts.iter().enumerate() {
        if k > 0 {
            raw(out, ",");
        }
        write_part(c, part, part_base.wrapping_add(k as u64), out);
    }
    raw(out, "],\"total_count\":");
    uint(out, c.parts.len() as u64);
    raw(out, "},\"workspace_id\":\"ws-");
    uint(out, u64::from(c.ws) + 1);
    raw(out, "\"}\n");
}

/// `source.type` (also `first_contact_reply.type`).
fn source_type(c: &Conversation) -> &'static str {
    if c.source.email {
        "email"
    } else {
        "conversation"
    }
}

/// The `source` object.
fn write_source(c: &Conversation, out: &mut Vec<u8>) {
    let source = &c.source;
    raw(out, "{\"type\":");
    string(out, source_type(c));
    raw(out, ",\"id\":");
    id_string(out, SOURCE_ID_BASE.wrapping_add(c.index));
    raw(out, ",\"delivered_as\":");
    string(
        out,
        match source.kind {
            Kind::Customer => "customer_initiated",
            Kind::AdminInitiated => "admin_initiated",
            Kind::Automated => "automated",
            Kind::OperatorInitiated => "operator_initiated",
        },
    );
    raw(out, ",\"subject\":");
    string(out, source.subject);
    raw(out, ",\"body\":");
    string(out, source.body);
    raw(out, ",\"author\":");
    write_author(out, source.author, c.ws, &c.customer, false);
    raw(out, ",\"attachments\":");
    if source.attachment {
        write_attachment(out, SOURCE_ID_BASE.wrapping_add(c.index));
    } else {
        raw(out, "[]");
    }
    raw(out, ",\"url\":null,\"redacted\":false");
    if let Some(sc) = source.created {
        raw(out, ",\"created_at\":");
        int(out, sc);
    }
    raw(out, "}");
}

/// One element of `conversation_parts`, with part id `pid`.
fn write_part(c: &Conversation, part: &Part, pid: u64, out: &mut Vec<u8>) {
    raw(out, "{\"type\":\"conversation_part\",\"id\":");
    id_string(out, pid);
    raw(out, ",\"part_type\":");
    string(out, part.kind);
    raw(out, ",\"body\":");
    match part.body {
        Some(b) => string(out, b),
        None => raw(out, "null"),
    }
    raw(out, ",\"created_at\":");
    int(out, part.t);
    raw(out, ",\"updated_at\":");
    int(out, part.updated);
    raw(out, ",\"notified_at\":");
    int(out, part.t);
    raw(out, ",\"assigned_to\":");
    match part.target {
        Target::None => raw(out, "null"),
        Target::Admin(a) => {
            raw(out, "{\"type\":\"admin\",\"id\":");
            id_string(out, admin_number(c.ws, a));
            raw(out, "}");
        }
        Target::Team(t) => {
            raw(out, "{\"type\":\"team\",\"id\":");
            id_string(out, team_number(c.ws, t));
            raw(out, "}");
        }
        Target::Nobody => raw(out, "{\"type\":\"nobody_admin\",\"id\":null}"),
    }
    raw(out, ",\"author\":");
    write_author(out, part.who, c.ws, &c.customer, c.ai_answer);
    raw(out, ",\"attachments\":");
    if part.attachment {
        write_attachment(out, pid);
    } else {
        raw(out, "[]");
    }
    raw(out, ",\"external_id\":null,\"redacted\":false}");
}

/// An `attachments` array with one screenshot, derived from `id`.
fn write_attachment(out: &mut Vec<u8>, id: u64) {
    raw(out, "[{\"type\":\"upload\",\"name\":\"screenshot-");
    uint(out, id % 1000);
    raw(out, ".png\",\"url\":\"https://downloads.example.com/att/");
    uint(out, id);
    raw(
        out,
        "/screenshot.png\",\"content_type\":\"image/png\",\"filesize\":",
    );
    uint(out, 20_000 + (mix(id) % 400_000));
    raw(out, ",\"width\":1280,\"height\":800}]");
}
