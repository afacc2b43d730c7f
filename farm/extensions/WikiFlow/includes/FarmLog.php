<?php

namespace MediaWiki\Extension\WikiFlow;

/**
 * The Special:Log types and actions WikiFlow writes (FarmLogWriter: the API module and the script).
 *
 * The type names are CreateWiki's ('farmer', on the central wiki) and ManageWiki's ('managewiki'),
 * so that a farm that also runs those extensions reads one farmer log and one managewiki log, and
 * its recent-changes feeds see the same types whichever tool acted. Registration is a callback
 * rather than extension.json's LogTypes/LogActionsHandlers because those merge blindly: a second
 * 'farmer' in $wgLogTypes would show twice in Special:Log's menu and in the API's letype values,
 * and our handler would replace CreateWiki's formatter of farmer/requestwiki. Callbacks run after
 * every extension's attributes are merged, so only what the real extensions lack is added.
 */
class FarmLog {
	/**
	 * Actions by type. The filter group of an action is its own name; the actions CreateWiki
	 * (a3e26594 and later) and ManageWiki (c7a960d3 and later) define keep their names and
	 * parameters, the others are WikiFlow's (requestwithdraw, dropwiki, the inactivity policy's
	 * inactive, reopen, exempt, unexempt, and rename).
	 */
	public const ACTIONS = [
		'farmer' => [
			'requestwiki', 'requestapprove', 'requestdecline', 'requestonhold', 'requestmoredetails',
			'requestreopen', 'requestabandon', 'requestwithdraw', 'createwiki', 'create-failure', 'dropwiki',
		],
		'managewiki' => [ 'settings', 'closed', 'delete', 'undelete', 'inactive', 'reopen', 'exempt', 'unexempt', 'rename' ],
	];

	/** extension.json callback. */
	public static function onRegistration(): void {
		global $wgLogTypes, $wgLogActionsHandlers, $wgActionFilteredLogs;
		foreach ( self::ACTIONS as $type => $actions ) {
			if ( !in_array( $type, $wgLogTypes, true ) ) {
				$wgLogTypes[] = $type;
			}
			// A wildcard handler (ManageWiki's newer 'managewiki/*') already formats every action.
			$wildcard = isset( $wgLogActionsHandlers["$type/*"] );
			$filtered = [];
			foreach ( $wgActionFilteredLogs[$type] ?? [] as $group ) {
				$filtered = array_merge( $filtered, (array)$group );
			}
			foreach ( $actions as $action ) {
				if ( !$wildcard && !isset( $wgLogActionsHandlers["$type/$action"] ) ) {
					$wgLogActionsHandlers["$type/$action"] = 'LogFormatter';
				}
				if ( !in_array( $action, $filtered, true ) && !isset( $wgActionFilteredLogs[$type][$action] ) ) {
					$wgActionFilteredLogs[$type][$action] = [ $action ];
				}
			}
		}
	}

	/** Whether type/action is registered now (by WikiFlow or by CreateWiki/ManageWiki). */
	public static function isRegistered( string $type, string $action ): bool {
		global $wgLogTypes, $wgLogActionsHandlers, $wgLogActions;
		return in_array( $type, $wgLogTypes, true )
			&& ( isset( $wgLogActionsHandlers["$type/$action"] ) || isset( $wgLogActionsHandlers["$type/*"] )
				|| isset( $wgLogActions["$type/$action"] ) );
	}
}
