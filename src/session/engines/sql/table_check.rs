//! The table's column types, checked before the engine trusts them: a
//! beego `session` table (`session_expiry` in unix seconds or a
//! `timestamp`) read as this crate's native table (`BIGINT` ms) would have
//! every write fail and every row deleted by GC, and the reverse.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::pool::Param;
use super::statements::Dialect;
use super::Shared;
use crate::session::error::{Error, Result};
use crate::session::format::Format;

/// Counts the `session_expiry` columns of the table that are (`native`
/// false) or are not (`native` true) `bigint`: the other format's tables.
fn statement(dialect: Dialect, native: bool) -> String {
    let (schema, p) = match dialect {
        Dialect::Mysql => ("DATABASE()", "?"),
        Dialect::Postgres => ("current_schema()", "$1"),
    };
    let op = if native { "<>" } else { "=" };
    format!(
        "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = {schema} \
         AND table_name = {p} AND column_name = 'session_expiry' AND data_type {op} 'bigint'"
    )
}

impl Shared {
    /// Refuses a table whose `session_expiry` is not this format's `BIGINT`
    /// (a beego table), once; [`Error::Config`] names the setting.
    pub(super) async fn check_table(self: &Arc<Self>) -> Result<()> {
        if self.table_checked.load(Ordering::Relaxed) {
            return Ok(());
        }
        let foreign = self
            .call(false, |shared, conn| {
                let native = shared.cx.format == Format::Native;
                let sql = statement(shared.dialect, native);
                conn.query_int(&sql, &[Param::Str(&shared.table)])
            })
            .await?
            .unwrap_or(0);
        if foreign > 0 && self.cx.format == Format::Beego {
            return Err(Error::config(
                self.name(),
                format!(
                    "table {:?} is this crate's native session table (session_expiry is \
                     BIGINT milliseconds), not beego's: with sessionstoreformat = beego point \
                     the engine at beego's session table (table=...), or use \
                     sessionstoreformat = native",
                    self.table
                ),
            ));
        }
        if foreign > 0 {
            return Err(Error::config(
                self.name(),
                format!(
                    "table {:?} has beego's column types (session_expiry is not BIGINT \
                     milliseconds): it looks like a beego session table; set \
                     sessionstoreformat = beego to share it with beego, or point the engine \
                     at another table (table=...)",
                    self.table
                ),
            ));
        }
        if !self.owner_tables_present().await? {
            let (index, epoch) = &self.owners.tables;
            tracing::warn!(
                backend = self.name(),
                index,
                epoch,
                "session: the owner index tables are missing: sessions by owner will fail \
                 until they are created (sql/*_owners.sql, or create_table=true)"
            );
        }
        self.table_checked.store(true, Ordering::Relaxed);
        Ok(())
    }
}
