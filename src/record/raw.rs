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

#[derive(Debug, Deserialize)]
#[serde(expecting = "an author object")]
pub struct RawAuthor {
    #[serde(rename = "type")]
    pub kind: Option<CompactString>,
    pub id: Option<RawId>,
    #[serde(default)]
    pub from_ai_agent: TrueFlag,
    #[serde(default)]
    pub is_ai_answer: TrueFlag,
}

#[derive(Debug, Deserialize)]
#[serde(expecting = "a source object")]
pub struct RawSource {
    #[serde(default)]
    pub delivered_as: LenientStr,
    pub author: Option<RawAuthor>,
    #[serde(default)]
    pub created_at: Tri<RawTs>,
}

#[derive(Debug, Deserialize)]
#[serde(expecting = "a conversation part object")]
pub struct RawPart {
    pub id: Option<RawId>,
    pub part_type: Option<CompactString>,
    pub created_at: Option<RawTs>,
    pub updated_at: Option<RawTs>,
    #[serde(default)]
    pub body: Body,
    pub author: Option<RawAuthor>,
    #[serde(default)]
    pub visible: VisibleExt,
}

#[derive(Debug, Deserialize)]
#[serde(expecting = "a conversation_part.list object")]
pub struct RawPartList {
    pub conversation_parts: Option<Vec<RawPart>>,
}

#[derive(Debug, Deserialize)]
#[serde(expecting = "an object")]
pub struct RawData<'a> {
    #[serde(borrow)]
    pub item: Option<&'a RawValue>,
}

/// Every field any record kind reads, in one flat struct.
#[derive(Debug, Deserialize)]
#[serde(expecting = "a JSON object")]
pub struct RawRecord<'a> {
    #[serde(rename = "type")]
    pub kind: Option<CompactString>,
    pub id: Option<RawId>,
    pub created_at: Option<RawTs>,
    pub updated_at: Option<RawTs>,
    #[serde(default)]
    pub state: Tri<CompactString>,
    #[serde(default)]
    pub admin_assignee_id: Tri<RawId>,
    #[serde(default)]
    pub team_assignee_id: Tri<RawId>,
    #[serde(default)]
    pub source: Tri<RawSource>,
    pub conversation_parts: Option<RawPartList>,
    pub workspace_id: Option<RawId>,
    pub app_id: Option<RawId>,
    #[serde(default)]
    pub message_type: Tri<LenientStr>,
    // conversation_part records
    pub part_type: Option<CompactString>,
    #[serde(default)]
    pub body: Body,
    pub author: Option<RawAuthor>,
    #[serde(default)]
    pub visible: VisibleExt,
    pub conversation_id: Option<RawId>,
    // notification_event records
    pub topic: Option<CompactString>,
    #[serde(borrow)]
    pub data: Option<RawData<'a>>,
}

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
