<?php
/**
 * Writes one Special:Log entry through MediaWiki (ManualLogEntry: inserted, then published to
 * recent changes and the farm's RC feeds), at most once per key.
 *
 *   farm/bin/mwscript extensions/WikiFlow/maintenance/addLogEntry --wiki=metawiki \
 *     --type=farmer --action=requestapprove --performer=SomeUser \
 *     --target='Special:Processes/request-wiki:newwiki' --comment='fine' \
 *     --params='{"4::id":"#12"}' --key='request-wiki:newwiki/12/requestapprove/2026-01-02T03:04:05Z'
 *
 * Idempotent: the key is stored as a log_search row (ls_field "wikiflow_key") of the entry. That
 * table is MediaWiki's own index of searchable entry relations (primary key ls_field, ls_value,
 * ls_log_id), so finding a key is one index lookup, where a key in log_params (a serialized blob)
 * could only be found by scanning every entry of the type; readers never see it; and it is
 * written in the same transaction as the entry. A change tag would have to be defined once per
 * key. Run again with the same key, the script adds nothing; it only publishes the entry to
 * recent changes if an earlier run stopped between the insert and the publication.
 *
 * --central writes the entry on the farm's central wiki ($wgWikiFlowCentralWiki) whichever wiki
 * the script was started for: callers that do not know which wiki that is (a step of a new or
 * deleted wiki) let the farm's configuration say.
 *
 * --approver-of=<a wiki request's page> makes the performer that request's latest approver in
 * this wiki's farmer log, when it has one: a creation is logged under the wiki creator who
 * approved it, as CreateWiki does, although the step that logs it was not told who that was.
 *
 * Prints one JSON line: {"wiki":..., "logid":..., "performer":..., "created":bool, "published":bool}.
 * Exit codes: 0 written (or already there), 2 refused (the same input will never succeed: an
 * unknown type or action, a performer with no account, an invalid target, timestamp or params),
 * anything else a failure worth retrying (the database, a lock held too long).
 */

namespace MediaWiki\Extension\WikiFlow\Maintenance;

use DeferredUpdates;
use ExtensionRegistry;
use MediaWiki\Extension\WikiFlow\FarmLog;
use MediaWiki\MediaWikiServices;
use Maintenance;
use ManualLogEntry;
use Title;

$IP = getenv( 'MW_INSTALL_PATH' );
if ( $IP === false ) {
	// The extension's usual place, extensions/WikiFlow/maintenance under MediaWiki's folder.
	$IP = __DIR__ . '/../../..';
}
require_once "$IP/maintenance/Maintenance.php";

class AddLogEntry extends Maintenance {
	/** The log_search field that holds the key. */
	public const KEY_FIELD = 'wikiflow_key';
	/** Exit code of input that can never be logged. */
	private const REFUSED = 2;
	/** ls_value is VARBINARY(255). */
	private const MAX_KEY_BYTES = 255;

	private const OPTIONS = [ 'type', 'action', 'performer', 'target', 'comment', 'params', 'key', 'timestamp',
		'approver-of' ];
	/** Entries on a request's page after which its approvals no longer lead to a creation. */
	private const REQUEST_ENDED = [ 'create-failure', 'requestwithdraw', 'requestabandon' ];

	public function __construct() {
		parent::__construct();
		$this->addDescription( 'Write one Special:Log entry (inserted and published), at most once per --key.' );
		$this->addOption( 'type', 'Log type (farmer, managewiki)', true, true );
		$this->addOption( 'action', 'Log action (requestapprove, createwiki, settings, ...)', true, true );
		$this->addOption( 'performer', 'Who acted: an existing account, by any spelling MediaWiki accepts', true, true );
		$this->addOption( 'target', 'Target page, e.g. Special:Processes/request-wiki:newwiki', true, true );
		$this->addOption( 'comment', 'The reason the performer gave', false, true );
		$this->addOption( 'params', 'Log parameters as a JSON object, e.g. {"4::wiki":"newwiki"}', false, true );
		$this->addOption( 'key', 'Idempotency key: an entry with this key is written once', true, true );
		$this->addOption( 'timestamp', 'When it happened (any MediaWiki timestamp format); default now', false, true );
		$this->addOption( 'central', 'Write on the central wiki ($wgWikiFlowCentralWiki)' );
		$this->addOption( 'approver-of', 'A wiki request\'s page: the performer is its latest approver '
			. '(farmer/requestapprove since its farmer/requestwiki) when it has one, else --performer', false, true );
	}

	public function execute() {
		if ( !ExtensionRegistry::getInstance()->isLoaded( 'WikiFlow' ) ) {
			$this->fatalError( 'the WikiFlow extension is not loaded on this wiki', self::REFUSED );
		}
		if ( $this->hasOption( 'central' ) ) {
			$central = (string)$this->getConfig()->get( 'WikiFlowCentralWiki' );
			if ( $central !== $this->getConfig()->get( 'DBname' ) ) {
				exit( $this->runOn( $central ) );
			}
		}
		$type = (string)$this->getOption( 'type' );
		$action = (string)$this->getOption( 'action' );
		if ( !FarmLog::isRegistered( $type, $action ) ) {
			$this->fatalError( "the log action $type/$action is not registered on this wiki", self::REFUSED );
		}
		$services = MediaWikiServices::getInstance();
		$name = (string)$this->getOption( 'performer' );
		$performer = $services->getUserFactory()->newFromName( $name );
		if ( !$performer ) {
			$this->fatalError( "\"$name\" is not a valid user name", self::REFUSED );
		}
		if ( !$performer->isRegistered() ) {
			$this->fatalError( "\"$name\" has no account on this farm", self::REFUSED );
		}
		if ( $this->hasOption( 'approver-of' ) ) {
			$request = Title::newFromText( (string)$this->getOption( 'approver-of' ) );
			if ( !$request ) {
				$this->fatalError( 'invalid --approver-of page: ' . $this->getOption( 'approver-of' ), self::REFUSED );
			}
			$approver = $this->latestApprover( $request );
			if ( $approver !== null ) {
				$performer = $services->getUserFactory()->newFromName( $approver ) ?? $performer;
			}
		}
		$target = Title::newFromText( (string)$this->getOption( 'target' ) );
		if ( !$target ) {
			$this->fatalError( 'invalid target page: ' . $this->getOption( 'target' ), self::REFUSED );
		}
		$params = [];
		if ( $this->hasOption( 'params' ) ) {
			$params = json_decode( (string)$this->getOption( 'params' ), true );
			if ( !is_array( $params ) || ( $params !== [] && array_is_list( $params ) ) ) {
				$this->fatalError( '--params must be a JSON object', self::REFUSED );
			}
		}
		$key = (string)$this->getOption( 'key' );
		if ( trim( $key ) === '' ) {
			$this->fatalError( '--key must not be empty', self::REFUSED );
		}
		$keyValue = strlen( $key ) > self::MAX_KEY_BYTES ? 'sha1:' . sha1( $key ) : $key;

		$entry = new ManualLogEntry( $type, $action );
		$entry->setPerformer( $performer );
		$entry->setTarget( $target );
		$entry->setComment( (string)$this->getOption( 'comment', '' ) );
		$entry->setParameters( $params );
		$entry->setRelations( [ self::KEY_FIELD => $keyValue ] );
		if ( $this->hasOption( 'timestamp' ) ) {
			$ts = wfTimestamp( TS_MW, (string)$this->getOption( 'timestamp' ) );
			if ( $ts === false ) {
				$this->fatalError( 'invalid --timestamp: ' . $this->getOption( 'timestamp' ), self::REFUSED );
			}
			$entry->setTimestamp( $ts );
		}

		$dbw = $this->getDB( DB_PRIMARY );
		// Two runs with one key at once (a retry started while a timed-out attempt still runs)
		// must not both find no entry and both insert one.
		$lock = 'wikiflow-log-' . sha1( $keyValue );
		if ( !$dbw->lock( $lock, __METHOD__, 30 ) ) {
			$this->fatalError( "another run holds the lock of key $key" );
		}
		try {
			$id = $dbw->selectField( 'log_search', 'ls_log_id',
				[ 'ls_field' => self::KEY_FIELD, 'ls_value' => $keyValue ], __METHOD__ );
			$created = false;
			if ( $id === false ) {
				// The entry, its comment and its key row commit together or not at all.
				$dbw->startAtomic( __METHOD__ );
				$id = $entry->insert( $dbw );
				$dbw->endAtomic( __METHOD__ );
				$created = true;
				$entry->publish( $id );
			} else {
				$id = (int)$id;
				$this->republishIfMissing( $entry, $id );
			}
			DeferredUpdates::doUpdates();
			$published = $this->inRecentChanges( $id );
		} finally {
			$dbw->unlock( $lock, __METHOD__ );
		}
		$this->output( json_encode( [
			'wiki' => $this->getConfig()->get( 'DBname' ),
			'logid' => (int)$id,
			'performer' => $performer->getName(),
			'created' => $created,
			'published' => $published,
		] ) . "\n" );
		if ( $created && !$published && !( new \LogPage( $type ) )->isRestricted() ) {
			// Inserted but not in recent changes: a rerun with the key publishes it.
			$this->fatalError( "log entry $id was written but not published to recent changes" );
		}
	}

	/**
	 * An entry an earlier run inserted but did not publish (it stopped in between) is published
	 * with its own time, unless recent changes would have expired it anyway.
	 */
	private function republishIfMissing( ManualLogEntry $entry, int $id ): void {
		if ( $this->inRecentChanges( $id ) ) {
			return;
		}
		$ts = $this->getDB( DB_PRIMARY )->selectField( 'logging', 'log_timestamp', [ 'log_id' => $id ], __METHOD__ );
		if ( $ts === false ) {
			return;
		}
		$age = (int)wfTimestamp( TS_UNIX ) - (int)wfTimestamp( TS_UNIX, $ts );
		if ( $age < (int)$this->getConfig()->get( 'RCMaxAge' ) ) {
			$entry->setTimestamp( wfTimestamp( TS_MW, $ts ) );
			$entry->publish( $id );
		}
	}

	/**
	 * The name of whoever approved the wiki request whose page is $request last, as this wiki's
	 * farmer log says: the newest farmer/requestapprove entry since the newest farmer/requestwiki
	 * entry of that page, unless the request ended without a wiki since (withdrawn, abandoned,
	 * its creation failed). Null when there is none.
	 */
	private function latestApprover( Title $request ): ?string {
		$rows = $this->getDB( DB_PRIMARY )->select(
			[ 'logging', 'actor' ],
			[ 'log_action', 'actor_name' ],
			[ 'log_type' => 'farmer', 'log_namespace' => $request->getNamespace(), 'log_title' => $request->getDBkey() ],
			__METHOD__,
			[ 'ORDER BY' => [ 'log_timestamp DESC', 'log_id DESC' ], 'LIMIT' => 500 ],
			[ 'actor' => [ 'JOIN', 'actor_id = log_actor' ] ]
		);
		$approver = null;
		foreach ( $rows as $row ) {
			if ( $row->log_action === 'requestwiki' ) {
				return $approver;
			}
			if ( in_array( $row->log_action, self::REQUEST_ENDED, true ) ) {
				return null;
			}
			if ( $row->log_action === 'requestapprove' && $approver === null ) {
				$approver = (string)$row->actor_name;
			}
		}
		return $approver;
	}

	private function inRecentChanges( int $id ): bool {
		return $this->getDB( DB_PRIMARY )->selectField( 'recentchanges', 'rc_id', [ 'rc_logid' => $id ], __METHOD__ ) !== false;
	}

	/** Runs this script again for $wiki with the same options; returns its exit code. */
	private function runOn( string $wiki ): int {
		if ( !preg_match( '/^[a-z][a-z0-9_]{0,63}$/', $wiki ) ) {
			$this->fatalError( "invalid \$wgWikiFlowCentralWiki: $wiki", self::REFUSED );
		}
		$cmd = [ PHP_BINARY, __FILE__, "--wiki=$wiki" ];
		foreach ( self::OPTIONS as $name ) {
			if ( $this->hasOption( $name ) ) {
				$cmd[] = "--$name=" . $this->getOption( $name );
			}
		}
		$proc = proc_open( $cmd, [ 0 => STDIN, 1 => STDOUT, 2 => STDERR ], $pipes );
		if ( !is_resource( $proc ) ) {
			$this->fatalError( "could not run the script for $wiki" );
		}
		return proc_close( $proc );
	}
}

$maintClass = AddLogEntry::class;
require_once RUN_MAINTENANCE_IF_MAIN;
