// Package asvs holds the tests that keep SECURITY.md's OWASP ASVS 5.0
// mapping true: every Level 1 and 2 requirement of the chapters Bulwark
// covers has a row, every row names tests that exist, and the properties
// that can only be shown by absence (no ECB, no secret questions, no
// default accounts, no logging of its own) are checked over the source.
// It has no code of its own.
package asvs
