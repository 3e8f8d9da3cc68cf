//! How a URL is shown to people: the one redaction every log line, error,
//! summary and configuration dump goes through, so that no password, API
//! key or token written into a URL is ever printed.
//!
//! Rules (README, "Decisions"):
//! - Anything before the last `@` of the authority part is user info and is
//!   shown as `***`, whatever its shape: `user:pass@`, `:pass@` (no user),
//!   `user@`, raw `@`, `/` or `#` inside a password, no scheme at all
//!   (`elastic:pass@host:9200`), or `//user:pass@host`. What follows is
//!   shown only when it reads as a host (and port and path).
//! - Without an `@`, a text that parses as a URL with a host is shown as
//!   the URL crate writes it; anything else (a fragment of a URL list cut at
//!   a comma inside a password, say) is not shown at all: only
//!   `(a URL that does not parse; not shown)`.

/// The text to print for `raw`, a URL or something that was meant to be one.
pub fn url(raw: &str) -> String {
    let raw = raw.trim();
    // A "://" counts only after a real scheme (RFC 3986: a letter, then
    // letters, digits, '+', '-' or '.'): a password may hold "://" itself.
    let authority_start = match raw.find("://").filter(|&i| is_scheme(&raw[..i])) {
        Some(i) => i + 3,
        None if raw.starts_with("//") => 2,
        None => 0,
    };
    if let Some(at) = raw.rfind('@').filter(|&at| at >= authority_start) {
        // What follows is shown only when it reads as a host: a text cut out
        // of a longer one may have its last '@' inside the password.
        let rest = &raw[at + 1..];
        let host_like = url::Url::parse(&format!("http://{rest}")).is_ok_and(|u| u.has_host());
        return if host_like {
            format!("{}***@{rest}", &raw[..authority_start])
        } else {
            format!("{}***@(not shown)", &raw[..authority_start])
        };
    }
    match url::Url::parse(raw) {
        Ok(u) if u.has_host() && u.username().is_empty() && u.password().is_none() => u.to_string(),
        _ => NOT_SHOWN.to_string(),
    }
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// `text` with every `http://` or `https://` URL in it redacted by [`url`]
/// (for messages of other libraries that quote the URL they used).
pub fn text(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(found) = ["http://", "https://"]
        .iter()
        .filter_map(|p| lower[i..].find(p))
        .min()
    {
        let start = i + found;
        let len = text[start..]
            .find(|c: char| c.is_whitespace() || "()<>\"'`".contains(c))
            .unwrap_or(text.len() - start);
        out.push_str(&text[i..start]);
        out.push_str(&url(&text[start..start + len]));
        i = start + len;
    }
    out.push_str(&text[i..]);
    out
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
            ("http://:s3cr@##*0", "http://***@(not shown)"),
            ("  http://u:s3cret@host  ", "http://***@host"),
            ("elastic:s3=A://*x@127.0.0.1:1", "***@127.0.0.1:1"),
            ("http://u:a://b@host", "http://***@host"),
        ];
        for (raw, shown) in cases {
            assert_eq!(url(raw), shown, "{raw}");
        }
    }

    #[test]
    fn urls_inside_a_message_are_redacted_and_the_rest_kept() {
        assert_eq!(
            super::text("error sending request for url (http://u:pw@h:1/): refused"),
            "error sending request for url (http://***@h:1/): refused"
        );
        assert_eq!(super::text("no url here"), "no url here");
        assert_eq!(
            super::text("HTTPS://a/b@c x https://d/"),
            "HTTPS://***@c x https://d/"
        );
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
