//! The `memcache` engine: one memcached item per session.
//!
//! No owner index: [`Session::set_owner`](crate::session::Session::set_owner)
//! and "log out everywhere" answer
//! [`Error::Unsupported`](crate::session::Error::Unsupported). Keep the
//! ids of each user's sessions in the app's own database and destroy them
//! one by one, or use an engine with an index (memory, file, redis, mysql,
//! postgresql).
//!
//! # Config
//!
//! beego's form, `127.0.0.1:11211` or several addresses separated by `;` or
//! `,`, and `memcache://[user:pass@]host:port[?timeout=secs]` URLs (SASL
//! PLAIN with the binary protocol; `memcache+unix:///path` for a socket).
//! An address is `host:port`, or an IPv6 address in brackets,
//! `[::1]:11211`, read as every networked engine reads it.
//! Options go in the same list as `name=value`:
//!
//! | option | default | meaning |
//! |---|---|---|
//! | `prefix` | `actix-bee:session:` | key prefix, ASCII letters, digits and `: . _ - /` |
//! | `pool_size` | `16` | connections per server |
//! | `connect_timeout` | `3` | seconds to wait for a connection |
//! | `timeout` | `3` | socket read/write timeout, seconds |
//! | `call_timeout` | `5` | deadline of one session call (pool check-out and every round trip): past it the request gets a 503 ([`Error::Timeout`](crate::session::Error::Timeout)) |
//! | `max_session_bytes` | `262144` | the largest session (keys, values and a fixed overhead); a bigger one is refused at release with [`Error::TooLarge`](crate::session::Error::TooLarge) |
//!
//! ```ini
//! sessionprovider = memcache
//! sessionproviderconfig = 127.0.0.1:11211,prefix=shop:s:,pool_size=32
//! ```
//!
//! The default prefix, `actix-bee:session:`, is the one every key-value
//! engine (redis, memcache, couchbase) uses. Sessions stored under the
//! prefix this engine used by default before, `actixbee:s:`, are not read
//! under the new one: to keep them, set `prefix=actixbee:s:` explicitly
//! (or let them expire, and users sign in again once).
//!
//! # TLS: not supported
//!
//! The `memcache` crate (0.21) does TLS only through OpenSSL (its `tls`
//! feature links the system's libssl), has no rustls option and no
//! pluggable transport, and this crate links no C TLS library. So
//! `memcache+tls://` URLs and TLS options (`tls`, `tls_ca_file`, `ca_path`,
//! ...) are an [`Error::Config`] that says so. To encrypt the traffic, run
//! memcached on a private network or behind a TLS tunnel (stunnel, a
//! service mesh).
//!
//! # How it stores
//!
//! - Key: prefix + id (within memcached's 250 bytes). Value: the encoded
//!   [`SessionRecord`]. Several servers share keys by a stable FNV-1a hash.
//! - Create is `add`, so an existing live id is an
//!   [`Error::IdCollision`], never overwritten.
//! - Update and touch are `gets` + `cas`, retried on conflict: concurrent
//!   requests writing different keys lose nothing, and a destroyed session
//!   is never written back (a `cas` on a missing key fails).
//! - Regenerate moves by CAS: it reads the old id with its CAS token,
//!   `add`s the new one, then swaps the old item, only if it is unchanged,
//!   for one already expired (memcached's `delete` takes no CAS token; a
//!   `cas` with an expiration in the past is a delete-if-unchanged). A
//!   request that wrote the old id in between makes the swap fail: the new
//!   id gets the newer value and the swap is tried again, so no write
//!   acknowledged on the old id is lost. An evicted or unknown old id
//!   gives an empty new session (beego panics).
//! - Corrupt items are reported as [`Error::Corrupt`]; the manager starts a
//!   fresh session.
//! - Expiry: the record's access time is checked on every read; memcached's
//!   TTL (idle lifetime + 1 s slack) only reclaims memory. Lifetimes over
//!   30 days are sent as absolute unix times, because memcached reads any
//!   larger number that way. GC is a no-op.
//! - The client is synchronous, so every call runs on tokio's blocking pool.
//!
//! # beego format
//!
//! With `sessionstoreformat = beego`: key = the raw id (beego namespaces
//! with `sessionidprefix`; `prefix` is not used), value = beego's gob map,
//! expiration = the idle lifetime, as beego's memcache provider. beego's
//! value holds no times, so memcached's TTL alone is the idle expiry. Writes
//! still merge per key with `gets` + `cas`.
//!
//! # Counting
//!
//! memcached cannot enumerate keys through its protocol. `session_all` uses
//! `lru_crawler metadump all` (memcached ≥ 1.4.31, crawler enabled, no
//! SASL), then reads each listed key to count only live sessions. It costs
//! O(items on the servers): an admin figure, not a hot path. Where the
//! crawler is unavailable it returns [`Error::Backend`] instead of a guess.

mod config;
mod count;

pub(crate) use config::secrets;

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use memcache::{CommandError, MemcacheError};

use super::shared::blocking::blocking_within;
use super::shared::kv::{cas_backoff, session_key, CAS_ATTEMPTS};
use crate::session::engine::{Loaded, RecordStore, StoreContext};
use crate::session::engine::{Released, Write, WriteMode};
use crate::session::engines::shared::wiring::engine_provider;
use crate::session::error::{Error, Result};
use crate::session::format::Format;
use crate::session::id::SessionId;
use crate::session::record::{Changes, SessionRecord};

const BACKEND: &str = "memcache";
/// memcached reads an expiration above 30 days as a unix time.
const RELATIVE_EXPIRY_LIMIT: u64 = 60 * 60 * 24 * 30;
/// memcached's default item size limit (`-I`).
const ITEM_LIMIT: usize = 1024 * 1024;
/// How many keys `session_all` reads per round trip.
const COUNT_BATCH: usize = 200;
/// An absolute expiration long past (30 days and 1 s after the epoch):
/// memcached expires an item stored with it at once.
const EXPIRED: u32 = 60 * 60 * 24 * 30 + 1;

fn backend(e: MemcacheError) -> Error {
    Error::backend(BACKEND, e)
}

/// FNV-1a: stable across processes and Rust versions, unlike the crate's
/// default `DefaultHasher`, so every instance maps a key to the same server.
fn fnv1a(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

struct Shared {
    client: memcache::Client,
    cfg: config::MemcacheConfig,
    cx: StoreContext,
}

impl Shared {
    fn key(&self, sid: &SessionId) -> Result<String> {
        session_key(&self.cfg.prefix, sid, "memcache key")
    }

    /// memcached's expiration for a write at `now_ms`.
    fn expiration(&self, now_ms: u64) -> u32 {
        // +1 s: memcached's clock ticks once a second, so an item can
        // vanish up to a second early; the record check is the exact one.
        let ttl = self.cx.lifetimes.idle_ms().div_ceil(1000).max(1) + 1;
        let exp = if ttl > RELATIVE_EXPIRY_LIMIT {
            now_ms / 1000 + ttl
        } else {
            ttl
        };
        u32::try_from(exp).unwrap_or(u32::MAX)
    }

    /// A stored value as a record. beego's holds no times: memcached's TTL
    /// is its only expiry, so a value that is there is live at `now`.
    fn decode(&self, bytes: &[u8], now: u64) -> Result<SessionRecord> {
        let mut record = self.cx.format.decode(bytes)?;
        if self.cx.format == Format::Beego {
            record.created_ms = now;
            record.accessed_ms = now;
        }
        Ok(record)
    }

    /// The live record under `key` with its CAS token.
    fn load(&self, key: &str, now: u64) -> Result<Option<(SessionRecord, u64)>> {
        let item: Option<(Vec<u8>, u32, Option<u64>)> = self.client.get(key).map_err(backend)?;
        let Some((bytes, _flags, cas)) = item else {
            return Ok(None);
        };
        let record = self.decode(&bytes, now)?;
        if record.is_expired(&self.cx.lifetimes, now) {
            return Ok(None);
        }
        Ok(Some((record, cas.unwrap_or(0))))
    }

    fn encode(&self, record: &SessionRecord) -> Result<Vec<u8>> {
        let bytes = self.cx.format.encode(record)?;
        if bytes.len() > ITEM_LIMIT {
            return Err(Error::TooLarge {
                what: "session",
                size: bytes.len(),
                limit: ITEM_LIMIT,
            });
        }
        Ok(bytes)
    }

    fn too_large(e: MemcacheError, size: usize) -> Error {
        match e {
            MemcacheError::CommandError(CommandError::ValueTooLarge) => Error::TooLarge {
                what: "session",
                size,
                limit: ITEM_LIMIT,
            },
            e => backend(e),
        }
    }

    /// Inserts a new session; a live one under the same id is a collision,
    /// an expired one is replaced.
    fn create(&self, sid: &SessionId, record: &SessionRecord, now: u64) -> Result<()> {
        let key = self.key(sid)?;
        let bytes = self.encode(record)?;
        let exp = self.expiration(now);
        for attempt in 0..CAS_ATTEMPTS {
            match self.client.add(&key, bytes.as_slice(), exp) {
                Ok(()) => return Ok(()),
                Err(MemcacheError::CommandError(CommandError::KeyExists)) => {}
                Err(e) => return Err(Self::too_large(e, bytes.len())),
            }
            let item: Option<(Vec<u8>, u32, Option<u64>)> =
                self.client.get(&key).map_err(backend)?;
            let Some((old, _, cas)) = item else {
                continue; // Gone meanwhile: `add` again.
            };
            let expired = self
                .decode(&old, now)
                .map(|r| r.is_expired(&self.cx.lifetimes, now))
                .unwrap_or(false);
            if !expired {
                return Err(Error::IdCollision);
            }
            let swapped = self
                .client
                .cas(&key, bytes.as_slice(), exp, cas.unwrap_or(0))
                .map_err(|e| Self::too_large(e, bytes.len()))?;
            if swapped {
                return Ok(());
            }
            std::thread::sleep(cas_backoff(attempt));
        }
        Err(Error::backend(
            BACKEND,
            "create: too many concurrent writers",
        ))
    }

    /// Applies `changes` (none for a touch) to the stored session with CAS,
    /// only if it is still there and live. Returns whether it wrote.
    fn update(&self, sid: &SessionId, changes: &Changes, now: u64) -> Result<bool> {
        let key = self.key(sid)?;
        let exp = self.expiration(now);
        for attempt in 0..CAS_ATTEMPTS {
            let Some((mut record, cas)) = self.load(&key, now)? else {
                return Ok(false);
            };
            changes.apply(&mut record.values);
            // A touch must move the access time too: expiry is checked
            // against it on read, not only by memcached's TTL.
            record.accessed_ms = record.accessed_ms.max(now);
            let bytes = self.encode(&record)?;
            let swapped = self
                .client
                .cas(&key, bytes.as_slice(), exp, cas)
                .map_err(|e| Self::too_large(e, bytes.len()))?;
            if swapped {
                return Ok(true);
            }
            std::thread::sleep(cas_backoff(attempt));
        }
        Err(Error::backend(
            BACKEND,
            "update: too many concurrent writers to one session",
        ))
    }

    /// Regenerate by CAS (see the module docs): the new id holds the old
    /// one's latest value before the old item dies, and dies only if no
    /// write came in since that value was read.
    fn move_record(
        &self,
        old: &SessionId,
        new: &SessionId,
        now: u64,
    ) -> Result<Option<SessionRecord>> {
        let (old_key, new_key) = (self.key(old)?, self.key(new)?);
        let exp = self.expiration(now);
        let mut created = false;
        for attempt in 0..CAS_ATTEMPTS {
            let Some((mut record, cas)) = self.load(&old_key, now)? else {
                // Destroyed (or expired) meanwhile: no copy may outlive it.
                if created {
                    self.client.delete(&new_key).map_err(backend)?;
                }
                return Ok(None);
            };
            record.accessed_ms = now;
            if created {
                let bytes = self.encode(&record)?;
                self.client
                    .set(&new_key, bytes.as_slice(), exp)
                    .map_err(|e| Self::too_large(e, bytes.len()))?;
            } else {
                self.create(new, &record, now)?;
                created = true;
            }
            let killed = self
                .client
                .cas(&old_key, &b""[..], EXPIRED, cas)
                .map_err(backend)?;
            if killed {
                return Ok(Some(record));
            }
            std::thread::sleep(cas_backoff(attempt));
        }
        Err(Error::backend(
            BACKEND,
            "regenerate: too many concurrent writers to one session",
        ))
    }

    fn count(&self, now: u64) -> Result<usize> {
        let mut keys = BTreeSet::new();
        // memcached's crawler can miss an item that its LRU maintainer is
        // moving between segments while it walks (a session just written
        // and read, say): a second walk a moment later, the union
        // counted, makes a miss rare.
        for walk in 0..2 {
            if walk > 0 {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            for server in &self.cfg.servers {
                count::dump_keys(
                    server,
                    &self.cfg.prefix,
                    self.cfg.connect_timeout,
                    self.cfg.io_timeout,
                    &mut keys,
                )?;
            }
        }
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let mut live = 0;
        for batch in keys.chunks(COUNT_BATCH) {
            let found: std::collections::HashMap<String, Vec<u8>> =
                self.client.gets(batch).map_err(backend)?;
            live += found
                .values()
                .filter(|bytes| {
                    self.decode(bytes, now)
                        .is_ok_and(|r| !r.is_expired(&self.cx.lifetimes, now))
                })
                .count();
        }
        Ok(live)
    }
}

/// The records of the memcache engine.
#[derive(Clone)]
pub(crate) struct Memcache(Arc<Shared>);

impl std::fmt::Debug for Memcache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memcache")
            .field("prefix", &self.0.cfg.prefix)
            .finish_non_exhaustive()
    }
}

impl Memcache {
    /// Runs a client call on the blocking pool: the memcache client does
    /// socket I/O synchronously and must not stall an async worker. The
    /// call deadline bounds it whatever the socket timeouts add up to.
    async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Shared) -> Result<T> + Send + 'static,
    {
        let shared = self.0.clone();
        let deadline = shared.cfg.call_timeout;
        blocking_within(BACKEND, deadline, move || f(&shared)).await
    }
}

engine_provider! {
    /// The `memcache` engine. See the [module docs](self) for its config.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// use actix_bee::session::{Manager, ManagerConfig};
    ///
    /// let mut cfg = ManagerConfig::default();
    /// cfg.provider_config = "127.0.0.1:11211,prefix=shop:s:".into();
    /// let manager = Manager::new("memcache", cfg).await.unwrap();
    /// # });
    /// ```
    #[derive(Default)]
    pub struct MemcacheProvider(Memcache);
}

#[async_trait]
impl RecordStore for Memcache {
    const NAME: &'static str = BACKEND;
    const FORMATS: &'static [Format] = &[Format::Native, Format::Beego];

    /// Parses the config and builds lazy connection pools: no connection
    /// is opened here, so a server that is down shows up as
    /// [`Error::Backend`] on first use, not as a start-up failure.
    async fn open(cx: StoreContext, config: &str) -> Result<Self> {
        let mut cfg = config::parse(config)?;
        if cx.format == Format::Beego {
            // beego's key is the raw id.
            cfg.prefix = String::new();
        }
        let mut pools = Vec::with_capacity(cfg.servers.len());
        for url in &cfg.servers {
            let pool = r2d2::Pool::builder()
                .max_size(cfg.pool_size)
                .min_idle(Some(0))
                .connection_timeout(cfg.connect_timeout)
                // The pool's default handler logs through `log`; failures
                // reach the caller as `Error::Backend` instead.
                .error_handler(Box::new(r2d2::NopErrorHandler))
                .build_unchecked(memcache::ConnectionManager::new(url.clone()));
            pools.push(pool);
        }
        let mut client = memcache::Client::with_pools(pools).map_err(backend)?;
        client.hash_function = fnv1a;
        Ok(Memcache(Arc::new(Shared { client, cfg, cx })))
    }

    async fn load(&self, sid: &SessionId, now: u64) -> Loaded {
        let sid = sid.clone();
        self.run(move |s| Ok(s.load(&s.key(&sid)?, now)?.map(|(record, _)| record)))
            .await
    }

    async fn write(&self, w: Write<'_>) -> Result<Released> {
        let sid = w.sid.clone();
        let now = w.now_ms;
        if w.mode == WriteMode::Create {
            self.insert(w.sid, w.merged, now).await?;
            return Ok(Released::wrote(true));
        }
        let changes = w.changes.clone();
        let wrote = self.run(move |s| s.update(&sid, &changes, now)).await?;
        Ok(Released::wrote(wrote))
    }

    async fn insert(&self, sid: &SessionId, record: &SessionRecord, now: u64) -> Result<()> {
        let sid = sid.clone();
        let record = SessionRecord {
            accessed_ms: now,
            ..record.clone()
        };
        self.run(move |s| s.create(&sid, &record, now)).await
    }

    async fn move_record(&self, old: &SessionId, new: &SessionId, now: u64) -> Loaded {
        let (old, new) = (old.clone(), new.clone());
        self.run(move |s| s.move_record(&old, &new, now)).await
    }

    async fn remove(&self, sid: &SessionId) -> Result<()> {
        let sid = sid.clone();
        self.run(move |s| {
            s.client.delete(&s.key(&sid)?).map_err(backend)?;
            Ok(())
        })
        .await
    }

    fn max_session_bytes(&self) -> usize {
        self.0.cfg.max_session_bytes
    }

    /// Live sessions under this engine's prefix, found with memcached's LRU
    /// crawler; [`Error::Backend`] where the crawler is unavailable.
    async fn count(&self, now: u64) -> Result<usize> {
        self.run(move |s| s.count(now)).await
    }
}
