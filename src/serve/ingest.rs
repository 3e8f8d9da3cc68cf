//! An NDJSON request body → the lines to keep and the lines rejected, each
//! rejection with its 1-based line number and the reason (input.md: a bad
//! line never rejects its neighbours). Pure.

use serde::Serialize;

use crate::store::Accepted;

/// One rejected line of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineRejection {
    pub line: u64,
    pub reason: String,
}

/// What a body held.
#[derive(Debug, Default)]
pub struct Parsed {
    pub accepted: Vec<Accepted>,
    /// Valid lines about no conversation (other webhook topics): counted.
    pub ignored: u64,
    pub rejected: Vec<LineRejection>,
}

/// Splits `body` at `\n` and validates every line with the same parser as
/// `compute`.
pub fn parse_body(body: &[u8]) -> Parsed {
    let mut out = Parsed::default();
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        let n = i as u64 + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match Accepted::parse(line) {
            Ok(Some(a)) => out.accepted.push(a),
            Ok(None) => out.ignored += 1,
            Err(reason) => out.rejected.push(LineRejection { line: n, reason }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_line_is_rejected_with_its_number_and_its_neighbours_are_kept() {
        let good = r#"{"type":"conversation","id":"c1","created_at":1700000000}"#;
        let body = format!("{good}\nnot json\n\n{good}\n{{\"type\":\"conversation\"}}");
        let p = parse_body(body.as_bytes());
        assert_eq!(p.accepted.len(), 2);
        let lines: Vec<u64> = p.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![2, 5]);
        assert!(p.rejected.iter().all(|r| !r.reason.is_empty()));
    }
}
