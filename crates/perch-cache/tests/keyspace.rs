//! The keyspace: the seed's exact patterns, TTLs and caps, segment
//! validation, and Cluster hash tags.

use std::net::IpAddr;
use std::time::Duration;

use perch_cache::{
    ActorHash, Endpoint, Family, Key, KeyError, KeyPrefix, PostId, Segment, Subject, TokenId,
    UserId,
};
use redis::cluster_routing::Slot;

fn no_prefix() -> KeyPrefix {
    KeyPrefix::default()
}

#[test]
fn keys_render_the_seeds_patterns_with_hash_tags() {
    let user = UserId(42);
    let token = TokenId::new("3f1c9a-jti").unwrap();
    let rate = Key::RateLimit(Subject::user(user), Endpoint::new("post_status").unwrap());
    let cases = [
        (Key::Blacklist(token), "auth:blacklist:{3f1c9a-jti}"),
        (Key::Session(user), "session:{42}"),
        (Key::Profile(user), "user:profile:{42}"),
        (Key::UserPosts(user), "posts:user:{42}"),
        (Key::PublicTimeline, "timeline:public"),
        (Key::Following(user), "following:{42}"),
        (Key::Followers(user), "followers:{42}"),
        (Key::Likes(user), "likes:user:{42}"),
        (rate, "rate_limit:{42}:post_status"),
        (Key::HomeTimeline(user), "timeline:home:{42}"),
        (Key::Post(PostId(7)), "post:{7}"),
        (Key::Notifications(user), "notifications:{42}"),
        (
            Key::RemoteActor(ActorHash::of_digest([0xab; 32])),
            "remote:actor:{abababababababababababababababababababababababababababababababab}",
        ),
    ];
    for (key, expected) in cases {
        assert_eq!(key.render(&no_prefix()), expected);
        let prefix = KeyPrefix::new("perch:").unwrap();
        assert_eq!(key.render(&prefix), format!("perch:{expected}"));
    }
}

#[test]
fn families_carry_the_seeds_ttls_and_caps() {
    let min = |m: u64| Some(Duration::from_secs(m * 60));
    let table = [
        (Family::Blacklist, None, None),
        (Family::Session, min(24 * 60), None),
        (Family::Profile, min(60), None),
        (Family::UserPosts, min(30), Some(20)),
        (Family::PublicTimeline, min(15), Some(50)),
        (Family::Following, min(120), Some(1000)),
        (Family::Followers, min(120), Some(1000)),
        (Family::Likes, min(60), Some(500)),
        (Family::RateLimit, Some(Duration::from_secs(60)), None),
        (Family::HomeTimeline, min(7 * 24 * 60), Some(800)),
        (Family::Post, min(60), None),
        (Family::Notifications, min(60), Some(200)),
        (Family::RemoteActor, min(24 * 60), None),
    ];
    assert_eq!(table.len(), Family::ALL.len());
    for (family, ttl, cap) in table {
        assert_eq!(family.ttl(), ttl, "{family}");
        assert_eq!(family.max_len(), cap, "{family}");
    }
}

#[test]
fn segments_refuse_wildcards_separators_braces_whitespace_and_long_values() {
    for bad in ["a*", "a:b", "{a", "a}", "a b", "a\tb", "a\n", "é", "a/b"] {
        let err = Segment::new(bad).unwrap_err();
        assert!(
            matches!(err, KeyError::ForbiddenChar { .. }),
            "{bad}: {err:?}"
        );
        assert!(TokenId::new(bad).is_err());
        assert!(Endpoint::new(bad).is_err());
        assert!(Subject::name(bad).is_err());
    }
    assert!(matches!(Segment::new(""), Err(KeyError::Empty { .. })));
    assert!(Segment::new(&"a".repeat(128)).is_ok());
    assert!(matches!(
        Segment::new(&"a".repeat(129)),
        Err(KeyError::TooLong {
            len: 129,
            max: 128,
            ..
        })
    ));
    for good in [
        "42",
        "john_doe",
        "jane.doe@example.org",
        "550e8400-e29b-41d4",
    ] {
        assert_eq!(Segment::new(good).unwrap().as_str(), good);
    }
}

#[test]
fn user_ids_given_as_text_are_validated() {
    assert_eq!("42".parse::<UserId>(), Ok(UserId(42)));
    assert_eq!("-7".parse::<UserId>(), Ok(UserId(-7)));
    assert!(matches!(
        "4*".parse::<UserId>(),
        Err(KeyError::ForbiddenChar { ch: '*', .. })
    ));
    assert!(matches!(
        "abc".parse::<UserId>(),
        Err(KeyError::NotAnId { .. })
    ));
    assert!(matches!("".parse::<UserId>(), Err(KeyError::Empty { .. })));
}

#[test]
fn prefixes_may_hold_colons_but_never_braces() {
    assert!(KeyPrefix::new("perch:").is_ok());
    assert!(KeyPrefix::new("").is_ok());
    for bad in ["{x}:", "a*", "a b", "x}"] {
        assert!(KeyPrefix::new(bad).is_err(), "{bad}");
    }
    assert!(KeyPrefix::new(&"p".repeat(65)).is_err());
}

#[test]
fn ip_subjects_fit_the_segment_alphabet() {
    let v4: IpAddr = "203.0.113.9".parse().unwrap();
    let v6: IpAddr = "2001:db8::1".parse().unwrap();
    let mapped: IpAddr = "::ffff:203.0.113.9".parse().unwrap();
    assert_eq!(Subject::ip(v4).as_str(), "203.0.113.9");
    assert_eq!(Subject::ip(v6).as_str(), "2001-db8--1");
    assert_eq!(Subject::ip(mapped).as_str(), "203.0.113.9");
    for subject in [Subject::ip(v4), Subject::ip(v6)] {
        assert!(Segment::new(subject.as_str()).is_ok());
    }
}

#[test]
fn one_users_keys_share_a_cluster_slot() {
    let prefix = KeyPrefix::new("perch:").unwrap();
    for id in [1_i64, 42, 7_349_216_112_345_678] {
        let user = UserId(id);
        let mut keys: Vec<String> = Key::user_keys(user)
            .iter()
            .map(|k| k.render(&prefix))
            .collect();
        let endpoint = Endpoint::new("post_status").unwrap();
        keys.push(Key::RateLimit(Subject::user(user), endpoint).render(&prefix));
        let slot = Slot::for_key(&keys[0]);
        for key in &keys {
            assert_eq!(Slot::for_key(key), slot, "{key}");
        }
        // And the tag really is the id, not the whole key.
        assert_eq!(slot, Slot::for_key(id.to_string()));
    }
}
