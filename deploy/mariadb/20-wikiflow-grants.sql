-- Runs once, when the MariaDB container initialises an empty data directory, after
-- farm/sql/central.sql (mounted as 10-central.sql). The image has already created the
-- `wikiflow` user with all rights on `wikifarm` (MARIADB_USER / MARIADB_DATABASE).
--
-- The worker creates, backs up and drops wiki databases, and every wiki database name ends
-- in `wiki` (mediawiki.db_suffix): grant everything on databases matching `%wiki`, which
-- includes creating them. (`_` is a wildcard too in this pattern; harmless here.)
GRANT ALL PRIVILEGES ON `%wiki`.* TO 'wikiflow'@'%';
FLUSH PRIVILEGES;
