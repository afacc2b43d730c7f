<?php

namespace MediaWiki\Extension\WikiFlow;

use RuntimeException;

/**
 * The farm's settings registry (farm/settings.json): which settings a wiki may change, their
 * types, limits, formats and what each value becomes on the wiki ("output"). The setting form has
 * one field per entry; the form checks nothing itself: the endpoint checks the value against the
 * same registry (settings.Registry.Check), plain-text and url formats included.
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
			$value = self::unescaped( $def, $current( $def ) );
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
					// The browser's own check of a url field is only a hint: the worker checks again.
					: [ 'type' => ( $def['format'] ?? null ) === 'url' ? 'url' : 'text', 'default' => (string)$value,
						'maxlength' => 1024 ],
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

	/**
	 * A setting's value as the wiki's configuration has it, back as it is stored. LocalSettings.php
	 * HTML-escapes plain text that MediaWiki prints as raw HTML ("output": "html", "format":
	 * "plain-text"); plain text never holds a character reference, so decoding gives back exactly
	 * the stored value, and decoding a value that was not escaped changes nothing.
	 * @param mixed $value
	 * @return mixed
	 */
	public static function unescaped( array $def, $value ) {
		if ( ( $def['output'] ?? null ) !== 'html' || ( $def['format'] ?? null ) !== 'plain-text' ) {
			return $value;
		}
		$decode = static fn ( $v ) => is_string( $v ) ? htmlspecialchars_decode( $v, ENT_QUOTES ) : $v;
		return is_array( $value ) ? array_map( $decode, $value ) : $decode( $value );
	}

	/**
	 * Whether a new value of a setting ($a) is its current one ($b, as the wiki's configuration
	 * has it, see unescaped()); a list in any order.
	 */
	public static function same( array $def, $a, $b ): bool {
		$b = self::unescaped( $def, $b );
		if ( $def['type'] === 'list' ) {
			$a = (array)$a;
			$b = (array)$b;
			sort( $a );
			sort( $b );
		}
		return $a === $b;
	}
}
