package main

import (
	"database/sql"
	"time"
)

// Connection pool sizes (see sqlstore's package doc, "Connection pools").
// database/sql keeps only two idle connections by default: under sixteen
// concurrent clients the demo on PostgreSQL opened about a hundred new
// connections every four seconds and served an authenticated page at 0.05
// to 0.08 of a bare server's rate, with a p99 near a second.
const (
	// postgresConns: a few times the cores of a small database server, and
	// well under PostgreSQL's default max_connections (100), so that
	// several instances of the app fit.
	postgresConns = 16
	// sqliteConns: writers take turns on the file anyway; with WAL a few
	// connections let reads run beside a write.
	sqliteConns = 4
)

// sizePool keeps up to n connections open and all of them idle for reuse,
// sheds them when traffic stops, and renews them hourly.
func sizePool(db *sql.DB, n int) {
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
}
