//! The `memory` engine: a sharded map, no global lock on the hot path.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::{Mutex, RwLock};

use super::shared::options::{self, DEFAULT_MAX_SESSION_BYTES};
use super::shared::skeleton::{
    engine_provider, session_bytes as record_bytes, Cx, Engine, Found, RecordStore,
};
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
    /// Bounded: `sessionproviderconfig` may set `max_sessions` (default
    /// 100,000), `max_bytes` (default 256 MiB, the sessions' keys and values
    /// plus a fixed overhead each) and `max_session_bytes` (default 256 KiB).
    /// Past the first two the least recently used sessions are evicted, so
    /// the sessions in use survive a flood of new ones and the app keeps
    /// serving (refusing new sessions would lock new users out instead); a
    /// session that would grow past the third is refused at release with
    /// [`Error::TooLarge`](crate::session::Error::TooLarge).
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
        MemoryProvider(Engine::ready(Memory::new(cx, Limits::default()), cx))
    }
}

const SHARDS: usize = 64;

/// What the memory engine may hold; set through `sessionproviderconfig`
/// (`max_sessions=100000,max_bytes=268435456,max_session_bytes=262144`).
///
/// With the defaults an app's sessions take at most about 256 MiB whatever
/// anonymous clients do: past `max_sessions` or `max_bytes` the least
/// recently used sessions are evicted (so the sessions in use survive a
/// flood of new ones, and the app keeps serving); a session that would grow
/// past `max_session_bytes` is refused at release with
/// [`Error::TooLarge`], never cut silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Limits {
    max_sessions: usize,
    max_bytes: usize,
    max_session_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sessions: 100_000,
            max_bytes: 256 * 1024 * 1024,
            max_session_bytes: DEFAULT_MAX_SESSION_BYTES,
        }
    }
}

impl Limits {
    /// beego ignores the memory provider's config, so anything without
    /// `name=value` (a leftover path, say) keeps the defaults, with a
    /// warning; `name=value` lists are read strictly.
    fn parse(config: &str) -> Result<Limits> {
        let mut limits = Limits::default();
        let config = config.trim();
        if config.is_empty() {
            return Ok(limits);
        }
        if !config.contains('=') {
            tracing::warn!(
                "memory engine: sessionproviderconfig is not name=value options; ignored"
            );
            return Ok(limits);
        }
        for pair in config
            .split([',', ';', '&'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match name.trim() {
                "max_sessions" => &mut limits.max_sessions,
                "max_bytes" => &mut limits.max_bytes,
                "max_session_bytes" => &mut limits.max_session_bytes,
                other => {
                    return Err(Error::config(
                        "memory",
                        format!("unknown option {other:?} (known: max_sessions, max_bytes, max_session_bytes)"),
                    ))
                }
            };
            *slot = options::positive("memory", name.trim(), value)?;
        }
        Ok(limits)
    }
}

/// A stored session and the bytes it was counted at.
struct Held {
    record: SessionRecord,
    bytes: usize,
}

type Entry = Arc<Mutex<Held>>;

struct Shard {
    map: RwLock<HashMap<SessionId, Entry>>,
    /// Bytes of the sessions in `map`, as counted by [`record_bytes`].
    bytes: AtomicUsize,
}

pub(crate) struct Memory {
    shards: Box<[Shard]>,
    hasher: RandomState,
    lifetimes: Lifetimes,
    limits: Limits,
}

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memory")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Memory {
    fn new(cx: Cx, limits: Limits) -> Self {
        Memory {
            shards: (0..SHARDS)
                .map(|_| Shard {
                    map: RwLock::new(HashMap::new()),
                    bytes: AtomicUsize::new(0),
                })
                .collect(),
            hasher: RandomState::new(),
            lifetimes: cx.lifetimes,
            limits,
        }
    }

    fn index(&self, sid: &SessionId) -> usize {
        (self.hasher.hash_one(sid.as_str()) as usize) % SHARDS
    }

    fn shard(&self, sid: &SessionId) -> &Shard {
        &self.shards[self.index(sid)]
    }

    fn expired(&self, entry: &Entry, now: u64) -> bool {
        entry.lock().record.is_expired(&self.lifetimes, now)
    }

    fn live(&self, sid: &SessionId, now: u64) -> Option<Entry> {
        let entry = self.shard(sid).map.read().get(sid).cloned()?;
        if self.expired(&entry, now) {
            self.remove_if_expired(sid, now);
            return None;
        }
        Some(entry)
    }

    fn remove_if_expired(&self, sid: &SessionId, now: u64) {
        let shard = self.shard(sid);
        let mut map = shard.map.write();
        if map.get(sid).is_some_and(|e| self.expired(e, now)) {
            remove_from(shard, &mut map, sid);
        }
    }

    /// Inserts under the shard's write lock, then evicts the least recently
    /// used sessions while the shard is over its share of the limits.
    fn insert_into(
        &self,
        shard: &Shard,
        map: &mut HashMap<SessionId, Entry>,
        sid: &SessionId,
        record: SessionRecord,
        now: u64,
    ) -> Result<()> {
        if map.get(sid).is_some_and(|e| !self.expired(e, now)) {
            return Err(Error::IdCollision);
        }
        let bytes = record_bytes(sid, &record);
        if let Some(old) = map.insert(sid.clone(), Arc::new(Mutex::new(Held { record, bytes }))) {
            shard.bytes.fetch_sub(old.lock().bytes, Ordering::Relaxed);
        }
        shard.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.evict(shard, map, sid);
        Ok(())
    }

    /// Evicts least recently used sessions of one shard, never `keep`, when
    /// the shard is over its share of the count or byte limit: down to a
    /// 32nd below it, so that one scan of the shard pays for many inserts
    /// while the engine is full (and none is made while it is not).
    fn evict(&self, shard: &Shard, map: &mut HashMap<SessionId, Entry>, keep: &SessionId) {
        let max_count = (self.limits.max_sessions / SHARDS).max(1);
        let max_bytes = (self.limits.max_bytes / SHARDS).max(1);
        let bytes = shard.bytes.load(Ordering::Relaxed);
        if map.len() <= max_count && bytes <= max_bytes {
            return;
        }
        let (count_goal, bytes_goal) = (max_count - max_count / 32, max_bytes - max_bytes / 32);
        let mut by_age: Vec<(u64, usize, SessionId)> = map
            .iter()
            .filter(|(sid, _)| *sid != keep)
            .map(|(sid, e)| {
                let held = e.lock();
                (held.record.accessed_ms, held.bytes, sid.clone())
            })
            .collect();
        by_age.sort_unstable_by_key(|(accessed, _, _)| *accessed);
        let (mut count, mut bytes, mut evicted) = (map.len(), bytes, 0usize);
        for (_, size, sid) in by_age {
            if count <= count_goal && bytes <= bytes_goal {
                break;
            }
            remove_from(shard, map, &sid);
            count -= 1;
            bytes = bytes.saturating_sub(size);
            evicted += 1;
        }
        tracing::debug!(
            evicted,
            "session: memory engine full, least recently used evicted"
        );
    }
}

/// Removes `sid` from a locked shard and uncounts its bytes.
fn remove_from(shard: &Shard, map: &mut HashMap<SessionId, Entry>, sid: &SessionId) {
    if let Some(old) = map.remove(sid) {
        shard.bytes.fetch_sub(old.lock().bytes, Ordering::Relaxed);
    }
}

#[async_trait]
impl RecordStore for Memory {
    const NAME: &'static str = "memory";

    async fn open(cx: Cx, config: &str) -> Result<Self> {
        Ok(Memory::new(cx, Limits::parse(config)?))
    }

    async fn load(&self, sid: &SessionId, now: u64) -> Found {
        Ok(self.live(sid, now).map(|entry| {
            let mut held = entry.lock();
            // A map write per read is cheap here, so idle expiry slides exactly.
            held.record.accessed_ms = now;
            held.record.clone()
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
        let mut held = entry.lock();
        let mut values = held.record.values.clone();
        w.changes.apply(&mut values);
        let candidate = SessionRecord {
            values,
            ..held.record.clone()
        };
        let bytes = record_bytes(w.sid, &candidate);
        let shard = self.shard(w.sid);
        shard.bytes.fetch_add(bytes, Ordering::Relaxed);
        shard.bytes.fetch_sub(held.bytes, Ordering::Relaxed);
        held.record = candidate;
        held.record.accessed_ms = w.now_ms;
        held.bytes = bytes;
        Ok(Released::wrote(true))
    }

    async fn insert(&self, sid: &SessionId, record: &SessionRecord, now: u64) -> Result<()> {
        let shard = self.shard(sid);
        let mut map = shard.map.write();
        self.insert_into(shard, &mut map, sid, record.clone(), now)
    }

    async fn remove(&self, sid: &SessionId) -> Result<()> {
        let shard = self.shard(sid);
        remove_from(shard, &mut shard.map.write(), sid);
        Ok(())
    }

    async fn move_record(&self, old: &SessionId, new: &SessionId, now: u64) -> Found {
        let (a, b) = (self.index(old), self.index(new));
        let low = a.min(b);
        let mut guards = vec![self.shards[low].map.write()];
        if a != b {
            guards.push(self.shards[a.max(b)].map.write());
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
        let mut record = entry.lock().record.clone();
        record.accessed_ms = now;
        if let Some(map) = guards.get_mut(n) {
            self.insert_into(&self.shards[b], map, new, record.clone(), now)?;
        }
        if let Some(map) = guards.get_mut(o) {
            remove_from(&self.shards[a], map, old);
        }
        Ok(Some(record))
    }

    /// Checked by the skeleton on every release.
    fn max_session_bytes(&self) -> usize {
        self.limits.max_session_bytes
    }

    async fn count(&self, now: u64) -> Result<usize> {
        let mut total = 0;
        for shard in self.shards.iter() {
            total += shard
                .map
                .read()
                .values()
                .filter(|e| !self.expired(e, now))
                .count();
            // Shard by shard, letting other requests run between them.
            tokio::task::yield_now().await;
        }
        Ok(total)
    }

    async fn gc(&self, now: u64) -> Result<()> {
        let mut removed = 0usize;
        for shard in self.shards.iter() {
            let expired: Vec<SessionId> = shard
                .map
                .read()
                .iter()
                .filter(|(_, e)| self.expired(e, now))
                .map(|(sid, _)| sid.clone())
                .collect();
            if !expired.is_empty() {
                let mut map = shard.map.write();
                for sid in expired {
                    if map.get(&sid).is_some_and(|e| self.expired(e, now)) {
                        remove_from(shard, &mut map, &sid);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::engines::shared::fuzz;

    const SEEDS: &[&str] = &[
        "max_sessions=5",
        "max_bytes=5,max_session_bytes=5",
        "max_sessions=1000;max_bytes=5&max_session_bytes=4096",
        "/tmp/leftover/path",
    ];

    /// Limits or a config error, never a panic; limits are positive.
    #[test]
    fn limits_parser_never_panics() {
        fuzz::parser(SEEDS, Limits::parse, |l| {
            l.max_sessions > 0 && l.max_bytes > 0 && l.max_session_bytes > 0
        });
    }
}
