package config

// Protected tells whether a wiki may never be deleted, renamed or moved:
// the central wiki and those listed in processes.protected_wikis.
func (c *Config) Protected(db string) bool {
	if db == c.MediaWiki.CentralWiki {
		return true
	}
	for _, w := range c.Processes.ProtectedWikis {
		if w == db {
			return true
		}
	}
	return false
}
