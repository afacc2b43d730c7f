<?php

namespace MediaWiki\Extension\WikiFlow;

use RuntimeException;

/**
 * A request to WikiFlow's hook endpoint that did not succeed: the endpoint's own error
 * (its stable code and message, docs/hook.md) or "unreachable" when no answer came.
 */
class HookError extends RuntimeException {
	public const UNREACHABLE = 'unreachable';
	public const NOT_CONFIGURED = 'not_configured';
	public const BAD_ANSWER = 'bad_answer';

	public function __construct(
		private string $errorCode,
		string $message,
		private int $httpStatus = 0
	) {
		parent::__construct( $message );
	}

	/** The endpoint's code (refused, invalid_request, unknown_process, ...) or one of the constants above. */
	public function getErrorCode(): string {
		return $this->errorCode;
	}

	/** The HTTP status of the answer; 0 when there was none. */
	public function getHttpStatus(): int {
		return $this->httpStatus;
	}
}
