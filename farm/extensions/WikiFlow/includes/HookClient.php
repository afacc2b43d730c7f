<?php

namespace MediaWiki\Extension\WikiFlow;

use MediaWiki\Http\HttpRequestFactory;
use Message;
use StatusValue;

/**
 * The wiki's client of WikiFlow's hook endpoint, each call signed (SignedRequest).
 *
 * Every method returns the decoded answer or throws HookError.
 */
class HookClient {
	/** Seconds to connect and to wait for an answer. */
	private const TIMEOUT = 5;
	/**
	 * Starting a process answers once the workflow has checked the request (the user's
	 * rights are asked of MediaWiki), which the endpoint allows up to 20 s.
	 */
	private const START_TIMEOUT = 20;

	/**
	 * @param HttpRequestFactory $http
	 * @param string $baseUrl the endpoint's base URL
	 * @param string $secret the shared secret
	 * @param string $viewer the logged-in user's name, '' for a reader who is not logged in: every
	 *  read names them, and the endpoint answers only what they may see (a private wiki's
	 *  processes only to those who may read it)
	 */
	public function __construct(
		private HttpRequestFactory $http,
		private string $baseUrl,
		private string $secret,
		private string $viewer = ''
	) {
		$this->baseUrl = rtrim( $baseUrl, '/' );
	}

	/**
	 * GET /v1/processes?wiki=<db> or ?kind=request-wiki, newest first.
	 * @param array<string,string> $filter wiki and/or kind
	 * @return list<array<string,mixed>>
	 */
	public function listProcesses( array $filter ): array {
		$answer = $this->get( '/v1/processes', $filter );
		return array_values( array_filter( (array)( $answer['processes'] ?? [] ), 'is_array' ) );
	}

	/** GET /v1/processes/<id>: the status (steps, approvals, actions, result) and ui_url. */
	public function process( string $id ): array {
		return $this->get( '/v1/processes/' . self::checkId( $id ), [] );
	}

	/** POST /v1/processes/delete-wiki; returns the new process's ID. */
	public function deleteWiki( string $wiki, string $user, string $reason ): string {
		return $this->start( 'delete-wiki', [ 'wiki' => $wiki, 'user' => $user, 'reason' => $reason ] );
	}

	/** POST /v1/processes/restore-wiki; returns the new process's ID. */
	public function restoreWiki( string $wiki, string $user, string $reason ): string {
		return $this->start( 'restore-wiki', [ 'wiki' => $wiki, 'user' => $user, 'reason' => $reason ] );
	}

	/**
	 * POST /v1/processes/change-setting; returns the new process's ID.
	 * @param mixed $value the new value as a JSON value (bool, int, string, list)
	 */
	public function changeSetting( string $wiki, string $setting, $value, string $user, string $reason ): string {
		return $this->start( 'change-setting',
			[ 'wiki' => $wiki, 'setting' => $setting, 'value' => $value, 'user' => $user, 'reason' => $reason ] );
	}

	/** POST /v1/processes/enable-extension (or disable-extension); returns the new process's ID. */
	public function changeExtension( bool $enable, string $wiki, string $extension, string $user, string $reason ): string {
		return $this->start( $enable ? 'enable-extension' : 'disable-extension',
			[ 'wiki' => $wiki, 'extension' => $extension, 'user' => $user, 'reason' => $reason ] );
	}

	/**
	 * POST /v1/processes/request-wiki; returns the new process's ID.
	 * @param array $request wiki, sitename, language, private, category, user, reason
	 */
	public function requestWiki( array $request ): string {
		return $this->start( 'request-wiki', $request );
	}

	/**
	 * POST /v1/processes/<id>/actions: the endpoint signals the process and answers at once;
	 * the process decides and records the outcome in its status.
	 * @param array $action action, user, comment, step
	 */
	public function act( string $id, array $action ): void {
		$this->call( 'POST', '/v1/processes/' . self::checkId( $id ) . '/actions', $this->json( $action ), self::TIMEOUT );
	}

	/** An ID goes into the path as it is: only one that can be a process ID. */
	private static function checkId( string $id ): string {
		if ( !preg_match( ProcessActions::ID_PATTERN, $id ) ) {
			throw new HookError( 'invalid_request', "invalid process ID \"$id\"" );
		}
		return $id;
	}

	private function start( string $kind, array $body ): string {
		$answer = $this->call( 'POST', "/v1/processes/$kind", $this->json( $body ), self::START_TIMEOUT );
		return (string)( $answer['id'] ?? '' );
	}

	private function get( string $path, array $query ): array {
		// The endpoint refuses a signature it has already seen within 300 s, and two identical
		// reads signed in the same second (two people opening the same page) sign the same: a
		// nonce, ignored by the endpoint, makes every read unique.
		$query['nonce'] = bin2hex( random_bytes( 8 ) );
		// Signed with the rest: the endpoint trusts the name because the wiki sent it.
		$query['viewer'] = $this->viewer;
		return $this->call( 'GET', $path . '?' . http_build_query( $query, '', '&', PHP_QUERY_RFC3986 ), '', self::TIMEOUT );
	}

	private function json( array $body ): string {
		return json_encode( $body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR );
	}

	private function call( string $method, string $pathWithQuery, string $body, int $timeout ): array {
		if ( $this->secret === '' ) {
			throw new HookError( HookError::NOT_CONFIGURED, 'no shared secret is configured' );
		}
		$timestamp = time();
		$options = [ 'method' => $method, 'timeout' => $timeout, 'connectTimeout' => self::TIMEOUT,
			'followRedirects' => false ];
		if ( $method === 'POST' ) {
			$options['postData'] = $body;
		}
		$req = $this->http->create( $this->baseUrl . $pathWithQuery, $options, __METHOD__ );
		$req->setHeader( 'Content-Type', 'application/json' );
		$req->setHeader( SignedRequest::HEADER_TIMESTAMP, (string)$timestamp );
		$req->setHeader( SignedRequest::HEADER_SIGNATURE,
			SignedRequest::sign( $this->secret, $timestamp, $method, $pathWithQuery, $body ) );
		$status = $req->execute();
		if ( $req->getStatus() <= 0 ) {
			throw new HookError( HookError::UNREACHABLE, self::connectionError( $status ) );
		}
		$answer = json_decode( (string)$req->getContent(), true );
		if ( $status->isOK() ) {
			if ( !is_array( $answer ) ) {
				throw new HookError( HookError::BAD_ANSWER, 'the endpoint answered with something that is not JSON' );
			}
			return $answer;
		}
		if ( is_array( $answer ) && is_array( $answer['error'] ?? null ) ) {
			throw new HookError( (string)( $answer['error']['code'] ?? 'error' ),
				(string)( $answer['error']['message'] ?? '' ), $req->getStatus() );
		}
		throw new HookError( HookError::BAD_ANSWER, 'HTTP ' . $req->getStatus(), $req->getStatus() );
	}

	/** Why no answer came (connection refused, timed out), in English like the endpoint's messages. */
	private static function connectionError( StatusValue $status ): string {
		foreach ( $status->getErrorsByType( 'error' ) as $error ) {
			if ( $error['message'] !== 'http-bad-status' ) {
				return Message::newFromSpecifier( $error['message'] )->params( $error['params'] )->inLanguage( 'en' )->text();
			}
		}
		return 'no answer';
	}
}
