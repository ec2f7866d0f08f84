//! The server's ActivityPub key: one RSA-2048 key pair, made the first time
//! an actor is asked for and kept in `server_meta`, so that every Perch
//! process on the database shows the same public key. Actors publish the
//! public half (`publicKey.publicKeyPem`); the private half signs what
//! Perch sends (`federation/signature.rs`).

use rsa::RsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};

use crate::db::meta;
use crate::error::ApiError;
use crate::state::AppState;

/// What a key operation returns: the key, or why the database or the
/// key material failed.
type KeyResult<T> = Result<T, ApiError>;

/// The `server_meta` key of the private key (PKCS#8 PEM).
const META_KEY: &str = "actor_private_key_pem";

/// The public key (SPKI PEM), made and stored on first use.
pub async fn public_pem(state: &AppState) -> KeyResult<String> {
    let pem = state
        .actor_key
        .get_or_try_init(|| async {
            let private = match meta::get(&state.db, META_KEY).await? {
                Some(pem) => pem,
                None => {
                    // Several processes may race here: the first stored
                    // key wins and every one of them reads it back.
                    let made = tokio::task::spawn_blocking(generate)
                        .await
                        .map_err(|e| ApiError::Internal(e.into()))??;
                    meta::get_or_insert(&state.db, META_KEY, &made).await?
                }
            };
            public_of(&private)
        })
        .await?;
    Ok(pem.clone())
}

/// The private key, for signing what Perch sends (made and stored on first
/// use, as the public one).
pub async fn private_key(state: &AppState) -> KeyResult<RsaPrivateKey> {
    public_pem(state).await?;
    let pem = meta::get(&state.db, META_KEY)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the actor key is not stored")))?;
    RsaPrivateKey::from_pkcs8_pem(&pem)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("the stored actor key: {e}")))
}

fn generate() -> KeyResult<String> {
    let key = RsaPrivateKey::new(&mut rand_core::OsRng, 2048)
        .map_err(|e| ApiError::Internal(e.into()))?;
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("encoding the actor key: {e}")))?;
    Ok(pem.to_string())
}

fn public_of(private_pem: &str) -> KeyResult<String> {
    let key = RsaPrivateKey::from_pkcs8_pem(private_pem)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("the stored actor key: {e}")))?;
    key.to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("encoding the actor key: {e}")))
}
