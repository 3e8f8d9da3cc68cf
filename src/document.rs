//! Documents: the new-pipeline and legacy-pipeline documents (metrics.md
//! sections 4 to 6) and the CSV row (cli.md), all from one conversation and
//! its metrics.
//!
//! Every field is always present (null where undefined, lists `[]`), in a
//! fixed order, so the same input gives the same bytes. The CSV row is the
//! legacy document with `reply_times` lists joined by `;`.

use crate::conversation::Conversation;
use crate::metrics::{Duration, Metrics};
use crate::record::timestamp::format_rfc3339;
use serde::Serialize;
use serde::ser::{Error as _, SerializeStruct, Serializer};

/// Fields on every document, in output order (section 6), `updated_at` last.
const COMMON_HEAD: [&str; 9] = [
    "conversation_id",
    "workspace_id",
    "message_type",
    "inbound",
    "message_created_at",
    "conversation_created_at",
    "state",
    "admin_assignee_id",
    "team_assignee_id",
];

/// Legacy document fields, in output order; also the CSV columns of cli.md.
pub const LEGACY_FIELDS: [&str; 35] = [
    "conversation_id",
    "workspace_id",
    "message_type",
    "inbound",
    "message_created_at",
    "conversation_created_at",
    "state",
    "admin_assignee_id",
    "team_assignee_id",
    "first_contact_reply_at",
    "first_assignment_at",
    "first_admin_reply_at",
    "first_close_at",
    "last_assignment_at",
    "last_assignment_admin_reply_at",
    "last_contact_reply_at",
    "last_admin_reply_at",
    "last_close_at",
    "last_closed_by_id",
    "count_reopens",
    "count_assignments",
    "count_conversation_parts",
    "time_to_assignment",
    "time_to_assignment_ooo",
    "time_to_admin_reply",
    "time_to_admin_reply_ooo",
    "time_to_first_close",
    "time_to_first_close_ooo",
    "time_to_last_close",
    "time_to_last_close_ooo",
    "median_time_to_reply",
    "median_time_to_reply_ooo",
    "reply_times",
    "reply_times_ooo",
    "updated_at",
];

/// New-pipeline document fields, in output order.
pub const NEW_FIELDS: [&str; 20] = [
    "conversation_id",
    "workspace_id",
    "message_type",
    "inbound",
    "message_created_at",
    "conversation_created_at",
    "state",
    "admin_assignee_id",
    "team_assignee_id",
    "started_at",
    "first_response_at",
    "last_closed_at",
    "last_closed_by_human_at",
    "first_response_time",
    "first_response_time_ooo",
    "time_to_last_close",
    "time_to_last_close_ooo",
    "time_to_last_close_by_human",
    "time_to_last_close_by_human_ooo",
    "updated_at",
];

/// The CSV header: the legacy fields.
pub const CSV_COLUMNS: [&str; 35] = LEGACY_FIELDS;

/// A timestamp serialized as RFC 3339 UTC, or null.
struct Ts(Option<i64>);

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            None => s.serialize_none(),
            Some(t) => {
                let buf = format_rfc3339(t);
                s.serialize_str(std::str::from_utf8(&buf).map_err(S::Error::custom)?)
            }
        }
    }
}

/// Reply times joined by `;` for the CSV.
struct Joined<'a>(&'a [i64]);

impl Serialize for Joined<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = String::with_capacity(self.0.len() * 6);
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(';');
            }
            out.push_str(itoa::Buffer::new().format(*v));
        }
        s.serialize_str(&out)
    }
}

fn head<S: SerializeStruct>(s: &mut S, c: &Conversation, m: &Metrics) -> Result<(), S::Error> {
    let [id, ws, mt, inbound, mca, cca, state, admin, team] = COMMON_HEAD;
    s.serialize_field(id, c.key.id.as_str())?;
    s.serialize_field(ws, c.key.workspace_id.as_str())?;
    s.serialize_field(mt, &m.message_type.map(|t| t.as_str()))?;
    s.serialize_field(inbound, &m.inbound)?;
    s.serialize_field(mca, &Ts(m.message_created_at))?;
    s.serialize_field(cca, &Ts(m.conversation_created_at))?;
    s.serialize_field(state, &c.state.as_deref())?;
    s.serialize_field(admin, &c.admin_assignee_id.as_deref())?;
    s.serialize_field(team, &c.team_assignee_id.as_deref())
}

fn duration<S: SerializeStruct>(
    s: &mut S,
    plain: &'static str,
    ooo: &'static str,
    d: Duration,
) -> Result<(), S::Error> {
    s.serialize_field(plain, &d.plain)?;
    s.serialize_field(ooo, &d.ooo)
}

/// The legacy-pipeline document (sections 4 and 6).
pub struct LegacyDocument<'a> {
    pub conversation: &'a Conversation,
    pub metrics: &'a Metrics,
    /// Serialize the reply-time lists as `;`-joined text (the CSV row).
    pub joined_lists: bool,
}

impl Serialize for LegacyDocument<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let m = self.metrics;
        let mut s = ser.serialize_struct("LegacyDocument", LEGACY_FIELDS.len())?;
        head(&mut s, self.conversation, m)?;
        s.serialize_field("first_contact_reply_at", &Ts(m.first_contact_reply_at))?;
        s.serialize_field("first_assignment_at", &Ts(m.first_assignment_at))?;
        s.serialize_field("first_admin_reply_at", &Ts(m.first_admin_reply_at))?;
        s.serialize_field("first_close_at", &Ts(m.first_close_at))?;
        s.serialize_field("last_assignment_at", &Ts(m.last_assignment_at))?;
        s.serialize_field(
            "last_assignment_admin_reply_at",
            &Ts(m.last_assignment_admin_reply_at),
        )?;
        s.serialize_field("last_contact_reply_at", &Ts(m.last_contact_reply_at))?;
        s.serialize_field("last_admin_reply_at", &Ts(m.last_admin_reply_at))?;
        s.serialize_field("last_close_at", &Ts(m.last_close_at))?;
        s.serialize_field("last_closed_by_id", &m.last_closed_by_id.as_deref())?;
        s.serialize_field("count_reopens", &m.count_reopens)?;
        s.serialize_field("count_assignments", &m.count_assignments)?;
        s.serialize_field("count_conversation_parts", &m.count_conversation_parts)?;
        duration(
            &mut s,
            "time_to_assignment",
            "time_to_assignment_ooo",
            m.time_to_assignment,
        )?;
        duration(
            &mut s,
            "time_to_admin_reply",
            "time_to_admin_reply_ooo",
            m.time_to_admin_reply,
        )?;
        duration(
            &mut s,
            "time_to_first_close",
            "time_to_first_close_ooo",
            m.time_to_first_close,
        )?;
        duration(
            &mut s,
            "time_to_last_close",
            "time_to_last_close_ooo",
            m.time_to_last_close,
        )?;
        s.serialize_field("median_time_to_reply", &m.median_time_to_reply)?;
        s.serialize_field("median_time_to_reply_ooo", &m.median_time_to_reply_ooo)?;
        if self.joined_lists {
            s.serialize_field("reply_times", &Joined(&m.reply_times))?;
            s.serialize_field("reply_times_ooo", &Joined(&m.reply_times_ooo))?;
        } else {
            s.serialize_field("reply_times", &m.reply_times)?;
            s.serialize_field("reply_times_ooo", &m.reply_times_ooo)?;
        }
        s.serialize_field("updated_at", &Ts(m.updated_at))?;
        s.end()
    }
}

/// The new-pipeline document (sections 5 and 6).
pub struct NewDocument<'a> {
    pub conversation: &'a Conversation,
    pub metrics: &'a Metrics,
}

impl Serialize for NewDocument<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let m = self.metrics;
        let mut s = ser.serialize_struct("NewDocument", NEW_FIELDS.len())?;
        head(&mut s, self.conversation, m)?;
        s.serialize_field("started_at", &Ts(m.first_contact_reply_at))?;
        s.serialize_field("first_response_at", &Ts(m.first_admin_reply_at))?;
        s.serialize_field("last_closed_at", &Ts(m.last_close_at))?;
        s.serialize_field("last_closed_by_human_at", &Ts(m.last_closed_by_human_at))?;
        duration(
            &mut s,
            "first_response_time",
            "first_response_time_ooo",
            m.time_to_admin_reply,
        )?;
        duration(
            &mut s,
            "time_to_last_close",
            "time_to_last_close_ooo",
            m.time_to_last_close,
        )?;
        duration(
            &mut s,
            "time_to_last_close_by_human",
            "time_to_last_close_by_human_ooo",
            m.time_to_last_close_by_human,
        )?;
        s.serialize_field("updated_at", &Ts(m.updated_at))?;
        s.end()
    }
}

/// Appends the new-pipeline document as one JSON line.
pub fn write_new_line(out: &mut Vec<u8>, c: &Conversation, m: &Metrics) {
    // Serializing into a Vec cannot fail: every value is a plain JSON value.
    if serde_json::to_writer(
        &mut *out,
        &NewDocument {
            conversation: c,
            metrics: m,
        },
    )
    .is_ok()
    {
        out.push(b'\n');
    }
}

/// Appends the legacy-pipeline document as one JSON line.
pub fn write_legacy_line(out: &mut Vec<u8>, c: &Conversation, m: &Metrics) {
    let doc = LegacyDocument {
        conversation: c,
        metrics: m,
        joined_lists: false,
    };
    if serde_json::to_writer(&mut *out, &doc).is_ok() {
        out.push(b'\n');
    }
}

/// The `_id` of a conversation's documents: `<workspace_id>:<conversation_id>`.
pub fn document_id(c: &Conversation) -> String {
    format!("{}:{}", c.key.workspace_id, c.key.id)
}

/// Both documents of one conversation as JSON (no trailing newline):
/// `(new, legacy)`. The bytes equal the lines `compute` writes.
pub fn render_pair(c: &Conversation, m: &Metrics) -> (Vec<u8>, Vec<u8>) {
    let mut new = Vec::with_capacity(768);
    let mut legacy = Vec::with_capacity(1280);
    write_new_line(&mut new, c, m);
    write_legacy_line(&mut legacy, c, m);
    new.pop();
    legacy.pop();
    (new, legacy)
}

/// A CSV writer with the format of cli.md (RFC 4180, LF line ends, no BOM).
pub fn csv_writer<W: std::io::Write>(w: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .has_headers(false)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(w)
}

/// Writes the CSV header row.
pub fn write_csv_header<W: std::io::Write>(w: &mut csv::Writer<W>) -> csv::Result<()> {
    w.write_record(CSV_COLUMNS)
}

/// Writes one CSV row.
pub fn write_csv_row<W: std::io::Write>(
    w: &mut csv::Writer<W>,
    c: &Conversation,
    m: &Metrics,
) -> csv::Result<()> {
    w.serialize(LegacyDocument {
        conversation: c,
        metrics: m,
        joined_lists: true,
    })
}
