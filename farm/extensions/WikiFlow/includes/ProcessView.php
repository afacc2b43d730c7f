<?php

namespace MediaWiki\Extension\WikiFlow;

use DateTimeImmutable;
use Exception;
use Html;
use IContextSource;
use SpecialPage;

/**
 * HTML for processes as the endpoint gives them: lists, a status with its steps, approvals,
 * actions and result. Every text is escaped (Html::element) or an escaped message.
 */
class ProcessView {
	public function __construct( private IContextSource $context ) {
	}

	/** A table of list entries (id, kind, state, wiki, requester, started); $extra adds a last column. */
	public function processTable( array $processes, bool $withWiki, ?callable $extra = null, string $extraHeader = '' ): string {
		$headers = [ 'wikiflow-col-id', 'wikiflow-col-kind', 'wikiflow-col-state', 'wikiflow-col-requester',
			'wikiflow-col-started' ];
		if ( $withWiki ) {
			array_splice( $headers, 2, 0, [ 'wikiflow-col-wiki' ] );
		}
		$rows = [];
		foreach ( $processes as $p ) {
			$cells = [
				Html::rawElement( 'td', [], $this->processLink( (string)( $p['id'] ?? '' ) ) ),
				Html::element( 'td', [], $this->label( 'wikiflow-kind-', (string)( $p['kind'] ?? '' ) ) ),
				Html::rawElement( 'td', [], $this->state( (string)( $p['state'] ?? '' ) ) ),
				Html::element( 'td', [], (string)( $p['requester'] ?? '' ) ),
				Html::element( 'td', [], $this->date( $p['started'] ?? null ) ),
			];
			if ( $withWiki ) {
				array_splice( $cells, 2, 0, [ Html::element( 'td', [], (string)( $p['wiki'] ?? '' ) ) ] );
			}
			if ( $extra ) {
				$cells[] = Html::rawElement( 'td', [], $extra( $p ) );
			}
			$rows[] = $cells;
		}
		$head = array_map( fn ( $h ) => $this->context->msg( $h )->text(), $headers );
		if ( $extra ) {
			$head[] = $extraHeader;
		}
		return $this->table( $head, $rows, 'wikiflow-processes' );
	}

	/** The summary of a status: the state, what, which wiki, who, when, and the link to the Web UI. */
	public function summary( array $p, string $uiUrl ): string {
		$result = is_array( $p['result'] ?? null ) ? $p['result'] : [];
		$html = $this->summaryRow( 'wikiflow-col-state', $this->state( (string)( $p['state'] ?? '' ) ) );
		$plain = [
			'wikiflow-col-kind' => $this->label( 'wikiflow-kind-', (string)( $p['kind'] ?? '' ) ),
			'wikiflow-col-wiki' => (string)( $p['wiki'] ?? '' ),
			'wikiflow-col-requester' => (string)( $p['requester'] ?? '' ),
			'wikiflow-col-reason' => (string)( $result['reason'] ?? '' ),
			'wikiflow-col-started' => $this->date( $p['started'] ?? null ),
			'wikiflow-col-ended' => $this->date( $p['ended'] ?? null ),
			'wikiflow-col-attention-until' => $this->date( $p['attention_until'] ?? null ),
		];
		foreach ( $plain as $key => $text ) {
			if ( $text !== '' ) {
				$html .= $this->summaryRow( $key, htmlspecialchars( $text ) );
			}
		}
		$html = Html::rawElement( 'table', [ 'class' => 'wikitable wikiflow-summary' ], $html );
		if ( preg_match( '#^https?://#', $uiUrl ) ) {
			$html .= Html::rawElement( 'p', [ 'class' => 'wikiflow-ui-link' ], Html::element( 'a',
				[ 'href' => $uiUrl, 'class' => 'external', 'rel' => 'nofollow noopener' ],
				$this->context->msg( 'wikiflow-ui-link' )->text() ) );
		}
		return $html;
	}

	private function summaryRow( string $key, string $valueHtml ): string {
		return Html::rawElement( 'tr', [],
			Html::element( 'th', [], $this->context->msg( $key )->text() ) . Html::rawElement( 'td', [], $valueHtml ) );
	}

	public function steps( array $p ): string {
		$rows = [];
		foreach ( (array)( $p['steps'] ?? [] ) as $s ) {
			$error = (string)( $s['error'] ?? '' );
			if ( !empty( $s['undone'] ) ) {
				$error = trim( $error . ' ' . $this->context->msg( 'wikiflow-step-undone' )->text() );
			}
			if ( ( $s['undo_error'] ?? '' ) !== '' ) {
				$error = trim( $error . ' ' . $this->context->msg( 'wikiflow-step-undo-error' )->plaintextParams( (string)$s['undo_error'] )->text() );
			}
			$rows[] = [
				Html::element( 'td', [], (string)( $s['name'] ?? '' )
					. ( empty( $s['critical'] ) ? ' ' . $this->context->msg( 'wikiflow-step-optional' )->text() : '' ) ),
				Html::rawElement( 'td', [], $this->state( (string)( $s['state'] ?? '' ) ) ),
				Html::element( 'td', [], (string)(int)( $s['attempts'] ?? 0 ) ),
				Html::element( 'td', [], $error !== '' ? $error : (string)( $s['summary'] ?? '' ) ),
			];
		}
		return $this->section( 'wikiflow-steps', [ 'wikiflow-col-step', 'wikiflow-col-state', 'wikiflow-col-attempts',
			'wikiflow-col-error' ], $rows );
	}

	public function approvals( array $p ): string {
		$rows = [];
		foreach ( (array)( $p['approvals'] ?? [] ) as $a ) {
			$rows[] = [
				Html::element( 'td', [], (string)( $a['user'] ?? '' ) ),
				Html::element( 'td', [], $this->label( 'wikiflow-action-', (string)( $a['decision'] ?? '' ) ) ),
				$this->accepted( $a, !empty( $a['override'] ) ),
				Html::element( 'td', [], trim( ( $a['reason'] ?? '' ) . ' ' . ( $a['comment'] ?? '' ) ) ),
				Html::element( 'td', [], $this->date( $a['time'] ?? null ) ),
			];
		}
		return $this->section( 'wikiflow-approvals', [ 'wikiflow-col-user', 'wikiflow-col-decision',
			'wikiflow-col-accepted', 'wikiflow-col-reason', 'wikiflow-col-time' ], $rows );
	}

	public function actions( array $p ): string {
		$rows = [];
		foreach ( (array)( $p['actions'] ?? [] ) as $a ) {
			$action = (string)( $a['action'] ?? '' );
			$rows[] = [
				Html::element( 'td', [], (string)( $a['user'] ?? '' ) ),
				Html::element( 'td', [], $this->label( 'wikiflow-action-', self::actionName( $action ) )
					. ( ( $a['step'] ?? '' ) !== '' ? ' (' . $a['step'] . ')' : '' ) ),
				$this->accepted( $a, false ),
				Html::element( 'td', [], (string)( $a['reason'] ?? '' ) ),
				Html::element( 'td', [], $this->date( $a['time'] ?? null ) ),
			];
		}
		return $this->section( 'wikiflow-actions', [ 'wikiflow-col-user', 'wikiflow-col-action',
			'wikiflow-col-accepted', 'wikiflow-col-reason', 'wikiflow-col-time' ], $rows );
	}

	public function result( array $p ): string {
		$rows = [];
		foreach ( (array)( $p['result'] ?? [] ) as $key => $value ) {
			$rows[] = [ Html::element( 'td', [], (string)$key ),
				Html::element( 'td', [], is_scalar( $value ) ? (string)$value : json_encode( $value ) ) ];
		}
		return $this->section( 'wikiflow-result', [ 'wikiflow-col-key', 'wikiflow-col-value' ], $rows );
	}

	/** The record names of the endpoint's actions: retry is recorded as retry-step. */
	public static function actionName( string $recorded ): string {
		return $recorded === 'retry-step' ? ProcessActions::RETRY : $recorded;
	}

	public function processLink( string $id ): string {
		if ( !preg_match( ProcessActions::ID_PATTERN, $id ) ) {
			return htmlspecialchars( $id );
		}
		return Html::element( 'a', [ 'href' => SpecialPage::getTitleFor( 'Processes', $id )->getLocalURL() ], $id );
	}

	/** A state as a labelled span whose class names it (wikiflow-state-<state>). */
	public function state( string $state ): string {
		return Html::element( 'span', [ 'class' => 'wikiflow-state wikiflow-state-' . preg_replace( '/[^a-z-]/', '', $state ) ],
			$this->label( 'wikiflow-state-', $state ) );
	}

	/** The message <prefix><value> when it exists, else the value itself. */
	public function label( string $prefix, string $value ): string {
		$msg = $this->context->msg( $prefix . $value );
		return ( $value !== '' && $msg->exists() ) ? $msg->text() : $value;
	}

	public function date( $iso ): string {
		if ( !is_string( $iso ) || $iso === '' ) {
			return '';
		}
		try {
			$ts = ( new DateTimeImmutable( $iso ) )->getTimestamp();
		} catch ( Exception $e ) {
			return $iso;
		}
		return $this->context->getLanguage()->userTimeAndDate( wfTimestamp( TS_MW, $ts ), $this->context->getUser() );
	}

	private function accepted( array $record, bool $override ): string {
		$key = !empty( $record['accepted'] ) ? ( $override ? 'wikiflow-accepted-override' : 'wikiflow-accepted' )
			: 'wikiflow-refused';
		return Html::element( 'td', [ 'class' => !empty( $record['accepted'] ) ? 'wikiflow-accepted' : 'wikiflow-refused' ],
			$this->context->msg( $key )->text() );
	}

	/** A heading and a table, or nothing when there are no rows. */
	private function section( string $key, array $headers, array $rows ): string {
		if ( !$rows ) {
			return '';
		}
		return Html::element( 'h3', [], $this->context->msg( $key )->text() )
			. $this->table( array_map( fn ( $h ) => $this->context->msg( $h )->text(), $headers ), $rows, $key );
	}

	/** @param list<list<string>> $rows rows of <td> HTML */
	private function table( array $headers, array $rows, string $class ): string {
		$html = Html::rawElement( 'tr', [], implode( '', array_map(
			static fn ( $h ) => Html::element( 'th', [], $h ), $headers ) ) );
		foreach ( $rows as $cells ) {
			$html .= Html::rawElement( 'tr', [], implode( '', $cells ) );
		}
		return Html::rawElement( 'table', [ 'class' => "wikitable $class" ], $html );
	}
}
