<?php
/**
 * WikiFlow farm: the one settings file for every wiki of the local farm.
 *
 * Used through MW_CONFIG_FILE=<repo>/farm/mediawiki/LocalSettings.php by PHP's built-in web
 * server (farm/bin/stack) and by maintenance scripts (farm/bin/mwscript).
 *
 * Which wiki:  CLI  -> the constant MW_DB (maintenance scripts' --wiki=<db>)
 *              web  -> the Host header "<db>.localhost[:<port>]"
 * The name is validated, then looked up in the central database (cw_wikis) on every request,
 * without caching: a wiki registered a moment ago answers at once.
 *
 * Environment:
 *   WIKIFLOW_STATE_DIR          state folder (default <repo>/.stack)
 *   WIKIFLOW_DATABASE_PASSWORD  database password, else the file WIKIFLOW_DATABASE_PASSWORD_FILE
 *                               (default <state>/secrets/db-password)
 *   WIKIFLOW_DATABASE_HOST      database server (default 127.0.0.1)
 *   WIKIFLOW_DATABASE_USER      database user (default wikiflow)
 *   WIKIFLOW_CENTRAL_DB         central database (default wikifarm)
 *   WIKIFLOW_DB_PORT            database server's port (default 3306)
 *   WIKIFLOW_MW_PORT            port in $wgServer (default 8080)
 *   WIKIFLOW_UI_PORT            port of the Temporal Web UI that Special:Processes links to (default 8233)
 *   WIKIFLOW_MW_SECRET_KEY      $wgSecretKey (default: <state>/secrets/mw-secret-key)
 */

if ( !defined( 'MEDIAWIKI' ) ) {
	exit;
}

final class WikiFlowFarm {
	public const NAME_PATTERN = '/^[a-z][a-z0-9_]{0,63}$/';
	public const SHARED_DB = 'metawiki';
	public const CENTRAL_WIKI = 'metawiki';

	/** Stop: an HTTP status with a short text body on the web, a message and exit 1 on the CLI. */
	public static function fail( int $status, string $message ): never {
		if ( PHP_SAPI === 'cli' || PHP_SAPI === 'phpdbg' ) {
			fwrite( STDERR, "wikiflow: $message\n" );
			exit( 1 );
		}
		if ( !headers_sent() ) {
			http_response_code( $status );
			header( 'Content-Type: text/plain; charset=utf-8' );
			header( 'Cache-Control: no-store' );
		}
		echo $message, "\n";
		exit;
	}

	public static function env( string $name, string $default ): string {
		$value = getenv( $name );
		return ( $value === false || $value === '' ) ? $default : $value;
	}

	/** The database name asked for, validated; fails when none or invalid. */
	public static function requestedWiki(): string {
		if ( defined( 'MW_DB' ) ) {
			$name = (string)MW_DB;
			if ( !preg_match( self::NAME_PATTERN, $name ) ) {
				self::fail( 400, 'invalid wiki name (expected ^[a-z][a-z0-9_]{0,63}$)' );
			}
			return $name;
		}
		if ( PHP_SAPI === 'cli' || PHP_SAPI === 'phpdbg' ) {
			self::fail( 1, 'no wiki given: run maintenance scripts with --wiki=<db> (farm/bin/mwscript)' );
		}
		$host = strtolower( (string)( $_SERVER['HTTP_HOST'] ?? '' ) );
		if ( !preg_match( '/^([^.:]+)\.localhost(?::[0-9]{1,5})?$/', $host, $m )
			|| !preg_match( self::NAME_PATTERN, $m[1] )
		) {
			self::fail( 404, 'No such wiki. Address a wiki as http://<db>.localhost:<port>/' );
		}
		return $m[1];
	}

	public static function connect( string $host, string $user, string $password, string $db, int $port ): mysqli {
		mysqli_report( MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT );
		try {
			$conn = new mysqli( $host, $user, $password, $db, $port );
			$conn->set_charset( 'utf8mb4' );
			return $conn;
		} catch ( mysqli_sql_exception $e ) {
			self::fail( 503, 'The farm database is unavailable: ' . $e->getMessage() );
		}
	}

	/** @return array<int,array<string,mixed>> */
	public static function query( mysqli $conn, string $sql, string $param ): array {
		try {
			$stmt = $conn->prepare( $sql );
			$stmt->bind_param( 's', $param );
			$stmt->execute();
			$rows = $stmt->get_result()->fetch_all( MYSQLI_ASSOC );
			$stmt->close();
			return $rows;
		} catch ( mysqli_sql_exception $e ) {
			self::fail( 503, 'The farm database could not be read: ' . $e->getMessage() );
		}
	}

	/** @return list<string> */
	public static function jsonList( $json ): array {
		if ( $json === null || $json === '' ) {
			return [];
		}
		$value = json_decode( (string)$json, true );
		if ( !is_array( $value ) ) {
			return [];
		}
		return array_values( array_filter( $value, 'is_string' ) );
	}

	/** @return array<int,array<string,mixed>> the settings registry, keyed by nothing */
	public static function registry( string $file ): array {
		$data = json_decode( (string)@file_get_contents( $file ), true );
		if ( !is_array( $data ) || !isset( $data['settings'] ) || !is_array( $data['settings'] ) ) {
			self::fail( 500, "The farm's settings registry $file is missing or not valid JSON" );
		}
		return $data['settings'];
	}

	/**
	 * Whether $value fits the registry entry $def (type, allowed, min, max, format), and the entry
	 * itself is safe to apply: settings/registry.go (Setting.Check, Setting.Protection) has the
	 * same rules, so a value the worker accepts is one applied here and a value written into
	 * mw_settings by anything else is applied only if the worker would have accepted it.
	 */
	public static function valid( array $def, $value ): bool {
		if ( !self::safeEntry( $def ) ) {
			return false;
		}
		$allowed = $def['allowed'] ?? null;
		$format = $def['format'] ?? null;
		switch ( $def['type'] ?? '' ) {
			case 'string':
				return is_string( $value ) && strlen( $value ) <= 1024
					&& ( !is_array( $allowed ) || in_array( $value, $allowed, true ) )
					&& self::fitsFormat( $format, $value );
			case 'bool':
				return is_bool( $value );
			case 'int':
				return is_int( $value )
					&& ( !isset( $def['min'] ) || $value >= $def['min'] )
					&& ( !isset( $def['max'] ) || $value <= $def['max'] );
			case 'list':
				if ( !is_array( $value ) || !array_is_list( $value ) ) {
					return false;
				}
				foreach ( $value as $item ) {
					if ( !is_string( $item ) || ( is_array( $allowed ) && !in_array( $item, $allowed, true ) )
						|| !self::fitsFormat( $format, $item )
					) {
						return false;
					}
				}
				return true;
		}
		return false;
	}

	/**
	 * A value as ManageWiki's form may have stored it, read as the registry's type: integers
	 * arrive as text ("1500"), checkboxes as "1"/"0" or 1/0. Anything else is returned as it is,
	 * for valid() to judge. settings/coerce.go has the same rules.
	 */
	public static function coerce( array $def, $value ) {
		switch ( $def['type'] ?? '' ) {
			case 'int':
				if ( is_string( $value ) && preg_match( '/^(?:0|-?[1-9][0-9]{0,17})$/D', $value ) ) {
					return (int)$value;
				}
				break;
			case 'bool':
				if ( $value === '1' || $value === 'true' || $value === 1 ) {
					return true;
				}
				if ( $value === '0' || $value === 'false' || $value === '' || $value === 0 ) {
					return false;
				}
				break;
		}
		return $value;
	}

	/**
	 * The registry's formats: the expressions of settings/registry.go (PlainTextForbidden,
	 * PlainTextCharRef, AllowedURL), which settings/registry_test.go runs against these. The URL
	 * expression is delimited by a backquote, the one character neither it nor a URL contains.
	 */
	private const PLAIN_TEXT_FORBIDDEN = '/[\x{00}-\x{1F}\x{7F}-\x{9F}\x{200E}\x{200F}\x{2028}-\x{202E}\x{2066}-\x{2069}\x{FEFF}<>\[\]{}]/u';
	private const PLAIN_TEXT_CHAR_REF = '/&(?:#|[A-Za-z][A-Za-z0-9]*;)/u';
	private const URL_CHAR = "[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2}";
	private const ALLOWED_URL = '`^[Hh][Tt][Tt][Pp][Ss]?://'
		. '(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])'
		. '(?::[0-9]{1,5})?'
		. '(?:/(?:' . self::URL_CHAR . '|/)*)?'
		. '(?:\?(?:' . self::URL_CHAR . '|[/?])*)?'
		. '(?:#(?:' . self::URL_CHAR . '|[/?])*)?$`D';

	/** Whether the string $value has the registry format $format (none: any string). */
	private static function fitsFormat( $format, string $value ): bool {
		// preg_match answers false on invalid UTF-8: refused as well.
		return match ( $format ) {
			null => true,
			'plain-text' => preg_match( self::PLAIN_TEXT_FORBIDDEN, $value ) === 0
				&& preg_match( self::PLAIN_TEXT_CHAR_REF, $value ) === 0,
			'url' => $value === '' || preg_match( self::ALLOWED_URL, $value ) === 1,
			default => false,
		};
	}

	/**
	 * Whether a registry entry declares what its value becomes on the wiki and, when that is
	 * markup (html, url, css, js), is restricted or has the format that keeps markup out.
	 */
	private static function safeEntry( array $def ): bool {
		$format = $def['format'] ?? null;
		if ( $format !== null && !in_array( $format, [ 'plain-text', 'url' ], true ) ) {
			return false;
		}
		$restricted = ( $def['restricted'] ?? null ) === true;
		return match ( $def['output'] ?? null ) {
			'config', 'text' => true,
			'html' => $restricted || $format === 'plain-text',
			'url' => $restricted || $format === 'url',
			'css', 'js' => $restricted,
			default => false,
		};
	}
}

$wikiflowRepo = dirname( __DIR__, 2 );
$wikiflowState = WikiFlowFarm::env( 'WIKIFLOW_STATE_DIR', "$wikiflowRepo/.stack" );
$wikiflowCentralDB = WikiFlowFarm::env( 'WIKIFLOW_CENTRAL_DB', 'wikifarm' );
$wikiflowPort = WikiFlowFarm::env( 'WIKIFLOW_MW_PORT', '8080' );
$wikiflowIsCli = PHP_SAPI === 'cli' || PHP_SAPI === 'phpdbg';

## Database
$wgDBtype = 'mysql';
$wikiflowDBHost = WikiFlowFarm::env( 'WIKIFLOW_DATABASE_HOST', '127.0.0.1' );
$wikiflowDBPort = (int)WikiFlowFarm::env( 'WIKIFLOW_DB_PORT', '3306' );
// MediaWiki's MySQL driver takes "host:port"; the default port keeps the bare host.
$wgDBserver = $wikiflowDBPort === 3306 ? $wikiflowDBHost : "$wikiflowDBHost:$wikiflowDBPort";
$wgDBuser = WikiFlowFarm::env( 'WIKIFLOW_DATABASE_USER', 'wikiflow' );
$wgDBpassword = getenv( 'WIKIFLOW_DATABASE_PASSWORD' );
if ( $wgDBpassword === false || $wgDBpassword === '' ) {
	$wikiflowFile = WikiFlowFarm::env( 'WIKIFLOW_DATABASE_PASSWORD_FILE', "$wikiflowState/secrets/db-password" );
	$wgDBpassword = trim( (string)@file_get_contents( $wikiflowFile ) );
	if ( $wgDBpassword === '' ) {
		WikiFlowFarm::fail( 503, "No database password: set WIKIFLOW_DATABASE_PASSWORD or run farm/bin/stack up" );
	}
}
$wgDBprefix = '';
$wgDBTableOptions = 'ENGINE=InnoDB, DEFAULT CHARSET=binary';
// Where CreateWiki and ManageWiki find their tables when a farm loads them: cw_wikis and mw_*
// in the global database, the requests in the central wiki's own (farm/sql/*.sql).
$wgVirtualDomainsMapping['virtual-createwiki'] = [ 'db' => $wikiflowCentralDB ];
$wgVirtualDomainsMapping['virtual-managewiki'] = [ 'db' => $wikiflowCentralDB ];
$wgVirtualDomainsMapping['virtual-createwiki-central'] = [ 'db' => WikiFlowFarm::CENTRAL_WIKI ];
$wgCreateWikiDatabase = $wikiflowCentralDB; // CreateWiki of MediaWiki 1.39's time
$wgCreateWikiGlobalWiki = WikiFlowFarm::CENTRAL_WIKI;
$wgCreateWikiDatabaseSuffix = 'wiki';
$wgCreateWikiSubdomain = 'localhost';

## Which wiki
$wikiflowDB = WikiFlowFarm::requestedWiki();
$wikiflowConn = WikiFlowFarm::connect( $wikiflowDBHost, $wgDBuser, $wgDBpassword, $wikiflowCentralDB, $wikiflowDBPort );
$wikiflowRows = WikiFlowFarm::query( $wikiflowConn,
	'SELECT wiki_sitename, wiki_language, wiki_private, wiki_closed, wiki_closed_reason, wiki_deleted, wiki_locked'
	. ' FROM cw_wikis WHERE wiki_dbname = ?', $wikiflowDB );
if ( !$wikiflowRows ) {
	WikiFlowFarm::fail( 404, "No such wiki: $wikiflowDB" );
}
$wikiflowWiki = $wikiflowRows[0];
if ( (int)$wikiflowWiki['wiki_deleted'] === 1 && !$wikiflowIsCli ) {
	// Operators still reach a deleted wiki through maintenance scripts.
	WikiFlowFarm::fail( 410, 'This wiki has been deleted' );
}
$wikiflowPermRows = WikiFlowFarm::query( $wikiflowConn,
	'SELECT perm_group, perm_permissions, perm_addgroups, perm_removegroups, perm_addgroupstoself,'
	. ' perm_removegroupsfromself, perm_autopromote FROM mw_permissions WHERE perm_dbname = ? ORDER BY perm_group',
	$wikiflowDB );
$wikiflowSettingsRows = WikiFlowFarm::query( $wikiflowConn,
	'SELECT s_settings, s_extensions FROM mw_settings WHERE s_dbname = ?', $wikiflowDB );
$wikiflowNsRows = WikiFlowFarm::query( $wikiflowConn,
	'SELECT ns_namespace_id, ns_namespace_name, ns_searchable, ns_subpages, ns_content, ns_content_model,'
	. ' ns_protection, ns_aliases FROM mw_namespaces WHERE ns_dbname = ? ORDER BY ns_namespace_id',
	$wikiflowDB );
$wikiflowConn->close();

$wgDBname = $wikiflowDB;
$wgSitename = (string)$wikiflowWiki['wiki_sitename'];
$wgLanguageCode = preg_match( '/^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$/', (string)$wikiflowWiki['wiki_language'] )
	? (string)$wikiflowWiki['wiki_language'] : 'en';

## Shared accounts: one account for the whole farm, groups per wiki (user_groups is not shared).
## 'actor' is shared too (MediaWiki's installer does that for shared user tables), so a user has
## the same actor id on every wiki.
$wgSharedDB = WikiFlowFarm::SHARED_DB;
$wgSharedPrefix = '';
$wgSharedTables = [ 'user', 'user_properties', 'user_autocreate_serial', 'actor' ];
## Bot passwords live beside the shared accounts, so one bot password logs in on every wiki
## (each wiki's own bot_passwords table would know only the passwords made there).
$wgBotPasswordsDatabase = WikiFlowFarm::SHARED_DB;

## Addresses
$wgServer = "http://$wikiflowDB.localhost:$wikiflowPort";
$wgCanonicalServer = $wgServer;
$wgScriptPath = '';
$wgResourceBasePath = $wgScriptPath;
$wgUsePathInfo = true;

## Files the stack owns (Debian's PlatformSettings points at /var/cache and /var/log)
$wgCacheDirectory = "$wikiflowState/cache";
$wgDBerrorLog = "$wikiflowState/logs/mw-dberror.log";
$wgDebugLogGroups['exception'] = "$wikiflowState/logs/mw-exception.log";
$wgDebugLogGroups['error'] = "$wikiflowState/logs/mw-error.log";
$wgDebugLogGroups['fatal'] = "$wikiflowState/logs/mw-fatal.log";
$wgUploadDirectory = "$wikiflowState/uploads/$wikiflowDB";
$wgUploadPath = "$wgScriptPath/img_auth.php";
$wgEnableUploads = false;
$wgShowExceptionDetails = true;

## Caches: no object cache shared between web workers and the CLI, so changes made by
## maintenance scripts or directly in the database show at once. Sessions live in the database.
$wgMainCacheType = CACHE_NONE;
$wgSessionCacheType = CACHE_DB;
$wgParserCacheType = CACHE_DB;
$wgMessageCacheType = CACHE_NONE;

## Secrets
$wgSecretKey = WikiFlowFarm::env( 'WIKIFLOW_MW_SECRET_KEY', '' );
if ( $wgSecretKey === '' ) {
	$wgSecretKey = trim( (string)@file_get_contents( "$wikiflowState/secrets/mw-secret-key" ) );
}
if ( $wgSecretKey === '' ) {
	WikiFlowFarm::fail( 503, 'No MediaWiki secret key: run farm/bin/stack up' );
}
$wgAuthenticationTokenVersion = '1';

## Mail: the farm sends none from MediaWiki.
$wgEmergencyContact = 'farm-admin@wikiflow.localhost';
$wgPasswordSender = 'no-reply@wikiflow.localhost';
$wgEnableEmail = false;
$wgEnableUserEmail = false;
$wgEnotifUserTalk = false;
$wgEnotifWatchlist = false;

## Skins shipped by Debian's mediawiki package
wfLoadSkin( 'Vector' );
wfLoadSkin( 'MonoBook' );
wfLoadSkin( 'Timeless' );
wfLoadSkin( 'MinervaNeue' );

## WikiFlow's extension (farm/extensions/WikiFlow): Special:Processes shows the wiki's processes
## and sends requests and decisions to the worker's signed hook endpoint (docs/hook.md).
##   WIKIFLOW_HOOK_URL     the endpoint (default http://127.0.0.1:8092)
##   WIKIFLOW_HOOK_SECRET  the shared secret itself (default: read from <state>/secrets/hook-secret)
wfLoadExtension( 'WikiFlow', "$wikiflowRepo/farm/extensions/WikiFlow/extension.json" );
$wgWikiFlowHookURL = WikiFlowFarm::env( 'WIKIFLOW_HOOK_URL', 'http://127.0.0.1:8092' );
$wgWikiFlowHookSecret = WikiFlowFarm::env( 'WIKIFLOW_HOOK_SECRET', '' );
$wgWikiFlowHookSecretFile = "$wikiflowState/secrets/hook-secret";
$wgWikiFlowTemporalUIURL = 'http://127.0.0.1:' . WikiFlowFarm::env( 'WIKIFLOW_UI_PORT', '8233' );
$wgWikiFlowSettingsRegistry = "$wikiflowRepo/farm/settings.json";
$wgWikiFlowExtensionRegistry = "$wikiflowRepo/farm/extensions.json";
$wgWikiFlowCentralWiki = WikiFlowFarm::CENTRAL_WIKI;

## Bot passwords may change user rights (no core grant covers 'userrights').
$wgGrantPermissions['userrights']['userrights'] = true;

## State of the wiki
if ( (int)$wikiflowWiki['wiki_closed'] === 1 ) {
	$wikiflowReason = trim( (string)( $wikiflowWiki['wiki_closed_reason'] ?? '' ) );
	$wgReadOnly = 'This wiki is closed' . ( $wikiflowReason !== '' ? ": $wikiflowReason" : '.' );
}

## Rights. Baseline as Miraheze has it, always applied: stewards and wiki creators on the central
## wiki, ManageWiki rights for bureaucrats everywhere.
$wgAvailableRights = array_merge( $wgAvailableRights ?? [], [
	'managewiki-core',
	'managewiki-settings',
	'managewiki-extensions',
	'managewiki-permissions',
	'managewiki-namespaces',
	'managewiki-restricted',
	'createwiki',
] );
$wikiflowBaselineRights = [
	'bureaucrat' => [ 'managewiki-core' => true, 'managewiki-settings' => true, 'managewiki-extensions' => true ],
];
if ( $wikiflowDB === WikiFlowFarm::CENTRAL_WIKI ) {
	$wikiflowBaselineRights['steward'] = [
		'managewiki-restricted' => true,
		'managewiki-core' => true,
		'managewiki-settings' => true,
		'managewiki-extensions' => true,
		'userrights' => true,
	];
	$wikiflowBaselineRights['wikicreator'] = [ 'createwiki' => true ];
}

## The wiki's groups from mw_permissions, as ManageWiki applies them: a group with a row gets
## exactly the row's rights (replacing MediaWiki's defaults for that group) and its row's
## add/remove lists; groups without a row keep MediaWiki's defaults.
foreach ( $wikiflowPermRows as $wikiflowRow ) {
	$wikiflowGroup = (string)$wikiflowRow['perm_group'];
	$wgGroupPermissions[$wikiflowGroup] = array_fill_keys(
		WikiFlowFarm::jsonList( $wikiflowRow['perm_permissions'] ), true );
	$wgAddGroups[$wikiflowGroup] = WikiFlowFarm::jsonList( $wikiflowRow['perm_addgroups'] );
	$wgRemoveGroups[$wikiflowGroup] = WikiFlowFarm::jsonList( $wikiflowRow['perm_removegroups'] );
	$wgGroupsAddToSelf[$wikiflowGroup] = WikiFlowFarm::jsonList( $wikiflowRow['perm_addgroupstoself'] );
	$wgGroupsRemoveFromSelf[$wikiflowGroup] = WikiFlowFarm::jsonList( $wikiflowRow['perm_removegroupsfromself'] );
	unset( $wgAutopromote[$wikiflowGroup], $wgAutopromoteOnce['onEdit'][$wikiflowGroup] );
	$wikiflowPromote = $wikiflowRow['perm_autopromote'] === null
		? null : json_decode( (string)$wikiflowRow['perm_autopromote'], true );
	if ( is_array( $wikiflowPromote ) && $wikiflowPromote !== [] ) {
		$wikiflowOnce = array_search( 'once', $wikiflowPromote, true );
		if ( $wikiflowOnce !== false ) {
			unset( $wikiflowPromote[$wikiflowOnce] );
			$wgAutopromoteOnce['onEdit'][$wikiflowGroup] = array_values( $wikiflowPromote );
		} else {
			$wgAutopromote[$wikiflowGroup] = $wikiflowPromote;
		}
	}
}
foreach ( $wikiflowBaselineRights as $wikiflowGroup => $wikiflowRights ) {
	foreach ( $wikiflowRights as $wikiflowRight => $wikiflowOn ) {
		$wgGroupPermissions[$wikiflowGroup][$wikiflowRight] = $wikiflowOn;
	}
}

## Private wikis: only members (and sysops) read. Accounts are shared by the whole farm, so
## 'user' loses 'read' as well.
if ( (int)$wikiflowWiki['wiki_private'] === 1 ) {
	$wgGroupPermissions['*']['read'] = false;
	$wgGroupPermissions['user']['read'] = false;
	$wgGroupPermissions['member']['read'] = true;
	$wgGroupPermissions['sysop']['read'] = true;
} elseif ( isset( $wgGroupPermissions['*'] ) && !isset( $wgGroupPermissions['*']['read'] ) ) {
	// As ManageWiki's safety catch: a public wiki is readable.
	$wgGroupPermissions['*']['read'] = true;
}

## The worker's service account (farm/bin/stack creates it; mediawiki.service_user in the worker's
## configuration). It may read every wiki, private ones included, and nothing else. Its writes (log
## entries, a requester's groups, a main page) go through the WikiFlow extension's
## action=wikiflowwrite, which lets in the names listed here and nobody else: no right is needed.
## - Groups are per wiki, so like a CentralAuth global group the farm-wide group 'wikiflow-service'
##   is added to the listed accounts on every wiki by a hook. It is set after mw_permissions and the
##   private-wiki block so neither changes it, and implicit so nobody can grant it by Special:UserRights.
## - Whatever else a wiki gives every account ('user' may edit), the account keeps only 'read'.
## - Its bot password has the grant 'wikiflow-service'. MediaWiki limits the rights list=users reports
##   for *any* user to the grants of the session asking, so the grant covers every right the worker's
##   checks read (the farm's rights); the account holds none of them, so its session still only reads.
$wgWikiFlowServiceAccounts = [ 'WikiFlow' ];
$wgGroupPermissions['wikiflow-service'] = [ 'read' => true ];
$wgImplicitGroups[] = 'wikiflow-service';
$wgGrantPermissions['wikiflow-service'] = array_fill_keys( array_merge( [ 'read' ], $wgAvailableRights ), true );
$wgHooks['UserEffectiveGroups'][] = static function ( $user, &$groups ) {
	if ( $user->isRegistered()
		&& in_array( $user->getName(), $GLOBALS['wgWikiFlowServiceAccounts'] ?? [], true )
		&& !in_array( 'wikiflow-service', $groups, true )
	) {
		$groups[] = 'wikiflow-service';
	}
};
$wgHooks['UserGetRightsRemove'][] = static function ( $user, &$rights ) {
	if ( $user->isRegistered() && in_array( $user->getName(), $GLOBALS['wgWikiFlowServiceAccounts'] ?? [], true ) ) {
		$rights = array_values( array_intersect( $rights, [ 'read' ] ) );
	}
};
## A closed wiki is read-only, and MediaWiki refuses API logins on a read-only wiki (a login writes
## its session). The service account's own login is let through so that the worker can still read a
## closed private wiki (closing a wiki checks that it answers read-only). Such a request runs only
## the login module, so nothing else is written.
if ( is_string( $wgReadOnly ?? null ) && defined( 'MW_API' ) && ( $_SERVER['REQUEST_METHOD'] ?? '' ) === 'POST'
	&& ( $_POST['action'] ?? $_GET['action'] ?? '' ) === 'login'
	&& in_array( explode( '@', (string)( $_POST['lgname'] ?? '' ), 2 )[0], $wgWikiFlowServiceAccounts, true )
) {
	$wgReadOnly = null;
}

## Namespaces from mw_namespaces (core ones keep their canonical names).
foreach ( $wikiflowNsRows as $wikiflowNs ) {
	$wikiflowId = (int)$wikiflowNs['ns_namespace_id'];
	$wikiflowName = str_replace( ' ', '_', (string)$wikiflowNs['ns_namespace_name'] );
	$wgNamespacesToBeSearchedDefault[$wikiflowId] = (bool)$wikiflowNs['ns_searchable'];
	$wgNamespacesWithSubpages[$wikiflowId] = (bool)$wikiflowNs['ns_subpages'];
	if ( $wikiflowNs['ns_content'] && !in_array( $wikiflowId, $wgContentNamespaces, true ) ) {
		$wgContentNamespaces[] = $wikiflowId;
	}
	if ( $wikiflowNs['ns_content_model'] !== '' && $wikiflowNs['ns_content_model'] !== 'wikitext' ) {
		$wgNamespaceContentModels[$wikiflowId] = (string)$wikiflowNs['ns_content_model'];
	}
	if ( $wikiflowNs['ns_protection'] !== '' ) {
		$wgNamespaceProtection[$wikiflowId] = [ (string)$wikiflowNs['ns_protection'] ];
	}
	foreach ( WikiFlowFarm::jsonList( $wikiflowNs['ns_aliases'] ) as $wikiflowAlias ) {
		$wgNamespaceAliases[str_replace( ' ', '_', $wikiflowAlias )] = $wikiflowId;
	}
	if ( $wikiflowId === NS_PROJECT && $wikiflowName !== 'Project' ) {
		$wgMetaNamespace = $wikiflowName;
	} elseif ( $wikiflowId === NS_PROJECT_TALK && $wikiflowName !== 'Project_talk' ) {
		$wgMetaNamespaceTalk = $wikiflowName;
	} elseif ( $wikiflowId >= 100 && $wikiflowName !== '' ) {
		$wgExtraNamespaces[$wikiflowId] = $wikiflowName;
	}
}

## Extensions: the wiki's mw_settings.s_extensions, as ManageWiki keeps them, loaded only when the
## farm's extension registry (farm/extensions.json) lists them. The worker adds a name there only
## after the extension's tables and rights are in place (README, "Extensions").
$wikiflowExtensionRegistry = json_decode( (string)@file_get_contents( dirname( __DIR__ ) . '/extensions.json' ), true );
if ( !is_array( $wikiflowExtensionRegistry['extensions'] ?? null ) ) {
	WikiFlowFarm::fail( 500, "The farm's extension registry farm/extensions.json is missing or not valid JSON" );
}
$wikiflowExtensions = $wikiflowSettingsRows
	? WikiFlowFarm::jsonList( $wikiflowSettingsRows[0]['s_extensions'] ?? null ) : [];
foreach ( $wikiflowExtensions as $wikiflowExtension ) {
	if ( isset( $wikiflowExtensionRegistry['extensions'][$wikiflowExtension] ) ) {
		wfLoadExtension( $wikiflowExtension );
	}
}

## Settings: the registry's defaults, then the wiki's values from mw_settings, only for names the
## registry lists and only values that fit their definition.
$wikiflowRegistry = WikiFlowFarm::registry( dirname( __DIR__ ) . '/settings.json' );
foreach ( $wikiflowRegistry as $wikiflowDef ) {
	if ( is_array( $wikiflowDef ) && isset( $wikiflowDef['name'] ) && array_key_exists( 'default', $wikiflowDef )
		&& WikiFlowFarm::valid( $wikiflowDef, $wikiflowDef['default'] )
	) {
		$GLOBALS[$wikiflowDef['name']] = $wikiflowDef['default'];
	}
}
$wikiflowSettings = $wikiflowSettingsRows
	? json_decode( (string)( $wikiflowSettingsRows[0]['s_settings'] ?? '{}' ), true ) : [];
if ( is_array( $wikiflowSettings ) ) {
	foreach ( $wikiflowRegistry as $wikiflowDef ) {
		$wikiflowName = is_array( $wikiflowDef ) ? (string)( $wikiflowDef['name'] ?? '' ) : '';
		if ( $wikiflowName === '' || !array_key_exists( $wikiflowName, $wikiflowSettings ) ) {
			continue;
		}
		$wikiflowValue = WikiFlowFarm::coerce( $wikiflowDef, $wikiflowSettings[$wikiflowName] );
		if ( WikiFlowFarm::valid( $wikiflowDef, $wikiflowValue ) ) {
			$GLOBALS[$wikiflowName] = $wikiflowValue;
		}
	}
}
## Plain text that MediaWiki prints as raw HTML ("output": "html", "format": "plain-text") reaches
## it HTML-escaped, so that it shows as the text it is: valid() refused markup already, this is the
## second line if anything slips past it. One exception follows Skin::getCopyright: with
## $wgRightsUrl set and no $wgRightsPage, Linker::makeExternalLink escapes $wgRightsText itself,
## and escaping it here as well would show "&amp;" for "&".
foreach ( $wikiflowRegistry as $wikiflowDef ) {
	$wikiflowName = is_array( $wikiflowDef ) ? (string)( $wikiflowDef['name'] ?? '' ) : '';
	if ( $wikiflowName === '' || ( $wikiflowDef['output'] ?? null ) !== 'html'
		|| ( $wikiflowDef['format'] ?? null ) !== 'plain-text'
		|| ( $wikiflowName === 'wgRightsText' && (string)( $wgRightsUrl ?? '' ) !== ''
			&& (string)( $wgRightsPage ?? '' ) === '' )
	) {
		continue;
	}
	if ( is_string( $GLOBALS[$wikiflowName] ?? null ) ) {
		$GLOBALS[$wikiflowName] = htmlspecialchars( $GLOBALS[$wikiflowName], ENT_QUOTES, 'UTF-8' );
	} elseif ( is_array( $GLOBALS[$wikiflowName] ?? null ) ) {
		$GLOBALS[$wikiflowName] = array_map( static fn ( $item ) => is_string( $item )
			? htmlspecialchars( $item, ENT_QUOTES, 'UTF-8' ) : $item, $GLOBALS[$wikiflowName] );
	}
}

unset( $wikiflowRows, $wikiflowPermRows, $wikiflowSettingsRows, $wikiflowNsRows, $wikiflowRow, $wikiflowGroup,
	$wikiflowRights, $wikiflowRight, $wikiflowOn, $wikiflowPromote, $wikiflowOnce, $wikiflowNs, $wikiflowId,
	$wikiflowName, $wikiflowAlias, $wikiflowDef, $wikiflowRegistry, $wikiflowSettings, $wikiflowReason, $wikiflowConn,
	$wikiflowFile, $wikiflowValue );
