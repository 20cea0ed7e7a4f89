//! The `couchbase` engine: one document per session, on the official
//! `couchbase` 1.x SDK (async, pure Rust).
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
//! | form | example |
//! |---|---|
//! | beego's documented URL (the user is the bucket) | `http://bucketname:bucketpass@myserver:8091` |
//! | beego's old `url,pool,bucket` (the pool is ignored: SDK 1.x has none) | `http://user:pass@myserver:8091/,default,sessions` |
//! | beego's JSON | `{"save_path":"http://myserver:8091","pool":"default","bucket":"sessions","username":"u","password":"p"}` |
//! | a connection string, bucket as the path | `couchbase://u:p@node1,node2/sessions?prefix=shop:s:` |
//!
//! Hosts are `host`, `host:port` or an IPv6 address in brackets,
//! `[::1]:11210`, read as every networked engine reads them.
//! `http://` becomes `couchbase://` and `https://` `couchbases://`. Their
//! management port (8091 / 18091) is dropped because the SDK bootstraps
//! over KV; any other port there is refused, use a connection string.
//! Engine options, in the connection string's query or as JSON keys:
//! `prefix` (default `actix-bee:session:`), `scope` + `collection` (default: the
//! bucket's default collection), `connect_timeout` (seconds, default 10),
//! `timeout` (per operation, default 2.5), `max_session_bytes` (the
//! largest session, default 256 KiB). Other query parameters go to
//! the SDK. Credentials are never in error messages or `Debug` output.
//!
//! The default prefix, `actix-bee:session:`, is the one every key-value
//! engine (redis, memcache, couchbase) uses. Sessions stored under the
//! prefix this engine used by default before, `actixbee:s:`, are not read
//! under the new one: to keep them, set `prefix=actixbee:s:` (or `"prefix":"actixbee:s:"` in JSON) explicitly
//! (or let them expire, and users sign in again once).
//!
//! # How it stores
//!
//! - Key: prefix + id; body: the encoded [`SessionRecord`] with binary
//!   flags; the document expiry is the idle lifetime + 1 s (the SDK turns
//!   expiries over 30 days into absolute times), and the record's access
//!   time is checked on every read.
//! - Create is `insert` (an existing live document is
//!   [`Error::IdCollision`]); update and touch are `get` + `replace` with
//!   CAS, retried on conflict, and a `replace` never creates, so a
//!   destroyed session is not written back; regenerate inserts the new id,
//!   then removes the old one (the skeleton's move). GC is a no-op
//!   (document expiry). Corrupt documents are reported as
//!   [`Error::Corrupt`]; the manager starts a fresh session.
//! - The cluster is connected on first use, not in `session_init`, so an
//!   unreachable cluster gives [`Error::Backend`] per request (within
//!   `connect_timeout`) and the next request tries again.
//! - `session_all` returns [`Error::Backend`]: counting needs a query
//!   service and an index over binary documents, which this engine does
//!   not assume.
//!
//! # beego format
//!
//! With `sessionstoreformat = beego` the layout is beego's couchbase
//! provider's: key = the raw id (`prefix` is not used), the document what
//! go-couchbase's `Bucket.Set` writes for beego's gob bytes (a JSON string
//! of their standard base64; `null` or `""` is an empty session), expiry =
//! the idle lifetime. Writes keep the per-key merge with CAS; beego's own
//! writes are unconditional `Set`s (last writer wins).
//!
//! # What is tested
//!
//! No Couchbase Server can run on the machine this engine was written on,
//! and no fake stands in for one. Tested: config parsing in every form
//! (bad forms give [`Error::Config`] without the password), that a
//! closed port gives [`Error::Backend`] within the timeout, and beego's
//! document encoding against a document Go's `encoding/json` produced.
//! **Not tested**: everything that needs a live server: the
//! create/update/CAS/expiry/regenerate logic (in both formats), the
//! conformance suite, authentication, TLS, and reading a document written
//! by a real beego app through go-couchbase.

mod beego;
mod config;

pub(crate) use config::secrets;

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use couchbase::authenticator::PasswordAuthenticator;
use couchbase::cluster::Cluster;
use couchbase::collection::Collection;
use couchbase::error::ErrorKind;
use couchbase::options::cluster_options::{ClusterOptions, KvOptions};
use couchbase::options::kv_options::{InsertOptions, ReplaceOptions};
use tokio::sync::OnceCell;

use super::shared::kv::{cas_backoff, session_key, CAS_ATTEMPTS};
use crate::session::engine::{Loaded, RecordStore, StoreContext};
use crate::session::engine::{Released, Write, WriteMode};
use crate::session::engines::shared::wiring::engine_provider;
use crate::session::error::{Error, Result};
use crate::session::format::Format;
use crate::session::id::SessionId;
use crate::session::record::{now_ms, Changes, SessionRecord};

const BACKEND: &str = "couchbase";
/// Couchbase's document size limit.
const DOC_LIMIT: usize = 20 * 1024 * 1024;
const OP_TIMEOUT: &str = "operation timed out";

/// The SDK's error, reduced to its kind: its context can name the
/// document key, which holds the session id.
fn backend(e: &couchbase::error::Error) -> Error {
    Error::backend(BACKEND, e.kind().to_string())
}

struct Connected {
    // Kept so the cluster's connections stay open.
    _cluster: Cluster,
    collection: Collection,
}

/// The records of the couchbase engine.
pub(crate) struct Couchbase {
    cfg: config::CouchbaseConfig,
    cx: StoreContext,
    conn: OnceCell<Connected>,
}

impl std::fmt::Debug for Couchbase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Couchbase")
            .field("config", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl Couchbase {
    /// Bounds an SDK call: its retry strategy would otherwise keep going.
    async fn timed<T, F>(limit: Duration, what: &'static str, fut: F) -> Result<T>
    where
        F: Future<Output = Result<T>>,
    {
        tokio::time::timeout(limit, fut)
            .await
            .map_err(|_| Error::backend(BACKEND, what))?
    }

    async fn collection(&self) -> Result<&Collection> {
        let cfg = &self.cfg;
        let connected = self
            .conn
            .get_or_try_init(|| async {
                // Boxed SDK futures below: their nesting overflows rustc's
                // layout query depth otherwise.
                let auth = PasswordAuthenticator::new(cfg.username.clone(), cfg.password.clone());
                let opts = ClusterOptions::new(auth.into())
                    .kv_options(KvOptions::new().connect_timeout(cfg.connect_timeout));
                let connect = async {
                    Box::pin(Cluster::connect(&cfg.conn_str, opts))
                        .await
                        .map_err(|e| match e.kind() {
                            ErrorKind::InvalidArgument(_) => Error::config(
                                BACKEND,
                                format!("the SDK refused the connection string: {}", e.kind()),
                            ),
                            _ => backend(&e),
                        })
                };
                let cluster = Self::timed(
                    cfg.connect_timeout,
                    "no connection to the cluster within connect_timeout",
                    connect,
                )
                .await?;
                let bucket = cluster.bucket(cfg.bucket.clone());
                let collection = match (&cfg.scope, &cfg.collection) {
                    (Some(scope), Some(collection)) => {
                        bucket.scope(scope.clone()).collection(collection.clone())
                    }
                    _ => bucket.default_collection(),
                };
                Ok::<_, Error>(Connected {
                    _cluster: cluster,
                    collection,
                })
            })
            .await?;
        Ok(&connected.collection)
    }

    fn beego(&self) -> bool {
        self.cx.format == Format::Beego
    }

    /// prefix + id; beego's key is the raw id.
    fn key(&self, sid: &SessionId) -> Result<String> {
        let prefix = if self.beego() { "" } else { &self.cfg.prefix };
        session_key(prefix, sid, "couchbase key")
    }

    /// Document expiry: a second of slack over the idle lifetime, which
    /// the record check enforces exactly; beego's is the idle lifetime,
    /// its only expiry.
    fn expiry(&self) -> Duration {
        if self.beego() {
            return self.cx.lifetimes.idle;
        }
        self.cx.lifetimes.idle + Duration::from_secs(1)
    }

    /// The document and its flags: binary, or beego's JSON string.
    fn transcode<'a>(&self, bytes: &'a [u8]) -> Result<(&'a [u8], u32)> {
        if self.beego() {
            // Only the SDK's JSON flags are needed: the bytes are JSON already.
            let (_, flags) =
                couchbase::transcoding::raw_json::encode(&bytes).map_err(|e| backend(&e))?;
            return Ok((bytes, flags));
        }
        couchbase::transcoding::raw_binary::encode(bytes).map_err(|e| backend(&e))
    }

    /// A stored document as a record. beego's holds no times: the
    /// document's expiry is its only one, so one that is there is live.
    fn decode(&self, doc: &[u8], now: u64) -> Result<SessionRecord> {
        if !self.beego() {
            return self.cx.format.decode(doc);
        }
        let mut record = self.cx.format.decode(&beego::decode(doc)?)?;
        record.created_ms = now;
        record.accessed_ms = now;
        Ok(record)
    }

    fn encode(&self, record: &SessionRecord) -> Result<Vec<u8>> {
        let mut bytes = self.cx.format.encode(record)?;
        if self.beego() {
            bytes = beego::encode(&bytes);
        }
        if bytes.len() > DOC_LIMIT {
            return Err(Error::TooLarge {
                what: "session",
                size: bytes.len(),
                limit: DOC_LIMIT,
            });
        }
        Ok(bytes)
    }

    /// The stored record (live or not) with its CAS.
    async fn fetch(&self, key: &str) -> Result<Option<(SessionRecord, u64)>> {
        let coll = self.collection().await?;
        let got = Self::timed(self.cfg.timeout, OP_TIMEOUT, async {
            match Box::pin(coll.get(key, None)).await {
                Ok(doc) => Ok(Some(doc)),
                Err(e) if matches!(e.kind(), ErrorKind::DocumentNotFound) => Ok(None),
                Err(e) => Err(backend(&e)),
            }
        });
        let Some(doc) = got.await? else {
            return Ok(None);
        };
        let (bytes, _flags) = doc.content_as_raw();
        Ok(Some((self.decode(bytes, now_ms())?, doc.cas())))
    }

    async fn load(&self, key: &str, now: u64) -> Result<Option<(SessionRecord, u64)>> {
        Ok(self
            .fetch(key)
            .await?
            .filter(|(record, _)| !record.is_expired(&self.cx.lifetimes, now)))
    }

    fn write_error(e: &couchbase::error::Error, size: usize) -> Error {
        match e.kind() {
            ErrorKind::ValueTooLarge => Error::TooLarge {
                what: "session",
                size,
                limit: DOC_LIMIT,
            },
            _ => backend(e),
        }
    }

    /// `replace` with CAS; `Ok(false)` on a CAS conflict or a missing
    /// document.
    async fn replace(&self, key: &str, bytes: &[u8], cas: u64) -> Result<bool> {
        let coll = self.collection().await?;
        let (value, flags) = self.transcode(bytes)?;
        let opts = ReplaceOptions::new().cas(cas).expiry(self.expiry());
        Self::timed(self.cfg.timeout, OP_TIMEOUT, async {
            match Box::pin(coll.replace_raw(key, value, flags, opts)).await {
                Ok(_) => Ok(true),
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::CasMismatch | ErrorKind::DocumentNotFound
                    ) =>
                {
                    Ok(false)
                }
                Err(e) => Err(Self::write_error(&e, bytes.len())),
            }
        })
        .await
    }

    async fn create(&self, sid: &SessionId, record: &SessionRecord, now: u64) -> Result<()> {
        let key = self.key(sid)?;
        let bytes = self.encode(record)?;
        let (value, flags) = self.transcode(&bytes)?;
        for _ in 0..CAS_ATTEMPTS {
            let coll = self.collection().await?;
            let opts = InsertOptions::new().expiry(self.expiry());
            let inserted = Self::timed(self.cfg.timeout, OP_TIMEOUT, async {
                match Box::pin(coll.insert_raw(&key, value, flags, opts)).await {
                    Ok(_) => Ok(true),
                    Err(e) if matches!(e.kind(), ErrorKind::DocumentExists) => Ok(false),
                    Err(e) => Err(Self::write_error(&e, bytes.len())),
                }
            })
            .await?;
            if inserted {
                return Ok(());
            }
            // An expired document that the server has not reclaimed yet
            // may be replaced; a live one is a collision.
            match self.fetch(&key).await? {
                None => continue,
                Some((old, cas)) if old.is_expired(&self.cx.lifetimes, now) => {
                    if self.replace(&key, &bytes, cas).await? {
                        return Ok(());
                    }
                }
                Some(_) => return Err(Error::IdCollision),
            }
        }
        Err(Error::backend(
            BACKEND,
            "create: too many concurrent writers",
        ))
    }

    async fn update(&self, sid: &SessionId, changes: &Changes, now: u64) -> Result<bool> {
        let key = self.key(sid)?;
        for attempt in 0..CAS_ATTEMPTS {
            let Some((mut record, cas)) = self.load(&key, now).await? else {
                return Ok(false);
            };
            changes.apply(&mut record.values);
            record.accessed_ms = record.accessed_ms.max(now);
            let bytes = self.encode(&record)?;
            if self.replace(&key, &bytes, cas).await? {
                return Ok(true);
            }
            tokio::time::sleep(cas_backoff(attempt)).await;
        }
        Err(Error::backend(
            BACKEND,
            "update: too many concurrent writers to one session",
        ))
    }

    async fn remove_key(&self, key: &str) -> Result<()> {
        let coll = self.collection().await?;
        Self::timed(self.cfg.timeout, OP_TIMEOUT, async {
            match Box::pin(coll.remove(key, None)).await {
                Ok(_) => Ok(()),
                Err(e) if matches!(e.kind(), ErrorKind::DocumentNotFound) => Ok(()),
                Err(e) => Err(backend(&e)),
            }
        })
        .await
    }
}

engine_provider! {
    /// The `couchbase` engine. See the [module docs](self) for its config and
    /// for what is not tested.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # actix_rt::System::new().block_on(async {
    /// use actix_bee::session::{Manager, ManagerConfig};
    ///
    /// let mut cfg = ManagerConfig::default();
    /// cfg.provider_config = "http://sessions:bucketpass@127.0.0.1:8091".into();
    /// let manager = Manager::new("couchbase", cfg).await.unwrap();
    /// # });
    /// ```
    #[derive(Default)]
    pub struct CouchbaseProvider(Couchbase);
}

#[async_trait]
impl RecordStore for Couchbase {
    const NAME: &'static str = BACKEND;
    const FORMATS: &'static [Format] = &[Format::Native, Format::Beego];

    /// Parses the config; the cluster is connected on first use.
    async fn open(cx: StoreContext, config: &str) -> Result<Self> {
        Ok(Couchbase {
            cfg: config::parse(config)?,
            cx,
            conn: OnceCell::new(),
        })
    }

    async fn load(&self, sid: &SessionId, now: u64) -> Loaded {
        let key = self.key(sid)?;
        Ok(Couchbase::load(self, &key, now)
            .await?
            .map(|(record, _)| record))
    }

    async fn write(&self, w: Write<'_>) -> Result<Released> {
        if w.mode == WriteMode::Create {
            self.insert(w.sid, w.merged, w.now_ms).await?;
            return Ok(Released::wrote(true));
        }
        let wrote = self.update(w.sid, w.changes, w.now_ms).await?;
        Ok(Released::wrote(wrote))
    }

    async fn insert(&self, sid: &SessionId, record: &SessionRecord, now: u64) -> Result<()> {
        let record = SessionRecord {
            accessed_ms: now,
            ..record.clone()
        };
        self.create(sid, &record, now).await
    }

    async fn remove(&self, sid: &SessionId) -> Result<()> {
        let key = self.key(sid)?;
        Couchbase::remove_key(self, &key).await
    }

    fn max_session_bytes(&self) -> usize {
        self.cfg.max_session_bytes
    }

    /// Always [`Error::Backend`]: see the module docs.
    async fn count(&self, _now: u64) -> Result<usize> {
        Err(Error::backend(
            BACKEND,
            "counting sessions is not supported: it needs the query service and an index",
        ))
    }
}
