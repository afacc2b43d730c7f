<?php

namespace MediaWiki\Extension\WikiFlow;

use Html;
use HTMLForm;
use MediaWiki\Http\HttpRequestFactory;
use MediaWiki\Permissions\PermissionManager;
use MediaWiki\User\UserGroupManager;
use Message;
use RuntimeException;
use SpecialPage;
use Status;

/**
 * Special:Processes lists the wiki's WikiFlow processes; Special:Processes/<id> shows one.
 * The forms start a deletion, a setting change or (on the central wiki) a wiki request, and send
 * decisions. Nothing is decided here: every request goes to WikiFlow's hook endpoint
 * (docs/hook.md), the process checks the user's rights with MediaWiki itself and records the
 * outcome, which the page reads back. The page only avoids offering what would be refused.
 *
 * Every POST needs the user's edit token; a missing or wrong one sends nothing. When the
 * endpoint does not answer, the page says so and offers no form.
 */
class SpecialProcesses extends SpecialPage {
	/** Session key of the outcome of a POST, shown once after the redirect back here. */
	private const OUTCOME = 'wikiflow-outcome';
	/** How long to wait for the process to record a decision sent to it (it decides asynchronously). */
	private const RECORD_WAIT_TRIES = 10;
	private const RECORD_WAIT_MICROSECONDS = 500000;

	private HookClient $client;
	private ProcessActions $can;
	private ProcessView $view;
	/** This request is a POST without a valid edit token: no form is submitted. */
	private bool $refusePost = false;
	/**
	 * Set when an approval just closed this wiki for its deletion's grace period: the wiki
	 * answers 410 from now on, so the outcome is shown in this answer instead of after a redirect.
	 * @var array{outcome:array,process:array}|null
	 */
	private ?array $closedNow = null;

	public function __construct(
		private HttpRequestFactory $httpRequestFactory,
		private PermissionManager $permissionManager,
		private UserGroupManager $userGroupManager
	) {
		parent::__construct( 'Processes' );
	}

	/** @inheritDoc */
	protected function getGroupName() {
		return 'wiki';
	}

	/** @inheritDoc */
	public function execute( $par ) {
		$this->setHeaders();
		$this->outputHeader();
		$this->view = new ProcessView( $this->getContext() );
		$this->can = $this->permissions();
		$this->showOutcome();

		$request = $this->getRequest();
		if ( $request->wasPosted() ) {
			if ( !$this->getUser()->isRegistered() ) {
				$this->refusePost = true;
				$this->errorBox( $this->msg( 'wikiflow-error-login' ) );
			} elseif ( !$this->getUser()->matchEditToken( $request->getVal( 'wpEditToken' ) ) ) {
				$this->refusePost = true;
				$this->errorBox( $this->msg( 'wikiflow-error-token' ) );
			}
		}
		try {
			$this->client = $this->makeClient();
		} catch ( HookError $e ) {
			$this->hookError( $e );
			return;
		}
		$id = trim( (string)$par );
		if ( $id === '' ) {
			$this->showList();
		} else {
			$this->showProcess( $id );
		}
	}

	private function wiki(): string {
		return (string)$this->getConfig()->get( 'DBname' );
	}

	private function isCentral(): bool {
		return $this->wiki() === $this->getConfig()->get( 'WikiFlowCentralWiki' );
	}

	/** What the user may do, from their rights on this wiki (MediaWiki's permission manager). */
	private function permissions(): ProcessActions {
		$user = $this->getUser();
		return new ProcessActions(
			$user->isRegistered() ? $user->getName() : '',
			$this->wiki(),
			$this->isCentral(),
			fn ( string $right ) => $this->permissionManager->userHasRight( $user, $right ),
			in_array( 'bureaucrat', $this->userGroupManager->getUserEffectiveGroups( $user ), true )
		);
	}

	private function makeClient(): HookClient {
		$config = $this->getConfig();
		$secret = SignedRequest::secret( $config );
		if ( $secret === '' ) {
			$file = (string)$config->get( 'WikiFlowHookSecretFile' );
			throw new HookError( HookError::NOT_CONFIGURED, "no shared secret (\$wgWikiFlowHookSecret, or the file \$wgWikiFlowHookSecretFile: '$file')" );
		}
		// Reads are answered for this user only: a private wiki's processes are hidden from
		// whoever may not read that wiki, logged-out readers included.
		$user = $this->getUser();
		return new HookClient( $this->httpRequestFactory, (string)$config->get( 'WikiFlowHookURL' ), $secret,
			$user->isRegistered() ? $user->getName() : '' );
	}

	// ------------------------------------------------------------------ the list

	private function showList(): void {
		$out = $this->getOutput();
		$wiki = $this->wiki();
		if ( $this->isCentral() ) {
			// Stewards follow any wiki's processes from the central wiki.
			$wiki = trim( $this->getRequest()->getVal( 'wiki', '' ) ) ?: $wiki;
		}
		try {
			$processes = $this->client->listProcesses( [ 'wiki' => $wiki ] );
			$requests = $this->isCentral() ? $this->client->listProcesses( [ 'kind' => 'request-wiki' ] ) : [];
		} catch ( HookError $e ) {
			$this->hookError( $e );
			return;
		}
		if ( $this->isCentral() ) {
			$this->wikiChooser( $wiki );
		}
		$out->addHTML( Html::element( 'h2', [], $this->msg( 'wikiflow-list-heading' )->plaintextParams( $wiki )->text() ) );
		$out->addHTML( $processes ? $this->view->processTable( $processes, false )
			: Html::element( 'p', [ 'class' => 'wikiflow-empty' ], $this->msg( 'wikiflow-list-empty' )->text() ) );
		if ( $this->isCentral() ) {
			$this->showRequests( $requests );
		}
		if ( !$this->getUser()->isRegistered() ) {
			$out->addHTML( Html::element( 'p', [], $this->msg( 'wikiflow-login-to-act' )->text() ) );
			return;
		}
		if ( $wiki === $this->wiki() && $this->can->mayStartDeletion() ) {
			$this->showForm( $this->deletionForm() );
		}
		if ( $wiki === $this->wiki() && $this->can->mayChangeSettings() ) {
			$form = $this->settingsForm();
			if ( $form ) {
				$this->showForm( $form );
			}
		}
		if ( $wiki === $this->wiki() && $this->can->mayChangeExtensions() ) {
			$form = $this->extensionForm();
			if ( $form ) {
				$this->showForm( $form );
			}
		}
		if ( $this->can->mayRequestWiki() ) {
			$this->showForm( $this->requestForm() );
		}
		if ( $this->can->mayRestore() ) {
			$this->showForm( $this->restoreForm() );
		}
	}

	/** The central wiki's wiki requests: open ones with their review buttons, then the closed ones. */
	private function showRequests( array $requests ): void {
		$out = $this->getOutput();
		$out->addHTML( Html::element( 'h2', [], $this->msg( 'wikiflow-requests-heading' )->text() ) );
		$open = array_filter( $requests,
			static fn ( $p ) => in_array( $p['state'] ?? '', [ 'running', 'waiting-approval' ], true ) );
		$closed = array_slice( array_diff_key( $requests, $open ), 0, 50 );
		if ( !$open ) {
			$out->addHTML( Html::element( 'p', [ 'class' => 'wikiflow-empty' ], $this->msg( 'wikiflow-requests-empty' )->text() ) );
		} else {
			$out->addHTML( $this->view->processTable( $open, true, function ( array $p ) {
				$allowed = $this->can->allowed( $p );
				return $allowed ? $this->formHtml( $this->actionForm( $p, $allowed, true ) ) : '';
			}, $this->msg( 'wikiflow-col-review' )->text() ) );
		}
		if ( $closed ) {
			$out->addHTML( Html::element( 'h3', [], $this->msg( 'wikiflow-requests-closed' )->text() )
				. $this->view->processTable( $closed, true ) );
		}
	}

	private function wikiChooser( string $wiki ): void {
		HTMLForm::factory( 'ooui', [
			'wiki' => [ 'type' => 'text', 'name' => 'wiki', 'default' => $wiki, 'label-message' => 'wikiflow-field-wiki' ],
		], $this->getContext() )
			->setMethod( 'get' )
			->setWrapperLegendMsg( 'wikiflow-wiki-legend' )
			->setSubmitTextMsg( 'wikiflow-wiki-submit' )
			->prepareForm()
			->displayForm( false );
	}

	// ------------------------------------------------------------------ one process

	private function showProcess( string $id ): void {
		$out = $this->getOutput();
		if ( !preg_match( ProcessActions::ID_PATTERN, $id ) ) {
			$this->errorBox( $this->msg( 'wikiflow-error-bad-id' )->plaintextParams( $id ) );
			return;
		}
		$out->setPageTitle( $this->msg( 'wikiflow-process-title' )->plaintextParams( $id ) );
		$out->addBacklinkSubtitle( $this->getPageTitle() );
		try {
			$process = $this->client->process( $id );
		} catch ( HookError $e ) {
			$this->hookError( $e );
			return;
		}
		$allowed = $this->can->allowed( $process );
		// Submitted first (a successful submit redirects), shown after the summary.
		$form = $allowed ? $this->formHtml( $this->actionForm( $process, $allowed, false ) ) : '';
		$request = $this->getRequest();
		if ( !$allowed && $request->wasPosted() && !$this->refusePost
			&& $request->getVal( 'wpFormIdentifier' ) === 'wikiflow-action:' . $id
		) {
			// A form this user is not offered (sent by hand, or from a page shown before the
			// process moved on): say so rather than ignore it.
			$this->errorBox( $this->msg( 'wikiflow-error-not-offered' )
				->plaintextParams( (string)$request->getVal( 'wfaction', '' ) ) );
		}
		if ( $this->closedNow ) {
			$process = $this->closedNow['process'];
			$out->addHTML( $this->outcomeHtml( $this->closedNow['outcome'] ) . Html::rawElement( 'p', [ 'class' => 'wikiflow-closed-now' ],
				$this->msg( 'wikiflow-wiki-closed-now' )->rawParams( $this->centralLink( $id ) )->escaped() ) );
			$form = '';
		}
		$out->addHTML( $this->view->summary( $process, $this->uiUrl( $id, $process ) ) . $form );
		if ( !$allowed && $this->getUser()->isRegistered() && ( $process['wiki'] ?? '' ) !== $this->wiki() && !$this->isCentral() ) {
			$out->addHTML( Html::element( 'p', [],
				$this->msg( 'wikiflow-other-wiki' )->plaintextParams( (string)( $process['wiki'] ?? '' ) )->text() ) );
		}
		$out->addHTML( $this->view->steps( $process ) . $this->view->approvals( $process )
			. $this->view->actions( $process ) . $this->view->result( $process ) );
	}

	/**
	 * A link to the process on the central wiki, where it stays visible while this wiki is
	 * closed. The farm names a wiki's host after its database (<db>.<domain>); elsewhere the
	 * page is named in plain text.
	 */
	private function centralLink( string $id ): string {
		$central = (string)$this->getConfig()->get( 'WikiFlowCentralWiki' );
		$page = SpecialPage::getTitleFor( 'Processes', $id );
		$server = (string)$this->getConfig()->get( 'Server' );
		$host = (string)parse_url( $server, PHP_URL_HOST );
		if ( str_starts_with( $host, $this->wiki() . '.' ) ) {
			$url = preg_replace( '#//' . preg_quote( $this->wiki(), '#' ) . '\.#', "//$central.", $server, 1 )
				. $page->getLocalURL();
			return Html::element( 'a', [ 'href' => $url ], $page->getPrefixedText() . " ($central)" );
		}
		return htmlspecialchars( $page->getPrefixedText() . " ($central)" );
	}

	/** Whether an accepted approval completed a deletion of this wiki, which closes it now. */
	private function closesThisWiki( array $process, ?array $record ): bool {
		if ( ( $process['kind'] ?? '' ) !== 'delete-wiki' || ( $process['wiki'] ?? '' ) !== $this->wiki()
			|| empty( $record['accepted'] ) || ( $record['decision'] ?? '' ) !== ProcessActions::APPROVE
		) {
			return false;
		}
		$accepted = array_filter( (array)( $process['approvals'] ?? [] ),
			static fn ( $a ) => !empty( $a['accepted'] ) && ( $a['decision'] ?? '' ) === ProcessActions::APPROVE );
		return !empty( $record['override'] ) || count( $accepted ) >= (int)( $process['result']['quorum'] ?? 1 )
			|| in_array( $process['state'] ?? '', [ 'grace-period', 'completed' ], true );
	}

	private function uiUrl( string $id, array $process ): string {
		$url = (string)( $process['ui_url'] ?? '' );
		if ( $url === '' ) {
			$url = rtrim( (string)$this->getConfig()->get( 'WikiFlowTemporalUIURL' ), '/' )
				. '/namespaces/default/workflows/' . rawurlencode( $id );
		}
		return $url;
	}

	/** The buttons of the actions the user may take, a comment, and the failed step for a retry. */
	private function actionForm( array $process, array $allowed, bool $compact ): HTMLForm {
		$id = (string)$process['id'];
		$fields = [
			'comment' => [ 'type' => 'text', 'maxlength' => 500, 'label-message' => 'wikiflow-field-comment' ],
		];
		$failed = ProcessActions::failedSteps( $process );
		if ( in_array( ProcessActions::RETRY, $allowed, true ) ) {
			$fields['step'] = [ 'type' => 'select', 'label-message' => 'wikiflow-field-step',
				'options' => array_combine( $failed, $failed ) ];
		}
		$form = HTMLForm::factory( 'ooui', $fields, $this->getContext() )
			->setFormIdentifier( 'wikiflow-action:' . $id )
			->suppressDefaultSubmit();
		if ( $compact ) {
			$form->setWrapperLegend( false );
		} else {
			$form->setWrapperLegendMsg( 'wikiflow-actions-legend' );
		}
		foreach ( $allowed as $action ) {
			$form->addButton( [
				'name' => 'wfaction',
				'value' => $action,
				'label-message' => 'wikiflow-action-' . $action,
				'id' => 'wikiflow-action-' . $action . ( $compact ? '-' . str_replace( ':', '-', $id ) : '' ),
				'flags' => match ( $action ) {
					ProcessActions::APPROVE, ProcessActions::UNDELETE, ProcessActions::RETRY => [ 'progressive' ],
					ProcessActions::DECLINE, ProcessActions::ABORT, ProcessActions::CANCEL => [ 'destructive' ],
					default => [],
				},
			] );
		}
		return $form->setSubmitCallback( fn ( array $data ) => $this->submitAction( $id, $data ) );
	}

	/** @return true|Status */
	private function submitAction( string $id, array $data ) {
		$action = (string)$this->getRequest()->getVal( 'wfaction', '' );
		try {
			// The status now: only an action offered now is sent.
			$process = $this->client->process( $id );
		} catch ( HookError $e ) {
			return $this->formError( $e );
		}
		if ( !in_array( $action, $this->can->allowed( $process ), true ) ) {
			return Status::newFatal( 'wikiflow-error-not-offered', Message::plaintextParam( $action ) );
		}
		$body = [ 'action' => $action, 'user' => $this->getUser()->getName(), 'comment' => trim( (string)$data['comment'] ) ];
		if ( $action === ProcessActions::MORE_DETAILS && $body['comment'] === '' ) {
			return Status::newFatal( 'wikiflow-error-comment-needed' );
		}
		if ( $action === ProcessActions::RETRY ) {
			$body['step'] = (string)( $data['step'] ?? '' );
			if ( !in_array( $body['step'], ProcessActions::failedSteps( $process ), true ) ) {
				return Status::newFatal( 'wikiflow-error-step' );
			}
		}
		$approvals = count( (array)( $process['approvals'] ?? [] ) );
		$actions = count( (array)( $process['actions'] ?? [] ) );
		try {
			$this->client->act( $id, $body );
		} catch ( HookError $e ) {
			return $this->formError( $e );
		}
		[ $record, $after ] = $this->awaitRecord( $id, $action, $approvals, $actions );
		$outcome = [ 'action' => $action, 'record' => $record ];
		if ( $after && $this->closesThisWiki( $after, $record ) ) {
			$this->closedNow = [ 'outcome' => $outcome, 'process' => $after ];
			return true;
		}
		$this->done( $id, $outcome );
		return true;
	}

	/**
	 * The process decides a signalled action asynchronously: wait a little for its record of
	 * this user's action.
	 * @return array{0:?array,1:?array} the record (null when not recorded yet) and the last status read
	 */
	private function awaitRecord( string $id, string $action, int $approvals, int $actions ): array {
		$user = $this->getUser()->getName();
		$process = null;
		for ( $i = 0; $i < self::RECORD_WAIT_TRIES; $i++ ) {
			usleep( self::RECORD_WAIT_MICROSECONDS );
			try {
				$process = $this->client->process( $id );
			} catch ( HookError $e ) {
				return [ null, null ];
			}
			$records = array_merge( array_slice( (array)( $process['approvals'] ?? [] ), $approvals ),
				array_slice( (array)( $process['actions'] ?? [] ), $actions ) );
			foreach ( $records as $r ) {
				$name = ProcessView::actionName( (string)( $r['decision'] ?? $r['action'] ?? '' ) );
				if ( ( $r['user'] ?? '' ) === $user && $name === $action ) {
					return [ $r, $process ];
				}
			}
		}
		return [ null, $process ];
	}

	// ------------------------------------------------------------------ starting processes

	private function deletionForm(): HTMLForm {
		return $this->startForm( 'delete', [
			'reason' => [ 'type' => 'textarea', 'rows' => 3, 'required' => true, 'label-message' => 'wikiflow-field-reason' ],
		], true, fn ( array $data ) => $this->client->deleteWiki(
			$this->wiki(), $this->getUser()->getName(), trim( $data['reason'] ) ) )
			->setSubmitDestructive();
	}

	private function restoreForm(): HTMLForm {
		return $this->startForm( 'restore', [
			'wiki' => [ 'type' => 'text', 'required' => true, 'maxlength' => 64, 'label-message' => 'wikiflow-field-restore-wiki' ],
			'reason' => [ 'type' => 'textarea', 'rows' => 3, 'required' => true, 'label-message' => 'wikiflow-field-reason' ],
		], true, fn ( array $data ) => $this->client->restoreWiki(
			trim( (string)$data['wiki'] ), $this->getUser()->getName(), trim( $data['reason'] ) ) );
	}

	/**
	 * A form that starts one process: $start sends the submitted data to the endpoint and
	 * answers the new process's id, which the page then shows. Its messages are
	 * wikiflow-<name>-legend, -submit and, with $intro, -intro. An endpoint error is shown
	 * with the form and what the user typed.
	 */
	private function startForm( string $name, array $fields, bool $intro, callable $start ): HTMLForm {
		$form = HTMLForm::factory( 'ooui', $fields, $this->getContext() )
			->setFormIdentifier( "wikiflow-$name" )
			->setWrapperLegendMsg( "wikiflow-$name-legend" );
		if ( $intro ) {
			$form->addHeaderHtml( $this->msg( "wikiflow-$name-intro" )->parseAsBlock() );
		}
		return $form
			->setSubmitTextMsg( "wikiflow-$name-submit" )
			->setSubmitCallback( function ( array $data ) use ( $start ) {
				try {
					$id = $start( $data );
				} catch ( HookError $e ) {
					return $this->formError( $e );
				}
				$this->done( $id, [ 'started' => [ $id ] ] );
				return true;
			} );
	}

	/**
	 * Enable or disable one extension of the farm's registry; the worker checks the rest
	 * (requirements, conflicts, already enabled, a steward for restricted ones).
	 */
	private function extensionForm(): ?HTMLForm {
		$registry = json_decode( (string)@file_get_contents(
			(string)$this->getConfig()->get( 'WikiFlowExtensionRegistry' ) ), true );
		$names = array_keys( (array)( $registry['extensions'] ?? [] ) );
		if ( !$names ) {
			return null;
		}
		sort( $names );
		return $this->startForm( 'extension', [
			'extension' => [ 'type' => 'select', 'required' => true, 'label-message' => 'wikiflow-field-extension',
				'options' => array_combine( $names, $names ) ],
			'change' => [ 'type' => 'radio', 'default' => 'enable', 'label-message' => 'wikiflow-field-extension-change',
				'options-messages' => [ 'wikiflow-extension-enable' => 'enable', 'wikiflow-extension-disable' => 'disable' ] ],
			'reason' => [ 'type' => 'textarea', 'rows' => 2, 'label-message' => 'wikiflow-field-reason' ],
		], true, fn ( array $data ) => $this->client->changeExtension( $data['change'] === 'enable', $this->wiki(),
			(string)$data['extension'], $this->getUser()->getName(), trim( (string)$data['reason'] ) ) );
	}

	private function settingsForm(): ?HTMLForm {
		try {
			$registry = SettingsRegistry::load( (string)$this->getConfig()->get( 'WikiFlowSettingsRegistry' ) );
		} catch ( RuntimeException $e ) {
			$this->errorBox( $this->msg( 'wikiflow-error-registry' )->plaintextParams( $e->getMessage() ) );
			return null;
		}
		$fields = $registry->formFields( fn ( array $def ) => $this->current( $def ),
			$this->msg( 'wikiflow-setting-restricted' )->text() );
		$fields['reason'] = [ 'type' => 'text', 'maxlength' => 500, 'label-message' => 'wikiflow-field-reason' ];
		return HTMLForm::factory( 'ooui', $fields, $this->getContext() )
			->setFormIdentifier( 'wikiflow-settings' )
			->setWrapperLegendMsg( 'wikiflow-settings-legend' )
			->addHeaderHtml( $this->msg( 'wikiflow-settings-intro' )->parseAsBlock() )
			->setSubmitTextMsg( 'wikiflow-settings-submit' )
			->setSubmitCallback( fn ( array $data ) => $this->submitSettings( $registry, $data ) );
	}

	/** The wiki's current value of a setting (LocalSettings applied the wiki's values). */
	private function current( array $def ) {
		$name = (string)$def['name'];
		$key = str_starts_with( $name, 'wg' ) ? substr( $name, 2 ) : '';
		$config = $this->getConfig();
		return ( $key !== '' && $config->has( $key ) ) ? $config->get( $key ) : ( $def['default'] ?? null );
	}

	/**
	 * One change-setting process per setting whose value differs from the current one.
	 * @return true|Status
	 */
	private function submitSettings( SettingsRegistry $registry, array $data ) {
		$status = Status::newGood();
		$started = [];
		foreach ( $registry->settings() as $def ) {
			$new = SettingsRegistry::valueOf( $def, $data[SettingsRegistry::field( $def )] ?? null );
			if ( SettingsRegistry::same( $def, $new, SettingsRegistry::valueOf( $def, $this->current( $def ) ) ) ) {
				continue;
			}
			try {
				$started[] = $this->client->changeSetting( $this->wiki(), $def['name'], $new,
					$this->getUser()->getName(), trim( (string)$data['reason'] ) );
			} catch ( HookError $e ) {
				$status->fatal( 'wikiflow-error-setting', Message::plaintextParam( $def['name'] ),
					Message::plaintextParam( $e->getMessage() ) );
			}
		}
		if ( $status->isGood() && !$started ) {
			return Status::newFatal( 'wikiflow-error-nothing-changed' );
		}
		if ( !$status->isGood() ) {
			if ( $started ) {
				$status->warning( 'wikiflow-settings-partly-started', Message::plaintextParam( implode( ', ', $started ) ) );
			}
			return $status;
		}
		$this->done( count( $started ) === 1 ? $started[0] : '', [ 'started' => $started ] );
		return true;
	}

	private function requestForm(): HTMLForm {
		return $this->startForm( 'request', [
			'dbname' => [ 'type' => 'text', 'required' => true, 'maxlength' => 64,
				'label-message' => 'wikiflow-field-dbname', 'help-message' => 'wikiflow-field-dbname-help' ],
			'sitename' => [ 'type' => 'text', 'required' => true, 'maxlength' => 255, 'label-message' => 'wikiflow-field-sitename' ],
			'language' => [ 'type' => 'language', 'default' => $this->getConfig()->get( 'LanguageCode' ),
				'label-message' => 'wikiflow-field-language' ],
			'private' => [ 'type' => 'check', 'label-message' => 'wikiflow-field-private' ],
			'category' => [ 'type' => 'text', 'default' => 'uncategorised', 'maxlength' => 64,
				'label-message' => 'wikiflow-field-category' ],
			'reason' => [ 'type' => 'textarea', 'rows' => 3, 'required' => true, 'label-message' => 'wikiflow-field-reason' ],
		], false, fn ( array $data ) => $this->client->requestWiki( [
			'wiki' => trim( $data['dbname'] ), 'sitename' => trim( $data['sitename'] ),
			'language' => (string)$data['language'], 'private' => (bool)$data['private'],
			'category' => trim( $data['category'] ), 'user' => $this->getUser()->getName(),
			'reason' => trim( $data['reason'] ),
		] ) );
	}

	// ------------------------------------------------------------------ forms, outcomes, errors

	private function showForm( HTMLForm $form ): void {
		$this->getOutput()->addHTML( $this->formHtml( $form ) );
	}

	/**
	 * A form's HTML; submits it first when this request posted it with a valid edit token
	 * (HTMLForm checks the token and the form identifier again). A successful submit
	 * redirects, so nothing is shown then.
	 */
	private function formHtml( HTMLForm $form ): string {
		$form->prepareForm();
		$result = $this->refusePost ? false : $form->tryAuthorizedSubmit();
		if ( $result === true || ( $result instanceof Status && $result->isGood() ) ) {
			return '';
		}
		return $form->getHTML( $result );
	}

	/** After a successful POST: remember the outcome and show it on the page redirected to (GET). */
	private function done( string $id, array $outcome ): void {
		$this->getRequest()->getSession()->set( self::OUTCOME, $outcome );
		$this->getOutput()->redirect( SpecialPage::getTitleFor( 'Processes', $id !== '' ? $id : false )->getFullURL(), '303' );
	}

	private function showOutcome(): void {
		$session = $this->getRequest()->getSession();
		$outcome = $session->get( self::OUTCOME );
		if ( !is_array( $outcome ) ) {
			return;
		}
		$session->remove( self::OUTCOME );
		$this->getOutput()->addHTML( $this->outcomeHtml( $outcome ) );
	}

	/** The boxes telling what a POST did: processes started, or the process's record of an action. */
	private function outcomeHtml( array $outcome ): string {
		$html = '';
		foreach ( (array)( $outcome['started'] ?? [] ) as $id ) {
			$html .= Html::successBox(
				$this->msg( 'wikiflow-outcome-started' )->rawParams( $this->view->processLink( (string)$id ) )->escaped() );
		}
		if ( isset( $outcome['action'] ) ) {
			$label = $this->view->label( 'wikiflow-action-', (string)$outcome['action'] );
			$record = $outcome['record'] ?? null;
			if ( !is_array( $record ) ) {
				$html .= Html::warningBox( $this->msg( 'wikiflow-outcome-pending' )->plaintextParams( $label )->parse() );
			} elseif ( !empty( $record['accepted'] ) ) {
				$html .= Html::successBox( $this->msg( 'wikiflow-outcome-accepted' )->plaintextParams( $label )->parse() );
			} else {
				$html .= Html::errorBox( $this->msg( 'wikiflow-outcome-refused' )
					->plaintextParams( $label, (string)( $record['reason'] ?? '' ) )->parse() );
			}
		}
		return $html;
	}

	/** The message key telling the user about an endpoint error. */
	private static function errorKey( HookError $e ): string {
		return match ( $e->getErrorCode() ) {
			HookError::UNREACHABLE => 'wikiflow-error-unreachable',
			HookError::NOT_CONFIGURED => 'wikiflow-error-not-configured',
			'unauthorized' => 'wikiflow-error-unauthorized',
			'unknown_process' => 'wikiflow-error-unknown-process',
			'refused', 'invalid_request' => 'wikiflow-error-refused',
			'unsupported_action' => 'wikiflow-error-unsupported',
			default => 'wikiflow-error-endpoint',
		};
	}

	/** The error box shown instead of the page's content when the endpoint fails. */
	private function hookError( HookError $e ): void {
		$this->errorBox( $this->msg( self::errorKey( $e ) )->plaintextParams(
			(string)$this->getConfig()->get( 'WikiFlowHookURL' ), $e->getMessage(), $e->getErrorCode() ) );
	}

	/** An endpoint error as a form error, shown with the form and what the user typed. */
	private function formError( HookError $e ): Status {
		return Status::newFatal( self::errorKey( $e ), Message::plaintextParam( (string)$this->getConfig()->get( 'WikiFlowHookURL' ) ),
			Message::plaintextParam( $e->getMessage() ), Message::plaintextParam( $e->getErrorCode() ) );
	}

	private function errorBox( Message $msg ): void {
		$this->getOutput()->addHTML( Html::errorBox( $msg->parse(), '', 'wikiflow-error' ) );
	}
}
