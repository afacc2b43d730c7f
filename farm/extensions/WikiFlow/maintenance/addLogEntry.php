<?php
/**
 * Writes one Special:Log entry through MediaWiki (ManualLogEntry: inserted, then published to
 * recent changes and the farm's RC feeds), at most once per key: FarmLogWriter, which the worker
 * reaches through the API (action=wikiflowwrite&do=log). The script is for operators, to write
 * by hand an entry the worker skipped (its log gives this command):
 *
 *   farm/bin/mwscript extensions/WikiFlow/maintenance/addLogEntry --wiki=metawiki \
 *     --type=farmer --action=requestapprove --performer=SomeUser \
 *     --target='Special:Processes/request-wiki:newwiki' --comment='fine' \
 *     --params='{"4::id":"#12"}' --key='request-wiki:newwiki/12/requestapprove/2026-01-02T03:04:05Z'
 *
 * Idempotent through the key (see FarmLogWriter): run again with the same key, the script adds
 * nothing, and the worker writing the same entry later adds nothing either.
 *
 * --central writes the entry on the farm's central wiki ($wgWikiFlowCentralWiki) whichever wiki
 * the script was started for: callers that do not know which wiki that is (a step of a new or
 * deleted wiki) let the farm's configuration say.
 *
 * --approver-of=<a wiki request's page> makes the performer that request's latest approver in
 * this wiki's farmer log, when it has one.
 *
 * Prints one JSON line: {"wiki":..., "logid":..., "performer":..., "created":bool, "published":bool}.
 * Exit codes: 0 written (or already there), 2 refused (the same input will never succeed: an
 * unknown type or action, a performer with no account, an invalid target, timestamp or params),
 * anything else a failure worth retrying (the database, a lock held too long).
 */

namespace MediaWiki\Extension\WikiFlow\Maintenance;

use ExtensionRegistry;
use MediaWiki\Extension\WikiFlow\FarmLogError;
use MediaWiki\Extension\WikiFlow\FarmLogWriter;
use Maintenance;

$IP = getenv( 'MW_INSTALL_PATH' );
if ( $IP === false ) {
	// The extension's usual place, extensions/WikiFlow/maintenance under MediaWiki's folder.
	$IP = __DIR__ . '/../../..';
}
require_once "$IP/maintenance/Maintenance.php";

class AddLogEntry extends Maintenance {
	/** Exit code of input that can never be logged. */
	private const REFUSED = 2;

	/** FarmLogWriter's options, which are the script's. */
	private const OPTIONS = [ 'type', 'action', 'performer', 'target', 'comment', 'params', 'key', 'timestamp',
		'approver-of' ];

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
		$opts = [];
		foreach ( self::OPTIONS as $name ) {
			if ( $this->hasOption( $name ) ) {
				$opts[$name] = (string)$this->getOption( $name );
			}
		}
		try {
			$result = FarmLogWriter::newFromGlobalState()->write( $opts );
		} catch ( FarmLogError $e ) {
			if ( $e->getResult() !== null ) {
				$this->output( json_encode( $e->getResult() ) . "\n" );
			}
			$this->fatalError( $e->getMessage(), $e->isRefusal() ? self::REFUSED : 1 );
		}
		$this->output( json_encode( $result ) . "\n" );
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
