//! The composable index templates of `mappings/` (embedded at build time),
//! rendered for a given alias (`{{alias}}` is replaced), applied with
//! `PUT _index_template/<alias>`, and the field list they map — used by the
//! mapping-coverage tests and by backfill to restore index settings.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

use super::client::{EsClient, Method};
use super::config::Aliases;
use super::error::EsError;

/// A document family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    New,
    Legacy,
}

impl Family {
    pub const ALL: [Family; 2] = [Family::New, Family::Legacy];

    pub fn name(self) -> &'static str {
        match self {
            Family::New => "new",
            Family::Legacy => "legacy",
        }
    }

    /// The template file's text, `{{alias}}` not yet replaced.
    pub fn template_source(self) -> &'static str {
        match self {
            Family::New => include_str!("../../mappings/convstats-new.json"),
            Family::Legacy => include_str!("../../mappings/convstats-legacy.json"),
        }
    }
}

const PLACEHOLDER: &str = "{{alias}}";

/// The template body for `alias` (index pattern `<alias>-*`).
pub fn render(family: Family, alias: &str) -> Result<Value, EsError> {
    // The alias is JSON-escaped before substitution so that any name renders
    // to valid JSON.
    let escaped = serde_json::to_string(alias)
        .map_err(|e| EsError::Internal(format!("escaping alias {alias:?}: {e}")))?;
    let escaped = &escaped[1..escaped.len() - 1];
    let text = family.template_source().replace(PLACEHOLDER, escaped);
    serde_json::from_str(&text).map_err(|e| {
        EsError::Internal(format!(
            "mappings/convstats-{}.json is not valid JSON after substitution: {e}",
            family.name()
        ))
    })
}

/// The parts of a template file convstats reads back.
#[derive(Debug, Deserialize)]
struct TemplateFile {
    template: Template,
}

#[derive(Debug, Deserialize)]
struct Template {
    settings: TemplateSettings,
    mappings: Mappings,
}

#[derive(Debug, Deserialize)]
struct TemplateSettings {
    index: SteadySettings,
}

#[derive(Debug, Deserialize)]
struct Mappings {
    properties: BTreeMap<String, FieldMapping>,
}

#[derive(Debug, Deserialize)]
struct FieldMapping {
    #[serde(rename = "type")]
    kind: String,
}

/// The index settings a backfill loads without (no refresh, no replicas)
/// and restores from the template afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SteadySettings {
    pub refresh_interval: String,
    pub number_of_replicas: u32,
}

/// A `PUT <index>/_settings` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingsBody {
    pub index: SteadySettings,
}

fn parsed(family: Family) -> Result<Template, EsError> {
    serde_json::from_value::<TemplateFile>(render(family, "x")?)
        .map(|f| f.template)
        .map_err(|e| {
            EsError::Internal(format!(
                "mappings/convstats-{}.json lacks what convstats reads back: {e}",
                family.name()
            ))
        })
}

/// The mapped fields and their types, in name order.
pub fn mapped_fields(family: Family) -> Vec<(String, String)> {
    parsed(family)
        .map(|t| {
            t.mappings
                .properties
                .into_iter()
                .map(|(k, p)| (k, p.kind))
                .collect()
        })
        .unwrap_or_default()
}

/// The template's `refresh_interval` and `number_of_replicas` (what backfill
/// restores after loading).
pub fn steady_settings(family: Family) -> Result<SettingsBody, EsError> {
    Ok(SettingsBody {
        index: parsed(family)?.settings.index,
    })
}

/// Checks one document against the family's mapping the way Elasticsearch's
/// strict mapping would: every field mapped, every value compatible.
/// Returns the list of problems (empty when the document fits).
pub fn check_document(family: Family, doc: &Value) -> Vec<String> {
    let fields = mapped_fields(family);
    let mut problems = Vec::new();
    let Some(obj) = doc.as_object() else {
        return vec!["document is not a JSON object".into()];
    };
    for (key, value) in obj {
        match fields.iter().find(|(name, _)| name == key) {
            None => problems.push(format!("field {key} is not mapped")),
            Some((_, ty)) => {
                if !value_fits(ty, value) {
                    problems.push(format!("field {key} of type {ty} cannot hold {value}"));
                }
            }
        }
    }
    problems
}

fn value_fits(ty: &str, value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.iter().all(|v| !v.is_array() && value_fits(ty, v)),
        _ => match ty {
            "keyword" => value.is_string() || value.is_number() || value.is_boolean(),
            "boolean" => {
                value.is_boolean() || matches!(value.as_str(), Some("true" | "false" | ""))
            }
            "long" => value.is_i64() || value.is_u64(),
            "date" => {
                value
                    .as_str()
                    .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok())
                    || value.is_i64()
            }
            _ => false,
        },
    }
}

/// `PUT _index_template/<alias>` for both families.
pub async fn apply(client: &EsClient, aliases: &Aliases) -> Result<(), EsError> {
    for family in Family::ALL {
        let alias = aliases.get(family);
        let body = render(family, alias)?;
        let path = format!("/_index_template/{alias}");
        client
            .json_ok(
                Method::Put,
                &path,
                &[],
                Some(&body),
                &format!("applying index template {alias}"),
            )
            .await?;
        tracing::info!(template = alias, "index template applied");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_templates_read_back_their_steady_settings_and_fields() {
        for family in Family::ALL {
            let s = steady_settings(family).expect("template reads back");
            assert_eq!(s.index.refresh_interval, "1s");
            assert_eq!(s.index.number_of_replicas, 1);
            let fields = mapped_fields(family);
            assert!(
                fields
                    .iter()
                    .any(|(f, t)| f == "workspace_id" && t == "keyword")
            );
        }
    }
}
