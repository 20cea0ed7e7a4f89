//! The memory engine's owner index: a map owner → (epoch, ids), pruned by
//! `sessions` and by the engine's GC.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use parking_lot::Mutex;

use super::Memory;
use crate::session::error::Result;
use crate::session::id::SessionId;
use crate::session::owner::{IndexedSession, Owner, OwnerIndex, ATTACH_GRACE_MS};
use crate::session::record::now_ms;

/// One owner: its epoch and its ids with the time each was attached.
struct Entry {
    epoch: u64,
    ids: HashMap<SessionId, u64>,
}

/// Every owner's index. Epochs come from one counter, so an owner whose
/// entry was dropped (no ids left) and made again never sees an epoch it
/// had before.
#[derive(Default)]
pub(super) struct Owners {
    map: Mutex<HashMap<String, Entry>>,
    next: AtomicU64,
}

impl Owners {
    fn next_epoch(&self) -> u64 {
        // Starts at 1: 0 is the epoch of an owner without an entry.
        self.next.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Every (owner, id, attached) in the index, for GC.
    fn snapshot(&self) -> Vec<(String, SessionId, u64)> {
        let map = self.map.lock();
        map.iter()
            .flat_map(|(o, e)| e.ids.iter().map(|(s, at)| (o.clone(), s.clone(), *at)))
            .collect()
    }

    /// Removes `sid` from `owner`, and the owner when it has no ids left.
    fn remove(&self, owner: &str, sid: &SessionId) {
        let mut map = self.map.lock();
        if let Some(entry) = map.get_mut(owner) {
            entry.ids.remove(sid);
            if entry.ids.is_empty() {
                map.remove(owner);
            }
        }
    }
}

impl Memory {
    /// Created and last-access times of a live session, without touching it.
    fn peek(&self, sid: &SessionId, now: u64) -> Option<(u64, u64)> {
        let map = self.shard(sid).map.read();
        let held = map.get(sid)?;
        (!self.expired(held, now)).then_some((held.created_ms, held.accessed()))
    }

    /// GC: drops ids whose session is gone (past the attach grace).
    pub(super) fn prune_owners(&self, now: u64) -> usize {
        let mut pruned = 0;
        for (owner, sid, attached) in self.owners.snapshot() {
            if self.peek(&sid, now).is_none() && stale(attached, now) {
                self.owners.remove(&owner, &sid);
                pruned += 1;
            }
        }
        pruned
    }
}

/// True when an id attached at `attached` had time to be written.
fn stale(attached: u64, now: u64) -> bool {
    attached.saturating_add(ATTACH_GRACE_MS) < now
}

#[async_trait]
impl OwnerIndex for Memory {
    async fn attach(&self, owner: &Owner, sid: &SessionId) -> Result<u64> {
        let mut map = self.owners.map.lock();
        let entry = map
            .entry(owner.as_str().to_owned())
            .or_insert_with(|| Entry {
                epoch: self.owners.next_epoch(),
                ids: HashMap::new(),
            });
        entry.ids.insert(sid.clone(), now_ms());
        Ok(entry.epoch)
    }

    async fn detach(&self, owner: &Owner, sid: &SessionId) -> Result<()> {
        self.owners.remove(owner.as_str(), sid);
        Ok(())
    }

    async fn epoch(&self, owner: &Owner) -> Result<u64> {
        Ok(self
            .owners
            .map
            .lock()
            .get(owner.as_str())
            .map_or(0, |e| e.epoch))
    }

    async fn bump(&self, owner: &Owner) -> Result<u64> {
        let epoch = self.owners.next_epoch();
        // No entry: nothing is attached, so no login can be racing.
        if let Some(entry) = self.owners.map.lock().get_mut(owner.as_str()) {
            entry.epoch = epoch;
        }
        Ok(epoch)
    }

    async fn sessions(&self, owner: &Owner) -> Result<Vec<IndexedSession>> {
        let ids: Vec<(SessionId, u64)> = match self.owners.map.lock().get(owner.as_str()) {
            Some(entry) => entry.ids.iter().map(|(s, at)| (s.clone(), *at)).collect(),
            None => return Ok(Vec::new()),
        };
        let now = now_ms();
        let mut live = Vec::new();
        for (sid, attached) in ids {
            match self.peek(&sid, now) {
                Some((created, accessed)) => {
                    live.push(IndexedSession::new(sid, Some(created), Some(accessed)))
                }
                None if stale(attached, now) => self.owners.remove(owner.as_str(), &sid),
                None => {}
            }
        }
        Ok(live)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::engine::skeleton::{RecordStore, StoreContext};
    use crate::session::format::Format;
    use crate::session::id::IdGenerator;
    use crate::session::record::{Lifetimes, SessionRecord};
    use std::time::Duration;

    async fn memory() -> Memory {
        let cx = StoreContext {
            // Longer than the grace: "live" stays live at `later`.
            lifetimes: Lifetimes::new(Duration::from_secs(3600), None),
            format: Format::Native,
        };
        Memory::open(cx, "").await.unwrap()
    }

    fn ids(m: &Memory, owner: &str) -> usize {
        m.owners.map.lock().get(owner).map_or(0, |e| e.ids.len())
    }

    /// GC drops ids whose session is gone once the attach grace is over,
    /// keeps a live one, and keeps an id whose login may still be writing.
    #[tokio::test]
    async fn gc_prunes_gone_ids_after_the_grace() {
        let m = memory().await;
        let owner = Owner::new("kim").unwrap();
        let gen = IdGenerator::default();
        let (live, gone, young) = (
            gen.generate().unwrap(),
            gen.generate().unwrap(),
            gen.generate().unwrap(),
        );
        for sid in [&live, &gone, &young] {
            m.attach(&owner, sid).await.unwrap();
        }
        m.insert(&live, &SessionRecord::new(now_ms()), now_ms())
            .await
            .unwrap();
        let later = now_ms() + ATTACH_GRACE_MS + 1;
        if let Some(e) = m.owners.map.lock().get_mut("kim") {
            e.ids.insert(young.clone(), later - 1000);
        }
        let before = m.epoch(&owner).await.unwrap();
        m.gc(now_ms()).await.unwrap();
        assert_eq!(ids(&m, "kim"), 3, "nothing is stale before the grace");
        assert_eq!(m.prune_owners(later), 1);
        assert_eq!(
            ids(&m, "kim"),
            2,
            "the gone id is pruned, the live and young stay"
        );
        m.remove(&live).await.unwrap();
        m.detach(&owner, &young).await.unwrap();
        assert_eq!(m.prune_owners(later), 1);
        assert!(
            m.owners.map.lock().get("kim").is_none(),
            "an owner without ids goes"
        );
        assert_ne!(m.epoch(&owner).await.unwrap(), before);
    }
}
