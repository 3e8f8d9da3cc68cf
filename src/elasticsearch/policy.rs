//! What happens on every answer of Elasticsearch, in one table: a bulk
//! request's status, a bulk item's action and status, and a control call's
//! answer (everything that is not a bulk request) each map to a decision.
//! The bulk writer ([`super::bulk::writer`]) and the client's control calls
//! ([`super::client::EsClient::send_retrying`]) only carry decisions out.
//!
//! | answer | decision |
//! |---|---|
//! | bulk: no response (refused, reset, timeout) | retry the request with backoff |
//! | bulk: 200 | read the items (below) |
//! | bulk: 200 with a body that is not a bulk response | retry the request |
//! | bulk: 413 | split in halves; a single operation is a dead letter |
//! | bulk: 429 | retry with backoff and halve the concurrency |
//! | bulk: 502, 503, 504 | retry with backoff |
//! | bulk: 401, 403 | retry with backoff (credentials can be fixed meanwhile) |
//! | bulk: any other status | every operation is a dead letter |
//! | item: 2xx | done: written |
//! | item: 409 | done: stale (Elasticsearch holds this or a newer version) |
//! | item: delete answered 404 | done: already deleted |
//! | item: 429 | retry that item with backoff and halve the concurrency |
//! | item: 5xx | retry that item with backoff |
//! | item: any other status | dead letter, with the engine's error type |
//! | control call: 429, 502, 503, 504 | retry with backoff until the give-up time |
//! | control call: no response, for GET, HEAD, PUT, DELETE | retry with backoff until the give-up time |
//! | control call: anything else | returned to the caller |
//!
//! Every retry waits a capped, jittered exponential backoff ([`super::bulk::retry`])
//! and stops when nothing succeeded for the give-up time.

use super::bulk::batch::Action;
use super::client::Method;

/// What to do with a whole bulk request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestDecision {
    /// Read each item's result.
    ReadItems,
    /// Send the whole request again after a backoff; `backpressure` also
    /// halves the requests in flight.
    Retry { backpressure: bool },
    /// Split the request in halves (a single operation: dead letter).
    Split,
    /// Every operation of the request is a dead letter.
    DeadLetterAll,
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

/// What to do with one item of a bulk response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemDecision {
    Done(OpOutcome),
    /// Send this item again after a backoff; `backpressure` also halves the
    /// requests in flight.
    Retry {
        backpressure: bool,
    },
    DeadLetter,
}

/// What to do with a control call's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlDecision {
    /// Send it again after a backoff, unless the give-up time has passed.
    Retry,
    /// Give the answer to the caller.
    Return,
}

/// A bulk request that got no HTTP response at all.
pub const BULK_NO_RESPONSE: RequestDecision = RequestDecision::Retry {
    backpressure: false,
};

/// A 200 whose body is not a bulk response (or has the wrong item count).
pub const BULK_UNREADABLE: RequestDecision = RequestDecision::Retry {
    backpressure: false,
};

/// A bulk request answered with `status`.
pub fn on_bulk_status(status: u16) -> RequestDecision {
    match status {
        200 => RequestDecision::ReadItems,
        413 => RequestDecision::Split,
        429 => RequestDecision::Retry { backpressure: true },
        502..=504 => RequestDecision::Retry {
            backpressure: false,
        },
        // Credentials can be fixed (or a token refreshed) while we wait;
        // dead-lettering everything would be worse.
        401 | 403 => RequestDecision::Retry {
            backpressure: false,
        },
        _ => RequestDecision::DeadLetterAll,
    }
}

/// A bulk item of `action` answered with `status`.
pub fn on_item(action: Action, status: u16) -> ItemDecision {
    match status {
        200..=299 => ItemDecision::Done(OpOutcome::Written),
        409 => ItemDecision::Done(OpOutcome::StaleSkipped),
        404 if action == Action::Delete => ItemDecision::Done(OpOutcome::AlreadyDeleted),
        429 => ItemDecision::Retry { backpressure: true },
        500..=599 => ItemDecision::Retry {
            backpressure: false,
        },
        _ => ItemDecision::DeadLetter,
    }
}

/// A control call of `method` answered with `status`, or with no response
/// at all (`None`).
pub fn on_control(method: Method, status: Option<u16>) -> ControlDecision {
    match status {
        Some(429 | 502..=504) => ControlDecision::Retry,
        // Without a response the request may or may not have been applied:
        // only methods that may be repeated are sent again.
        None if matches!(
            method,
            Method::Get | Method::Head | Method::Put | Method::Delete
        ) =>
        {
            ControlDecision::Retry
        }
        _ => ControlDecision::Return,
    }
}

#[cfg(test)]
mod tests {
    //! One test per row of the table, each with the answer a real engine
    //! gives (bodies as Elasticsearch 8/9 and OpenSearch 2 write them).
    use super::*;
    use crate::elasticsearch::bulk::response::parse;

    fn bulk_statuses_decide(statuses: &[u16], want: RequestDecision) {
        for &s in statuses {
            assert_eq!(on_bulk_status(s), want, "{s}");
        }
    }

    /// The decision for each item of a real bulk response body.
    fn items(body: &str, actions: &[Action]) -> Vec<ItemDecision> {
        let (_, items) = parse(body.as_bytes(), actions.len()).unwrap();
        items
            .iter()
            .zip(actions)
            .map(|(i, a)| on_item(*a, i.status))
            .collect()
    }

    #[test]
    fn bulk_no_response_retries_the_request() {
        assert_eq!(
            BULK_NO_RESPONSE,
            RequestDecision::Retry {
                backpressure: false
            }
        );
    }

    #[test]
    fn bulk_200_reads_the_items() {
        assert_eq!(on_bulk_status(200), RequestDecision::ReadItems);
    }

    #[test]
    fn bulk_200_that_is_not_a_bulk_response_retries_the_request() {
        assert!(parse(b"<html>proxy error</html>", 1).is_err());
        assert!(parse(br#"{"took":1,"errors":false,"items":[]}"#, 1).is_err());
        assert_eq!(
            BULK_UNREADABLE,
            RequestDecision::Retry {
                backpressure: false
            }
        );
    }

    #[test]
    fn bulk_413_splits_the_request() {
        assert_eq!(on_bulk_status(413), RequestDecision::Split);
    }

    #[test]
    fn bulk_429_retries_and_halves_the_concurrency() {
        // {"error":{"type":"es_rejected_execution_exception",...},"status":429}
        assert_eq!(
            on_bulk_status(429),
            RequestDecision::Retry { backpressure: true }
        );
    }

    #[test]
    fn bulk_502_503_504_retry_without_halving() {
        bulk_statuses_decide(
            &[502, 503, 504],
            RequestDecision::Retry {
                backpressure: false,
            },
        );
    }

    #[test]
    fn bulk_401_403_retry_so_credentials_can_be_fixed() {
        bulk_statuses_decide(
            &[401, 403],
            RequestDecision::Retry {
                backpressure: false,
            },
        );
    }

    #[test]
    fn bulk_other_statuses_dead_letter_every_operation() {
        bulk_statuses_decide(&[400, 404, 405, 500, 501], RequestDecision::DeadLetterAll);
    }

    #[test]
    fn item_2xx_is_written() {
        let body = r#"{"took":3,"errors":false,"items":[{"index":{"_index":"convstats-new-20261201000000","_id":"w:1","_version":7,"result":"created","_shards":{"total":1,"successful":1,"failed":0},"_seq_no":0,"_primary_term":1,"status":201}},{"index":{"_index":"convstats-new-20261201000000","_id":"w:2","_version":7,"result":"updated","status":200}}]}"#;
        assert_eq!(
            items(body, &[Action::Index, Action::Index]),
            vec![ItemDecision::Done(OpOutcome::Written); 2]
        );
    }

    #[test]
    fn item_409_is_stale() {
        let body = r#"{"errors":true,"items":[{"index":{"_index":"i","_id":"w:1","status":409,"error":{"type":"version_conflict_engine_exception","reason":"[w:1]: version conflict, current version [8] is higher or equal to the one provided [7]","index":"i","shard":"0"}}},{"delete":{"_index":"i","_id":"w:2","status":409,"error":{"type":"version_conflict_engine_exception","reason":"[w:2]: version conflict"}}}]}"#;
        assert_eq!(
            items(body, &[Action::Index, Action::Delete]),
            vec![ItemDecision::Done(OpOutcome::StaleSkipped); 2]
        );
    }

    #[test]
    fn item_delete_404_is_already_deleted_and_an_index_404_a_dead_letter() {
        let body = r#"{"errors":true,"items":[{"delete":{"_index":"i","_id":"w:1","_version":9,"result":"not_found","status":404}},{"index":{"_index":"i","_id":"w:2","status":404,"error":{"type":"index_not_found_exception","reason":"no such index [i]"}}}]}"#;
        assert_eq!(
            items(body, &[Action::Delete, Action::Index]),
            vec![
                ItemDecision::Done(OpOutcome::AlreadyDeleted),
                ItemDecision::DeadLetter
            ]
        );
    }

    #[test]
    fn item_429_retries_that_item_and_halves_the_concurrency() {
        let body = r#"{"errors":true,"items":[{"index":{"_index":"i","_id":"w:1","status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=1024, max_coordinating_and_primary_bytes=1]"}}},{"index":{"_index":"i","_id":"w:2","status":201}}]}"#;
        assert_eq!(
            items(body, &[Action::Index, Action::Index]),
            vec![
                ItemDecision::Retry { backpressure: true },
                ItemDecision::Done(OpOutcome::Written)
            ]
        );
    }

    #[test]
    fn item_5xx_retries_that_item() {
        let body = r#"{"errors":true,"items":[{"index":{"_index":"i","_id":"w:1","status":503,"error":{"type":"unavailable_shards_exception","reason":"[i][0] primary shard is not active Timeout: [1m]"}}}]}"#;
        assert_eq!(
            items(body, &[Action::Index]),
            vec![ItemDecision::Retry {
                backpressure: false
            }]
        );
    }

    #[test]
    fn item_other_statuses_are_dead_letters() {
        let body = r#"{"errors":true,"items":[{"index":{"_index":"i","_id":"w:1","status":400,"error":{"type":"strict_dynamic_mapping_exception","reason":"[1:2] mapping set to strict, dynamic introduction of [surprise] within [_doc] is not allowed"}}},{"index":{"_index":"i","_id":"w:2","status":400,"error":{"type":"document_parsing_exception","reason":"[1:30] failed to parse field [started_at] of type [date]"}}}]}"#;
        assert_eq!(
            items(body, &[Action::Index, Action::Index]),
            vec![ItemDecision::DeadLetter; 2]
        );
    }

    #[test]
    fn control_429_502_503_504_retry() {
        for s in [429, 502, 503, 504] {
            assert_eq!(
                on_control(Method::Post, Some(s)),
                ControlDecision::Retry,
                "{s}"
            );
        }
    }

    #[test]
    fn control_no_response_retries_only_methods_that_may_be_repeated() {
        for m in [Method::Get, Method::Head, Method::Put, Method::Delete] {
            assert_eq!(on_control(m, None), ControlDecision::Retry, "{m:?}");
        }
        assert_eq!(on_control(Method::Post, None), ControlDecision::Return);
    }

    #[test]
    fn control_anything_else_is_returned() {
        for s in [200, 201, 400, 401, 403, 404, 409, 413, 500] {
            assert_eq!(
                on_control(Method::Get, Some(s)),
                ControlDecision::Return,
                "{s}"
            );
        }
    }

    fn recorded(name: &str) -> String {
        let path = format!(
            "{}/tests/fixtures/engine/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn a_real_opensearch_answer_decides_like_the_table() {
        // Written, stale (409), unknown field and bad date (400), stale
        // versioned delete (409): tests/fixtures/engine/README.md.
        let body = recorded("opensearch-2.19.6-bulk-errors.json");
        let actions = [
            Action::Index,
            Action::Index,
            Action::Index,
            Action::Index,
            Action::Delete,
        ];
        assert_eq!(
            items(&body, &actions),
            vec![
                ItemDecision::Done(OpOutcome::Written),
                ItemDecision::Done(OpOutcome::StaleSkipped),
                ItemDecision::DeadLetter,
                ItemDecision::DeadLetter,
                ItemDecision::Done(OpOutcome::StaleSkipped),
            ]
        );
        let body = recorded("opensearch-2.19.6-bulk-429.json");
        assert_eq!(
            items(&body, &[Action::Index; 2]),
            vec![ItemDecision::Retry { backpressure: true }; 2]
        );
    }
}
