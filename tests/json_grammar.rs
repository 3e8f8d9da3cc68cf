//! The line reader (`record/scan.rs`) accepts exactly the JSON that
//! serde_json accepts: serde_json is the oracle. A value placed in a field
//! records do not read must leave the line accepted when serde_json accepts
//! the value, and rejected when it does not.

use convstats::record::parse_line;
use proptest::prelude::*;
use serde::de::IgnoredAny;

/// Places `value` in unread fields at the top level and inside a part.
fn lines_with(value: &[u8]) -> Vec<Vec<u8>> {
    let mut top = br#"{"type":"conversation","id":1,"created_at":1,"x":"#.to_vec();
    top.extend_from_slice(value);
    top.push(b'}');
    let mut part = br#"{"type":"conversation","id":1,"created_at":1,"conversation_parts":{"conversation_parts":[{"id":1,"part_type":"note","created_at":2,"author":{"type":"admin","name":"#.to_vec();
    part.extend_from_slice(value);
    part.extend_from_slice(br#"},"notified_at":"#);
    part.extend_from_slice(value);
    part.extend_from_slice(b"}]}}");
    vec![top, part]
}

fn check(value: &[u8]) -> Result<(), TestCaseError> {
    // A raw line break would end the line before the reader sees it.
    if value.contains(&b'\n') {
        return Ok(());
    }
    let serde_accepts = serde_json::from_slice::<IgnoredAny>(value).is_ok();
    for line in lines_with(value) {
        let ours = parse_line(&line);
        prop_assert_eq!(
            ours.is_ok(),
            serde_accepts,
            "value {:?}: ours {:?}",
            String::from_utf8_lossy(value),
            ours.err()
        );
    }
    Ok(())
}

/// Fragments that make JSON and almost-JSON when strung together.
fn fragment() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "{", "}", "[", "]", ",", ":", "\"", "\"k\"", "\"v\"", "\\", "\\u", "00e9", "\\ud83d",
        "\\ude00", "\\n", "\\x", "0", "1", "-", ".", "e", "E", "+", "12", "01", "true", "fals",
        "null", "nul", " ", "\t", "\r", "\u{1}", "é", "\u{ff}", "a",
    ])
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|v| serde_json::json!(v)),
        any::<f64>()
            .prop_filter("finite", |v| v.is_finite())
            .prop_map(|v| serde_json::json!(v)),
        "[a-z\"\\\\\u{e9}\u{1F600}\u{7f}]{0,8}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("[a-z\"]{0,4}", inner, 0..5)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn strung_fragments_are_accepted_exactly_when_serde_json_accepts_them(
        parts in prop::collection::vec(fragment(), 1..12)
    ) {
        check(parts.concat().as_bytes())?;
    }

    #[test]
    fn valid_json_is_accepted_and_each_mutation_judged_like_serde_json(
        value in json_value(),
        pretty in any::<bool>(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<bool>(),
    ) {
        let text = if pretty {
            serde_json::to_vec_pretty(&value)
        } else {
            serde_json::to_vec(&value)
        }
        .unwrap()
        .into_iter()
        .map(|b| if b == b'\n' { b' ' } else { b })
        .collect::<Vec<u8>>();
        check(&text)?;
        let mut mutated = text.clone();
        let i = at.index(mutated.len());
        if cut {
            mutated.truncate(i);
        } else {
            mutated[i] = byte;
        }
        check(&mutated)?;
    }
}

#[test]
fn the_edges_of_the_grammar_match_serde_json() {
    for value in [
        "1",
        "-1",
        "-0",
        "0.5",
        "1e9",
        "1E+9",
        "1e-9",
        "-0.0e0",
        "01",
        "-01",
        "1.",
        ".5",
        "+1",
        "1e",
        "--1",
        "0x10",
        "\"\"",
        "\"\\u0000\"",
        "\"\\uD800\"",
        "\"\\uDC00\\uD800\"",
        "\"\\u00g0\"",
        "\"\\/\"",
        "\"\\'\"",
        "[1,]",
        "{\"a\":1,}",
        "[,1]",
        "{,}",
        "{\"a\" 1}",
        "{\"a\":1 \"b\":2}",
        "[1 2]",
        "[[[[[[]]]]]]",
        "[[[[[[]]]]]",
        "{\"a\":{\"b\":{}}}",
        "truex",
        "nulll",
        "[true false]",
        "\"\t\"",
        "\"a\u{7f}b\"",
        "1 ",
        " 1",
        "99999999999999999999999999",
        "-99999999999999999999999999",
    ] {
        check(value.as_bytes()).unwrap();
    }
    check(b"\"\xff\xfe\"").unwrap();
}

/// Writes `v` as JSON, escaping the characters `escape` picks as `\uXXXX`
/// (surrogate pairs beyond the BMP) in keys and strings, with `pad` spaces
/// around every token.
fn reencode(v: &serde_json::Value, escape: &dyn Fn(char) -> bool, pad: &str, out: &mut String) {
    fn string(s: &str, escape: &dyn Fn(char) -> bool, out: &mut String) {
        out.push('"');
        for c in s.chars() {
            let short = match c {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                '\n' => Some("\\n"),
                '/' if escape(c) => Some("\\/"),
                _ => None,
            };
            if let Some(short) = short {
                out.push_str(short);
            } else if escape(c) || c < ' ' {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            } else {
                out.push(c);
            }
        }
        out.push('"');
    }
    out.push_str(pad);
    match v {
        serde_json::Value::String(s) => string(s, escape, out),
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                reencode(item, escape, pad, out);
            }
            out.push_str(pad);
            out.push(']');
        }
        serde_json::Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(pad);
                string(k, escape, out);
                out.push_str(pad);
                out.push(':');
                reencode(item, escape, pad, out);
            }
            out.push_str(pad);
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
    out.push_str(pad);
}

/// Real lines: the shipped examples, Intercom's own examples and `gen`.
fn sample_lines() -> &'static [String] {
    static LINES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    LINES.get_or_init(read_sample_lines)
}

fn read_sample_lines() -> Vec<String> {
    let mut lines: Vec<String> = [
        include_str!("../examples/conversations.ndjson"),
        include_str!("fixtures/intercom-openapi-conversations.ndjson"),
    ]
    .iter()
    .flat_map(|text| text.lines().map(str::to_string))
    .collect();
    let mut generated = Vec::new();
    let params = convstats::synth::GenParams {
        conversations: 40,
        seed: 7,
        ..Default::default()
    };
    convstats::synth::write_all(&params, &mut generated).unwrap();
    lines.extend(
        String::from_utf8(generated)
            .unwrap()
            .lines()
            .map(str::to_string),
    );
    lines.retain(|l| serde_json::from_str::<serde_json::Value>(l).is_ok());
    lines
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn escapes_and_white_space_never_change_what_a_line_means(
        pick in any::<prop::sample::Index>(),
        every in 1u32..6,
        salt in any::<u32>(),
        pad in prop::sample::select(vec!["", " ", "\t", " \r "]),
    ) {
        let lines = sample_lines();
        let line = &lines[pick.index(lines.len())];
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        // Escape roughly one character in `every`, chosen by `salt`.
        let escape = |c: char| (c as u32).wrapping_mul(2_654_435_761).wrapping_add(salt) % every == 0;
        let mut text = String::new();
        reencode(&value, &escape, pad, &mut text);
        let plain = serde_json::to_string(&value).unwrap();
        let original = parse_line(plain.as_bytes());
        let changed = parse_line(text.as_bytes());
        prop_assert_eq!(original.is_ok(), changed.is_ok(), "{} vs {}: {:?} / {:?}", plain, text, original, changed);
        if let (Ok(a), Ok(b)) = (original, changed) {
            prop_assert_eq!(a, b, "{}", text);
        }
    }
}

#[test]
fn a_key_that_names_no_field_is_skipped_even_when_it_does_not_decode() {
    for key in [
        &br#""\ud800""#[..],
        br#""\udc00\u0041""#,
        b"\"\xff\xfe\"",
        br#""typ\u0065x""#,
    ] {
        let mut line = br#"{"type":"conversation","id":1,"created_at":1,"#.to_vec();
        line.extend_from_slice(key);
        line.extend_from_slice(b":5}");
        assert!(
            parse_line(&line).is_ok(),
            "{}",
            String::from_utf8_lossy(&line)
        );
    }
    // An escaped key that does name a field is that field.
    let line = br#"{"type":"conversation","id":1,"created_at":1,"st\u0061te":5}"#;
    assert!(parse_line(line).unwrap_err().starts_with("state:"));
}
