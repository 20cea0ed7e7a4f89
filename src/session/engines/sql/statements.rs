//! The SQL dialects and every statement the engines run.

use super::options::GC_BATCH;

/// The SQL dialects.
// A build with one engine uses one variant.
#[cfg_attr(not(all(feature = "mysql", feature = "postgresql")), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// MySQL and MariaDB.
    Mysql,
    /// PostgreSQL.
    Postgres,
}

impl Dialect {
    pub(crate) fn quote(self, ident: &str) -> String {
        match self {
            Dialect::Mysql => format!("`{ident}`"),
            Dialect::Postgres => format!("\"{ident}\""),
        }
    }

    /// The engine name used in errors and logs.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Dialect::Mysql => "mysql",
            Dialect::Postgres => "postgresql",
        }
    }

    /// The largest `session_data` the column holds.
    pub(crate) fn max_data_len(self) -> usize {
        match self {
            // MEDIUMBLOB is 16 MiB - 1; the margin keeps the statement under
            // a 16 MiB max_allowed_packet (MariaDB's default).
            Dialect::Mysql => (16 << 20) - (64 << 10),
            // bytea holds 1 GB; stay well below what one message may carry.
            Dialect::Postgres => 256 << 20,
        }
    }
}

/// Numbers placeholders in the dialect's style: `?` or `$1, $2, ...`.
struct Placeholders {
    dialect: Dialect,
    next: usize,
}

impl Placeholders {
    fn new(dialect: Dialect) -> Self {
        Placeholders { dialect, next: 0 }
    }

    fn p(&mut self) -> String {
        self.next += 1;
        match self.dialect {
            Dialect::Mysql => "?".to_owned(),
            Dialect::Postgres => format!("${}", self.next),
        }
    }
}

/// Every statement the engines run, built once per table.
#[derive(Debug)]
pub(crate) struct Statements {
    /// The expression of "expires at, ms" over the table's columns (the
    /// owner index joins on it).
    pub(crate) expires: String,
    pub(crate) select: String,
    pub(crate) select_for_update: String,
    pub(crate) live_expiry: String,
    pub(crate) count_live: String,
    pub(crate) insert: String,
    pub(crate) update: String,
    pub(crate) replace_expired: String,
    pub(crate) touch: String,
    /// `update` only while the expiry is still the one loaded (bound last):
    /// the write without a row lock. `None` where writes do not move the
    /// expiry strictly forward (beego's table, which beego writes too).
    pub(crate) update_if_expiry: Option<String>,
    pub(crate) delete: String,
    pub(crate) delete_expired: String,
}

impl Statements {
    pub(crate) fn new(dialect: Dialect, table: &str) -> Self {
        let t = dialect.quote(table);
        let select = {
            let mut p = Placeholders::new(dialect);
            format!(
                "SELECT session_data, session_expiry FROM {t} WHERE session_key = {}",
                p.p()
            )
        };
        let live_expiry = {
            let mut p = Placeholders::new(dialect);
            format!(
                "SELECT session_expiry FROM {t} WHERE session_key = {} AND session_expiry >= {}",
                p.p(),
                p.p()
            )
        };
        let count_live = {
            let mut p = Placeholders::new(dialect);
            format!("SELECT COUNT(*) FROM {t} WHERE session_expiry >= {}", p.p())
        };
        let insert = {
            let mut p = Placeholders::new(dialect);
            let sql = format!(
                "INSERT INTO {t} (session_key, session_data, session_expiry) VALUES ({}, {}, {})",
                p.p(),
                p.p(),
                p.p()
            );
            match dialect {
                // A duplicate key is an error in MySQL, caught by the engine.
                Dialect::Mysql => sql,
                Dialect::Postgres => format!("{sql} ON CONFLICT (session_key) DO NOTHING"),
            }
        };
        let (update, replace_expired, update_if_expiry) = {
            let mut p = Placeholders::new(dialect);
            let update = format!(
                "UPDATE {t} SET session_data = {}, session_expiry = {} WHERE session_key = {}",
                p.p(),
                p.p(),
                p.p()
            );
            let last = p.p();
            let replace = format!("{update} AND session_expiry < {last}");
            let if_expiry = format!("{update} AND session_expiry = {last}");
            (update, replace, if_expiry)
        };
        // Never back, not even within one ms: the expiry is the row's
        // version for `update_if_expiry`.
        let touch = {
            let mut p = Placeholders::new(dialect);
            format!(
                "UPDATE {t} SET session_expiry = GREATEST({}, session_expiry + 1) \
                 WHERE session_key = {} AND session_expiry >= {}",
                p.p(),
                p.p(),
                p.p()
            )
        };
        let delete = {
            let mut p = Placeholders::new(dialect);
            format!("DELETE FROM {t} WHERE session_key = {}", p.p())
        };
        let delete_expired = match dialect {
            Dialect::Mysql => {
                format!("DELETE FROM {t} WHERE session_expiry < ? LIMIT {GC_BATCH}")
            }
            // No DELETE ... LIMIT in Postgres: pick a batch of tuple ids and
            // re-check the expiry in case a row changed meanwhile.
            Dialect::Postgres => format!(
                "DELETE FROM {t} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {t} \
                 WHERE session_expiry < $1 LIMIT {GC_BATCH})) AND session_expiry < $1"
            ),
        };
        Statements {
            expires: "session_expiry".to_owned(),
            select_for_update: format!("{select} FOR UPDATE"),
            select,
            live_expiry,
            count_live,
            insert,
            update,
            replace_expired,
            touch,
            update_if_expiry: Some(update_if_expiry),
            delete,
            delete_expired,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_quote_the_table_and_bind_everything() {
        let my = Statements::new(Dialect::Mysql, "t_1");
        assert!(my.select.contains("FROM `t_1` WHERE session_key = ?"));
        assert!(my.delete_expired.ends_with("LIMIT 1000"));
        let pg = Statements::new(Dialect::Postgres, "t_1");
        assert!(pg
            .replace_expired
            .contains("session_key = $3 AND session_expiry < $4"));
        assert!(pg.insert.ends_with("ON CONFLICT (session_key) DO NOTHING"));
        assert!(pg
            .update_if_expiry
            .is_some_and(|sql| sql.ends_with("session_key = $3 AND session_expiry = $4")));
        assert!(my.touch.contains("GREATEST(?, session_expiry + 1)"));
        assert!(pg.delete_expired.contains("FROM \"t_1\""));
    }
}
