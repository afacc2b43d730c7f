-- CreateWiki's wiki requests, in the central wiki's own database (metawiki here): CreateWiki
-- reads them through the virtual domain `virtual-createwiki-central` (1.39 releases: the
-- database of $wgCreateWikiGlobalWiki), which Miraheze maps to its central wiki.
--
-- Columns are those of CreateWiki's sql/cw_requests.sql, cw_comments.sql and cw_history.sql
-- (its current head), created as MediaWiki's updater creates them ($wgDBTableOptions'
-- default ENGINE=InnoDB, DEFAULT CHARSET=binary). Idempotent.

-- cw_status: inreview, approved, declined, onhold, moredetails, abandoned.
CREATE TABLE IF NOT EXISTS cw_requests (
  cw_id INT AUTO_INCREMENT PRIMARY KEY NOT NULL,
  cw_comment TEXT DEFAULT NULL,
  cw_dbname VARCHAR(64) DEFAULT NULL,
  cw_language VARCHAR(12) NOT NULL,
  cw_private TINYINT UNSIGNED NOT NULL DEFAULT '0',
  cw_sitename VARCHAR(128) NOT NULL,
  cw_status VARCHAR(16) DEFAULT NULL,
  cw_timestamp BINARY(14) NOT NULL,
  cw_url VARCHAR(96) NOT NULL,
  cw_user INT(10) NOT NULL,
  cw_category VARCHAR(64) NOT NULL,
  cw_visibility TINYINT UNSIGNED NOT NULL DEFAULT '0',
  cw_locked TINYINT UNSIGNED NOT NULL DEFAULT '0',
  cw_bio TINYINT UNSIGNED NOT NULL DEFAULT '0',
  cw_extra JSON NULL,
  KEY cw_status (cw_status),
  KEY cw_timestamp (cw_timestamp)
) ENGINE=InnoDB, DEFAULT CHARSET=binary;

-- Comments on a request (no primary key in CreateWiki either). CreateWiki's viewer keys
-- them by cw_comment_timestamp, so WikiFlow gives each comment of a request its own second.
CREATE TABLE IF NOT EXISTS cw_comments (
  cw_id INT NOT NULL,
  cw_comment BLOB NOT NULL,
  cw_comment_timestamp BINARY(14) NOT NULL,
  cw_comment_user INT(10) NOT NULL
) ENGINE=InnoDB, DEFAULT CHARSET=binary;

-- Edits of a request (actions edited, reopened, ai-error); status changes go to Special:Log.
CREATE TABLE IF NOT EXISTS cw_history (
  cw_history_id BIGINT UNSIGNED AUTO_INCREMENT NOT NULL,
  cw_id INT NOT NULL,
  cw_history_action VARCHAR(50) NOT NULL,
  cw_history_actor INT(10) NOT NULL,
  cw_history_details BLOB NOT NULL,
  cw_history_timestamp BINARY(14) NOT NULL,
  PRIMARY KEY (cw_history_id)
) ENGINE=InnoDB, DEFAULT CHARSET=binary;
