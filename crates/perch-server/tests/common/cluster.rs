//! A private three-node Redis Cluster for tests, started on free ports.
//!
//! [`shared`] starts one per test binary, on first use, for every test that
//! asks (each test keeps to its own key prefix). A static is never dropped,
//! so each node runs under a small shell watchdog that stops it once the
//! test process is gone, however that process ends. (perch-cache's cluster
//! test uses this file too, through `#[path]`.)
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// Three cluster nodes of our own.
pub struct PrivateCluster {
    /// The nodes' ports.
    pub ports: Vec<u16>,
    /// Where their cluster files are.
    pub dir: PathBuf,
    /// The watchdogs (never waited for: each outlives the test process by
    /// half a second, and stops its node as it goes).
    watchdogs: Vec<Child>,
}

/// A port that is free, and whose cluster bus port (+10000) is free too.
fn free_cluster_port() -> u16 {
    loop {
        let port = 20_000 + rand::random::<u16>() % 20_000;
        if TcpListener::bind(("127.0.0.1", port)).is_ok()
            && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok()
        {
            return port;
        }
    }
}

/// The cluster of this test binary, started on first use.
pub fn shared() -> &'static PrivateCluster {
    static CLUSTER: OnceLock<PrivateCluster> = OnceLock::new();
    CLUSTER.get_or_init(PrivateCluster::start)
}

impl PrivateCluster {
    /// Starts three nodes and joins them into one cluster (no replicas).
    pub fn start() -> PrivateCluster {
        let dir =
            std::env::temp_dir().join(format!("perch-cluster-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).expect("cluster directory");
        let me = std::process::id();
        let mut ports = Vec::new();
        let mut watchdogs = Vec::new();
        for _ in 0..3 {
            let port = free_cluster_port();
            let conf = dir.join(format!("nodes-{port}.conf"));
            let server = format!(
                "redis-server --port {port} --bind 127.0.0.1 --cluster-enabled yes \
                 --cluster-config-file {} --save '' --appendonly no --dir {}",
                conf.display(),
                dir.display()
            );
            // The node lives while this test process does.
            let watched = format!(
                "{server} & node=$!; while kill -0 {me} 2>/dev/null && kill -0 $node 2>/dev/null; \
                 do sleep 0.5; done; kill $node 2>/dev/null; wait $node; \
                 rm -f {conf}; rmdir {dir} 2>/dev/null",
                conf = conf.display(),
                dir = dir.display()
            );
            let watchdog = Command::new("sh")
                .args(["-c", &watched])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("sh and redis-server must be installed for this test");
            watchdogs.push(watchdog);
            ports.push(port);
        }
        for port in &ports {
            wait_for(|| redis_cli(*port, &["ping"]).contains("PONG"));
        }
        let mut create = Command::new("redis-cli");
        create.args(["--cluster", "create"]);
        for port in &ports {
            create.arg(format!("127.0.0.1:{port}"));
        }
        let out = create
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .expect("redis-cli must be installed for this test");
        assert!(
            out.status.success(),
            "cluster create: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        for port in &ports {
            wait_for(|| redis_cli(*port, &["cluster", "info"]).contains("cluster_state:ok"));
        }
        PrivateCluster {
            ports,
            dir,
            watchdogs,
        }
    }

    /// The URL Perch takes for it (`redis+cluster://` and one seed node).
    pub fn url(&self) -> String {
        format!("redis+cluster://127.0.0.1:{}", self.ports[0])
    }
}

fn redis_cli(port: u16, args: &[&str]) -> String {
    Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn wait_for(ready: impl Fn() -> bool) {
    for _ in 0..200 {
        if ready() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the private cluster did not come up");
}
