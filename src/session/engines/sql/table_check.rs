//! The table's column types, checked before the engine trusts them: a
//! beego `session` table (`session_expiry` in unix seconds or a
//! `timestamp`) read as this crate's native table (`BIGINT` ms) would have
//! every write fail and every row deleted by GC.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::pool::Param;
use super::statements::Dialect;
use super::Shared;
use crate::session::error::{Error, Result};

/// Counts the `session_expiry` columns of the table that are not `bigint`.
fn statement(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Mysql => {
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() \
             AND table_name = ? AND column_name = 'session_expiry' AND data_type <> 'bigint'"
        }
        Dialect::Postgres => {
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() \
             AND table_name = $1 AND column_name = 'session_expiry' AND data_type <> 'bigint'"
        }
    }
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
                let sql = statement(shared.dialect);
                conn.query_int(sql, &[Param::Str(&shared.table)])
            })
            .await?
            .unwrap_or(0);
        if foreign > 0 {
            return Err(Error::config(
                self.name(),
                format!(
                    "table {:?} has beego's column types (session_expiry is not BIGINT \
                     milliseconds): it looks like a beego session table, which \
                     sessionstoreformat = native cannot use (sessionstoreformat = beego is not \
                     supported by the {} engine yet); point the engine at another table \
                     (table=...)",
                    self.table,
                    self.name()
                ),
            ));
        }
        self.table_checked.store(true, Ordering::Relaxed);
        Ok(())
    }
}
