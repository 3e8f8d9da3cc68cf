//! Parsing a `_bulk` response and classifying each item, matched to the
//! request's operations by position (the response's `items` are in request
//! order; `_id`s are not needed and filtered out of the response).

use serde::Deserialize;

use super::batch::Action;

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

/// The final outcome of one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpOutcome {
    /// 2xx: written.
    Written,
    /// 409: Elasticsearch already holds this or a newer version.
    StaleSkipped,
    /// A delete answered 404: nothing to delete.
    AlreadyDeleted,
    /// Appended to the dead-letter file.
    DeadLettered,
}

/// What to do with one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemClass {
    Done(OpOutcome),
    /// 429 or 5xx: send again.
    Retry,
    /// Any other status: dead letter.
    DeadLetter,
}

/// Classifies an item status.
pub fn classify(action: Action, status: u16) -> ItemClass {
    match status {
        200..=299 => ItemClass::Done(OpOutcome::Written),
        409 => ItemClass::Done(OpOutcome::StaleSkipped),
        404 if action == Action::Delete => ItemClass::Done(OpOutcome::AlreadyDeleted),
        429 | 500..=599 => ItemClass::Retry,
        _ => ItemClass::DeadLetter,
    }
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

    #[test]
    fn classifies_statuses() {
        assert_eq!(
            classify(Action::Index, 201),
            ItemClass::Done(OpOutcome::Written)
        );
        assert_eq!(
            classify(Action::Index, 409),
            ItemClass::Done(OpOutcome::StaleSkipped)
        );
        assert_eq!(
            classify(Action::Delete, 409),
            ItemClass::Done(OpOutcome::StaleSkipped)
        );
        assert_eq!(
            classify(Action::Delete, 404),
            ItemClass::Done(OpOutcome::AlreadyDeleted)
        );
        assert_eq!(classify(Action::Index, 404), ItemClass::DeadLetter);
        assert_eq!(classify(Action::Index, 429), ItemClass::Retry);
        assert_eq!(classify(Action::Index, 503), ItemClass::Retry);
        assert_eq!(classify(Action::Index, 400), ItemClass::DeadLetter);
    }
}
