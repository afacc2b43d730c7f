<?php

namespace MediaWiki\Extension\WikiFlow;

use RuntimeException;

/**
 * A log entry FarmLogWriter did not write, or wrote without publishing it.
 *
 * The kind says what a caller may do: REFUSED input will never be logged (the script exits 2,
 * the API answers wikiflow-refused); a LOCKED key or an UNPUBLISHED entry is worth another try
 * with the same key (the script exits 1, the API answers wikiflow-locked or wikiflow-unpublished).
 */
class FarmLogError extends RuntimeException {
	public const REFUSED = 'refused';
	public const LOCKED = 'locked';
	public const UNPUBLISHED = 'unpublished';

	/** @var string One of the constants above. */
	private $kind;
	/** @var array|null What was written, for UNPUBLISHED. */
	private $result;

	public function __construct( string $kind, string $message, ?array $result = null ) {
		parent::__construct( $message );
		$this->kind = $kind;
		$this->result = $result;
	}

	public function getKind(): string {
		return $this->kind;
	}

	public function isRefusal(): bool {
		return $this->kind === self::REFUSED;
	}

	/** The writer's result (wiki, logid, performer, created, published) when an entry was written. */
	public function getResult(): ?array {
		return $this->result;
	}
}
