//! The owner index of the three Redis engines.
//!
//! Per owner, two keys that share a hash slot (the `{digest}` hash tag),
//! so each step is one atomic script on a cluster too:
//! `<prefix>~owner:{<sha256 of the owner>}:ids`, a sorted set of session
//! ids scored by the time each was attached, and `...:epoch`, a counter.
//! Session keys live in other slots: the protocol needs no multi-key
//! atomicity across them.
//!
//! Both keys carry a TTL of the idle lifetime plus a grace of five
//! minutes, set at every attach and bump and refreshed with every write
//! of an owned session (one `PEXPIRE` pair next to the write, only for
//! sessions that have an owner). A session's own TTL is set to the idle
//! lifetime by those same writes, so the index never expires while one of
//! its sessions is alive, and goes at most that long after the last one.
//! Ids of sessions that are gone are pruned by `sessions` (and so by
//! "log out everywhere"); the TTL takes the rest. Because the epoch key
//! only disappears when no login of the owner is in flight, restarting it
//! at 1 can never fool a login's second epoch read.
//!
//! The keys start with `key_prefix`, so `session_all` skips them
//! explicitly.

use std::sync::LazyLock;

use async_trait::async_trait;
use redis::Script;

use super::{commands, Redis, Topology};
use crate::session::engine::skeleton::RecordStore;
use crate::session::engine::Write;
use crate::session::error::Result;
use crate::session::id::SessionId;
use crate::session::owner::{
    indexed_id, IndexedSession, Owner, OwnerIndex, ATTACH_GRACE_MS, OWNER_KEY,
};
use crate::session::record::now_ms;

/// `KEYS[1]` the ids, `KEYS[2]` the epoch; `ARGV[1]` the id, `ARGV[2]`
/// now (ms), `ARGV[3]` the TTL (ms). Returns the epoch.
static ATTACH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local e = redis.call('GET', KEYS[2])
if not e then e = redis.call('INCR', KEYS[2]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return tonumber(e)",
    )
});

/// `KEYS[1]` the epoch; `ARGV[1]` the TTL (ms). Returns the new epoch.
static BUMP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local e = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return e",
    )
});

impl<T: Topology> Redis<T> {
    /// The owner's index and epoch keys.
    fn owner_keys(&self, owner: &Owner) -> (String, String) {
        let base = format!("{}{{{}}}", self.owner_prefix(), owner.digest());
        (format!("{base}:ids"), format!("{base}:epoch"))
    }

    /// What every owner key starts with.
    fn owner_prefix(&self) -> String {
        format!("{}~owner:", self.cmds.prefix)
    }

    /// A glob matching every owner key, for `session_all` to leave out.
    pub(super) fn owner_pattern(&self) -> String {
        commands::scan_pattern(&self.owner_prefix())
    }

    fn owner_ttl_ms(&self) -> u64 {
        self.cmds.ttl_ms().saturating_add(ATTACH_GRACE_MS)
    }

    /// After a write of a session that has an owner: its index outlives it.
    pub(super) async fn refresh_owner(&self, w: &Write<'_>) -> Result<()> {
        let Some(bytes) = w.merged.values.get(OWNER_KEY) else {
            return Ok(());
        };
        let Ok(owner) = self.cmds.format.decode_value::<String>(OWNER_KEY, bytes) else {
            return Ok(());
        };
        let Ok(owner) = Owner::new(&owner) else {
            return Ok(());
        };
        let (ids, epoch) = self.owner_keys(&owner);
        let ttl = self.owner_ttl_ms();
        let mut pipe = redis::pipe();
        pipe.cmd("PEXPIRE").arg(&ids).arg(ttl).ignore();
        pipe.cmd("PEXPIRE").arg(&epoch).arg(ttl).ignore();
        let mut conn = self.cmds.conn.clone();
        pipe.query_async::<()>(&mut conn)
            .await
            .map_err(|e| self.cmds.err(e))
    }
}

#[async_trait]
impl<T: Topology> OwnerIndex for Redis<T> {
    async fn attach(&self, owner: &Owner, sid: &SessionId) -> Result<u64> {
        let (ids, epoch) = self.owner_keys(owner);
        let mut inv = ATTACH.key(&ids);
        inv.key(&epoch)
            .arg(sid.as_str())
            .arg(now_ms())
            .arg(self.owner_ttl_ms());
        let mut conn = self.cmds.conn.clone();
        inv.invoke_async(&mut conn)
            .await
            .map_err(|e| self.cmds.err(e))
    }

    async fn detach(&self, owner: &Owner, sid: &SessionId) -> Result<()> {
        let (ids, _) = self.owner_keys(owner);
        let mut conn = self.cmds.conn.clone();
        redis::cmd("ZREM")
            .arg(&ids)
            .arg(sid.as_str())
            .query_async::<i64>(&mut conn)
            .await
            .map_err(|e| self.cmds.err(e))?;
        Ok(())
    }

    async fn epoch(&self, owner: &Owner) -> Result<u64> {
        let (_, epoch) = self.owner_keys(owner);
        let mut conn = self.cmds.conn.clone();
        let value: Option<u64> = redis::cmd("GET")
            .arg(&epoch)
            .query_async(&mut conn)
            .await
            .map_err(|e| self.cmds.err(e))?;
        // INCR starts at 1: 0 stands for "no epoch key".
        Ok(value.unwrap_or(0))
    }

    async fn bump(&self, owner: &Owner) -> Result<u64> {
        let (_, epoch) = self.owner_keys(owner);
        let mut inv = BUMP.key(&epoch);
        inv.arg(self.owner_ttl_ms());
        let mut conn = self.cmds.conn.clone();
        inv.invoke_async(&mut conn)
            .await
            .map_err(|e| self.cmds.err(e))
    }

    async fn sessions(&self, owner: &Owner) -> Result<Vec<IndexedSession>> {
        let (ids, _) = self.owner_keys(owner);
        let mut conn = self.cmds.conn.clone();
        let members: Vec<(String, f64)> = redis::cmd("ZRANGE")
            .arg(&ids)
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES")
            .query_async(&mut conn)
            .await
            .map_err(|e| self.cmds.err(e))?;
        let now = now_ms();
        let mut live = Vec::new();
        for (member, attached) in members {
            let Some(sid) = indexed_id(&member) else {
                continue;
            };
            // One session at a time: on a cluster each lives in its own slot.
            match RecordStore::load(self, &sid, now).await {
                Ok(Some(record)) => {
                    let created = (!self.beego()).then_some(record.created_ms);
                    live.push(IndexedSession::new(sid, created, Some(record.accessed_ms)));
                }
                // Corrupt data is still a session: listed, and ended with the rest.
                Err(e) if e.is_corrupt() => live.push(IndexedSession::new(sid, None, None)),
                Err(e) => return Err(e),
                Ok(None) if (attached as u64).saturating_add(ATTACH_GRACE_MS) < now => {
                    self.detach(owner, &sid).await?;
                }
                Ok(None) => {}
            }
        }
        Ok(live)
    }
}
