//! beego's cookie format (`sessionstoreformat = beego`), as `encodeCookie`
//! and `decodeCookie` in beego's `sess_utils.go` write and read it, so a
//! cookie sealed by a beego app opens here and the reverse:
//!
//! 1. `b` = the gob map; `iv` = 16 random bytes; `v = base64url(iv ‖
//!    AES-CTR(blockKey, iv, b))`, AES-128/192/256 by the block key's length.
//! 2. `msg = securityName|unix seconds|v|`; `mac = HMAC-SHA256(securityKey, msg)`.
//! 3. The value is `base64url(msg without "securityName|" ‖ mac)`, padded,
//!    then query-escaped, so the padding travels as `%3D`.
//!
//! Reading reverses it: the MAC is checked (in constant time) before
//! anything is decrypted, then the time: beego accepts `now - maxlifetime
//! <= ts <= now`; this side also tolerates [`FUTURE_SKEW_S`] of clock skew
//! between servers on the upper bound. CTR has no integrity of its own:
//! the MAC over the ciphertext is what protects it.

use aes::{Aes128, Aes192, Aes256};
use base64::engine::general_purpose::URL_SAFE;
use base64::Engine as _;
use ctr::cipher::{InnerIvInit, KeyInit, StreamCipher};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::config::{Config, MIN_SECRET_BYTES};
use super::config::{MAX_COOKIE_BYTES, NAME};
use crate::session::engines::shared::options::percent_decode;
use crate::session::error::{Error, Result};

type HmacSha256 = Hmac<Sha256>;

/// AES block size: the CTR initial counter block beego prepends.
const IV_LEN: usize = 16;
/// Seconds a cookie's time may be ahead of this server's clock (beego: 0).
pub(super) const FUTURE_SKEW_S: i64 = 60;
/// Length of the random `securityName` beego makes when none is given.
const RANDOM_NAME_LEN: usize = 20;

/// Why a cookie did not open (beego's `decodeCookie` errors), for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reject {
    /// Empty, or longer than a cookie can be.
    Size,
    /// Not query-escaped base64url.
    Encoding,
    /// Not `date|value|mac`.
    Format,
    /// The MAC does not match (tampered, or other keys or name).
    Mac,
    /// The time is not an integer.
    Timestamp,
    /// The time is in the future.
    TooNew,
    /// The time is older than the idle lifetime.
    Expired,
    /// The encrypted part is too short to hold an IV and data.
    Cipher,
}

/// AES with the key length beego's `aes.NewCipher` picked.
enum Block {
    Aes128(Aes128),
    Aes192(Aes192),
    Aes256(Aes256),
}

/// beego's keys and name, ready to encode and decode cookies.
pub(super) struct BeegoSeal {
    block: Block,
    /// HMAC-SHA256 keyed with `securityKey`, cloned for each cookie.
    hmac: HmacSha256,
    name: Vec<u8>,
    /// beego's `maxlifetime` for cookies: the idle lifetime in seconds.
    max_age_s: i64,
}

impl BeegoSeal {
    /// beego's `CookieProvider.SessionInit`, stricter where beego is unsafe
    /// or cannot share cookies: an empty `securityKey` (anyone could forge
    /// a cookie), and a missing `blockKey` or `securityName` (beego makes
    /// random ones per process, which no other process can open) are
    /// refused unless `devMode` is on, which makes random ones. A
    /// `securityKey` under [`MIN_SECRET_BYTES`] is refused as the native
    /// format refuses short keys, unless `devMode` is on, which uses it.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a refused key, a `blockKey` that is not 16,
    /// 24 or 32 bytes, or the native key ring's keys (beego has one key).
    pub(super) fn new(config: &Config, max_age_s: u64) -> Result<Self> {
        if !config.key_ring.is_empty() || !config.old_keys.is_empty() {
            return Err(Error::config(
                NAME,
                "securityKeys and oldKeys are not supported with sessionstoreformat = beego \
                 (beego checks one securityKey and one blockKey)",
            ));
        }
        let hash_key = required(
            config,
            "securityKey",
            &config.security_key,
            MIN_SECRET_BYTES,
        )?;
        if hash_key.len() < MIN_SECRET_BYTES {
            config.allow_short_key(
                "securityKey",
                "give the beego app and this one the same random key of at least 32 bytes",
                "using it as given",
            )?;
        }
        let block_key = required(config, "blockKey", &config.block_key, 16)?;
        let block = match block_key.len() {
            16 => Aes128::new_from_slice(&block_key).map(Block::Aes128),
            24 => Aes192::new_from_slice(&block_key).map(Block::Aes192),
            32 => Aes256::new_from_slice(&block_key).map(Block::Aes256),
            n => {
                return Err(Error::config(
                    NAME,
                    format!("blockKey must be 16, 24 or 32 bytes (AES-128/192/256), not {n}"),
                ))
            }
        }
        .map_err(|_| Error::config(NAME, "blockKey: bad AES key length"))?;
        let hmac = <HmacSha256 as Mac>::new_from_slice(&hash_key)
            .map_err(|_| Error::config(NAME, "securityKey: bad HMAC key"))?;
        let name = required(
            config,
            "securityName",
            &config.security_name,
            RANDOM_NAME_LEN,
        )?;
        Ok(BeegoSeal {
            block,
            hmac,
            name,
            max_age_s: i64::try_from(max_age_s).unwrap_or(i64::MAX),
        })
    }

    /// The cookie value for the gob bytes `plain`, stamped `now_s`.
    pub(super) fn encode(&self, plain: &[u8], now_s: i64) -> String {
        let mut iv = [0u8; IV_LEN];
        rand::fill(&mut iv);
        let mut data = Vec::with_capacity(IV_LEN + plain.len());
        data.extend_from_slice(&iv);
        data.extend_from_slice(plain);
        let (_, body) = data.split_at_mut(IV_LEN);
        self.xor_keystream(&iv, body);
        let value = URL_SAFE.encode(&data);
        let mut msg = Vec::with_capacity(self.name.len() + value.len() + 24);
        msg.extend_from_slice(&self.name);
        msg.push(b'|');
        msg.extend_from_slice(now_s.to_string().as_bytes());
        msg.push(b'|');
        msg.extend_from_slice(value.as_bytes());
        msg.push(b'|');
        let mac = self.mac(&msg).finalize().into_bytes();
        msg.extend_from_slice(&mac);
        let out = msg.get(self.name.len() + 1..).unwrap_or_default();
        // url.QueryEscape of base64url: only the padding needs escaping.
        URL_SAFE.encode(out).replace('=', "%3D")
    }

    /// The gob bytes and the time of a cookie value, or why it does not
    /// open. Bounded before any decoding work; never panics.
    pub(super) fn decode(
        &self,
        value: &str,
        now_s: i64,
    ) -> std::result::Result<(Vec<u8>, i64), Reject> {
        if value.is_empty() || value.len() > MAX_COOKIE_BYTES {
            return Err(Reject::Size);
        }
        let unescaped = percent_decode(value).ok_or(Reject::Encoding)?;
        let b = URL_SAFE.decode(unescaped).map_err(|_| Reject::Encoding)?;
        let mut parts = b.splitn(3, |c| *c == b'|');
        let (Some(ts), Some(v), Some(mac)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Reject::Format);
        };
        let signed = b.get(..b.len() - mac.len()).ok_or(Reject::Format)?;
        let mut check = self.mac(&self.name);
        check.update(b"|");
        check.update(signed);
        check.verify_slice(mac).map_err(|_| Reject::Mac)?;
        let ts: i64 = std::str::from_utf8(ts)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(Reject::Timestamp)?;
        if ts > now_s.saturating_add(FUTURE_SKEW_S) {
            return Err(Reject::TooNew);
        }
        if ts < now_s.saturating_sub(self.max_age_s) {
            return Err(Reject::Expired);
        }
        let data = URL_SAFE.decode(v).map_err(|_| Reject::Encoding)?;
        // beego decrypts only when there is more than the IV.
        let Some((iv, body)) = data.split_first_chunk::<IV_LEN>() else {
            return Err(Reject::Cipher);
        };
        if body.is_empty() {
            return Err(Reject::Cipher);
        }
        let mut plain = body.to_vec();
        self.xor_keystream(iv, &mut plain);
        Ok((plain, ts))
    }

    fn mac(&self, first: &[u8]) -> HmacSha256 {
        let mut mac = self.hmac.clone();
        mac.update(first);
        mac
    }

    /// AES-CTR with `iv` as the initial 128-bit big-endian counter block,
    /// as Go's `cipher.NewCTR`; encrypting and decrypting are the same.
    fn xor_keystream(&self, iv: &[u8; IV_LEN], data: &mut [u8]) {
        match &self.block {
            Block::Aes128(c) => ctr::Ctr128BE::<Aes128>::from_core(ctr::CtrCore::inner_iv_init(
                c.clone(),
                iv.into(),
            ))
            .apply_keystream(data),
            Block::Aes192(c) => ctr::Ctr128BE::<Aes192>::from_core(ctr::CtrCore::inner_iv_init(
                c.clone(),
                iv.into(),
            ))
            .apply_keystream(data),
            Block::Aes256(c) => ctr::Ctr128BE::<Aes256>::from_core(ctr::CtrCore::inner_iv_init(
                c.clone(),
                iv.into(),
            ))
            .apply_keystream(data),
        }
    }
}

/// A key of the JSON as bytes: refused when empty, random (`random_len`
/// bytes) when empty in `devMode`.
fn required(config: &Config, name: &str, value: &str, random_len: usize) -> Result<Vec<u8>> {
    if !value.is_empty() {
        return Ok(value.as_bytes().to_vec());
    }
    if config.dev_mode {
        tracing::warn!(
            key = name,
            "cookie session: devMode with no {name}: using a random one, every session dies \
             on restart and no other process can open these cookies"
        );
        let mut random = vec![0u8; random_len];
        rand::fill(&mut random[..]);
        return Ok(random);
    }
    Err(Error::config(
        NAME,
        format!(
            "{name} is empty: with sessionstoreformat = beego give the same {name} as the \
             beego app (beego itself {}), or set devMode for development",
            if name == "securityKey" {
                "accepts an empty one, which lets anyone forge a session cookie"
            } else {
                "makes a random one per process, so no other process can open its cookies"
            }
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(block_key: &str) -> BeegoSeal {
        let config = super::super::config::parse(
            &serde_json::json!({
                "securityKey": "a unit test key of thirty-two bytes",
                "blockKey": block_key,
                "securityName": "n"
            })
            .to_string(),
        )
        .unwrap();
        BeegoSeal::new(&config, 100).unwrap()
    }

    #[test]
    fn round_trip_and_the_reasons_for_refusing() {
        let s = seal("0123456789abcdef");
        let v = s.encode(b"gob bytes", 1_000);
        assert_eq!(s.decode(&v, 1_000), Ok((b"gob bytes".to_vec(), 1_000)));
        assert_eq!(s.decode(&v, 1_100).map(|(_, t)| t), Ok(1_000));
        assert_eq!(s.decode(&v, 1_101), Err(Reject::Expired));
        assert_eq!(s.decode(&v, 1_000 - FUTURE_SKEW_S - 1), Err(Reject::TooNew));
        // Another name, or a flipped byte, fails the MAC before anything else.
        let mut other = seal("0123456789abcdef");
        other.name = b"m".to_vec();
        assert_eq!(other.decode(&v, 1_000), Err(Reject::Mac));
        let raw = URL_SAFE.decode(v.replace("%3D", "=")).unwrap();
        let mut flipped = raw.clone();
        flipped[2] ^= 1;
        let flipped = URL_SAFE.encode(flipped);
        assert_eq!(s.decode(&flipped, 1_000), Err(Reject::Mac));
        assert_eq!(
            s.decode(&URL_SAFE.encode(b"12|x"), 1_000),
            Err(Reject::Format)
        );
        assert_eq!(s.decode("", 1_000), Err(Reject::Size));
        assert_eq!(s.decode("%zz", 1_000), Err(Reject::Encoding));
        assert_eq!(s.decode(&"A".repeat(5_000), 1_000), Err(Reject::Size));
    }

    #[test]
    fn the_block_key_length_picks_aes_128_192_or_256() {
        for len in [16, 24, 32] {
            let s = seal(&"k".repeat(len));
            let v = s.encode(b"x", 5);
            assert_eq!(s.decode(&v, 5).unwrap().0, b"x");
            // The IV is fresh each time.
            assert_ne!(v, s.encode(b"x", 5));
        }
    }
}
