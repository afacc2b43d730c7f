package config

import (
	"fmt"

	"github.com/go-sql-driver/mysql"
)

// RequestsDefaultCluster is the cluster whose server holds the central
// wiki's database when database.requests_dsn is empty.
const RequestsDefaultCluster = "c1"

// RequestsDatabaseDSN is the DSN (without password) of the database that
// holds CreateWiki's request tables: database.requests_dsn, or else the
// central wiki's database on cluster c1's server.
func (c *Config) RequestsDatabaseDSN() (string, error) {
	if c.Database.RequestsDSN != "" {
		return c.Database.RequestsDSN, nil
	}
	base, ok := c.Database.Clusters[RequestsDefaultCluster]
	if !ok {
		return "", fmt.Errorf("empty, and there is no cluster %s whose server holds the central wiki's database: set it (CreateWiki's virtual-createwiki-central)", RequestsDefaultCluster)
	}
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		return "", err
	}
	cfg.DBName = c.MediaWiki.CentralWiki
	return cfg.FormatDSN(), nil
}

// DSNWithPassword returns a DSN with the configured password filled in.
func (c *Config) DSNWithPassword(base string) (string, error) {
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		return "", err
	}
	cfg.Passwd = c.Database.Password
	cfg.ParseTime = true
	cfg.MultiStatements = false
	return cfg.FormatDSN(), nil
}
