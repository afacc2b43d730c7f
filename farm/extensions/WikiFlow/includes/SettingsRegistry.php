<?php

namespace MediaWiki\Extension\WikiFlow;

use RuntimeException;

/**
 * The farm's settings registry (farm/settings.json): which settings a wiki may change, their
 * types and limits. The setting form has one field per entry; the endpoint checks the value
 * against the same registry again.
 */
class SettingsRegistry {
	/** @param list<array<string,mixed>> $settings */
	private function __construct( private array $settings ) {
	}

	public static function load( string $file ): self {
		$data = json_decode( (string)@file_get_contents( $file ), true );
		if ( !is_array( $data ) || !is_array( $data['settings'] ?? null ) ) {
			throw new RuntimeException( "the settings registry $file is missing or not valid JSON" );
		}
		$settings = array_values( array_filter( $data['settings'],
			static fn ( $d ) => is_array( $d ) && is_string( $d['name'] ?? null ) && is_string( $d['type'] ?? null ) ) );
		return new self( $settings );
	}

	/** @return list<array<string,mixed>> */
	public function settings(): array {
		return $this->settings;
	}

	/** The HTMLForm field name of a setting. */
	public static function field( array $def ): string {
		return 'setting-' . $def['name'];
	}

	/**
	 * HTMLForm fields, one per setting: a checkbox for bool, a number with min/max for int, a
	 * select for a string with allowed values (checkboxes for a list), text otherwise (a list
	 * as comma-separated values).
	 * @param callable(array):mixed $current the wiki's current value of a setting
	 * @param string $restricted the marker appended to a restricted setting's label
	 */
	public function formFields( callable $current, string $restricted ): array {
		$fields = [];
		foreach ( $this->settings as $def ) {
			$allowed = is_array( $def['allowed'] ?? null ) ? array_map( 'strval', $def['allowed'] ) : null;
			$value = $current( $def );
			$field = match ( $def['type'] ) {
				'bool' => [ 'type' => 'check', 'default' => (bool)$value ],
				'int' => [ 'type' => 'int', 'default' => (int)$value ]
					+ array_intersect_key( $def, [ 'min' => 1, 'max' => 1 ] ),
				'list' => $allowed !== null
					? [ 'type' => 'multiselect', 'options' => array_combine( $allowed, $allowed ),
						'default' => (array)$value, 'flatlist' => true ]
					: [ 'type' => 'text', 'default' => implode( ', ', (array)$value ) ],
				default => $allowed !== null
					? [ 'type' => 'select', 'options' => array_combine( $allowed, $allowed ), 'default' => (string)$value ]
					: [ 'type' => 'text', 'default' => (string)$value ],
			};
			$fields[self::field( $def )] = $field + [
				'label' => $def['name'] . ( !empty( $def['restricted'] ) ? ' ' . $restricted : '' ),
				// 'help' is HTML in HTMLForm.
				'help' => htmlspecialchars( (string)( $def['description'] ?? '' ) ),
			];
		}
		return $fields;
	}

	/**
	 * The JSON value of a submitted field.
	 * @param mixed $submitted what HTMLForm gives for the field
	 * @return mixed
	 */
	public static function valueOf( array $def, $submitted ) {
		return match ( $def['type'] ) {
			'bool' => (bool)$submitted,
			'int' => (int)$submitted,
			'list' => is_array( $submitted )
				? array_values( array_map( 'strval', $submitted ) )
				: array_values( array_filter( array_map( 'trim', explode( ',', (string)$submitted ) ), 'strlen' ) ),
			default => (string)$submitted,
		};
	}

	/** Whether two values of a setting are the same (a list in any order). */
	public static function same( array $def, $a, $b ): bool {
		if ( $def['type'] === 'list' ) {
			$a = (array)$a;
			$b = (array)$b;
			sort( $a );
			sort( $b );
		}
		return $a === $b;
	}
}
