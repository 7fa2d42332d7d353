package audit_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
)

func newEd25519(t testing.TB) audit.Key {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	k, err := audit.NewEd25519Key("ed1", priv)
	require.NoError(t, err)
	return k
}

// mustKey unwraps a key constructor for tests, whose keys are valid.
func mustKey[K any](k K, err error) K {
	if err != nil {
		panic(err)
	}
	return k
}

// mustLog unwraps audit.New for tests, whose configurations are valid.
func mustLog(l *audit.Log, err error) *audit.Log {
	if err != nil {
		panic(err)
	}
	return l
}

// verifyOne returns the report of the one stream Log.Verify was asked
// for (the last, on an error), for tests written per stream.
func verifyOne(reps []audit.VerifyReport, err error) (audit.VerifyReport, error) {
	var rep audit.VerifyReport
	if len(reps) > 0 {
		rep = reps[len(reps)-1]
	}
	return rep, err
}
