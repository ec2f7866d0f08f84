//! Applications, revoked tokens, server values and migrations.

use perch::db::apps::{self, AppRow};
use perch::db::tokens::{self, RevokedToken};
use perch::db::{StoreError, Unique, meta, now_ms};

use crate::common::{TestDb, in_secs};
use crate::on_both_databases;

on_both_databases!(
    apps_store_and_refuse_a_taken_client_id,
    revocations_are_durable_until_expiry,
    meta_keeps_the_first_value,
    migrations_run_twice_harmlessly,
);

async fn apps_store_and_refuse_a_taken_client_id(t: &TestDb) {
    let app = AppRow {
        id: t.id(),
        name: "Tusky".into(),
        website: Some("https://tusky.app".into()),
        redirect_uri: "urn:ietf:wg:oauth:2.0:oob".into(),
        scopes: "read write".into(),
        client_id: "cid-1".into(),
        client_secret: "secret".into(),
        created_at: now_ms(),
    };
    apps::create(&t.db, &app).await.unwrap();
    assert_eq!(
        apps::by_client_id(&t.db, "cid-1").await.unwrap(),
        Some(app.clone())
    );
    assert_eq!(apps::by_client_id(&t.db, "cid-2").await.unwrap(), None);
    let again = AppRow { id: t.id(), ..app };
    let err = apps::create(&t.db, &again).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(Unique::ClientId)),
        "{err:?}"
    );
}

async fn revocations_are_durable_until_expiry(t: &TestDb) {
    let live = RevokedToken {
        token_id: "jti-live".into(),
        account_id: 1,
        expires_at: in_secs(3600),
    };
    let dead = RevokedToken {
        token_id: "jti-dead".into(),
        account_id: 1,
        expires_at: in_secs(-10),
    };
    tokens::revoke(&t.db, &live, now_ms()).await.unwrap();
    tokens::revoke(&t.db, &live, now_ms()).await.unwrap();
    tokens::revoke(&t.db, &dead, now_ms()).await.unwrap();
    assert!(tokens::is_revoked(&t.db, "jti-live").await.unwrap());
    assert!(!tokens::is_revoked(&t.db, "jti-other").await.unwrap());
    assert_eq!(
        tokens::active(&t.db, now_ms()).await.unwrap(),
        vec![live.clone()]
    );
    assert_eq!(tokens::purge_expired(&t.db, now_ms()).await.unwrap(), 1);
    assert!(!tokens::is_revoked(&t.db, "jti-dead").await.unwrap());
    assert!(tokens::is_revoked(&t.db, "jti-live").await.unwrap());
    // Read a page at a time, in id order, the expired left out.
    for id in ["jti-a", "jti-c", "jti-b", "jti-d"] {
        let row = RevokedToken {
            token_id: id.into(),
            account_id: 2,
            expires_at: in_secs(3600),
        };
        tokens::revoke(&t.db, &row, now_ms()).await.unwrap();
    }
    tokens::revoke(&t.db, &dead, now_ms()).await.unwrap();
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let page = tokens::active_page(&t.db, now_ms(), &after, 2)
            .await
            .unwrap();
        assert!(page.len() <= 2);
        seen.extend(page.iter().map(|r| r.token_id.clone()));
        match page.last() {
            Some(last) if page.len() == 2 => after.clone_from(&last.token_id),
            _ => break,
        }
    }
    assert_eq!(seen, ["jti-a", "jti-b", "jti-c", "jti-d", "jti-live"]);
}

async fn meta_keeps_the_first_value(t: &TestDb) {
    assert_eq!(meta::get(&t.db, "k").await.unwrap(), None);
    assert_eq!(
        meta::get_or_insert(&t.db, "k", "first").await.unwrap(),
        "first"
    );
    assert_eq!(
        meta::get_or_insert(&t.db, "k", "second").await.unwrap(),
        "first"
    );
}

async fn migrations_run_twice_harmlessly(t: &TestDb) {
    t.db.migrate().await.expect("second run is a no-op");
    assert!(t.db.ping().await.is_ok());
}

/// A pooled PostgreSQL connection that the server dropped while it sat idle
/// (a restart, an idle-session timeout) is found dead and replaced before
/// a query uses it: connections are not pinged on every use, only after
/// [`perch::db::PING_AFTER_IDLE`] in the pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_connection_dropped_while_idle_is_replaced() {
    use sqlx::Connection;
    let t = TestDb::postgres().await;
    meta::get_or_insert(&t.db, "probe", "1").await.unwrap();
    let name = t.url.rsplit('/').next().unwrap().to_string();
    let mut admin = sqlx::PgConnection::connect(&crate::common::postgres_admin_url())
        .await
        .unwrap();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&name)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    admin.close().await.ok();
    assert!(
        !killed.is_empty() && killed.iter().all(|k| *k),
        "{killed:?}"
    );
    tokio::time::sleep(perch::db::PING_AFTER_IDLE + std::time::Duration::from_millis(200)).await;
    assert_eq!(
        meta::get_or_insert(&t.db, "probe", "2").await.unwrap(),
        "1",
        "the query ran on a live connection"
    );
    t.finish().await;
}
