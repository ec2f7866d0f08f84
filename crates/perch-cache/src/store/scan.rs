//! A list's first elements found by scanning its bytes, without parsing.
//!
//! Pushing onto a cached list that does not hold the new element's id (a
//! new follower, a new post) only puts the element first and keeps the
//! first `cap - 1` of the others. Parsing a popular account's follow list
//! (1,000 entries, 137 KB) to do that took about 0.3 ms of one core, in one
//! piece, on the request's worker thread; finding where its first elements
//! end takes a single pass over the bytes, tracking strings and nesting.
//!
//! The scan checks the shape it relies on (an array of objects, strings
//! closed, brackets balanced within each element) and refuses anything
//! else, which the caller then parses in full to tell corrupt text apart.

/// The byte range holding the first `keep` elements of the JSON array
/// `text` (all of them if it has fewer), separators included: `start..end`
/// is empty when there are none. `None` when `text` is not an array of
/// objects as far as it was read.
pub(super) fn first_elements(text: &str, keep: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut at = skip_space(bytes, 0);
    if bytes.get(at) != Some(&b'[') {
        return None;
    }
    at = skip_space(bytes, at + 1);
    let start = at;
    let mut end = start;
    let mut count = 0;
    if bytes.get(at) == Some(&b']') {
        return trailing_only_space(bytes, at + 1).then_some((start, start));
    }
    while count < keep {
        if bytes.get(at) != Some(&b'{') {
            return None;
        }
        at = object_end(bytes, at)?;
        end = at;
        count += 1;
        at = skip_space(bytes, at);
        match bytes.get(at) {
            Some(b',') => at = skip_space(bytes, at + 1),
            Some(b']') => {
                return trailing_only_space(bytes, at + 1).then_some((start, end));
            }
            _ => return None,
        }
    }
    Some((start, end))
}

/// How many bytes of the JSON array of objects `text` hold its first `n`
/// elements (all of them if it has fewer): the length of a head read
/// ([`super::Store::get_many_heads`]) that would give them complete. `None`
/// when `text` is cut before them, or is not an array of objects.
pub fn elements_len(text: &str, n: usize) -> Option<usize> {
    first_elements(text, n).map(|(_, end)| end)
}

/// Of `text`, the first bytes of a JSON array of objects (the whole array,
/// or only its first bytes as a head read gives them): the end of its last
/// complete element, and whether the array closes after it (`text` is the
/// whole array). `text[..end]` with `]` appended is then a whole array of
/// the complete elements. `None` when `text` is not an array of objects as
/// far as it goes.
pub(crate) fn complete_prefix(text: &str) -> Option<(usize, bool)> {
    let bytes = text.as_bytes();
    let mut at = skip_space(bytes, 0);
    if bytes.get(at) != Some(&b'[') {
        return None;
    }
    at = skip_space(bytes, at + 1);
    let mut end = at;
    match bytes.get(at) {
        None => return Some((end, false)),
        Some(b']') => return trailing_only_space(bytes, at + 1).then_some((end, true)),
        _ => {}
    }
    loop {
        match bytes.get(at) {
            Some(b'{') => {}
            None => return Some((end, false)),
            Some(_) => return None,
        }
        // An object that does not close before the text ends was cut.
        let Some(close) = object_end(bytes, at) else {
            return Some((end, false));
        };
        end = close;
        at = skip_space(bytes, close);
        match bytes.get(at) {
            Some(b',') => at = skip_space(bytes, at + 1),
            Some(b']') => return trailing_only_space(bytes, at + 1).then_some((end, true)),
            None => return Some((end, false)),
            Some(_) => return None,
        }
    }
}

/// A JSON array of objects read whole or only in its first bytes (see
/// [`super::Store::get_many_heads`]), as a whole array of the elements it
/// holds complete, and whether that is the whole list. `None` when the text
/// is not an array of objects as far as it goes.
pub fn list_prefix(text: &str) -> Option<(std::borrow::Cow<'_, str>, bool)> {
    match complete_prefix(text)? {
        (_, true) => Some((std::borrow::Cow::Borrowed(text), true)),
        (end, false) => {
            let mut closed = String::with_capacity(end + 1);
            closed.push_str(&text[..end]);
            closed.push(']');
            Some((std::borrow::Cow::Owned(closed), false))
        }
    }
}

/// Cuts `text` to at most `n` bytes, back to a whole character.
pub(crate) fn truncate_at_char(text: &mut String, n: usize) {
    if n >= text.len() {
        return;
    }
    let mut end = n;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
}

/// The first bytes of a value as text: a character cut by the end is left
/// out (as is anything after bytes that are not UTF-8).
pub(crate) fn head_text(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let mut bytes = e.into_bytes();
            bytes.truncate(valid);
            String::from_utf8(bytes).unwrap_or_default()
        }
    }
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        at += 1;
    }
    at
}

fn trailing_only_space(bytes: &[u8], at: usize) -> bool {
    skip_space(bytes, at) == bytes.len()
}

/// The offset just past the object that opens at `open`, tracking strings
/// (and their escapes) and nested objects and arrays.
fn object_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut at = open;
    while let Some(&b) = bytes.get(at) {
        match b {
            b'"' => {
                at += 1;
                loop {
                    match bytes.get(at)? {
                        b'\\' => at += 2,
                        b'"' => break,
                        _ => at += 1,
                    }
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return (b == b'}').then_some(at + 1);
                }
            }
            _ => {}
        }
        at += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(text: &str, keep: usize) -> Option<&str> {
        first_elements(text, keep).map(|(s, e)| &text[s..e])
    }

    #[test]
    fn finds_the_first_elements() {
        let text = r#"[{"a":"}\"{"},{"b":[1,{"c":"]"}]},{"d":{}}]"#;
        assert_eq!(kept(text, 0), Some(""));
        assert_eq!(kept(text, 1), Some(r#"{"a":"}\"{"}"#));
        assert_eq!(kept(text, 2), Some(r#"{"a":"}\"{"},{"b":[1,{"c":"]"}]}"#));
        assert_eq!(kept(text, 3), Some(&text[1..text.len() - 1]));
        assert_eq!(kept(text, 9), Some(&text[1..text.len() - 1]));
        assert_eq!(kept(" [ ] ", 5), Some(""));
        assert_eq!(kept("[ {} , {} ]", 5), Some("{} , {}"));
    }

    #[test]
    fn measures_the_first_elements() {
        let text = r#"[{"a":1}, {"b":"}"},{"c":3}]"#;
        assert_eq!(elements_len(text, 1), Some(8));
        assert_eq!(elements_len(text, 2), text.find(r#",{"c"#));
        assert_eq!(elements_len(text, 9), Some(text.len() - 1));
        // Cut inside the second element: its end is not known.
        assert_eq!(elements_len(&text[..12], 2), None);
        assert_eq!(elements_len(&text[..12], 1), Some(8));
        assert_eq!(elements_len("{}", 1), None);
    }

    #[test]
    fn finds_the_complete_elements_of_a_cut_list() {
        let text = r#"[{"a":"}\"{"},{"b":[1,{"c":"]"}]},{"d":{}}]"#;
        let first = r#"[{"a":"}\"{"}"#.len();
        let second = r#"[{"a":"}\"{"},{"b":[1,{"c":"]"}]}"#.len();
        assert_eq!(complete_prefix(text), Some((text.len() - 1, true)));
        for cut in 0..text.len() {
            let expected = match cut {
                0 => None,
                c if c < first => Some((1, false)),
                c if c < second => Some((first, false)),
                c if c < text.len() - 1 => Some((second, false)),
                _ => Some((text.len() - 1, false)),
            };
            assert_eq!(complete_prefix(&text[..cut]), expected, "cut at {cut}");
        }
        assert_eq!(complete_prefix(" [ ] "), Some((3, true)));
        assert_eq!(complete_prefix("[ {} , {"), Some((4, false)));
        for bad in ["{}", "[1", "[{},1", "[{} {}", "[{}] x", "[{}}"] {
            assert_eq!(complete_prefix(bad), None, "{bad}");
        }
    }

    #[test]
    fn cuts_text_at_a_whole_character() {
        let mut text = String::from("ab\u{e9}c");
        truncate_at_char(&mut text, 3);
        assert_eq!(text, "ab");
        let mut text = String::from("ab\u{e9}c");
        truncate_at_char(&mut text, 4);
        assert_eq!(text, "ab\u{e9}");
        assert_eq!(head_text("ab\u{e9}".as_bytes()[..3].to_vec()), "ab");
        assert_eq!(head_text(b"abc".to_vec()), "abc");
    }

    #[test]
    fn refuses_what_is_not_an_array_of_objects() {
        for bad in [
            "",
            "{}",
            "[1]",
            "[{}",
            "[{},]x",
            "[{\"a\":\"x}]",
            "[{}}]",
            "[{]}]",
            "[{}] x",
            "[{},1]",
            "[{} {}]",
        ] {
            assert_eq!(first_elements(bad, 10), None, "{bad}");
        }
    }
}
