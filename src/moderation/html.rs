//! Safe HTML rendering of a plain-text message.

use linkify::{LinkFinder, LinkKind};

use super::detect::url_host;
use super::Policy;

/// HTML that is safe to render unescaped: escaped plain text where only allow-listed links
/// become `<a rel="nofollow noopener noreferrer">`, passed through ammonia as a final guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeHtml(String);

impl SafeHtml {
    pub fn from_message(text: &str, policy: &Policy) -> SafeHtml {
        let mut finder = LinkFinder::new();
        finder.kinds(&[LinkKind::Url]);
        let mut html = String::with_capacity(text.len() + 16);
        for span in finder.spans(text) {
            let s = span.as_str();
            let allowed = span.kind() == Some(&LinkKind::Url)
                && (s.starts_with("https://") || s.starts_with("http://"))
                && url_host(s).map(|h| policy.is_allowed_host(&h)).unwrap_or(false);
            if allowed {
                html.push_str("<a href=\"");
                html.push_str(&escape(s));
                html.push_str("\">");
                html.push_str(&escape(s));
                html.push_str("</a>");
            } else {
                html.push_str(&escape(s));
            }
        }
        let clean = ammonia::Builder::default()
            .tags(std::iter::once("a").collect())
            .link_rel(Some("nofollow noopener noreferrer"))
            .url_schemes(["http", "https"].into_iter().collect())
            .clean(&html)
            .to_string();
        SafeHtml(clean)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_links_only_allowed() {
        let p = Policy::builtin();
        let h = SafeHtml::from_message(
            "<script>alert(1)</script> see https://en.wikipedia.org/wiki/X and https://evil.com",
            &p,
        );
        let s = h.as_str();
        assert!(!s.contains("<script"), "{s}");
        assert!(s.contains("&lt;script&gt;"), "{s}");
        assert!(s.contains("<a href=\"https://en.wikipedia.org/wiki/X\" rel=\"nofollow noopener noreferrer\">"), "{s}");
        assert!(!s.contains("href=\"https://evil.com"), "{s}");
    }

    #[test]
    fn javascript_scheme_not_linked() {
        let p = Policy::builtin();
        let s = SafeHtml::from_message("javascript:alert(1)//wikipedia.org", &p).into_string();
        assert!(!s.contains("<a"), "{s}");
    }
}
