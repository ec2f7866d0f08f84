//! The multi-process soak (issue 22, point 5): one client per account
//! drives a mixed workload through three `perch serve` processes on one
//! PostgreSQL and a private Redis, while Redis is paused, stopped and
//! started again, and one Perch process is killed (`SIGKILL`) and started
//! again. Afterwards:
//!
//! - every write answered 2xx is in the database and shows through every
//!   process (each client keeps a ledger of what its answered writes said);
//! - every cached answer equals what SQL says (each read through every
//!   process, then again once every key is gone);
//! - no process answered 5xx.
//!
//! Writes stop going to the doomed process a moment before it is killed
//! (reads keep going to it): a crash between a commit and its cache edit
//! leaves that key stale until its TTL, which this does not cover (see the
//! README's "Running several processes").

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{RedisProbe, TestDb, random_cache_prefix};
use crate::processes::{Fleet, Shared};
use crate::redis_server::PrivateRedis;

/// Accounts, one client each.
const USERS: usize = 6;
/// Processes.
const PROCESSES: usize = 3;
/// The process that is killed and started again.
const DOOMED: usize = 2;

/// What a client knows of one thing it wrote: what its last answered
/// write said, or nothing sure (a write sent without an answer).
#[derive(Debug, Clone, PartialEq)]
enum Known<T> {
    Sure(T),
    Unsure,
}

#[derive(Debug, Default)]
struct Ledger {
    /// Own statuses: live (true) or deleted.
    posts: BTreeMap<String, Known<bool>>,
    /// Whom the user follows, by account index.
    follows: BTreeMap<usize, Known<bool>>,
    /// Statuses the user favourited, or took the favourite back from.
    favourites: BTreeMap<String, Known<bool>>,
    /// The display name last set.
    name: Option<Known<String>>,
}

struct World {
    fleet: Fleet,
    users: Vec<(String, String)>,
    /// Live statuses anyone may favourite (ids), shared by the clients.
    statuses: std::sync::Mutex<Vec<String>>,
    stop: AtomicBool,
    /// Writes go to every process but this one (`usize::MAX`: none).
    no_writes_to: AtomicUsize,
    requests: AtomicU64,
    failures: std::sync::Mutex<Vec<String>>,
}

impl World {
    fn fail(&self, what: String) {
        self.failures.lock().unwrap().push(what);
    }

    /// Sends through process `p`; records a 5xx as a failure.
    async fn send(
        &self,
        p: usize,
        method: Method,
        path: &str,
        who: usize,
        body: Option<Value>,
    ) -> (u16, Value) {
        let token = &self.users[who].1;
        let (status, answer) = self
            .fleet
            .send(p, method.clone(), path, Some(token), body.as_ref())
            .await;
        self.requests.fetch_add(1, Ordering::Relaxed);
        if status >= 500 {
            self.fail(format!(
                "process {p} answered {status} to {method} {path}: {answer}"
            ));
        }
        (status, answer)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_processes_lose_nothing_through_redis_and_process_faults() {
    let db = TestDb::postgres().await;
    let mut redis = PrivateRedis::start();
    let redis_port = redis.port;
    let prefix = random_cache_prefix();
    let data_dir = std::env::temp_dir().join(format!("perch-soak-{}", uuid::Uuid::new_v4()));
    let shared = Shared {
        database_url: db.url.clone(),
        redis_url: redis.url(),
        prefix: prefix.clone(),
        data_dir: data_dir.clone(),
    };
    let fleet = Fleet::start(shared, PROCESSES).await;
    let mut users = Vec::new();
    for i in 0..USERS {
        users.push(fleet.register(i % PROCESSES, &format!("soak{i}")).await);
    }
    let world = Arc::new(World {
        fleet,
        users,
        statuses: Default::default(),
        stop: AtomicBool::new(false),
        no_writes_to: AtomicUsize::new(usize::MAX),
        requests: AtomicU64::new(0),
        failures: Default::default(),
    });
    let started = Instant::now();
    let clients: Vec<_> = (0..USERS)
        .map(|i| {
            let world = world.clone();
            tokio::spawn(async move { client(&world, i).await })
        })
        .collect();

    // The faults, a couple of seconds apart.
    let pause = Duration::from_secs(2);
    tokio::time::sleep(pause).await;
    redis.signal("STOP");
    tokio::time::sleep(pause).await;
    redis.signal("CONT");
    tokio::time::sleep(pause).await;
    drop(redis);
    tokio::time::sleep(pause).await;
    redis = PrivateRedis::start_on(redis_port);
    tokio::time::sleep(pause).await;
    world.no_writes_to.store(DOOMED, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(300)).await;
    world.fleet.kill(DOOMED);
    tokio::time::sleep(pause).await;
    world.fleet.restart(DOOMED).await;
    world.no_writes_to.store(usize::MAX, Ordering::Relaxed);
    tokio::time::sleep(pause).await;
    world.stop.store(true, Ordering::Relaxed);
    let mut ledgers = Vec::new();
    for c in clients {
        ledgers.push(c.await.expect("client"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let requests = world.requests.load(Ordering::Relaxed);
    eprintln!(
        "soak: {requests} requests in {elapsed:.1} s ({:.0}/s) through {PROCESSES} processes",
        requests as f64 / elapsed
    );
    let failures = world.failures.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "{} failures, first: {:#?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );

    // Fan-out done, edits made while Redis was away replayed.
    for _ in 0..200 {
        if perch::db::feeds::pending_jobs(&db.db).await.unwrap_or(1) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let probe = RedisProbe::connect(&redis.url(), &prefix).await;
    check(&world, &ledgers, &probe).await;
    drop(probe);
    drop(world);
    drop(redis);
    db.finish().await;
    let _ = std::fs::remove_dir_all(data_dir);
}

/// One client, acting as account `me`, until told to stop.
async fn client(world: &World, me: usize) -> Ledger {
    let mut rng = StdRng::seed_from_u64(me as u64 * 7919 + 17);
    let mut ledger = Ledger::default();
    let mut round = 0u64;
    while !world.stop.load(Ordering::Relaxed) {
        round += 1;
        let doomed = world.no_writes_to.load(Ordering::Relaxed);
        let p = loop {
            let p = rng.random_range(0..PROCESSES);
            if p != doomed {
                break p;
            }
        };
        let any = rng.random_range(0..PROCESSES);
        let roll: u32 = rng.random_range(0..100);
        if roll < 40 {
            let who = rng.random_range(0..USERS);
            let path = read_paths(world, who).swap_remove(rng.random_range(0..7));
            world.send(any, Method::GET, &path, me, None).await;
        } else if roll < 55 {
            let body = json!({ "status": format!("soak {me}.{round}") });
            let (status, answer) = world
                .send(p, Method::POST, "/api/v1/statuses", me, Some(body))
                .await;
            if status == 200
                && let Some(id) = answer["id"].as_str()
            {
                ledger.posts.insert(id.to_owned(), Known::Sure(true));
                world.statuses.lock().unwrap().push(id.to_owned());
            }
        } else if roll < 63 {
            let live: Vec<String> = ledger
                .posts
                .iter()
                .filter(|(_, k)| **k == Known::Sure(true))
                .map(|(id, _)| id.clone())
                .collect();
            if let Some(id) = live.choose(&mut rng) {
                let (status, _) = world
                    .send(
                        p,
                        Method::DELETE,
                        &format!("/api/v1/statuses/{id}"),
                        me,
                        None,
                    )
                    .await;
                let known = match status {
                    200 => Known::Sure(false),
                    _ => Known::Unsure,
                };
                ledger.posts.insert(id.clone(), known);
                world.statuses.lock().unwrap().retain(|s| s != id);
            }
        } else if roll < 76 {
            let other = (me + rng.random_range(1..USERS)) % USERS;
            let on = ledger.follows.get(&other) != Some(&Known::Sure(true));
            let verb = if on { "follow" } else { "unfollow" };
            let path = format!("/api/v1/accounts/{}/{verb}", world.users[other].0);
            let (status, _) = world.send(p, Method::POST, &path, me, None).await;
            let known = if status == 200 {
                Known::Sure(on)
            } else {
                Known::Unsure
            };
            ledger.follows.insert(other, known);
        } else if roll < 92 {
            let pick = world.statuses.lock().unwrap().choose(&mut rng).cloned();
            if let Some(id) = pick {
                let on = ledger.favourites.get(&id) != Some(&Known::Sure(true));
                let verb = if on { "favourite" } else { "unfavourite" };
                let (status, _) = world
                    .send(
                        p,
                        Method::POST,
                        &format!("/api/v1/statuses/{id}/{verb}"),
                        me,
                        None,
                    )
                    .await;
                let known = match status {
                    200 => Known::Sure(on),
                    // Deleted meanwhile: its favourites went with it.
                    404 => Known::Sure(false),
                    _ => Known::Unsure,
                };
                ledger.favourites.insert(id, known);
            }
        } else {
            let name = format!("Soak {me} #{round}");
            let body = json!({ "display_name": name });
            let (status, _) = world
                .send(
                    p,
                    Method::PATCH,
                    "/api/v1/accounts/update_credentials",
                    me,
                    Some(body),
                )
                .await;
            ledger.name = Some(if status == 200 {
                Known::Sure(name)
            } else {
                Known::Unsure
            });
        }
    }
    ledger
}

/// The reads of the workload about account `who`.
fn read_paths(world: &World, who: usize) -> Vec<String> {
    let id = &world.users[who].0;
    vec![
        "/api/v1/timelines/home".to_owned(),
        "/api/v1/timelines/public".to_owned(),
        format!("/api/v1/accounts/{id}"),
        format!("/api/v1/accounts/{id}/statuses"),
        format!("/api/v1/accounts/{id}/followers"),
        format!("/api/v1/accounts/{id}/following"),
        "/api/v1/notifications".to_owned(),
    ]
}

/// Every read through every process, compared with SQL; then each
/// ledger's answered writes, through every process.
async fn check(world: &World, ledgers: &[Ledger], probe: &RedisProbe) {
    let fleet = &world.fleet;
    let mut cached = Vec::new();
    for me in 0..USERS {
        let token = &world.users[me].1;
        for path in read_paths(world, me)
            .into_iter()
            .chain(["/api/v1/favourites".to_owned()])
        {
            let answers: Vec<(u16, Value)> =
                futures::future::join_all((0..PROCESSES).map(|p| fleet.get(p, &path, token))).await;
            cached.push((me, path, answers));
        }
    }
    probe.delete_all().await;
    for (me, path, answers) in cached {
        let (status, fresh) = fleet.get(0, &path, &world.users[me].1).await;
        assert_eq!(status, 200, "{path}: {fresh}");
        for (p, (status, answer)) in answers.iter().enumerate() {
            assert_eq!(*status, 200, "process {p}, {path}");
            if let Some(at) = first_difference(answer, &fresh, String::new()) {
                panic!("process {p}'s answer to {path} (as soak{me}) is not what SQL says: {at}");
            }
        }
    }
    for (me, ledger) in ledgers.iter().enumerate() {
        let token = &world.users[me].1;
        for p in 0..PROCESSES {
            for (id, known) in &ledger.posts {
                if let Known::Sure(live) = known {
                    let (status, _) = fleet.get(p, &format!("/api/v1/statuses/{id}"), token).await;
                    assert_eq!(
                        status,
                        if *live { 200 } else { 404 },
                        "process {p}: status {id}"
                    );
                }
            }
            for (other, known) in &ledger.follows {
                if let Known::Sure(on) = known {
                    let path = format!(
                        "/api/v1/accounts/relationships?id[]={}",
                        world.users[*other].0
                    );
                    let (_, answer) = fleet.get(p, &path, token).await;
                    assert_eq!(
                        answer[0]["following"], *on,
                        "process {p}: soak{me} follows soak{other}"
                    );
                }
            }
            for (id, known) in &ledger.favourites {
                if let Known::Sure(on) = known {
                    let (status, answer) =
                        fleet.get(p, &format!("/api/v1/statuses/{id}"), token).await;
                    if status == 200 {
                        assert_eq!(
                            answer["favourited"], *on,
                            "process {p}: soak{me} favourited {id}"
                        );
                    }
                }
            }
            if let Some(Known::Sure(name)) = &ledger.name {
                let (_, answer) = fleet
                    .get(p, &format!("/api/v1/accounts/{}", world.users[me].0), token)
                    .await;
                assert_eq!(
                    answer["display_name"],
                    name.as_str(),
                    "process {p}: soak{me}'s name"
                );
            }
        }
    }
}

/// Where two answers first differ (a JSON path and both values), if they do.
fn first_difference(a: &Value, b: &Value, at: String) -> Option<String> {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                let ids = |v: &Vec<Value>| v.iter().map(|e| e["id"].clone()).collect::<Vec<_>>();
                return Some(format!(
                    "{at}: {} items (ids {:?}) where SQL has {} (ids {:?})",
                    x.len(),
                    ids(x),
                    y.len(),
                    ids(y)
                ));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (x, y))| first_difference(x, y, format!("{at}[{i}]")))
        }
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                let (x, y) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                first_difference(x, y, format!("{at}.{k}"))
            })
        }
        _ if a == b => None,
        _ => Some(format!("{at}: {a} where SQL has {b}")),
    }
}
