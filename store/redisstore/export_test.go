package redisstore

// Exported for the external tests: the session record codec.
var (
	DecodeSession = decodeSession
	EncodeSession = encodeSession
)
