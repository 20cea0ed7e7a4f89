//! The owner index of the `mysql` and `postgresql` engines, for both
//! storage formats.
//!
//! Two tables beside the session table (`sql/mysql_owners.sql`,
//! `sql/postgresql_owners.sql`): `<table>_owner` holds one row per session
//! of an owner (the owner's SHA-256, the id, the attach time in ms) and
//! `<table>_owner_epoch` one row per owner (its epoch).
//!
//! - **attach** inserts (or refreshes) the row and reads the epoch under
//!   `SELECT ... FOR UPDATE`, in one transaction: a "log out everywhere"
//!   (which updates that epoch row) waits for the attach to commit, so the
//!   index read that follows it sees the row.
//! - **bump** moves the epoch to the larger of `epoch + 1` and now (ms). A
//!   new epoch starts at now too, so an epoch row that GC removed and a
//!   later login recreated never takes a value it had before (as long as
//!   the servers' clocks agree within the five-minute grace).
//! - **sessions** left-joins the index with the session table: live rows
//!   are listed, rows whose session is gone are deleted once attached more
//!   than [`ATTACH_GRACE_MS`] ago. GC deletes the same rows in one
//!   statement, then the epochs of owners left with no row that are older
//!   than the idle lifetime plus the grace.
//!
//! The join reads the expiry through the format's own expression
//! ([`Statements::expires`]), so beego's table gets the index unchanged.
//! Tables created before the index existed (with `create_table = false`)
//! keep working: the owner calls then fail with [`Error::Config`] naming
//! the missing tables, and GC leaves the index alone.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use async_trait::async_trait;

use super::owner_statements::tables_present;
use super::pool::{Conn, Param};
use super::{ms, unsigned, Driver, Shared, Sql};
use crate::session::error::{Error, Result};
use crate::session::format::Format;
use crate::session::id::SessionId;
use crate::session::owner::{indexed_id, IndexedSession, Owner, OwnerIndex, ATTACH_GRACE_MS};
use crate::session::record::now_ms;

impl Shared {
    /// True once both owner tables were seen; checked again on every call
    /// until then, so tables created while the app runs are picked up.
    pub(super) async fn owner_tables_present(self: &Arc<Self>) -> Result<bool> {
        if self.owner_tables.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let n = self
            .call(false, |shared, conn| {
                let (index, epoch) = &shared.owners.tables;
                conn.query_int(
                    tables_present(shared.dialect),
                    &[Param::Str(index), Param::Str(epoch)],
                )
            })
            .await?
            .unwrap_or(0);
        let present = n >= 2;
        self.owner_tables.store(present, Ordering::Relaxed);
        Ok(present)
    }

    /// [`Error::Config`] naming the tables to create, when they are missing.
    async fn need_owner_tables(self: &Arc<Self>) -> Result<()> {
        if self.owner_tables_present().await? {
            return Ok(());
        }
        let (index, epoch) = &self.owners.tables;
        Err(Error::config(
            self.name(),
            format!(
                "sessions by owner need the tables {index:?} and {epoch:?} beside the session \
                 table: create them with sql/{}_owners.sql (table names adjusted), or set \
                 create_table=true",
                self.name()
            ),
        ))
    }

    /// GC of the index: rows whose session is gone (attached before the
    /// grace), then epochs of owners with no row left, idle long enough
    /// that no login of theirs can be in flight.
    pub(super) async fn gc_owners(self: &Arc<Self>, now: u64) -> Result<()> {
        if !self.owner_tables_present().await? {
            return Ok(());
        }
        let idle = self.cx.lifetimes.idle_ms();
        let (rows, epochs) = self
            .call(false, move |shared, conn| {
                let s = &shared.owners;
                let stale = ms(now.saturating_sub(ATTACH_GRACE_MS));
                let rows =
                    conn.execute(&s.prune_stale, &[Param::Int(stale), Param::Int(ms(now))])?;
                let old = ms(now.saturating_sub(idle.saturating_add(ATTACH_GRACE_MS)));
                let epochs = conn.execute(&s.prune_epochs, &[Param::Int(old)])?;
                Ok((rows, epochs))
            })
            .await?;
        tracing::debug!(
            backend = self.name(),
            rows,
            epochs,
            "session: SQL owner index GC"
        );
        Ok(())
    }
}

/// The epoch read back in the transaction that wrote it: always there.
fn written_epoch(shared: &Shared, epoch: Option<i64>) -> Result<u64> {
    epoch
        .map(unsigned)
        .ok_or_else(|| Error::backend(shared.name(), "the owner's epoch row is missing"))
}

/// The epoch a new owner starts at, and the least a bump moves to: now.
fn fresh_epoch(now: u64) -> i64 {
    ms(now).max(1)
}

#[async_trait]
impl<D: Driver> OwnerIndex for Sql<D> {
    async fn attach(&self, owner: &Owner, sid: &SessionId) -> Result<u64> {
        super::check_key(sid)?;
        self.shared.need_owner_tables().await?;
        let (digest, sid) = (owner.digest(), sid.clone());
        let now = now_ms();
        let epoch = self
            .shared
            .call(true, move |shared, conn| {
                let s = &shared.owners;
                let row = [
                    Param::Str(&digest),
                    Param::Str(sid.as_str()),
                    Param::Int(ms(now)),
                ];
                conn.execute(&s.attach, &row)?;
                let epoch = [Param::Str(&digest), Param::Int(fresh_epoch(now))];
                conn.execute(&s.create_epoch, &epoch)?;
                conn.query_int(&s.lock_epoch, &[Param::Str(&digest)])
            })
            .await?;
        written_epoch(&self.shared, epoch)
    }

    async fn detach(&self, owner: &Owner, sid: &SessionId) -> Result<()> {
        if super::check_key(sid).is_err() {
            return Ok(());
        }
        self.shared.need_owner_tables().await?;
        let (digest, sid) = (owner.digest(), sid.clone());
        self.shared
            .call(false, move |shared, conn| {
                let params = [Param::Str(&digest), Param::Str(sid.as_str())];
                conn.execute(&shared.owners.detach, &params)?;
                Ok(())
            })
            .await
    }

    async fn epoch(&self, owner: &Owner) -> Result<u64> {
        self.shared.need_owner_tables().await?;
        let digest = owner.digest();
        let epoch = self
            .shared
            .call(false, move |shared, conn| {
                conn.query_int(&shared.owners.read_epoch, &[Param::Str(&digest)])
            })
            .await?;
        // Epochs start at a time in ms: 0 stands for "no epoch row".
        Ok(epoch.map(unsigned).unwrap_or(0))
    }

    async fn bump(&self, owner: &Owner) -> Result<u64> {
        self.shared.need_owner_tables().await?;
        let digest = owner.digest();
        let now = now_ms();
        let epoch = self
            .shared
            .call(true, move |shared, conn| {
                let s = &shared.owners;
                let params = [Param::Str(&digest), Param::Int(fresh_epoch(now))];
                conn.execute(&s.bump, &params)?;
                conn.query_int(&s.read_epoch, &[Param::Str(&digest)])
            })
            .await?;
        written_epoch(&self.shared, epoch)
    }

    async fn sessions(&self, owner: &Owner) -> Result<Vec<IndexedSession>> {
        self.shared.need_owner_tables().await?;
        let digest = owner.digest();
        let now = now_ms();
        self.shared
            .call(false, move |shared, conn| list(shared, conn, &digest, now))
            .await
    }
}

/// The owner's live sessions, in one call; deletes the rows it finds
/// stale.
fn list(
    shared: &Shared,
    conn: &mut dyn Conn,
    digest: &str,
    now: u64,
) -> Result<Vec<IndexedSession>> {
    let s = &shared.owners;
    let rows = conn.query_index(&s.list, &[Param::Str(digest)])?;
    let stale_before = ms(now.saturating_sub(ATTACH_GRACE_MS));
    let mut live = Vec::new();
    for row in rows {
        let Some(sid) = indexed_id(&row.sid) else {
            continue;
        };
        match row.session.filter(|r| r.expiry_ms >= ms(now)) {
            Some(session) => match shared.decode(session) {
                Ok(record) => {
                    let created = (shared.cx.format != Format::Beego).then_some(record.created_ms);
                    live.push(IndexedSession::new(sid, created, Some(record.accessed_ms)));
                }
                // Corrupt data is still a session: listed, and ended with the rest.
                Err(e) if e.is_corrupt() => live.push(IndexedSession::new(sid, None, None)),
                Err(e) => return Err(e),
            },
            None if row.attached_ms < stale_before => {
                // Re-checked in the statement: a login may have attached it again.
                let params = [
                    Param::Str(digest),
                    Param::Str(&row.sid),
                    Param::Int(stale_before),
                ];
                conn.execute(&s.prune_one, &params)?;
            }
            None => {}
        }
    }
    Ok(live)
}
