//! The `cookie` engine: the whole session lives in the client's cookie,
//! sealed with AES-256-GCM (`native`), or in beego's cookie format
//! (`beego`) with `sessionstoreformat = beego`; `config` reads the JSON
//! both share.

use std::borrow::Cow;

use async_trait::async_trait;

use crate::session::engine::{Loaded, RecordStore, StoreContext};
use crate::session::engine::{Released, Write, WriteMode};
use crate::session::engines::shared::wiring::engine_provider;
use crate::session::error::{Error, Result};
use crate::session::format::Format;
use crate::session::id::{IdFormat, SessionId};
use crate::session::record::{Lifetimes, SessionRecord};

mod beego;
mod cache;
mod compact;
mod config;
mod native;

pub(crate) use config::secrets;
pub use config::MAX_COOKIE_BYTES;
use config::NAME;

use beego::BeegoSeal;
use cache::{Held, TokenCache};
#[cfg(test)]
use native::PAYLOAD_V1;
use native::{NativeSeal, PAYLOAD_V2, SEAL_VERSION, SESSION_ID_LEN};

/// Clock skew tolerated on the times inside a native cookie.
const SKEW_MS: u64 = 60_000;

/// What a cookie holds besides the record.
struct Opened {
    record: SessionRecord,
    /// True when an older key of the ring opened it.
    old_key: bool,
}

/// How cookies are sealed: one variant per storage format.
enum Seal {
    Native(NativeSeal),
    /// Boxed: its expanded AES and HMAC keys are large.
    Beego(Box<BeegoSeal>),
}

/// The cookie engine's record store: each record is sealed into the
/// client's cookie, so the server keeps only keys and a cache.
pub(crate) struct CookieRecords {
    seal: Seal,
    /// Longest sealed value that fits the cookie with its name.
    max_value: usize,
    lifetimes: Lifetimes,
    format: Format,
    /// Native tokens opened or sealed lately: seen again, they cost no
    /// decryption.
    cache: TokenCache,
    /// The payload version native tokens are sealed with
    /// ([`SEAL_VERSION`]; tests seal others).
    seal_version: u8,
}

impl std::fmt::Debug for CookieRecords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookieRecords")
            .field("format", &self.format.name())
            .finish_non_exhaustive()
    }
}

impl CookieRecords {
    /// The record in a native payload of `version`.
    fn decode(&self, version: u8, encoded: &[u8]) -> Result<SessionRecord> {
        if version == PAYLOAD_V2 {
            compact::decode(encoded)
        } else {
            self.format.decode(encoded)
        }
    }

    /// The token of `record`; with `keep`, the native record's encoding
    /// too (the cache holds it for the token's return).
    fn seal(
        &self,
        session_id: &[u8; SESSION_ID_LEN],
        record: &SessionRecord,
        keep: Option<&mut Box<[u8]>>,
    ) -> Result<String> {
        let fits = |len: usize| {
            if len > self.max_value {
                Err(self.too_large(len))
            } else {
                Ok(())
            }
        };
        match &self.seal {
            // Encoded in place in the sealing buffer, refused by its final
            // length before any crypto.
            Seal::Native(seal) => seal.seal(
                self.seal_version,
                session_id,
                |out| {
                    let start = out.len();
                    if self.seal_version == PAYLOAD_V2 {
                        compact::encode(record, out);
                    } else {
                        crate::session::format::native::encode_record_into(record, out);
                    }
                    if let Some(keep) = keep {
                        *keep = out.get(start..).unwrap_or_default().into();
                    }
                    Ok(())
                },
                fits,
            ),
            Seal::Beego(seal) => {
                let encoded = self.format.encode(record)?;
                // Sealing only grows the data: too large already, no need to spend the work.
                fits(encoded.len())?;
                let token = seal.encode(&encoded, unix_seconds(record.accessed_ms));
                fits(token.len())?;
                Ok(token)
            }
        }
    }

    /// The checks on the times inside a native token, cached or not: none
    /// in the future (past the tolerated skew), and not expired.
    fn fresh(&self, record: &SessionRecord, now: u64) -> bool {
        let future = now.saturating_add(SKEW_MS);
        !(record.created_ms > future
            || record.accessed_ms > future
            || record.created_ms > record.accessed_ms
            || record.is_expired(&self.lifetimes, now))
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
    /// expired (client input, not stored data), [`Error::Corrupt`] for an
    /// authentic token whose record does not decode. Never panics,
    /// whatever the input.
    fn open(&self, sid: &SessionId, now: u64) -> Result<Option<Opened>> {
        let token = sid.as_str();
        match &self.seal {
            Seal::Native(seal) => {
                let hit = self.cache.get(token, |hit| {
                    let record = match &hit.held {
                        Held::Record(record) => Ok(record.clone()),
                        Held::Encoded(encoded) => self.decode(self.seal_version, encoded),
                    };
                    (record, hit.old_key)
                });
                if let Some((record, old_key)) = hit {
                    let record = record?;
                    return Ok(self
                        .fresh(&record, now)
                        .then_some(Opened { record, old_key }));
                }
                let Some((record, session_id, old_key)) = seal.unseal(token, |u| {
                    (self.decode(u.version, u.encoded), u.session_id, u.old_key)
                }) else {
                    return Ok(None);
                };
                let record = record?;
                if !self.fresh(&record, now) {
                    return Ok(None);
                }
                self.cache
                    .put(token, Held::Record(record.clone()), session_id, old_key);
                Ok(Some(Opened { record, old_key }))
            }
            Seal::Beego(seal) => match seal.decode(token, unix_seconds(now)) {
                Ok((gob, ts)) => {
                    let mut record = self.format.decode(&gob)?;
                    // beego keeps no creation time: both are the last seal.
                    let sealed_ms = u64::try_from(ts).unwrap_or(0).saturating_mul(1000);
                    record.created_ms = sealed_ms;
                    record.accessed_ms = sealed_ms;
                    Ok(Some(Opened {
                        record,
                        old_key: false,
                    }))
                }
                Err(reject) => {
                    tracing::debug!(?reject, "cookie session: beego cookie refused");
                    Ok(None)
                }
            },
        }
    }
}

fn random_session_id() -> [u8; SESSION_ID_LEN] {
    let mut id = [0u8; SESSION_ID_LEN];
    rand::fill(&mut id);
    id
}

fn unix_seconds(ms: u64) -> i64 {
    i64::try_from(ms / 1000).unwrap_or(i64::MAX)
}

engine_provider! {
    /// The `cookie` engine: the whole session is the client's cookie.
    ///
    /// The session id that travels in the manager's cookie **is** the sealed
    /// state: `base64url(nonce ‖ AES-256-GCM(payload) ‖ tag)`, no padding, with
    /// the cookie name as associated data. The payload holds the record
    /// (creation time, last access, values) and a random per-session id.
    /// This release seals payload version 1 (a MessagePack record) and also
    /// opens version 2 (a compact record, about 20% shorter cookies and
    /// cheaper to seal), so that a later release can seal version 2 without
    /// logging out users who meet an older process during a rolling upgrade
    /// or a rollback. Each
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
    /// Each provider keeps the tokens it opened, or resealed for an existing
    /// session, lately (two generations of at most 4096 tokens and 4 MiB of
    /// token text each) with what they hold: a token sent again is not
    /// decrypted again, and still gets every expiry check. Only tokens that
    /// authenticated or that it sealed go in, so forged cookies cannot fill it.
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
    /// | `devMode` | `true` allows a missing or short key: a random one is made, and sessions die on restart (in beego's format a short `securityKey` is used as given) |
    /// | `secure`, `maxage` | accepted for beego compatibility; the manager's cookie settings apply |
    ///
    /// Key material rules:
    ///
    /// | secret | becomes the cookie [`Key`](actix_web::cookie::Key) |
    /// |---|---|
    /// | hex or base64 (standard or URL-safe) of **at least 64 random bytes** (preferred; e.g. `openssl rand -hex 64`) | used as the key directly |
    /// | any other text of **at least 32 bytes** (a passphrase) | stretched with **Argon2id** (m = 19456 KiB, t = 2, p = 1, 64 bytes), salted with `actix-bee/cookie-key/v1/` and the `cookieName`, so every process of one deployment derives the same key and apps with other cookie names get other keys |
    /// | shorter | refused |
    ///
    /// The stretching runs once per key at `session_init` (about 20 ms and
    /// 19 MiB each), never per request. Argon2id rather than HKDF
    /// ([`Key::derive_from`](actix_web::cookie::Key::derive_from)) because
    /// HKDF does not slow a guess at a weak passphrase. Cookies sealed
    /// under a text key derived with HKDF (by releases before Argon2id) do
    /// not open: upgrading from them logs every session out once (hex and
    /// base64 keys are used as given, so their cookies open). A missing or short key
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
    /// # beego format
    ///
    /// With `sessionstoreformat = beego` the cookie is exactly what beego's
    /// cookie provider writes and reads (`encodeCookie`/`decodeCookie` in
    /// beego's `sess_utils.go`), so a cookie sealed by a beego app opens here
    /// and the reverse: the gob map, AES-CTR under `blockKey` (AES-128, 192
    /// or 256 by its length: 16, 24 or 32 bytes) with a random 16-byte IV,
    /// `securityName|unix time|value|` signed with HMAC-SHA256 under
    /// `securityKey`, all base64url and query-escaped. Give both apps the
    /// same `securityKey`, `blockKey`, `securityName` and `cookieName`
    /// (equal to `sessionname`), and the same `sessiongcmaxlifetime`: a
    /// cookie older than it is refused, by both sides.
    ///
    /// Differences from beego, all on the safe side:
    /// - An empty `securityKey` is a startup error (beego accepts it, and
    ///   then anyone can sign a session cookie); a missing `blockKey` or
    ///   `securityName` too (beego makes random ones per process, which no
    ///   other process can open). `devMode` makes random ones instead.
    /// - A `securityKey` shorter than 32 bytes is a startup error, as short
    ///   keys are in the native format: AES-CTR is malleable, so whoever
    ///   guesses the HMAC key can flip bits of their own cookie (a user id)
    ///   and sign it again. `devMode` takes it, with a warning.
    /// - `securityKeys`/`oldKeys` are refused: beego checks one key.
    /// - The MAC is checked in constant time before anything is decrypted;
    ///   a cookie that does not open (bad MAC, malformed, expired, over
    ///   4096 bytes) is an empty new session, never an error or a panic.
    /// - A cookie up to 60 s in the future opens (clock skew between
    ///   servers; beego refuses any future time).
    /// - A session that would not fit in 4096 bytes is [`Error::TooLarge`]
    ///   at release (beego sends the cookie and browsers drop it).
    ///
    /// beego's format has no creation time: the absolute lifetime counts
    /// from the cookie's last seal.
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
    pub struct CookieProvider(CookieRecords);
}

/// A loaded record whose store reseals on its next release even when the
/// request changes nothing: MapStore then sees a refresh as due.
fn reseal_on_release(mut record: SessionRecord) -> SessionRecord {
    record.accessed_ms = 0;
    record
}

#[async_trait]
impl RecordStore for CookieRecords {
    const NAME: &'static str = NAME;
    const ID_FORMAT: IdFormat = IdFormat::Sealed {
        max_len: MAX_COOKIE_BYTES,
    };
    const FORMATS: &'static [Format] = &[Format::Native, Format::Beego];

    async fn open(cx: StoreContext, config: &str) -> Result<Self> {
        let config = config::parse(config)?;
        let seal = match cx.format {
            Format::Beego => Seal::Beego(Box::new(BeegoSeal::new(
                &config,
                cx.lifetimes.idle.as_secs(),
            )?)),
            _ => Seal::Native(NativeSeal::new(&config)?),
        };
        let max_value = MAX_COOKIE_BYTES.saturating_sub(config.cookie_name.len() + 1);
        Ok(CookieRecords {
            seal,
            max_value,
            lifetimes: cx.lifetimes,
            format: cx.format,
            cache: TokenCache::default(),
            seal_version: SEAL_VERSION,
        })
    }

    /// The state sealed in the token `sid`: a cookie that does not open is
    /// an empty new session (logged at debug), one opened with an older key
    /// reseals on its next release.
    async fn load(&self, sid: &SessionId, now: u64) -> Loaded {
        let opened = self.open(sid, now)?;
        match opened {
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
    /// regenerated session (beego's format has none).
    async fn write(&self, w: Write<'_>) -> Result<Released> {
        let session_id = match (&self.seal, w.mode) {
            (Seal::Beego(_), _) => [0; SESSION_ID_LEN],
            // A session to create did not open at load: its token holds
            // no id worth opening again.
            (Seal::Native(_), WriteMode::Create) => random_session_id(),
            // The id noted when `sid` was opened (at this request's load,
            // as a rule); else only the id is unsealed again (`merged` is
            // the request's view).
            (Seal::Native(seal), _) => self
                .cache
                .get(w.sid.as_str(), |hit| hit.session_id)
                .or_else(|| seal.unseal(w.sid.as_str(), |u| u.session_id))
                .unwrap_or_else(random_session_id),
        };
        let record = if w.merged.accessed_ms == w.now_ms {
            Cow::Borrowed(w.merged)
        } else {
            Cow::Owned(SessionRecord {
                accessed_ms: w.now_ms,
                ..w.merged.clone()
            })
        };
        // The client sends this token back on its next request. Not a
        // new session's: clients without a cookie jar (crawlers, probes)
        // would fill the cache with tokens that never return; a new
        // session's next request opens its token once, then it is cached.
        let cache = matches!(self.seal, Seal::Native(_)) && w.mode != WriteMode::Create;
        let mut encoded = Box::default();
        let token = self.seal(&session_id, &record, cache.then_some(&mut encoded))?;
        if cache {
            self.cache
                .put(&token, Held::Encoded(encoded), session_id, false);
        }
        Ok(Released::cookie(token))
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
    async fn move_record(&self, old: &SessionId, _new: &SessionId, now: u64) -> Loaded {
        Ok(self
            .open(old, now)?
            .map(|opened| reseal_on_release(opened.record)))
    }

    /// Always 0: sessions live in the clients.
    async fn count(&self, _now: u64) -> Result<usize> {
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::session::id::IdGenerator;
    use crate::session::record::{now_ms, Changes};

    const KEY: &str = r#"{"securityKey":"a secret of at least thirty-two bytes!!"}"#;

    /// A native engine with a 60 s idle lifetime.
    async fn native() -> CookieRecords {
        let cx = StoreContext {
            lifetimes: Lifetimes::new(Duration::from_secs(60), None),
            format: Format::Native,
        };
        <CookieRecords as RecordStore>::open(cx, KEY).await.unwrap()
    }

    /// The token of an update of `token`'s session to `record`.
    async fn update(
        sealed: &CookieRecords,
        token: &SessionId,
        record: &SessionRecord,
        now: u64,
    ) -> String {
        let changes = Changes::default();
        let released = sealed
            .write(Write {
                sid: token,
                mode: WriteMode::Update,
                changes: &changes,
                merged: record,
                now_ms: now,
                loaded_accessed_ms: record.accessed_ms,
            })
            .await
            .unwrap();
        released.cookie_value.unwrap()
    }

    /// A reseal keeps the per-session id, whether the write finds it noted
    /// by its load or unseals its token again.
    #[actix_rt::test]
    async fn a_reseal_keeps_the_per_session_id() {
        let sealed = native().await;
        let Seal::Native(seal) = &sealed.seal else {
            panic!("native seal expected")
        };
        let now = now_ms();
        let id = [7u8; SESSION_ID_LEN];
        for loaded in [true, false] {
            let token =
                IdGenerator::sealed(&sealed.seal(&id, &SessionRecord::new(now), None).unwrap());
            let record = if loaded {
                sealed.load(&token, now).await.unwrap().unwrap()
            } else {
                SessionRecord::new(now)
            };
            let again = update(&sealed, &token, &record, now).await;
            assert_ne!(again, token.as_str());
            assert_eq!(
                seal.unseal(&again, |u| u.session_id),
                Some(id),
                "loaded: {loaded}"
            );
        }
    }

    /// A token this engine opened or sealed opens from its cache to
    /// exactly what another process (no cache) decrypts, and the time
    /// checks still apply to a cached token.
    #[actix_rt::test]
    async fn cached_tokens_open_as_decrypted_ones() {
        let (here, elsewhere) = (native().await, native().await);
        let now = now_ms();
        let mut record = SessionRecord::new(now - 5);
        record.values.insert("asta".into(), b"\x07".to_vec());
        let first = IdGenerator::sealed(&here.seal(&[3; SESSION_ID_LEN], &record, None).unwrap());
        // Opened: cached as a record.
        let opened = here.load(&first, now).await.unwrap().unwrap();
        assert_eq!(opened, record);
        // Sealed by an update: cached as its encoding.
        let second = IdGenerator::sealed(&update(&here, &first, &opened, now).await);
        for token in [&first, &second] {
            let cached = here.load(token, now).await.unwrap().unwrap();
            let decrypted = elsewhere.load(token, now).await.unwrap().unwrap();
            assert_eq!(cached, decrypted);
            assert_eq!(cached.values, record.values);
            // Idle for longer than 60 s: expired, cached or not.
            let later = now + 61_000;
            assert_eq!(here.load(token, later).await.unwrap(), None);
            assert_eq!(elsewhere.load(token, later).await.unwrap(), None);
        }
        assert_eq!(
            here.cache.get(second.as_str(), |hit| hit.session_id),
            Some([3; SESSION_ID_LEN])
        );
    }

    /// A token of payload version 1 (MessagePack record), sealed by the
    /// code before version 2 (as on main then) under the hex key `5c` × 64
    /// with `cookieName` `fixturesession`: per-session id `11` × 16,
    /// created 1_790_000_000_000, accessed 1_790_000_100_000, values
    /// `asta` = `29`, `name` = `a3 62 65 65`.
    const V1_TOKEN: &str = "2funFg1yYOPXigCOiJEzt3-4Fe_GUa83tSMI0oJMx7u27CJant1fvzTmfvN1TIi3J72ygwOJb3jf89z8cxVcsUas1OegHWZkl5AflMLnOuL5Iphkbio5hPr8TQ";

    /// Cookies of payload version 1 minted by an earlier release open to
    /// the same record and per-session id, and their next write seals the
    /// release's version with the same per-session id.
    #[actix_rt::test]
    async fn version_1_tokens_still_open() {
        let cx = StoreContext {
            lifetimes: Lifetimes::new(Duration::from_secs(3600), None),
            format: Format::Native,
        };
        let key = format!(
            r#"{{"securityKey":"{}","cookieName":"fixturesession"}}"#,
            "5c".repeat(64)
        );
        let sealed = <CookieRecords as RecordStore>::open(cx, &key)
            .await
            .unwrap();
        let Seal::Native(seal) = &sealed.seal else {
            panic!("native seal expected")
        };
        assert_eq!(seal.unseal(V1_TOKEN, |u| u.version), Some(PAYLOAD_V1));
        let now = 1_790_000_200_000;
        let token = IdGenerator::sealed(V1_TOKEN);
        let record = sealed.load(&token, now).await.unwrap().unwrap();
        assert_eq!(
            (record.created_ms, record.accessed_ms),
            (1_790_000_000_000, 1_790_000_100_000)
        );
        assert_eq!(
            record.values.get("asta").map(Vec::as_slice),
            Some(&b"\x29"[..])
        );
        assert_eq!(
            record.values.get("name").map(Vec::as_slice),
            Some(&b"\xa3bee"[..])
        );
        assert_eq!(record.values.len(), 2);
        // Expired by its idle lifetime like any other token.
        assert_eq!(sealed.load(&token, 1_790_003_800_001).await.unwrap(), None);
        let again = update(&sealed, &token, &record, now).await;
        assert_eq!(
            seal.unseal(&again, |u| (u.version, u.session_id)),
            Some((SEAL_VERSION, [0x11; SESSION_ID_LEN]))
        );
        let fresh = native().await;
        assert!(
            fresh.load(&token, now).await.unwrap().is_none(),
            "another key opened it"
        );
    }

    /// The next release may seal payload version 2: this one opens such
    /// tokens (freshly decrypted and from its cache) to the same record,
    /// with the same per-session id and expiry, so that upgrade and
    /// rollback log nobody out.
    #[actix_rt::test]
    async fn version_2_tokens_of_a_later_release_open() {
        let mut later = native().await;
        later.seal_version = PAYLOAD_V2;
        let this = native().await;
        let now = 1_790_000_000_000;
        let mut record = SessionRecord::new(now);
        record.values.insert("asta".into(), vec![0x29]);
        record.values.insert("name".into(), b"\xa3bee".to_vec());
        let v2 = later.seal(&[7; SESSION_ID_LEN], &record, None).unwrap();
        let Seal::Native(seal) = &this.seal else {
            panic!("native seal expected")
        };
        assert_eq!(
            seal.unseal(&v2, |u| (u.version, u.session_id)),
            Some((PAYLOAD_V2, [7; SESSION_ID_LEN]))
        );
        let token = IdGenerator::sealed(&v2);
        for _ in 0..2 {
            // The second load is a cache hit.
            let opened = this.load(&token, now + 1).await.unwrap().unwrap();
            assert_eq!(opened.values, record.values);
            assert_eq!(opened.created_ms, now);
        }
        assert_eq!(this.load(&token, now + 61_000).await.unwrap(), None);
        let resealed = update(&this, &token, &record, now + 2).await;
        assert_eq!(
            seal.unseal(&resealed, |u| (u.version, u.session_id)),
            Some((SEAL_VERSION, [7; SESSION_ID_LEN]))
        );
    }
}
