<?php

namespace MediaWiki\Extension\WikiFlow;

use Config;
use DeferredUpdates;
use LogPage;
use ManualLogEntry;
use MediaWiki\MediaWikiServices;
use MediaWiki\User\UserFactory;
use Title;
use Wikimedia\Rdbms\IDatabase;
use Wikimedia\Rdbms\ILBFactory;
use Wikimedia\ScopedCallback;

/**
 * Writes one Special:Log entry through MediaWiki (ManualLogEntry: inserted, then published to
 * recent changes and the farm's RC feeds), at most once per key, on the wiki it runs for.
 *
 * Both ways of writing an entry use it: the API module (action=wikiflowwrite&do=log, the worker's
 * way) and maintenance/addLogEntry.php (an operator re-running an entry the worker skipped). The
 * options are the script's: type, action, performer, target, comment, params (a JSON object), key,
 * timestamp and approver-of; a missing one is simply not given.
 *
 * Idempotent: the key is stored as a log_search row (ls_field "wikiflow_key") of the entry. That
 * table is MediaWiki's own index of searchable entry relations (primary key ls_field, ls_value,
 * ls_log_id), so finding a key is one index lookup, where a key in log_params (a serialized blob)
 * could only be found by scanning every entry of the type; readers never see it; and it is
 * written in the same transaction as the entry. A change tag would have to be defined once per
 * key. Written again with the same key, nothing is added; the entry is only published to recent
 * changes if an earlier write stopped between the insert and the publication.
 *
 * approver-of=<a wiki request's page> makes the performer that request's latest approver in this
 * wiki's farmer log, when it has one: a creation is logged under the wiki creator who approved
 * it, as CreateWiki does, although the step that logs it was not told who that was.
 *
 * The result is {"wiki":..., "logid":..., "performer":..., "created":bool, "published":bool}.
 * FarmLogError says why there is none: input that will never be logged (an unknown type or
 * action, a performer with no account, an invalid target, timestamp or params), or a failure
 * worth another try with the same key (the key's lock held too long, an entry written but not
 * published); the database failing throws MediaWiki's own exceptions.
 */
class FarmLogWriter {
	/** The log_search field that holds the key. */
	public const KEY_FIELD = 'wikiflow_key';
	/** ls_value is VARBINARY(255). */
	private const MAX_KEY_BYTES = 255;
	/** Seconds to wait for another write of the same key. */
	private const LOCK_TIMEOUT = 30;
	/** Entries on a request's page after which its approvals no longer lead to a creation. */
	private const REQUEST_ENDED = [ 'create-failure', 'requestwithdraw', 'requestabandon' ];

	/** @var ILBFactory */
	private $lbFactory;
	/** @var UserFactory */
	private $userFactory;
	/** @var Config */
	private $config;

	public function __construct( ILBFactory $lbFactory, UserFactory $userFactory, Config $config ) {
		$this->lbFactory = $lbFactory;
		$this->userFactory = $userFactory;
		$this->config = $config;
	}

	public static function newFromGlobalState(): self {
		$services = MediaWikiServices::getInstance();
		return new self( $services->getDBLoadBalancerFactory(), $services->getUserFactory(), $services->getMainConfig() );
	}

	/**
	 * @param array<string,string> $opts Options by the script's names; absent ones are not given.
	 * @return array{wiki:string,logid:int,performer:string,created:bool,published:bool}
	 * @throws FarmLogError
	 */
	public function write( array $opts ): array {
		$type = (string)( $opts['type'] ?? '' );
		$action = (string)( $opts['action'] ?? '' );
		if ( !FarmLog::isRegistered( $type, $action ) ) {
			throw $this->refused( "the log action $type/$action is not registered on this wiki" );
		}
		$name = (string)( $opts['performer'] ?? '' );
		$performer = $this->userFactory->newFromName( $name );
		if ( !$performer ) {
			throw $this->refused( "\"$name\" is not a valid user name" );
		}
		if ( !$performer->isRegistered() ) {
			throw $this->refused( "\"$name\" has no account on this farm" );
		}
		if ( isset( $opts['approver-of'] ) ) {
			$request = Title::newFromText( (string)$opts['approver-of'] );
			if ( !$request ) {
				throw $this->refused( 'invalid --approver-of page: ' . $opts['approver-of'] );
			}
			$approver = $this->latestApprover( $request );
			if ( $approver !== null ) {
				$performer = $this->userFactory->newFromName( $approver ) ?? $performer;
			}
		}
		$target = Title::newFromText( (string)( $opts['target'] ?? '' ) );
		if ( !$target ) {
			throw $this->refused( 'invalid target page: ' . ( $opts['target'] ?? '' ) );
		}
		$params = [];
		if ( isset( $opts['params'] ) ) {
			$params = json_decode( (string)$opts['params'], true );
			if ( !is_array( $params ) || ( $params !== [] && array_is_list( $params ) ) ) {
				throw $this->refused( '--params must be a JSON object' );
			}
		}
		$key = (string)( $opts['key'] ?? '' );
		if ( trim( $key ) === '' ) {
			throw $this->refused( '--key must not be empty' );
		}
		$keyValue = strlen( $key ) > self::MAX_KEY_BYTES ? 'sha1:' . sha1( $key ) : $key;

		$entry = new ManualLogEntry( $type, $action );
		$entry->setPerformer( $performer );
		$entry->setTarget( $target );
		$entry->setComment( (string)( $opts['comment'] ?? '' ) );
		$entry->setParameters( $params );
		$entry->setRelations( [ self::KEY_FIELD => $keyValue ] );
		if ( isset( $opts['timestamp'] ) ) {
			$ts = wfTimestamp( TS_MW, (string)$opts['timestamp'] );
			if ( $ts === false ) {
				throw $this->refused( 'invalid --timestamp: ' . $opts['timestamp'] );
			}
			$entry->setTimestamp( $ts );
		}

		$dbw = $this->primary();
		// Two writes with one key at once (a retry started while a timed-out attempt still runs)
		// must not both find no entry and both insert one. The lock is taken before the key is
		// looked up, and flushes the snapshot of a web request's open transaction, so the lookup
		// sees an entry the other write committed. Whatever the request wrote before (a session,
		// a user's touch) is committed first: a flush with writes pending is refused.
		$this->lbFactory->commitPrimaryChanges( __METHOD__ );
		$unlock = $dbw->getScopedLockAndFlush( 'wikiflow-log-' . sha1( $keyValue ), __METHOD__, self::LOCK_TIMEOUT );
		if ( !$unlock ) {
			throw new FarmLogError( FarmLogError::LOCKED, "another run holds the lock of key $key" );
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
			// The publication is a deferred update, which a web request would run only after its
			// answer: commit the entry (a maintenance script has already) and publish it now, so
			// that the answer can say it is in recent changes.
			$this->lbFactory->commitPrimaryChanges( __METHOD__ );
			DeferredUpdates::doUpdates();
			$published = $this->inRecentChanges( $id );
		} finally {
			ScopedCallback::consume( $unlock );
		}
		$result = [
			'wiki' => (string)$this->config->get( 'DBname' ),
			'logid' => (int)$id,
			'performer' => $performer->getName(),
			'created' => $created,
			'published' => $published,
		];
		if ( $created && !$published && !( new LogPage( $type ) )->isRestricted() ) {
			// Inserted but not in recent changes: another write with the key publishes it.
			throw new FarmLogError( FarmLogError::UNPUBLISHED,
				"log entry $id was written but not published to recent changes", $result );
		}
		return $result;
	}

	private function refused( string $message ): FarmLogError {
		return new FarmLogError( FarmLogError::REFUSED, $message );
	}

	private function primary(): IDatabase {
		return $this->lbFactory->getMainLB()->getConnectionRef( DB_PRIMARY );
	}

	/**
	 * An entry an earlier write inserted but did not publish (it stopped in between) is published
	 * with its own time, unless recent changes would have expired it anyway.
	 */
	private function republishIfMissing( ManualLogEntry $entry, int $id ): void {
		if ( $this->inRecentChanges( $id ) ) {
			return;
		}
		$ts = $this->primary()->selectField( 'logging', 'log_timestamp', [ 'log_id' => $id ], __METHOD__ );
		if ( $ts === false ) {
			return;
		}
		$age = (int)wfTimestamp( TS_UNIX ) - (int)wfTimestamp( TS_UNIX, $ts );
		if ( $age < (int)$this->config->get( 'RCMaxAge' ) ) {
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
		$rows = $this->primary()->select(
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
		return $this->primary()->selectField( 'recentchanges', 'rc_id', [ 'rc_logid' => $id ], __METHOD__ ) !== false;
	}
}
