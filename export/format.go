package export

import (
	"bufio"
	"io"
	"strings"
	"unicode/utf8"
)

// Format is the file format of each module's file.
type Format string

// Formats.
const (
	// CSV is RFC 4180: comma separated, CRLF line ends, fields quoted when
	// they contain a comma, quote or line break, one header row of column
	// names, UTF-8.
	CSV Format = "csv"
	// JSONLines is https://jsonlines.org: one JSON object per line, keys
	// in column order, every value a string.
	JSONLines Format = "jsonl"
)

func (f Format) ext() string {
	if f == JSONLines {
		return ".jsonl"
	}
	return ".csv"
}

// utf8BOM is written first when [Request.BOM] is set, so that Excel opens
// the CSV file as UTF-8.
const utf8BOM = "\uFEFF"

// formulaTrigger reports whether a spreadsheet would evaluate a cell that
// starts with c (OWASP "CSV Injection": = + - @ tab CR; ASVS 5.0 1.2.10
// adds NUL).
func formulaTrigger(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r', 0:
		return true
	}
	return false
}

// needsFormulaEscape reports whether v gets a leading quote: it starts with
// a trigger, or with quotes followed by a trigger (so that a value that
// already starts with "'=" survives the round trip: escaping is a
// bijection, undone by unescapeFormula). Spaces, line feeds and U+FEFF
// before the trigger do not hide it: spreadsheets that trim cells, or
// drop a byte order mark, would evaluate what follows.
func needsFormulaEscape(v string) bool {
	i := 0
	for i < len(v) && v[i] == '\'' {
		i++
	}
	for i < len(v) {
		switch {
		case v[i] == ' ' || v[i] == '\n':
			i++
			continue
		case strings.HasPrefix(v[i:], utf8BOM):
			i += len(utf8BOM)
			continue
		}
		break
	}
	return i < len(v) && formulaTrigger(v[i])
}

func unescapeFormula(v string) string {
	if len(v) > 1 && v[0] == '\'' && needsFormulaEscape(v[1:]) {
		return v[1:]
	}
	return v
}

// validUTF8 replaces invalid UTF-8 with U+FFFD, as encoding/json does, so
// every file is valid UTF-8 whatever a module yields.
func validUTF8(v string) string {
	if utf8.ValidString(v) {
		return v
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}

// recordWriter formats one module's file.
type recordWriter interface {
	header(cols []string) error
	record(rec []string) error
	flush() error
}

type csvRecordWriter struct {
	bw     *bufio.Writer
	w      csvWriter
	escape bool
	row    []string
}

func newCSVRecordWriter(w io.Writer, bom, escape bool) (*csvRecordWriter, error) {
	bw := bufio.NewWriterSize(w, 32<<10)
	if bom {
		if _, err := bw.WriteString(utf8BOM); err != nil {
			return nil, err
		}
	}
	return &csvRecordWriter{bw: bw, w: csvWriter{w: bw}, escape: escape}, nil
}

func (c *csvRecordWriter) header(cols []string) error { return c.record(cols) }

func (c *csvRecordWriter) record(rec []string) error {
	row := rec
	for i, v := range rec {
		if !utf8.ValidString(v) {
			if &row[0] == &rec[0] {
				// The module's slice is not ours to change.
				c.row = append(c.row[:0], rec...)
				row = c.row
			}
			row[i] = validUTF8(v)
		}
	}
	return c.w.write(row, c.escape)
}

func (c *csvRecordWriter) flush() error { return c.bw.Flush() }

type jsonRecordWriter struct {
	w    *bufio.Writer
	keys [][]byte // `{"col":` and `,"col":` prefixes
	buf  []byte
}

func newJSONRecordWriter(w io.Writer) *jsonRecordWriter {
	return &jsonRecordWriter{w: bufio.NewWriterSize(w, 32<<10)}
}

func (j *jsonRecordWriter) header(cols []string) error {
	j.keys = make([][]byte, len(cols))
	for i, c := range cols {
		sep := byte(',')
		if i == 0 {
			sep = '{'
		}
		k := appendJSONString([]byte{sep}, c)
		j.keys[i] = append(k, ':')
	}
	return nil
}

func (j *jsonRecordWriter) record(rec []string) error {
	b := j.buf[:0]
	for i, v := range rec {
		b = append(b, j.keys[i]...)
		b = appendJSONString(b, v)
	}
	b = append(b, '}', '\n')
	j.buf = b
	_, err := j.w.Write(b)
	return err
}

func (j *jsonRecordWriter) flush() error { return j.w.Flush() }

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string (RFC 8259), replacing invalid
// UTF-8 with U+FFFD and escaping U+2028 and U+2029 as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
