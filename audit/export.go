package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// The JSON Lines format: one object per line, either a record
//
//	{"type":"record","v":1,"stream":"t1","seq":7,"prev":"<hex>","hash":"<hex>",
//	 "id":"...","time":"2026-01-02T03:04:05.000006Z","actor":"u1",...,
//	 "changes":[{"field":"email","old":"a@x","new":"b@x"}],"details":{...}}
//
// or a checkpoint
//
//	{"type":"checkpoint","v":1,"stream":"t1","seq":1024,"hash":"<hex>","time":"...",
//	 "pruned_seq":0,"pruned_hash":"<hex>","key_id":"k1","sig":"<base64>"}
//
// or, as the last line of each stream of an export, its signed [Manifest]
//
//	{"type":"manifest","v":1,"stream":"t1","seq":0,"hash":"<hex>","time":"...",
//	 "pruned_seq":50,"pruned_hash":"<hex>","key_id":"k1","sig":"<base64>",
//	 "from":51,"to":1100,"records":1050,"checkpoints":2,"checkpoints_hash":"<hex>"}
//
// Every field of the canonical encoding is present, so a verifier rebuilds
// the encoding and recomputes each hash without access to the store.

const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

type jsonChange struct {
	Field    string `json:"field"`
	Old      string `json:"old"`
	New      string `json:"new"`
	Redacted bool   `json:"redacted,omitempty"`
}

type jsonLine struct {
	Type       string            `json:"type"`
	V          int               `json:"v"`
	Stream     string            `json:"stream"`
	Seq        uint64            `json:"seq"`
	Prev       string            `json:"prev,omitempty"`
	Hash       string            `json:"hash"`
	ID         string            `json:"id,omitempty"`
	Time       string            `json:"time"`
	Actor      string            `json:"actor,omitempty"`
	ActorType  string            `json:"actor_type,omitempty"`
	Action     string            `json:"action,omitempty"`
	TargetType string            `json:"target_type,omitempty"`
	TargetID   string            `json:"target_id,omitempty"`
	Outcome    string            `json:"outcome,omitempty"`
	IP         string            `json:"ip,omitempty"`
	UserAgent  string            `json:"user_agent,omitempty"`
	RequestID  string            `json:"request_id,omitempty"`
	Changes    []jsonChange      `json:"changes,omitempty"`
	Details    map[string]string `json:"details,omitempty"`
	PrunedSeq  uint64            `json:"pruned_seq,omitempty"`
	PrunedHash string            `json:"pruned_hash,omitempty"`
	KeyID      string            `json:"key_id,omitempty"`
	Sig        string            `json:"sig,omitempty"`
	// Manifest lines only.
	From            uint64 `json:"from,omitempty"`
	To              uint64 `json:"to,omitempty"`
	Records         uint64 `json:"records,omitempty"`
	Checkpoints     uint64 `json:"checkpoints,omitempty"`
	CheckpointsHash string `json:"checkpoints_hash,omitempty"`
}

// AppendRecordJSON appends r as one JSON line, newline included.
func AppendRecordJSON(b []byte, r *Record) ([]byte, error) {
	l := jsonLine{Type: "record", V: EncodingVersion, Stream: r.Tenant, Seq: r.Seq,
		Prev: hex.EncodeToString(r.Prev[:]), Hash: hex.EncodeToString(r.Hash[:]),
		ID: r.ID, Time: r.Time.UTC().Format(timeLayout), Actor: r.Actor, ActorType: r.ActorType,
		Action: r.Action, TargetType: r.TargetType, TargetID: r.TargetID, Outcome: string(r.Outcome),
		IP: r.IP, UserAgent: r.UserAgent, RequestID: r.RequestID, Details: r.Details}
	for _, c := range r.Changes {
		l.Changes = append(l.Changes, jsonChange(c))
	}
	return appendJSONLine(b, &l)
}

// AppendCheckpointJSON appends cp as one JSON line, newline included.
func AppendCheckpointJSON(b []byte, cp *Checkpoint) ([]byte, error) {
	l := jsonLine{Type: "checkpoint", V: EncodingVersion, Stream: cp.Stream, Seq: cp.Seq,
		Hash: hex.EncodeToString(cp.Hash[:]), Time: cp.Time.UTC().Format(timeLayout),
		PrunedSeq: cp.PrunedSeq, PrunedHash: hex.EncodeToString(cp.PrunedHash[:]),
		KeyID: cp.KeyID, Sig: base64.StdEncoding.EncodeToString(cp.Signature)}
	return appendJSONLine(b, &l)
}

func appendJSONLine(b []byte, l *jsonLine) ([]byte, error) {
	j, err := json.Marshal(l)
	if err != nil {
		return b, err
	}
	b = append(b, j...)
	return append(b, '\n'), nil
}

// Line is one parsed JSON line: exactly one of Record, Checkpoint and
// Manifest is set.
type Line struct {
	Record     *Record
	Checkpoint *Checkpoint
	Manifest   *Manifest
}

// ParseLine parses one JSON line (without or with its newline). It returns
// an error wrapping [ErrMalformed] for anything else, including a line that
// is not byte for byte what [AppendRecordJSON], [AppendCheckpointJSON] or
// [AppendManifestJSON] writes for what it holds: otherwise duplicate keys (encoding/json keeps
// the last, matching case-insensitively, where other readers show the
// first), extra time digits or reordered keys would let several different
// files verify as the same log. It does not check hashes or signatures.
func ParseLine(b []byte) (Line, error) {
	l, err := parseLine(b)
	if err != nil {
		return Line{}, err
	}
	var again []byte
	switch {
	case l.Record != nil:
		again, err = AppendRecordJSON(nil, l.Record)
	case l.Checkpoint != nil:
		again, err = AppendCheckpointJSON(nil, l.Checkpoint)
	default:
		again, err = AppendManifestJSON(nil, l.Manifest)
	}
	if err != nil || !bytes.Equal(again[:len(again)-1], bytes.TrimSuffix(b, []byte{'\n'})) {
		return Line{}, fmt.Errorf("%w: not in canonical form", ErrMalformed)
	}
	return l, nil
}

func parseLine(b []byte) (Line, error) {
	var l jsonLine
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&l); err != nil {
		return Line{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if d.More() {
		return Line{}, fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	if l.V != EncodingVersion {
		return Line{}, fmt.Errorf("%w: unknown version %d", ErrMalformed, l.V)
	}
	t, err := time.Parse(time.RFC3339Nano, l.Time)
	if err != nil {
		return Line{}, fmt.Errorf("%w: time", ErrMalformed)
	}
	t = t.UTC()
	hash, err1 := parseHash(l.Hash)
	switch l.Type {
	case "record":
		prev, err2 := parseHash(l.Prev)
		if err := errors.Join(err1, err2); err != nil {
			return Line{}, err
		}
		r := &Record{Seq: l.Seq, Prev: prev, Hash: hash, Entry: Entry{ID: l.ID, Time: t,
			Tenant: l.Stream, Actor: l.Actor, ActorType: l.ActorType, Action: l.Action,
			TargetType: l.TargetType, TargetID: l.TargetID, Outcome: Outcome(l.Outcome),
			IP: l.IP, UserAgent: l.UserAgent, RequestID: l.RequestID, Details: l.Details}}
		if len(r.Details) == 0 {
			r.Details = nil
		}
		for _, c := range l.Changes {
			r.Changes = append(r.Changes, Change(c))
		}
		return Line{Record: r}, nil
	case "checkpoint":
		pruned, err2 := parseHash(l.PrunedHash)
		sig, err3 := base64.StdEncoding.DecodeString(l.Sig)
		if err := errors.Join(err1, err2, err3); err != nil {
			return Line{}, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		return Line{Checkpoint: &Checkpoint{Stream: l.Stream, Seq: l.Seq, Hash: hash, Time: t,
			PrunedSeq: l.PrunedSeq, PrunedHash: pruned, KeyID: l.KeyID, Signature: sig}}, nil
	case "manifest":
		pruned, err2 := parseHash(l.PrunedHash)
		cph, err3 := parseHash(l.CheckpointsHash)
		sig, err4 := base64.StdEncoding.DecodeString(l.Sig)
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return Line{}, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		return Line{Manifest: &Manifest{Stream: l.Stream, From: l.From, To: l.To, Records: l.Records,
			Hash: hash, PrunedSeq: l.PrunedSeq, PrunedHash: pruned, Checkpoints: l.Checkpoints,
			CheckpointsHash: cph, Time: t, KeyID: l.KeyID, Signature: sig}}, nil
	default:
		return Line{}, fmt.Errorf("%w: unknown line type", ErrMalformed)
	}
}

func parseHash(s string) ([32]byte, error) {
	var h [32]byte
	if s == "" {
		return h, nil
	}
	if len(s) != 2*hashSize {
		return h, fmt.Errorf("%w: hash length", ErrMalformed)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("%w: hash", ErrMalformed)
	}
	return h, nil
}

// MaxLineBytes caps one JSON line, so a hostile file cannot make a reader
// buffer without bound.
const MaxLineBytes = 4 << 20

// ErrLineTooLong is returned by [LineReader.Next] for a line over MaxLineBytes.
var ErrLineTooLong = errors.New("audit: JSON line too long")

// LineReader reads JSON lines one at a time.
type LineReader struct {
	r    *bufio.Reader
	line int
}

// NewLineReader returns a reader of JSON lines from r.
func NewLineReader(r io.Reader) *LineReader {
	return &LineReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next line, io.EOF at the end, or an error naming the
// line number. Blank lines are skipped. A final line without a newline is
// parsed like any other.
func (lr *LineReader) Next() (Line, error) {
	for {
		raw, err := lr.readLine()
		if err != nil {
			return Line{}, err
		}
		lr.line++
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		l, err := ParseLine(raw)
		if err != nil {
			return Line{}, fmt.Errorf("line %d: %w", lr.line, err)
		}
		return l, nil
	}
}

func (lr *LineReader) readLine() ([]byte, error) {
	var buf []byte
	for {
		chunk, err := lr.r.ReadSlice('\n')
		if len(buf)+len(chunk) > MaxLineBytes {
			return nil, fmt.Errorf("line %d: %w", lr.line+1, ErrLineTooLong)
		}
		buf = append(buf, chunk...)
		switch {
		case err == nil:
			return buf, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(buf) > 0:
			return buf, nil
		default:
			return nil, err
		}
	}
}

// Export writes records From..To of stream (zero To: to the head) as JSON
// Lines to w: first every signed checkpoint of the stream up to To
// (including the pruning anchor, unless it was signed over a head beyond
// To: a range ending before it verifies as not anchored), then the
// records in order, then the stream's [Manifest], signed with the Log's
// Signer: the range the file holds, what had been pruned, and a digest of
// the checkpoint lines, so that a file cut at either end or missing a
// checkpoint line is refused. [VerifyJSONL] and the auditverify command
// check such a file offline. It returns how many records it wrote.
func (l *Log) Export(ctx context.Context, w io.Writer, stream string, opts VerifyOptions) (int, error) {
	cps, err := l.checkpoints(ctx, stream)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriter(w)
	m := Manifest{Stream: stream}
	digest := newCheckpointDigest()
	var b []byte
	for i := range cps {
		if opts.To != 0 && cps[i].Seq > opts.To {
			continue
		}
		if b, err = AppendCheckpointJSON(b[:0], &cps[i]); err != nil {
			return 0, err
		}
		if _, err := bw.Write(b); err != nil {
			return 0, err
		}
		digest.add(b)
		if cps[i].PrunedSeq > m.PrunedSeq {
			m.PrunedSeq, m.PrunedHash = cps[i].PrunedSeq, cps[i].PrunedHash
		}
	}
	m.From = max(opts.From, 1, m.PrunedSeq+1)
	m.To, m.Hash = m.From-1, [32]byte{}
	if m.To == m.PrunedSeq {
		m.Hash = m.PrunedHash
	}
	n := 0
	for next := m.From; opts.To == 0 || next <= opts.To; {
		page, err := l.store.Records(ctx, stream, next, verifyPage)
		if err != nil {
			return n, err
		}
		if len(page) == 0 {
			break
		}
		for i := range page {
			if opts.To != 0 && page[i].Seq > opts.To {
				break
			}
			if b, err = AppendRecordJSON(b[:0], &page[i]); err != nil {
				return n, err
			}
			if _, err := bw.Write(b); err != nil {
				return n, err
			}
			if n == 0 {
				m.From = page[i].Seq
			}
			n++
			m.To, m.Hash = page[i].Seq, page[i].Hash
		}
		next = page[len(page)-1].Seq + 1
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if opts.To != 0 && page[len(page)-1].Seq >= opts.To {
			break
		}
	}
	m.Records, m.Checkpoints, m.CheckpointsHash = uint64(n), digest.n, digest.sum()
	if err := l.signManifest(ctx, &m); err != nil {
		return n, fmt.Errorf("audit: sign export manifest: %w", err)
	}
	if b, err = AppendManifestJSON(b[:0], &m); err != nil {
		return n, err
	}
	if _, err := bw.Write(b); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// ErrEmptyExport is returned by [VerifyJSONL] for an input with no line at
// all: nothing was verified, and a deleted log must not pass as a good one.
var ErrEmptyExport = errors.New("audit: input holds no audit lines")

// VerifyJSONL verifies a JSON Lines export offline: every record's hash,
// the links and sequence numbers within each stream, every checkpoint's
// signature, and each stream's [Manifest] (with sv; a file with signed
// checkpoints or manifests and a nil sv fails with ErrNoVerifier). Lines
// of a stream come in the order [Log.Export] writes them: checkpoints,
// records, then the manifest. The file must hold exactly what each
// manifest states, or VerifyJSONL fails with a [*ChainError] of
// [ProblemRange]: a stream without a manifest, records missing at either
// end, or a checkpoint line missing or added. With sv given, an unsigned
// manifest fails with [ProblemUnsigned]. A checkpoint beyond the last
// record of its stream means the file, or the log it came from, was
// truncated. An input without a single line fails with ErrEmptyExport.
// It returns one report per stream, in order of first appearance, with
// Attested and Exported set. A manifest attests its own stream only:
// nothing in a file of several streams says which it should hold, so a
// caller that expects several checks the reports' streams against its list
// (a stream removed whole is otherwise unseen), and shows Exported, since
// an older export of a stream verifies too.
func VerifyJSONL(r io.Reader, sv SignatureVerifier) ([]VerifyReport, error) {
	return verifyJSONL(r, sv, true)
}

// VerifyJSONLUnattested is [VerifyJSONL] for files that carry no
// [Manifest], such as the live files of audit/auditfile: it checks hashes,
// links, sequence numbers and signed checkpoints, but cannot tell a file
// whose oldest records or checkpoint lines were removed from one that
// began later. Reports have Attested false. Prefer an export.
func VerifyJSONLUnattested(r io.Reader, sv SignatureVerifier) ([]VerifyReport, error) {
	return verifyJSONL(r, sv, false)
}

// jsonlStream is what verifyJSONL knows of one stream of a file.
type jsonlStream struct {
	rep       VerifyReport
	v         *ChainVerifier
	cps       []*Checkpoint
	anchor    *Checkpoint
	digest    *checkpointDigest
	firstPrev [32]byte
	done      bool // the manifest was read
}

// checkManifest compares what the file held for the stream with what its
// (signature-checked) manifest states.
func (st *jsonlStream) checkManifest(m *Manifest) error {
	bad := func(seq uint64) error { return &ChainError{Stream: m.Stream, Seq: seq, Problem: ProblemRange} }
	head, n := st.v.Head(), uint64(st.v.Records())
	switch {
	case n > 0 && st.rep.From != m.From:
		return bad(min(st.rep.From, m.From))
	case n != m.Records || (n > 0 && (head.Seq != m.To || head.Hash != m.Hash)):
		return bad(min(head.Seq, m.To) + 1)
	case n == 0 && m.To+1 != m.From:
		return bad(m.From)
	case st.digest.n != m.Checkpoints || st.digest.sum() != m.CheckpointsHash:
		return bad(0)
	case m.PrunedSeq > 0 && m.From <= m.PrunedSeq:
		return bad(m.From)
	}
	// The signed manifest vouches for what was pruned, so a range that
	// begins right after it is anchored even without the pruning
	// checkpoint's line.
	if m.From == 1 || (m.PrunedSeq > 0 && m.From == m.PrunedSeq+1 && (n == 0 || st.firstPrev == m.PrunedHash)) {
		st.rep.Anchored = true
	}
	return nil
}

func verifyJSONL(r io.Reader, sv SignatureVerifier, attested bool) ([]VerifyReport, error) {
	streams := map[string]*jsonlStream{}
	var order []string
	get := func(s string) (*jsonlStream, error) {
		st, ok := streams[s]
		if !ok {
			st = &jsonlStream{rep: VerifyReport{Stream: s}, digest: newCheckpointDigest()}
			streams[s] = st
			order = append(order, s)
		}
		if st.done {
			return nil, fmt.Errorf("%w: line of stream %q after its manifest", ErrMalformed, s)
		}
		return st, nil
	}
	start := func(st *jsonlStream, rec *Record) error {
		s := Head{Stream: st.rep.Stream}
		switch {
		case rec == nil:
			if st.anchor != nil {
				s.Seq, s.Hash = st.anchor.PrunedSeq, st.anchor.PrunedHash
			}
		case rec.Seq == 1:
			st.rep.Anchored = true
		case st.anchor != nil && rec.Seq == st.anchor.PrunedSeq+1:
			s.Seq, s.Hash = st.anchor.PrunedSeq, st.anchor.PrunedHash
			st.rep.Anchored = true
		default:
			// Starts mid-chain: take the first record's word for its
			// predecessor, anchored only if a checkpoint (or the signed
			// manifest) vouches for it.
			s.Seq, s.Hash = rec.Seq-1, rec.Prev
			for _, cp := range st.cps {
				if cp.Seq == s.Seq {
					st.rep.Anchored = true
				}
			}
		}
		if rec != nil {
			st.rep.From, st.firstPrev = rec.Seq, rec.Prev
		}
		st.v = NewChainVerifier(s)
		for _, cp := range st.cps {
			if err := st.v.AddCheckpoint(cp); err != nil {
				return err
			}
		}
		return nil
	}
	lr := NewLineReader(r)
	var buf []byte
	lines := 0
	for {
		line, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		lines++
		switch {
		case line.Checkpoint != nil:
			cp := line.Checkpoint
			st, err := get(cp.Stream)
			if err != nil {
				return nil, err
			}
			if st.v != nil {
				return nil, fmt.Errorf("%w: checkpoint after records of stream %q", ErrMalformed, cp.Stream)
			}
			if sv == nil {
				return nil, ErrNoVerifier
			}
			if err := CheckCheckpoint(cp, cp.Stream, sv); err != nil {
				return nil, err
			}
			if buf, err = AppendCheckpointJSON(buf[:0], cp); err != nil {
				return nil, err
			}
			st.digest.add(buf)
			st.cps = append(st.cps, cp)
			st.rep.Checkpoints++
			if cp.PrunedSeq > 0 && (st.anchor == nil || cp.PrunedSeq > st.anchor.PrunedSeq) {
				st.anchor = cp
			}
		case line.Record != nil:
			rec := line.Record
			st, err := get(rec.Tenant)
			if err != nil {
				return nil, err
			}
			if st.v == nil {
				if err := start(st, rec); err != nil {
					return nil, err
				}
			}
			if err := st.v.Next(rec); err != nil {
				return nil, err
			}
		default:
			m := line.Manifest
			st, err := get(m.Stream)
			if err != nil {
				return nil, err
			}
			if !attested {
				return nil, fmt.Errorf("%w: manifest in a file verified as unattested; use VerifyJSONL", ErrMalformed)
			}
			if sv == nil && (m.KeyID != "" || len(m.Signature) > 0) {
				return nil, ErrNoVerifier
			}
			if sv != nil {
				if err := CheckManifest(m, sv); err != nil {
					return nil, err
				}
			}
			if st.v == nil {
				if err := start(st, nil); err != nil {
					return nil, err
				}
				st.rep.From = st.v.Head().Seq + 1
			}
			if err := st.checkManifest(m); err != nil {
				return nil, err
			}
			st.done = true
			st.rep.Exported = m.Time
		}
	}
	if lines == 0 {
		return nil, ErrEmptyExport
	}
	out := make([]VerifyReport, 0, len(order))
	for _, s := range order {
		st := streams[s]
		if attested && !st.done {
			return nil, &ChainError{Stream: s, Seq: 0, Problem: ProblemRange}
		}
		if st.v == nil {
			if err := start(st, nil); err != nil {
				return nil, err
			}
			st.rep.From = st.v.Head().Seq + 1
		}
		if err := st.v.Finish(); err != nil {
			return nil, err
		}
		st.rep.Records, st.rep.Head, st.rep.To, st.rep.Signed = st.v.Records(), st.v.Head(), st.v.Head().Seq, st.v.Signed()
		st.rep.Attested = st.done
		out = append(out, st.rep)
	}
	return out, nil
}
