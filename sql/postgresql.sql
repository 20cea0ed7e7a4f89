-- actix-bee `postgresql` engine: the session table (PostgreSQL 9.5+).
-- The engine runs this at start-up with create_table=true (the default),
-- with the configured table name in place of the name session.
--
-- session_key     the session id: up to a 32-character prefix plus 128 hex
--                 characters.
-- session_data    the encoded session record (values, creation and access
--                 times).
-- session_expiry  when the session expires, in milliseconds since the Unix
--                 epoch, computed by the application: the server's TimeZone
--                 never matters (beego's `timestamp` column did depend on
--                 it). Indexed for GC.
CREATE TABLE IF NOT EXISTS "session" (
  session_key    VARCHAR(160) NOT NULL PRIMARY KEY,
  session_data   BYTEA NOT NULL,
  session_expiry BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS "session_expiry_idx" ON "session" (session_expiry);
