package redisstore

// Exported for the external tests: the session record codec.
var (
	DecodeSession = decodeSession
	EncodeSession = encodeSession
)

// SessionHashKey and SessionUserKey name session keys as the store does.
func SessionHashKey(st *SessionStore, kind string, h [32]byte) string { return st.hashKey(kind, h) }
func SessionUserKey(st *SessionStore, kind, userID string) string     { return st.userKey(kind, userID) }
