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
