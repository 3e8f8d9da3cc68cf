//! A strict JSON reader for one input line.
//!
//! Every byte is checked against RFC 8259 (the grammar serde_json accepts),
//! but only the values a record uses are decoded: everything else is skipped
//! where it lies, strings without being copied. Typed reading through serde
//! cost twice as much as merely skipping the line (docs/benchmarks.md); this
//! reader does the typed work at about the cost of the skip.
//!
//! Strings that are read are checked to be UTF-8; skipped strings are not
//! decoded, so they are not (serde_json does the same when it skips).
//! `tests/json_grammar.rs` checks that this reader accepts exactly the lines
//! serde_json accepts.
//!
//! Pure: bytes in, values or a [`Fail`] out; no input makes it panic.

use std::borrow::Cow;

/// Why a line could not be read: the message, the field path it concerns
/// (`conversation_parts.conversation_parts[1].created_at`) and the byte
/// offset where reading stopped.
/// Boxed, so that results stay one register wide on the fast path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fail(Box<FailInner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct FailInner {
    path: String,
    msg: String,
    pos: usize,
}

impl Fail {
    #[cold]
    pub fn new(msg: impl Into<String>, pos: usize) -> Fail {
        Fail(Box::new(FailInner {
            path: String::new(),
            msg: msg.into(),
            pos,
        }))
    }

    /// Puts `segment` (a key, or `[i]`) in front of the path.
    pub fn nest(mut self, segment: &str) -> Fail {
        if self.0.path.is_empty() {
            self.0.path = segment.to_string();
        } else {
            let sep = if self.0.path.starts_with('[') {
                ""
            } else {
                "."
            };
            self.0.path = format!("{segment}{sep}{}", self.0.path);
        }
        self
    }

    /// The message, without path or position.
    pub fn message(&self) -> &str {
        &self.0.msg
    }

    /// `path: message`, or the message alone; with the 1-based column where
    /// reading stopped when `column` is set.
    pub fn describe(&self, column: bool) -> String {
        let mut s = if self.0.path.is_empty() {
            self.0.msg.clone()
        } else {
            format!("{}: {}", self.0.path, self.0.msg)
        };
        if column {
            s.push_str(&format!(" (column {})", self.0.pos + 1));
        }
        s
    }
}

/// What the next value is, from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Str,
    Number,
    Object,
    Array,
}

/// A JSON number as records use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Number<'a> {
    /// A non-negative integer that fits in 64 bits.
    Int(u64),
    /// A negative integer that fits in 64 bits.
    Neg(i64),
    /// A fraction, an exponent or `-0` (serde_json reads these as floats).
    Float(&'a str),
    /// An integer outside the 64-bit range.
    Big(&'a str),
}

/// Nesting of skipped containers: one bit per level (set for an object), in
/// a `u128` for the first 128 levels and a vector beyond (hostile input only).
#[derive(Default)]
struct Nesting {
    bits: u128,
    depth: usize,
    deep: Vec<bool>,
}

impl Nesting {
    fn push(&mut self, object: bool) {
        if self.depth < 128 {
            self.bits = (self.bits & !(1 << self.depth)) | (u128::from(object) << self.depth);
        } else {
            self.deep.push(object);
        }
        self.depth += 1;
    }

    fn pop(&mut self) {
        if self.depth > 128 {
            self.deep.pop();
        }
        self.depth = self.depth.saturating_sub(1);
    }

    /// Whether the innermost open container is an object; `None` at the top.
    fn top(&self) -> Option<bool> {
        match self.depth {
            0 => None,
            d if d <= 128 => Some(self.bits & (1 << (d - 1)) != 0),
            _ => self.deep.last().copied(),
        }
    }
}

const ONES: u64 = u64::from_le_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);

/// Marks (high bit) the bytes of `w` equal to `b`; exact for the lowest one.
fn bytes_equal(w: u64, b: u8) -> u64 {
    let x = w ^ (ONES * u64::from(b));
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// Index of the first `"`, `\` or control character (below 0x20) in `s`.
fn find_special(s: &[u8]) -> Option<usize> {
    let mut chunks = s.chunks_exact(8);
    let mut at = 0;
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
        let m = bytes_equal(w, b'"') | bytes_equal(w, b'\\') | control;
        if m != 0 {
            return Some(at + (m.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|i| at + i)
}

fn hex4(s: &[u8]) -> Option<u16> {
    let mut n = 0u16;
    for &c in s.get(..4)? {
        let d = (c as char).to_digit(16)?;
        n = (n << 4) | d as u16;
    }
    Some(n)
}

/// Quotes a value for a message: at most 40 characters, control characters
/// and quotes escaped, so that a reason stays one short line whatever the
/// input held.
pub fn quote(v: &str) -> String {
    let mut out = String::from("\"");
    for c in v.chars().take(40) {
        if c == '"' || c == '\\' || c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if v.chars().nth(40).is_some() {
        out.push('…');
    }
    out.push('"');
    out
}

/// Decodes the text of a string as [`Scanner::raw_string`] returns it
/// (escapes undecoded), checking that it is UTF-8.
pub fn decode_string(raw: &[u8]) -> Result<String, Fail> {
    let mut quoted = Vec::with_capacity(raw.len() + 2);
    quoted.push(b'"');
    quoted.extend_from_slice(raw);
    quoted.push(b'"');
    Scanner::new(&quoted).string().map(Cow::into_owned)
}

/// Reads one JSON text from a byte slice.
pub struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    pub fn new(b: &'a [u8]) -> Scanner<'a> {
        Scanner { b, i: 0 }
    }

    /// A failure at the current position.
    pub fn fail(&self, msg: impl Into<String>) -> Fail {
        Fail::new(msg, self.i)
    }

    fn eof(&mut self, what: &str) -> Fail {
        self.i = self.b.len();
        self.fail(format!("EOF while parsing {what}"))
    }

    /// Skips white space; the next byte, if any.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\n' | b'\t' | b'\r') {
                self.i += 1;
            } else {
                return Some(c);
            }
        }
        None
    }

    /// Succeeds when only white space is left.
    pub fn end(&mut self) -> Result<(), Fail> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.fail("trailing characters")),
        }
    }

    /// What the next value is.
    #[inline]
    pub fn kind(&mut self) -> Result<Kind, Fail> {
        match self.peek() {
            None => Err(self.eof("a value")),
            Some(b'n') => Ok(Kind::Null),
            Some(b't' | b'f') => Ok(Kind::Bool),
            Some(b'"') => Ok(Kind::Str),
            Some(b'-' | b'0'..=b'9') => Ok(Kind::Number),
            Some(b'{') => Ok(Kind::Object),
            Some(b'[') => Ok(Kind::Array),
            Some(_) => Err(self.fail("expected value")),
        }
    }

    /// Consumes `null` when it is next.
    #[inline]
    pub fn null(&mut self) -> Result<bool, Fail> {
        if self.peek() == Some(b'n') {
            self.literal(b"null")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    #[inline]
    fn literal(&mut self, word: &[u8]) -> Result<(), Fail> {
        let rest = self.b.get(self.i..).unwrap_or_default();
        if rest.starts_with(word) {
            self.i += word.len();
            Ok(())
        } else if word.starts_with(rest) {
            Err(self.eof("a value"))
        } else {
            Err(self.fail("expected value"))
        }
    }

    /// Reads `true` or `false`.
    pub fn boolean(&mut self) -> Result<bool, Fail> {
        if self.peek() == Some(b't') {
            self.literal(b"true").map(|()| true)
        } else {
            self.literal(b"false").map(|()| false)
        }
    }

    /// Reads a number.
    pub fn number(&mut self) -> Result<Number<'a>, Fail> {
        self.peek();
        let b = self.b;
        let start = self.i;
        let negative = b.get(self.i) == Some(&b'-');
        if negative {
            self.i += 1;
        }
        let mut value: Option<u64> = Some(0);
        match b.get(self.i) {
            Some(b'0') => {
                self.i += 1;
                if b.get(self.i).is_some_and(u8::is_ascii_digit) {
                    return Err(self.fail("invalid number: a leading zero"));
                }
            }
            Some(b'1'..=b'9') => {
                while let Some(&c) = b.get(self.i).filter(|c| c.is_ascii_digit()) {
                    value = value
                        .and_then(|v| v.checked_mul(10))
                        .and_then(|v| v.checked_add(u64::from(c - b'0')));
                    self.i += 1;
                }
            }
            None => return Err(self.eof("a number")),
            Some(_) => return Err(self.fail("invalid number")),
        }
        let mut float = false;
        if b.get(self.i) == Some(&b'.') {
            self.i += 1;
            self.digits()?;
            float = true;
        }
        if matches!(b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            self.digits()?;
            float = true;
        }
        // ASCII by construction.
        let text = || std::str::from_utf8(b.get(start..self.i).unwrap_or_default()).unwrap_or("");
        Ok(match (float, negative, value) {
            (true, _, _) | (false, true, Some(0)) => Number::Float(text()),
            (false, false, Some(v)) => Number::Int(v),
            (false, true, Some(v)) => match i64::try_from(v) {
                Ok(v) => Number::Neg(-v),
                Err(_) if v == 1 << 63 => Number::Neg(i64::MIN),
                Err(_) => Number::Big(text()),
            },
            (false, _, None) => Number::Big(text()),
        })
    }

    /// One or more digits (of a fraction or an exponent).
    fn digits(&mut self) -> Result<(), Fail> {
        match self.b.get(self.i) {
            Some(c) if c.is_ascii_digit() => {}
            None => return Err(self.eof("a number")),
            Some(_) => return Err(self.fail("invalid number")),
        }
        while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        Ok(())
    }

    /// Reads a string (the next value must be one), checked to be UTF-8.
    pub fn string(&mut self) -> Result<Cow<'a, str>, Fail> {
        self.peek();
        self.i += 1; // the opening quote
        let b = self.b;
        let start = self.i;
        let mut owned: Option<Vec<u8>> = None;
        loop {
            let rest = b.get(self.i..).unwrap_or_default();
            let Some(k) = find_special(rest) else {
                return Err(self.eof("a string"));
            };
            let run = rest.get(..k).unwrap_or_default();
            self.i += k + 1;
            match rest.get(k) {
                Some(b'"') => {
                    // Without escapes, the text is borrowed from the line.
                    let text = match owned {
                        None => std::str::from_utf8(b.get(start..self.i - 1).unwrap_or_default())
                            .ok()
                            .map(Cow::Borrowed),
                        Some(mut v) => {
                            v.extend_from_slice(run);
                            String::from_utf8(v).ok().map(Cow::Owned)
                        }
                    };
                    return text.ok_or_else(|| self.fail("invalid UTF-8 in a string"));
                }
                Some(b'\\') => {
                    // The first escape starts a copy (`run` is then all the
                    // text so far).
                    let buf = owned.get_or_insert_with(Vec::new);
                    buf.extend_from_slice(run);
                    self.unescape(buf)?;
                }
                _ => {
                    return Err(Fail::new(
                        "control character (\\u0000-\\u001F) found in a string",
                        self.i - 1,
                    ));
                }
            }
        }
    }

    /// Decodes one escape (after its backslash) into `out`.
    fn unescape(&mut self, out: &mut Vec<u8>) -> Result<(), Fail> {
        let Some(&c) = self.b.get(self.i) else {
            return Err(self.eof("a string"));
        };
        self.i += 1;
        let simple = match c {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let ch = self.unicode_escape()?;
                let mut tmp = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                return Ok(());
            }
            _ => return Err(Fail::new("invalid escape", self.i - 1)),
        };
        out.push(simple);
        Ok(())
    }

    fn hex_escape(&mut self) -> Result<u16, Fail> {
        let rest = self.b.get(self.i..).unwrap_or_default();
        match hex4(rest) {
            Some(n) => {
                self.i += 4;
                Ok(n)
            }
            None if rest.len() < 4 && rest.iter().all(u8::is_ascii_hexdigit) => {
                Err(self.eof("a string"))
            }
            None => Err(self.fail("invalid escape")),
        }
    }

    /// The character of a `\u` escape (after the `u`), pairing surrogates.
    fn unicode_escape(&mut self) -> Result<char, Fail> {
        let first = self.hex_escape()?;
        let units = if (0xD800..0xDC00).contains(&first) {
            if self.b.get(self.i..self.i + 2) != Some(b"\\u") {
                return Err(self.fail("lone leading surrogate in hex escape"));
            }
            self.i += 2;
            vec![first, self.hex_escape()?]
        } else {
            vec![first]
        };
        match char::decode_utf16(units).collect::<Result<Vec<char>, _>>() {
            Ok(chars) if chars.len() == 1 => chars
                .first()
                .copied()
                .ok_or_else(|| self.fail("invalid unicode code point")),
            _ => Err(self.fail("lone surrogate in hex escape")),
        }
    }

    /// Skips the rest of a string (after its opening quote).
    fn skip_string(&mut self) -> Result<(), Fail> {
        loop {
            let rest = self.b.get(self.i..).unwrap_or_default();
            let Some(k) = find_special(rest) else {
                return Err(self.eof("a string"));
            };
            self.i += k + 1;
            match rest.get(k) {
                Some(b'"') => return Ok(()),
                Some(b'\\') => {
                    let Some(&c) = self.b.get(self.i) else {
                        return Err(self.eof("a string"));
                    };
                    self.i += 1;
                    match c {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            self.hex_escape()?;
                        }
                        _ => return Err(Fail::new("invalid escape", self.i - 1)),
                    }
                }
                _ => {
                    return Err(Fail::new(
                        "control character (\\u0000-\\u001F) found in a string",
                        self.i - 1,
                    ));
                }
            }
        }
    }

    /// Skips a string (the next value must be one), checking its escapes;
    /// returns its text between the quotes, escapes undecoded.
    pub fn raw_string(&mut self) -> Result<&'a [u8], Fail> {
        self.peek();
        self.i += 1; // the opening quote
        let start = self.i;
        self.skip_string()?;
        Ok(self.b.get(start..self.i - 1).unwrap_or_default())
    }

    /// Skips an object key and its colon.
    #[inline]
    fn skip_key(&mut self) -> Result<(), Fail> {
        match self.peek() {
            Some(b'"') => {
                self.i += 1;
                self.skip_string()?;
            }
            None => return Err(self.eof("an object")),
            Some(_) => return Err(self.fail("key must be a string")),
        }
        self.colon()
    }

    #[inline]
    fn colon(&mut self) -> Result<(), Fail> {
        match self.peek() {
            Some(b':') => {
                self.i += 1;
                Ok(())
            }
            None => Err(self.eof("an object")),
            Some(_) => Err(self.fail("expected `:`")),
        }
    }

    /// Consumes the opening bracket or brace of a container closed by
    /// `close`; true when the container is empty (then consumed whole).
    #[inline]
    fn open(&mut self, close: u8) -> bool {
        self.peek();
        self.i += 1;
        if self.peek() == Some(close) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// After an element of a container closed by `close`: true when a comma
    /// announces another element, false at the close (each consumed).
    #[inline]
    fn next_or_close(&mut self, close: u8) -> Result<bool, Fail> {
        let object = close == b'}';
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                Ok(true)
            }
            Some(c) if c == close => {
                self.i += 1;
                Ok(false)
            }
            None => Err(self.eof(if object { "an object" } else { "a list" })),
            Some(_) => Err(self.fail(if object {
                "expected `,` or `}`"
            } else {
                "expected `,` or `]`"
            })),
        }
    }

    /// Skips the next value, checking its syntax. Nesting is followed with
    /// a bit stack, not recursion, so depth cannot overflow the stack.
    pub fn skip(&mut self) -> Result<(), Fail> {
        let mut nesting = Nesting::default();
        loop {
            match self.peek() {
                None => return Err(self.eof("a value")),
                Some(b'"') => {
                    self.i += 1;
                    self.skip_string()?;
                }
                Some(b'{') => {
                    if !self.open(b'}') {
                        nesting.push(true);
                        self.skip_key()?;
                        continue;
                    }
                }
                Some(b'[') => {
                    if !self.open(b']') {
                        nesting.push(false);
                        continue;
                    }
                }
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                Some(b'-' | b'0'..=b'9') => {
                    self.number()?;
                }
                Some(_) => return Err(self.fail("expected value")),
            }
            // A value is complete: close containers until one has more.
            loop {
                let Some(object) = nesting.top() else {
                    return Ok(());
                };
                if self.next_or_close(if object { b'}' } else { b']' })? {
                    if object {
                        self.skip_key()?;
                    }
                    break;
                }
                nesting.pop();
            }
        }
    }

    /// Skips the next value and returns its text.
    pub fn raw(&mut self) -> Result<&'a [u8], Fail> {
        self.peek();
        let start = self.i;
        self.skip()?;
        Ok(self.b.get(start..self.i).unwrap_or_default())
    }

    /// Reads an object (the next value must be one), calling `field` with
    /// each key (escapes decoded); `field` must consume the value.
    pub fn object(
        &mut self,
        mut field: impl FnMut(&mut Self, &[u8]) -> Result<(), Fail>,
    ) -> Result<(), Fail> {
        if self.open(b'}') {
            return Ok(());
        }
        let b = self.b;
        let mut scratch = Vec::new();
        loop {
            match self.peek() {
                Some(b'"') => self.i += 1,
                None => return Err(self.eof("an object")),
                Some(_) => return Err(self.fail("key must be a string")),
            }
            let start = self.i;
            let rest = b.get(start..).unwrap_or_default();
            let key: &[u8] = match find_special(rest) {
                Some(k) if rest.get(k) == Some(&b'"') => {
                    self.i += k + 1;
                    rest.get(..k).unwrap_or_default()
                }
                Some(_) => {
                    // Escapes, or a control character (refused here). A key
                    // that does not decode (a lone surrogate) names no field:
                    // it is skipped with its value, as serde_json would.
                    self.skip_string()?;
                    let raw = b.get(start..self.i - 1).unwrap_or_default();
                    scratch.clear();
                    match decode_string(raw) {
                        Ok(text) => scratch.extend_from_slice(text.as_bytes()),
                        Err(_) => scratch.extend_from_slice(b"\xff"),
                    }
                    &scratch
                }
                None => return Err(self.eof("a string")),
            };
            self.colon()?;
            field(self, key)?;
            if !self.next_or_close(b'}')? {
                return Ok(());
            }
        }
    }

    /// Reads a list (the next value must be one), calling `element` with
    /// each index; `element` must consume the value.
    pub fn array(
        &mut self,
        mut element: impl FnMut(&mut Self, usize) -> Result<(), Fail>,
    ) -> Result<(), Fail> {
        if self.open(b']') {
            return Ok(());
        }
        let mut index = 0;
        loop {
            element(self, index)?;
            if !self.next_or_close(b']')? {
                return Ok(());
            }
            index += 1;
        }
    }

    /// Consumes a value of the wrong type and says what was expected, as
    /// "invalid type: integer `5`, expected a string".
    pub fn invalid_type(&mut self, expected: &str) -> Fail {
        let found = match self.kind() {
            Err(e) => return e,
            Ok(Kind::Null) => self.literal(b"null").map(|()| "null".to_string()),
            Ok(Kind::Bool) => self.boolean().map(|v| format!("boolean `{v}`")),
            Ok(Kind::Number) => self.number().map(|n| match n {
                Number::Int(v) => format!("integer `{v}`"),
                Number::Neg(v) => format!("integer `{v}`"),
                Number::Float(t) => format!("floating point {}", quote(t)),
                Number::Big(t) => format!("integer {}", quote(t)),
            }),
            Ok(Kind::Str) => self.string().map(|s| format!("string {}", quote(&s))),
            Ok(Kind::Object) => self.skip().map(|()| "map".to_string()),
            Ok(Kind::Array) => self.skip().map(|()| "sequence".to_string()),
        };
        match found {
            Ok(found) => self.fail(format!("invalid type: {found}, expected {expected}")),
            Err(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skips(text: &str) -> Result<(), Fail> {
        let mut s = Scanner::new(text.as_bytes());
        s.skip()?;
        s.end()
    }

    #[test]
    fn special_bytes_are_found_at_every_offset() {
        for len in 0..40 {
            for at in 0..len {
                for special in [b'"', b'\\', 0x00, 0x1f] {
                    let mut v = vec![b'a'; len];
                    v[at] = special;
                    if at + 1 < len {
                        v[at + 1] = b'"';
                    }
                    assert_eq!(find_special(&v), Some(at), "{len} {at} {special}");
                }
            }
            assert_eq!(find_special(&vec![0x20; len]), None);
            assert_eq!(find_special(&vec![0xff; len]), None);
        }
    }

    #[test]
    fn numbers_are_classified() {
        fn n(t: &str) -> Result<Number<'_>, Fail> {
            Scanner::new(t.as_bytes()).number()
        }
        assert_eq!(n("0"), Ok(Number::Int(0)));
        assert_eq!(n("18446744073709551615"), Ok(Number::Int(u64::MAX)));
        assert_eq!(
            n("18446744073709551616"),
            Ok(Number::Big("18446744073709551616"))
        );
        assert_eq!(n("-9223372036854775808"), Ok(Number::Neg(i64::MIN)));
        assert_eq!(
            n("-9223372036854775809"),
            Ok(Number::Big("-9223372036854775809"))
        );
        assert_eq!(n("-0"), Ok(Number::Float("-0")));
        assert_eq!(n("1.5"), Ok(Number::Float("1.5")));
        assert_eq!(n("1e3"), Ok(Number::Float("1e3")));
        assert!(n("01").is_err());
        assert!(n("1.").is_err());
        assert!(n("1e+").is_err());
        assert!(n("-").is_err());
    }

    #[test]
    fn strings_decode_escapes_and_pair_surrogates() {
        let s = |t: &str| Scanner::new(t.as_bytes()).string().map(|c| c.into_owned());
        assert_eq!(s(r#""plain""#).as_deref(), Ok("plain"));
        assert_eq!(
            s(r#""a\"b\\c\/d\n\u00e9\ud83d\ude00""#).as_deref(),
            Ok("a\"b\\c/d\né😀")
        );
        assert!(s(r#""\ud83d""#).is_err());
        assert!(s(r#""\ude00""#).is_err());
        assert!(s(r#""\x""#).is_err());
        assert!(s("\"a\u{1}\"").is_err());
        assert!(s(r#""open"#).is_err());
        assert!(Scanner::new(b"\"\xff\"").string().is_err());
    }

    #[test]
    fn skipping_checks_the_grammar() {
        for good in [
            "null",
            "[]",
            "{}",
            r#"{"a":[1,-2.5e3,true,false,null,{"b":"\u0041"}],"c":{}}"#,
            " [ [ [ ] ] , { } ] ",
        ] {
            assert_eq!(skips(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "[",
            "[1,]",
            "{\"a\"}",
            "{\"a\":}",
            "{1:2}",
            "[1 2]",
            "nul",
            "tru",
            "\"\\q\"",
            "{\"a\":1,}",
            "[}",
            "01",
            "1 2",
        ] {
            assert!(skips(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn deep_nesting_is_skipped_without_recursion() {
        let depth = 100_000;
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(skips(&text), Ok(()));
        let text = format!("{}1{}", "[{\"a\":".repeat(depth), "}]".repeat(depth));
        assert_eq!(skips(&text), Ok(()));
        assert!(skips(&"[".repeat(depth)).is_err());
    }

    #[test]
    fn failures_carry_their_path_and_column() {
        let f = Fail::new("bad", 4)
            .nest("created_at")
            .nest("[1]")
            .nest("parts");
        assert_eq!(f.describe(true), "parts[1].created_at: bad (column 5)");
        assert_eq!(Fail::new("bad", 0).describe(false), "bad");
    }
}
