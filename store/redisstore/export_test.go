package redisstore

import (
	"github.com/redis/go-redis/v9"

	"github.com/bulwarkhq/bulwark/session"
)

// ClientOf returns the client s runs on.
func ClientOf(s *Store) redis.UniversalClient { return s.client }

// PrefixOf returns s's key prefix.
func PrefixOf(s *Store) string { return s.prefix }

// KeyOf names a key as s does: the prefix and parts joined with ':'.
func KeyOf(s *Store, parts ...string) string { return s.key(parts...) }

// Exported for the external tests: the session record codec.
var (
	DecodeSession = decodeSession
	EncodeSession = encodeSession
)

// SessionHashKey and SessionUserKey name session keys as the store does.
// They take what [Store.Session] returns, which must be this package's.
func SessionHashKey(st session.Store, kind string, h [32]byte) string {
	return st.(*sessionStore).hashKey(kind, h)
}

func SessionUserKey(st session.Store, kind, userID string) string {
	return st.(*sessionStore).userKey(kind, userID)
}
