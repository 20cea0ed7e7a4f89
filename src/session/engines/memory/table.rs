//! One shard's sessions: an [`IndexMap`] (each session at a dense
//! position) threaded by a doubly linked recency list over those positions.
//! Finding the least recently used session, moving a session to the most
//! recent end and removing one are O(1): nothing is scanned, sorted or
//! cloned under the shard's lock.
//!
//! Writes (insert, update, touch) move a session to the most recent end
//! under the write lock they hold anyway. A read holds only the read lock,
//! so it sets the session's `used` flag instead; eviction gives a session
//! found at the least recent end with the flag set a second chance (moves
//! it to the most recent end) rather than relinking on every read. Sessions
//! are thus evicted least recently used first, with a read counted as more
//! recent than every write before the session last reached that end.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use foldhash::quality::RandomState;
use indexmap::map::Entry;
use indexmap::IndexMap;

use super::packed::Packed;
use crate::session::error::Result;
use crate::session::id::SessionId;
use crate::session::record::SessionRecord;

/// The end of the list: no neighbour.
const NIL: u32 = u32::MAX;

/// Most sessions a table holds: positions are `u32`, below [`NIL`].
pub(super) const MAX_LEN: usize = NIL as usize;

/// Sessions read since they were listed that one eviction moves to the
/// most recent end before it evicts the least recent one whatever its flag:
/// bounds an eviction's work when nearly every session is in use.
const SECOND_CHANCES: usize = 16;

/// A stored session.
pub(super) struct Held {
    pub(super) created_ms: u64,
    /// Atomic so that a read slides the idle expiry under the shard's read lock.
    pub(super) accessed_ms: AtomicU64,
    /// Set by a read since the session was last moved to the most recent end.
    used: AtomicBool,
    pub(super) values: Packed,
    /// Neighbours in the recency list, towards the least and the most recent end.
    prev: u32,
    next: u32,
}

impl Held {
    pub(super) fn new(record: &SessionRecord) -> Result<Held> {
        Ok(Held {
            created_ms: record.created_ms,
            accessed_ms: AtomicU64::new(record.accessed_ms),
            used: AtomicBool::new(false),
            values: Packed::new(&record.values)?,
            prev: NIL,
            next: NIL,
        })
    }

    pub(super) fn accessed(&self) -> u64 {
        self.accessed_ms.load(Ordering::Relaxed)
    }

    /// A read at `now` (under the read lock): slides the idle expiry and
    /// marks the session used for eviction.
    pub(super) fn read_at(&self, now: u64) {
        self.accessed_ms.store(now, Ordering::Relaxed);
        self.used.store(true, Ordering::Relaxed);
    }

    pub(super) fn record(&self) -> SessionRecord {
        SessionRecord {
            created_ms: self.created_ms,
            accessed_ms: self.accessed(),
            values: self.values.values(),
        }
    }
}

/// What [`Table::insert`] did.
pub(super) enum Inserted {
    /// `sid` was free.
    New,
    /// `sid` held a session `live` refused: it is replaced and returned.
    Replaced(Held),
    /// `sid` holds a session `live` accepted: nothing changed.
    Taken,
}

/// One shard's sessions and their recency list.
pub(super) struct Table {
    map: IndexMap<SessionId, Held, RandomState>,
    /// Least recently used position.
    head: u32,
    /// Most recently used position.
    tail: u32,
}

impl Table {
    pub(super) fn new() -> Table {
        Table {
            map: IndexMap::with_hasher(RandomState::default()),
            head: NIL,
            tail: NIL,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    pub(super) fn get(&self, sid: &SessionId) -> Option<&Held> {
        self.map.get(sid)
    }

    /// Every session, in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&SessionId, &Held)> {
        self.map.iter()
    }

    /// A session and its position, for a write.
    pub(super) fn get_mut(&mut self, sid: &SessionId) -> Option<(u32, &mut Held)> {
        let (i, _, held) = self.map.get_full_mut(sid)?;
        Some((position(i), held))
    }

    fn held_mut(&mut self, i: u32) -> Option<&mut Held> {
        self.map.get_index_mut(i as usize).map(|(_, held)| held)
    }

    /// Inserts `held` at the most recent end, unless `sid` holds a session
    /// that `live` accepts. The caller keeps the table under [`MAX_LEN`]
    /// (by eviction) before it inserts.
    pub(super) fn insert(
        &mut self,
        sid: &SessionId,
        mut held: Held,
        live: impl FnOnce(&Held) -> bool,
    ) -> Inserted {
        match self.map.entry(sid.clone()) {
            Entry::Occupied(mut slot) => {
                if live(slot.get()) {
                    return Inserted::Taken;
                }
                let i = position(slot.index());
                (held.prev, held.next) = (slot.get().prev, slot.get().next);
                let old = slot.insert(held);
                self.promote(i);
                Inserted::Replaced(old)
            }
            Entry::Vacant(slot) => {
                let i = position(slot.index());
                slot.insert(held);
                self.push_tail(i);
                Inserted::New
            }
        }
    }

    /// Moves position `i` to the most recent end and clears its `used` flag.
    pub(super) fn promote(&mut self, i: u32) {
        if let Some(held) = self.held_mut(i) {
            *held.used.get_mut() = false;
        }
        if self.tail != i {
            self.unlink(i);
            self.push_tail(i);
        }
    }

    /// Takes position `i` out of the list.
    fn unlink(&mut self, i: u32) {
        let Some(held) = self.held_mut(i) else {
            return;
        };
        let (prev, next) = (held.prev, held.next);
        (held.prev, held.next) = (NIL, NIL);
        match self.held_mut(prev) {
            Some(p) => p.next = next,
            None => self.head = next,
        }
        match self.held_mut(next) {
            Some(n) => n.prev = prev,
            None => self.tail = prev,
        }
    }

    /// Links the unlinked position `i` at the most recent end.
    fn push_tail(&mut self, i: u32) {
        let tail = self.tail;
        if let Some(held) = self.held_mut(i) {
            (held.prev, held.next) = (tail, NIL);
        }
        match self.held_mut(tail) {
            Some(t) => t.next = i,
            None => self.head = i,
        }
        self.tail = i;
    }

    /// Removes `sid`'s session.
    pub(super) fn remove(&mut self, sid: &SessionId) -> Option<Held> {
        let i = self.map.get_index_of(sid)?;
        self.remove_at(position(i)).map(|(_, held)| held)
    }

    /// Removes the session at position `i`: the last one moves into `i`
    /// (`swap_remove`), and its neighbours are pointed at `i`.
    fn remove_at(&mut self, i: u32) -> Option<(SessionId, Held)> {
        if i as usize >= self.map.len() {
            return None;
        }
        self.unlink(i);
        let removed = self.map.swap_remove_index(i as usize)?;
        if let Some((_, moved)) = self.map.get_index(i as usize) {
            let (prev, next) = (moved.prev, moved.next);
            match self.held_mut(prev) {
                Some(p) => p.next = i,
                None => self.head = i,
            }
            match self.held_mut(next) {
                Some(n) => n.prev = i,
                None => self.tail = i,
            }
        }
        Some(removed)
    }

    /// Removes the least recently used session other than `keep`: the one
    /// at the least recent end, after giving up to [`SECOND_CHANCES`]
    /// sessions found there with their `used` flag set a move to the most
    /// recent end. `None` when only `keep` is left.
    pub(super) fn evict_one(&mut self, keep: &SessionId) -> Option<(SessionId, Held)> {
        for chance in 0..=SECOND_CHANCES {
            let head = self.head;
            let (sid, held) = self.map.get_index_mut(head as usize)?;
            let used = std::mem::replace(held.used.get_mut(), false);
            if sid == keep {
                if self.map.len() == 1 {
                    return None;
                }
                self.promote(head);
            } else if used && chance < SECOND_CHANCES {
                self.promote(head);
            } else {
                return self.remove_at(head);
            }
        }
        None
    }

    /// Removes the sessions `expired` accepts among the positions below
    /// `*cursor`, walking down and lowering `*cursor`: at most `max_seen`
    /// looked at and `max_gone` removed in one call, so one hold of the
    /// lock stays short. A removal moves the last session into the freed
    /// position, one already looked at (or inserted since the sweep began).
    pub(super) fn sweep(
        &mut self,
        cursor: &mut usize,
        max_seen: usize,
        max_gone: usize,
        expired: impl Fn(&Held) -> bool,
    ) -> Vec<(SessionId, Held)> {
        *cursor = (*cursor).min(self.map.len());
        let mut gone = Vec::new();
        let mut seen = 0;
        while *cursor > 0 && seen < max_seen && gone.len() < max_gone {
            *cursor -= 1;
            seen += 1;
            let i = position(*cursor);
            if self.map.get_index(*cursor).is_some_and(|(_, h)| expired(h)) {
                gone.extend(self.remove_at(i));
            }
        }
        gone
    }
}

/// A map index as a list position; the table never holds more than
/// [`MAX_LEN`] sessions, so it fits.
fn position(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(NIL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::id::IdGenerator;
    use rand::RngExt;

    /// The list threads every position once, both ways, head to tail.
    fn check(t: &Table) -> Vec<(SessionId, bool)> {
        let mut order = Vec::new();
        let (mut prev, mut at) = (NIL, t.head);
        while at != NIL {
            let (sid, held) = t.map.get_index(at as usize).unwrap();
            assert_eq!(held.prev, prev, "prev link of {at}");
            order.push((sid.clone(), held.used.load(Ordering::Relaxed)));
            assert!(order.len() <= t.map.len(), "a cycle");
            (prev, at) = (at, held.next);
        }
        assert_eq!(t.tail, prev);
        assert_eq!(order.len(), t.map.len());
        order
    }

    fn held() -> Held {
        Held::new(&SessionRecord::new(1)).unwrap()
    }

    /// What `evict_one` takes from a model list (least recent first, with
    /// the `used` flags), moving second chances to the end.
    fn model_evict(model: &mut Vec<(SessionId, bool)>) -> SessionId {
        for chance in 0..=SECOND_CHANCES {
            let (sid, used) = model.remove(0);
            if used && chance < SECOND_CHANCES {
                model.push((sid, false));
            } else {
                return sid;
            }
        }
        unreachable!()
    }

    /// Random inserts, reads, writes, removals, evictions and sweeps keep
    /// the list whole and in the order (and with the flags) of a model list,
    /// and each eviction takes the session the model says.
    #[test]
    fn the_list_stays_whole_and_evicts_in_recency_order() {
        let ids = IdGenerator::default();
        let mut rng = rand::rng();
        let mut t = Table::new();
        let mut model: Vec<(SessionId, bool)> = Vec::new();
        let keep = ids.generate().unwrap();
        for step in 0..20_000 {
            let any = if model.is_empty() {
                0
            } else {
                rng.random_range(0..model.len())
            };
            match rng.random_range(0..10) {
                0..=2 => {
                    let sid = ids.generate().unwrap();
                    assert!(matches!(t.insert(&sid, held(), |_| true), Inserted::New));
                    model.push((sid, false));
                }
                3 if !model.is_empty() => {
                    // A write: most recent at once.
                    let (sid, _) = model.remove(any);
                    let (i, _) = t.get_mut(&sid).unwrap();
                    t.promote(i);
                    model.push((sid, false));
                }
                4 if !model.is_empty() => {
                    let (sid, _) = model.remove(any);
                    assert!(t.remove(&sid).is_some());
                }
                5 if !model.is_empty() => {
                    // Replacing an expired session makes it most recent.
                    let (sid, _) = model.remove(any);
                    assert!(matches!(
                        t.insert(&sid, held(), |_| false),
                        Inserted::Replaced(_)
                    ));
                    model.push((sid, false));
                }
                6 | 7 if !model.is_empty() => {
                    // A read: only the flag.
                    t.get(&model[any].0).unwrap().read_at(2);
                    model[any].1 = true;
                }
                8 if !model.is_empty() => {
                    let (sid, _) = t.evict_one(&keep).unwrap();
                    assert_eq!(sid, model_evict(&mut model), "step {step}");
                }
                9 if step % 40 == 9 => {
                    // GC: a sweep in small steps takes the marked sessions.
                    let every = rng.random_range(2..5);
                    let doomed: Vec<SessionId> = model
                        .iter()
                        .step_by(every)
                        .map(|(s, _)| s.clone())
                        .collect();
                    for sid in &doomed {
                        t.get_mut(sid).unwrap().1.created_ms = 0;
                    }
                    let mut cursor = usize::MAX;
                    let mut gone = 0;
                    while cursor > 0 {
                        gone += t.sweep(&mut cursor, 7, 3, |h| h.created_ms == 0).len();
                    }
                    assert_eq!(gone, doomed.len());
                    model.retain(|(s, _)| !doomed.contains(s));
                }
                _ => {}
            }
            assert_eq!(check(&t), model, "step {step}");
        }
        // `keep` alone is never evicted.
        let mut t = Table::new();
        assert!(matches!(t.insert(&keep, held(), |_| true), Inserted::New));
        assert!(t.evict_one(&keep).is_none());
    }
}
