//! gzip for answers that are kept and answered many times as they are.
//!
//! Compressing an answer costs more than sending it over a fast link, so
//! Perch does not compress as it answers. A kept page (the public
//! timeline's first page, see `domain::memo::kept_page`) is different: it is
//! compressed once, by the first reader who asks for gzip, and then every
//! such reader gets about a fifth of the bytes, which is less work for the
//! kernel and the network, and what a phone on a slow link wants. Mastodon's
//! apps and browsers all send `Accept-Encoding: gzip`.

use std::io::Write;

use axum::http::{HeaderMap, header};
use flate2::Compression;
use flate2::write::GzEncoder;

/// Whether the request's `Accept-Encoding` takes gzip (RFC 9110, 12.5.3):
/// `gzip`, `x-gzip` or `*` listed with a weight above zero, and gzip not
/// refused by name with `q=0`.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut named = None;
    let mut any = false;
    let codings = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','));
    for coding in codings {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or("").trim();
        let wanted = parts.all(|param| weight_above_zero(param.trim()));
        if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
            // Named twice: refused if either says so.
            named = Some(named.unwrap_or(true) && wanted);
        } else if name == "*" {
            any = wanted;
        }
    }
    named.unwrap_or(any)
}

/// False for a weight of zero (`q=0`, `q=0.000`) or one that does not
/// parse; true for any other parameter.
fn weight_above_zero(param: &str) -> bool {
    match param.split_once('=') {
        Some((k, v)) if k.trim().eq_ignore_ascii_case("q") => {
            v.trim().parse::<f32>().is_ok_and(|q| q > 0.0)
        }
        _ => true,
    }
}

/// `body` gzipped, at the fastest level (a page is about 20 KB of JSON and
/// shrinks to about a fifth at any level); `None` when the result would not
/// be smaller.
pub fn compress(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::fast());
    out.write_all(body).ok()?;
    let out = out.finish().ok()?;
    (out.len() < body.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use axum::http::HeaderValue;

    use super::*;

    fn accepts(values: &[&str]) -> bool {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(v).expect("test header"),
            );
        }
        accepts_gzip(&headers)
    }

    #[test]
    fn reads_accept_encoding_with_weights() {
        assert!(accepts(&["gzip"]));
        assert!(accepts(&["gzip, deflate, br"]));
        assert!(accepts(&["br;q=1.0, GZIP;q=0.5"]));
        assert!(accepts(&["x-gzip"]));
        assert!(accepts(&["*"]));
        assert!(accepts(&["deflate", "gzip"]));
        assert!(!accepts(&[]));
        assert!(!accepts(&[""]));
        assert!(!accepts(&["identity"]));
        assert!(!accepts(&["deflate, br"]));
        assert!(!accepts(&["gzip;q=0"]));
        assert!(!accepts(&["gzip; q=0.000"]));
        assert!(!accepts(&["gzip;q=nonsense"]));
        assert!(!accepts(&["*, gzip;q=0"]));
        assert!(!accepts(&["*;q=0"]));
        assert!(!accepts(&["gzip", "gzip;q=0"]));
        assert!(accepts(&["*;q=0.1, identity"]));
    }

    #[test]
    fn compresses_so_that_it_inflates_to_the_same_bytes() {
        let body = br#"[{"id":"1","content":"<p>hello</p>"}]"#.repeat(200);
        let gz = compress(&body).expect("repetitive JSON shrinks");
        assert!(gz.len() < body.len() / 4, "{} of {}", gz.len(), body.len());
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut inflated)
            .expect("valid gzip");
        assert_eq!(inflated, body);
        assert!(compress(b"[]").is_none(), "two bytes do not shrink");
    }
}
