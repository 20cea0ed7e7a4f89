//! The `cookie` engine: the whole session lives in the client's cookie,
//! sealed with AES-256-GCM.

use actix_web::cookie::Key;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use async_trait::async_trait;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;

use super::shared::skeleton::{engine_provider, Cx, Found, RecordStore};
use crate::session::error::{Error, Result};
use crate::session::format::Format;
use crate::session::id::{IdFormat, SessionId};
use crate::session::record::{Lifetimes, SessionRecord};
use crate::session::store::{Released, Write};

/// Largest cookie (name, `=` and value) browsers are required to keep.
pub const MAX_COOKIE_BYTES: usize = 4096;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const SESSION_ID_LEN: usize = 16;
const PAYLOAD_VERSION: u8 = 1;
/// Clock skew tolerated on the times inside a cookie.
const SKEW_MS: u64 = 60_000;
const DEFAULT_COOKIE_NAME: &str = "beegosessionID";
const NAME: &str = "cookie";

/// What a sealed cookie holds besides the record.
struct Opened {
    record: SessionRecord,
    session_id: [u8; SESSION_ID_LEN],
    /// True when an older key of the ring opened it.
    old_key: bool,
}

/// The cookie engine's "records": sealed states that live in the clients.
pub(crate) struct Sealed {
    /// The key ring: the first seals, all open.
    ciphers: Vec<Aes256Gcm>,
    /// Associated data: binds the cookie to its name.
    aad: Vec<u8>,
    /// Longest sealed value that fits the cookie with its name.
    max_value: usize,
    lifetimes: Lifetimes,
    format: Format,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealed").finish_non_exhaustive()
    }
}

impl Sealed {
    fn seal(&self, session_id: &[u8; SESSION_ID_LEN], record: &SessionRecord) -> Result<String> {
        let Some(cipher) = self.ciphers.first() else {
            return Err(Error::NotInitialized { engine: NAME });
        };
        let encoded = self.format.encode(record)?;
        let mut plain = Vec::with_capacity(1 + SESSION_ID_LEN + encoded.len());
        plain.push(PAYLOAD_VERSION);
        plain.extend_from_slice(session_id);
        plain.extend_from_slice(&encoded);
        // Too large already before encryption: no need to spend the work.
        let sealed_len = (NONCE_LEN + plain.len() + TAG_LEN).div_ceil(3) * 4;
        if sealed_len > self.max_value + 4 {
            return Err(self.too_large(sealed_len));
        }
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
        let token = URL_SAFE_NO_PAD.encode(&data);
        if token.len() > self.max_value {
            return Err(self.too_large(token.len()));
        }
        Ok(token)
    }

    fn too_large(&self, value_len: usize) -> Error {
        let limit = self.max_value;
        tracing::warn!(
            size = value_len,
            limit,
            "cookie session: the sealed session does not fit in a cookie"
        );
        Error::TooLarge {
            what: "cookie",
            size: MAX_COOKIE_BYTES - limit + value_len,
            limit: MAX_COOKIE_BYTES,
        }
    }

    /// Opens a token; `Ok(None)` for anything forged, damaged, foreign or
    /// expired (client input, not stored data), [`Error::Corrupt`] for a
    /// token this engine sealed whose record does not decode. Never panics,
    /// whatever the input.
    fn open(&self, token: &str, now: u64) -> Result<Option<Opened>> {
        let Some((session_id, encoded, old_key)) = self.unseal(token) else {
            return Ok(None);
        };
        let record = self.format.decode(&encoded)?;
        let future = now.saturating_add(SKEW_MS);
        if record.created_ms > future
            || record.accessed_ms > future
            || record.created_ms > record.accessed_ms
            || record.is_expired(&self.lifetimes, now)
        {
            return Ok(None);
        }
        Ok(Some(Opened {
            record,
            session_id,
            old_key,
        }))
    }

    /// Authenticates and decrypts a token: the per-session id, the encoded
    /// record and whether an older key opened it.
    fn unseal(&self, token: &str) -> Option<([u8; SESSION_ID_LEN], Vec<u8>, bool)> {
        // Bounded before any decoding work.
        if token.is_empty() || token.len() > MAX_COOKIE_BYTES {
            return None;
        }
        let data = URL_SAFE_NO_PAD.decode(token).ok()?;
        if data.len() < NONCE_LEN + TAG_LEN + 1 + SESSION_ID_LEN {
            return None;
        }
        let (nonce, sealed) = data.split_at(NONCE_LEN);
        let payload = Payload {
            msg: sealed,
            aad: &self.aad,
        };
        let (index, plain) = self.ciphers.iter().enumerate().find_map(|(i, c)| {
            c.decrypt(Nonce::from_slice(nonce), payload_copy(&payload))
                .ok()
                .map(|p| (i, p))
        })?;
        let (&version, rest) = plain.split_first()?;
        if version != PAYLOAD_VERSION || rest.len() < SESSION_ID_LEN {
            return None;
        }
        let (id, encoded) = rest.split_at(SESSION_ID_LEN);
        let session_id: [u8; SESSION_ID_LEN] = id.try_into().ok()?;
        Some((session_id, encoded.to_vec(), index > 0))
    }
}

fn payload_copy<'a>(p: &Payload<'a, 'a>) -> Payload<'a, 'a> {
    Payload {
        msg: p.msg,
        aad: p.aad,
    }
}

engine_provider! {
    /// The `cookie` engine: the whole session is the client's cookie.
    ///
    /// The session id that travels in the manager's cookie **is** the sealed
    /// state: `base64url(nonce ‖ AES-256-GCM(payload) ‖ tag)`, no padding, with
    /// the cookie name as associated data. The payload holds the record
    /// (creation time, last access, values) and a random per-session id. Each
    /// seal uses a fresh random nonce, so the same state never seals twice to
    /// the same cookie. Opening checks the idle lifetime against the last
    /// access inside the payload (client-side `Max-Age` edits change nothing)
    /// and the manager checks the absolute lifetime against the creation time
    /// inside it. A cookie that does not open (tampered, truncated, foreign
    /// key, other cookie name, expired) is an empty new session, logged at
    /// debug, never an error.
    ///
    /// Every release that writes (a change, or the periodic refresh of the idle
    /// expiry) reseals and sends a new cookie.
    ///
    /// # Configuration
    ///
    /// `sessionproviderconfig` is beego's JSON, keys matched case-insensitively:
    ///
    /// | key | meaning |
    /// |---|---|
    /// | `securityKey` | the sealing secret (followed by `blockKey` when both are given) |
    /// | `blockKey` | beego's AES key; appended to `securityKey` as key material |
    /// | `securityKeys` | the whole key ring, newest first (instead of `securityKey`) |
    /// | `oldKeys` | older secrets that still open cookies, newest first |
    /// | `cookieName` | the session cookie's name (must match `sessionname`; default `beegosessionID`); bound into every seal |
    /// | `securityName` | also bound into every seal (optional) |
    /// | `devMode` | `true` allows a missing or short key: a random one is made, and sessions die on restart |
    /// | `secure`, `maxage` | accepted for beego compatibility; the manager's cookie settings apply |
    ///
    /// A secret is either hex or base64 of at least 64 bytes (used as the
    /// cookie [`Key`] directly), or at least 32 bytes of text from which the
    /// `Key` is derived with HKDF ([`Key::derive_from`]). A missing or short key
    /// is a startup error ([`Error::Config`]) unless `devMode` is on. The first
    /// key seals, every key opens; a cookie opened with an older key is resealed
    /// under the first one on its next release.
    ///
    /// # Limits
    ///
    /// - A session whose cookie would pass 4096 bytes (name, `=` and value)
    ///   makes the release fail with [`Error::TooLarge`] (`what: "cookie"`):
    ///   the web layer answers 500, and no cookie browsers would silently drop
    ///   is ever sent. The check runs at release, not at `set`.
    /// - **No server-side revocation**: destroy removes the client's cookie, but
    ///   a copy of it stays valid until its idle lifetime (or the absolute one)
    ///   runs out. Keep `sessiongcmaxlifetime` short for this engine.
    /// - `session_all` is always 0 and GC does nothing: the server holds nothing.
    /// - Two concurrent requests of one client each seal their own view; the
    ///   last cookie the browser stores wins.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// use actix_bee::session::{Manager, ManagerConfig, RequestIds};
    ///
    /// let mut config = ManagerConfig::default();
    /// config.provider_config = r#"{"securityKey": "a secret of at least thirty-two bytes!!"}"#.into();
    /// let manager = Manager::new("cookie", config).await.unwrap();
    /// let session = manager.session_start(&RequestIds::default()).await.unwrap();
    /// session.set("uid", &7).await.unwrap();
    /// let cookie = manager.session_release(&session).await.unwrap().cookie.unwrap();
    /// let ids = RequestIds { cookie: Some(&cookie.value), ..Default::default() };
    /// let again = manager.session_start(&ids).await.unwrap();
    /// assert_eq!(again.get::<i32>("uid").await.unwrap(), Some(7));
    /// # });
    /// ```
    #[derive(Default)]
    pub struct CookieProvider(Sealed);
}

/// The parsed `sessionproviderconfig`.
struct Config {
    secrets: Vec<String>,
    cookie_name: String,
    security_name: String,
    dev_mode: bool,
}

fn parse_config(raw: &str) -> Result<Config> {
    let raw = raw.trim();
    let object = if raw.is_empty() {
        serde_json::Map::new()
    } else {
        match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(serde_json::Value::Object(o)) => o,
            _ => {
                return Err(Error::config(
                    NAME,
                    "sessionproviderconfig must be a JSON object",
                ))
            }
        }
    };
    let get = |name: &str| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let string = |name: &str| -> Result<String> {
        match get(name) {
            None | Some(serde_json::Value::Null) => Ok(String::new()),
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(Error::config(NAME, format!("{name} must be a string"))),
        }
    };
    let list = |name: &str| -> Result<Vec<String>> {
        match get(name) {
            None | Some(serde_json::Value::Null) => Ok(Vec::new()),
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| Error::config(NAME, format!("{name} must hold strings")))
                })
                .collect(),
            Some(_) => Err(Error::config(
                NAME,
                format!("{name} must be a list of strings"),
            )),
        }
    };
    let mut secrets = list("securityKeys")?;
    if secrets.is_empty() {
        let primary = string("securityKey")? + &string("blockKey")?;
        secrets.push(primary);
    }
    secrets.extend(list("oldKeys")?);
    let dev_mode = match get("devMode") {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::Bool(b)) => *b,
        Some(_) => return Err(Error::config(NAME, "devMode must be a boolean")),
    };
    let cookie_name = Some(string("cookieName")?)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| DEFAULT_COOKIE_NAME.to_owned());
    Ok(Config {
        secrets,
        cookie_name,
        security_name: string("securityName")?,
        dev_mode,
    })
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

/// A loaded record whose store reseals on its next release even when the
/// request changes nothing: MapStore then sees a refresh as due.
fn reseal_on_release(mut record: SessionRecord) -> SessionRecord {
    record.accessed_ms = 0;
    record
}

#[async_trait]
impl RecordStore for Sealed {
    const NAME: &'static str = NAME;
    const ID_FORMAT: IdFormat = IdFormat::Sealed {
        max_len: MAX_COOKIE_BYTES,
    };

    async fn open(cx: Cx, config: &str) -> Result<Self> {
        let config = parse_config(config)?;
        let mut keys = Vec::new();
        for (i, secret) in config.secrets.iter().enumerate() {
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
        let max_value = MAX_COOKIE_BYTES.saturating_sub(config.cookie_name.len() + 1);
        Ok(Sealed {
            ciphers,
            aad,
            max_value,
            lifetimes: cx.lifetimes,
            format: cx.format,
        })
    }

    /// The state sealed in the token `sid`: a cookie that does not open is
    /// an empty new session (logged at debug), one opened with an older key
    /// reseals on its next release.
    async fn load(&self, sid: &SessionId, now: u64) -> Found {
        match self.open(sid.as_str(), now)? {
            Some(opened) if opened.old_key => {
                tracing::debug!(session = %sid, "cookie session: opened with an older key; resealing");
                Ok(Some(reseal_on_release(opened.record)))
            }
            Some(opened) => Ok(Some(opened.record)),
            None => {
                tracing::debug!(session = %sid, "cookie session: cookie did not open; new session");
                Ok(None)
            }
        }
    }

    /// Create, Update and Touch all reseal the request's whole view: the
    /// state is in the client, so there is nothing to merge with. The
    /// per-session id is the one sealed in `sid`, or a new one for a new or
    /// regenerated session.
    async fn write(&self, w: Write<'_>) -> Result<Released> {
        let session_id = match self.open(w.sid.as_str(), w.now_ms) {
            Ok(Some(opened)) => opened.session_id,
            _ => {
                let mut id = [0u8; SESSION_ID_LEN];
                rand::fill(&mut id);
                id
            }
        };
        let record = SessionRecord {
            created_ms: w.merged.created_ms,
            accessed_ms: w.now_ms,
            values: w.merged.values.clone(),
        };
        Ok(Released::cookie(self.seal(&session_id, &record)?))
    }

    /// Nothing to insert server-side: the release seals the state.
    async fn insert(&self, _sid: &SessionId, _record: &SessionRecord, _now: u64) -> Result<()> {
        Ok(())
    }

    /// Nothing to remove server-side: the web layer removes the cookie, and
    /// a copy of it stays valid until it expires.
    async fn remove(&self, _sid: &SessionId) -> Result<()> {
        Ok(())
    }

    /// `old` is the latest sealed state; the new id gets a new per-session
    /// id and exactly one new cookie on release.
    async fn move_record(&self, old: &SessionId, _new: &SessionId, now: u64) -> Found {
        Ok(self
            .open(old.as_str(), now)?
            .map(|opened| reseal_on_release(opened.record)))
    }

    /// Always 0: sessions live in the clients.
    async fn count(&self, _now: u64) -> Result<usize> {
        Ok(0)
    }
}
