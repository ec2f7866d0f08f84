//! Typed entries serialize with the seed's camelCase names, string ids and
//! millisecond UTC times, and read the seed's own examples.

use chrono::{TimeZone, Utc};
use perch_cache::{
    ActorType, FollowEntry, LikeEntry, PostSummary, Profile, Session, TimelinePost, Timestamp,
};
use serde_json::json;

fn at(h: u32, m: u32) -> Timestamp {
    Timestamp::from(Utc.with_ymd_and_hms(2025, 1, 27, h, m, 0).unwrap())
}

#[test]
fn session_matches_the_seed() {
    let session = Session {
        user_id: 7_349_216_112_345_678,
        username: "john_doe".into(),
        last_activity: at(10, 0),
        login_time: at(8, 0),
    };
    let value = serde_json::to_value(&session).unwrap();
    assert_eq!(
        value,
        json!({
            "userId": "7349216112345678",
            "username": "john_doe",
            "lastActivity": "2025-01-27T10:00:00.000Z",
            "loginTime": "2025-01-27T08:00:00.000Z",
        })
    );
    // The seed's own example (no milliseconds) reads back.
    let seed = r#"{"userId":"7349216112345678","username":"john_doe",
        "lastActivity":"2025-01-27T10:00:00Z","loginTime":"2025-01-27T08:00:00Z"}"#;
    assert_eq!(serde_json::from_str::<Session>(seed).unwrap(), session);
}

#[test]
fn profile_carries_the_activitypub_fields() {
    let profile = Profile {
        user_id: 42,
        username: "john_doe".into(),
        display_name: "John Doe".into(),
        bio: "Software developer".into(),
        profile_image_url: "https://perch.example/a.png".into(),
        followers_count: 150,
        following_count: 200,
        posts_count: 45,
        actor_type: ActorType::Person,
        inbox_url: "https://domain.com/users/john_doe/inbox".into(),
        outbox_url: "https://domain.com/users/john_doe/outbox".into(),
        created_at: Some(at(7, 0)),
        header_image_url: String::new(),
        last_status_at: None,
        actor_id: None,
    };
    let value = serde_json::to_value(&profile).unwrap();
    assert_eq!(value["userId"], "42");
    assert_eq!(value["actorType"], "Person");
    assert_eq!(value["followersCount"], 150);
    assert_eq!(value["inboxUrl"], "https://domain.com/users/john_doe/inbox");
    assert_eq!(value["lastStatusAt"], serde_json::Value::Null);
    assert_eq!(value["createdAt"], "2025-01-27T07:00:00.000Z");
    let back: Profile = serde_json::from_value(value).unwrap();
    assert_eq!(back, profile);
    // A seed-shaped object without Perch's additions still parses.
    let seed = json!({"userId": "42", "username": "john_doe", "displayName": "John Doe",
        "bio": "", "profileImageUrl": "", "followersCount": 1, "followingCount": 2,
        "postsCount": 3, "actorType": "Person", "inboxUrl": "i", "outboxUrl": "o"});
    assert!(serde_json::from_value::<Profile>(seed).is_ok());
}

#[test]
fn collection_entries_use_the_seeds_field_names() {
    let post = PostSummary {
        post_id: 123,
        content: "Hello world!".into(),
        created_at: at(15, 30),
        likes_count: 25,
        media_urls: vec!["https://perch.example/m.png".into()],
        sensitive: false,
        spoiler_text: String::new(),
        language: None,
        media: Vec::new(),
        uri: None,
    };
    let v = serde_json::to_value(&post).unwrap();
    for field in ["postId", "content", "createdAt", "likesCount", "mediaUrls"] {
        assert!(v.get(field).is_some(), "{field}");
    }
    assert_eq!(v["postId"], "123");

    let timeline = TimelinePost {
        post_id: 456,
        author_id: 789,
        author_username: "jane_doe".into(),
        content: "Great day!".into(),
        created_at: at(16, 0),
        likes_count: 10,
        media_urls: vec![],
        sensitive: false,
        spoiler_text: String::new(),
        language: None,
        media: Vec::new(),
        uri: None,
    };
    let v = serde_json::to_value(&timeline).unwrap();
    assert_eq!(
        (v["postId"].clone(), v["authorId"].clone()),
        (json!("456"), json!("789"))
    );
    assert_eq!(v["authorUsername"], "jane_doe");

    let follow = FollowEntry {
        user_id: 456,
        username: "jane_doe".into(),
        display_name: "Jane Doe".into(),
        profile_image_url: "https://perch.example/j.png".into(),
        followed_at: at(12, 0),
        follow_id: None,
    };
    let v = serde_json::to_value(&follow).unwrap();
    assert_eq!(v["followedAt"], "2025-01-27T12:00:00.000Z");
    assert_eq!(v["displayName"], "Jane Doe");
    assert!(v.get("followId").is_none(), "absent, as the seed shows it");
    let with_id = FollowEntry {
        follow_id: Some(117_000_000_000_000_001),
        ..follow
    };
    let v = serde_json::to_value(&with_id).unwrap();
    assert_eq!(v["followId"], "117000000000000001");
    let back: FollowEntry = serde_json::from_value(v).unwrap();
    assert_eq!(back, with_id);

    let like = LikeEntry {
        post_id: 123,
        author_id: 456,
        liked_at: at(16, 30),
        like_id: None,
    };
    assert_eq!(
        serde_json::to_value(&like).unwrap(),
        json!({"postId": "123", "authorId": "456", "likedAt": "2025-01-27T16:30:00.000Z"})
    );
}

#[test]
fn timestamps_keep_milliseconds_in_utc() {
    let t = Timestamp::from(Utc.timestamp_millis_opt(1_737_972_000_123).unwrap());
    assert_eq!(
        serde_json::to_string(&t).unwrap(),
        "\"2025-01-27T10:00:00.123Z\""
    );
    let parsed: Timestamp = serde_json::from_str("\"2025-01-27T11:00:00.123+01:00\"").unwrap();
    assert_eq!(parsed, t);
    assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
}
