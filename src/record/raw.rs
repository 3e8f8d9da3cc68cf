//! The shapes of input lines before validation, read with [`Scanner`].
//!
//! One flat struct reads every record kind in a single pass; fields that other
//! kinds may carry with other meanings are read leniently. Validation into
//! [`super::Record`] happens in `record/mod.rs`.

use super::id::RawId;
use super::scan::{Fail, Kind, Number, Scanner, decode_string, quote};
use super::timestamp;
use compact_str::{CompactString, ToCompactString};

/// A value read from JSON by [`Scanner`].
pub trait FromJson<'a>: Sized {
    fn read(s: &mut Scanner<'a>) -> Result<Self, Fail>;
}

/// A field that may be absent, present as null, or present with a value:
/// input.md's merge rule treats "present with null" as carried.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Tri<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<T> Tri<T> {
    /// `None` when absent; `Some(None)` when carried as null.
    pub fn carried(self) -> Option<Option<T>> {
        match self {
            Tri::Absent => None,
            Tri::Null => Some(None),
            Tri::Value(v) => Some(Some(v)),
        }
    }
}

impl<'a, T: FromJson<'a>> FromJson<'a> for Tri<T> {
    fn read(s: &mut Scanner<'a>) -> Result<Self, Fail> {
        Ok(if s.null()? {
            Tri::Null
        } else {
            Tri::Value(T::read(s)?)
        })
    }
}

/// null reads as `None`.
impl<'a, T: FromJson<'a>> FromJson<'a> for Option<T> {
    fn read(s: &mut Scanner<'a>) -> Result<Self, Fail> {
        if s.null()? {
            Ok(None)
        } else {
            T::read(s).map(Some)
        }
    }
}

/// A required-type string (`type`, `state`, `topic`).
impl<'a> FromJson<'a> for CompactString {
    fn read(s: &mut Scanner<'a>) -> Result<Self, Fail> {
        match s.kind()? {
            Kind::Str => Ok(CompactString::from(s.string()?.as_ref())),
            _ => Err(s.invalid_type("a string")),
        }
    }
}

impl<'a> FromJson<'a> for RawId {
    fn read(s: &mut Scanner<'a>) -> Result<Self, Fail> {
        match s.kind()? {
            Kind::Str => {
                let text = s.string()?;
                // A control character can only come from an escape (the
                // grammar rejects raw ones), so unescaped ids skip the check.
                if matches!(text, std::borrow::Cow::Owned(_)) && text.chars().any(char::is_control)
                {
                    return Err(s.fail(format!(
                        "{} is not a valid id: ids cannot hold control characters (U+0000 to U+001F, U+007F to U+009F), which would corrupt the CSV export and most tools reading it",
                        quote(&text)
                    )));
                }
                Ok(RawId(CompactString::from(text.as_ref())))
            }
            Kind::Number => match s.number()? {
                Number::Int(v) => Ok(RawId(v.to_compact_string())),
                Number::Neg(v) => Ok(RawId(v.to_compact_string())),
                Number::Float(t) => Err(s.fail(format!(
                    "{} is not a valid id: ids are strings or integers that fit in 64 bits, never floats",
                    quote(t)
                ))),
                Number::Big(t) => Err(s.fail(format!(
                    "{} is not a valid id: integer ids must fit in 64 bits",
                    quote(t)
                ))),
            },
            _ => Err(s.invalid_type("an id (a string, or an integer that fits in 64 bits)")),
        }
    }
}

/// A timestamp in either input form, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawTs(pub i64);

impl<'a> FromJson<'a> for RawTs {
    fn read(s: &mut Scanner<'a>) -> Result<Self, Fail> {
        let seconds = match s.kind()? {
            Kind::Str => {
                let text = s.string()?;
                return timestamp::parse_rfc3339(&text)
                    .map(RawTs)
                    .map_err(|e| s.fail(format!("bad timestamp {}: {e}", quote(&text))));
            }
            Kind::Number => match s.number()? {
                Number::Int(v) => i128::from(v),
                Number::Neg(v) => i128::from(v),
                Number::Float(t) => {
                    return Err(s.fail(format!(
                        "bad timestamp {}: a float; timestamps are whole Unix seconds or RFC 3339 strings",
                        quote(t)
                    )));
                }
                Number::Big(t) => {
                    return Err(s.fail(format!(
                        "bad timestamp {}: out of range (0 to 253402300799)",
                        quote(t)
                    )));
                }
            },
            _ => {
                return Err(
                    s.invalid_type("a timestamp (integer Unix seconds or an RFC 3339 string)")
                );
            }
        };
        timestamp::from_seconds(seconds)
            .map(RawTs)
            .map_err(|e| s.fail(format!("bad timestamp: {e}")))
    }
}

/// A string read only to classify it (`part_type`, `author.type`): names
/// are matched as bytes, so the usual ASCII name is not copied or decoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Named<T>(pub T);

/// Types classified from a name by [`Named`].
pub trait FromName {
    fn from_name(name: &[u8]) -> Self;
}

impl FromName for super::PartType {
    fn from_name(name: &[u8]) -> Self {
        super::PartType::from_name(name)
    }
}

impl FromName for super::AuthorType {
    fn from_name(name: &[u8]) -> Self {
        super::AuthorType::from_name(name)
    }
}

impl<'a, T: FromName> FromJson<'a> for Named<T> {
    fn read(s: &mut Scanner<'a>) -> Result<Self, Fail> {
        if s.kind()? != Kind::Str {
            return Err(s.invalid_type("a string"));
        }
        let raw = s.raw_string()?;
        if raw.is_ascii() && !raw.contains(&b'\\') {
            return Ok(Named(T::from_name(raw)));
        }
        let text = decode_string(raw).map_err(|e| s.fail(e.message()))?;
        Ok(Named(T::from_name(text.as_bytes())))
    }
}

/// A part's `body`: only "a string non-empty after trimming" matters; any
/// other value is skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Body {
    pub non_empty: bool,
}

impl<'a> FromJson<'a> for Body {
    fn read(s: &mut Scanner<'a>) -> Result<Self, Fail> {
        if s.kind()? == Kind::Str {
            let raw = s.raw_string()?;
            Ok(Body {
                non_empty: has_visible_char(raw),
            })
        } else {
            s.skip().map(|()| Body::default())
        }
    }
}

/// Whether the text of a string (as [`Scanner::raw_string`] returns it,
/// escapes checked but undecoded) has a character that is not white space
/// (`char::is_whitespace`, as `str::trim` uses). A lone surrogate escape or
/// a byte that is not UTF-8 counts as such a character, so the answer does
/// not depend on how the string is escaped, and a text that does not decode
/// is non-empty whatever else it holds.
fn has_visible_char(raw: &[u8]) -> bool {
    match raw.iter().find(|c| **c != b' ') {
        None => false,
        // Most bodies start with a visible ASCII character ("<p>..."): no
        // need to decode them.
        Some(c) if c.is_ascii() && *c != b'\\' => true,
        Some(_) => match decode_string(raw) {
            Ok(text) => !text.trim().is_empty(),
            Err(_) => true,
        },
    }
}

/// A flag that counts only when it is exactly `true` (`from_ai_agent`, ...);
/// any other value is skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrueFlag(pub bool);

impl<'a> FromJson<'a> for TrueFlag {
    fn read(s: &mut Scanner<'a>) -> Result<Self, Fail> {
        VisibleExt::read(s).map(|v| TrueFlag(v.0 == Some(true)))
    }
}

/// The `visible` extension: `true` or `false`, anything else skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VisibleExt(pub Option<bool>);

impl<'a> FromJson<'a> for VisibleExt {
    fn read(s: &mut Scanner<'a>) -> Result<Self, Fail> {
        if s.kind()? == Kind::Bool {
            s.boolean().map(|b| VisibleExt(Some(b)))
        } else {
            s.skip().map(|()| VisibleExt(None))
        }
    }
}

/// A lenient string: kept when it is a string, otherwise skipped
/// (`message_type`, `source.delivered_as`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LenientStr(pub Option<CompactString>);

impl<'a> FromJson<'a> for LenientStr {
    fn read(s: &mut Scanner<'a>) -> Result<Self, Fail> {
        if s.kind()? == Kind::Str {
            Ok(LenientStr(Some(CompactString::from(s.string()?.as_ref()))))
        } else {
            s.skip().map(|()| LenientStr(None))
        }
    }
}

/// A value kept as its JSON text, read later (`data.item`, whose shape
/// depends on the topic).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawJson<'a>(pub &'a [u8]);

impl<'a> FromJson<'a> for RawJson<'a> {
    fn read(s: &mut Scanner<'a>) -> Result<Self, Fail> {
        s.raw().map(RawJson)
    }
}

/// A list of parts, each validated as it is read: memory holds validated
/// parts only, so a hostile list of empty objects cannot grow it. After the
/// first invalid part the rest are still read (the line's syntax is checked
/// whole) but not kept.
#[derive(Debug, Default)]
pub struct PartVec {
    pub parts: Vec<super::Part>,
    /// The first invalid part: its index and what is wrong with it.
    pub invalid: Option<(usize, String)>,
}

impl<'a> FromJson<'a> for PartVec {
    fn read(s: &mut Scanner<'a>) -> Result<Self, Fail> {
        if s.kind()? != Kind::Array {
            return Err(s.invalid_type("a list of conversation parts"));
        }
        // Most conversations have a few to a few dozen parts.
        let mut out = PartVec {
            parts: Vec::with_capacity(16),
            invalid: None,
        };
        s.array(|s, i| {
            let raw = RawPart::read(s).map_err(|e| e.nest(&format!("[{i}]")))?;
            if out.invalid.is_none() {
                match super::part(raw.into()) {
                    Ok(mut part) => {
                        part.read_sub = u16::try_from(i).unwrap_or(u16::MAX);
                        out.parts.push(part);
                    }
                    Err(e) => {
                        out.invalid = Some((i, e));
                        out.parts = Vec::new();
                    }
                }
            }
            Ok(())
        })?;
        // A run holds every part in memory: kept without spare capacity
        // (a new exact allocation; shrinking in place may keep the block).
        out.parts = out.parts.drain(..).collect();
        Ok(out)
    }
}

/// Declares a struct of optional fields read from a JSON object. Keys are
/// matched as bytes; unknown ones are skipped unread. A repeated known key is
/// an error, as with serde's derive.
macro_rules! raw_object {
    ($(#[$m:meta])* $name:ident $(<$lt:lifetime>)?, $expecting:literal { $($field:ident: $ty:ty = $key:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Default)]
        pub struct $name $(<$lt>)? {
            $(pub $field: $ty),*
        }

        impl<'a> FromJson<'a> for $name $(<$lt>)? {
            fn read(s: &mut Scanner<'a>) -> Result<Self, Fail> {
                #[allow(non_camel_case_types)]
                #[derive(Clone, Copy)]
                enum Field { $($field,)* }
                if s.kind()? != Kind::Object {
                    return Err(s.invalid_type($expecting));
                }
                let mut out = Self::default();
                let mut seen = 0u64;
                s.object(|s, key| {
                    $(if key == $key.as_bytes() {
                        let bit = 1u64 << (Field::$field as u32);
                        if seen & bit != 0 {
                            return Err(s.fail(concat!("duplicate field `", $key, "`")));
                        }
                        seen |= bit;
                        out.$field = FromJson::read(s).map_err(|e| e.nest($key))?;
                        return Ok(());
                    })*
                    s.skip()
                })?;
                Ok(out)
            }
        }
    };
}

raw_object!(RawAuthor, "an author object" {
    kind: Option<Named<super::AuthorType>> = "type",
    id: Option<RawId> = "id",
    from_ai_agent: TrueFlag = "from_ai_agent",
    is_ai_answer: TrueFlag = "is_ai_answer",
});

raw_object!(RawSource, "a source object" {
    delivered_as: LenientStr = "delivered_as",
    author: Option<RawAuthor> = "author",
    created_at: Tri<RawTs> = "created_at",
});

raw_object!(RawPart, "a conversation part object" {
    id: Option<RawId> = "id",
    part_type: Option<Named<super::PartType>> = "part_type",
    created_at: Option<RawTs> = "created_at",
    updated_at: Option<RawTs> = "updated_at",
    body: Body = "body",
    author: Option<RawAuthor> = "author",
    visible: VisibleExt = "visible",
});

raw_object!(RawPartList, "a conversation_part.list object" {
    conversation_parts: Option<PartVec> = "conversation_parts",
});

raw_object!(RawData<'a>, "an object" {
    item: Option<RawJson<'a>> = "item",
});

raw_object!(
    /// Every field any record kind reads, in one flat struct.
    RawRecord<'a>, "a JSON object" {
    kind: Option<CompactString> = "type",
    id: Option<RawId> = "id",
    created_at: Option<RawTs> = "created_at",
    updated_at: Option<RawTs> = "updated_at",
    state: Tri<CompactString> = "state",
    admin_assignee_id: Tri<RawId> = "admin_assignee_id",
    team_assignee_id: Tri<RawId> = "team_assignee_id",
    source: Tri<RawSource> = "source",
    conversation_parts: Option<RawPartList> = "conversation_parts",
    workspace_id: Option<RawId> = "workspace_id",
    app_id: Option<RawId> = "app_id",
    message_type: Tri<LenientStr> = "message_type",
    // conversation_part records
    part_type: Option<Named<super::PartType>> = "part_type",
    body: Body = "body",
    author: Option<RawAuthor> = "author",
    visible: VisibleExt = "visible",
    conversation_id: Option<RawId> = "conversation_id",
    // notification_event records
    topic: Option<CompactString> = "topic",
    data: Option<RawData<'a>> = "data",
});

#[cfg(test)]
mod tests {
    use super::*;

    fn read<'a, T: FromJson<'a>>(text: &'a str) -> Result<T, Fail> {
        let mut s = Scanner::new(text.as_bytes());
        let v = T::read(&mut s)?;
        s.end().map(|()| v)
    }

    #[test]
    fn body_is_non_empty_only_for_strings_with_non_white_space() {
        let b = |j: &str| read::<Body>(j).unwrap().non_empty;
        assert!(b("\"<p></p>\""));
        assert!(b("\" x \""));
        assert!(!b("\" \\u00a0\\n\\t\\u2003\""));
        assert!(!b("\"\""));
        assert!(!b("null"));
        assert!(!b("{\"a\":[1,2]}"));
        assert!(!b("[\"text\"]"));
        assert!(!b("5"));
    }

    #[test]
    fn a_body_is_read_only_up_to_its_first_visible_character() {
        let b = |j: &[u8]| {
            let mut s = Scanner::new(j);
            Body::read(&mut s).map(|b| b.non_empty)
        };
        // What follows the first visible character is not decoded.
        for text in [
            &br#""A\udc00""#[..],
            br#""\u0041\udc00""#,
            br#""x\ud800""#,
            br#"" \ud800x""#,
            b"\"e\xff\"",
            b"\"\xc3\xa9\xff\"",
            br#"" \u00a0\u2003x""#,
            br#""\ud83d\ude00""#,
            br#""\b""#,
        ] {
            assert_eq!(b(text), Ok(true), "{}", String::from_utf8_lossy(text));
        }
        for text in [
            &br#"" \u00a0\n\t\u2003\f\u000b\u0085""#[..],
            b"\"\xe2\x80\x83 \"",
            br#""""#,
        ] {
            assert_eq!(b(text), Ok(false), "{}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn tri_distinguishes_absent_null_and_value() {
        raw_object!(T, "an object" { f: Tri<RawTs> = "f" });
        assert_eq!(read::<T>("{}").unwrap().f, Tri::Absent);
        assert_eq!(read::<T>("{\"f\":null}").unwrap().f, Tri::Null);
        assert_eq!(read::<T>("{\"f\":5}").unwrap().f, Tri::Value(RawTs(5)));
    }

    #[test]
    fn a_repeated_known_key_is_an_error_and_unknown_ones_are_skipped() {
        raw_object!(T, "an object" { f: Option<RawTs> = "f" });
        assert!(read::<T>("{\"f\":1,\"f\":2}").is_err());
        assert_eq!(
            read::<T>("{\"x\":[1,{\"y\":null}],\"x\":2,\"f\":3}")
                .unwrap()
                .f,
            Some(RawTs(3))
        );
        assert_eq!(read::<T>("{\"\\u0066\":4}").unwrap().f, Some(RawTs(4)));
    }

    #[test]
    fn lenient_fields_skip_other_types() {
        assert_eq!(read::<TrueFlag>("\"true\"").unwrap(), TrueFlag(false));
        assert_eq!(read::<TrueFlag>("true").unwrap(), TrueFlag(true));
        assert_eq!(read::<VisibleExt>("[false]").unwrap(), VisibleExt(None));
        assert_eq!(read::<LenientStr>("{}").unwrap(), LenientStr(None));
    }

    #[test]
    fn integer_and_string_ids_are_the_same_id() {
        let id = |t: &str| read::<RawId>(t).unwrap().0;
        assert_eq!(id("274"), id("\"274\""));
        assert_ne!(id("274"), id("\"0274\""));
        assert_eq!(id("18446744073709551615"), "18446744073709551615");
        assert_eq!(id("-5"), "-5");
    }

    #[test]
    fn floats_and_other_types_are_not_ids() {
        for bad in [
            "1.0",
            "1e3",
            "-0",
            "18446744073709551616",
            "true",
            "[]",
            "{}",
        ] {
            assert!(read::<RawId>(bad).is_err(), "{bad}");
        }
    }
}
