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
use Wikimedia\ParamValidator\ParamValidator;
use Wikimedia\Rdbms\ILBFactory;

/**
 * action=wikiflowwrite: the few writes the WikiFlow worker makes on a wiki, each as the farm's own
 * tools make it, for the worker's service account only ($wgWikiFlowServiceAccounts).
 *
 *   do=log          a Special:Log entry, at most once per key (FarmLogWriter, also behind
 *                   maintenance/addLogEntry.php): logtype, logaction, performer, target, comment,
 *                   logparams (a JSON object), key, timestamp, central, approverof.
 *   do=grant-groups adds an existing user to groups, only bureaucrat, sysop and interface-admin,
 *                   as createAndPromote.php --force does: user, groups.
 *   do=main-page    writes a page as the "Maintenance script" system user, as edit.php does:
 *                   title, text, summary.
 *
 * Each is idempotent: the same call again writes nothing (the key's entry exists, the user is
 * already a member, the text is already the page's: a null edit, no revision).
 *
 * grant-groups and main-page serve a wiki's creation only: they are refused (wikiflow-notcreating)
 * unless a WikiFlow creation holds the wiki now (its one-owner claim, wf_wiki_owners in the farm's
 * central database, kind create-wiki). The service account's password therefore cannot make
 * anyone an administrator of a wiki that exists and is not being created.
 *
 * The gate is who calls, not what they may do: the service account holds only 'read' (the farm
 * strips everything else), so no right could tell it from any other reader. The module refuses
 * every other caller, logged in or not, before it reads a parameter. It must be posted with the
 * caller's csrf token.
 *
 * isWriteMode() is false although the module writes: on MediaWiki 1.39 ApiMain refuses a write
 * module to any user without the 'writeapi' right, which the read-only service account does not
 * get. What ApiMain would check for a write module besides that right, the module checks itself:
 * a read-only wiki (a closed one) is refused with the usual readonly error.
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
		$caller = $this->getUser();
		$accounts = (array)$this->getConfig()->get( 'WikiFlowServiceAccounts' );
		if ( !$caller->isRegistered() || !in_array( $caller->getName(), $accounts, true ) ) {
			$this->dieWithError( 'apierror-wikiflow-notservice', 'permissiondenied' );
		}
		if ( $this->readOnlyMode->isReadOnly() ) {
			$this->dieReadOnly();
		}
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
		$this->requireParams( $params, [ 'title', 'text' ] );
		$this->requireCreation();
		$title = Title::newFromText( $params['title'] );
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
		$revision = $updater->getNewRevision();
		return [
			'title' => $title->getPrefixedText(),
			'pageid' => $page->getId(),
			'revid' => $revision ? $revision->getId() : $page->getLatest(),
			'created' => $updater->wasRevisionCreated() && $updater->isNew(),
			'nochange' => !$updater->wasRevisionCreated(),
		];
	}

	/**
	 * Dies with wikiflow-notcreating unless a create-wiki process holds this wiki's one-owner claim
	 * (the worker writes it before a creation's first step and removes it when the creation ends).
	 */
	private function requireCreation(): void {
		$central = (string)$this->getConfig()->get( 'CreateWikiDatabase' );
		$wiki = (string)$this->getConfig()->get( 'DBname' );
		$db = $this->lbFactory->getMainLB( $central )->getConnection( DB_PRIMARY, [], $central );
		$kind = $db->selectField( 'wf_wiki_owners', 'owner_kind', [ 'owner_dbname' => $wiki ], __METHOD__ );
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
		return 'csrf';
	}

	public function isWriteMode() {
		// See the class comment: ApiMain would ask for 'writeapi'.
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
