//! Property test of key building: random text (wildcards, separators,
//! braces, whitespace, control and non-ASCII characters, over-long values)
//! never panics, is accepted exactly when it is a valid segment, and every
//! key built from accepted text has one hash tag and nothing a Redis
//! pattern or protocol could misread.

use std::net::IpAddr;
use std::str::FromStr;

use perch_cache::{Endpoint, Key, KeyPrefix, Segment, Subject, TokenId, UserId};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const NASTY: &[char] = &[
    '*', '?', ':', '{', '}', '[', ']', ' ', '\t', '\n', '\r', '\0', '\\', '"', '\'', '/', '%', '#',
    'é', 'ß', '漢', '🙂', '\u{200b}', '-', '_', '.', '@', 'a', 'Z', '0', '9',
];

fn random_text(rng: &mut StdRng) -> String {
    // Now and then a number, as ids arrive in URLs: signed, padded, huge.
    if rng.random_bool(0.1) {
        let n: i64 = rng.random();
        return match rng.random_range(0..4) {
            0 => n.to_string(),
            1 => format!("+{}", n.unsigned_abs()),
            2 => format!("00{}", n.unsigned_abs()),
            _ => format!("{}9", n.unsigned_abs()),
        };
    }
    let len = match rng.random_range(0..10) {
        0 => 0,
        1 => rng.random_range(120..140),
        2 => rng.random_range(200..400),
        _ => rng.random_range(1..24),
    };
    (0..len)
        .map(|_| {
            if rng.random_bool(0.5) {
                NASTY[rng.random_range(0..NASTY.len())]
            } else {
                char::from(rng.random_range(0x20u8..0x7f))
            }
        })
        .collect()
}

fn valid_segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
}

/// A rendered key: the prefix, then one of the seed's patterns whose only
/// braces are one hash tag, and no character outside the segment alphabet,
/// `:` and that tag.
fn assert_well_formed(key: &str, prefix: &str) {
    let rest = key.strip_prefix(prefix).expect("prefix first");
    assert!(
        !rest.contains(|c: char| c.is_whitespace()
            || c.is_control()
            || c == '*'
            || c == '?'
            || c == '['),
        "{key:?}"
    );
    assert!(
        rest.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@:{}".contains(c)),
        "{key:?}"
    );
    let opens = rest.matches('{').count();
    let closes = rest.matches('}').count();
    assert!(
        opens <= 1 && opens == closes,
        "one hash tag at most: {key:?}"
    );
}

#[test]
fn random_text_never_builds_a_bad_key() {
    let mut rng = StdRng::seed_from_u64(0x5eed_cafe);
    let prefix = KeyPrefix::new("perch:").unwrap();
    let mut accepted = 0;
    for _ in 0..20_000 {
        let text = random_text(&mut rng);
        let ok = valid_segment(&text);
        assert_eq!(Segment::new(&text).is_ok(), ok, "{text:?}");
        assert_eq!(Endpoint::new(&text).is_ok(), ok, "{text:?}");
        assert_eq!(Subject::name(&text).is_ok(), ok, "{text:?}");
        match TokenId::new(&text) {
            Ok(token) => {
                assert!(ok, "{text:?}");
                accepted += 1;
                assert_well_formed(&Key::Blacklist(token).render(&prefix), "perch:");
                let subject = Subject::name(&text).unwrap();
                let endpoint = Endpoint::new(&text).unwrap();
                assert_well_formed(&Key::RateLimit(subject, endpoint).render(&prefix), "perch:");
            }
            Err(_) => assert!(!ok, "{text:?}"),
        }
        match UserId::from_str(&text) {
            Ok(id) => {
                assert_eq!(text.parse::<i64>().ok(), Some(id.0), "{text:?}");
                for key in Key::user_keys(id) {
                    assert_well_formed(&key.render(&prefix), "perch:");
                }
            }
            Err(_) => assert!(
                text.parse::<i64>().is_err() || !valid_segment(&text),
                "{text:?}"
            ),
        }
        let prefix_ok = text.len() <= 64
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.@:".contains(c));
        assert_eq!(KeyPrefix::new(&text).is_ok(), prefix_ok, "{text:?}");
    }
    assert!(
        accepted > 300,
        "the generator also makes valid segments ({accepted})"
    );
}

#[test]
fn every_address_makes_a_valid_subject() {
    let mut rng = StdRng::seed_from_u64(7);
    let prefix = KeyPrefix::default();
    for _ in 0..5_000 {
        let addr: IpAddr = if rng.random_bool(0.5) {
            IpAddr::from(rng.random::<[u8; 4]>())
        } else {
            IpAddr::from(rng.random::<[u8; 16]>())
        };
        let subject = Subject::ip(addr);
        assert!(
            valid_segment(subject.as_str()),
            "{addr} -> {:?}",
            subject.as_str()
        );
        let key = Key::RateLimit(subject, Endpoint::new("login").unwrap()).render(&prefix);
        assert_well_formed(&key, "");
    }
}
