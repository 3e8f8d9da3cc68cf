//! Ids (conversation, part, author, admin, team, workspace): a JSON string kept
//! verbatim or a JSON integer of 64 bits written in decimal (input.md).

use compact_str::CompactString;
use std::cmp::Ordering;

/// An id as it is output: always a string. Short ids are stored inline.
pub type Id = CompactString;

/// An id as read from JSON (`raw.rs` reads it): strings verbatim, 64-bit
/// integers in decimal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawId(pub Id);

/// True when `id` is made only of ASCII digits (at least one).
fn is_numeric(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

/// Digits only, without a leading zero.
fn is_canonical_decimal(id: &[u8]) -> bool {
    matches!(id.first(), Some(b'1'..=b'9')) && id.iter().all(u8::is_ascii_digit)
}

/// Compares two numeric ids by value, of any length.
fn cmp_numeric(a: &str, b: &str) -> Ordering {
    let a_trim = a.trim_start_matches('0');
    let b_trim = b.trim_start_matches('0');
    a_trim
        .len()
        .cmp(&b_trim.len())
        .then_with(|| a_trim.cmp(b_trim))
}

/// The part-id order of metrics.md section 1: numeric ids by value (byte-wise
/// when the values are equal, so `"07" < "7"`), numeric before non-numeric,
/// non-numeric byte-wise.
pub fn cmp_part_ids(a: &str, b: &str) -> Ordering {
    // The usual case, two decimals without leading zeros: by length, then
    // byte-wise (the same order as below, without trimming).
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if is_canonical_decimal(x) && is_canonical_decimal(y) {
        return x.len().cmp(&y.len()).then_with(|| x.cmp(y));
    }
    match (is_numeric(a), is_numeric(b)) {
        (true, true) => cmp_numeric(a, b).then_with(|| a.as_bytes().cmp(b.as_bytes())),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.as_bytes().cmp(b.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_ids_compare_by_value_of_any_length() {
        assert_eq!(cmp_part_ids("9", "10"), Ordering::Less);
        assert_eq!(
            cmp_part_ids("99999999999999999999999", "100000000000000000000000"),
            Ordering::Less
        );
    }

    #[test]
    fn equal_values_compare_byte_wise() {
        assert_eq!(cmp_part_ids("07", "7"), Ordering::Less);
        assert_eq!(cmp_part_ids("7", "07"), Ordering::Greater);
        assert_eq!(cmp_part_ids("0", "00"), Ordering::Less);
    }

    #[test]
    fn numeric_sorts_before_non_numeric_and_non_numeric_byte_wise() {
        assert_eq!(cmp_part_ids("999", "a"), Ordering::Less);
        assert_eq!(cmp_part_ids("a1", "999"), Ordering::Greater);
        assert_eq!(cmp_part_ids("B", "a"), Ordering::Less);
        assert_eq!(cmp_part_ids("-1", "1"), Ordering::Greater);
        assert_eq!(cmp_part_ids("", "0"), Ordering::Greater);
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn decimal_ids_order_by_value_then_byte_wise(a in "[0-9]{1,25}", b in "[0-9]{1,25}") {
            // Value order of decimal strings of any length: fewer significant
            // digits first, then the digits.
            let value = |s: &str| {
                let t = s.trim_start_matches('0');
                (t.len(), t.to_string())
            };
            let expected = value(&a).cmp(&value(&b)).then(a.as_bytes().cmp(b.as_bytes()));
            prop_assert_eq!(cmp_part_ids(&a, &b), expected);
        }
    }
}
