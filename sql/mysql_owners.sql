-- actix-bee `mysql` engine: the owner index ("log out everywhere":
-- Manager::sessions_of and Manager::destroy_sessions_of), two tables beside
-- the session table, for either sessionstoreformat. The engine runs this at
-- start-up with create_table=true (the default), with the configured table
-- name in place of the name session (a table name longer than 51 characters
-- gets shortened names, see the engine's docs).
--
-- session_owner        one row per session of an owner.
--   owner              SHA-256 of the owner in hex, never the owner itself.
--   session_id         the session id.
--   attached_at        when the id was attached (at login), in ms since the
--                      Unix epoch. An id whose session is gone is removed
--                      (by sessions_of and GC) once this is five minutes old,
--                      since a login may be writing that session right now.
-- session_owner_epoch  one row per owner.
--   epoch              moved by every "log out everywhere" to the larger of
--                      epoch + 1 and the time in ms, so it never takes a value
--                      it had before: a login that read an older one ends its
--                      own session. GC removes it once the owner has no
--                      session and it is older than the idle lifetime plus
--                      five minutes.
CREATE TABLE IF NOT EXISTS `session_owner` (
  `owner`       CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `session_id`  VARCHAR(160) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `attached_at` BIGINT NOT NULL,
  PRIMARY KEY (`owner`, `session_id`)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS `session_owner_epoch` (
  `owner` CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `epoch` BIGINT NOT NULL,
  PRIMARY KEY (`owner`)
) ENGINE=InnoDB;
