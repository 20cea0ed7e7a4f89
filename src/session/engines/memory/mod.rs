//! The `memory` engine: a sharded map, no global lock on the hot path.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use foldhash::quality::RandomState;
use parking_lot::RwLock;

use crate::session::engine::skeleton::{
    Engine, Loaded, RecordStore, StoreContext, KEY_OVERHEAD, SESSION_OVERHEAD,
};
use crate::session::engine::{Released, Write, WriteMode};
use crate::session::engines::shared::wiring::engine_provider;
use crate::session::error::{Error, Result};
use crate::session::format::Format;
use crate::session::id::SessionId;
use crate::session::record::{Lifetimes, SessionRecord};

mod limits;
mod owners;
mod packed;
mod table;
use limits::Limits;
use packed::Packed;
use table::{Held, Inserted, Table};

engine_provider! {
    /// The `memory` engine (beego's default).
    ///
    /// Sessions live in 64 shards of a hash map; a request locks one shard
    /// briefly (a read lock to read, a write lock while it swaps in the
    /// session's new values), and a session's values are packed into one
    /// allocation (about 200 bytes for a one-key session). Expiry is checked on every read;
    /// GC walks one shard at a time. Sessions are lost on restart and are not
    /// shared between processes.
    ///
    /// Bounded: `sessionproviderconfig` may set `max_bytes` (default
    /// 256 MiB, the sessions' keys and values plus a fixed overhead each,
    /// which bounds memory on its own), `max_sessions` (default: no count
    /// limit) and `max_session_bytes` (default 256 KiB). Past the first two
    /// the least recently used sessions are evicted, one for each new one
    /// and at O(1) cost, so the sessions in use survive a flood of new ones
    /// and the app keeps serving (refusing new sessions would lock new users
    /// out instead); a session that would grow past the third is refused at
    /// release with [`Error::TooLarge`](crate::session::Error::TooLarge).
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
        let cx = StoreContext {
            lifetimes: Lifetimes::new(Duration::from_secs(3600), None),
            format: Format::default(),
        };
        MemoryProvider(Engine::ready(Memory::new(cx, Limits::default()), cx))
    }
}

const SHARDS: usize = 64;

/// Most sessions GC removes under one hold of a shard's write lock, so a
/// request on that shard never waits behind a whole shard's sweep.
const GC_BATCH: usize = 512;

/// GC's pause between two batches. GC is paced rather than run flat out:
/// on a core it shares with request threads, a sweep of a million expired
/// sessions would otherwise take whole scheduler slices from them (measured
/// with `bee-memory-gc` in the HTTP bench). The pause lets them run; a
/// sweep that fits in one batch never pauses.
const GC_PAUSE: Duration = Duration::from_millis(1);

/// GC's most positions looked at under one hold of a shard's write lock.
const GC_SCAN: usize = 8192;

struct Shard {
    /// The shard's sessions ([`Table`]). Ids come from clients, so the
    /// table keeps a keyed hash: foldhash seeded at random per table
    /// (HashDoS-resistant as SipHash's `RandomState` is meant to be),
    /// several times cheaper than SipHash on a 40-byte id.
    map: RwLock<Table>,
    /// Bytes of the sessions in `map`, as counted by [`counted_bytes`].
    bytes: AtomicUsize,
}

/// The bytes a session is counted at: the skeleton's measure
/// ([`session_bytes`](crate::session::engine::skeleton::session_bytes)) over the
/// packed values.
fn counted_bytes(sid: &SessionId, values: &Packed) -> usize {
    let (bytes, keys) = values.sizes();
    bytes + keys * KEY_OVERHEAD + sid.as_str().len() + SESSION_OVERHEAD
}

pub(crate) struct Memory {
    shards: Box<[Shard]>,
    hasher: RandomState,
    lifetimes: Lifetimes,
    limits: Limits,
    /// The owner index (sessions by owner).
    owners: owners::Owners,
}

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memory")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Memory {
    fn new(cx: StoreContext, limits: Limits) -> Self {
        Memory {
            shards: (0..SHARDS)
                .map(|_| Shard {
                    map: RwLock::new(Table::new()),
                    bytes: AtomicUsize::new(0),
                })
                .collect(),
            hasher: RandomState::default(),
            lifetimes: cx.lifetimes,
            limits,
            owners: owners::Owners::default(),
        }
    }

    fn index(&self, sid: &SessionId) -> usize {
        (self.hasher.hash_one(sid.as_str()) as usize) % SHARDS
    }

    fn shard(&self, sid: &SessionId) -> &Shard {
        &self.shards[self.index(sid)]
    }

    fn expired(&self, held: &Held, now: u64) -> bool {
        self.lifetimes.idle_expired(held.accessed(), now)
            || self.lifetimes.absolute_expired(held.created_ms, now)
    }

    /// Runs `f` on the live session of `sid` under the shard's read lock;
    /// `None` when absent or expired (an expired one is removed).
    fn with_live<T>(&self, sid: &SessionId, now: u64, f: impl FnOnce(&Held) -> T) -> Option<T> {
        {
            let map = self.shard(sid).map.read();
            let held = map.get(sid)?;
            if !self.expired(held, now) {
                return Some(f(held));
            }
        }
        self.remove_if_expired(sid, now);
        None
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
        map: &mut Table,
        sid: &SessionId,
        held: Held,
        now: u64,
    ) -> Result<()> {
        let bytes = counted_bytes(sid, &held.values);
        self.check_size(bytes)?;
        // Room for the position first: a table holds at most `MAX_LEN`.
        if map.len() >= table::MAX_LEN {
            self.evict_to(shard, map, table::MAX_LEN - 1, sid);
        }
        match map.insert(sid, held, |old| !self.expired(old, now)) {
            Inserted::Taken => return Err(Error::IdCollision),
            Inserted::Replaced(old) => uncount(shard, sid, &old),
            Inserted::New => {}
        }
        shard.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.evict(shard, map, sid);
        Ok(())
    }

    /// The exact check under the shard's lock, on the packed session: the
    /// skeleton checks each request's view before, this one the merged
    /// result, so racing requests cannot grow a memory session past it.
    fn check_size(&self, bytes: usize) -> Result<()> {
        if bytes > self.limits.max_session_bytes {
            return Err(Error::TooLarge {
                what: "session",
                size: bytes,
                limit: self.limits.max_session_bytes,
            });
        }
        Ok(())
    }

    /// Evicts least recently used sessions of one shard, never `keep`,
    /// while the shard is over its share of the count or byte limit: one
    /// for each session a create adds, each O(1) ([`Table::evict_one`]).
    fn evict(&self, shard: &Shard, map: &mut Table, keep: &SessionId) {
        let max_count = (self.limits.max_sessions / SHARDS).clamp(1, table::MAX_LEN);
        self.evict_to(shard, map, max_count, keep);
    }

    /// [`evict`](Self::evict) down to `max_count` sessions.
    fn evict_to(&self, shard: &Shard, map: &mut Table, max_count: usize, keep: &SessionId) {
        let max_bytes = (self.limits.max_bytes / SHARDS).max(1);
        let mut evicted = 0usize;
        while map.len() > max_count || shard.bytes.load(Ordering::Relaxed) > max_bytes {
            let Some((sid, held)) = map.evict_one(keep) else {
                break;
            };
            uncount(shard, &sid, &held);
            evicted += 1;
        }
        if evicted > 0 {
            tracing::trace!(
                evicted,
                "session: memory engine full, least recently used evicted"
            );
            #[cfg(feature = "metrics")]
            crate::session::observe::evicted(evicted);
        }
    }

    /// The live record of `sid`, its idle expiry slid to `now`.
    fn read_live(&self, sid: &SessionId, now: u64) -> Option<SessionRecord> {
        self.with_live(sid, now, |held| {
            // Two stores per read are cheap here, so idle expiry slides
            // exactly and eviction sees the read.
            held.read_at(now);
            held.record()
        })
    }

    /// One release of a `MapStore`: create, update or touch.
    fn apply(&self, w: &Write<'_>) -> Result<Released> {
        if w.mode == WriteMode::Create {
            self.insert_now(w.sid, w.merged, w.now_ms)?;
            return Ok(Released::wrote(true));
        }
        Ok(Released::wrote(self.update(w)?))
    }

    /// Inserts `record` unless a live session holds `sid`.
    fn insert_now(&self, sid: &SessionId, record: &SessionRecord, now: u64) -> Result<()> {
        // Packed before the lock is taken.
        let held = Held::new(record)?;
        let shard = self.shard(sid);
        let mut map = shard.map.write();
        self.insert_into(shard, &mut map, sid, held, now)
    }

    /// Applies an update or touch under the shard's write lock: the merge
    /// of two small sorted lists, so the lock is held briefly. The session
    /// becomes the shard's most recently used; one that grew past the
    /// shard's share of `max_bytes` evicts others as a create does.
    fn update(&self, w: &Write<'_>) -> Result<bool> {
        let shard = self.shard(w.sid);
        let mut map = shard.map.write();
        let Some((i, held)) = map
            .get_mut(w.sid)
            .filter(|(_, h)| !self.expired(h, w.now_ms))
        else {
            return Ok(false);
        };
        let mut grew = false;
        if !w.changes.is_empty() {
            let values = held.values.with_changes(w.changes)?;
            let bytes = counted_bytes(w.sid, &values);
            // Refused whole, before anything changes: never a half-saved session.
            self.check_size(bytes)?;
            let old = counted_bytes(w.sid, &held.values);
            shard.bytes.fetch_add(bytes, Ordering::Relaxed);
            shard.bytes.fetch_sub(old, Ordering::Relaxed);
            held.values = values;
            grew = bytes > old;
        }
        *held.accessed_ms.get_mut() = w.now_ms;
        map.promote(i);
        if grew {
            self.evict(shard, &mut map, w.sid);
        }
        Ok(true)
    }
}

/// Removes `sid` from a locked shard and uncounts its bytes.
fn remove_from(shard: &Shard, map: &mut Table, sid: &SessionId) {
    if let Some(old) = map.remove(sid) {
        uncount(shard, sid, &old);
    }
}

/// Takes a session that left `shard` out of its byte count.
fn uncount(shard: &Shard, sid: &SessionId, held: &Held) {
    shard
        .bytes
        .fetch_sub(counted_bytes(sid, &held.values), Ordering::Relaxed);
}

#[async_trait]
impl RecordStore for Memory {
    const NAME: &'static str = "memory";

    async fn open(cx: StoreContext, config: &str) -> Result<Self> {
        Ok(Memory::new(cx, Limits::parse(config)?))
    }

    async fn load(&self, sid: &SessionId, now: u64) -> Loaded {
        Ok(self.read_live(sid, now))
    }

    /// Nothing here waits: the skeleton takes this path, not `load`.
    fn load_now(&self, sid: &SessionId, now: u64) -> Option<Loaded> {
        Some(Ok(self.read_live(sid, now)))
    }

    async fn exists(&self, sid: &SessionId, now: u64) -> Result<bool> {
        Ok(self.with_live(sid, now, |_| ()).is_some())
    }

    async fn write(&self, w: Write<'_>) -> Result<Released> {
        self.apply(&w)
    }

    /// Nothing here waits: the skeleton takes this path, not `write`.
    fn write_now(&self, w: &Write<'_>) -> Option<Result<Released>> {
        Some(self.apply(w))
    }

    async fn insert(&self, sid: &SessionId, record: &SessionRecord, now: u64) -> Result<()> {
        self.insert_now(sid, record, now)
    }

    async fn remove(&self, sid: &SessionId) -> Result<()> {
        let shard = self.shard(sid);
        remove_from(shard, &mut shard.map.write(), sid);
        Ok(())
    }

    async fn move_record(&self, old: &SessionId, new: &SessionId, now: u64) -> Loaded {
        let (a, b) = (self.index(old), self.index(new));
        let low = a.min(b);
        let mut guards = vec![self.shards[low].map.write()];
        if a != b {
            guards.push(self.shards[a.max(b)].map.write());
        }
        // Position of each id's map among the locked guards.
        let (o, n) = (usize::from(a != low), usize::from(b != low));
        let record = guards
            .get(o)
            .and_then(|map| map.get(old))
            .filter(|held| !self.expired(held, now))
            .map(|held| SessionRecord {
                accessed_ms: now,
                ..held.record()
            });
        let Some(record) = record else {
            return Ok(None);
        };
        if let Some(map) = guards.get_mut(n) {
            self.insert_into(&self.shards[b], map, new, Held::new(&record)?, now)?;
        }
        if let Some(map) = guards.get_mut(o) {
            remove_from(&self.shards[a], map, old);
        }
        Ok(Some(record))
    }

    fn owner_index(&self) -> Option<&dyn crate::session::OwnerIndex> {
        Some(self)
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
                .iter()
                .filter(|(_, held)| !self.expired(held, now))
                .count();
            // Shard by shard, letting other requests run between them.
            tokio::task::yield_now().await;
        }
        Ok(total)
    }

    async fn gc(&self, now: u64) -> Result<usize> {
        let mut removed = 0usize;
        let mut since_pause = 0usize;
        for shard in self.shards.iter() {
            let mut cursor = usize::MAX;
            loop {
                // At most a batch per hold of the lock, looking at a bounded
                // number of sessions; freed outside the lock.
                let gone = {
                    let mut map = shard.map.write();
                    let gone = map.sweep(&mut cursor, GC_SCAN, GC_BATCH, |held| {
                        self.expired(held, now)
                    });
                    for (sid, held) in &gone {
                        uncount(shard, sid, held);
                    }
                    gone
                };
                let n = gone.len();
                drop(gone);
                removed += n;
                since_pause += n;
                if cursor == 0 {
                    break;
                }
                if since_pause >= GC_BATCH {
                    tokio::time::sleep(GC_PAUSE).await;
                    since_pause = 0;
                } else {
                    tokio::task::yield_now().await;
                }
            }
            // Lets requests waiting on this runtime thread run between shards.
            tokio::task::yield_now().await;
        }
        let pruned = self.prune_owners(now);
        tracing::debug!(removed, pruned, "session: memory GC");
        Ok(removed)
    }

    #[cfg(feature = "metrics")]
    fn live_sessions(&self) -> Option<usize> {
        Some(self.shards.iter().map(|shard| shard.map.read().len()).sum())
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

    /// GC in batches and pauses still removes every expired session and
    /// nothing else: 100,000 expired ones (over 1,500 a shard, so each
    /// shard takes several batches) beside 1,000 live ones, and the byte
    /// counts go back to what the live ones hold.
    #[tokio::test]
    async fn batched_gc_removes_every_expired_session_and_only_those() -> Result<()> {
        let cx = StoreContext {
            lifetimes: Lifetimes::new(Duration::from_secs(60), None),
            format: Format::default(),
        };
        let limits = Limits {
            max_sessions: 1_000_000,
            max_bytes: usize::MAX / 2,
            ..Limits::default()
        };
        let memory = Memory::new(cx, limits);
        let ids = crate::session::IdGenerator::default();
        let mut record = SessionRecord::new(1_000);
        record.values.insert("k".into(), vec![7; 16]);
        for _ in 0..100_000 {
            memory.insert(&ids.generate()?, &record, 1_000).await?;
        }
        let later = 1_000 + 61_000;
        let live = (0..1_000)
            .map(|_| ids.generate())
            .collect::<Result<Vec<SessionId>>>()?;
        let mut fresh = SessionRecord::new(later);
        fresh.values = record.values.clone();
        for sid in &live {
            memory.insert(sid, &fresh, later).await?;
        }
        assert!(memory.shards.iter().any(|s| s.map.read().len() > GC_BATCH));
        memory.gc(later + 1).await?;
        let held: usize = memory.shards.iter().map(|s| s.map.read().len()).sum();
        assert_eq!(held, live.len());
        for sid in &live {
            assert!(memory.exists(sid, later + 1).await?);
        }
        let bytes: usize = memory
            .shards
            .iter()
            .map(|s| s.bytes.load(Ordering::Relaxed))
            .sum();
        let one = memory.shards.iter().find_map(|s| {
            let map = s.map.read();
            let first = map
                .iter()
                .next()
                .map(|(sid, h)| counted_bytes(sid, &h.values));
            first
        });
        assert_eq!(Some(bytes), one.map(|b| b * live.len()));
        Ok(())
    }

    /// Limits or a config error, never a panic; limits are positive.
    #[test]
    fn limits_parser_never_panics() {
        fuzz::parser(SEEDS, Limits::parse, |l| {
            l.max_sessions > 0 && l.max_bytes > 0 && l.max_session_bytes > 0
        });
    }
}
