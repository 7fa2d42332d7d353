package main

import (
	"fmt"
	"unicode/utf8"
)

// Length limits of free-text fields, in characters. Without them a
// 20,000-character client name made the client list 297,224 px wide; the
// request body cap (maxBodyBytes) bounds the cost, these keep each field to
// what it is for. The forms carry the same limits as maxlength (these
// fields are no secrets, so a browser stopping the typing is harmless), and
// the server refuses longer values with a message naming the field.
const (
	maxName  = 200  // a person's or company's name
	maxEmail = 254  // RFC 5321's limit on a forward path, less the brackets
	maxPhone = 40   // E.164 is 15 digits; room for spaces, extension and prefix
	maxNotes = 4000 // a page of text
)

// field is a form value with its limit, for tooLong.
type field struct {
	label, value string
	max          int
}

// tooLong returns a message naming the first field over its limit, or "".
func tooLong(fields ...field) string {
	for _, f := range fields {
		if n := utf8.RuneCountInString(f.value); n > f.max {
			return fmt.Sprintf("%s is too long: at most %d characters (this one has %d).", f.label, f.max, n)
		}
	}
	return ""
}
