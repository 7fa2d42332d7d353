package redisstore

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/session"
)

// A session is one Redis string, so that validating a request is one GET
// and one pass over one string. The layout is fixed so that the Lua
// scripts can read and rewrite it with string.sub:
//
//	offset 0        '2'                 format version
//	1..16           created             five times, each 16 lowercase hex
//	17..32          last seen           digits of Unix microseconds (0 for
//	33..48          expires             the zero time), fixed width so that
//	49..64          absolute expiry     Touch rewrites them in place
//	65..80          auth time
//	81..            id, user, family, factors, ip, user agent: each as
//	                <decimal length>:<bytes> (no leading zeros), factors
//	                joined by 0x1f
//	last 16         closing             the tab-close mark (Session.Closing),
//	                                    16 hex digits as above, so that
//	                                    MarkClosing rewrites it in place
//
// Nothing may follow the last field. The token hash is the key, not part of
// the value. To add a field, append it after the closing mark and bump the
// version: the decoder refuses what it does not know, which the Manager
// treats as a denial. (Version 1, without the closing mark, is refused:
// its sessions end, which is safe.)
const (
	recVersion   = '2'
	recNums      = 5
	recNumWidth  = 16
	recFixed     = 1 + recNums*recNumWidth
	recStrings   = 6
	recTrailer   = recNumWidth // the closing mark after the strings
	recMaxLength = 1 << 20     // a session record is a few hundred bytes; refuse absurd lengths
)

// recLua reads records in the scripts: rnum(v, i) is time i (0 created,
// 1 last seen, 2 expires, ...), rhex its hex, rstr the id, user and family.
const recLua = `
-- A malformed record reads as expired (time 0) and as naming nobody.
local function rnum(v, i) return tonumber(string.sub(v, 2 + 16 * i, 17 + 16 * i), 16) or 0 end
local function rhex(v, i) return string.sub(v, 2 + 16 * i, 17 + 16 * i) end
local function rstr(v)
  local out, pos = {}, 82
  for k = 1, 3 do
    local colon = string.find(v, ':', pos, true)
    if not colon then return nil end
    local n = tonumber(string.sub(v, pos, colon - 1))
    if not n then return nil end
    out[k] = string.sub(v, colon + 1, colon + n)
    pos = colon + n + 1
  end
  return out[1], out[2], out[3]
end
`

var errMalformed = errors.New("malformed session record")

func recMicros(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixMicro())
}

// recHex is the fixed-width hex of t for the scripts' ARGV.
func recHex(t time.Time) string {
	var b [recNumWidth]byte
	putHex(b[:], recMicros(t))
	return string(b[:])
}

const hexDigits = "0123456789abcdef"

func putHex(b []byte, v uint64) {
	for i := recNumWidth - 1; i >= 0; i-- {
		b[i] = hexDigits[v&0xf]
		v >>= 4
	}
}

// encodeSession is the record of s. It refuses times before 1970 (other
// than the zero time), which the fixed-width unsigned layout cannot hold.
func encodeSession(s *session.Session) (string, error) {
	times := [recNums]time.Time{s.CreatedAt, s.LastSeen, s.ExpiresAt, s.AbsoluteExpiry, s.AuthTime}
	factors := strings.Join(s.Factors, "\x1f")
	strs := [recStrings]string{s.ID, s.UserID, s.RememberFamily, factors, s.IP, s.UserAgent}
	n := recFixed + recTrailer
	for _, v := range strs {
		n += len(v) + 21
	}
	b := make([]byte, recFixed, n)
	b[0] = recVersion
	for i, t := range times {
		if !t.IsZero() && t.UnixMicro() < 0 {
			return "", errors.New("session time before 1970")
		}
		putHex(b[1+i*recNumWidth:], recMicros(t))
	}
	for _, v := range strs {
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		b = append(b, v...)
	}
	if !s.Closing.IsZero() && s.Closing.UnixMicro() < 0 {
		return "", errors.New("session time before 1970")
	}
	b = append(b, recHex(s.Closing)...)
	return string(b), nil
}

func parseHex(s string) (uint64, bool) {
	var v uint64
	for i := range len(s) {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// decodeSession parses a record strictly: the exact layout above, nothing
// more, nothing less. Strings in the result share rec's memory.
func decodeSession(rec string, hash [32]byte) (session.Session, error) {
	if len(rec) < recFixed+recTrailer || len(rec) > recMaxLength || rec[0] != recVersion {
		return session.Session{}, errMalformed
	}
	s := session.Session{TokenHash: hash}
	times := [recNums + 1]*time.Time{&s.CreatedAt, &s.LastSeen, &s.ExpiresAt, &s.AbsoluteExpiry, &s.AuthTime, &s.Closing}
	trailer := len(rec) - recTrailer
	for i, p := range times {
		start := 1 + i*recNumWidth
		if p == &s.Closing {
			start = trailer
		}
		v, ok := parseHex(rec[start : start+recNumWidth])
		if !ok || v > 1<<62 {
			return session.Session{}, errMalformed
		}
		if v != 0 {
			*p = time.UnixMicro(int64(v)).UTC()
		}
	}
	var strs [recStrings]string
	rest := rec[recFixed:trailer]
	for i := range strs {
		colon := strings.IndexByte(rest, ':')
		if colon < 1 || colon > 7 || (colon > 1 && rest[0] == '0') {
			return session.Session{}, errMalformed
		}
		n := 0
		for _, c := range []byte(rest[:colon]) {
			if c < '0' || c > '9' {
				return session.Session{}, errMalformed
			}
			n = n*10 + int(c-'0')
		}
		rest = rest[colon+1:]
		if n > len(rest) {
			return session.Session{}, errMalformed
		}
		strs[i], rest = rest[:n], rest[n:]
	}
	if rest != "" {
		return session.Session{}, errMalformed
	}
	s.ID, s.UserID, s.RememberFamily, s.IP, s.UserAgent = strs[0], strs[1], strs[2], strs[4], strs[5]
	if s.ID == "" || s.UserID == "" {
		// Never hand out a session that names no user.
		return session.Session{}, errMalformed
	}
	if strs[3] != "" {
		s.Factors = strings.Split(strs[3], "\x1f")
	}
	return s, nil
}
