//! The `perch` binary itself: bad settings stop it with one line and exit
//! code 2, SIGTERM stops it cleanly, `migrate` applies and exits, and its
//! logs never hold a secret or a token.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

fn perch() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_perch"));
    for var in [
        "DATABASE_URL",
        "REDIS_URL",
        "PERCH_BIND",
        "PERCH_DATA_DIR",
        "PERCH_JWT_SECRET",
    ] {
        cmd.env_remove(var);
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

#[test]
fn bad_settings_stop_with_one_line_and_exit_code_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["serve", "--cache-max-memory", "huge"],
            "PERCH_CACHE_MAX_MEMORY",
        ),
        (&["serve", "--bind", "localhost"], "PERCH_BIND"),
        (&["serve", "--database-url", "mysql://db"], "DATABASE_URL"),
        (
            &["serve", "--database-url", "postgres://u:pw@127.0.0.1:1/x"],
            "DATABASE_URL",
        ),
        (&["serve", "--redis-url", "localhost:6379"], "REDIS_URL"),
        (
            &["serve", "--rate-limit-posts", "10 per minute"],
            "PERCH_RATE_LIMIT_POSTS",
        ),
        (
            &["serve", "--rate-limit-login-address", "0/1m"],
            "PERCH_RATE_LIMIT_LOGIN_ADDRESS",
        ),
        (
            &["serve", "--rate-limit-login-name", "10/1y"],
            "PERCH_RATE_LIMIT_LOGIN_NAME",
        ),
        (
            &["serve", "--rate-limit-signup-address", "20"],
            "PERCH_RATE_LIMIT_SIGNUP_ADDRESS",
        ),
    ];
    for (args, setting) in cases {
        let out = perch().args(*args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: {stderr}");
        assert!(lines[0].contains(setting), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("pw@"),
            "{stderr}"
        );
    }
}

/// A rate limit given in the environment is checked like its flag.
#[test]
fn bad_rate_limits_in_the_environment_exit_2() {
    for var in [
        "PERCH_RATE_LIMIT_POSTS",
        "PERCH_RATE_LIMIT_LOGIN_ADDRESS",
        "PERCH_RATE_LIMIT_LOGIN_NAME",
        "PERCH_RATE_LIMIT_SIGNUP_ADDRESS",
    ] {
        let out = perch().env(var, "lots/1h").arg("serve").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{var}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{var}: {stderr}");
        assert!(
            stderr.contains(var) && stderr.contains("10/1m"),
            "{var}: {stderr}"
        );
    }
}

#[test]
fn sigterm_stops_the_binary_cleanly() {
    let dir = std::env::temp_dir().join(format!("perch-bin-{}", uuid::Uuid::new_v4()));
    let mut child = perch()
        .args(["serve", "--bind", "127.0.0.1:0", "--log", "warn"])
        .arg("--data-dir")
        .arg(&dir)
        .spawn()
        .unwrap();
    // Wait until the database file exists: the server has started.
    for _ in 0..100 {
        if dir.join("perch.db").exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn migrate_applies_and_exits() {
    let dir = std::env::temp_dir().join(format!("perch-mig-{}", uuid::Uuid::new_v4()));
    let out = perch()
        .arg("migrate")
        .arg("--data-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("perch.db").exists());
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_token_is_ever_logged() {
    use std::io::{BufRead, BufReader};
    let dir = std::env::temp_dir().join(format!("perch-logs-{}", uuid::Uuid::new_v4()));
    let jwt_secret = "a-very-secret-signing-key-0123456789-abcdef";
    let mut child = perch()
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--log",
            "trace",
            "--log-format",
            "json",
        ])
        .arg("--data-dir")
        .arg(&dir)
        .env("PERCH_JWT_SECRET", jwt_secret)
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("perch is serving") {
                let _ = tx.send(line.clone());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let serving = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("server started");
    let addr: Value = serde_json::from_str(&serving).unwrap();
    let base = format!("http://{}", addr["addr"].as_str().unwrap());
    let http = reqwest::Client::new();
    let app: Value = http
        .post(format!("{base}/api/v1/apps"))
        .form(&[
            ("client_name", "logtest"),
            ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_secret = app["client_secret"].as_str().unwrap().to_string();
    let password = "correct-horse-battery-staple";
    let signup: Value = http
        .post(format!("{base}/api/v1/accounts"))
        .form(&[
            ("username", "logged"),
            ("email", "l@example.com"),
            ("password", password),
            ("agreement", "true"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first_token = signup["access_token"].as_str().unwrap().to_string();
    let login: Value = http
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "logged"),
            ("password", password),
            ("client_id", app["client_id"].as_str().unwrap()),
            ("client_secret", &client_secret),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_string();
    let me = http
        .get(format!(
            "{base}/api/v1/accounts/verify_credentials?access_token={token}"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let revoked = http
        .post(format!("{base}/oauth/revoke"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    child.wait().unwrap();
    let logs = reader.join().unwrap();
    assert!(logs.len() > 1000, "trace logging is on");
    for secret in [
        password,
        token.as_str(),
        first_token.as_str(),
        client_secret.as_str(),
        jwt_secret,
    ] {
        assert!(
            !logs.contains(secret),
            "a secret reached the logs: {}…",
            &secret[..8]
        );
    }
    // The parts of a JWT would show even if the whole did not.
    let signature = token.rsplit('.').next().unwrap();
    assert!(!logs.contains(signature));
    let _ = std::fs::remove_dir_all(dir);
}
