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
use sha2::{Digest, Sha256};

use super::pool::{Conn, Param};
use super::statements::{Dialect, Statements};
use super::{ms, unsigned, Driver, Shared, Sql};
use crate::session::error::{Error, Result};
use crate::session::format::Format;
use crate::session::id::SessionId;
use crate::session::owner::{indexed_id, IndexedSession, Owner, OwnerIndex, ATTACH_GRACE_MS};
use crate::session::record::now_ms;

/// Longest identifier both servers take (PostgreSQL's 63).
const MAX_IDENT: usize = 63;

/// The names of the index and epoch tables of `table`: `<table>_owner` and
/// `<table>_owner_epoch`, or, when those would pass 63 characters, the
/// table's first 36 characters and 12 hex digits of its SHA-256 in place
/// of `<table>`.
pub(crate) fn table_names(table: &str) -> (String, String) {
    let base = if table.len() + "_owner_epoch".len() <= MAX_IDENT {
        table.to_owned()
    } else {
        let digest = hex::encode(Sha256::digest(table.as_bytes()));
        format!(
            "{}_{}",
            table.get(..36).unwrap_or(table),
            digest.get(..12).unwrap_or(&digest)
        )
    };
    (format!("{base}_owner"), format!("{base}_owner_epoch"))
}

/// The statements that create the two tables (`create_table`), each to
/// run on its own.
pub(crate) fn ddl(dialect: Dialect, table: &str) -> Vec<String> {
    let (index, epoch) = table_names(table);
    let body = match dialect {
        Dialect::Mysql => include_str!("../../../../sql/mysql_owners.sql"),
        Dialect::Postgres => include_str!("../../../../sql/postgresql_owners.sql"),
    };
    let body = body
        .replace(
            &dialect.quote("session_owner_epoch"),
            &dialect.quote(&epoch),
        )
        .replace(&dialect.quote("session_owner"), &dialect.quote(&index));
    let statements = body
        .split(';')
        .filter(|s| {
            s.lines()
                .any(|l| !l.trim().is_empty() && !l.starts_with("--"))
        })
        .map(str::to_owned);
    match dialect {
        Dialect::Mysql => statements.collect(),
        // One batch, behind the lock the session table's DDL takes, so that
        // instances starting together do not race on `CREATE TABLE`.
        Dialect::Postgres => vec![format!(
            "SELECT pg_advisory_xact_lock(hashtext('actix_bee_session_ddl'));\n{body}"
        )],
    }
}

/// The owner statements over one session table.
#[derive(Debug)]
pub(crate) struct OwnerStatements {
    /// The two table names, unquoted, for the table check.
    pub(crate) tables: (String, String),
    attach: String,
    create_epoch: String,
    lock_epoch: String,
    read_epoch: String,
    bump: String,
    detach: String,
    list: String,
    prune_one: String,
    prune_stale: String,
    prune_epochs: String,
}

impl OwnerStatements {
    /// `sessions` the session table's statements (for its expiry expression).
    pub(crate) fn new(dialect: Dialect, table: &str, sessions: &Statements) -> Self {
        let (index_name, epoch_name) = table_names(table);
        let (t, o, e) = (
            dialect.quote(table),
            dialect.quote(&index_name),
            dialect.quote(&epoch_name),
        );
        let ph = |n: usize| match dialect {
            Dialect::Mysql => "?".to_owned(),
            Dialect::Postgres => format!("${n}"),
        };
        let (p1, p2, p3) = (ph(1), ph(2), ph(3));
        let expires = &sessions.expires;
        let insert_row =
            format!("INSERT INTO {o} (owner, session_id, attached_at) VALUES ({p1}, {p2}, {p3})");
        let insert_epoch = format!("INSERT INTO {e} (owner, epoch) VALUES ({p1}, {p2})");
        // Creating the epoch row locks it at once (an upsert that keeps
        // it): MySQL's plain duplicate-key insert would take a shared lock
        // that two attaches (or an attach and a bump) deadlock upgrading.
        let (attach, create_epoch, bump) = match dialect {
            Dialect::Mysql => (
                format!("{insert_row} ON DUPLICATE KEY UPDATE attached_at = VALUES(attached_at)"),
                format!("{insert_epoch} ON DUPLICATE KEY UPDATE epoch = epoch"),
                format!(
                    "{insert_epoch} ON DUPLICATE KEY UPDATE epoch = GREATEST(epoch + 1, VALUES(epoch))"
                ),
            ),
            Dialect::Postgres => (
                format!(
                    "{insert_row} ON CONFLICT (owner, session_id) \
                     DO UPDATE SET attached_at = EXCLUDED.attached_at"
                ),
                format!("{insert_epoch} ON CONFLICT (owner) DO UPDATE SET epoch = {e}.epoch"),
                format!(
                    "{insert_epoch} ON CONFLICT (owner) \
                     DO UPDATE SET epoch = GREATEST({e}.epoch + 1, EXCLUDED.epoch)"
                ),
            ),
        };
        let read_epoch = format!("SELECT epoch FROM {e} WHERE owner = {p1}");
        OwnerStatements {
            tables: (index_name, epoch_name),
            attach,
            create_epoch,
            lock_epoch: format!("{read_epoch} FOR UPDATE"),
            read_epoch,
            bump,
            detach: format!("DELETE FROM {o} WHERE owner = {p1} AND session_id = {p2}"),
            list: format!(
                "SELECT {o}.session_id, {o}.attached_at, session_data, {expires} \
                 FROM {o} LEFT JOIN {t} ON session_key = {o}.session_id WHERE {o}.owner = {p1}"
            ),
            prune_one: format!(
                "DELETE FROM {o} WHERE owner = {p1} AND session_id = {p2} AND attached_at < {p3}"
            ),
            prune_stale: format!(
                "DELETE FROM {o} WHERE attached_at < {p1} AND NOT EXISTS \
                 (SELECT 1 FROM {t} WHERE session_key = {o}.session_id AND {expires} >= {p2})"
            ),
            prune_epochs: format!(
                "DELETE FROM {e} WHERE epoch < {p1} AND NOT EXISTS \
                 (SELECT 1 FROM {o} WHERE {o}.owner = {e}.owner)"
            ),
        }
    }
}

/// Counts which of the two owner tables exist in the current schema.
fn tables_present(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Mysql => {
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name IN (?, ?)"
        }
        Dialect::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name IN ($1, $2)"
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_table_names_are_shortened_and_distinct() {
        let (o, e) = table_names("web_session");
        assert_eq!(
            (o.as_str(), e.as_str()),
            ("web_session_owner", "web_session_owner_epoch")
        );
        let a = table_names(&"a".repeat(63));
        let b = table_names(&format!("{}b", "a".repeat(62)));
        assert!(a.1.len() <= MAX_IDENT && a.0.len() <= MAX_IDENT);
        assert_ne!(a, b);
    }

    #[test]
    fn ddl_follows_the_table() {
        let my = ddl(Dialect::Mysql, "t_1");
        assert_eq!(my.len(), 2);
        assert!(my[0].contains("CREATE TABLE IF NOT EXISTS `t_1_owner` ("));
        assert!(my[1].contains("CREATE TABLE IF NOT EXISTS `t_1_owner_epoch` ("));
        let pg = ddl(Dialect::Postgres, "t_1");
        assert_eq!(pg.len(), 1);
        assert!(pg[0].contains("\"t_1_owner\" (") && pg[0].contains("\"t_1_owner_epoch\" ("));
        assert!(!pg[0].contains("\"session_owner"));
    }

    #[test]
    fn statements_bind_everything() {
        let sessions = Statements::new(Dialect::Postgres, "t");
        let s = OwnerStatements::new(Dialect::Postgres, "t", &sessions);
        assert!(s
            .list
            .contains("LEFT JOIN \"t\" ON session_key = \"t_owner\".session_id"));
        assert!(s.prune_stale.contains("session_expiry >= $2"));
        assert!(s
            .bump
            .contains("GREATEST(\"t_owner_epoch\".epoch + 1, EXCLUDED.epoch)"));
    }
}
