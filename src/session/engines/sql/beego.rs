//! beego's `session` table (`sessionstoreformat = beego`): the statements
//! over beego's columns, written once for both dialects.
//!
//! beego's `session_expiry` is the time of the last write: unix seconds
//! (`INT UNSIGNED`) in MySQL, a local `timestamp` in PostgreSQL. The engine
//! works in "expires at, ms" ([`Row::expiry_ms`](super::pool::Row)); the
//! statements convert both ways with the idle lifetime, so the rest of the
//! engine (row locks, merge, no resurrection, GC in batches) is unchanged.
//! beego's GC rule is the same: a row is dead once its last write is older
//! than the idle lifetime.

use super::options::GC_BATCH;
use super::statements::{Dialect, Statements};

/// The beego table as beego's docs create it.
pub(crate) fn ddl(dialect: Dialect, table: &str) -> String {
    let t = dialect.quote(table);
    match dialect {
        Dialect::Mysql => format!(
            "CREATE TABLE IF NOT EXISTS {t} (session_key CHAR(64) NOT NULL, \
             session_data BLOB, session_expiry INT(11) UNSIGNED NOT NULL, \
             PRIMARY KEY (session_key)) ENGINE=InnoDB"
        ),
        Dialect::Postgres => format!(
            "CREATE TABLE IF NOT EXISTS {t} (session_key CHAR(64) NOT NULL, \
             session_data BYTEA, session_expiry TIMESTAMP NOT NULL, \
             CONSTRAINT {} PRIMARY KEY (session_key))",
            dialect.quote(&format!("{table}_key"))
        ),
    }
}

/// The most data beego's `BLOB` column holds (MySQL).
pub(crate) const MYSQL_BLOB_MAX: usize = 65_535;

/// The statements over beego's table; `idle_s` the idle lifetime.
pub(crate) fn statements(dialect: Dialect, table: &str, idle_s: u64) -> Statements {
    let t = dialect.quote(table);
    // Expires at, ms, from the stored last write.
    let expires = match dialect {
        Dialect::Mysql => format!("CAST((session_expiry + {idle_s}) * 1000 AS SIGNED)"),
        Dialect::Postgres => format!(
            "((CAST(EXTRACT(EPOCH FROM session_expiry AT TIME ZONE \
             current_setting('TimeZone')) AS BIGINT) + {idle_s}) * 1000)"
        ),
    };
    // The stored last write, from an "expires at, ms" parameter `p`.
    let written = |p: &str| match dialect {
        Dialect::Mysql => format!("(CAST({p} AS SIGNED) DIV 1000 - {idle_s})"),
        Dialect::Postgres => format!(
            "(to_timestamp(CAST({p} AS BIGINT) / 1000 - {idle_s}) AT TIME ZONE \
             current_setting('TimeZone'))"
        ),
    };
    let ph = |n: usize| match dialect {
        Dialect::Mysql => "?".to_owned(),
        Dialect::Postgres => format!("${n}"),
    };
    let select = format!(
        "SELECT session_data, {expires} FROM {t} WHERE session_key = {}",
        ph(1)
    );
    let insert = format!(
        "INSERT INTO {t} (session_key, session_data, session_expiry) VALUES ({}, {}, {})",
        ph(1),
        ph(2),
        written(&ph(3))
    );
    let insert = match dialect {
        Dialect::Mysql => insert,
        Dialect::Postgres => format!("{insert} ON CONFLICT (session_key) DO NOTHING"),
    };
    let update = format!(
        "UPDATE {t} SET session_data = {}, session_expiry = {} WHERE session_key = {}",
        ph(1),
        written(&ph(2)),
        ph(3)
    );
    let delete_expired = match dialect {
        Dialect::Mysql => format!("DELETE FROM {t} WHERE {expires} < ? LIMIT {GC_BATCH}"),
        Dialect::Postgres => format!(
            "DELETE FROM {t} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {t} \
             WHERE {expires} < $1 LIMIT {GC_BATCH})) AND {expires} < $1"
        ),
    };
    Statements {
        select_for_update: format!("{select} FOR UPDATE"),
        select,
        live_expiry: format!(
            "SELECT {expires} FROM {t} WHERE session_key = {} AND {expires} >= {}",
            ph(1),
            ph(2)
        ),
        count_live: format!("SELECT COUNT(*) FROM {t} WHERE {expires} >= {}", ph(1)),
        insert,
        replace_expired: format!("{update} AND {expires} < {}", ph(4)),
        update,
        touch: format!(
            "UPDATE {t} SET session_expiry = {} WHERE session_key = {} AND {expires} >= {}",
            written(&ph(1)),
            ph(2),
            ph(3)
        ),
        // beego writes this table too, without moving the expiry forward.
        update_if_expiry: None,
        delete: format!("DELETE FROM {t} WHERE session_key = {}", ph(1)),
        delete_expired,
        expires,
    }
}
