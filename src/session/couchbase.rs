//! The `couchbase` engine: one document per session, on the official
//! `couchbase` 1.x SDK (async, pure Rust).
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
//! `http://` becomes `couchbase://` and `https://` `couchbases://`. Their
//! management port (8091 / 18091) is dropped because the SDK bootstraps
//! over KV; any other port there is refused, use a connection string.
//! Engine options, in the connection string's query or as JSON keys:
//! `prefix` (default `actixbee:s:`), `scope` + `collection` (default: the
//! bucket's default collection), `connect_timeout` (seconds, default 10),
//! `timeout` (per operation, default 2.5). Other query parameters go to
//! the SDK. Credentials are never in error messages or `Debug` output.
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
//!   then removes the old one. GC is a no-op (document expiry).
//! - The cluster is connected on first use, not in `session_init`, so an
//!   unreachable cluster gives [`Error::Backend`] per request (within
//!   `connect_timeout`) and the next request tries again.
//! - `session_all` returns [`Error::Backend`]: counting needs a query
//!   service and an index over binary documents, which this engine does
//!   not assume.
//!
//! # What is tested
//!
//! No Couchbase Server can run on the machine this engine was written on,
//! and no fake stands in for one. Tested: config parsing in every form
//! (bad forms give [`Error::Config`] without the password), and that a
//! closed port gives [`Error::Backend`] within the timeout. **Not tested**:
//! everything that needs a live server: the create/update/CAS/expiry/
//! regenerate logic, the conformance suite, authentication, TLS.

mod config;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use couchbase::authenticator::PasswordAuthenticator;
use couchbase::cluster::Cluster;
use couchbase::collection::Collection;
use couchbase::error::ErrorKind;
use couchbase::options::cluster_options::{ClusterOptions, KvOptions};
use couchbase::options::kv_options::{InsertOptions, ReplaceOptions};
use tokio::sync::OnceCell;

use super::error::{Error, Result};
use super::id::SessionId;
use super::kv_shared::{cas_backoff, map_store, session_key, CAS_ATTEMPTS};
use super::provider::Provider;
use super::record::{now_ms, Changes, Lifetimes, SessionRecord};
use super::store::{Released, SessionWriter, Store, Write, WriteMode};

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

struct Shared {
    cfg: config::CouchbaseConfig,
    lifetimes: Lifetimes,
    conn: OnceCell<Connected>,
}

impl Shared {
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
                            ErrorKind::InvalidArgument(_) => Error::Config(format!(
                                "couchbase: the SDK refused the connection string: {}",
                                e.kind()
                            )),
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

    fn key(&self, sid: &SessionId) -> Result<String> {
        session_key(&self.cfg.prefix, sid, "couchbase key")
    }

    /// Document expiry: a second of slack over the idle lifetime, which
    /// the record check enforces exactly.
    fn expiry(&self) -> Duration {
        self.lifetimes.idle + Duration::from_secs(1)
    }

    fn encode(record: &SessionRecord) -> Result<Vec<u8>> {
        let bytes = record.encode()?;
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
        Ok(Some((SessionRecord::decode(bytes)?, doc.cas())))
    }

    async fn load(&self, key: &str, now: u64) -> Result<Option<(SessionRecord, u64)>> {
        Ok(self
            .fetch(key)
            .await?
            .filter(|(record, _)| !record.is_expired(&self.lifetimes, now)))
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
        let (value, flags) =
            couchbase::transcoding::raw_binary::encode(bytes).map_err(|e| backend(&e))?;
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
        let bytes = Self::encode(record)?;
        let (value, flags) =
            couchbase::transcoding::raw_binary::encode(&bytes).map_err(|e| backend(&e))?;
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
                Some((old, cas)) if old.is_expired(&self.lifetimes, now) => {
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
            let bytes = Self::encode(&record)?;
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

    async fn remove(&self, key: &str) -> Result<()> {
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

struct CouchbaseWriter(Arc<Shared>);

#[async_trait]
impl SessionWriter for CouchbaseWriter {
    async fn write(&self, w: Write<'_>) -> Result<Released> {
        if w.mode == WriteMode::Create {
            let mut record = w.merged.clone();
            record.accessed_ms = w.now_ms;
            self.0.create(w.sid, &record, w.now_ms).await?;
            return Ok(Released::wrote(true));
        }
        let wrote = self.0.update(w.sid, w.changes, w.now_ms).await?;
        Ok(Released::wrote(wrote))
    }
}

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
pub struct CouchbaseProvider {
    shared: Option<Arc<Shared>>,
}

impl std::fmt::Debug for CouchbaseProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CouchbaseProvider")
            .field("config", &self.shared.as_ref().map(|s| &s.cfg))
            .finish_non_exhaustive()
    }
}

impl CouchbaseProvider {
    fn shared(&self) -> Result<&Arc<Shared>> {
        self.shared
            .as_ref()
            .ok_or_else(|| Error::Config("couchbase: session_init was not called".into()))
    }

    fn store(
        shared: &Arc<Shared>,
        sid: SessionId,
        record: Option<SessionRecord>,
    ) -> Arc<dyn Store> {
        let writer = Arc::new(CouchbaseWriter(shared.clone()));
        map_store(sid, record, shared.lifetimes, writer)
    }

    async fn load(&self, sid: &SessionId) -> Result<Option<SessionRecord>> {
        let shared = self.shared()?;
        let key = shared.key(sid)?;
        Ok(shared.load(&key, now_ms()).await?.map(|(record, _)| record))
    }
}

#[async_trait]
impl Provider for CouchbaseProvider {
    /// Parses the config; the cluster is connected on first use.
    async fn session_init(&mut self, max_lifetime: Duration, config: &str) -> Result<()> {
        let cfg = config::parse(config)?;
        self.shared = Some(Arc::new(Shared {
            cfg,
            lifetimes: Lifetimes::new(max_lifetime, None),
            conn: OnceCell::new(),
        }));
        Ok(())
    }

    async fn session_read(&self, sid: &SessionId) -> Result<Arc<dyn Store>> {
        let record = self.load(sid).await?;
        Ok(Self::store(self.shared()?, sid.clone(), record))
    }

    async fn session_exist(&self, sid: &SessionId) -> Result<bool> {
        Ok(self.load(sid).await?.is_some())
    }

    async fn session_regenerate(&self, old: &SessionId, new: &SessionId) -> Result<Arc<dyn Store>> {
        let shared = self.shared()?;
        let now = now_ms();
        let old_key = shared.key(old)?;
        let Some((mut record, _)) = shared.load(&old_key, now).await? else {
            return Ok(Self::store(shared, new.clone(), None));
        };
        record.accessed_ms = now;
        // New first, then old: a failure in between never loses the session.
        shared.create(new, &record, now).await?;
        shared.remove(&old_key).await?;
        Ok(Self::store(shared, new.clone(), Some(record)))
    }

    async fn session_destroy(&self, sid: &SessionId) -> Result<()> {
        let shared = self.shared()?;
        shared.remove(&shared.key(sid)?).await
    }

    /// Always [`Error::Backend`]: see the module docs.
    async fn session_all(&self) -> Result<usize> {
        self.shared()?;
        Err(Error::backend(
            BACKEND,
            "counting sessions is not supported: it needs the query service and an index",
        ))
    }

    /// A no-op: documents expire on the server, and reads check expiry.
    async fn session_gc(&self) -> Result<()> {
        Ok(())
    }
}
