//! The owner index's tables and statements over one session table: a
//! leaf that the engine (creating tables) and the owner index (running
//! them) share.

use sha2::{Digest, Sha256};

use super::statements::{Dialect, Statements};

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
    pub(super) attach: String,
    pub(super) create_epoch: String,
    pub(super) lock_epoch: String,
    pub(super) read_epoch: String,
    pub(super) bump: String,
    pub(super) detach: String,
    pub(super) list: String,
    pub(super) prune_one: String,
    pub(super) prune_stale: String,
    pub(super) prune_epochs: String,
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
pub(super) fn tables_present(dialect: Dialect) -> &'static str {
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
