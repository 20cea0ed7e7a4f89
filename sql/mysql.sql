-- actix-bee `mysql` engine: the session table (MySQL 5.7+ / MariaDB 10.3+).
-- The engine runs this at start-up with create_table=true (the default),
-- with the configured table name in place of the name session.
--
-- session_key     the session id: up to a 32-character prefix plus 128 hex
--                 characters; ASCII with a binary collation, so ids compare
--                 exactly.
-- session_data    the encoded session record (values, creation and access
--                 times); MEDIUMBLOB holds up to 16 MiB, where beego's BLOB
--                 stopped at 64 KiB.
-- session_expiry  when the session expires, in milliseconds since the Unix
--                 epoch, computed by the application: the server's time
--                 zone never matters. Indexed for GC.
CREATE TABLE IF NOT EXISTS `session` (
  `session_key`    VARCHAR(160) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `session_data`   MEDIUMBLOB NOT NULL,
  `session_expiry` BIGINT NOT NULL,
  PRIMARY KEY (`session_key`),
  KEY `session_expiry_idx` (`session_expiry`)
) ENGINE=InnoDB;
