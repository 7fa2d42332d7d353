package redisstore_test

import (
	"github.com/bulwarkhq/bulwark/store/redisstore"
)

// sessionKey is the key of the session with token hash h in st.
func sessionKey(st *redisstore.Store, h [32]byte) string {
	return redisstore.SessionHashKey(st.Session(), "t", h)
}
