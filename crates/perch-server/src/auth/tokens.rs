//! Access tokens: HS256 JWTs carrying `sub` (account id), `jti` (token id),
//! `iat`, `exp` and `scope`.
//!
//! Only HS256 is accepted: a token whose header names another algorithm
//! (`none`, an RSA or EC one) is refused before its signature is looked at.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// Seconds of clock skew tolerated when checking `exp`; a revoked token's
/// blacklist entry must outlive `exp` by this much.
pub const LEEWAY_SECS: u64 = 60;

/// The claims of a Perch access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The account id, as a decimal string.
    pub sub: String,
    /// The token id: what revocation blacklists.
    pub jti: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Space-separated scopes.
    pub scope: String,
}

impl Claims {
    /// The account id, if `sub` is one.
    pub fn account_id(&self) -> Option<i64> {
        self.sub.parse().ok()
    }

    /// When the token stops being accepted, leeway included: how long a
    /// revocation must be remembered.
    pub fn rejected_after(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp + LEEWAY_SECS as i64, 0).unwrap_or_else(Utc::now)
    }

    /// When the token was issued.
    pub fn issued_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.iat, 0).unwrap_or_else(Utc::now)
    }
}

/// Tokens remembered as verified, at most; the memo starts over when full.
const VERIFIED_CAP: usize = 8192;

/// Signs and verifies tokens with the server's secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    lifetime: Duration,
    /// Tokens whose signature was checked, with their claims: every
    /// authenticated request presents one, and checking it again (base64,
    /// HMAC, JSON) cost more than the rest of a cached read's own work.
    /// A token is its own key (the same text carries the same signature);
    /// only its expiry needs checking again.
    verified: Arc<Mutex<HashMap<Box<str>, Claims>>>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("TokenKeys")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// Keys for `secret`, issuing tokens valid for `lifetime`.
    pub fn new(secret: &[u8], lifetime: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub", "iat", "jti"]);
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            lifetime,
            verified: Arc::default(),
        }
    }

    /// Issues a token for `account_id` with `scope`, valid from `now`.
    pub fn issue(
        &self,
        account_id: i64,
        scope: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(String, Claims)> {
        let iat = now.timestamp();
        let claims = Claims {
            sub: account_id.to_string(),
            jti: uuid::Uuid::new_v4().simple().to_string(),
            iat,
            exp: iat + self.lifetime.as_secs() as i64,
            scope: scope.to_string(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, claims))
    }

    /// Checks a token's algorithm, signature, `exp` and `nbf`; `None` for any
    /// token that fails (the caller answers 401 without saying why).
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let now = Utc::now().timestamp();
        let unexpired = |claims: &Claims| now <= claims.exp.saturating_add(LEEWAY_SECS as i64);
        let verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(claims) = verified.get(token) {
            return unexpired(claims).then(|| claims.clone());
        }
        drop(verified);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        let claims = data.claims;
        // A token from the future (beyond the leeway) was not issued by us.
        if claims.iat > now + LEEWAY_SECS as i64 || claims.account_id().is_none() {
            return None;
        }
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if verified.len() >= VERIFIED_CAP {
            verified.clear();
        }
        verified.insert(token.into(), claims.clone());
        Some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64_free::*;

    /// Minimal URL-safe base64 (no padding) so the tests can forge tokens
    /// without another dependency.
    mod base64_free {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        pub fn b64(data: &[u8]) -> String {
            let mut out = String::new();
            for chunk in data.chunks(3) {
                let b = [
                    chunk[0],
                    *chunk.get(1).unwrap_or(&0),
                    *chunk.get(2).unwrap_or(&0),
                ];
                let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
                for i in 0..=chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                }
            }
            out
        }
    }

    fn keys() -> TokenKeys {
        TokenKeys::new(
            b"0123456789abcdef0123456789abcdef",
            Duration::from_secs(3600),
        )
    }

    #[test]
    fn issued_tokens_verify() {
        let (token, claims) = keys().issue(42, "read write", Utc::now()).unwrap();
        let back = keys().verify(&token).unwrap();
        assert_eq!(back, claims);
        assert_eq!(back.account_id(), Some(42));
        assert_eq!(back.exp - back.iat, 3600);
    }

    #[test]
    fn forged_tampered_expired_and_foreign_tokens_fail() {
        let k = keys();
        let (token, claims) = k.issue(42, "read", Utc::now()).unwrap();
        // Wrong key.
        let other = TokenKeys::new(b"another-secret-another-secret-xx", Duration::from_secs(60));
        assert!(other.verify(&token).is_none());
        // Tampered payload, original signature.
        let parts: Vec<&str> = token.split('.').collect();
        let mut evil = claims.clone();
        evil.sub = "1".into();
        let payload = b64(serde_json::to_string(&evil).unwrap().as_bytes());
        assert!(
            k.verify(&format!("{}.{}.{}", parts[0], payload, parts[2]))
                .is_none()
        );
        // alg: none, unsigned.
        let none = b64(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(k.verify(&format!("{none}.{payload}.")).is_none());
        // Expired beyond the leeway.
        let long_ago = Utc::now() - chrono::Duration::hours(3);
        let (old, _) = k.issue(42, "read", long_ago).unwrap();
        assert!(k.verify(&old).is_none());
        // Issued in the future.
        let (future, _) = k
            .issue(42, "read", Utc::now() + chrono::Duration::hours(1))
            .unwrap();
        assert!(k.verify(&future).is_none());
        // Garbage.
        assert!(k.verify("not.a.token").is_none());
        assert!(k.verify("").is_none());
    }

    #[test]
    fn a_remembered_token_still_expires() {
        let k = keys();
        // Accepted for about one more second: `exp` + leeway = now + 1.
        let issued = Utc::now() - chrono::Duration::seconds(3600 + LEEWAY_SECS as i64 - 1);
        let (token, claims) = k.issue(42, "read", issued).unwrap();
        assert_eq!(k.verify(&token), Some(claims.clone()));
        // The second time from the memo, with the same claims.
        assert_eq!(k.verify(&token), Some(claims));
        std::thread::sleep(std::time::Duration::from_millis(2100));
        assert!(k.verify(&token).is_none(), "expired while remembered");
    }
}
