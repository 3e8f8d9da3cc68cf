//! What differs between Elasticsearch (8.x, 9.x) and OpenSearch (2.x) for
//! convstats, told apart by `GET /` (`version.distribution`): the
//! point-in-time routes, bodies and id fields, and the names of the errors
//! a reader of dead letters meets. Everything else convstats sends (bulk,
//! index templates, aliases, external versions, `search_after`,
//! `filter_path`) is the same on both.

use serde::Deserialize;
use serde_json::{Value, json};

use super::client::ClusterInfo;

/// The search engine behind a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    Elasticsearch,
    OpenSearch,
}

/// The answer to opening a point in time: `id` on Elasticsearch, `pit_id`
/// on OpenSearch.
#[derive(Debug, Deserialize)]
struct PitOpened {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    pit_id: Option<String>,
}

impl Product {
    pub fn of(info: &ClusterInfo) -> Product {
        match info.distribution.as_str() {
            "opensearch" => Product::OpenSearch,
            _ => Product::Elasticsearch,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Product::Elasticsearch => "Elasticsearch",
            Product::OpenSearch => "OpenSearch",
        }
    }

    /// The path that opens a point in time on `index` (with a `keep_alive`
    /// query parameter).
    pub fn open_pit_path(self, index: &str) -> String {
        match self {
            Product::Elasticsearch => format!("/{index}/_pit"),
            Product::OpenSearch => format!("/{index}/_search/point_in_time"),
        }
    }

    /// The point-in-time id in the answer to [`Product::open_pit_path`].
    pub fn opened_pit_id(self, body: &Value) -> Option<String> {
        let opened = PitOpened::deserialize(body).ok()?;
        match self {
            Product::Elasticsearch => opened.id,
            Product::OpenSearch => opened.pit_id,
        }
    }

    /// The `DELETE` path and body that close the point in time `id`.
    pub fn close_pit(self, id: &str) -> (&'static str, Value) {
        match self {
            Product::Elasticsearch => ("/_pit", json!({ "id": id })),
            Product::OpenSearch => ("/_search/point_in_time", json!({ "pit_id": [id] })),
        }
    }

    /// The error type of a value a strict mapping cannot parse (a bad date,
    /// a string in a `long`).
    pub fn document_parse_error(self) -> &'static str {
        match self {
            Product::Elasticsearch => "document_parsing_exception",
            Product::OpenSearch => "mapper_parsing_exception",
        }
    }

    /// The error type of a write a full thread pool rejected (an item-level
    /// 429).
    pub fn rejected_execution_error(self) -> &'static str {
        match self {
            Product::Elasticsearch => "es_rejected_execution_exception",
            Product::OpenSearch => "rejected_execution_exception",
        }
    }
}

#[cfg(test)]
mod tests {
    //! Against answers recorded from the engines: OpenSearch 2.19.6 run here
    //! (`scripts/opensearch`), Elasticsearch from its API reference
    //! (`tests/fixtures/engine/README.md` says which is which).
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/tests/fixtures/engine/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn info(banner: &Value) -> ClusterInfo {
        ClusterInfo {
            cluster_name: banner["cluster_name"].as_str().unwrap_or_default().into(),
            version: banner["version"]["number"]
                .as_str()
                .unwrap_or_default()
                .into(),
            distribution: banner["version"]["distribution"]
                .as_str()
                .unwrap_or("elasticsearch")
                .into(),
        }
    }

    #[test]
    fn the_banner_tells_opensearch_from_elasticsearch() {
        let os = info(&fixture("opensearch-2.19.6-banner.json"));
        assert_eq!(Product::of(&os), Product::OpenSearch);
        assert_eq!(os.major(), 2);
        let es = info(&fixture("elasticsearch-9-banner.json"));
        assert_eq!(Product::of(&es), Product::Elasticsearch);
        assert_eq!(es.major(), 9);
    }

    #[test]
    fn each_product_opens_a_point_in_time_on_its_own_route_and_names_the_id_its_way() {
        assert_eq!(
            Product::OpenSearch.open_pit_path("i"),
            "/i/_search/point_in_time"
        );
        assert_eq!(Product::Elasticsearch.open_pit_path("i"), "/i/_pit");
        let os = fixture("opensearch-2.19.6-pit-open.json");
        let id = Product::OpenSearch.opened_pit_id(&os).expect("pit_id");
        assert!(id.starts_with("69qFQQ"), "{id}");
        assert_eq!(Product::Elasticsearch.opened_pit_id(&os), None);
        let es = fixture("elasticsearch-9-pit-open.json");
        assert!(Product::Elasticsearch.opened_pit_id(&es).is_some());
        assert_eq!(Product::OpenSearch.opened_pit_id(&es), None);
    }

    #[test]
    fn each_product_closes_a_point_in_time_its_way() {
        assert_eq!(
            Product::OpenSearch.close_pit("p"),
            ("/_search/point_in_time", json!({"pit_id": ["p"]}))
        );
        assert_eq!(
            Product::Elasticsearch.close_pit("p"),
            ("/_pit", json!({"id": "p"}))
        );
        let closed = fixture("opensearch-2.19.6-pit-close.json");
        assert_eq!(closed["pits"][0]["successful"], true);
    }

    #[test]
    fn a_bad_date_is_reported_under_each_product_s_error_name() {
        let os = fixture("opensearch-2.19.6-bulk-errors.json");
        let types: Vec<&str> = os["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i.as_object()?.values().next()?["error"]["type"].as_str())
            .collect();
        assert!(
            types.contains(&Product::OpenSearch.document_parse_error()),
            "{types:?}"
        );
        assert!(
            types.contains(&"strict_dynamic_mapping_exception"),
            "{types:?}"
        );
        assert_eq!(
            Product::Elasticsearch.document_parse_error(),
            "document_parsing_exception"
        );
    }

    #[test]
    fn a_full_write_pool_is_reported_under_each_product_s_error_name() {
        let os = fixture("opensearch-2.19.6-bulk-429.json");
        let text = os.to_string();
        assert!(
            text.contains(Product::OpenSearch.rejected_execution_error()),
            "{text}"
        );
        assert!(!text.contains(Product::Elasticsearch.rejected_execution_error()));
    }
}
