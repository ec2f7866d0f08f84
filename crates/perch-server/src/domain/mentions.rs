//! The accounts a status names: `@name` or `@name@this.domain`, as
//! Mastodon finds them (an `@` at the start or after a character that is
//! not a letter, digit, `_` or `/`, so `a@b.c` and `https://x/@y` name no
//! one). Names of other domains are left for federation.

/// At most this many accounts are notified per status (Mastodon has no
/// cap; this bounds the work one post can cause).
pub const MAX_MENTIONS: usize = 50;

/// The lower-case user names `text` mentions on `domain`, each once, in the
/// order they first appear, at most [`MAX_MENTIONS`].
pub fn parse(text: &str, domain: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() && found.len() < MAX_MENTIONS {
        let starts = chars[i] == '@'
            && (i == 0
                || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_' || chars[i - 1] == '/'));
        if !starts {
            i += 1;
            continue;
        }
        let name_start = i + 1;
        let mut end = name_start;
        while end < chars.len() && word(chars[end]) {
            end += 1;
        }
        if end == name_start {
            i = end.max(i + 1);
            continue;
        }
        let name: String = chars[name_start..end].iter().collect();
        // An `@domain` part: ours names a local account, another none here.
        let mut local = true;
        let mut next = end;
        if end + 1 < chars.len() && chars[end] == '@' {
            let host_start = end + 1;
            let mut host_end = host_start;
            while host_end < chars.len()
                && (chars[host_end].is_alphanumeric() || matches!(chars[host_end], '.' | '-'))
            {
                host_end += 1;
            }
            let host: String = chars[host_start..host_end].iter().collect();
            let host = host.trim_end_matches(['.', '-']);
            if !host.is_empty() {
                local = host.eq_ignore_ascii_case(domain);
                next = host_start + host.chars().count();
            }
        }
        let name = name.to_ascii_lowercase();
        if local && name.len() <= 30 && !found.contains(&name) {
            found.push(name);
        }
        i = next;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn finds_local_names_once_in_order() {
        assert_eq!(
            parse("@Bob hi @carol, and @bob again", "perch.test"),
            ["bob", "carol"]
        );
        assert_eq!(
            parse("(@dave) @erin@perch.test.", "perch.test"),
            ["dave", "erin"]
        );
    }

    #[test]
    fn passes_over_emails_urls_other_domains_and_bare_signs() {
        assert!(parse("mail a@b.c or see https://x.test/@y", "perch.test").is_empty());
        assert!(parse("@frank@elsewhere.test @ @@ @!", "perch.test").is_empty());
        assert_eq!(parse("@@gina", "perch.test"), ["gina"]);
    }

    #[test]
    fn stops_at_the_cap() {
        let text: String = (0..80).map(|i| format!("@u{i} ")).collect();
        assert_eq!(parse(&text, "perch.test").len(), super::MAX_MENTIONS);
    }
}
