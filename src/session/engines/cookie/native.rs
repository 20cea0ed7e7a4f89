//! The native cookie seal: `base64url(nonce ‖ AES-256-GCM(payload) ‖ tag)`,
//! no padding, with the cookie and security names as associated data, and
//! a key ring (the first key seals, every key opens).

use actix_web::cookie::Key;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;

use super::config::Config;
use super::{MAX_COOKIE_BYTES, NAME};
use crate::session::error::{Error, Result};

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Length of the random per-session id sealed with the record.
pub(super) const SESSION_ID_LEN: usize = 16;
const PAYLOAD_VERSION: u8 = 1;

/// What a token opened to: the per-session id, the encoded record, and
/// whether an older key of the ring opened it.
pub(super) struct Unsealed {
    pub session_id: [u8; SESSION_ID_LEN],
    pub encoded: Vec<u8>,
    pub old_key: bool,
}

/// The key ring and the associated data.
pub(super) struct NativeSeal {
    /// The first seals, all open.
    ciphers: Vec<Aes256Gcm>,
    /// Binds the cookie to its names.
    aad: Vec<u8>,
}

impl NativeSeal {
    /// The ring of `securityKeys` (or `securityKey` followed by `blockKey`)
    /// then `oldKeys`.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a missing or short key, unless `devMode`
    /// allows a random first key.
    pub(super) fn new(config: &Config) -> Result<Self> {
        let mut secrets = config.key_ring.clone();
        if secrets.is_empty() {
            secrets.push(format!("{}{}", config.security_key, config.block_key));
        }
        secrets.extend(config.old_keys.iter().cloned());
        let mut keys = Vec::new();
        for (i, secret) in secrets.iter().enumerate() {
            match parse_key(secret) {
                Some(key) => keys.push(key),
                None if i == 0 && config.dev_mode => {
                    tracing::warn!(
                        "cookie session: devMode with no usable key: using a random key, \
                         every session dies on restart"
                    );
                    keys.push(Key::try_generate().ok_or(Error::Rng)?);
                }
                None => {
                    return Err(Error::config(
                        NAME,
                        format!(
                            "key #{} is missing or too short: give at least 32 random bytes \
                             (or hex/base64 of 64), or set devMode for development",
                            i + 1
                        ),
                    ))
                }
            }
        }
        let ciphers = keys.iter().map(cipher).collect::<Result<Vec<_>>>()?;
        let mut aad = b"actix-bee cookie session v1\0".to_vec();
        aad.extend_from_slice(config.cookie_name.as_bytes());
        aad.push(0);
        aad.extend_from_slice(config.security_name.as_bytes());
        Ok(NativeSeal { ciphers, aad })
    }

    /// Seals the per-session id and an encoded record under a fresh nonce.
    pub(super) fn seal(&self, session_id: &[u8; SESSION_ID_LEN], encoded: &[u8]) -> Result<String> {
        let Some(cipher) = self.ciphers.first() else {
            return Err(Error::NotInitialized { engine: NAME });
        };
        let mut plain = Vec::with_capacity(1 + SESSION_ID_LEN + encoded.len());
        plain.push(PAYLOAD_VERSION);
        plain.extend_from_slice(session_id);
        plain.extend_from_slice(encoded);
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: &self.aad,
                },
            )
            .map_err(|_| Error::corrupt("cookie session: sealing failed"))?;
        let mut data = Vec::with_capacity(NONCE_LEN + sealed.len());
        data.extend_from_slice(&nonce);
        data.extend_from_slice(&sealed);
        Ok(URL_SAFE_NO_PAD.encode(&data))
    }

    /// Authenticates and decrypts a token; `None` for anything forged,
    /// damaged or foreign. Never panics, whatever the input.
    pub(super) fn unseal(&self, token: &str) -> Option<Unsealed> {
        // Bounded before any decoding work.
        if token.is_empty() || token.len() > MAX_COOKIE_BYTES {
            return None;
        }
        let data = URL_SAFE_NO_PAD.decode(token).ok()?;
        if data.len() < NONCE_LEN + TAG_LEN + 1 + SESSION_ID_LEN {
            return None;
        }
        let (nonce, sealed) = data.split_at(NONCE_LEN);
        let (index, plain) = self.ciphers.iter().enumerate().find_map(|(i, c)| {
            let payload = Payload {
                msg: sealed,
                aad: &self.aad,
            };
            c.decrypt(Nonce::from_slice(nonce), payload)
                .ok()
                .map(|p| (i, p))
        })?;
        let (&version, rest) = plain.split_first()?;
        if version != PAYLOAD_VERSION || rest.len() < SESSION_ID_LEN {
            return None;
        }
        let (id, encoded) = rest.split_at(SESSION_ID_LEN);
        Some(Unsealed {
            session_id: id.try_into().ok()?,
            encoded: encoded.to_vec(),
            old_key: index > 0,
        })
    }
}

/// A secret as a cookie `Key`: hex or base64 of at least 64 bytes, else at
/// least 32 bytes of text to derive from.
fn parse_key(secret: &str) -> Option<Key> {
    let secret = secret.trim();
    let decoded = hex::decode(secret)
        .ok()
        .or_else(|| STANDARD.decode(secret).ok())
        .or_else(|| URL_SAFE.decode(secret).ok())
        .or_else(|| URL_SAFE_NO_PAD.decode(secret).ok())
        .filter(|bytes| bytes.len() >= 64);
    match decoded {
        Some(bytes) => Key::try_from(bytes.as_slice()).ok(),
        None if secret.len() >= 32 => Some(Key::derive_from(secret.as_bytes())),
        None => None,
    }
}

fn cipher(key: &Key) -> Result<Aes256Gcm> {
    Aes256Gcm::new_from_slice(key.encryption())
        .map_err(|_| Error::config(NAME, "bad encryption key length"))
}
