//! HTTP Signatures as Mastodon signs and checks them (draft-cavage-12,
//! `rsa-sha256` over `(request-target) host date digest`).
//!
//! Written here on `rsa` and `sha2` rather than taken from a crate: the
//! maintained ones (`http-signature-normalization`, `activitypub_federation`)
//! are AGPL-3.0, which Perch's MIT OR Apache-2.0 cannot carry (`deny.toml`).
//! The part that needs care is small: the signing string (the listed
//! headers, lower-cased, in the listed order, `(request-target)` as
//! `method path`), the `Signature` header's `key="value"` list, the body's
//! `Digest`, and the `Date` window.
//!
//! - [`sign`] makes the `Signature` header of a request, given its
//!   `Host`, `Date` and (for a body) `Digest`.
//! - [`Signature::parse`] reads one; [`Signature::verify`] checks it against
//!   the request and the signer's public key: the headers Mastodon signs
//!   must be covered, the `Digest` must be the body's, the `Date` within
//!   [`DATE_WINDOW`] of now, and the RSA signature good.

use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs1v15::{Signature as RsaSignature, SigningKey, VerifyingKey};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest as _, Sha256};

/// How far a request's `Date` may be from now, either way (Mastodon's
/// window).
pub const DATE_WINDOW: Duration = Duration::from_secs(12 * 3600);

/// The headers every signed request must cover; a request with a body
/// must cover `digest` too.
const REQUIRED: [&str; 3] = ["(request-target)", "host", "date"];

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `Signature` header, or one that does not parse.
    #[error("malformed Signature header: {0}")]
    Malformed(&'static str),
    /// An algorithm other than `rsa-sha256` (or `hs2019`, its new name).
    #[error("unsupported signature algorithm {0:?}")]
    Algorithm(String),
    /// A header the signature must cover is not in its list.
    #[error("the signature does not cover {0}")]
    Uncovered(&'static str),
    /// A header the signature covers is not in the request.
    #[error("signed header {0} is missing from the request")]
    Missing(String),
    /// The `Date` is not an HTTP date, or too far from now.
    #[error("the Date header is unreadable or more than 12 hours from now")]
    Date,
    /// The `Digest` is not the body's SHA-256.
    #[error("the Digest header does not match the body")]
    Digest,
    /// The signature does not verify with the key.
    #[error("the signature does not verify")]
    Invalid,
}

/// The `Digest` header of a body: `SHA-256=` and its base64 hash.
pub fn digest(body: &[u8]) -> String {
    format!("SHA-256={}", STANDARD.encode(Sha256::digest(body)))
}

/// The `Date` header for `at` (`Sun, 06 Dec 2026 21:27:13 GMT`).
pub fn date(at: SystemTime) -> String {
    httpdate::fmt_http_date(at)
}

/// The `Signature` header of a request: `method` and `path_and_query` as
/// sent, and the values of `headers` (names lower-case, each signed in
/// this order), by `key`, named `key_id` (the actor's `…#main-key`).
pub fn sign(
    key: &RsaPrivateKey,
    key_id: &str,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
) -> String {
    let names: Vec<&str> = std::iter::once("(request-target)")
        .chain(headers.iter().map(|(n, _)| *n))
        .collect();
    let text = signing_string(method, path_and_query, &names, |name| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap_or_default();
    let signer = SigningKey::<Sha256>::new(key.clone());
    // With a random source the private-key operation is blinded, which is
    // what guards it against the timing attack of RUSTSEC-2023-0071 (the
    // plain `Signer::sign` would sign unblinded).
    let signature = signer.sign_with_rng(&mut rand_core::OsRng, text.as_bytes());
    let signature = STANDARD.encode(signature.to_bytes());
    format!(
        "keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"{}\",signature=\"{signature}\"",
        names.join(" ")
    )
}

/// The signing string: one `name: value` line per listed header, in order.
/// `Err` names a listed header the request does not have.
fn signing_string(
    method: &str,
    path_and_query: &str,
    names: &[&str],
    header: impl Fn(&str) -> Option<String>,
) -> Result<String, SignatureError> {
    let mut lines = Vec::with_capacity(names.len());
    for name in names {
        let value = if *name == "(request-target)" {
            format!("{} {path_and_query}", method.to_ascii_lowercase())
        } else {
            header(name).ok_or_else(|| SignatureError::Missing((*name).to_owned()))?
        };
        lines.push(format!("{name}: {}", value.trim()));
    }
    Ok(lines.join("\n"))
}

/// A parsed `Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The key's id: the signer's actor URL and a fragment.
    pub key_id: String,
    /// The headers signed, lower-case, in order.
    pub headers: Vec<String>,
    signature: Vec<u8>,
}

impl Signature {
    /// Reads a `Signature` header: comma-separated `name="value"` pairs.
    pub fn parse(header: &str) -> Result<Signature, SignatureError> {
        let mut key_id = None;
        let mut headers = None;
        let mut signature = None;
        let mut rest = header.trim();
        while !rest.is_empty() {
            let (name, after) = rest
                .split_once('=')
                .ok_or(SignatureError::Malformed("a field without a value"))?;
            let after = after
                .strip_prefix('"')
                .ok_or(SignatureError::Malformed("a value not in quotes"))?;
            let (value, tail) = after
                .split_once('"')
                .ok_or(SignatureError::Malformed("an unterminated value"))?;
            match name.trim().to_ascii_lowercase().as_str() {
                "keyid" => key_id = Some(value.to_owned()),
                "headers" => {
                    headers = Some(
                        value
                            .split_whitespace()
                            .map(str::to_ascii_lowercase)
                            .collect(),
                    )
                }
                "signature" => {
                    let bytes = STANDARD
                        .decode(value)
                        .map_err(|_| SignatureError::Malformed("a signature not in base64"))?;
                    signature = Some(bytes);
                }
                "algorithm" if !matches!(value, "rsa-sha256" | "hs2019") => {
                    return Err(SignatureError::Algorithm(value.to_owned()));
                }
                _ => {}
            }
            rest = tail.trim_start_matches([',', ' ']);
        }
        Ok(Signature {
            key_id: key_id.ok_or(SignatureError::Malformed("no keyId"))?,
            // The draft's default when `headers` is left out.
            headers: headers.unwrap_or_else(|| vec!["date".to_owned()]),
            signature: signature.ok_or(SignatureError::Malformed("no signature"))?,
        })
    }

    /// Checks the signature of a request: `method`, `path_and_query` as
    /// received, `header` looking up a request header by name, its `body`,
    /// the signer's `key`, at `now` (see the module doc).
    pub fn verify(
        &self,
        method: &str,
        path_and_query: &str,
        header: impl Fn(&str) -> Option<String>,
        body: &[u8],
        key: &RsaPublicKey,
        now: SystemTime,
    ) -> Result<(), SignatureError> {
        let covers = |name: &str| self.headers.iter().any(|h| h == name);
        for name in REQUIRED {
            if !covers(name) {
                return Err(SignatureError::Uncovered(name));
            }
        }
        let has_body = !body.is_empty() || method.eq_ignore_ascii_case("POST");
        if has_body {
            if !covers("digest") {
                return Err(SignatureError::Uncovered("digest"));
            }
            let given = header("digest").ok_or_else(|| SignatureError::Missing("digest".into()))?;
            if !digest_matches(&given, body) {
                return Err(SignatureError::Digest);
            }
        }
        let sent = header("date")
            .and_then(|d| httpdate::parse_http_date(d.trim()).ok())
            .ok_or(SignatureError::Date)?;
        let skew = now
            .duration_since(sent)
            .or_else(|_| sent.duration_since(now))
            .unwrap_or_default();
        if skew > DATE_WINDOW {
            return Err(SignatureError::Date);
        }
        let names: Vec<&str> = self.headers.iter().map(String::as_str).collect();
        let text = signing_string(method, path_and_query, &names, header)?;
        let signature = RsaSignature::try_from(self.signature.as_slice())
            .map_err(|_| SignatureError::Invalid)?;
        VerifyingKey::<Sha256>::new(key.clone())
            .verify(text.as_bytes(), &signature)
            .map_err(|_| SignatureError::Invalid)
    }
}

/// Whether a `Digest` header (possibly several comma-separated digests)
/// holds the body's SHA-256.
fn digest_matches(header: &str, body: &[u8]) -> bool {
    let want = Sha256::digest(body);
    header.split(',').any(|part| {
        let Some((algorithm, value)) = part.trim().split_once('=') else {
            return false;
        };
        algorithm.eq_ignore_ascii_case("sha-256")
            && STANDARD
                .decode(value.trim())
                .is_ok_and(|got| got[..] == want[..])
    })
}

#[cfg(test)]
#[path = "signature_tests.rs"]
mod tests;
