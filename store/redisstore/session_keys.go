package redisstore

import (
	"crypto/sha1" // #nosec G505 -- a bucket of a user id, not a security use; Lua has redis.sha1hex
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/bulwarkhq/bulwark/session"
)

// Session keys are spread over 256 buckets. A user's bucket is the first
// byte of SHA-1(user id) (the scripts compute it with redis.sha1hex); the
// bucket of a token is the first byte of its SHA-256 hash, which the
// Manager draws to be its user's bucket ([session.TokenPlacer]). Bucket b
// has the hash tag sessionTags[b], chosen so that its Redis Cluster slot
// lies in [64b, 64b+64): the buckets cover the 16384 slots evenly, so
// whatever slot ranges the cluster's primaries hold, each holds its share
// of the users. A user's sessions, index and remember-me records share
// the user's bucket, so each rule stays one script on one slot, and a token
// alone names the slot to read.
var sessionTags = func() (tags [256]string) {
	for b := range tags {
		for k := 0; ; k++ {
			t := "s" + strconv.Itoa(k)
			if int(crc16(t)%16384)/64 == b {
				tags[b] = "{" + t + "}"
				break
			}
		}
	}
	return tags
}()

// crc16 is Redis Cluster's key hash (CRC-16/XMODEM).
func crc16(s string) uint16 {
	var crc uint16
	for i := range len(s) {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

var _ session.TokenPlacer = (*sessionStore)(nil)

// TokenByte implements [session.TokenPlacer]: the user's bucket.
func (st *sessionStore) TokenByte(userID string) byte {
	h := sha1.Sum([]byte(userID)) // #nosec G401 -- bucketing, see sessionTags
	return h[0]
}

// The key helpers below are the one place that names session keys (the
// Lua functions in sessionKeysLua mirror them). Layout:
//
//	<prefix>{tag}:t:<hex hash>    a session, in its token's bucket
//	<prefix>{tag}:r:<hex hash>    a remember-me token, in its token's bucket
//	<prefix>{tag}:u:<user>        the user's index, in the user's bucket
//	<prefix>{tag}:uf:<user>       the user's remember-me families
//	<prefix>{tag}:f:<family>      a family's token hashes, in its user's bucket

// hashKey is the key of kind ("t", "r") for token hash h.
func (st *sessionStore) hashKey(kind string, h [32]byte) string {
	var b [64]byte
	hex.Encode(b[:], h[:])
	return st.prefix + sessionTags[h[0]] + ":" + kind + ":" + string(b[:])
}

// sessionKey is the key of the session with token hash h.
func (st *sessionStore) sessionKey(h [32]byte) string { return st.hashKey("t", h) }

// userKey is the key of kind ("u", "uf") for userID.
func (st *sessionStore) userKey(kind, userID string) string {
	return st.prefix + sessionTags[st.TokenByte(userID)] + ":" + kind + ":" + userID
}

// sessionKeysLua defines the same keys in the scripts; ARGV[1] is the
// store prefix.
var sessionKeysLua = func() string {
	var b strings.Builder
	b.WriteString("local B = ARGV[1]\nlocal TAGS = {")
	for i, t := range sessionTags {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("'" + t + "'")
	}
	b.WriteString(`}
local function tagh(h) return TAGS[tonumber(string.sub(h, 1, 2), 16) + 1] end
local function tagu(u) return TAGS[tonumber(string.sub(redis.sha1hex(u), 1, 2), 16) + 1] end
local function KT(h) return B .. tagh(h) .. ':t:' .. h end
local function KR(h) return B .. tagh(h) .. ':r:' .. h end
local function KU(u) return B .. tagu(u) .. ':u:' .. u end
local function KUF(u) return B .. tagu(u) .. ':uf:' .. u end
local function KF(fam, u) return B .. tagu(u) .. ':f:' .. fam end
`)
	return b.String()
}()
