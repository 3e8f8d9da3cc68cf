//! How a URL is shown to people: the one redaction every log line, error,
//! summary and configuration dump goes through, so that no password, API
//! key or token written into a URL is ever printed.
//!
//! Rules (README, "Decisions"):
//! - Anything before the last `@` of the authority part is user info and is
//!   shown as `***`, whatever its shape: `user:pass@`, `:pass@` (no user),
//!   `user@`, raw `@`, `/` or `#` inside a password, no scheme at all
//!   (`elastic:pass@host:9200`), or `//user:pass@host`.
//! - Without an `@`, a text that parses as a URL with a host is shown as
//!   the URL crate writes it; anything else (a fragment of a URL list cut at
//!   a comma inside a password, say) is not shown at all: only
//!   `(a URL that does not parse; not shown)`.

/// The text to print for `raw`, a URL or something that was meant to be one.
pub fn url(raw: &str) -> String {
    let raw = raw.trim();
    let authority_start = match raw.find("://") {
        Some(i) => i + 3,
        None if raw.starts_with("//") => 2,
        None => 0,
    };
    if let Some(at) = raw.rfind('@').filter(|&at| at >= authority_start) {
        return format!("{}***@{}", &raw[..authority_start], &raw[at + 1..]);
    }
    match url::Url::parse(raw) {
        Ok(u) if u.has_host() && u.username().is_empty() && u.password().is_none() => u.to_string(),
        _ => NOT_SHOWN.to_string(),
    }
}

const NOT_SHOWN: &str = "(a URL that does not parse; not shown)";

#[cfg(test)]
mod tests {
    use super::url;

    #[test]
    fn every_user_info_form_is_hidden() {
        let cases = [
            ("http://user:s3cret@host:9200", "http://***@host:9200"),
            ("http://:s3cret@host", "http://***@host"),
            ("https://s3cret@host/", "https://***@host/"),
            ("elastic:s3cret@host:9200", "***@host:9200"),
            ("//elastic:s3cret@host", "//***@host"),
            ("http://u:s3/cr#et@host", "http://***@host"),
            ("http://u:s3@cr@et@host:1/p", "http://***@host:1/p"),
            ("  http://u:s3cret@host  ", "http://***@host"),
        ];
        for (raw, shown) in cases {
            assert_eq!(url(raw), shown, "{raw}");
        }
    }

    #[test]
    fn urls_without_user_info_are_shown_and_fragments_are_not() {
        assert_eq!(url("http://127.0.0.1:9200"), "http://127.0.0.1:9200/");
        assert_eq!(
            url("https://es.example:9243/x"),
            "https://es.example:9243/x"
        );
        assert_eq!(url("http://u:s3"), super::NOT_SHOWN);
        assert_eq!(url("localhost:9200"), super::NOT_SHOWN);
        assert_eq!(url(""), super::NOT_SHOWN);
    }
}
