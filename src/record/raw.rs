//! The serde shapes of input lines, before validation.
//!
//! One flat struct reads every record kind in a single pass; fields that other
//! kinds may carry with other meanings are read leniently. Validation into
//! [`super::Record`] happens in `record/mod.rs`.

use super::id::RawId;
use super::timestamp;
use compact_str::CompactString;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

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

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Tri<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            None => Tri::Null,
            Some(v) => Tri::Value(v),
        })
    }
}

/// A timestamp in either input form, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawTs(pub i64);

fn shorten(v: &str) -> String {
    let mut s: String = v.chars().take(40).collect();
    if s.len() < v.len() {
        s.push('…');
    }
    s
}

impl<'de> Deserialize<'de> for RawTs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawTs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a timestamp (integer Unix seconds or an RFC 3339 string)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawTs, E> {
                timestamp::from_seconds(i128::from(v))
                    .map(RawTs)
                    .map_err(|e| E::custom(format_args!("bad timestamp: {e}")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawTs, E> {
                timestamp::from_seconds(i128::from(v))
                    .map(RawTs)
                    .map_err(|e| E::custom(format_args!("bad timestamp: {e}")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawTs, E> {
                Err(E::custom(format_args!(
                    "bad timestamp {v}: a float; timestamps are whole Unix seconds or RFC 3339 strings"
                )))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawTs, E> {
                timestamp::parse_rfc3339(v)
                    .map(RawTs)
                    .map_err(|e| E::custom(format_args!("bad timestamp \"{}\": {e}", shorten(v))))
            }
        }
        d.deserialize_any(V)
    }
}

/// Consumes any JSON value and reports what it was, for lenient fields.
enum Seen<'a> {
    Str(&'a str),
    Bool(bool),
    Other,
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Implements a Deserialize that accepts any JSON value and maps it through
/// `$f: fn(Seen) -> Self`.
macro_rules! lenient {
    ($ty:ty, $what:expr, $f:expr) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$ty, E> {
                        Ok($f(Seen::Str(v)))
                    }
                    fn visit_bool<E: de::Error>(self, v: bool) -> Result<$ty, E> {
                        Ok($f(Seen::Bool(v)))
                    }
                    fn visit_i64<E: de::Error>(self, _: i64) -> Result<$ty, E> {
                        Ok($f(Seen::Other))
                    }
                    fn visit_u64<E: de::Error>(self, _: u64) -> Result<$ty, E> {
                        Ok($f(Seen::Other))
                    }
                    fn visit_f64<E: de::Error>(self, _: f64) -> Result<$ty, E> {
                        Ok($f(Seen::Other))
                    }
                    fn visit_unit<E: de::Error>(self) -> Result<$ty, E> {
                        Ok($f(Seen::Other))
                    }
                    fn visit_none<E: de::Error>(self) -> Result<$ty, E> {
                        Ok($f(Seen::Other))
                    }
                    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<$ty, A::Error> {
                        drain_seq(seq)?;
                        Ok($f(Seen::Other))
                    }
                    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<$ty, A::Error> {
                        drain_map(map)?;
                        Ok($f(Seen::Other))
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

/// A part's `body`: only "a string non-empty after trimming" matters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Body {
    pub non_empty: bool,
}
lenient!(Body, "any value", |s: Seen| Body {
    non_empty: matches!(s, Seen::Str(t) if !t.trim().is_empty()),
});

/// A flag that counts only when it is exactly `true` (`from_ai_agent`, ...).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrueFlag(pub bool);
lenient!(TrueFlag, "any value", |s: Seen| TrueFlag(matches!(
    s,
    Seen::Bool(true)
)));

/// The `visible` extension: `true` or `false`, anything else ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VisibleExt(pub Option<bool>);
lenient!(VisibleExt, "any value", |s: Seen| VisibleExt(match s {
    Seen::Bool(b) => Some(b),
    _ => None,
}));

/// A lenient string: kept when it is a string, otherwise nothing
/// (`message_type`, `source.delivered_as`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LenientStr(pub Option<CompactString>);
lenient!(LenientStr, "any value", |s: Seen| LenientStr(match s {
    Seen::Str(t) => Some(CompactString::from(t)),
    _ => None,
}));

/// Marks an error message that carries a field path: `\u{1}path\u{1}message`.
const PATH_MARK: char = '\u{1}';

/// Strips serde_json's " at line L column C" from a message.
pub(super) fn without_position(msg: &str) -> &str {
    match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    }
}

/// Puts `segment` (a key, or `[i]`) in front of the path of `inner`.
pub fn nest<E: de::Error>(segment: &str, inner: E) -> E {
    let full = inner.to_string();
    let msg = without_position(&full);
    match msg
        .strip_prefix(PATH_MARK)
        .and_then(|m| m.split_once(PATH_MARK))
    {
        Some((path, rest)) => {
            let sep = if path.starts_with('[') { "" } else { "." };
            E::custom(format_args!(
                "{PATH_MARK}{segment}{sep}{path}{PATH_MARK}{rest}"
            ))
        }
        None => E::custom(format_args!("{PATH_MARK}{segment}{PATH_MARK}{msg}")),
    }
}

/// Renders a message made by [`nest`] as `path: message`.
pub fn explain(msg: &str) -> String {
    match msg
        .strip_prefix(PATH_MARK)
        .and_then(|m| m.split_once(PATH_MARK))
    {
        Some((path, rest)) => format!("{path}: {rest}"),
        None => msg.to_string(),
    }
}

/// A list of parts whose errors say which element failed.
#[derive(Debug, Default)]
pub struct PartVec(pub Vec<RawPart>);

impl<'de> Deserialize<'de> for PartVec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PartVec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of conversation parts")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PartVec, A::Error> {
                // serde_json gives no size hint; most conversations have a few to a
                // few dozen parts.
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(16).min(1024));
                loop {
                    let i = out.len();
                    match seq.next_element::<RawPart>() {
                        Ok(Some(p)) => out.push(p),
                        Ok(None) => return Ok(PartVec(out)),
                        Err(e) => return Err(nest(&format!("[{i}]"), e)),
                    }
                }
            }
        }
        d.deserialize_seq(V)
    }
}

/// Declares a struct of optional fields and a `Deserialize` for it that
/// matches keys as raw bytes: serde_json then skips UTF-8 validation of keys
/// (keys only select fields; unknown ones are skipped unread, as IgnoredAny
/// would). A repeated known key is an error, as with serde's derive.
macro_rules! raw_object {
    ($(#[$m:meta])* $name:ident, $expecting:literal { $($field:ident: $ty:ty = $key:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Default)]
        pub struct $name {
            $(pub $field: $ty),*
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #[allow(non_camel_case_types)]
                #[derive(Clone, Copy)]
                enum Field { $($field,)* Unknown }
                const NAMES: &[&str] = &[$($key),*];

                struct KeySeed;
                impl<'de> de::DeserializeSeed<'de> for KeySeed {
                    type Value = Field;
                    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Field, D::Error> {
                        d.deserialize_bytes(KeySeed)
                    }
                }
                impl Visitor<'_> for KeySeed {
                    type Value = Field;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str("a field name")
                    }
                    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Field, E> {
                        $(if v == $key.as_bytes() {
                            return Ok(Field::$field);
                        })*
                        Ok(Field::Unknown)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
                        self.visit_bytes(v.as_bytes())
                    }
                }

                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                        let mut out = $name::default();
                        let mut seen = [false; Field::Unknown as usize];
                        while let Some(field) = map.next_key_seed(KeySeed)? {
                            if let Some(s) = seen.get_mut(field as usize) {
                                if *s {
                                    let name = NAMES.get(field as usize).copied().unwrap_or("?");
                                    return Err(de::Error::custom(format_args!("duplicate field `{name}`")));
                                }
                                *s = true;
                            }
                            match field {
                                $(Field::$field => {
                                    out.$field = map.next_value().map_err(|e| nest($key, e))?
                                })*
                                Field::Unknown => {
                                    map.next_value::<IgnoredAny>()?;
                                }
                            }
                        }
                        Ok(out)
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}

raw_object!(RawAuthor, "an author object" {
    kind: Option<CompactString> = "type",
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
    part_type: Option<CompactString> = "part_type",
    created_at: Option<RawTs> = "created_at",
    updated_at: Option<RawTs> = "updated_at",
    body: Body = "body",
    author: Option<RawAuthor> = "author",
    visible: VisibleExt = "visible",
});

raw_object!(RawPartList, "a conversation_part.list object" {
    conversation_parts: Option<PartVec> = "conversation_parts",
});

raw_object!(RawData, "an object" {
    item: Option<Box<RawValue>> = "item",
});

raw_object!(
    /// Every field any record kind reads, in one flat struct.
    RawRecord, "a JSON object" {
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
    part_type: Option<CompactString> = "part_type",
    body: Body = "body",
    author: Option<RawAuthor> = "author",
    visible: VisibleExt = "visible",
    conversation_id: Option<RawId> = "conversation_id",
    // notification_event records
    topic: Option<CompactString> = "topic",
    data: Option<RawData> = "data",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_non_empty_only_for_strings_with_non_white_space() {
        let b = |j: &str| serde_json::from_str::<Body>(j).unwrap().non_empty;
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
    fn tri_distinguishes_absent_null_and_value() {
        #[derive(Deserialize)]
        struct T {
            #[serde(default)]
            f: Tri<RawTs>,
        }
        assert_eq!(serde_json::from_str::<T>("{}").unwrap().f, Tri::Absent);
        assert_eq!(
            serde_json::from_str::<T>("{\"f\":null}").unwrap().f,
            Tri::Null
        );
        assert_eq!(
            serde_json::from_str::<T>("{\"f\":5}").unwrap().f,
            Tri::Value(RawTs(5))
        );
    }
}
