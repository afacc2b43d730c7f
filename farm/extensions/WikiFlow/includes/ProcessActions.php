<?php

namespace MediaWiki\Extension\WikiFlow;

/**
 * Which actions a person may take on a process, from their rights on the wiki the page is
 * shown on. The workflow checks the user's rights with MediaWiki again whatever is sent: this
 * only keeps the page from offering what would be refused.
 *
 *  - deletion: start it and approve/decline it with managewiki-core here; on the central wiki
 *    managewiki-restricted approves, declines or cancels any deletion (steward override);
 *  - restricted setting or extension: managewiki-restricted on the central wiki approves or declines;
 *  - wiki request: createwiki on the central wiki approves, declines, holds, asks for details;
 *  - the requester cancels their own request; nobody approves their own;
 *  - undelete: only in the grace period, for the requester, an approver or a steward;
 *  - reopen: a wiki closed for inactivity, for managewiki-core here or a steward; a closed wiki is
 *    read-only (nobody logs in there), so on the central wiki also for the bureaucrats its last
 *    notice found (result.bureaucrats);
 *  - retry (a failed step) and abort: bureaucrats or holders of managewiki-core here
 *    (on the central wiki also managewiki-restricted and createwiki).
 */
class ProcessActions {
	public const APPROVE = 'approve';
	public const DECLINE = 'decline';
	public const CANCEL = 'cancel';
	public const UNDELETE = 'undelete';
	public const REOPEN = 'reopen';
	public const HOLD = 'hold';
	public const MORE_DETAILS = 'more-details';
	public const RETRY = 'retry';
	public const ABORT = 'abort';

	/** The order buttons are shown in. */
	public const ALL = [ self::APPROVE, self::DECLINE, self::HOLD, self::MORE_DETAILS, self::CANCEL,
		self::UNDELETE, self::REOPEN, self::RETRY, self::ABORT ];

	/**
	 * The actions each kind of process takes, as client.SupportedActions: the endpoint refuses
	 * any other (unsupported_action), so none is offered.
	 */
	public const SUPPORTED = [
		'create-wiki' => [ self::RETRY, self::ABORT ],
		'delete-wiki' => [ self::APPROVE, self::DECLINE, self::CANCEL, self::UNDELETE, self::RETRY, self::ABORT ],
		'change-setting' => [ self::APPROVE, self::DECLINE, self::CANCEL, self::RETRY, self::ABORT ],
		'request-wiki' => [ self::APPROVE, self::DECLINE, self::CANCEL, self::HOLD, self::MORE_DETAILS, 'edit-request' ],
		'restore-wiki' => [ self::APPROVE, self::DECLINE, self::CANCEL, self::RETRY, self::ABORT ],
		'rename-wiki' => [ self::APPROVE, self::DECLINE, self::CANCEL, self::RETRY, self::ABORT ],
		'inactivity' => [ self::REOPEN ],
		'enable-extension' => [ self::APPROVE, self::DECLINE, self::CANCEL, self::RETRY, self::ABORT ],
		'disable-extension' => [ self::APPROVE, self::DECLINE, self::CANCEL, self::RETRY, self::ABORT ],
	];

	/** As the endpoint's client.CheckID. */
	public const ID_PATTERN = '/^[a-z][a-z-]{0,40}:[a-z0-9_]{1,64}(:[A-Za-z][A-Za-z0-9_]{0,63})?$/';

	/** @var callable(string):bool */
	private $hasRight;

	/**
	 * @param string $user the logged-in user's name; '' for an anonymous reader
	 * @param string $wiki this wiki's database name
	 * @param bool $central whether this wiki is the central wiki
	 * @param callable(string):bool $hasRight whether the user holds a right on this wiki
	 * @param bool $bureaucrat whether the user is a bureaucrat of this wiki
	 */
	public function __construct(
		private string $user,
		private string $wiki,
		private bool $central,
		callable $hasRight,
		private bool $bureaucrat
	) {
		$this->hasRight = $hasRight;
	}

	public function mayStartDeletion(): bool {
		return $this->user !== '' && !$this->central && $this->has( 'managewiki-core' );
	}

	public function mayChangeSettings(): bool {
		return $this->user !== '' && $this->has( 'managewiki-settings' );
	}

	public function mayChangeExtensions(): bool {
		return $this->user !== '' && $this->has( 'managewiki-extensions' );
	}

	public function mayRequestWiki(): bool {
		return $this->user !== '' && $this->central;
	}

	/** Stewards ask for a deleted wiki's restore on the central wiki (another steward approves). */
	public function mayRestore(): bool {
		return $this->user !== '' && $this->central && $this->has( 'managewiki-restricted' );
	}

	/**
	 * The actions offered on a process: a status from GET /v1/processes/<id>, or a list entry
	 * (which lacks approvals and steps, so fewer actions can be told apart).
	 * @return list<string>
	 */
	public function allowed( array $process ): array {
		$kind = (string)( $process['kind'] ?? '' );
		$state = (string)( $process['state'] ?? '' );
		$local = ( $process['wiki'] ?? '' ) === $this->wiki;
		if ( $this->user === '' || ( !$local && !$this->central ) ) {
			return [];
		}
		$own = ( $process['requester'] ?? '' ) === $this->user;
		$steward = $this->central && $this->has( 'managewiki-restricted' );
		$actions = [];
		if ( $state === 'waiting-approval' ) {
			$decide = match ( $kind ) {
				// A quorum of 0: nobody else holds managewiki-core here, only a steward decides.
				'delete-wiki' => $steward || ( $local && $this->has( 'managewiki-core' )
					&& ( $process['result']['quorum'] ?? '' ) !== '0' ),
				'change-setting', 'restore-wiki', 'enable-extension', 'disable-extension', 'rename-wiki' => $steward,
				'request-wiki' => $this->central && $this->has( 'createwiki' ),
				default => false,
			};
			$review = $kind === 'request-wiki' && $decide;
			if ( $decide && !$own && !$this->decided( $process, self::APPROVE ) ) {
				$actions[] = self::APPROVE;
			}
			if ( $decide && !$own && !$this->decided( $process, self::DECLINE ) ) {
				$actions[] = self::DECLINE;
			}
			if ( $review ) {
				array_push( $actions, self::HOLD, self::MORE_DETAILS );
			}
			if ( $own || ( $kind === 'delete-wiki' && $steward ) ) {
				$actions[] = self::CANCEL;
			}
		}
		if ( $kind === 'delete-wiki' && $state === 'grace-period'
			&& ( $own || $steward || $this->decided( $process, self::APPROVE ) )
		) {
			$actions[] = self::UNDELETE;
		}
		if ( $kind === 'inactivity' && $state === 'closed'
			&& ( $steward || ( $local && $this->has( 'managewiki-core' ) )
				|| ( $this->central && in_array( $this->user, self::listed( $process, 'bureaucrats' ), true ) ) )
		) {
			$actions[] = self::REOPEN;
		}
		// Retry and abort exist while the process runs its steps (not while it waits for a decision).
		$operator = ( $local && ( $this->bureaucrat || $this->has( 'managewiki-core' ) ) )
			|| ( $this->central && ( $this->has( 'managewiki-restricted' ) || $this->has( 'createwiki' ) ) );
		if ( $operator && $state === 'needs-attention' && self::failedSteps( $process ) ) {
			$actions[] = self::RETRY;
		}
		if ( $operator && in_array( $state, [ 'running', 'needs-attention' ], true ) && !empty( $process['steps'] ) ) {
			$actions[] = self::ABORT;
		}
		return array_values( array_intersect( $actions, self::SUPPORTED[$kind] ?? [] ) );
	}

	/** @return list<string> names of the steps a retry may name */
	public static function failedSteps( array $process ): array {
		$failed = [];
		foreach ( (array)( $process['steps'] ?? [] ) as $step ) {
			if ( is_array( $step ) && ( $step['state'] ?? '' ) === 'failed' ) {
				$failed[] = (string)$step['name'];
			}
		}
		return $failed;
	}

	/** @return list<string> a JSON list the process's result holds under $key */
	private static function listed( array $process, string $key ): array {
		$list = json_decode( (string)( $process['result'][$key] ?? '[]' ), true );
		return is_array( $list ) ? array_values( array_filter( $list, 'is_string' ) ) : [];
	}

	/** Whether the user's decision of this kind was already accepted. */
	private function decided( array $process, string $decision ): bool {
		foreach ( (array)( $process['approvals'] ?? [] ) as $a ) {
			if ( is_array( $a ) && ( $a['user'] ?? '' ) === $this->user && ( $a['decision'] ?? '' ) === $decision
				&& !empty( $a['accepted'] )
			) {
				return true;
			}
		}
		return false;
	}

	private function has( string $right ): bool {
		return ( $this->hasRight )( $right );
	}
}
