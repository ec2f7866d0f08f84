//! Contract, partial reads: in one fetch some keys whole and others only in
//! their first bytes, cut back to a whole character, missing keys as misses;
//! and a list read so is the whole array of the entries it holds complete.

#[macro_use]
mod support;

use std::time::Duration;

use perch_cache::{FollowEntry, Key, TokenId, UserId, list_prefix};
use support::*;

contract! {
    threads heads_and_whole_values_come_in_one_fetch,
    threads a_head_is_cut_at_a_whole_character,
    threads a_list_read_in_part_gives_its_complete_entries,
    threads a_token_check_comes_with_the_heads,
}

/// The texts of `keys`, read in one fetch, of each given a count only
/// that many first bytes.
async fn heads(h: &Harness, keys: &[Key], heads: &[Option<usize>]) -> Vec<Option<String>> {
    let mut reads = h
        .cache
        .reads(keys.to_vec())
        .heads(heads.to_vec())
        .try_fetch()
        .await
        .unwrap();
    assert!(reads.up());
    (0..keys.len()).map(|i| reads.take_text(i)).collect()
}

async fn a_token_check_comes_with_the_heads(h: &Harness) {
    let ttl = Duration::from_secs(60);
    let list = Key::Followers(UserId(6));
    h.write_raw(&list, "0123456789", ttl).await;
    let token = TokenId::new("jti-heads").unwrap();
    let read = |token: TokenId| {
        h.cache
            .reads(vec![list.clone()])
            .heads(vec![Some(3)])
            .token(token)
            .try_fetch()
    };
    let before = h.cache.round_trips();
    let reads = read(token.clone()).await.unwrap();
    assert_eq!(h.cache.round_trips() - before, 1, "one round trip");
    assert!(!reads.revoked());
    assert_eq!(
        reads.text(0),
        Some("012"),
        "the head is the list's, not the entry's"
    );
    h.cache.blacklist_token(&token, ttl).await.unwrap();
    let reads = read(token).await.unwrap();
    assert!(reads.revoked());
    assert_eq!(reads.text(0), Some("012"));
    assert_eq!(reads.keys(), std::slice::from_ref(&list));
}

async fn heads_and_whole_values_come_in_one_fetch(h: &Harness) {
    let ttl = Duration::from_secs(60);
    let (a, b, c) = (
        Key::Profile(UserId(1)),
        Key::Followers(UserId(2)),
        Key::Followers(UserId(3)),
    );
    h.write_raw(&a, "whole value", ttl).await;
    h.write_raw(&b, "0123456789", ttl).await;
    let missing = Key::Profile(UserId(9));
    let keys = [a.clone(), b.clone(), missing.clone(), c.clone()];
    let counts = [None, Some(4), None, Some(4)];
    let values = heads(h, &keys, &counts).await;
    assert_eq!(
        values,
        vec![Some("whole value".into()), Some("0123".into()), None, None]
    );
    // A head longer than the value is the whole value; no heads, all whole.
    let values = heads(h, &[b.clone(), a.clone()], &[Some(100), None]).await;
    assert_eq!(values[0].as_deref(), Some("0123456789"));
    assert_eq!(values[1].as_deref(), Some("whole value"));
    let values = heads(h, &[b, a], &[]).await;
    assert_eq!(values[0].as_deref(), Some("0123456789"));
}

async fn a_head_is_cut_at_a_whole_character(h: &Harness) {
    let key = Key::Followers(UserId(4));
    h.write_raw(&key, "ab\u{e9}\u{e9}", Duration::from_secs(60))
        .await;
    for (bytes, expected) in [(2, "ab"), (3, "ab"), (4, "ab\u{e9}"), (5, "ab\u{e9}")] {
        let values = heads(h, std::slice::from_ref(&key), &[Some(bytes)]).await;
        assert_eq!(values[0].as_deref(), Some(expected), "{bytes} bytes");
    }
}

async fn a_list_read_in_part_gives_its_complete_entries(h: &Harness) {
    let user = UserId(5);
    let list: Vec<FollowEntry> = (1..=30).map(follow).collect();
    h.cache.cache_followers(user, &list).await.unwrap();
    let key = Key::Followers(user);
    let whole = h.raw(&key).await.unwrap();
    // Cut well inside the list: the entries before the cut, no more.
    let values = heads(h, std::slice::from_ref(&key), &[Some(whole.len() / 2)]).await;
    let head = values[0].clone().unwrap();
    let (text, complete) = list_prefix(&head).unwrap();
    assert!(!complete);
    let read: Vec<FollowEntry> = serde_json::from_str(&text).unwrap();
    assert!(
        !read.is_empty() && read.len() < list.len(),
        "{}",
        read.len()
    );
    assert_eq!(read, list[..read.len()].to_vec());
    // Read to the end: the whole list, known to be whole.
    let values = heads(h, std::slice::from_ref(&key), &[Some(whole.len())]).await;
    let head = values[0].clone().unwrap();
    let (text, complete) = list_prefix(&head).unwrap();
    assert!(complete);
    let read: Vec<FollowEntry> = serde_json::from_str(&text).unwrap();
    assert_eq!(read, list);
}
