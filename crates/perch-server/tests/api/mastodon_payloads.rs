//! Activities in the shapes Mastodon really sends (the fixtures in
//! `tests/fixtures/mastodon/`), delivered signed to a Perch inbox by a
//! loopback "Mastodon" actor: each does what Mastodon means by it, seen
//! through the API, and a redelivery changes nothing more. Activities a
//! signer may not send, and bodies that are not activities, are refused
//! with a 4xx and change nothing.

use rsa::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::Value;

use crate::federation::{federating, home};
use crate::inbox::{Remote, deliver};
use crate::support::{ApiApp, User};

on_both_stacks_with!(federating => mastodon_activities_do_what_mastodon_means);

/// A fixture, with its placeholders filled.
macro_rules! fixture {
    ($name:literal, $fill:expr) => {
        $fill(include_str!(concat!(
            "../fixtures/mastodon/",
            $name,
            ".json"
        )))
    };
}

/// Fills the placeholders of a fixture.
struct Fill {
    remote: String,
    actor: String,
    local_actor: String,
    local_status: String,
    pem: String,
}

impl Fill {
    fn apply(&self, text: &str) -> String {
        text.replace("{{ACTOR}}", &self.actor)
            .replace("{{REMOTE}}", &self.remote)
            .replace("{{LOCAL_ACTOR}}", &self.local_actor)
            .replace("{{LOCAL_STATUS}}", &self.local_status)
            .replace("{{PUBLIC_KEY_PEM}}", &self.pem)
    }
}

async fn notifications(app: &ApiApp, user: &User) -> Vec<(String, String)> {
    let r = app.get("/api/v1/notifications", user.t()).await.expect(200);
    r.body
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|n| {
            (
                n["type"].as_str().unwrap_or_default().to_owned(),
                n["account"]["acct"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn mastodon_activities_do_what_mastodon_means(app: &ApiApp) {
    let alice = app.user("alice").await;
    let remote = Remote::start("127.0.0.1").await;
    let key_id = format!("{}#main-key", remote.actor);
    let base = app.app.state.base_url.to_string();
    let mine = app.post_status(&alice, "a local post").await;
    let my_id = mine["id"].as_str().expect("id").to_owned();
    let pem = rsa::RsaPublicKey::from(&remote.key)
        .to_public_key_pem(LineEnding::LF)
        .expect("pem")
        .replace('\n', "\\n");
    let fill = Fill {
        remote: remote.actor.trim_end_matches("/users/bob").to_owned(),
        actor: remote.actor.clone(),
        local_actor: format!("{base}/users/alice"),
        local_status: format!("{base}/users/alice/statuses/{my_id}"),
        pem,
    };
    let apply = |t: &str| fill.apply(t);
    let send = |body: String| {
        let key_id = key_id.clone();
        let key = remote.key.clone();
        async move { deliver(app, "/inbox", &body, &key, &key_id, None).await }
    };
    let acct = format!(
        "bob@{}",
        fill.remote.trim_start_matches("http://").to_owned()
    );

    // Follow, twice: one follower, one follow notification.
    for _ in 0..2 {
        assert_eq!(send(fixture!("follow", apply)).await, 202);
    }
    let me = app.account(&alice.id, None).await;
    assert_eq!(me["followers_count"], 1);
    let followers = app
        .get(&format!("/api/v1/accounts/{}/followers", alice.id), None)
        .await
        .expect(200)
        .body;
    assert_eq!(followers[0]["acct"], acct.as_str());
    assert_eq!(followers[0]["username"], "bob");
    let bob_id = followers[0]["id"].as_str().expect("id").to_owned();
    assert!(
        notifications(app, &alice)
            .await
            .contains(&("follow".into(), acct.clone()))
    );

    // Alice follows bob back (so his notes are for her home).
    app.post(&format!("/api/v1/accounts/{bob_id}/follow"), alice.t())
        .await
        .expect(200);

    // Create{Note}, twice: one status, in alice's home, as text, with its
    // attachment; alice is notified of the mention.
    for _ in 0..2 {
        assert_eq!(send(fixture!("create_note", apply)).await, 202);
    }
    let statuses = app.statuses_of(&bob_id, None).await;
    assert_eq!(statuses.len(), 1, "a redelivered Create is one status");
    let note = home(app, &alice)
        .await
        .into_iter()
        .find(|s| s["account"]["id"] == bob_id.as_str())
        .expect("bob's note in alice's home");
    assert_eq!(
        note["uri"],
        format!("{}/statuses/113572212345678901", fill.actor)
    );
    let content = note["content"].as_str().unwrap_or_default();
    assert!(
        content.contains("@alice Morning! Coffee &amp; #perch"),
        "{content}"
    );
    assert!(content.contains("Second line<br>third"), "{content}");
    assert!(
        !content.contains("<span") && !content.contains("<a "),
        "{content}"
    );
    assert_eq!(
        note["media_attachments"][0]["url"],
        format!(
            "{}/system/media_attachments/files/113/572/212/original/cafe.png",
            fill.remote
        )
    );
    assert!(
        notifications(app, &alice)
            .await
            .contains(&("mention".into(), acct.clone()))
    );

    // Like, then its Undo: the count follows, with a notification.
    assert_eq!(send(fixture!("like", apply)).await, 202);
    let s = app
        .get(&format!("/api/v1/statuses/{my_id}"), None)
        .await
        .expect(200);
    assert_eq!(s.body["favourites_count"], 1);
    assert!(
        notifications(app, &alice)
            .await
            .contains(&("favourite".into(), acct.clone()))
    );
    assert_eq!(send(fixture!("undo_like", apply)).await, 202);
    let s = app
        .get(&format!("/api/v1/statuses/{my_id}"), None)
        .await
        .expect(200);
    assert_eq!(s.body["favourites_count"], 0);

    // Announce: taken, and nothing Perch keeps changes.
    let before = notifications(app, &alice).await;
    assert_eq!(send(fixture!("announce", apply)).await, 202);
    assert_eq!(notifications(app, &alice).await, before);

    // Update{Person}: the profile as the API shows it.
    assert_eq!(send(fixture!("update_person", apply)).await, 202);
    let bob = app.account(&bob_id, None).await;
    assert_eq!(bob["display_name"], "Bob (new name)");
    assert_eq!(bob["note"], "<p>Writes about #birds &amp; trees.</p>");
    assert_eq!(
        bob["avatar"],
        format!("{}/system/accounts/avatars/1/original/bob.png", fill.remote)
    );

    // Refused, changing nothing: not JSON; an activity of another actor;
    // a note attributed to another actor.
    assert_eq!(send("not json".into()).await, 400);
    let mut huge: Value = serde_json::from_str(&fixture!("create_note", apply)).expect("json");
    huge["object"]["id"] = format!("{}/statuses/3", fill.actor).into();
    huge["object"]["content"] = "x".repeat(300 * 1024).into();
    assert_eq!(send(huge.to_string()).await, 413, "over 256 KB");
    let mut as_other: Value = serde_json::from_str(&fixture!("like", apply)).expect("json");
    as_other["actor"] = "http://127.0.0.1:1/users/eve".into();
    assert_eq!(send(as_other.to_string()).await, 401);
    let mut other_note: Value =
        serde_json::from_str(&fixture!("create_note", apply)).expect("json");
    other_note["object"]["id"] = format!("{}/statuses/2", fill.actor).into();
    other_note["object"]["attributedTo"] = "http://127.0.0.1:1/users/eve".into();
    assert_eq!(send(other_note.to_string()).await, 401);
    let s = app
        .get(&format!("/api/v1/statuses/{my_id}"), None)
        .await
        .expect(200);
    assert_eq!(s.body["favourites_count"], 0);
    assert_eq!(app.statuses_of(&bob_id, None).await.len(), 1);

    // Delete{Tombstone}: the note is gone, from the home feed too.
    assert_eq!(send(fixture!("delete_note", apply)).await, 202);
    assert!(app.statuses_of(&bob_id, None).await.is_empty());
    assert!(
        home(app, &alice)
            .await
            .iter()
            .all(|s| s["account"]["id"] != bob_id.as_str())
    );

    // Undo{Follow}: alice has no follower.
    assert_eq!(send(fixture!("undo_follow", apply)).await, 202);
    assert_eq!(app.account(&alice.id, None).await["followers_count"], 0);

    // The actor deleted: its statuses and its follows go.
    assert_eq!(send(fixture!("follow", apply)).await, 202);
    assert_eq!(send(fixture!("create_note", apply)).await, 202);
    assert_eq!(app.statuses_of(&bob_id, None).await.len(), 1);
    assert_eq!(send(fixture!("delete_actor", apply)).await, 202);
    assert!(app.statuses_of(&bob_id, None).await.is_empty());
    let me = app.account(&alice.id, None).await;
    assert_eq!(
        (me["followers_count"].clone(), me["following_count"].clone()),
        (0.into(), 0.into())
    );
}
