// Package blocklist holds the embedded list of the 30,000 most common
// passwords (zxcvbn 4.4.2 frequency list, MIT licence, see
// common-passwords.LICENSE in this directory) and a compact open-addressing
// hash set over it.
//
// The set does not copy the words: it keeps one uint32 offset table into the
// embedded text (read-only data, not heap) and a power-of-two table of uint32
// slots, about 380 KiB of heap in all, against roughly 2 MiB for a
// map[string]struct{} holding the same words. Lookups hash the query once
// (FNV-1a) and probe linearly, so each is O(1) expected and allocation-free.
package blocklist

import (
	_ "embed"
	"strings"
	"sync"
)

//go:embed common-passwords.txt
var raw string

// Set is an immutable set of lower-case words. It is safe for concurrent use.
type Set struct {
	text  string   // the embedded text, one word a line
	ends  []uint32 // ends[i] is the offset just past word i; it starts after the previous newline
	slots []uint32 // 0 = empty, otherwise word index + 1
	mask  uint32
}

var defaultSet = sync.OnceValue(func() *Set { return Build(raw) })

// Default returns the set built from the embedded list, building it on first use.
func Default() *Set { return defaultSet() }

// Raw returns the embedded list text (most common first, one word a line).
func Raw() string { return raw }

// Build builds a set over the newline-separated words in text. Empty lines
// are skipped. The words are expected to be lower-case already.
func Build(text string) *Set {
	n := strings.Count(text, "\n") + 1
	s := &Set{text: text, ends: make([]uint32, 0, n)}
	size := uint32(1)
	for size < uint32(n)*2 { // load factor <= 0.5 keeps probe chains short
		size <<= 1
	}
	s.slots = make([]uint32, size)
	s.mask = size - 1
	start := 0
	for start <= len(text) {
		end := strings.IndexByte(text[start:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += start
		}
		w := strings.TrimSuffix(text[start:end], "\r")
		if w != "" && !s.Contains(w) {
			s.ends = append(s.ends, uint32(start+len(w)))
			s.insert(w, uint32(len(s.ends)))
		}
		start = end + 1
	}
	return s
}

// Len reports the number of distinct words in the set.
func (s *Set) Len() int { return len(s.ends) }

func (s *Set) word(idx uint32) string {
	end := s.ends[idx]
	start := int(end)
	for start > 0 && s.text[start-1] != '\n' {
		start--
	}
	return s.text[start:end]
}

func (s *Set) insert(w string, val uint32) {
	for i := hash(w) & s.mask; ; i = (i + 1) & s.mask {
		if s.slots[i] == 0 {
			s.slots[i] = val
			return
		}
	}
}

// Contains reports whether w is in the set. The comparison is exact; callers
// lower-case first for case-insensitive matching.
func (s *Set) Contains(w string) bool {
	if s == nil || w == "" {
		return false
	}
	for i := hash(w) & s.mask; ; i = (i + 1) & s.mask {
		v := s.slots[i]
		if v == 0 {
			return false
		}
		if s.word(v-1) == w {
			return true
		}
	}
}

// Rank returns the 1-based position of w in the list (1 = most common), or
// 0 when w is not in the set.
func (s *Set) Rank(w string) int {
	if s == nil || w == "" {
		return 0
	}
	for i := hash(w) & s.mask; ; i = (i + 1) & s.mask {
		v := s.slots[i]
		if v == 0 {
			return 0
		}
		if s.word(v-1) == w {
			return int(v)
		}
	}
}

// hash is 32-bit FNV-1a: deterministic, allocation-free and good enough for
// a fixed, public word list (no adversary chooses the table contents).
func hash(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}
