//! Status and profile text in both directions. Inbound, remote HTML (a
//! Note's `content`, an actor's `summary`) becomes the plain text Perch
//! stores: tags dropped, paragraphs and line breaks kept as newlines,
//! entities decoded. Outbound, Perch's plain text becomes Mastodon's HTML,
//! escaped, for the API and for activities alike; so nothing a remote
//! server sends is ever shown as markup.

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Plain text as Mastodon's HTML: escaped, line breaks as `<br>`, in `<p>`.
pub fn html(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    format!(
        "<p>{}</p>",
        escape(text).replace("\r\n", "\n").replace('\n', "<br>")
    )
}

/// The text of `html`.
pub fn plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        decode_into(&rest[..open], &mut out);
        let Some(close) = rest[open..].find('>') else {
            // An unclosed tag: the rest is not text.
            rest = "";
            break;
        };
        let tag = rest[open + 1..open + close].trim().to_ascii_lowercase();
        let name = tag
            .trim_end_matches('/')
            .split_whitespace()
            .next()
            .unwrap_or_default();
        match name {
            "br" => out.push('\n'),
            "/p" => out.push_str("\n\n"),
            _ => {}
        }
        rest = &rest[open + close + 1..];
    }
    decode_into(rest, &mut out);
    out.trim().to_owned()
}

/// Appends `text` with its character references decoded (unknown ones
/// are kept as written).
fn decode_into(text: &str, out: &mut String) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after.find(';').filter(|end| *end <= 10).and_then(|end| {
            let name = &after[..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => {
                    let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => name.strip_prefix('#').and_then(|d| d.parse().ok()),
                    };
                    code.and_then(char::from_u32)
                }
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::{html, plain};

    #[test]
    fn text_becomes_safe_html() {
        assert_eq!(
            html("a <b> & \"c\"\nd"),
            "<p>a &lt;b&gt; &amp; &quot;c&quot;<br>d</p>"
        );
        assert_eq!(html(""), "");
    }

    #[test]
    fn mastodon_html_reads_as_text() {
        assert_eq!(
            plain(
                "<p>Hello <span class=\"h-card\"><a href=\"https://x/@a\">@<span>a</span></a></span>!</p><p>Line one<br>two<br />three</p>"
            ),
            "Hello @a!\n\nLine one\ntwo\nthree"
        );
        assert_eq!(
            plain("a &amp; b &lt;c&gt; &#39;d&#x27; &nbsp;e"),
            "a & b <c> 'd'  e"
        );
        assert_eq!(plain("&bogus; & &#xZZ;"), "&bogus; & &#xZZ;");
        assert_eq!(plain("<script>alert(1)</script>x"), "alert(1)x");
        assert_eq!(plain("text <unclosed"), "text");
        assert_eq!(plain(""), "");
        assert_eq!(plain("&#1114112;"), "&#1114112;");
    }
}
