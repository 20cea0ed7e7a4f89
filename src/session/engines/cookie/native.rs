//! The native cookie seal: `base64url(nonce ‖ AES-256-GCM(payload) ‖ tag)`,
//! no padding, with the cookie and security names as associated data, and
//! a key ring (the first key seals, every key opens).

use actix_web::cookie::Key;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
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

thread_local! {
    /// The decoding buffer of [`NativeSeal::unseal`].
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What a token opened to, borrowed from the decoding buffer.
pub(super) struct Unsealed<'a> {
    pub session_id: [u8; SESSION_ID_LEN],
    pub encoded: &'a [u8],
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

    /// Seals the per-session id and the record that `encode` appends,
    /// under a fresh random nonce; `None` from `fits` (given the token's
    /// length) refuses before any crypto.
    ///
    /// One buffer holds `nonce ‖ payload ‖ tag`: the payload is encoded in
    /// place after the nonce and encrypted in place, so the only other
    /// allocation is the token itself.
    pub(super) fn seal(
        &self,
        session_id: &[u8; SESSION_ID_LEN],
        encode: impl FnOnce(&mut Vec<u8>) -> Result<()>,
        fits: impl FnOnce(usize) -> Result<()>,
    ) -> Result<String> {
        let Some(cipher) = self.ciphers.first() else {
            return Err(Error::NotInitialized { engine: NAME });
        };
        let mut data = Vec::with_capacity(256);
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        data.extend_from_slice(&nonce);
        data.push(PAYLOAD_VERSION);
        data.extend_from_slice(session_id);
        encode(&mut data)?;
        fits(base64::encoded_len(data.len() + TAG_LEN, false).unwrap_or(usize::MAX))?;
        let tag = cipher
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), &self.aad, &mut data[NONCE_LEN..])
            .map_err(|_| Error::corrupt("cookie session: sealing failed"))?;
        data.extend_from_slice(&tag);
        Ok(URL_SAFE_NO_PAD.encode(&data))
    }

    /// Authenticates and decrypts a token and hands what it holds to
    /// `read`; `None` for anything forged, damaged or foreign. Never
    /// panics, whatever the input.
    pub(super) fn unseal<T>(&self, token: &str, read: impl FnOnce(Unsealed<'_>) -> T) -> Option<T> {
        // Bounded before any decoding work.
        if token.is_empty() || token.len() > MAX_COOKIE_BYTES {
            return None;
        }
        // One scratch buffer per thread: a request's token costs no
        // allocation (a stack array would be zeroed whole on every call).
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut buf) => self.unseal_in(token, &mut buf, read),
            Err(_) => self.unseal_in(token, &mut Vec::new(), read),
        })
    }

    fn unseal_in<T>(
        &self,
        token: &str,
        buf: &mut Vec<u8>,
        read: impl FnOnce(Unsealed<'_>) -> T,
    ) -> Option<T> {
        buf.clear();
        URL_SAFE_NO_PAD.decode_vec(token, buf).ok()?;
        let data = buf.as_mut_slice();
        if data.len() < NONCE_LEN + TAG_LEN + 1 + SESSION_ID_LEN {
            return None;
        }
        let (nonce, rest) = data.split_at_mut(NONCE_LEN);
        let (sealed, tag) = rest.split_at_mut(rest.len() - TAG_LEN);
        let (nonce, tag) = (Nonce::from_slice(nonce), Tag::from_slice(tag));
        // A failed check leaves the buffer as it was (aes-gcm verifies
        // before decrypting), so the next key of the ring sees the
        // ciphertext.
        let index = self.ciphers.iter().position(|c| {
            c.decrypt_in_place_detached(nonce, &self.aad, sealed, tag)
                .is_ok()
        })?;
        let (&version, rest) = sealed.split_first()?;
        if version != PAYLOAD_VERSION || rest.len() < SESSION_ID_LEN {
            return None;
        }
        let (id, encoded) = rest.split_at(SESSION_ID_LEN);
        Some(read(Unsealed {
            session_id: id.try_into().ok()?,
            encoded,
            old_key: index > 0,
        }))
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
