//! Documents: the new-pipeline and legacy-pipeline documents (metrics.md
//! sections 4 to 6) and the CSV row (cli.md), all from one conversation and
//! its metrics.
//!
//! Every field is always present (null where undefined, lists `[]`), in a
//! fixed order, so the same input gives the same bytes. The CSV row is the
//! legacy document with `reply_times` lists joined by `;`.

use crate::config::Settings;
use crate::conversation::Conversation;
use crate::metrics::{self, Duration, Metrics};
use crate::record::timestamp::format_rfc3339;

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

/// Receives a document's fields in order; one implementation writes JSON,
/// another a CSV row, so each family's field list exists once.
pub trait FieldSink {
    fn text(&mut self, name: &'static str, value: Option<&str>);
    fn time(&mut self, name: &'static str, value: Option<i64>);
    fn int(&mut self, name: &'static str, value: Option<i64>);
    fn count(&mut self, name: &'static str, value: u64);
    fn flag(&mut self, name: &'static str, value: bool);
    fn list(&mut self, name: &'static str, value: &[i64]);
}

fn head(s: &mut impl FieldSink, c: &Conversation, m: &Metrics) {
    s.text("conversation_id", Some(&c.key.id));
    s.text("workspace_id", Some(&c.key.workspace_id));
    s.text("message_type", m.message_type.map(|t| t.as_str()));
    s.flag("inbound", m.inbound);
    s.time("message_created_at", m.message_created_at);
    s.time("conversation_created_at", m.conversation_created_at);
    s.text("state", c.state.as_deref());
    s.text("admin_assignee_id", c.admin_assignee_id.as_deref());
    s.text("team_assignee_id", c.team_assignee_id.as_deref());
}

fn duration(s: &mut impl FieldSink, plain: &'static str, ooo: &'static str, d: Duration) {
    s.int(plain, d.plain);
    s.int(ooo, d.ooo);
}

/// The legacy-pipeline document's fields (sections 4 and 6), in order.
pub fn legacy_fields(s: &mut impl FieldSink, c: &Conversation, m: &Metrics) {
    head(s, c, m);
    s.time("first_contact_reply_at", m.first_contact_reply_at);
    s.time("first_assignment_at", m.first_assignment_at);
    s.time("first_admin_reply_at", m.first_admin_reply_at);
    s.time("first_close_at", m.first_close_at);
    s.time("last_assignment_at", m.last_assignment_at);
    s.time(
        "last_assignment_admin_reply_at",
        m.last_assignment_admin_reply_at,
    );
    s.time("last_contact_reply_at", m.last_contact_reply_at);
    s.time("last_admin_reply_at", m.last_admin_reply_at);
    s.time("last_close_at", m.last_close_at);
    s.text("last_closed_by_id", m.last_closed_by_id.as_deref());
    s.count("count_reopens", m.count_reopens);
    s.count("count_assignments", m.count_assignments);
    s.count("count_conversation_parts", m.count_conversation_parts);
    duration(
        s,
        "time_to_assignment",
        "time_to_assignment_ooo",
        m.time_to_assignment,
    );
    duration(
        s,
        "time_to_admin_reply",
        "time_to_admin_reply_ooo",
        m.time_to_admin_reply,
    );
    duration(
        s,
        "time_to_first_close",
        "time_to_first_close_ooo",
        m.time_to_first_close,
    );
    duration(
        s,
        "time_to_last_close",
        "time_to_last_close_ooo",
        m.time_to_last_close,
    );
    s.int("median_time_to_reply", m.median_time_to_reply);
    s.int("median_time_to_reply_ooo", m.median_time_to_reply_ooo);
    s.list("reply_times", &m.reply_times);
    s.list("reply_times_ooo", &m.reply_times_ooo);
    s.time("updated_at", m.updated_at);
}

/// The new-pipeline document's fields (sections 5 and 6), in order.
pub fn new_fields(s: &mut impl FieldSink, c: &Conversation, m: &Metrics) {
    head(s, c, m);
    s.time("started_at", m.first_contact_reply_at);
    s.time("first_response_at", m.first_admin_reply_at);
    s.time("last_closed_at", m.last_close_at);
    s.time("last_closed_by_human_at", m.last_closed_by_human_at);
    duration(
        s,
        "first_response_time",
        "first_response_time_ooo",
        m.time_to_admin_reply,
    );
    duration(
        s,
        "time_to_last_close",
        "time_to_last_close_ooo",
        m.time_to_last_close,
    );
    duration(
        s,
        "time_to_last_close_by_human",
        "time_to_last_close_by_human_ooo",
        m.time_to_last_close_by_human,
    );
    s.time("updated_at", m.updated_at);
}

/// Writes one JSON object. Keys are our own constants (plain ASCII, no
/// escaping needed); string values are escaped per RFC 8259.
struct JsonSink<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl JsonSink<'_> {
    fn key(&mut self, name: &str) {
        self.out.push(if self.first { b'{' } else { b',' });
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn close(&mut self) {
        if self.first {
            self.out.push(b'{');
        }
        self.out.push(b'}');
    }
}

/// Appends `s` as a JSON string.
fn json_string(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Rare: let serde_json do the escaping (writing to a Vec cannot fail).
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

impl FieldSink for JsonSink<'_> {
    fn text(&mut self, name: &'static str, value: Option<&str>) {
        self.key(name);
        match value {
            Some(v) => json_string(self.out, v),
            None => self.out.extend_from_slice(b"null"),
        }
    }
    fn time(&mut self, name: &'static str, value: Option<i64>) {
        self.key(name);
        match value {
            Some(t) => {
                self.out.push(b'"');
                self.out.extend_from_slice(&format_rfc3339(t));
                self.out.push(b'"');
            }
            None => self.out.extend_from_slice(b"null"),
        }
    }
    fn int(&mut self, name: &'static str, value: Option<i64>) {
        self.key(name);
        match value {
            Some(v) => self
                .out
                .extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
            None => self.out.extend_from_slice(b"null"),
        }
    }
    fn count(&mut self, name: &'static str, value: u64) {
        self.key(name);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }
    fn flag(&mut self, name: &'static str, value: bool) {
        self.key(name);
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
    }
    fn list(&mut self, name: &'static str, value: &[i64]) {
        self.key(name);
        self.out.push(b'[');
        for (i, v) in value.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.out
                .extend_from_slice(itoa::Buffer::new().format(*v).as_bytes());
        }
        self.out.push(b']');
    }
}

/// Writes one CSV row: null is an empty cell, lists are joined by `;`.
struct CsvSink<'a, W: std::io::Write> {
    out: &'a mut csv::Writer<W>,
    error: Option<csv::Error>,
}

impl<W: std::io::Write> CsvSink<'_, W> {
    fn cell(&mut self, bytes: &[u8]) {
        if self.error.is_none()
            && let Err(e) = self.out.write_field(bytes)
        {
            self.error = Some(e);
        }
    }
}

impl<W: std::io::Write> FieldSink for CsvSink<'_, W> {
    fn text(&mut self, _: &'static str, value: Option<&str>) {
        self.cell(value.unwrap_or_default().as_bytes());
    }
    fn time(&mut self, _: &'static str, value: Option<i64>) {
        match value {
            Some(t) => self.cell(&format_rfc3339(t)),
            None => self.cell(b""),
        }
    }
    fn int(&mut self, _: &'static str, value: Option<i64>) {
        match value {
            Some(v) => self.cell(itoa::Buffer::new().format(v).as_bytes()),
            None => self.cell(b""),
        }
    }
    fn count(&mut self, _: &'static str, value: u64) {
        self.cell(itoa::Buffer::new().format(value).as_bytes());
    }
    fn flag(&mut self, _: &'static str, value: bool) {
        self.cell(if value { b"true" } else { b"false" });
    }
    fn list(&mut self, _: &'static str, value: &[i64]) {
        let mut joined = Vec::with_capacity(value.len() * 6);
        for (i, v) in value.iter().enumerate() {
            if i > 0 {
                joined.push(b';');
            }
            joined.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes());
        }
        self.cell(&joined);
    }
}

/// Appends the new-pipeline document as one JSON line.
pub fn write_new_line(out: &mut Vec<u8>, c: &Conversation, m: &Metrics) {
    let mut sink = JsonSink { out, first: true };
    new_fields(&mut sink, c, m);
    sink.close();
    sink.out.push(b'\n');
}

/// Appends the legacy-pipeline document as one JSON line.
pub fn write_legacy_line(out: &mut Vec<u8>, c: &Conversation, m: &Metrics) {
    let mut sink = JsonSink { out, first: true };
    legacy_fields(&mut sink, c, m);
    sink.close();
    sink.out.push(b'\n');
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
    let mut sink = CsvSink {
        out: &mut *w,
        error: None,
    };
    legacy_fields(&mut sink, c, m);
    if let Some(e) = sink.error {
        return Err(e);
    }
    w.write_record(std::iter::empty::<&[u8]>())
}

/// The CSV cells of a stored legacy document (its `_source`), as
/// [`write_csv_row`] writes them from the conversation: null is an empty
/// cell, booleans `true`/`false`, strings (ids, timestamps) as they are,
/// integers in decimal, lists of integers joined by `;`.
pub fn csv_cells_of_legacy(
    source: &serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<Vec<u8>>, String> {
    use serde_json::Value;
    CSV_COLUMNS
        .iter()
        .map(|&name| match source.get(name) {
            None => Err(format!("field {name} is missing")),
            Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Bool(b)) => Ok(if *b {
                b"true".to_vec()
            } else {
                b"false".to_vec()
            }),
            Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(n.to_string().into_bytes()),
            Some(Value::Array(a)) => {
                let mut joined = Vec::with_capacity(a.len() * 6);
                for (i, v) in a.iter().enumerate() {
                    let Some(v) = v.as_i64() else {
                        return Err(format!("field {name} holds {v}, not an integer"));
                    };
                    if i > 0 {
                        joined.push(b';');
                    }
                    joined.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
                }
                Ok(joined)
            }
            Some(other) => Err(format!(
                "field {name} holds {other}, which no CSV cell takes"
            )),
        })
        .collect()
}

/// The `_id` of a conversation's documents: `<workspace_id>:<conversation_id>`.
pub fn document_id(c: &Conversation) -> String {
    format!("{}:{}", c.key.workspace_id, c.key.id)
}

/// The one render path's first step, for every sink (`compute`'s files,
/// `backfill`, later `serve`): a merged conversation's metrics under its
/// workspace's office hours and the configured bot ids.
pub fn metrics_for(c: &Conversation, settings: &Settings) -> Metrics {
    metrics::compute(
        c,
        &settings.bots,
        settings.office_hours.schedule_for(&c.key.workspace_id),
    )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{BotIds, compute};
    use crate::office_hours::Schedule;
    use crate::record::{ConversationKey, Id};

    fn conversation(id: &str, state: Option<&str>) -> Conversation {
        Conversation {
            key: ConversationKey {
                workspace_id: Id::from("ws"),
                id: Id::from(id),
            },
            created_at: Some(1_700_000_000),
            source: None,
            source_created_at: None,
            state: state.map(Into::into),
            admin_assignee_id: None,
            team_assignee_id: None,
            message_type_extension: None,
            max_record_updated_at: None,
            parts: Vec::new(),
        }
    }

    fn keys(line: &[u8]) -> Vec<String> {
        let v: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(line).unwrap();
        v.keys().cloned().collect()
    }

    #[test]
    fn documents_hold_exactly_their_family_s_fields_in_order() {
        // serde_json's Map keeps keys sorted; compare as sets and check the
        // order on the raw text.
        let c = conversation("1", None);
        let m = compute(&c, &BotIds::default(), &Schedule::always_open());
        let (new, legacy) = render_pair(&c, &m);
        let mut want: Vec<String> = NEW_FIELDS.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(keys(&new), want);
        let mut want: Vec<String> = LEGACY_FIELDS.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(keys(&legacy), want);
        let text = String::from_utf8(legacy).unwrap();
        let mut at = 0;
        for f in LEGACY_FIELDS {
            let pos = text[at..].find(&format!("\"{f}\":")).unwrap();
            at += pos;
        }
        let text = String::from_utf8(new).unwrap();
        let mut at = 0;
        for f in NEW_FIELDS {
            at += text[at..].find(&format!("\"{f}\":")).unwrap();
        }
    }

    #[test]
    fn strings_are_escaped_in_json_and_quoted_in_csv() {
        let c = conversation("a\"b\\c\u{1}d,e\nf", Some("é, \"quoted\""));
        let m = compute(&c, &BotIds::default(), &Schedule::always_open());
        let (new, _) = render_pair(&c, &m);
        let v: serde_json::Value = serde_json::from_slice(&new).unwrap();
        assert_eq!(v["conversation_id"], "a\"b\\c\u{1}d,e\nf");
        assert_eq!(v["state"], "é, \"quoted\"");
        let mut w = csv_writer(Vec::new());
        write_csv_row(&mut w, &c, &m).unwrap();
        let row = w.into_inner().unwrap();
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(&row[..]);
        let rec = r.records().next().unwrap().unwrap();
        assert_eq!(rec.len(), CSV_COLUMNS.len());
        assert_eq!(&rec[0], "a\"b\\c\u{1}d,e\nf");
        assert_eq!(&rec[6], "é, \"quoted\"");
        assert_eq!(&rec[3], "false");
        assert_eq!(&rec[10], "", "null is an empty cell");
    }
}
