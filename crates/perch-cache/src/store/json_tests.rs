//! Tests of the JSON edits (a file of its own: `json.rs` stays short).

use super::*;

const LIST: &str = r#"[{"postId":"1","mediaUrls":[]},{"postId":"2","mediaUrls":["https://x/y"]}]"#;

fn push_(text: &str, element: &str, id: &str, cap: usize) -> Result<Option<String>, Stop> {
    Edit::Push {
        element,
        id_field: "postId",
        id,
        cap,
        order: None,
    }
    .apply(text)
}

fn remove_(text: &str, id: &str, cap: usize) -> Result<Option<String>, Stop> {
    Edit::Remove {
        id_field: "postId",
        id,
        cap,
    }
    .apply(text)
}

#[test]
fn push_dedups_caps_and_keeps_elements_verbatim() {
    let out = push_(LIST, r#"{"postId":"2"}"#, "2", 20).unwrap().unwrap();
    assert_eq!(out, r#"[{"postId":"2"},{"postId":"1","mediaUrls":[]}]"#);
    let out = push_(LIST, r#"{"postId":"3"}"#, "3", 2).unwrap().unwrap();
    assert_eq!(out, r#"[{"postId":"3"},{"postId":"1","mediaUrls":[]}]"#);
}

#[test]
fn remove_empties_to_an_array() {
    let once = remove_(LIST, "1", 20).unwrap().unwrap();
    let twice = remove_(&once, "2", 20).unwrap().unwrap();
    assert_eq!(twice, "[]");
    assert_eq!(remove_(&twice, "2", 20), Ok(None));
}

#[test]
fn remove_from_a_full_list_drops_it() {
    assert_eq!(remove_(LIST, "1", 2), Err(Stop::Drop));
    assert_eq!(remove_(LIST, "9", 2), Ok(None));
}

#[test]
fn set_number_keeps_member_order_and_other_elements() {
    let text =
        r#"[{"postId":"1","mediaUrls":[]},{"zeta":1,"postId":"2","likesCount":3,"a":"\u00e9"}]"#;
    let edit = |id| Edit::SetNumber {
        id_field: "postId",
        id,
        field: "likesCount",
        value: 7,
    };
    let out = edit("2").apply(text).unwrap().unwrap();
    assert_eq!(
        out,
        r#"[{"postId":"1","mediaUrls":[]},{"zeta":1,"postId":"2","likesCount":7,"a":"\u00e9"}]"#
    );
    let added = edit("1").apply(text).unwrap().unwrap();
    assert!(added.starts_with(r#"[{"postId":"1","mediaUrls":[],"likesCount":7},"#));
    assert_eq!(edit("9").apply(text), Ok(None));
}

#[test]
fn ids_are_compared_as_strings_even_when_escaped() {
    let text = r#"[{"postId":"\u0031"},{"postId":1}]"#;
    assert_eq!(
        remove_(text, "1", 20).unwrap().unwrap(),
        r#"[{"postId":1}]"#
    );
}

#[test]
fn an_absent_id_is_told_without_parsing() {
    // Not parsed: garbage without the id is left alone.
    assert_eq!(remove_("[{not json", "1", 20), Ok(None));
    // The id quoted anywhere, or any escape, and the text is parsed.
    assert_eq!(remove_(r#"[{"x":"1"},{"#, "1", 20), Err(Stop::Corrupt));
    assert_eq!(remove_(r#"[{"x":"\u0032"},{"#, "1", 20), Err(Stop::Corrupt));
    assert!(surely_absent(LIST, "3"));
    assert!(!surely_absent(LIST, "2"));
    // A lookalike member does not make it present.
    assert_eq!(
        remove_(r#"[{"postId":"1","other":"2"}]"#, "2", 20),
        Ok(None)
    );
}

#[test]
fn pushing_an_absent_id_unparsed_writes_what_parsing_would() {
    // Lists of every length around the cap, with strings that look like
    // structure, pushed with ids they do not hold.
    let entry = |i: usize| format!(r#"{{"postId":"{i}","t":"a]}},{{[b","n":[{i},{{}}]}}"#);
    for len in 0..8 {
        let list: Vec<String> = (0..len).map(entry).collect();
        let text = format!("[{}]", list.join(","));
        for (cap, order) in (1..8).flat_map(|c| [(c, None), (c, Some(("postId", 99)))]) {
            let element = r#"{"postId":"99"}"#;
            let fast = push(&text, element, "postId", "99", cap, order);
            let parsed = push_parsed(&text, element, "postId", "99", cap, order);
            assert_eq!(fast, parsed, "len {len} cap {cap} {order:?}");
            assert!(surely_absent(&text, "99"), "the unparsed way was taken");
        }
    }
}

#[test]
fn object_set_replaces_in_place() {
    let edit = Edit::ObjectSet {
        field: "lastActivity",
        value_json: "\"2026-01-01T00:00:00.000Z\"",
    };
    let out = edit
        .apply(r#"{"userId":"1","lastActivity":"x","n":[]}"#)
        .unwrap();
    assert_eq!(
        out.as_deref(),
        Some(r#"{"userId":"1","lastActivity":"2026-01-01T00:00:00.000Z","n":[]}"#)
    );
}

#[test]
fn garbage_is_corrupt() {
    for bad in ["{", "{}", "[1,2]", "not json", r#"[{"postId":"1"}"#] {
        assert_eq!(push_(bad, "{}", "1", 5), Err(Stop::Corrupt), "{bad}");
    }
    let set = Edit::ObjectSet {
        field: "a",
        value_json: "1",
    };
    assert_eq!(set.apply("[]"), Err(Stop::Corrupt));
}

fn ordered_(text: &str, id: &str, cap: usize) -> Result<Option<String>, Stop> {
    let element = format!(r#"{{"postId":"{id}"}}"#);
    Edit::Push {
        element: &element,
        id_field: "postId",
        id,
        cap,
        order: Some(("postId", id.parse().unwrap())),
    }
    .apply(text)
}

fn ids(text: &str) -> Vec<String> {
    let list: Vec<serde_json::Value> = serde_json::from_str(text).unwrap();
    list.iter()
        .map(|v| v["postId"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_ordered_push_puts_the_element_at_its_place_by_numeric_id() {
    let list = r#"[{"postId":"30","x":[1]},{"postId":"9"}]"#;
    // Newest: first, the others verbatim (the no-parse path).
    let out = ordered_(list, "100", 5).unwrap().unwrap();
    assert_eq!(
        out,
        r#"[{"postId":"100"},{"postId":"30","x":[1]},{"postId":"9"}]"#
    );
    // Between, compared as numbers ("10" > "9" though "10" < "9" as text).
    assert_eq!(
        ids(&ordered_(list, "10", 5).unwrap().unwrap()),
        ["30", "10", "9"]
    );
    // Oldest, with room: last.
    assert_eq!(
        ids(&ordered_(list, "2", 5).unwrap().unwrap()),
        ["30", "9", "2"]
    );
    // Oldest of a full list: left out; among a full list: the last goes.
    assert_eq!(ids(&ordered_(list, "2", 2).unwrap().unwrap()), ["30", "9"]);
    assert_eq!(
        ids(&ordered_(list, "10", 2).unwrap().unwrap()),
        ["30", "10"]
    );
    // Again with an id it holds: one copy, at its place.
    let out = ordered_(list, "9", 5).unwrap().unwrap();
    assert_eq!(out, r#"[{"postId":"30","x":[1]},{"postId":"9"}]"#);
    // An empty list takes it.
    assert_eq!(
        ordered_("[]", "7", 5).unwrap().unwrap(),
        r#"[{"postId":"7"}]"#
    );
}

#[test]
fn an_ordered_push_onto_ids_that_are_not_numbers_is_corrupt_and_one_without_goes_first() {
    let list = r#"[{"postId":"abc"}]"#;
    assert_eq!(ordered_(list, "5", 5), Err(Stop::Corrupt));
    // An element without the order field (a list in the seed's shape,
    // written by another program) counts as older: the push goes first.
    let out = ordered_(r#"[{"other":"1"},{"postId":"3"}]"#, "2", 5);
    assert_eq!(
        out.unwrap().unwrap(),
        r#"[{"postId":"2"},{"other":"1"},{"postId":"3"}]"#
    );
    assert_eq!(ordered_("not json", "5", 5), Err(Stop::Corrupt));
}
