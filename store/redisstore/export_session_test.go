package redisstore_test

import "encoding/hex"

func redisHex(h [32]byte) string { return hex.EncodeToString(h[:]) }
