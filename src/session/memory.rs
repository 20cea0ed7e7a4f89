//! The `memory` engine: a sharded map, no global lock on the hot path.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::{Mutex, RwLock};

use super::error::{Error, Result};
use super::id::SessionId;
use super::provider::Provider;
use super::record::{now_ms, Lifetimes, SessionRecord};
use super::store::{MapStore, Released, SessionWriter, Store, Write, WriteMode};

const SHARDS: usize = 64;

type Entry = Arc<Mutex<SessionRecord>>;
type Shard = RwLock<HashMap<SessionId, Entry>>;

struct Shared {
    shards: Box<[Shard]>,
    hasher: RandomState,
    lifetimes: Lifetimes,
}

impl Shared {
    fn new(idle: Duration) -> Self {
        Shared {
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            lifetimes: Lifetimes::new(idle, None),
        }
    }

    fn shard(&self, sid: &SessionId) -> &Shard {
        let index = (self.hasher.hash_one(sid.as_str()) as usize) % SHARDS;
        &self.shards[index]
    }

    /// The live entry, removing it when it expired.
    fn live(&self, sid: &SessionId, now: u64) -> Option<Entry> {
        let entry = self.shard(sid).read().get(sid).cloned()?;
        if entry.lock().is_expired(&self.lifetimes, now) {
            self.remove_if_expired(sid, now);
            return None;
        }
        Some(entry)
    }

    /// Removes `sid` only if it is still expired under the write lock, so an
    /// entry refreshed meanwhile survives.
    fn remove_if_expired(&self, sid: &SessionId, now: u64) {
        let mut shard = self.shard(sid).write();
        if shard
            .get(sid)
            .is_some_and(|e| e.lock().is_expired(&self.lifetimes, now))
        {
            shard.remove(sid);
        }
    }

    fn insert_new(&self, sid: &SessionId, record: SessionRecord, now: u64) -> Result<()> {
        let mut shard = self.shard(sid).write();
        if let Some(existing) = shard.get(sid) {
            if !existing.lock().is_expired(&self.lifetimes, now) {
                return Err(Error::IdCollision);
            }
        }
        shard.insert(sid.clone(), Arc::new(Mutex::new(record)));
        Ok(())
    }
}

struct MemoryWriter(Arc<Shared>);

#[async_trait]
impl SessionWriter for MemoryWriter {
    async fn write(&self, w: Write<'_>) -> Result<Released> {
        let shared = &self.0;
        if w.mode == WriteMode::Create {
            let mut record = w.merged.clone();
            record.accessed_ms = w.now_ms;
            shared.insert_new(w.sid, record, w.now_ms)?;
            return Ok(Released::wrote(true));
        }
        let Some(entry) = shared.live(w.sid, w.now_ms) else {
            return Ok(Released::wrote(false));
        };
        let mut record = entry.lock();
        w.changes.apply(&mut record.values);
        record.accessed_ms = w.now_ms;
        Ok(Released::wrote(true))
    }
}

/// The `memory` engine (beego's default).
///
/// Sessions live in 64 shards of a hash map; a request locks one shard
/// briefly and then only its own session. Expiry is checked on every read;
/// GC walks one shard at a time. Sessions are lost on restart and are not
/// shared between processes.
///
/// # Examples
///
/// ```
/// # actix_rt::System::new().block_on(async {
/// use actix_bee::session::{Manager, ManagerConfig};
///
/// let manager = Manager::new("memory", ManagerConfig::default()).await.unwrap();
/// assert_eq!(manager.get_active_session().await.unwrap(), 0);
/// # });
/// ```
pub struct MemoryProvider {
    shared: Arc<Shared>,
    writer: Arc<MemoryWriter>,
}

impl Default for MemoryProvider {
    fn default() -> Self {
        Self::with_idle(Duration::from_secs(3600))
    }
}

impl std::fmt::Debug for MemoryProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryProvider").finish_non_exhaustive()
    }
}

impl MemoryProvider {
    fn with_idle(idle: Duration) -> Self {
        let shared = Arc::new(Shared::new(idle));
        MemoryProvider {
            writer: Arc::new(MemoryWriter(shared.clone())),
            shared,
        }
    }

    fn store(&self, sid: SessionId, record: Option<SessionRecord>) -> Arc<dyn Store> {
        let writer = self.writer.clone();
        let lifetimes = self.shared.lifetimes;
        match record {
            Some(record) => Arc::new(MapStore::loaded(sid, record, lifetimes, writer)),
            None => Arc::new(MapStore::new_session(sid, lifetimes, writer)),
        }
    }
}

#[async_trait]
impl Provider for MemoryProvider {
    async fn session_init(&mut self, max_lifetime: Duration, _config: &str) -> Result<()> {
        *self = Self::with_idle(max_lifetime);
        Ok(())
    }

    async fn session_read(&self, sid: &SessionId) -> Result<Arc<dyn Store>> {
        let now = now_ms();
        let record = self.shared.live(sid, now).map(|entry| {
            let mut record = entry.lock();
            // A map write per read is cheap here, so idle expiry slides exactly.
            record.accessed_ms = now;
            record.clone()
        });
        Ok(self.store(sid.clone(), record))
    }

    async fn session_exist(&self, sid: &SessionId) -> Result<bool> {
        Ok(self.shared.live(sid, now_ms()).is_some())
    }

    async fn session_regenerate(&self, old: &SessionId, new: &SessionId) -> Result<Arc<dyn Store>> {
        let now = now_ms();
        let Some(entry) = self.shared.live(old, now) else {
            return Ok(self.store(new.clone(), None));
        };
        let mut record = entry.lock().clone();
        record.accessed_ms = now;
        self.shared.insert_new(new, record.clone(), now)?;
        self.shared.shard(old).write().remove(old);
        Ok(self.store(new.clone(), Some(record)))
    }

    async fn session_destroy(&self, sid: &SessionId) -> Result<()> {
        self.shared.shard(sid).write().remove(sid);
        Ok(())
    }

    async fn session_all(&self) -> Result<usize> {
        let now = now_ms();
        let lifetimes = &self.shared.lifetimes;
        Ok(self
            .shared
            .shards
            .iter()
            .map(|shard| {
                shard
                    .read()
                    .values()
                    .filter(|e| !e.lock().is_expired(lifetimes, now))
                    .count()
            })
            .sum())
    }

    async fn session_gc(&self) -> Result<()> {
        let now = now_ms();
        let lifetimes = &self.shared.lifetimes;
        let mut removed = 0usize;
        for shard in self.shared.shards.iter() {
            let expired: Vec<SessionId> = shard
                .read()
                .iter()
                .filter(|(_, e)| e.lock().is_expired(lifetimes, now))
                .map(|(sid, _)| sid.clone())
                .collect();
            if expired.is_empty() {
                continue;
            }
            {
                let mut map = shard.write();
                for sid in expired {
                    if map
                        .get(&sid)
                        .is_some_and(|e| e.lock().is_expired(lifetimes, now))
                    {
                        map.remove(&sid);
                        removed += 1;
                    }
                }
            }
            // Lets requests waiting on this runtime thread run between shards.
            tokio::task::yield_now().await;
        }
        tracing::debug!(removed, "session: memory GC");
        Ok(())
    }
}
