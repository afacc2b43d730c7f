<?php
/**
 * Aliases for the special page of the WikiFlow extension.
 *
 * @file
 */

$specialPageAliases = [];

/** English */
$specialPageAliases['en'] = [
	'Processes' => [ 'Processes' ],
];
