//! [`Secret`]: the redacting wrapper every credential lives in (Elasticsearch
//! passwords, API keys and tokens; later `serve`'s bearer token and webhook
//! secret). Nothing but [`Secret::expose`] shows its value.

use std::fmt;
use std::path::Path;

/// A credential. `Debug`, `Display` and `Serialize` print `***`; only
/// [`Secret::expose`] gives the value, and only the client calls it.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// Reads a secret from an environment variable; `None` when unset or empty.
    pub fn from_env(var: &str) -> Option<Self> {
        std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .map(Secret)
    }

    /// Reads a secret from a file (trailing newline removed); the error
    /// names the file.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the secret file {}: {e}", path.display()))?;
        Ok(Secret(text.trim_end_matches(['\r', '\n']).to_string()))
    }

    /// The secret's value. Never log or format it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}
