//! Strict mapping validation as Elasticsearch does it for the field types
//! convstats uses (keyword, long, boolean, date, object).

use serde_json::Value;

/// A failed document, as a bulk item error: (type, reason, caused_by reason).
pub struct ParseError {
    pub kind: String,
    pub reason: String,
    pub caused_by: Option<(String, String)>,
}

/// Validates `source` against `mappings` (the index's `mappings` object).
/// `parse_error_type` is `document_parsing_exception` (ES ≥ 8.8) or
/// `mapper_parsing_exception` (older).
pub fn validate(
    mappings: &Value,
    source: &Value,
    id: &str,
    parse_error_type: &str,
) -> Result<(), ParseError> {
    let Some(obj) = source.as_object() else {
        return Err(ParseError {
            kind: parse_error_type.to_string(),
            reason: "failed to parse, document is empty".into(),
            caused_by: None,
        });
    };
    let dynamic = mappings.get("dynamic").map(dynamic_str).unwrap_or("true");
    let props = mappings.get("properties").unwrap_or(&Value::Null);
    validate_object(props, dynamic, obj, "", "_doc", id, parse_error_type)
}

fn dynamic_str(v: &Value) -> &str {
    match v {
        Value::String(s) => s.as_str(),
        Value::Bool(true) => "true",
        Value::Bool(false) => "false",
        _ => "true",
    }
}

fn validate_object(
    props: &Value,
    dynamic: &str,
    obj: &serde_json::Map<String, Value>,
    prefix: &str,
    within: &str,
    id: &str,
    pet: &str,
) -> Result<(), ParseError> {
    for (key, value) in obj {
        let path = || format!("{prefix}{key}");
        match props.get(key) {
            None => {
                if dynamic == "strict" {
                    return Err(ParseError {
                        kind: "strict_dynamic_mapping_exception".into(),
                        reason: format!(
                            "[1:2] mapping set to strict, dynamic introduction of [{key}] within [{within}] is not allowed"
                        ),
                        caused_by: None,
                    });
                }
            }
            Some(field) => {
                let ty = field
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("object");
                if ty == "object" {
                    match value {
                        Value::Null => {}
                        Value::Object(inner) => {
                            let inner_dynamic =
                                field.get("dynamic").map(dynamic_str).unwrap_or(dynamic);
                            let inner_props =
                                field.get("properties").cloned().unwrap_or(Value::Null);
                            validate_object(
                                &inner_props,
                                inner_dynamic,
                                inner,
                                &format!("{}.", path()),
                                key,
                                id,
                                pet,
                            )?;
                        }
                        _ => {
                            return Err(ParseError {
                                kind: pet.to_string(),
                                reason: format!(
                                    "[1:2] object mapping for [{}] tried to parse field [{key}] as object, but found a concrete value",
                                    path()
                                ),
                                caused_by: None,
                            });
                        }
                    }
                    continue;
                }
                let format = field
                    .get("format")
                    .and_then(Value::as_str)
                    .unwrap_or("strict_date_optional_time||epoch_millis");
                let values: &[Value] = match value {
                    Value::Array(items) => items,
                    v => std::slice::from_ref(v),
                };
                for v in values {
                    if let Err(cause) = check_value(ty, format, v) {
                        return Err(ParseError {
                            kind: pet.to_string(),
                            reason: format!(
                                "[1:2] failed to parse field [{}] of type [{ty}] in document with id '{id}'. Preview of field's value: '{}'",
                                path(),
                                preview(v)
                            ),
                            caused_by: Some(("illegal_argument_exception".into(), cause)),
                        });
                    }
                }
            }
        }
    }
    Ok(())
}

fn preview(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn check_value(ty: &str, format: &str, v: &Value) -> Result<(), String> {
    if v.is_null() {
        return Ok(());
    }
    match ty {
        "keyword" => match v {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => Ok(()),
            _ => Err("keyword fields take strings".into()),
        },
        "long" => match v {
            Value::Number(n) => {
                if n.is_i64() {
                    Ok(())
                } else if n.is_u64() {
                    Err(format!("Value [{n}] is out of range for a long"))
                } else {
                    // coerce: a float is truncated when in range
                    let f = n.as_f64().unwrap_or(f64::NAN);
                    if f.is_finite() && f.abs() < 9.2e18 {
                        Ok(())
                    } else {
                        Err(format!("Value [{n}] is out of range for a long"))
                    }
                }
            }
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(|_| ())
                .map_err(|_| format!("For input string: \"{s}\"")),
            Value::Bool(_) => Err(
                "Current token (VALUE_TRUE) not numeric, can not use numeric value accessors"
                    .into(),
            ),
            _ => Err("not a number".into()),
        },
        "boolean" => match v {
            Value::Bool(_) => Ok(()),
            Value::String(s) if s == "true" || s == "false" || s.is_empty() => Ok(()),
            _ => Err(format!(
                "Failed to parse value [{}] as only [true] or [false] are allowed.",
                preview(v)
            )),
        },
        "date" => {
            if date_ok(format, v) {
                Ok(())
            } else {
                Err(format!(
                    "failed to parse date field [{}] with format [{format}]",
                    preview(v)
                ))
            }
        }
        other => Err(format!("the double does not support field type [{other}]")),
    }
}

fn date_ok(format: &str, v: &Value) -> bool {
    format.split("||").any(|f| match f {
        "strict_date_optional_time" | "date_optional_time" => {
            v.as_str().is_some_and(|s| parse_iso(s).is_some())
        }
        "epoch_second" | "epoch_millis" => match v {
            Value::Number(n) => n.is_i64() || n.is_f64(),
            Value::String(s) => s.parse::<f64>().is_ok(),
            _ => false,
        },
        _ => false,
    })
}

/// Epoch milliseconds of an ISO 8601 date/date-time (the strict forms
/// Elasticsearch's `strict_date_optional_time` accepts that convstats uses).
pub fn parse_iso(s: &str) -> Option<i64> {
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_millis());
    }
    if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(dt.and_utc().timestamp_millis());
    }
    if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M") {
        return Some(dt.and_utc().timestamp_millis());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d
            .and_hms_opt(0, 0, 0)
            .map(|dt| dt.and_utc().timestamp_millis());
    }
    None
}

/// A date field value as epoch milliseconds (for range and sort).
pub fn date_millis(format: &str, v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => parse_iso(s).or_else(|| {
            let n: f64 = s.parse().ok()?;
            Some(if format.contains("epoch_second") {
                (n * 1000.0) as i64
            } else {
                n as i64
            })
        }),
        Value::Number(n) => {
            let n = n.as_f64()?;
            Some(if format.contains("epoch_second") {
                (n * 1000.0) as i64
            } else {
                n as i64
            })
        }
        _ => None,
    }
}
