//! Seeding a running server (`--url`) through its own HTTP API.
//!
//! The server's limits apply: sign-up allows 20 accounts an hour per client
//! address and posting 10 statuses a minute per user. The bench registers
//! accounts until the first 429 and posts until every account it has is
//! limited, then goes on with what it made (the report gives the sizes
//! made next to the sizes asked). Follows and favourites are not limited.

use anyhow::Context;
use futures::StreamExt;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use super::options::Sizes;
use super::progress::Progress;
use super::seed::{Dataset, draw_pairs, status_text};
use super::zipf::Zipf;

/// Requests in flight while seeding.
const PARALLELISM: usize = 8;

async fn post(
    client: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> anyhow::Result<(u16, Value)> {
    let mut request = client.post(url).json(&body);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, body))
}

/// Registers accounts, posts, follows and favourites on `base`.
pub async fn seed_http(
    client: &reqwest::Client,
    base: &str,
    sizes: Sizes,
    seed: u64,
    run_id: &str,
    progress: &Progress,
) -> anyhow::Result<Dataset> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut data = Dataset::default();
    let bar = progress.phase("accounts", sizes.accounts as u64);
    for i in 0..sizes.accounts {
        let body = json!({
            "username": format!("b{run_id}_{i}"),
            "email": format!("b{run_id}_{i}@bench.invalid"),
            "password": format!("bench-{run_id}-password"),
            "agreement": true,
        });
        let (status, answer) = post(client, format!("{base}/api/v1/accounts"), None, body).await?;
        if status == 429 {
            eprintln!(
                "perch bench: the server's sign-up limit stopped registration at {i} accounts \
                 (20 an hour per address); going on with those"
            );
            break;
        }
        anyhow::ensure!(status == 200, "POST /api/v1/accounts: {status} {answer}");
        let token = answer["access_token"]
            .as_str()
            .context("sign-up answered no access_token")?
            .to_string();
        let me: Value = client
            .get(format!("{base}/api/v1/accounts/verify_credentials"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        let id = me["id"]
            .as_str()
            .and_then(|s| s.parse::<i64>().ok())
            .context("verify_credentials answered no id")?;
        data.accounts.push(id);
        data.tokens.push(token);
        bar.inc(1);
    }
    bar.finish_and_clear();
    anyhow::ensure!(
        data.accounts.len() >= 2,
        "at least two accounts are needed; the server registered {}",
        data.accounts.len()
    );

    let n = data.accounts.len();
    let bar = progress.phase("statuses", sizes.statuses as u64);
    let mut limited = vec![false; n];
    let mut user = 0;
    for i in 0..sizes.statuses {
        if limited.iter().all(|l| *l) {
            eprintln!(
                "perch bench: every account reached the posting limit (10 a minute) after {i} statuses; going on with those"
            );
            break;
        }
        while limited[user] {
            user = (user + 1) % n;
        }
        let body = json!({ "status": status_text(&mut rng, i), "visibility": "public" });
        let url = format!("{base}/api/v1/statuses");
        let (status, answer) = post(client, url, Some(&data.tokens[user]), body).await?;
        match status {
            429 => limited[user] = true,
            200 => {
                let id = answer["id"].as_str().and_then(|s| s.parse::<i64>().ok());
                data.statuses.extend(id);
                bar.inc(1);
            }
            other => anyhow::bail!("POST /api/v1/statuses: {other} {answer}"),
        }
        user = (user + 1) % n;
    }
    bar.finish_and_clear();
    anyhow::ensure!(!data.statuses.is_empty(), "no status could be posted");

    let pairs = draw_pairs(&mut rng, sizes.follows, n, &Zipf::new(n, 1.0), n, true);
    let bar = progress.phase("follows", pairs.len() as u64);
    data.follows = relate(
        client,
        &pairs,
        |&(a, b)| {
            (
                format!("{base}/api/v1/accounts/{}/follow", data.accounts[b]),
                data.tokens[a].as_str(),
            )
        },
        &bar,
    )
    .await;
    bar.finish_and_clear();

    let s = data.statuses.len();
    let likes = draw_pairs(&mut rng, sizes.favourites, n, &Zipf::new(s, 1.0), s, false);
    let bar = progress.phase("favourites", likes.len() as u64);
    data.favourites = relate(
        client,
        &likes,
        |&(a, st)| {
            (
                format!("{base}/api/v1/statuses/{}/favourite", data.statuses[st]),
                data.tokens[a].as_str(),
            )
        },
        &bar,
    )
    .await;
    bar.finish_and_clear();
    Ok(data)
}

/// POSTs one request per pair; how many answered 2xx.
async fn relate<'a, F>(
    client: &reqwest::Client,
    pairs: &'a [(usize, usize)],
    request: F,
    bar: &indicatif::ProgressBar,
) -> usize
where
    F: Fn(&'a (usize, usize)) -> (String, &'a str) + 'a,
{
    futures::stream::iter(pairs.iter().map(request))
        .map(|(url, token)| async move {
            let ok = matches!(
                post(client, url, Some(token), json!({})).await,
                Ok((200..=299, _))
            );
            bar.inc(1);
            ok
        })
        .buffer_unordered(PARALLELISM)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await
}
