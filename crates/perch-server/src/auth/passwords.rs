//! Argon2id password hashing, run on the blocking pool (a hash takes tens of
//! milliseconds of CPU, which must not stall the async workers).

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// A PHC string of a random password nobody has, verified against when a
/// login names an unknown account, so that answer takes as long as a wrong
/// password and does not reveal which accounts exist.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let secret: [u8; 16] = rand::random();
        Argon2::default()
            .hash_password(&secret)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Hashes a password into a PHC string (`$argon2id$…`) with a random salt.
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
    })
    .await?
}

/// Checks a password against a PHC string. The comparison inside argon2 is
/// constant-time; an unreadable hash counts as a mismatch.
pub async fn verify(password: String, phc: Option<String>) -> bool {
    let known = phc.is_some();
    let matched = tokio::task::spawn_blocking(move || {
        let phc = phc.unwrap_or_else(|| dummy_hash().to_string());
        PasswordHash::new(&phc)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false);
    known && matched
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let phc = hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify("correct horse".into(), Some(phc.clone())).await);
        assert!(!verify("wrong horse".into(), Some(phc.clone())).await);
        assert!(!verify("correct horse".into(), Some("garbage".into())).await);
        assert!(!verify("anything".into(), None).await);
        let again = hash("correct horse".into()).await.unwrap();
        assert_ne!(phc, again, "salts differ");
    }
}
