<?php

namespace MediaWiki\Extension\WikiFlow;

use Config;
use WebRequest;

/**
 * The one signature between a wiki and the WikiFlow worker, in both directions (docs/hook.md):
 * X-WikiFlow-Timestamp (Unix seconds) and X-WikiFlow-Signature "sha256=" + hex HMAC-SHA256,
 * keyed with the farm's shared secret, of timestamp\nMETHOD\npath-with-query\nbody. The wiki
 * signs its calls of the hook endpoint; the worker signs its calls of action=wikiflowwrite.
 */
class SignedRequest {
	/** How far a timestamp may be from this server's clock, as the hook endpoint allows. */
	public const WINDOW = 300;

	public const HEADER_TIMESTAMP = 'X-WikiFlow-Timestamp';
	public const HEADER_SIGNATURE = 'X-WikiFlow-Signature';

	public static function sign( string $secret, int $timestamp, string $method, string $pathWithQuery, string $body ): string {
		return 'sha256=' . hash_hmac( 'sha256', "$timestamp\n$method\n$pathWithQuery\n$body", $secret );
	}

	/**
	 * The shared secret: $wgWikiFlowHookSecret, or else the content of $wgWikiFlowHookSecretFile;
	 * '' when neither is set.
	 */
	public static function secret( Config $config ): string {
		$secret = (string)$config->get( 'WikiFlowHookSecret' );
		$file = (string)$config->get( 'WikiFlowHookSecretFile' );
		if ( $secret === '' && $file !== '' ) {
			$secret = trim( (string)@file_get_contents( $file ) );
		}
		return $secret;
	}

	/**
	 * Checks a request received by this wiki against the secret at time $now.
	 * @return array{0:?string,1:string} [why it is refused or null, the signature]
	 */
	public static function check( WebRequest $request, string $secret, int $now ): array {
		$got = (string)$request->getHeader( self::HEADER_SIGNATURE );
		$timestamp = (string)$request->getHeader( self::HEADER_TIMESTAMP );
		if ( $secret === '' || $got === '' || !preg_match( '/^-?\d{1,12}$/', $timestamp ) ) {
			return [ 'the request is not signed', $got ];
		}
		$want = self::sign( $secret, (int)$timestamp, $request->getMethod(), $request->getRequestURL(),
			$request->getRawInput() );
		if ( !hash_equals( $want, $got ) ) {
			return [ 'the signature does not match', $got ];
		}
		if ( abs( $now - (int)$timestamp ) > self::WINDOW ) {
			return [ 'the request is stale', $got ];
		}
		return [ null, $got ];
	}
}
