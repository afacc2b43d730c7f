<?php

namespace MediaWiki\Extension\WikiFlow;

use ApiBase;
use ApiMain;
use CommentStoreComment;
use ContentHandler;
use Message;
use MediaWiki\Page\WikiPageFactory;
use MediaWiki\Revision\SlotRecord;
use MediaWiki\User\UserFactory;
use MediaWiki\User\UserGroupManager;
use ReadOnlyMode;
use Title;
use User;
use WikiPage;
use Wikimedia\ParamValidator\ParamValidator;
use Wikimedia\Rdbms\ILBFactory;

/**
 * action=wikiflowwrite: the few writes the WikiFlow worker makes on a wiki, each as the farm's own
 * tools make it, for the worker only: every call is signed with the farm's shared secret
 * (SignedRequest), as the wiki signs its own calls of the worker's hook endpoint.
 *
 *   do=log          a Special:Log entry, at most once per key (FarmLogWriter, also behind
 *                   maintenance/addLogEntry.php): logtype, logaction, performer, target, comment,
 *                   logparams (a JSON object), key, timestamp, central, approverof.
 *   do=grant-groups adds an existing user to groups, only bureaucrat, sysop and interface-admin,
 *                   as createAndPromote.php --force does: user, groups. Answers with the user's
 *                   groups as the primary database holds them afterwards.
 *   do=main-page    writes a page as the "Maintenance script" system user, as edit.php does:
 *                   text, summary, and title (the wiki's own main page when not given).
 *                   Answers with the page as the primary database holds it afterwards.
 *
 * Each is idempotent: the same call again writes nothing (the key's entry exists, the user is
 * already a member, the text is already the page's: a null edit, no revision).
 *
 * grant-groups and main-page serve a wiki's creation only: they are refused (wikiflow-notcreating)
 * unless a WikiFlow creation holds the wiki now (its one-owner claim, wf_wiki_owners in the farm's
 * central database, kind create-wiki). The shared secret therefore cannot make anyone an
 * administrator of a wiki that exists and is not being created.
 *
 * Why a signature and not a login: a new wiki has no session yet, and logging the service
 * account in (login token, bot password, csrf token) cost more than the writes themselves, on
 * every creation's critical path. The secret already lets its holder start and approve every
 * process through the hook endpoint, so it grants nothing new here. Before it reads a parameter
 * the module refuses (permissiondenied) a call that is unsigned, wrongly signed, more than
 * SignedRequest::WINDOW seconds off, or signed for another wiki (the signed body names the wiki),
 * and a signature it has seen before (wikiflow-replayed; kept in wf_hook_requests beside the hook
 * endpoint's own, for as long as the signature could pass). A session is not needed, so no csrf
 * token either: nothing a browser holds can sign a call.
 *
 * isWriteMode() is false although the module writes: on MediaWiki 1.39 ApiMain refuses a write
 * module to any user without the 'writeapi' right, and the caller here is nobody. What ApiMain
 * would check for a write module besides that right, the module checks itself: a read-only wiki
 * (a closed one) is refused with the usual readonly error. isReadMode() is false so that a private
 * wiki does not refuse the call before the signature is checked.
 */
class ApiWikiFlowWrite extends ApiBase {
	/** The groups do=grant-groups may add: what CreateWiki gives a new wiki's requester. */
	public const GRANTABLE_GROUPS = [ 'bureaucrat', 'sysop', 'interface-admin' ];

	/** @var ILBFactory */
	private $lbFactory;
	/** @var UserFactory */
	private $userFactory;
	/** @var UserGroupManager */
	private $userGroupManager;
	/** @var WikiPageFactory */
	private $wikiPageFactory;
	/** @var ReadOnlyMode */
	private $readOnlyMode;
	/** @var string the call's signature, once checked */
	private $signature = '';

	public function __construct(
		ApiMain $main,
		string $action,
		ILBFactory $lbFactory,
		UserFactory $userFactory,
		UserGroupManager $userGroupManager,
		WikiPageFactory $wikiPageFactory,
		ReadOnlyMode $readOnlyMode
	) {
		parent::__construct( $main, $action );
		$this->lbFactory = $lbFactory;
		$this->userFactory = $userFactory;
		$this->userGroupManager = $userGroupManager;
		$this->wikiPageFactory = $wikiPageFactory;
		$this->readOnlyMode = $readOnlyMode;
	}

	public function execute() {
		$this->requireSignature();
		if ( $this->readOnlyMode->isReadOnly() ) {
			// Before the replay record: a read-only wiki writes to no database at all.
			$this->dieReadOnly();
		}
		$this->requireFirstReceipt();
		$params = $this->extractRequestParams();
		switch ( $params['do'] ) {
			case 'log':
				$result = $this->log( $params );
				break;
			case 'grant-groups':
				$result = $this->grantGroups( $params );
				break;
			default:
				$result = $this->mainPage( $params );
		}
		$this->getResult()->addValue( null, $this->getModuleName(), $result );
	}

	/**
	 * do=log. With central, the entry belongs on $wgWikiFlowCentralWiki: a request serves one
	 * wiki, and the entry's publication (recent changes, the RC feeds) is that wiki's, so on any
	 * other wiki the module writes nothing and names the central wiki (wikiflow-notcentral, with
	 * "central" in the error) for the caller to ask there. The maintenance script runs itself
	 * again for the central wiki instead; a web request cannot.
	 */
	private function log( array $params ): array {
		$this->requireParams( $params, [ 'logtype', 'logaction', 'performer', 'target', 'key' ] );
		if ( $params['central'] ) {
			$central = (string)$this->getConfig()->get( 'WikiFlowCentralWiki' );
			if ( $central !== $this->getConfig()->get( 'DBname' ) ) {
				$this->dieWithError( [ 'apierror-wikiflow-notcentral', $central ], 'wikiflow-notcentral',
					[ 'central' => $central ] );
			}
		}
		$opts = [];
		foreach ( [
			'type' => 'logtype', 'action' => 'logaction', 'performer' => 'performer', 'target' => 'target',
			'comment' => 'comment', 'params' => 'logparams', 'key' => 'key', 'timestamp' => 'timestamp',
			'approver-of' => 'approverof',
		] as $opt => $param ) {
			if ( $params[$param] !== null ) {
				$opts[$opt] = $params[$param];
			}
		}
		$writer = new FarmLogWriter( $this->lbFactory, $this->userFactory, $this->getConfig() );
		try {
			return $writer->write( $opts );
		} catch ( FarmLogError $e ) {
			if ( $e->isRefusal() ) {
				$this->dieWithError( [ 'apierror-wikiflow-logrefused', Message::plaintextParam( $e->getMessage() ) ],
					'wikiflow-refused' );
			}
			$this->dieWithError( [ 'apierror-wikiflow-logfailed', Message::plaintextParam( $e->getMessage() ) ],
				'wikiflow-' . $e->getKind(), $e->getResult() );
		}
	}

	/**
	 * do=grant-groups, as createAndPromote.php --force does it for an account that exists: the
	 * groups the user is not in yet are added through UserGroupManager; none missing, no change.
	 */
	private function grantGroups( array $params ): array {
		$this->requireParams( $params, [ 'user', 'groups' ] );
		$this->requireCreation();
		$user = $this->userFactory->newFromName( $params['user'] );
		if ( !$user ) {
			$this->dieWithError( [ 'apierror-invaliduser', wfEscapeWikiText( $params['user'] ) ], 'invaliduser' );
		}
		if ( $user->idForName() === 0 ) {
			$this->dieWithError( [ 'nosuchusershort', wfEscapeWikiText( $params['user'] ) ], 'nosuchuser' );
		}
		$added = array_values( array_diff( $params['groups'], $this->userGroupManager->getUserGroups( $user ) ) );
		if ( $added ) {
			$this->userGroupManager->addUserToMultipleGroups( $user, $added );
		}
		$groups = $this->userGroupManager->getUserGroups( $user, UserGroupManager::READ_LATEST );
		sort( $groups );
		$this->getResult()->setIndexedTagName( $added, 'group' );
		$this->getResult()->setIndexedTagName( $groups, 'group' );
		return [ 'user' => $user->getName(), 'added' => $added, 'groups' => $groups ];
	}

	/**
	 * do=main-page, as edit.php does it without --user: the "Maintenance script" system user
	 * saves the text with the summary, no flags. The same text again saves no revision.
	 */
	private function mainPage( array $params ): array {
		$this->requireParams( $params, [ 'text' ] );
		$this->requireCreation();
		$title = $params['title'] === null ? Title::newMainPage() : Title::newFromText( $params['title'] );
		if ( !$title || !$title->canExist() ) {
			$this->dieWithError( [ 'apierror-invalidtitle', wfEscapeWikiText( $params['title'] ) ], 'invalidtitle' );
		}
		$author = User::newSystemUser( User::MAINTENANCE_SCRIPT_USER, [ 'steal' => true ] );
		if ( !$author ) {
			$this->dieWithError( [ 'apierror-wikiflow-nosystemuser', User::MAINTENANCE_SCRIPT_USER ], 'wikiflow-nosystemuser' );
		}
		$page = $this->wikiPageFactory->newFromTitle( $title );
		$updater = $page->newPageUpdater( $author );
		$updater->setContent( SlotRecord::MAIN, ContentHandler::makeContent( $params['text'], $title ) );
		$updater->saveRevision( CommentStoreComment::newUnsavedComment( (string)$params['summary'] ), 0 );
		$status = $updater->getStatus();
		if ( !$status->isOK() ) {
			$this->dieStatus( $status );
		}
		$created = $updater->wasRevisionCreated();
		$isNew = $updater->isNew();
		// What the primary database holds now, as a reader asking after the write would see it.
		$saved = $this->wikiPageFactory->newFromTitle( $title );
		$saved->loadPageData( WikiPage::READ_LATEST );
		return [
			'title' => $title->getPrefixedText(),
			'pageid' => $saved->getId(),
			'revid' => $saved->getLatest(),
			'created' => $created && $isNew,
			'nochange' => !$created,
		];
	}

	/** Dies unless the call is signed with the shared secret, for this wiki, recently. */
	private function requireSignature(): void {
		$request = $this->getRequest();
		$now = (int)wfTimestamp( TS_UNIX );
		[ $refused, $signature ] = SignedRequest::check( $request, SignedRequest::secret( $this->getConfig() ), $now );
		if ( $refused === null && $request->getText( 'wiki' ) !== (string)$this->getConfig()->get( 'DBname' ) ) {
			$refused = 'the request is signed for another wiki';
		}
		if ( $refused !== null ) {
			$this->dieWithError( [ 'apierror-wikiflow-notsigned', $refused ], 'permissiondenied' );
		}
		$this->signature = $signature;
	}

	/** Dies unless the signature checked by requireSignature() is received for the first time. */
	private function requireFirstReceipt(): void {
		$now = (int)wfTimestamp( TS_UNIX );
		$db = $this->centralDB();
		$db->query( 'DELETE FROM ' . $db->tableName( 'wf_hook_requests' ) . ' WHERE hr_expires < ' .
			$db->addQuotes( wfTimestamp( TS_MW, $now ) ) . ' LIMIT 100', __METHOD__ );
		$db->insert( 'wf_hook_requests', [
			'hr_signature' => hash( 'sha256', $this->signature, true ),
			'hr_expires' => wfTimestamp( TS_MW, $now + 2 * SignedRequest::WINDOW ),
		], __METHOD__, [ 'IGNORE' ] );
		if ( $db->affectedRows() !== 1 ) {
			$this->dieWithError( 'apierror-wikiflow-replayed', 'wikiflow-replayed' );
		}
	}

	private function centralDB(): \Wikimedia\Rdbms\IDatabase {
		$central = (string)$this->getConfig()->get( 'CreateWikiDatabase' );
		return $this->lbFactory->getMainLB( $central )->getConnection( DB_PRIMARY, [], $central );
	}

	/**
	 * Dies with wikiflow-notcreating unless a create-wiki process holds this wiki's one-owner claim
	 * (the worker writes it before a creation's first step and removes it when the creation ends).
	 */
	private function requireCreation(): void {
		$wiki = (string)$this->getConfig()->get( 'DBname' );
		$kind = $this->centralDB()->selectField( 'wf_wiki_owners', 'owner_kind', [ 'owner_dbname' => $wiki ], __METHOD__ );
		if ( $kind !== 'create-wiki' ) {
			$this->dieWithError( [ 'apierror-wikiflow-notcreating', $wiki ], 'wikiflow-notcreating' );
		}
	}

	/**
	 * Dies with missingparam for the first of $names the request lacks. An empty value is given
	 * (the log writer refuses an empty key or performer itself, edit.php takes an empty text).
	 */
	private function requireParams( array $params, array $names ): void {
		foreach ( $names as $name ) {
			if ( $params[$name] === null || $params[$name] === [] ) {
				$this->dieWithError( [ 'apierror-missingparam', $name ] );
			}
		}
	}

	public function mustBePosted() {
		return true;
	}

	public function needsToken() {
		// See the class comment: the signature is the proof, there is no session.
		return false;
	}

	public function isWriteMode() {
		// See the class comment: ApiMain would ask for 'writeapi'.
		return false;
	}

	public function isReadMode() {
		// See the class comment: a private wiki would refuse the call for want of 'read'.
		return false;
	}

	public function isInternal() {
		return true;
	}

	protected function getAllowedParams() {
		return [
			'do' => [
				ParamValidator::PARAM_TYPE => [ 'log', 'grant-groups', 'main-page' ],
				ParamValidator::PARAM_REQUIRED => true,
			],
			// Named in the signed body, checked against this wiki; the nonce makes every call's
			// signature new, so that a call made again is not mistaken for a replay.
			'wiki' => null,
			'nonce' => null,
			'logtype' => null,
			'logaction' => null,
			'performer' => null,
			'target' => null,
			'comment' => null,
			'logparams' => [ ParamValidator::PARAM_TYPE => 'text' ],
			'key' => null,
			'timestamp' => null,
			'central' => false,
			'approverof' => null,
			'user' => null,
			'groups' => [
				ParamValidator::PARAM_TYPE => self::GRANTABLE_GROUPS,
				ParamValidator::PARAM_ISMULTI => true,
			],
			'title' => null,
			'text' => [ ParamValidator::PARAM_TYPE => 'text' ],
			'summary' => [ ParamValidator::PARAM_DEFAULT => '' ],
		];
	}
}
