package audit

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// VerifyOptions chooses what [Log.Verify] walks: the stream Stream (""
// is the global stream), or every stream with AllStreams; in each, the
// records From..To. Zero From starts at the oldest record kept; zero To
// runs to the head, which also checks for truncation.
type VerifyOptions struct {
	Stream     string
	AllStreams bool // every stream that has a head, ignoring Stream
	From, To   uint64
}

// VerifyReport says what a verification covered.
type VerifyReport struct {
	Stream      string
	From, To    uint64 // first and last record checked; To < From when there were none
	Records     int    // records checked
	Checkpoints int    // signed checkpoints checked
	// Anchored is true when the record before From is vouched for: From is
	// the stream's first record, or follows a signed pruning checkpoint or a
	// checkpoint at From-1. An unanchored range proves only that it is
	// internally consistent and matches the checkpoints inside it.
	Anchored bool
	// Signed is the last record a signed checkpoint vouches for (see
	// [ChainVerifier.Finish]); 0 if none. Records after it verify only
	// against each other: without a checkpoint covering them, whoever can
	// write the store could have rewritten them and their hashes.
	Signed uint64
	Head   Head // the last record checked
	// Attested is set by audit/auditjsonl.Verify when the stream's manifest was
	// checked (and, with a key given, its signature): the file holds
	// exactly the range, prune anchor and checkpoints it states.
	Attested bool
	// Exported is the signed time of the stream's manifest (set with
	// Attested): an older export, a true prefix of the log, verifies too,
	// so show when it was made.
	Exported time.Time
}

// Verify is the one way to check the log in its store: it walks the
// records opts selects, stream by stream in ascending order, and returns
// a report per stream. It stops at the first problem, returned as a
// [*ChainError] (errors.Is(err, ErrTampered)) with the reports so far, the
// last being the failing stream's: a record whose hash does not match its
// contents, a broken link, a missing, extra or reordered sequence number,
// a hash that contradicts a signed checkpoint, a bad signature, or a chain
// that ends before the newest checkpoint or the stored head (truncation).
// Other errors are store failures. It returns ErrNoVerifier when a stream
// has checkpoints and no key to check them. Run it with AllStreams on a
// schedule for an integrity check; for files, see audit/auditjsonl.
func (l *Log) Verify(ctx context.Context, opts VerifyOptions) ([]VerifyReport, error) {
	streams := []string{opts.Stream}
	if opts.AllStreams {
		var err error
		if streams, err = l.store.Streams(ctx); err != nil {
			return nil, err
		}
	}
	reps := make([]VerifyReport, 0, len(streams))
	for _, s := range streams {
		rep, err := l.verify(ctx, s, opts.From, opts.To)
		reps = append(reps, rep)
		if err != nil {
			return reps, err
		}
	}
	return reps, nil
}

func (l *Log) verify(ctx context.Context, stream string, optFrom, optTo uint64) (VerifyReport, error) {
	rep := VerifyReport{Stream: stream}
	// Checkpoints first: one is stored only after its record is durable,
	// so every checkpoint read now is at or below the head read next, even
	// while other writers append. (The other order makes a checkpoint
	// written in between look like truncation.)
	cps, err := l.checkpoints(ctx, stream)
	if err != nil {
		return rep, err
	}
	head, err := l.store.Head(ctx, stream)
	if err != nil {
		return rep, err
	}
	if len(cps) > 0 && l.cfg.Verifier == nil {
		return rep, ErrNoVerifier
	}
	var anchor Checkpoint // the pruning checkpoint with the highest PrunedSeq
	for i := range cps {
		if err := checkCheckpoint(&cps[i], stream, l.cfg.Verifier); err != nil {
			return rep, err
		}
		if cps[i].PrunedSeq > anchor.PrunedSeq {
			anchor = cps[i]
		}
	}
	rep.Checkpoints = len(cps)
	from := max(optFrom, anchor.PrunedSeq+1)
	if from > head.Seq+1 || (optTo != 0 && optTo < from) {
		// Nothing stored in the range; a checkpoint beyond the head still
		// means the newest records were removed.
		rep.From, rep.To = from, from-1
		for i := range cps {
			if cps[i].Seq > head.Seq {
				return rep, &ChainError{Stream: stream, Seq: head.Seq + 1, Problem: ProblemTruncated}
			}
		}
		return rep, nil
	}
	start := Head{Stream: stream, Seq: anchor.PrunedSeq, Hash: anchor.PrunedHash}
	rep.Anchored = true
	if from > anchor.PrunedSeq+1 {
		prev, err := l.store.Records(ctx, stream, from-1, 1)
		if err != nil {
			return rep, err
		}
		if len(prev) == 0 || prev[0].Seq != from-1 {
			return rep, &ChainError{Stream: stream, Seq: from - 1, Problem: ProblemSequence}
		}
		start = Head{Stream: stream, Seq: prev[0].Seq, Hash: prev[0].Hash}
		rep.Anchored = false
		for i := range cps {
			if cps[i].Seq == start.Seq {
				rep.Anchored = true
			}
		}
	}
	v := newChainVerifier(start)
	for i := range cps {
		if err := v.addCheckpoint(&cps[i]); err != nil {
			return rep, err
		}
	}
	toEnd := optTo == 0 || optTo >= head.Seq
	to := optTo
	if toEnd {
		to = head.Seq
	}
	rep.From = from
	for next := from; next <= to; {
		page, err := l.store.Records(ctx, stream, next, int(min(uint64(verifyPage), to-next+1)))
		if err != nil {
			return rep, err
		}
		if len(page) == 0 {
			break
		}
		for i := range page {
			if page[i].Seq > to {
				break
			}
			if err := v.Next(&page[i]); err != nil {
				return rep, err
			}
		}
		next = page[len(page)-1].Seq + 1
		if err := ctx.Err(); err != nil {
			return rep, err
		}
	}
	walked, truncated := v.Finish()
	rep.Records, rep.Head, rep.To, rep.Signed = walked.Records, walked.Head, walked.To, walked.Signed
	if walked.To < to {
		return rep, &ChainError{Stream: stream, Seq: walked.To + 1, Problem: ProblemTruncated}
	}
	if toEnd {
		if truncated != nil {
			return rep, truncated
		}
		if walked.Head != head {
			return rep, &ChainError{Stream: stream, Seq: head.Seq, Problem: ProblemTruncated}
		}
		more, err := l.store.Records(ctx, stream, to+1, 1)
		if err != nil {
			return rep, err
		}
		if len(more) > 0 {
			// Records beyond the head are tampering unless an append
			// committed since the head was read: stores write records and
			// head together, so the head then covers them.
			now, err := l.store.Head(ctx, stream)
			if err != nil {
				return rep, err
			}
			if now.Seq < more[0].Seq {
				return rep, &ChainError{Stream: stream, Seq: more[0].Seq, Problem: ProblemSequence}
			}
		}
	}
	return rep, nil
}

func (l *Log) checkpoints(ctx context.Context, stream string) ([]Checkpoint, error) {
	var all []Checkpoint
	var from uint64
	for {
		page, err := l.store.Checkpoints(ctx, stream, from, verifyPage)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < verifyPage {
			return all, nil
		}
		// Several checkpoints may share a Seq; re-reading the last Seq and
		// dropping what we have keeps paging exact.
		last := page[len(page)-1].Seq
		if last == from {
			return all, nil // more than a page at one Seq: keep what we have
		}
		for len(all) > 0 && all[len(all)-1].Seq == last {
			all = all[:len(all)-1]
		}
		from = last
	}
}

// Prune deletes the records of stream older than olderThan (by Time, from
// the start of the stream up to the first record that is not old enough),
// first signing a checkpoint that records the pruned head, so the remaining
// chain still verifies from a signed anchor. It returns how many records
// were deleted. It needs a Signer (an error otherwise): pruning without
// an anchor would make the remainder unverifiable.
//
// Prune first verifies the whole stream, as [Log.Verify] does, and prunes
// nothing if that fails (a [*ChainError], or ErrNoVerifier when the Signer
// cannot verify and Config.Verifier is unset): the pruning checkpoint is a
// signed anchor, and signing over records that contradict the older
// checkpoints would let the prune delete the evidence of the tampering.
func (l *Log) Prune(ctx context.Context, stream string, olderThan time.Duration) (int64, error) {
	if l.cfg.Signer == nil {
		return 0, errNoSigner
	}
	rep, err := l.verify(ctx, stream, 0, 0)
	if err != nil {
		return 0, err
	}
	head := rep.Head
	threshold := l.now().Add(-olderThan)
	var cut *Record
	var next uint64
	for done := false; !done; {
		page, err := l.store.Records(ctx, stream, next, verifyPage)
		if err != nil {
			return 0, err
		}
		for i := range page {
			if page[i].Seq > head.Seq || !page[i].Time.Before(threshold) {
				done = true
				break
			}
			cut = &page[i]
		}
		if len(page) < verifyPage {
			done = true
		} else {
			next = page[len(page)-1].Seq + 1
		}
	}
	if cut == nil {
		return 0, nil
	}
	// Sign the head that was just verified, not one read afterwards.
	cp, err := l.sign(ctx, head, cut.Seq, cut.Hash)
	if err != nil {
		return 0, err
	}
	return l.store.Prune(ctx, cp)
}

// PruneAll runs [Log.Prune] on every stream and returns the total deleted.
func (l *Log) PruneAll(ctx context.Context, olderThan time.Duration) (int64, error) {
	streams, err := l.store.Streams(ctx)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, s := range streams {
		n, err := l.Prune(ctx, s, olderThan)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Page is one page of query results, newest first.
type Page struct {
	Records []Record
	Next    *Cursor // pass *Next as Filter.After for the next page; nil on the last
}

// Query returns one page of records matching f, newest first, with
// keyset pagination: pass *Page.Next as f.After for the next page. Pages
// stay stable while new events arrive.
func (l *Log) Query(ctx context.Context, f Filter) (Page, error) {
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = defaultQueryLimit
	case limit > maxQueryLimit:
		limit = maxQueryLimit
	}
	f.Limit = limit + 1
	// Records keep microseconds; stores compare whole microseconds. Round
	// the bounds up to one, so that the store's answer and f.Match agree
	// on a record at the boundary.
	f.Since, f.Until = ceilMicro(f.Since), ceilMicro(f.Until)
	recs, err := l.store.Query(ctx, f)
	if err != nil {
		return Page{}, err
	}
	// A store filters on copies of the fields (SQL columns); a record that
	// does not itself match, or is out of order, means those copies were
	// edited. Refuse the page rather than show it. Ids are not unique (a
	// host may set its own), so two records may tie; only disorder counts.
	for i := range recs {
		r := &recs[i]
		if !f.Match(r) || (i > 0 && NewerFirst(&recs[i-1], r) > 0) {
			return Page{}, &ChainError{Stream: r.Tenant, Seq: r.Seq, Problem: ProblemColumn}
		}
	}
	var p Page
	if len(recs) > limit {
		recs = recs[:limit]
		last := recs[limit-1]
		p.Next = &Cursor{Time: last.Time, ID: last.ID}
	}
	p.Records = recs
	return p, nil
}

// AccessCount is one row of an [AccessReport].
type AccessCount struct {
	Key      string // account (actor) or IP address
	Logins   int    // successful logins
	Failures int    // failed logins and second factors
	Lockouts int
	First    time.Time
	Last     time.Time
}

// AccessReport summarises authentication activity over a period, per account
// and per IP address, for a "security activity" page. Rows are sorted by
// failures, then lockouts, then logins, descending.
type AccessReport struct {
	Since, Until time.Time
	Accounts     []AccessCount
	IPs          []AccessCount
	Events       int  // authentication events read
	Truncated    bool // more than maxReportEvents matched; counts cover the newest
}

const maxReportEvents = 100_000

// AccessReport counts logins (auth.login with outcome success), failures
// (auth.login.* or auth.mfa.* with outcome failure or denied, and
// auth.login.failed) and lockouts (auth.lockout.*) among the events f
// selects; f.ActionPrefix is replaced by "auth". A zero f.Since means 30 days
// before now. The account of an event is its Actor, or its TargetID when
// there is no actor (a failed login for an unknown user).
func (l *Log) AccessReport(ctx context.Context, f Filter) (AccessReport, error) {
	if f.Since.IsZero() {
		f.Since = l.now().AddDate(0, 0, -defaultReportDays)
	}
	f.ActionPrefix, f.Limit, f.After = actionAuthPrefix, maxQueryLimit, Cursor{}
	rep := AccessReport{Since: f.Since, Until: f.Until}
	accounts, ips := map[string]*AccessCount{}, map[string]*AccessCount{}
	for {
		p, err := l.Query(ctx, f)
		if err != nil {
			return rep, err
		}
		for i := range p.Records {
			r := &p.Records[i]
			rep.Events++
			account := cmp.Or(r.Actor, r.TargetID)
			for _, t := range []struct {
				m   map[string]*AccessCount
				key string
			}{{accounts, account}, {ips, r.IP}} {
				if t.key != "" {
					count(t.m, t.key, r)
				}
			}
		}
		if p.Next == nil {
			break
		}
		if rep.Events >= maxReportEvents {
			rep.Truncated = true
			break
		}
		f.After = *p.Next
	}
	rep.Accounts, rep.IPs = sortCounts(accounts), sortCounts(ips)
	return rep, nil
}

func count(m map[string]*AccessCount, key string, r *Record) {
	c, ok := m[key]
	if !ok {
		c = &AccessCount{Key: key}
		m[key] = c
	}
	failed := r.Outcome == Failure || r.Outcome == Denied
	switch {
	case matchActionPrefix(actionLockout, r.Action):
		c.Lockouts++
	case r.Action == actionLoginFailed || matchActionPrefix(actionMFAFailed, r.Action):
		c.Failures++
	case matchActionPrefix(actionLogin, r.Action) || matchActionPrefix("auth.mfa", r.Action):
		if failed {
			c.Failures++
		} else if r.Outcome == Success && matchActionPrefix(actionLogin, r.Action) {
			c.Logins++
		}
	default:
		return
	}
	if c.First.IsZero() || r.Time.Before(c.First) {
		c.First = r.Time
	}
	if r.Time.After(c.Last) {
		c.Last = r.Time
	}
}

func sortCounts(m map[string]*AccessCount) []AccessCount {
	out := make([]AccessCount, 0, len(m))
	for _, c := range m {
		if c.Logins+c.Failures+c.Lockouts > 0 {
			out = append(out, *c)
		}
	}
	slices.SortFunc(out, func(a, b AccessCount) int {
		return cmp.Or(cmp.Compare(b.Failures, a.Failures), cmp.Compare(b.Lockouts, a.Lockouts),
			cmp.Compare(b.Logins, a.Logins), cmp.Compare(a.Key, b.Key))
	})
	return out
}

// Checkpoint signs and stores the head of every stream that has moved
// since its last checkpoint, so that a later truncation or rewrite of
// anything up to it is detected, and returns how many it signed. Run it
// on a timer (say every few minutes) so that quiet streams, which rarely
// reach Config.CheckpointEvery, are also protected against truncation of
// their newest records. It returns an error without a Signer.
func (l *Log) Checkpoint(ctx context.Context) (int, error) {
	if l.cfg.Signer == nil {
		return 0, errNoSigner
	}
	streams, err := l.store.Streams(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range streams {
		head, err := l.store.Head(ctx, s)
		if err != nil {
			return n, err
		}
		done, err := l.store.Checkpoints(ctx, s, head.Seq, 1)
		if err != nil {
			return n, err
		}
		if head.Seq == 0 || len(done) > 0 {
			continue
		}
		if _, err := l.checkpoint(ctx, head, 0, [32]byte{}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// ceilMicro rounds t up to a whole microsecond; the zero time stays zero.
func ceilMicro(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	c := t.Truncate(time.Microsecond)
	if c.Before(t) {
		c = c.Add(time.Microsecond)
	}
	return c
}
