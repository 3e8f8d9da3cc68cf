//! Test support shared by the integration tests (`mod support;`): the
//! Elasticsearch protocol double and small helpers.
#![allow(dead_code, unused_imports)]

pub mod docs;
pub mod es_double;
pub mod logs;
pub mod targets;

pub use es_double::{EsDouble, RecordedRequest};
