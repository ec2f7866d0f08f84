//! Tests of `signature.rs`: what Mastodon signs verifies, and every way a
//! request can be changed or mis-signed is refused with its reason.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use rsa::{RsaPrivateKey, RsaPublicKey};

use super::*;

/// Two keys, made once (a 2048-bit key takes a moment).
static KEYS: LazyLock<(RsaPrivateKey, RsaPrivateKey)> = LazyLock::new(|| {
    let mut rng = rand_core::OsRng;
    (
        RsaPrivateKey::new(&mut rng, 2048).expect("a key"),
        RsaPrivateKey::new(&mut rng, 2048).expect("a key"),
    )
});

const KEY_ID: &str = "https://remote.example/users/bob#main-key";
const BODY: &[u8] = br#"{"type":"Follow","actor":"https://remote.example/users/bob"}"#;

/// A POST to an inbox as Mastodon sends it: the headers it signs, and the
/// request's headers.
fn mastodon_post(at: SystemTime, body: &[u8]) -> Vec<(String, String)> {
    let (key, _) = &*KEYS;
    let date = date(at);
    let digest = digest(body);
    let signed = [
        ("host", "perch.example"),
        ("date", date.as_str()),
        ("digest", digest.as_str()),
        ("content-type", "application/activity+json"),
    ];
    let signature = sign(key, KEY_ID, "POST", "/users/alice/inbox", &signed);
    let mut headers: Vec<(String, String)> = signed
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    headers.push(("signature".into(), signature));
    headers
}

fn lookup(headers: &[(String, String)]) -> impl Fn(&str) -> Option<String> + '_ {
    move |name| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
}

fn check(
    headers: &[(String, String)],
    path: &str,
    body: &[u8],
    key: &RsaPublicKey,
    now: SystemTime,
) -> Result<(), SignatureError> {
    let header = lookup(headers)("signature").ok_or(SignatureError::Malformed("none"))?;
    Signature::parse(&header)?.verify("POST", path, lookup(headers), body, key, now)
}

fn public() -> RsaPublicKey {
    RsaPublicKey::from(&KEYS.0)
}

#[test]
fn a_signed_post_verifies_and_names_its_key() {
    let now = SystemTime::now();
    let headers = mastodon_post(now, BODY);
    let parsed = Signature::parse(&lookup(&headers)("signature").unwrap()).unwrap();
    assert_eq!(parsed.key_id, KEY_ID);
    assert_eq!(
        parsed.headers,
        ["(request-target)", "host", "date", "digest", "content-type"]
    );
    assert_eq!(
        check(&headers, "/users/alice/inbox", BODY, &public(), now),
        Ok(())
    );
    // Verified later within the window, and with header names in any case.
    let later = now + Duration::from_secs(11 * 3600);
    assert_eq!(
        check(&headers, "/users/alice/inbox", BODY, &public(), later),
        Ok(())
    );
}

#[test]
fn every_change_to_the_request_is_refused() {
    let now = SystemTime::now();
    let headers = mastodon_post(now, BODY);
    let inbox = "/users/alice/inbox";
    let changed_body = br#"{"type":"Follow","actor":"https://remote.example/users/eve"}"#;
    assert_eq!(
        check(&headers, inbox, changed_body, &public(), now),
        Err(SignatureError::Digest)
    );
    assert_eq!(
        check(&headers, "/inbox", BODY, &public(), now),
        Err(SignatureError::Invalid)
    );
    let other = RsaPublicKey::from(&KEYS.1);
    assert_eq!(
        check(&headers, inbox, BODY, &other, now),
        Err(SignatureError::Invalid)
    );
    let mut moved = headers.clone();
    moved[0].1 = "evil.example".into();
    assert_eq!(
        check(&moved, inbox, BODY, &public(), now),
        Err(SignatureError::Invalid)
    );
    let mut retyped = headers.clone();
    retyped[3].1 = "text/plain".into();
    assert_eq!(
        check(&retyped, inbox, BODY, &public(), now),
        Err(SignatureError::Invalid)
    );
    // A Digest that was recomputed for the new body breaks the signature.
    let mut redigested = headers.clone();
    redigested[2].1 = digest(changed_body);
    assert_eq!(
        check(&redigested, inbox, changed_body, &public(), now),
        Err(SignatureError::Invalid)
    );
}

#[test]
fn a_date_outside_twelve_hours_is_refused() {
    let now = SystemTime::now();
    let inbox = "/users/alice/inbox";
    let old = mastodon_post(now - Duration::from_secs(13 * 3600), BODY);
    assert_eq!(
        check(&old, inbox, BODY, &public(), now),
        Err(SignatureError::Date)
    );
    let future = mastodon_post(now + Duration::from_secs(13 * 3600), BODY);
    assert_eq!(
        check(&future, inbox, BODY, &public(), now),
        Err(SignatureError::Date)
    );
    let mut garbled = mastodon_post(now, BODY);
    garbled[1].1 = "yesterday".into();
    assert_eq!(
        check(&garbled, inbox, BODY, &public(), now),
        Err(SignatureError::Date)
    );
}

#[test]
fn a_signature_must_cover_what_mastodon_covers() {
    let (key, _) = &*KEYS;
    let now = SystemTime::now();
    let date = date(now);
    // Signed without the digest: the body could be anything.
    let signature = sign(
        key,
        KEY_ID,
        "POST",
        "/inbox",
        &[("host", "perch.example"), ("date", &date)],
    );
    let headers = vec![
        ("host".to_owned(), "perch.example".to_owned()),
        ("date".to_owned(), date.clone()),
        ("digest".to_owned(), digest(BODY)),
        ("signature".to_owned(), signature),
    ];
    assert_eq!(
        check(&headers, "/inbox", BODY, &public(), now),
        Err(SignatureError::Uncovered("digest"))
    );
    // Signed without the host: it could be replayed to another server.
    let signature = sign(key, KEY_ID, "GET", "/users/alice", &[("date", &date)]);
    let parsed = Signature::parse(&signature).unwrap();
    let get = parsed.verify("GET", "/users/alice", lookup(&headers), b"", &public(), now);
    assert_eq!(get, Err(SignatureError::Uncovered("host")));
    // A covered header the request lacks.
    let mut missing = mastodon_post(now, BODY);
    missing.retain(|(n, _)| n != "content-type");
    let result = check(&missing, "/users/alice/inbox", BODY, &public(), now);
    assert_eq!(result, Err(SignatureError::Missing("content-type".into())));
}

#[test]
fn malformed_headers_are_refused_without_panicking() {
    for header in [
        "",
        "keyId",
        "keyId=abc",
        "keyId=\"abc",
        "keyId=\"k\",signature=\"not base64!\"",
        "signature=\"AAAA\"",
        "keyId=\"k\"",
        "keyId=\"k\",algorithm=\"hmac-sha256\",signature=\"AAAA\"",
        "=,=,=\"\"",
    ] {
        assert!(Signature::parse(header).is_err(), "{header:?} parsed");
    }
    // A well-formed header with a signature of the wrong size.
    let now = SystemTime::now();
    let mut headers = mastodon_post(now, BODY);
    let short = "keyId=\"k\",headers=\"(request-target) host date digest\",signature=\"AAAA\"";
    headers.last_mut().unwrap().1 = short.to_owned();
    assert_eq!(
        check(&headers, "/users/alice/inbox", BODY, &public(), now),
        Err(SignatureError::Invalid)
    );
}
