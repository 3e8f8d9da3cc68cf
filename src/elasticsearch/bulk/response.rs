//! Parsing a `_bulk` response into its items, matched to the request's
//! operations by position (what each item means is [`crate::elasticsearch::policy`]) (the response's `items` are in request
//! order; `_id`s are not needed and filtered out of the response).

use serde::Deserialize;

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    errors: bool,
    #[serde(default)]
    items: Vec<ItemWrap>,
}

#[derive(Deserialize)]
struct ItemWrap {
    #[serde(alias = "index", alias = "create", alias = "delete", alias = "update")]
    op: Item,
}

/// One item's result.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Item {
    pub status: u16,
    #[serde(default)]
    pub error: Option<ItemError>,
}

/// An item's `error` object (type and reason only).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
pub struct ItemError {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub reason: String,
}

/// Parses a 200 response; `expected` is the number of operations sent.
/// Fails when the body is not a bulk response or the item count differs
/// (items cannot then be matched by position).
pub fn parse(body: &[u8], expected: usize) -> Result<(bool, Vec<Item>), String> {
    let parsed: Body = serde_json::from_slice(body)
        .map_err(|e| format!("bulk response is not valid JSON ({e})"))?;
    if parsed.items.len() != expected {
        return Err(format!(
            "bulk response has {} items for {} operations",
            parsed.items.len(),
            expected
        ));
    }
    Ok((
        parsed.errors,
        parsed.items.into_iter().map(|w| w.op).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_items_by_position() {
        let body = br#"{"errors":true,"items":[{"index":{"status":201}},{"delete":{"status":404}},{"index":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"r"}}},{"create":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"busy"}}}]}"#;
        let (errors, items) = parse(body, 4).unwrap();
        assert!(errors);
        assert_eq!(items[1].status, 404);
        assert_eq!(
            items[2].error.as_ref().unwrap().kind,
            "version_conflict_engine_exception"
        );
        assert!(parse(body, 3).is_err());
    }
}
