package redisstore_test

import (
	"encoding/hex"

	"github.com/bulwarkhq/bulwark/store/redisstore"
)

func redisHex(h [32]byte) string { return hex.EncodeToString(h[:]) }

// sessionKey is the key of the session with token hash h in st.
func sessionKey(st *redisstore.Store, h [32]byte) string {
	return st.Key("{bulwark-session}", "t", redisHex(h))
}
