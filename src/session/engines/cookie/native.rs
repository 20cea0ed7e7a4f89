//! The native cookie seal: `base64url(nonce ‖ AES-256-GCM(payload) ‖ tag)`,
//! no padding, with the cookie and security names as associated data, and
//! a key ring (the first key seals, every key opens).

use actix_web::cookie::Key;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;

use super::config::{short_key, Config, MIN_SECRET_BYTES};
use super::config::{MAX_COOKIE_BYTES, NAME};
use crate::session::error::{Error, Result};

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Length of the random per-session id sealed with the record.
pub(super) const SESSION_ID_LEN: usize = 16;
/// Payload version 1: the record is the MessagePack
/// [`SessionRecord`](crate::session::record::SessionRecord) encoding.
pub(super) const PAYLOAD_V1: u8 = 1;
/// Payload version 2: the record is [`super::compact`]'s, about half the
/// bytes.
pub(super) const PAYLOAD_V2: u8 = 2;
/// The version sealed: 1, though both open. A version may be sealed only
/// once every process of a deployment opens it: during a rolling upgrade
/// old and new processes serve the same users, and a rollback must read
/// what the new processes wrote. So opening version 2 ships first and
/// sealing it in a later release; sealing it at once would log out every
/// user who meets a process that cannot open it.
pub(super) const SEAL_VERSION: u8 = PAYLOAD_V1;

thread_local! {
    /// The decoding buffer of [`NativeSeal::unseal`].
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What a token opened to, borrowed from the decoding buffer.
pub(super) struct Unsealed<'a> {
    /// [`PAYLOAD_V1`] or [`PAYLOAD_V2`]: how `encoded` is encoded.
    pub version: u8,
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
            match parse_key(secret, &config.cookie_name)? {
                Some(key) => keys.push(key),
                None if i == 0 => {
                    config.allow_short_key(
                        "key #1",
                        KEY_ADVICE,
                        "using a random key, every session dies on restart",
                    )?;
                    keys.push(Key::try_generate().ok_or(Error::Rng)?);
                }
                None => return Err(short_key(&format!("key #{}", i + 1), KEY_ADVICE)),
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
        version: u8,
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
        data.push(version);
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
        if !matches!(version, PAYLOAD_V1 | PAYLOAD_V2) || rest.len() < SESSION_ID_LEN {
            return None;
        }
        let (id, encoded) = rest.split_at(SESSION_ID_LEN);
        Some(read(Unsealed {
            version,
            session_id: id.try_into().ok()?,
            encoded,
            old_key: index > 0,
        }))
    }
}

/// A secret as a cookie `Key`: hex or base64 of at least 64 bytes (random
/// key material, used as is), else at least 32 bytes of text, a passphrase
/// stretched with Argon2id ([`stretch`]) under a salt made from
/// `cookie_name`.
fn parse_key(secret: &str, cookie_name: &str) -> Result<Option<Key>> {
    let secret = secret.trim();
    let decoded = hex::decode(secret)
        .ok()
        .or_else(|| STANDARD.decode(secret).ok())
        .or_else(|| URL_SAFE.decode(secret).ok())
        .or_else(|| URL_SAFE_NO_PAD.decode(secret).ok())
        .filter(|bytes| bytes.len() >= 64);
    match decoded {
        Some(bytes) => Ok(Key::try_from(bytes.as_slice()).ok()),
        None if secret.len() >= MIN_SECRET_BYTES => stretch(secret, cookie_name).map(Some),
        None => Ok(None),
    }
}

/// What to give instead of a missing or short native key.
const KEY_ADVICE: &str =
    "give hex or base64 of at least 64 random bytes (or a passphrase of at least 32 bytes)";
/// Argon2id memory cost in KiB (OWASP's first recommended setting).
const ARGON2_M_KIB: u32 = 19_456;
/// Argon2id passes.
const ARGON2_T: u32 = 2;
/// Argon2id lanes.
const ARGON2_P: u32 = 1;
/// Bytes of a cookie `Key` (signing and encryption halves).
const KEY_LEN: usize = 64;
/// Derivations kept by [`stretch`]'s memo before it is emptied.
const MEMO_CAP: usize = 32;

/// Salt label; the version lets a future change of parameters change keys
/// on purpose.
const SALT_LABEL: &[u8] = b"actix-bee/cookie-key/v1/";

/// Memo of [`stretch`] results, keyed by SHA-256 of (salt, passphrase) so
/// that no passphrase is kept in it.
type Memo = parking_lot::Mutex<std::collections::HashMap<[u8; 32], Key>>;
static MEMO: std::sync::LazyLock<Memo> = std::sync::LazyLock::new(Default::default);

/// A passphrase stretched into a cookie `Key` with Argon2id (m = 19456 KiB,
/// t = 2, p = 1, 64 bytes of output).
///
/// The salt is [`SALT_LABEL`] followed by the cookie name. It has to be the
/// same in every process of one deployment (each derives the key on its own
/// at start-up, and all must open each other's cookies), so it cannot be
/// random; the cookie name still tells deployments apart, so that two apps
/// sharing a passphrase but not a cookie name get different keys and a
/// precomputed table for one label does not fit every app.
///
/// This runs once per key at `session_init`, never per request; a small
/// process-wide memo spares a process that initialises many providers (or
/// tests) from paying ~20 ms per key again.
fn stretch(passphrase: &str, cookie_name: &str) -> Result<Key> {
    use sha2::Digest as _;

    let mut salt = SALT_LABEL.to_vec();
    salt.extend_from_slice(cookie_name.as_bytes());
    let mut hasher = sha2::Sha256::new();
    hasher.update((salt.len() as u64).to_be_bytes());
    hasher.update(&salt);
    hasher.update(passphrase.as_bytes());
    let memo_key: [u8; 32] = hasher.finalize().into();
    if let Some(key) = MEMO.lock().get(&memo_key) {
        return Ok(key.clone());
    }
    let params = argon2::Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, Some(KEY_LEN))
        .map_err(|e| Error::config(NAME, format!("Argon2 parameters: {e}")))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = [0u8; KEY_LEN];
    argon
        .hash_password_into(passphrase.as_bytes(), &salt, &mut out)
        .map_err(|e| Error::config(NAME, format!("Argon2 key stretching: {e}")))?;
    let key = Key::from(&out);
    out.fill(0);
    let mut memo = MEMO.lock();
    if memo.len() >= MEMO_CAP {
        memo.clear();
    }
    memo.insert(memo_key, key.clone());
    Ok(key)
}

fn cipher(key: &Key) -> Result<Aes256Gcm> {
    Aes256Gcm::new_from_slice(key.encryption())
        .map_err(|_| Error::config(NAME, "bad encryption key length"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSPHRASE: &str = "a passphrase of at least thirty-two bytes";

    #[test]
    fn passphrases_are_stretched_with_a_salt_per_cookie_name() {
        let a = stretch(PASSPHRASE, "appsession").unwrap();
        let again = stretch(PASSPHRASE, "appsession").unwrap();
        let other = stretch(PASSPHRASE, "othersession").unwrap();
        assert_eq!(a.master(), again.master());
        assert_ne!(a.master(), other.master());
        assert_ne!(
            a.master(),
            Key::derive_from(PASSPHRASE.as_bytes()).master(),
            "still the HKDF derivation"
        );
        // The memo is keyed by (salt, passphrase): a fresh computation agrees.
        MEMO.lock().clear();
        assert_eq!(
            stretch(PASSPHRASE, "appsession").unwrap().master(),
            a.master()
        );
    }

    #[test]
    fn key_material_rules() {
        let hex_key = "ab".repeat(64);
        let parsed = parse_key(&hex_key, "s").unwrap().unwrap();
        assert_eq!(
            parsed.master(),
            [0xab; 64].as_slice(),
            "hex is the key itself"
        );
        let stretched = parse_key(PASSPHRASE, "s").unwrap().unwrap();
        assert_eq!(
            stretched.master(),
            stretch(PASSPHRASE, "s").unwrap().master()
        );
        assert!(parse_key(&"x".repeat(31), "s").unwrap().is_none());
        // Hex of under 64 bytes is text: stretched, not refused, at >= 32.
        assert!(parse_key(&"ab".repeat(20), "s").unwrap().is_some());
    }
}
