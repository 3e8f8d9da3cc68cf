//! The compact binary form of spilled values: frames of a 4-byte
//! little-endian length and a `postcard` body (varints, strings with their
//! lengths). A validated record is written with its read position, so it is
//! merged exactly as if it had never left memory; a merged conversation is
//! written as it is. Reading a frame back parses no JSON. Pure.

use crate::conversation::{Conversation, Seq};
use crate::record::Record;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Bytes of a frame's length prefix.
const PREFIX: usize = 4;

/// Why spilled bytes could not be read back (a bug, or the files were
/// changed under a running run).
#[derive(Debug, thiserror::Error)]
#[error("a spill file is damaged ({0}); was the spill directory changed while convstats ran?")]
pub struct CodecError(String);

fn put<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let start = out.len();
    out.extend_from_slice(&[0; PREFIX]);
    // Writing into a Vec cannot fail, and every spilled type serializes.
    if postcard::to_io(value, &mut *out).is_err() {
        out.truncate(start);
        return;
    }
    let len = (out.len() - start - PREFIX) as u32;
    if let Some(prefix) = out.get_mut(start..start + PREFIX) {
        prefix.copy_from_slice(&len.to_le_bytes());
    }
}

/// Appends the frame of `record` read at `seq`.
pub fn put_record(out: &mut Vec<u8>, seq: Seq, record: &Record) {
    put(out, &(seq, record));
}

/// Appends a frame whose body was read from another frame.
pub fn put_body(out: &mut Vec<u8>, body: &[u8]) {
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
}

/// Appends the frame of a merged conversation.
pub fn put_conversation(out: &mut Vec<u8>, conversation: &Conversation) {
    put(out, conversation);
}

fn read<T: DeserializeOwned>(body: &[u8]) -> Result<T, CodecError> {
    postcard::from_bytes(body).map_err(|e| CodecError(e.to_string()))
}

/// The record and read position of a frame's body.
pub fn record(body: &[u8]) -> Result<(Seq, Record), CodecError> {
    read(body)
}

/// The conversation of a frame's body.
pub fn conversation(body: &[u8]) -> Result<Conversation, CodecError> {
    read(body)
}

/// The bodies of the whole frames in `buf`, in order; an error for a frame
/// cut short.
pub fn frames(buf: &[u8]) -> impl Iterator<Item = Result<&[u8], CodecError>> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let Some((prefix, tail)) = rest.split_first_chunk::<PREFIX>() else {
            rest = &[];
            return Some(Err(CodecError("a frame's length is cut short".into())));
        };
        let len = u32::from_le_bytes(*prefix) as usize;
        match (tail.get(..len), tail.get(len..)) {
            (Some(body), Some(after)) => {
                rest = after;
                Some(Ok(body))
            }
            _ => {
                rest = &[];
                Some(Err(CodecError(format!(
                    "a frame of {len} bytes holds only {}",
                    tail.len()
                ))))
            }
        }
    })
}

/// Reads the next frame's body from `r` into `body`; false at a clean end.
pub fn read_frame(r: &mut impl std::io::Read, body: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut prefix = [0u8; PREFIX];
    let mut got = 0;
    while got < PREFIX {
        match r.read(prefix.get_mut(got..).unwrap_or_default()) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "a spill frame's length is cut short",
                ));
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let len = u32::from_le_bytes(prefix) as usize;
    body.clear();
    body.resize(len, 0);
    r.read_exact(body)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::parse_line;

    #[test]
    fn a_record_read_back_from_its_frame_is_the_record_that_was_written() {
        let lines = [
            r#"{"type":"conversation","id":"7","workspace_id":"w","created_at":1700000000,"updated_at":1700000500,"state":"closed","admin_assignee_id":12,"source":{"delivered_as":"customer_initiated","author":{"type":"user","id":"u1"}},"conversation_parts":{"conversation_parts":[{"id":"1","part_type":"comment","created_at":1700000100,"author":{"type":"admin","id":"5"},"body":"hi"}]}}"#,
            r#"{"type":"conversation_part","conversation_id":"7","id":"2","part_type":"close","created_at":1700000200,"updated_at":1700000300,"author":{"type":"bot","id":"b","from_ai_agent":true}}"#,
            r#"{"type":"notification_event","topic":"conversation.deleted","data":{"item":{"type":"conversation","id":"9"}}}"#,
        ];
        let mut buf = Vec::new();
        let mut written = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let rec = parse_line(l.as_bytes()).unwrap().unwrap();
            put_record(&mut buf, i as Seq * 1000 + 3, &rec);
            written.push((i as Seq * 1000 + 3, rec));
        }
        let read: Vec<(Seq, Record)> = frames(&buf).map(|f| record(f.unwrap()).unwrap()).collect();
        assert_eq!(read, written);
        let mut r = std::io::Cursor::new(&buf);
        let mut body = Vec::new();
        let mut n = 0;
        while read_frame(&mut r, &mut body).unwrap() {
            assert_eq!(record(&body).unwrap(), written[n]);
            n += 1;
        }
        assert_eq!(n, 3);
    }

    #[test]
    fn a_merged_conversation_read_back_from_its_frame_is_the_same_conversation() {
        let mut merger = crate::conversation::Merger::new();
        let line = br#"{"type":"conversation","id":"7","workspace_id":"w","created_at":1700000000,"updated_at":1700000500,"state":"snoozed","team_assignee_id":"t9","conversation_parts":{"conversation_parts":[{"id":"1","part_type":"note","created_at":1700000100,"updated_at":1700000101,"author":{"type":"admin","id":"5"},"body":" x "}]}}"#;
        merger.apply(parse_line(line).unwrap().unwrap(), 42);
        let (convs, _) = merger.finish();
        let mut buf = Vec::new();
        put_conversation(&mut buf, &convs[0]);
        let body = frames(&buf).next().unwrap().unwrap();
        assert_eq!(conversation(body).unwrap(), convs[0]);
        assert!(conversation(&body[..body.len() - 1]).is_err());
    }

    #[test]
    fn a_frame_cut_short_is_an_error_not_a_wrong_value() {
        let rec = parse_line(br#"{"type":"conversation","id":"7","created_at":1}"#)
            .unwrap()
            .unwrap();
        let mut buf = Vec::new();
        put_record(&mut buf, 1, &rec);
        for cut in 1..buf.len() {
            let got: Vec<_> = frames(&buf[..cut]).collect();
            assert!(got.iter().any(Result::is_err), "cut at {cut}");
            let mut body = Vec::new();
            assert!(read_frame(&mut &buf[..cut], &mut body).is_err(), "{cut}");
        }
    }
}
