// Package skipdemo is run by testenv's own test, with the servers unset and
// under a pseudo-terminal, to see what plain go test shows.
package skipdemo_test

import (
	"testing"

	"github.com/bulwarkhq/bulwark/internal/testenv"
)

func TestPostgresA(t *testing.T) { testenv.Postgres(t) }

func TestPostgresB(t *testing.T) { testenv.PostgresDSN(t) }

func TestRedis(t *testing.T) { testenv.Redis(t) }

func TestSQLite(t *testing.T) { testenv.SQLite(t) }
