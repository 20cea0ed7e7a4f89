//! The `memory` engine: a sharded map, no global lock on the hot path.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::{Mutex, RwLock};

use super::shared::skeleton::{engine_provider, Cx, Engine, Found, RecordStore};
use crate::session::error::{Error, Result};
use crate::session::format::Format;
use crate::session::id::SessionId;
use crate::session::record::{Lifetimes, SessionRecord};
use crate::session::store::{Released, Write, WriteMode};

engine_provider! {
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
    pub struct MemoryProvider(Memory);
}

impl Default for MemoryProvider {
    /// Ready without `session_init`, with an idle lifetime of an hour.
    fn default() -> Self {
        let cx = Cx {
            lifetimes: Lifetimes::new(Duration::from_secs(3600), None),
            format: Format::default(),
        };
        MemoryProvider(Engine::ready(Memory::new(cx), cx))
    }
}

const SHARDS: usize = 64;

type Entry = Arc<Mutex<SessionRecord>>;
type Shard = RwLock<HashMap<SessionId, Entry>>;

/// The records of the memory engine.
pub(crate) struct Memory {
    shards: Box<[Shard]>,
    hasher: RandomState,
    lifetimes: Lifetimes,
}

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memory").finish_non_exhaustive()
    }
}

impl Memory {
    fn new(cx: Cx) -> Self {
        Memory {
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            lifetimes: cx.lifetimes,
        }
    }

    fn index(&self, sid: &SessionId) -> usize {
        (self.hasher.hash_one(sid.as_str()) as usize) % SHARDS
    }

    fn shard(&self, sid: &SessionId) -> &Shard {
        &self.shards[self.index(sid)]
    }

    fn expired(&self, entry: &Entry, now: u64) -> bool {
        entry.lock().is_expired(&self.lifetimes, now)
    }

    /// The live entry, removing it when it expired.
    fn live(&self, sid: &SessionId, now: u64) -> Option<Entry> {
        let entry = self.shard(sid).read().get(sid).cloned()?;
        if self.expired(&entry, now) {
            self.remove_if_expired(sid, now);
            return None;
        }
        Some(entry)
    }

    /// Removes `sid` only if it is still expired under the write lock, so an
    /// entry refreshed meanwhile survives.
    fn remove_if_expired(&self, sid: &SessionId, now: u64) {
        let mut shard = self.shard(sid).write();
        if shard.get(sid).is_some_and(|e| self.expired(e, now)) {
            shard.remove(sid);
        }
    }

    fn insert_into(
        &self,
        map: &mut HashMap<SessionId, Entry>,
        sid: &SessionId,
        record: SessionRecord,
        now: u64,
    ) -> Result<()> {
        if map.get(sid).is_some_and(|e| !self.expired(e, now)) {
            return Err(Error::IdCollision);
        }
        map.insert(sid.clone(), Arc::new(Mutex::new(record)));
        Ok(())
    }
}

#[async_trait]
impl RecordStore for Memory {
    const NAME: &'static str = "memory";

    async fn open(cx: Cx, _config: &str) -> Result<Self> {
        Ok(Memory::new(cx))
    }

    async fn load(&self, sid: &SessionId, now: u64) -> Found {
        Ok(self.live(sid, now).map(|entry| {
            let mut record = entry.lock();
            // A map write per read is cheap here, so idle expiry slides exactly.
            record.accessed_ms = now;
            record.clone()
        }))
    }

    async fn exists(&self, sid: &SessionId, now: u64) -> Result<bool> {
        Ok(self.live(sid, now).is_some())
    }

    async fn write(&self, w: Write<'_>) -> Result<Released> {
        if w.mode == WriteMode::Create {
            let mut record = w.merged.clone();
            record.accessed_ms = w.now_ms;
            self.insert(w.sid, &record, w.now_ms).await?;
            return Ok(Released::wrote(true));
        }
        let Some(entry) = self.live(w.sid, w.now_ms) else {
            return Ok(Released::wrote(false));
        };
        let mut record = entry.lock();
        w.changes.apply(&mut record.values);
        record.accessed_ms = w.now_ms;
        Ok(Released::wrote(true))
    }

    async fn insert(&self, sid: &SessionId, record: &SessionRecord, now: u64) -> Result<()> {
        let mut shard = self.shard(sid).write();
        self.insert_into(&mut shard, sid, record.clone(), now)
    }

    async fn remove(&self, sid: &SessionId) -> Result<()> {
        self.shard(sid).write().remove(sid);
        Ok(())
    }

    /// Atomic: both shards are locked (in index order) for the whole move.
    async fn move_record(&self, old: &SessionId, new: &SessionId, now: u64) -> Found {
        let (a, b) = (self.index(old), self.index(new));
        let low = a.min(b);
        let mut guards = vec![self.shards[low].write()];
        if a != b {
            guards.push(self.shards[a.max(b)].write());
        }
        // Position of each id's map among the locked guards.
        let (o, n) = (usize::from(a != low), usize::from(b != low));
        let entry = guards
            .get(o)
            .and_then(|map| map.get(old))
            .filter(|e| !self.expired(e, now))
            .cloned();
        let Some(entry) = entry else {
            return Ok(None);
        };
        let mut record = entry.lock().clone();
        record.accessed_ms = now;
        if let Some(map) = guards.get_mut(n) {
            self.insert_into(map, new, record.clone(), now)?;
        }
        if let Some(map) = guards.get_mut(o) {
            map.remove(old);
        }
        Ok(Some(record))
    }

    async fn count(&self, now: u64) -> Result<usize> {
        Ok(self
            .shards
            .iter()
            .map(|shard| {
                shard
                    .read()
                    .values()
                    .filter(|e| !self.expired(e, now))
                    .count()
            })
            .sum())
    }

    async fn gc(&self, now: u64) -> Result<()> {
        let mut removed = 0usize;
        for shard in self.shards.iter() {
            let expired: Vec<SessionId> = shard
                .read()
                .iter()
                .filter(|(_, e)| self.expired(e, now))
                .map(|(sid, _)| sid.clone())
                .collect();
            if expired.is_empty() {
                continue;
            }
            {
                let mut map = shard.write();
                for sid in expired {
                    if map.get(&sid).is_some_and(|e| self.expired(e, now)) {
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
