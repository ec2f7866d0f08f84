//! Fetching a remote ActivityPub document (an actor, for its key) under
//! the safety rules of `address.rs`: the host is not a blocked domain,
//! every address it resolves to is public (unless the operator allows
//! private ones), the connection goes to the address that was checked (no
//! second lookup to rebind), redirects are not followed, and the answer is
//! bounded in time and size. `https` is verified against the system's
//! certificate roots.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;

use super::address::non_public;
use crate::config::FederationSettings;

/// The longest a fetch may take, connection included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest document taken (an actor is a few KB).
pub const MAX_DOCUMENT: usize = 256 * 1024;

/// Why a remote document could not be had.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not an `http(s)://host/…` URL.
    #[error("not a fetchable URL: {0}")]
    Url(String),
    /// The host is a blocked domain.
    #[error("{0} is a blocked domain")]
    Blocked(String),
    /// The host resolves to an address Perch does not reach.
    #[error("{0} resolves to a non-public address")]
    NonPublic(String),
    /// DNS, connection, timeout, or an answer other than 200.
    #[error("fetching {url} failed: {why}")]
    Failed {
        /// What was fetched.
        url: String,
        /// What went wrong.
        why: String,
    },
    /// Over [`MAX_DOCUMENT`], or not JSON.
    #[error("{0} did not answer a JSON document of at most 256 KB")]
    Document(String),
}

/// A client that reaches `url`'s host at an address checked under the
/// rules above (and only there), with the URL parsed.
pub async fn client_for(
    settings: &FederationSettings,
    url: &str,
) -> Result<(reqwest::Client, reqwest::Url), FetchError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| FetchError::Url(url.to_owned()))?;
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| FetchError::Url(url.to_owned()))?
        .to_owned();
    // https is checked against the system's roots (rustls): the
    // connection goes to the pinned address, the certificate must name
    // the host.
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(FetchError::Url(url.to_owned()));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(FetchError::Url(url.to_owned()));
    }
    if settings.blocked.blocks(&host) {
        return Err(FetchError::Blocked(host));
    }
    let port = parsed.port_or_known_default().unwrap_or(80);
    let failed = |why: String| FetchError::Failed {
        url: url.to_owned(),
        why,
    };
    let lookup = tokio::time::timeout(
        FETCH_TIMEOUT,
        tokio::net::lookup_host((host.as_str(), port)),
    );
    let addrs: Vec<SocketAddr> = lookup
        .await
        .map_err(|_| failed("DNS timed out".into()))?
        .map_err(|e| failed(e.to_string()))?
        .collect();
    let Some(first) = addrs.first().copied() else {
        return Err(failed("no address".into()));
    };
    if !settings.allow_private && addrs.iter().any(|a| non_public(a.ip())) {
        return Err(FetchError::NonPublic(host));
    }
    // This client reaches the host at the address just checked only.
    let client = reqwest::Client::builder()
        .resolve(&host, first)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(FETCH_TIMEOUT)
        .user_agent(concat!("Perch/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| failed(e.to_string()))?;
    Ok((client, parsed))
}

/// The `Host` header (with the port when it is not the scheme's) and the
/// path with its query, as a request to `url` is signed over.
pub fn host_and_path(url: &reqwest::Url) -> (String, String) {
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    };
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    (host, path)
}

/// What signs a fetch: the server's key, as its instance actor.
pub struct Signer {
    /// The server's private key.
    pub key: rsa::RsaPrivateKey,
    /// `{base}/actor#main-key`.
    pub key_id: String,
}

/// Fetches `url` as ActivityPub JSON, signed when `signer` is given.
pub async fn fetch_json(
    settings: &FederationSettings,
    url: &str,
    signer: Option<&Signer>,
) -> Result<Value, FetchError> {
    let accept = "application/activity+json, application/ld+json";
    fetch_typed(settings, url, accept, signer).await
}

/// Fetches `url` as JSON, asking for `accept` (WebFinger answers JRD),
/// signed (`(request-target) host date`) when `signer` is given, as
/// servers in Mastodon's "authorized fetch" mode require.
pub async fn fetch_typed(
    settings: &FederationSettings,
    url: &str,
    accept: &str,
    signer: Option<&Signer>,
) -> Result<Value, FetchError> {
    let (client, parsed) = client_for(settings, url).await?;
    let mut request = client.get(parsed.clone());
    if let Some(signer) = signer {
        let (host, path) = host_and_path(&parsed);
        let date = super::signature::date(std::time::SystemTime::now());
        let signature = super::signature::sign(
            &signer.key,
            &signer.key_id,
            "GET",
            &path,
            &[("host", &host), ("date", &date)],
        );
        request = request
            .header("host", host)
            .header("date", date)
            .header("signature", signature);
    }
    let failed = |why: String| FetchError::Failed {
        url: url.to_owned(),
        why,
    };
    let response = request
        .header(reqwest::header::ACCEPT, accept)
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(failed(format!("answered {}", response.status())));
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_DOCUMENT as u64)
    {
        return Err(FetchError::Document(url.to_owned()));
    }
    let mut response = response;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| failed(e.to_string()))? {
        if body.len() + chunk.len() > MAX_DOCUMENT {
            return Err(FetchError::Document(url.to_owned()));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|_| FetchError::Document(url.to_owned()))
}
