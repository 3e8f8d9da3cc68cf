//! [`BulkOp`], one write, and the NDJSON encoding of a batch of them from
//! pre-serialized documents (no re-serialization of sources).

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Index,
    Delete,
}

impl Action {
    fn key(self) -> &'static [u8] {
        match self {
            Action::Index => b"{\"index\":{\"_index\":",
            Action::Delete => b"{\"delete\":{\"_index\":",
        }
    }
}

/// One write: `index` is an alias (written to its write index) or a
/// concrete index; `version` is the conversation's revision, sent as an
/// external version; `source` is the serialized document (index only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkOp {
    pub action: Action,
    pub index: String,
    pub id: String,
    pub version: u64,
    pub source: Option<Bytes>,
}

impl BulkOp {
    /// Index `source` (one JSON object) under `id` with external `version`.
    pub fn index(
        index: impl Into<String>,
        id: impl Into<String>,
        version: u64,
        source: impl Into<Bytes>,
    ) -> Self {
        BulkOp {
            action: Action::Index,
            index: index.into(),
            id: id.into(),
            version,
            source: Some(source.into()),
        }
    }

    /// Delete `id`, versioned like an index (a delete older than the stored
    /// document loses with 409).
    pub fn delete(index: impl Into<String>, id: impl Into<String>, version: u64) -> Self {
        BulkOp {
            action: Action::Delete,
            index: index.into(),
            id: id.into(),
            version,
            source: None,
        }
    }

    /// Bytes this operation adds to a body (exact for plain strings).
    pub fn encoded_len(&self) -> usize {
        92 + self.index.len() + self.id.len() + self.source.as_ref().map_or(0, |s| s.len() + 1)
    }
}

/// Appends one operation's lines to `out`.
pub fn encode_op(op: &BulkOp, out: &mut BytesMut) {
    out.reserve(op.encoded_len());
    out.put_slice(op.action.key());
    put_json_str(out, &op.index);
    out.put_slice(b",\"_id\":");
    put_json_str(out, &op.id);
    out.put_slice(b",\"version\":");
    out.put_slice(itoa::Buffer::new().format(op.version).as_bytes());
    out.put_slice(b",\"version_type\":\"external\"}}\n");
    if op.action == Action::Index {
        match &op.source {
            Some(src) => {
                let start = out.len();
                out.put_slice(src);
                // NDJSON needs one line per document: a raw newline in valid
                // JSON can only be whitespace, so it becomes a space.
                for b in &mut out[start..] {
                    if *b == b'\n' || *b == b'\r' {
                        *b = b' ';
                    }
                }
            }
            None => out.put_slice(b"{}"),
        }
        out.put_u8(b'\n');
    }
}

/// The NDJSON body of `ops`.
pub fn encode(ops: &[BulkOp]) -> Bytes {
    let cap = ops.iter().map(BulkOp::encoded_len).sum();
    let mut out = BytesMut::with_capacity(cap);
    for op in ops {
        encode_op(op, &mut out);
    }
    out.freeze()
}

/// Gzips a body.
pub fn gzip(body: &[u8]) -> std::io::Result<Bytes> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::fast(),
    );
    enc.write_all(body)?;
    Ok(Bytes::from(enc.finish()?))
}

fn put_json_str(out: &mut BytesMut, s: &str) {
    let plain = s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
    if plain {
        out.put_u8(b'"');
        out.put_slice(s.as_bytes());
        out.put_u8(b'"');
    } else {
        // Serializing a str cannot fail.
        let escaped = serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string());
        out.put_slice(escaped.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_index_and_delete_lines() {
        let ops = vec![
            BulkOp::index("a", "w:1", 7, Bytes::from_static(b"{\"x\":\n1}")),
            BulkOp::delete("a", "w:\"2", 12345678901234),
        ];
        let body = encode(&ops);
        let text = std::str::from_utf8(&body).unwrap();
        assert_eq!(
            text,
            "{\"index\":{\"_index\":\"a\",\"_id\":\"w:1\",\"version\":7,\"version_type\":\"external\"}}\n{\"x\": 1}\n\
             {\"delete\":{\"_index\":\"a\",\"_id\":\"w:\\\"2\",\"version\":12345678901234,\"version_type\":\"external\"}}\n"
        );
        for line in text.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
    }

    #[test]
    fn encoded_len_is_an_upper_bound() {
        let op = BulkOp::index(
            "convstats-new",
            "ws:123",
            u64::MAX,
            Bytes::from_static(b"{}"),
        );
        assert!(encode(std::slice::from_ref(&op)).len() <= op.encoded_len());
    }
}
