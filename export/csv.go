package export

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// This file is an RFC 4180 writer and a strict reader for it. They stand in
// for encoding/csv, which is not lossless: with UseCRLF its Writer drops a
// carriage return inside a value, and its Reader turns CRLF inside a quoted
// value into LF. An export must give back exactly the records it was given.
//
// Writer: records end with CRLF; a field is quoted when it contains a
// comma, quote, CR or LF, starts with a space (as encoding/csv does, for
// spreadsheet compatibility), is `\.` (PostgreSQL's COPY end marker), or is
// the only, empty field of its record (so the record is not an empty line).
// Inside quotes every byte is verbatim except '"', which is doubled.

type csvWriter struct {
	w   io.Writer
	buf []byte
}

// write writes one record. With escape set, a field that
// needsFormulaEscape gets a leading single quote, without allocating.
func (c *csvWriter) write(rec []string, escape bool) error {
	b := c.buf[:0]
	for i, f := range rec {
		if i > 0 {
			b = append(b, ',')
		}
		quote := csvNeedsQuotes(f, len(rec))
		if quote {
			b = append(b, '"')
		}
		if escape && needsFormulaEscape(f) {
			b = append(b, '\'')
		}
		if !quote {
			b = append(b, f...)
			continue
		}
		for {
			j := strings.IndexByte(f, '"')
			if j < 0 {
				break
			}
			b = append(b, f[:j+1]...)
			b = append(b, '"')
			f = f[j+1:]
		}
		b = append(b, f...)
		b = append(b, '"')
	}
	b = append(b, '\r', '\n')
	c.buf = b
	_, err := c.w.Write(b)
	return err
}

func csvNeedsQuotes(f string, fields int) bool {
	if f == "" {
		return fields == 1
	}
	if f[0] == ' ' || f == `\.` {
		return true
	}
	for i := 0; i < len(f); i++ {
		if csvSpecial[f[i]] {
			return true
		}
	}
	return false
}

// csvSpecial marks the bytes that force quoting.
var csvSpecial = [256]bool{',': true, '"': true, '\r': true, '\n': true}

var errCSVSyntax = errors.New("CSV syntax error")

// csvReader reads what csvWriter writes, strictly: a quote inside an
// unquoted field, text after a closing quote, a bare CR outside quotes or a
// wrong field count is an error. Records may end with CRLF or LF; the last
// may lack a line end. A record longer than max bytes is an error.
type csvReader struct {
	r      *bufio.Reader
	fields int
	max    int
	rec    []string
	buf    []byte
	ends   []int
	line   int
	// skipValues makes read return empty strings, allocating nothing,
	// for callers that only check syntax and count records.
	skipValues bool
}

func newCSVReader(r io.Reader, fields, max int) *csvReader {
	return &csvReader{r: bufio.NewReaderSize(r, 64<<10), fields: fields, max: max, rec: make([]string, fields)}
}

// read returns the next record, valid until the next call, or io.EOF.
func (c *csvReader) read() ([]string, error) {
	c.line++
	c.buf, c.ends = c.buf[:0], c.ends[:0]
	if _, err := c.r.Peek(1); err != nil {
		return nil, err // io.EOF at a record boundary is the clean end
	}
	for {
		end, err := c.field()
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", c.line, err)
		}
		c.ends = append(c.ends, len(c.buf))
		if !end && len(c.ends) >= c.fields {
			// Empty fields add nothing to buf, so MaxRecordBytes alone
			// would not bound ends: stop at the first field too many.
			return nil, fmt.Errorf("record %d: more than %d fields", c.line, c.fields)
		}
		if len(c.buf) > c.max {
			return nil, fmt.Errorf("record %d: longer than %d bytes", c.line, c.max)
		}
		if end {
			break
		}
	}
	if len(c.ends) != c.fields {
		return nil, fmt.Errorf("record %d: %d fields, want %d", c.line, len(c.ends), c.fields)
	}
	if c.skipValues {
		return c.rec, nil
	}
	s := string(c.buf) // one allocation per record
	start := 0
	for i, e := range c.ends {
		c.rec[i] = s[start:e]
		start = e
	}
	return c.rec, nil
}

// field appends one field to buf and reports whether it ended the record.
func (c *csvReader) field() (recordEnd bool, err error) {
	b, err := c.r.ReadByte()
	if errors.Is(err, io.EOF) {
		return true, nil // a record whose last field is empty, without line end
	}
	if err != nil {
		return false, err
	}
	if b != '"' {
		if err := c.r.UnreadByte(); err != nil {
			return false, err
		}
		return c.unquoted()
	}
	for {
		chunk, err := c.r.ReadSlice('"')
		if errors.Is(err, bufio.ErrBufferFull) {
			c.buf = append(c.buf, chunk...)
			if len(c.buf) > c.max {
				return false, fmt.Errorf("longer than %d bytes", c.max)
			}
			continue
		}
		if err != nil {
			return false, noEOF(err) // unterminated quote
		}
		c.buf = append(c.buf, chunk[:len(chunk)-1]...)
		if len(c.buf) > c.max {
			return false, fmt.Errorf("longer than %d bytes", c.max)
		}
		next, err := c.r.ReadByte()
		if errors.Is(err, io.EOF) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		switch next {
		case '"':
			c.buf = append(c.buf, '"')
		case ',':
			return false, nil
		default:
			if err := c.r.UnreadByte(); err != nil {
				return false, err
			}
			return c.lineEnd()
		}
	}
}

func (c *csvReader) unquoted() (bool, error) {
	for {
		// Scan what is buffered for the next special byte, so plain text
		// is copied in bulk rather than a byte at a time.
		if c.r.Buffered() == 0 {
			if _, err := c.r.Peek(1); errors.Is(err, io.EOF) {
				return true, nil
			} else if err != nil {
				return false, err
			}
		}
		buf, _ := c.r.Peek(c.r.Buffered())
		i := 0
		for i < len(buf) && !csvSpecial[buf[i]] {
			i++
		}
		c.buf = append(c.buf, buf[:i]...)
		_, _ = c.r.Discard(i)
		if len(c.buf) > c.max {
			return false, fmt.Errorf("longer than %d bytes", c.max)
		}
		if i == len(buf) {
			continue
		}
		switch buf[i] {
		case ',':
			_, _ = c.r.Discard(1)
			return false, nil
		case '"':
			return false, errCSVSyntax
		default: // '\r' or '\n'
			return c.lineEnd()
		}
	}
}

// lineEnd consumes CRLF or LF.
func (c *csvReader) lineEnd() (bool, error) {
	b, err := c.r.ReadByte()
	if err != nil {
		return false, noEOF(err)
	}
	if b == '\r' {
		if b, err = c.r.ReadByte(); err != nil {
			return false, noEOF(err)
		}
	}
	if b != '\n' {
		return false, errCSVSyntax
	}
	return true, nil
}
