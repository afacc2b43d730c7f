-- WikiFlow central farm database: the farm's global database (default name: wikifarm).
--
-- Tables and columns are those of CreateWiki's sql/cw_wikis.sql and ManageWiki's sql/mw_*.sql
-- (their current heads), created as MediaWiki's updater creates them: with
-- $wgDBTableOptions' default, ENGINE=InnoDB, DEFAULT CHARSET=binary. Text columns are
-- therefore byte strings (VARCHAR becomes VARBINARY, TEXT becomes BLOB): compared exactly,
-- limits in bytes. These are the tables of CreateWiki's virtual domain `virtual-createwiki`
-- and ManageWiki's `virtual-managewiki`. CreateWiki's request tables live in the central
-- wiki's own database instead (`virtual-createwiki-central`): see farm/sql/requests.sql.
-- Idempotent: every statement may run again on an existing database.
-- Indexes are declared inside CREATE TABLE so that re-running never fails on them.

-- CreateWiki: one row per wiki of the farm.
CREATE TABLE IF NOT EXISTS cw_wikis (
  wiki_dbname VARCHAR(64) NOT NULL PRIMARY KEY,
  wiki_sitename VARCHAR(128) NOT NULL,
  wiki_language VARCHAR(12) NOT NULL,
  wiki_private TINYINT NOT NULL,
  wiki_creation BINARY(14) NOT NULL,
  wiki_url TEXT NULL,
  wiki_closed TINYINT NOT NULL DEFAULT '0',
  wiki_closed_timestamp BINARY(14) NULL,
  wiki_closed_reason TEXT NULL,
  wiki_inactive TINYINT NOT NULL DEFAULT '0',
  wiki_inactive_timestamp BINARY(14) NULL,
  wiki_inactive_exempt TINYINT NOT NULL DEFAULT '0',
  wiki_inactive_exempt_reason TEXT NULL,
  wiki_inactive_exempt_expiry VARBINARY(14) NULL,
  wiki_deleted TINYINT NOT NULL DEFAULT '0',
  wiki_deleted_timestamp BINARY(14) NULL,
  wiki_locked TINYINT NOT NULL DEFAULT '0',
  wiki_dbcluster VARCHAR(5) DEFAULT 'c1',
  wiki_category VARCHAR(64) NOT NULL,
  wiki_experimental TINYINT NOT NULL DEFAULT '0',
  wiki_extra JSON NULL,
  KEY wiki_dbname (wiki_dbname),
  KEY wiki_dbcluster (wiki_dbcluster)
) ENGINE=InnoDB, DEFAULT CHARSET=binary;

-- ManageWiki: per-wiki settings (JSON object: variable name -> value) and extensions (JSON list).
CREATE TABLE IF NOT EXISTS mw_settings (
  s_dbname VARCHAR(64) NOT NULL PRIMARY KEY,
  s_settings JSON NULL,
  s_extensions JSON NULL,
  KEY s_dbname (s_dbname)
) ENGINE=InnoDB, DEFAULT CHARSET=binary;

-- ManageWiki: per-wiki groups (JSON lists of rights and of groups).
CREATE TABLE IF NOT EXISTS mw_permissions (
  perm_dbname VARCHAR(64) NOT NULL,
  perm_group VARCHAR(64) NOT NULL,
  perm_permissions JSON NOT NULL,
  perm_addgroups JSON NOT NULL,
  perm_removegroups JSON NOT NULL,
  perm_addgroupstoself JSON NOT NULL,
  perm_removegroupsfromself JSON NOT NULL,
  perm_autopromote JSON,
  UNIQUE KEY uniqueperm (perm_dbname, perm_group),
  KEY perm_dbname (perm_dbname),
  KEY perm_group (perm_group)
) ENGINE=InnoDB, DEFAULT CHARSET=binary;

-- ManageWiki: per-wiki namespaces.
CREATE TABLE IF NOT EXISTS mw_namespaces (
  ns_dbname VARCHAR(64) NOT NULL,
  ns_namespace_id INT(4) NOT NULL,
  ns_namespace_name VARCHAR(128) NOT NULL,
  ns_searchable TINYINT NOT NULL,
  ns_subpages TINYINT NOT NULL,
  ns_content TINYINT NOT NULL,
  ns_content_model VARCHAR(32) NOT NULL,
  ns_protection VARCHAR(32) NOT NULL,
  ns_aliases JSON NOT NULL,
  ns_core INT(1) NOT NULL DEFAULT 0,
  ns_additional JSON NOT NULL,
  UNIQUE KEY uniquens (ns_dbname, ns_namespace_id),
  KEY ns_dbname (ns_dbname)
) ENGINE=InnoDB, DEFAULT CHARSET=binary;

-- Defaults for new wikis: rows whose dbname is 'default'. A new wiki gets a copy of them.
-- Groups follow MediaWiki 1.39's own defaults, with the farm's ManageWiki rights for bureaucrats.
-- A group's row replaces MediaWiki's default rights for that group (as ManageWiki does), so
-- bureaucrats manage groups through addgroups/removegroups, not through 'userrights'.
INSERT IGNORE INTO mw_permissions
  (perm_dbname, perm_group, perm_permissions, perm_addgroups, perm_removegroups,
   perm_addgroupstoself, perm_removegroupsfromself, perm_autopromote)
VALUES
  ('default', '*',
   '["createaccount","read","edit","createpage","createtalk","writeapi","viewmywatchlist","editmywatchlist","viewmyprivateinfo","editmyprivateinfo","editmyoptions"]',
   '[]', '[]', '[]', '[]', NULL),
  ('default', 'user',
   '["move","move-subpages","move-rootuserpages","move-categorypages","movefile","read","edit","createpage","createtalk","writeapi","upload","reupload","reupload-shared","minoredit","editmyusercss","editmyuserjson","editmyuserjs","editmyuserjsredirect","purge","sendemail","applychangetags","changetags","editcontentmodel"]',
   '[]', '[]', '[]', '[]', NULL),
  ('default', 'autoconfirmed',
   '["autoconfirmed","editsemiprotected"]',
   '[]', '[]', '[]', '[]', '["&",[1,null],[2,null]]'),
  ('default', 'bot',
   '["bot","autoconfirmed","editsemiprotected","nominornewtalk","autopatrol","suppressredirect","apihighlimits","writeapi"]',
   '[]', '[]', '[]', '[]', NULL),
  ('default', 'sysop',
   '["block","createaccount","delete","bigdelete","deletedhistory","deletedtext","undelete","editinterface","editsitejson","edituserjson","import","importupload","move","move-subpages","move-rootuserpages","move-categorypages","patrol","autopatrol","protect","editprotected","rollback","upload","reupload","reupload-shared","unwatchedpages","autoconfirmed","editsemiprotected","ipblock-exempt","blockemail","markbotedits","apihighlimits","browsearchive","noratelimit","movefile","unblockself","suppressredirect","mergehistory","managechangetags","deletechangetags"]',
   '[]', '[]', '[]', '[]', NULL),
  ('default', 'interface-admin',
   '["editinterface","editsitecss","editsitejson","editsitejs","editusercss","edituserjson","edituserjs"]',
   '[]', '[]', '[]', '[]', NULL),
  ('default', 'bureaucrat',
   '["noratelimit","managewiki-core","managewiki-settings","managewiki-permissions","managewiki-namespaces"]',
   '["bot","sysop","bureaucrat","interface-admin"]',
   '["bot","sysop","interface-admin"]',
   '[]', '[]', NULL);

INSERT IGNORE INTO mw_namespaces
  (ns_dbname, ns_namespace_id, ns_namespace_name, ns_searchable, ns_subpages, ns_content,
   ns_content_model, ns_protection, ns_aliases, ns_core, ns_additional)
VALUES
  ('default', 0, '<Main>', 1, 0, 1, 'wikitext', '', '[]', 1, '[]'),
  ('default', 1, 'Talk', 0, 1, 0, 'wikitext', '', '[]', 1, '[]'),
  ('default', 2, 'User', 0, 1, 0, 'wikitext', '', '[]', 1, '[]'),
  ('default', 3, 'User_talk', 0, 1, 0, 'wikitext', '', '[]', 1, '[]'),
  ('default', 4, 'Project', 0, 1, 0, 'wikitext', '', '[]', 1, '[]'),
  ('default', 5, 'Project_talk', 0, 1, 0, 'wikitext', '', '[]', 1, '[]'),
  ('default', 6, 'File', 0, 0, 0, 'wikitext', '', '["Image"]', 1, '[]'),
  ('default', 7, 'File_talk', 0, 1, 0, 'wikitext', '', '["Image_talk"]', 1, '[]'),
  ('default', 8, 'MediaWiki', 0, 1, 0, 'wikitext', 'editinterface', '[]', 1, '[]'),
  ('default', 9, 'MediaWiki_talk', 0, 1, 0, 'wikitext', '', '[]', 1, '[]'),
  ('default', 10, 'Template', 0, 1, 0, 'wikitext', '', '[]', 1, '[]'),
  ('default', 11, 'Template_talk', 0, 1, 0, 'wikitext', '', '[]', 1, '[]'),
  ('default', 12, 'Help', 0, 1, 0, 'wikitext', '', '[]', 1, '[]'),
  ('default', 13, 'Help_talk', 0, 1, 0, 'wikitext', '', '[]', 1, '[]'),
  ('default', 14, 'Category', 0, 0, 0, 'wikitext', '', '[]', 1, '[]'),
  ('default', 15, 'Category_talk', 0, 1, 0, 'wikitext', '', '[]', 1, '[]');

INSERT IGNORE INTO mw_settings (s_dbname, s_settings, s_extensions)
VALUES ('default', '{}', '[]');
