// Package sessiontest checks a [session.Store] implementation against the
// contract written on the interface, in the manner of testing/fstest.
//
//	func TestConformance(t *testing.T) {
//		sessiontest.Run(t, func(t *testing.T) session.Store { return newStore(t) })
//	}
//
// newStore must return a fresh, empty store for each subtest. The suite uses
// only the standard library.
package sessiontest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bulwarkhq/bulwark/session"
)

// base is the suite's clock origin: close to the real clock, so stores that
// derive TTLs from record times keep the records for the whole run.
var base = time.Now().UTC().Truncate(time.Second)

func hash() [32]byte {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return sha256.Sum256(b[:])
}

// mk returns a session for user created at, idle-expiring after idle and
// absolutely after an hour.
func mk(user string, at time.Time, idle time.Duration) *session.Session {
	return &session.Session{
		ID:             uuid.Must(uuid.NewV7()).String(),
		TokenHash:      hash(),
		UserID:         user,
		CreatedAt:      at,
		LastSeen:       at,
		ExpiresAt:      at.Add(idle),
		AbsoluteExpiry: at.Add(time.Hour),
		AuthTime:       at.Add(-time.Second),
		Factors:        []string{"password", "totp"},
		IP:             "192.0.2.1",
		UserAgent:      "sessiontest/1.0",
	}
}

// newManager returns a Manager over st, failing tb if [session.New] refuses.
func newManager(tb testing.TB, st session.Store, cfg session.Config) *session.Manager {
	tb.Helper()
	m, err := session.New(st, cfg)
	if err != nil {
		tb.Fatalf("session.New: %v", err)
	}
	return m
}

// beacon sends m's tab-close beacon for token, as a closing page does
// ([session.Manager.CloseHandler]). Store errors reach the Manager's
// OnError too.
func beacon(m *session.Manager, token string) error {
	w := serve(m.CloseHandler(), http.MethodPost, m.Config().CookieName, token)
	if w.Code != http.StatusNoContent {
		return fmt.Errorf("close beacon: status %d", w.Code)
	}
	return nil
}

// pollTimeLeft polls m's time-left endpoint for token, as a page's
// "expiring soon" banner does ([session.Manager.TimeLeftHandler]).
func pollTimeLeft(m *session.Manager, token string) error {
	w := serve(m.TimeLeftHandler(), http.MethodGet, m.Config().CookieName, token)
	switch w.Code {
	case http.StatusOK:
		return nil
	case http.StatusUnauthorized:
		return session.ErrNotFound
	default:
		return fmt.Errorf("time left: status %d", w.Code)
	}
}

// serve sends h a same-origin request carrying token in the cookie named
// cookie.
func serve(h http.Handler, method, cookie, token string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "https://app.example/", nil)
	r.AddCookie(&http.Cookie{Name: cookie, Value: token, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// modeName names what lim does at the limit, for test names.
func modeName(lim session.Limit) string {
	if lim.ReplaceOld {
		return "replace-old"
	}
	return "deny-new"
}

func rem(user, family string, at time.Time) session.Remember {
	return session.Remember{Hash: hash(), Family: family, UserID: user, AuthTime: at, CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour)}
}

var (
	deny1    = session.Limit{Max: 1}
	noLimit  = session.Limit{}
	zeroHash [32]byte
)

type suite struct {
	t   *testing.T
	st  session.Store
	ctx context.Context
}

func (s suite) create(x *session.Session, lim session.Limit) []string {
	s.t.Helper()
	ev, err := s.st.Create(s.ctx, x, lim, zeroHash)
	if err != nil {
		s.t.Fatalf("Create: %v", err)
	}
	return ev
}

func (s suite) mustNotFound(err error, what string) {
	s.t.Helper()
	if !errors.Is(err, session.ErrNotFound) {
		s.t.Fatalf("%s: got error %v, want ErrNotFound", what, err)
	}
}

func (s suite) live(user string, now time.Time) []session.Session {
	s.t.Helper()
	l, err := s.st.List(s.ctx, user, now)
	if err != nil {
		s.t.Fatalf("List: %v", err)
	}
	return l
}

func ids(ss []session.Session) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.ID
	}
	return out
}

func sameSession(t *testing.T, got session.Session, want *session.Session) {
	t.Helper()
	if got.ID != want.ID || got.TokenHash != want.TokenHash || got.UserID != want.UserID ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.LastSeen.Equal(want.LastSeen) ||
		!got.ExpiresAt.Equal(want.ExpiresAt) || !got.AbsoluteExpiry.Equal(want.AbsoluteExpiry) ||
		!got.AuthTime.Equal(want.AuthTime) || !slices.Equal(got.Factors, want.Factors) ||
		got.IP != want.IP || got.UserAgent != want.UserAgent || got.RememberFamily != want.RememberFamily ||
		!got.Closing.Equal(want.Closing) {
		t.Fatalf("stored session differs:\n got %+v\nwant %+v", got, *want)
	}
}

// Run runs the conformance suite. newStore is called once per subtest.
func Run(t *testing.T, newStore func(t *testing.T) session.Store) {
	tests := []struct {
		name string
		fn   func(s suite)
	}{
		{"CreateGet", testCreateGet},
		{"Expiry", testExpiry},
		{"Touch", testTouch},
		{"Delete", testDelete},
		{"DenyNew", testDenyNew},
		{"ReplaceOld", testReplaceOld},
		{"Replaces", testReplaces},
		{"ListAndRevoke", testListRevoke},
		{"RevokeUser", testRevokeUser},
		{"Remember", testRemember},
		{"RememberReuse", testRememberReuse},
		{"ConcurrentLimit", testConcurrentLimit},
		{"MarkClosing", testMarkClosing},
		{"TouchRacingMark", testTouchRacingMark},
		{"DeleteExpired", testDeleteExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(suite{t: t, st: newStore(t), ctx: context.Background()})
		})
	}
}

func testCreateGet(s suite) {
	x := mk("u1", base, 10*time.Minute)
	x.RememberFamily = uuid.Must(uuid.NewV7()).String()
	if ev := s.create(x, deny1); len(ev) != 0 {
		s.t.Fatalf("evicted %v from an empty store", ev)
	}
	got, err := s.st.Get(s.ctx, x.TokenHash, base.Add(time.Second))
	if err != nil {
		s.t.Fatalf("Get: %v", err)
	}
	sameSession(s.t, got, x)
	got.Factors[0] = "changed"
	again, _ := s.st.Get(s.ctx, x.TokenHash, base)
	if again.Factors[0] != "password" {
		s.t.Fatal("Get returned memory shared with the store")
	}
	_, err = s.st.Get(s.ctx, hash(), base)
	s.mustNotFound(err, "Get unknown")

	y := mk("u2", base, time.Minute)
	y.Factors, y.IP, y.UserAgent = nil, "", ""
	s.create(y, deny1)
	got, err = s.st.Get(s.ctx, y.TokenHash, base)
	if err != nil || len(got.Factors) != 0 || got.IP != "" {
		s.t.Fatalf("Get with empty fields: %+v, %v", got, err)
	}
}

func testExpiry(s suite) {
	x := mk("u1", base, 10*time.Minute)
	s.create(x, deny1)
	if _, err := s.st.Get(s.ctx, x.TokenHash, base.Add(10*time.Minute-time.Microsecond)); err != nil {
		s.t.Fatalf("Get just before expiry: %v", err)
	}
	_, err := s.st.Get(s.ctx, x.TokenHash, base.Add(10*time.Minute))
	s.mustNotFound(err, "Get at expiry")
	if l := s.live("u1", base.Add(10*time.Minute)); len(l) != 0 {
		s.t.Fatalf("List shows an expired session: %v", ids(l))
	}
}

func testTouch(s suite) {
	x := mk("u1", base, 10*time.Minute)
	s.create(x, deny1)
	t1 := base.Add(5 * time.Minute)
	if err := s.st.Touch(s.ctx, x.TokenHash, t1, t1.Add(10*time.Minute)); err != nil {
		s.t.Fatalf("Touch: %v", err)
	}
	got, err := s.st.Get(s.ctx, x.TokenHash, base.Add(14*time.Minute))
	if err != nil {
		s.t.Fatalf("Get after Touch: %v", err)
	}
	if !got.LastSeen.Equal(t1) || !got.ExpiresAt.Equal(t1.Add(10*time.Minute)) {
		s.t.Fatalf("after Touch LastSeen=%v ExpiresAt=%v", got.LastSeen, got.ExpiresAt)
	}
	// An older touch (a slower instance) never moves the window back.
	if err := s.st.Touch(s.ctx, x.TokenHash, base.Add(time.Minute), base.Add(11*time.Minute)); err != nil {
		s.t.Fatalf("older Touch: %v", err)
	}
	got, _ = s.st.Get(s.ctx, x.TokenHash, base.Add(14*time.Minute))
	if !got.LastSeen.Equal(t1) || !got.ExpiresAt.Equal(t1.Add(10*time.Minute)) {
		s.t.Fatalf("older Touch moved the window back: LastSeen=%v ExpiresAt=%v", got.LastSeen, got.ExpiresAt)
	}
	late := t1.Add(10 * time.Minute)
	s.mustNotFound(s.st.Touch(s.ctx, x.TokenHash, late, late.Add(10*time.Minute)), "Touch after expiry")
	s.mustNotFound(s.st.Touch(s.ctx, hash(), base, base.Add(time.Minute)), "Touch unknown")
}

func testMarkClosing(s suite) {
	x := mk("u1", base, 10*time.Minute)
	s.create(x, deny1)
	at, grace := base.Add(time.Minute), 10*time.Second
	if err := s.st.MarkClosing(s.ctx, x.TokenHash, at, at, at.Add(grace)); err != nil {
		s.t.Fatalf("MarkClosing: %v", err)
	}
	got, err := s.st.Get(s.ctx, x.TokenHash, at.Add(grace-time.Microsecond))
	if err != nil {
		s.t.Fatalf("Get within the grace: %v", err)
	}
	want := *x
	want.Closing, want.ExpiresAt = at, at.Add(grace)
	sameSession(s.t, got, &want)
	if l := s.live("u1", at.Add(grace-time.Microsecond)); len(l) != 1 || !l[0].Closing.Equal(at) {
		s.t.Fatalf("List within the grace: %+v", l)
	}
	end := at.Add(grace)
	_, err = s.st.Get(s.ctx, x.TokenHash, end)
	s.mustNotFound(err, "Get at the end of the grace")
	if l := s.live("u1", end); len(l) != 0 {
		s.t.Fatalf("List shows a session whose grace is over: %v", ids(l))
	}
	s.mustNotFound(s.st.MarkClosing(s.ctx, x.TokenHash, end, time.Time{}, end.Add(10*time.Minute)), "clearing after the grace")
	s.mustNotFound(s.st.Touch(s.ctx, x.TokenHash, end, end.Add(10*time.Minute)), "Touch after the grace")
	// The single-session rule no longer counts it.
	s.create(mk("u1", end, 10*time.Minute), deny1)

	// Cleared within the grace: the expiry is restored, the mark gone.
	y := mk("u2", base, 10*time.Minute)
	s.create(y, deny1)
	if err := s.st.MarkClosing(s.ctx, y.TokenHash, at, at, at.Add(grace)); err != nil {
		s.t.Fatalf("MarkClosing: %v", err)
	}
	in := at.Add(grace / 2)
	if err := s.st.MarkClosing(s.ctx, y.TokenHash, in, time.Time{}, in.Add(10*time.Minute)); err != nil {
		s.t.Fatalf("clearing the mark: %v", err)
	}
	got, err = s.st.Get(s.ctx, y.TokenHash, at.Add(5*time.Minute))
	if err != nil {
		s.t.Fatalf("Get after clearing: %v", err)
	}
	want = *y
	want.ExpiresAt = in.Add(10 * time.Minute)
	sameSession(s.t, got, &want)
	// A touch leaves a mark as it is.
	if err := s.st.MarkClosing(s.ctx, y.TokenHash, at.Add(5*time.Minute), at.Add(5*time.Minute), at.Add(5*time.Minute+grace)); err != nil {
		s.t.Fatalf("MarkClosing again: %v", err)
	}
	if err := s.st.Touch(s.ctx, y.TokenHash, at.Add(5*time.Minute), at.Add(15*time.Minute)); err != nil {
		s.t.Fatalf("Touch: %v", err)
	}
	if got, err = s.st.Get(s.ctx, y.TokenHash, at.Add(5*time.Minute)); err != nil || !got.Closing.Equal(at.Add(5*time.Minute)) {
		s.t.Fatalf("after Touch: Closing %v, %v", got.Closing, err)
	}
	s.mustNotFound(s.st.MarkClosing(s.ctx, hash(), at, at, at.Add(grace)), "MarkClosing unknown")
}

// A touch written after the mark (a request read before the tab-close
// beacon, its write landing after) records the activity but leaves the
// mark's expiry: the closed session is neither listed nor counted by the
// single-session rule once the grace is over, instead of blocking a new
// login until the idle timeout.
func testTouchRacingMark(s suite) {
	x := mk("u1", base, 10*time.Minute)
	s.create(x, deny1)
	at, grace := base.Add(time.Minute), 10*time.Second
	if err := s.st.MarkClosing(s.ctx, x.TokenHash, at, at, at.Add(grace)); err != nil {
		s.t.Fatalf("MarkClosing: %v", err)
	}
	touched := at.Add(time.Millisecond)
	if err := s.st.Touch(s.ctx, x.TokenHash, touched, touched.Add(10*time.Minute)); err != nil {
		s.t.Fatalf("Touch: %v", err)
	}
	got, err := s.st.Get(s.ctx, x.TokenHash, touched)
	if err != nil {
		s.t.Fatalf("Get within the grace: %v", err)
	}
	if !got.LastSeen.Equal(touched) || !got.ExpiresAt.Equal(at.Add(grace)) || !got.Closing.Equal(at) {
		s.t.Fatalf("after a touch of a marked session: LastSeen %v ExpiresAt %v Closing %v, want %v %v %v",
			got.LastSeen, got.ExpiresAt, got.Closing, touched, at.Add(grace), at)
	}
	end := at.Add(grace)
	_, err = s.st.Get(s.ctx, x.TokenHash, end)
	s.mustNotFound(err, "Get at the end of the grace after a racing touch")
	if l := s.live("u1", end); len(l) != 0 {
		s.t.Fatalf("List shows a closed session after the grace: %v", ids(l))
	}
	s.create(mk("u1", end, 10*time.Minute), deny1)
}

// testDeleteExpired checks [session.Cleaner], for stores that have it.
func testDeleteExpired(s suite) {
	c, ok := s.st.(session.Cleaner)
	if !ok {
		return // the store expires records by itself
	}
	expired := mk("u1", base, time.Minute)
	touched := mk("u2", base, time.Minute)
	marked := mk("u3", base, 10*time.Minute)
	live := mk("u4", base, 10*time.Minute)
	for _, x := range []*session.Session{expired, touched, marked, live} {
		s.create(x, noLimit)
	}
	at := base.Add(30 * time.Second)
	if err := s.st.Touch(s.ctx, touched.TokenHash, at, at.Add(10*time.Minute)); err != nil {
		s.t.Fatalf("Touch: %v", err)
	}
	if err := s.st.MarkClosing(s.ctx, marked.TokenHash, at, at, at.Add(10*time.Second)); err != nil {
		s.t.Fatalf("MarkClosing: %v", err)
	}
	old, kept := rem("u5", uuid.Must(uuid.NewV7()).String(), base), rem("u5", uuid.Must(uuid.NewV7()).String(), base)
	old.ExpiresAt = base.Add(time.Minute)
	for _, r := range []session.Remember{old, kept} {
		if err := s.st.CreateRemember(s.ctx, r); err != nil {
			s.t.Fatalf("CreateRemember: %v", err)
		}
	}
	now, total := base.Add(2*time.Minute), 0
	for range 10 {
		n, err := c.DeleteExpired(s.ctx, now, 1)
		if err != nil {
			s.t.Fatalf("DeleteExpired: %v", err)
		}
		if n > 1 {
			s.t.Fatalf("DeleteExpired deleted %d with a batch of 1", n)
		}
		if n == 0 {
			break
		}
		total += n
	}
	if total != 3 {
		s.t.Fatalf("DeleteExpired deleted %d records, want 3 (a session expired, one marked, a remember-me token)", total)
	}
	// Read at an earlier time, a record that was deleted is gone, and one
	// that was kept is there.
	for _, x := range []*session.Session{expired, marked} {
		_, err := s.st.Get(s.ctx, x.TokenHash, base)
		s.mustNotFound(err, "Get of a deleted session")
	}
	for _, x := range []*session.Session{touched, live} {
		if _, err := s.st.Get(s.ctx, x.TokenHash, now); err != nil {
			s.t.Fatalf("a live session was deleted: %v", err)
		}
	}
	_, err := s.st.RotateRemember(s.ctx, old.Hash, hash(), base)
	s.mustNotFound(err, "RotateRemember of a deleted token")
	if _, err := s.st.RotateRemember(s.ctx, kept.Hash, hash(), now); err != nil {
		s.t.Fatalf("a live remember-me token was deleted: %v", err)
	}
}

func testDelete(s suite) {
	x := mk("u1", base, 10*time.Minute)
	x.RememberFamily = uuid.Must(uuid.NewV7()).String()
	r := rem("u1", x.RememberFamily, base)
	s.create(x, deny1)
	if err := s.st.CreateRemember(s.ctx, r); err != nil {
		s.t.Fatalf("CreateRemember: %v", err)
	}
	got, err := s.st.Delete(s.ctx, x.TokenHash)
	if err != nil || got.ID != x.ID || got.UserID != "u1" {
		s.t.Fatalf("Delete: %+v, %v", got, err)
	}
	_, err = s.st.Get(s.ctx, x.TokenHash, base)
	s.mustNotFound(err, "Get after Delete")
	_, err = s.st.Delete(s.ctx, x.TokenHash)
	s.mustNotFound(err, "second Delete")
	_, err = s.st.RotateRemember(s.ctx, r.Hash, hash(), base)
	s.mustNotFound(err, "RotateRemember after its session was deleted")
	// The user may log in again at once.
	s.create(mk("u1", base, time.Minute), deny1)
}

func testDenyNew(s suite) {
	lim := session.Limit{Max: 2}
	a, b := mk("u1", base, 10*time.Minute), mk("u1", base.Add(time.Second), 5*time.Minute)
	s.create(a, lim)
	s.create(b, lim)
	s.create(mk("u2", base, time.Minute), lim) // other users do not count
	c := mk("u1", base.Add(2*time.Second), time.Minute)
	if _, err := s.st.Create(s.ctx, c, lim, zeroHash); !errors.Is(err, session.ErrLimit) {
		s.t.Fatalf("third session: got %v, want ErrLimit", err)
	}
	_, err := s.st.Get(s.ctx, c.TokenHash, c.CreatedAt)
	s.mustNotFound(err, "Get denied session")
	// Once b has expired there is room again; expired sessions do not count.
	d := mk("u1", base.Add(5*time.Minute+time.Second), time.Minute)
	if ev := s.create(d, lim); len(ev) != 0 {
		s.t.Fatalf("DenyNew evicted %v", ev)
	}
	if got := ids(s.live("u1", d.CreatedAt)); !slices.Equal(got, []string{a.ID, d.ID}) {
		s.t.Fatalf("live sessions %v, want %v", got, []string{a.ID, d.ID})
	}
	// No limit.
	for i := range 3 {
		s.create(mk("u3", base.Add(time.Duration(i)*time.Second), time.Minute), noLimit)
	}
	if n := len(s.live("u3", base)); n != 3 {
		s.t.Fatalf("without a limit %d sessions, want 3", n)
	}
}

func testReplaceOld(s suite) {
	lim := session.Limit{Max: 2, ReplaceOld: true}
	a, b, c := mk("u1", base, time.Hour), mk("u1", base.Add(time.Second), time.Hour), mk("u1", base.Add(2*time.Second), time.Hour)
	a.RememberFamily = uuid.Must(uuid.NewV7()).String()
	ra := rem("u1", a.RememberFamily, base)
	s.create(a, lim)
	if err := s.st.CreateRemember(s.ctx, ra); err != nil {
		s.t.Fatal(err)
	}
	s.create(b, lim)
	ev := s.create(c, lim)
	if !slices.Equal(ev, []string{a.ID}) {
		s.t.Fatalf("evicted %v, want [%s]", ev, a.ID)
	}
	_, err := s.st.Get(s.ctx, a.TokenHash, c.CreatedAt)
	s.mustNotFound(err, "Get evicted")
	_, err = s.st.RotateRemember(s.ctx, ra.Hash, hash(), c.CreatedAt)
	s.mustNotFound(err, "remember-me of an evicted session")
	// Limit 1 evicts everything else.
	d := mk("u1", base.Add(3*time.Second), time.Hour)
	ev = s.create(d, session.Limit{Max: 1, ReplaceOld: true})
	slices.Sort(ev)
	want := []string{b.ID, c.ID}
	slices.Sort(want)
	if !slices.Equal(ev, want) {
		s.t.Fatalf("evicted %v, want %v", ev, want)
	}
	if got := ids(s.live("u1", d.CreatedAt)); !slices.Equal(got, []string{d.ID}) {
		s.t.Fatalf("live %v, want [%s]", got, d.ID)
	}
}

func testReplaces(s suite) {
	a := mk("u1", base, time.Hour)
	a.RememberFamily = uuid.Must(uuid.NewV7()).String()
	ra := rem("u1", a.RememberFamily, base)
	s.create(a, deny1)
	if err := s.st.CreateRemember(s.ctx, ra); err != nil {
		s.t.Fatal(err)
	}
	b := mk("u1", base.Add(time.Second), time.Hour)
	b.RememberFamily = a.RememberFamily
	ev, err := s.st.Create(s.ctx, b, deny1, a.TokenHash)
	if err != nil || len(ev) != 0 {
		s.t.Fatalf("Create replacing: %v, %v", ev, err)
	}
	_, err = s.st.Get(s.ctx, a.TokenHash, b.CreatedAt)
	s.mustNotFound(err, "Get replaced")
	if _, err := s.st.Get(s.ctx, b.TokenHash, b.CreatedAt); err != nil {
		s.t.Fatalf("Get replacement: %v", err)
	}
	if _, err := s.st.RotateRemember(s.ctx, ra.Hash, hash(), b.CreatedAt); err != nil {
		s.t.Fatalf("the family must survive a replacement: %v", err)
	}

	// Replacing a session that is gone (revoked or rotated meanwhile),
	// expired, or another user's stores nothing: a rotation never brings a
	// revoked session back.
	o := mk("u2", base, time.Minute)
	s.create(o, deny1)
	for _, tc := range []struct {
		name string
		old  [32]byte
		at   time.Time
	}{
		{"an already replaced session", a.TokenHash, b.CreatedAt},
		{"an unknown session", hash(), b.CreatedAt},
		{"another user's session", o.TokenHash, b.CreatedAt},
		{"an expired session", b.TokenHash, b.ExpiresAt},
	} {
		c := mk("u1", tc.at, time.Hour)
		_, err := s.st.Create(s.ctx, c, noLimit, tc.old)
		s.mustNotFound(err, "Create replacing "+tc.name)
		_, err = s.st.Get(s.ctx, c.TokenHash, tc.at)
		s.mustNotFound(err, "Get after Create replacing "+tc.name)
	}
	if _, err := s.st.Get(s.ctx, o.TokenHash, base); err != nil {
		s.t.Fatalf("another user's session must survive: %v", err)
	}
}

func testListRevoke(s suite) {
	a, b := mk("u1", base, time.Hour), mk("u1", base.Add(time.Second), time.Hour)
	b.RememberFamily = uuid.Must(uuid.NewV7()).String()
	rb := rem("u1", b.RememberFamily, base)
	o := mk("u2", base, time.Hour)
	s.create(a, noLimit)
	s.create(b, noLimit)
	s.create(o, noLimit)
	if err := s.st.CreateRemember(s.ctx, rb); err != nil {
		s.t.Fatal(err)
	}
	l := s.live("u1", base.Add(time.Second))
	if !slices.Equal(ids(l), []string{a.ID, b.ID}) {
		s.t.Fatalf("List %v, want %v", ids(l), []string{a.ID, b.ID})
	}
	sameSession(s.t, l[1], b)
	if l := s.live("nobody", base); len(l) != 0 {
		s.t.Fatalf("List of unknown user: %v", ids(l))
	}
	s.mustNotFound(s.st.Revoke(s.ctx, "u2", b.ID), "Revoke another user's session")
	s.mustNotFound(s.st.Revoke(s.ctx, "u1", uuid.Must(uuid.NewV7()).String()), "Revoke unknown id")
	if err := s.st.Revoke(s.ctx, "u1", b.ID); err != nil {
		s.t.Fatalf("Revoke: %v", err)
	}
	_, err := s.st.Get(s.ctx, b.TokenHash, base)
	s.mustNotFound(err, "Get revoked")
	_, err = s.st.RotateRemember(s.ctx, rb.Hash, hash(), base)
	s.mustNotFound(err, "remember-me of a revoked session")
	if got := ids(s.live("u1", base)); !slices.Equal(got, []string{a.ID}) {
		s.t.Fatalf("after Revoke %v", got)
	}
	if _, err := s.st.Get(s.ctx, o.TokenHash, base); err != nil {
		s.t.Fatalf("other user's session: %v", err)
	}
}

func testRevokeUser(s suite) {
	var all []*session.Session
	var rems []session.Remember
	for i := range 3 {
		x := mk("u1", base.Add(time.Duration(i)*time.Second), time.Hour)
		x.RememberFamily = uuid.Must(uuid.NewV7()).String()
		r := rem("u1", x.RememberFamily, base)
		s.create(x, noLimit)
		if err := s.st.CreateRemember(s.ctx, r); err != nil {
			s.t.Fatal(err)
		}
		all, rems = append(all, x), append(rems, r)
	}
	o := mk("u2", base, time.Hour)
	s.create(o, noLimit)
	// A family whose session has already expired is revoked too.
	orphan := rem("u1", uuid.Must(uuid.NewV7()).String(), base)
	if err := s.st.CreateRemember(s.ctx, orphan); err != nil {
		s.t.Fatal(err)
	}
	n, err := s.st.RevokeUser(s.ctx, "u1", all[1].ID)
	if err != nil || n != 2 {
		s.t.Fatalf("RevokeUser except: %d, %v; want 2", n, err)
	}
	if got := ids(s.live("u1", base.Add(5*time.Second))); !slices.Equal(got, []string{all[1].ID}) {
		s.t.Fatalf("after RevokeUser except: %v", got)
	}
	for i, r := range append(rems, orphan) {
		_, err := s.st.RotateRemember(s.ctx, r.Hash, hash(), base)
		if i == 1 {
			if err != nil {
				s.t.Fatalf("the kept session's family: %v", err)
			}
			continue
		}
		s.mustNotFound(err, fmt.Sprintf("remember-me %d after RevokeUser", i))
	}
	n, err = s.st.RevokeUser(s.ctx, "u1", "")
	if err != nil || n != 1 {
		s.t.Fatalf("RevokeUser all: %d, %v; want 1", n, err)
	}
	if l := s.live("u1", base); len(l) != 0 {
		s.t.Fatalf("after RevokeUser all: %v", ids(l))
	}
	if _, err := s.st.Get(s.ctx, o.TokenHash, base); err != nil {
		s.t.Fatalf("other user's session: %v", err)
	}
	if n, err := s.st.RevokeUser(s.ctx, "nobody", ""); err != nil || n != 0 {
		s.t.Fatalf("RevokeUser of unknown user: %d, %v", n, err)
	}
}

func testRemember(s suite) {
	fam := uuid.Must(uuid.NewV7()).String()
	r := rem("u1", fam, base)
	if err := s.st.CreateRemember(s.ctx, r); err != nil {
		s.t.Fatal(err)
	}
	next := hash()
	at := base.Add(time.Hour)
	old, err := s.st.RotateRemember(s.ctx, r.Hash, next, at)
	if err != nil {
		s.t.Fatalf("RotateRemember: %v", err)
	}
	if old.Family != fam || old.UserID != "u1" || !old.AuthTime.Equal(base) || !old.ExpiresAt.Equal(r.ExpiresAt) {
		s.t.Fatalf("RotateRemember returned %+v", old)
	}
	third := hash()
	got, err := s.st.RotateRemember(s.ctx, next, third, at.Add(time.Hour))
	if err != nil || got.Family != fam || !got.CreatedAt.Equal(at) || !got.ExpiresAt.Equal(r.ExpiresAt) {
		s.t.Fatalf("second rotation: %+v, %v", got, err)
	}
	_, err = s.st.RotateRemember(s.ctx, third, hash(), r.ExpiresAt)
	s.mustNotFound(err, "RotateRemember at the family's expiry")
	_, err = s.st.RotateRemember(s.ctx, hash(), hash(), base)
	s.mustNotFound(err, "RotateRemember unknown")

	// RevokeRemember ends the family and the sessions it started.
	fam2 := uuid.Must(uuid.NewV7()).String()
	r2 := rem("u1", fam2, base)
	if err := s.st.CreateRemember(s.ctx, r2); err != nil {
		s.t.Fatal(err)
	}
	next2 := hash()
	if _, err := s.st.RotateRemember(s.ctx, r2.Hash, next2, base); err != nil {
		s.t.Fatal(err)
	}
	fromFam, other := mk("u1", base, time.Hour), mk("u1", base, time.Hour)
	fromFam.RememberFamily = fam2
	s.create(fromFam, noLimit)
	s.create(other, noLimit)
	if err := s.st.RevokeRemember(s.ctx, next2); err != nil {
		s.t.Fatalf("RevokeRemember: %v", err)
	}
	_, err = s.st.Get(s.ctx, fromFam.TokenHash, base)
	s.mustNotFound(err, "session of a revoked family")
	if _, err := s.st.Get(s.ctx, other.TokenHash, base); err != nil {
		s.t.Fatalf("unrelated session: %v", err)
	}
	_, err = s.st.RotateRemember(s.ctx, next2, hash(), base)
	s.mustNotFound(err, "token of a revoked family")
	s.mustNotFound(s.st.RevokeRemember(s.ctx, next2), "second RevokeRemember")
}

func testRememberReuse(s suite) {
	fam := uuid.Must(uuid.NewV7()).String()
	r := rem("u1", fam, base)
	if err := s.st.CreateRemember(s.ctx, r); err != nil {
		s.t.Fatal(err)
	}
	next := hash()
	if _, err := s.st.RotateRemember(s.ctx, r.Hash, next, base); err != nil {
		s.t.Fatal(err)
	}
	fromFam := mk("u1", base, time.Hour)
	fromFam.RememberFamily = fam
	other := mk("u1", base, time.Hour)
	s.create(fromFam, noLimit)
	s.create(other, noLimit)
	got, err := s.st.RotateRemember(s.ctx, r.Hash, hash(), base.Add(time.Minute))
	if !errors.Is(err, session.ErrReused) || got.UserID != "u1" || got.Family != fam {
		s.t.Fatalf("reuse: %+v, %v; want ErrReused with the record", got, err)
	}
	_, err = s.st.RotateRemember(s.ctx, next, hash(), base.Add(time.Minute))
	s.mustNotFound(err, "current token after reuse")
	_, err = s.st.Get(s.ctx, fromFam.TokenHash, base)
	s.mustNotFound(err, "session of a reused family")
	if _, err := s.st.Get(s.ctx, other.TokenHash, base); err != nil {
		s.t.Fatalf("unrelated session: %v", err)
	}
}

func testConcurrentLimit(s suite) {
	const n = 40
	for _, replace := range []bool{false, true} {
		lim := session.Limit{Max: 3, ReplaceOld: replace}
		mode := modeName(lim)
		user := "u-" + mode
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, denied := 0, 0
		for i := range n {
			wg.Go(func() {
				_, err := s.st.Create(s.ctx, mk(user, base.Add(time.Duration(i)*time.Millisecond), time.Hour), lim, zeroHash)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, session.ErrLimit):
					denied++
				default:
					s.t.Errorf("Create: %v", err)
				}
			})
		}
		wg.Wait()
		live := len(s.live(user, base.Add(time.Second)))
		if live != 3 {
			s.t.Fatalf("%s: %d live sessions, want 3", mode, live)
		}
		if !replace && (ok != 3 || denied != n-3) {
			s.t.Fatalf("DenyNew: %d created, %d denied; want 3 and %d", ok, denied, n-3)
		}
		if replace && ok != n {
			s.t.Fatalf("ReplaceOld: %d created, want %d", ok, n)
		}
	}
}

// RunConcurrentLogins checks the single-session rule across app instances:
// refusing new logins and replacing old ones, with a limit of 1, it makes logins concurrent
// logins for one account (with a limit of 3, a fifth as many, to keep the
// run short), spread over one
// [session.Manager] per store that newInstances returns (separate pools on
// one shared database, say), and checks that exactly the limit's number of
// sessions is left live, that no more were ever live while the logins ran,
// and that refusing admitted exactly that many.
func RunConcurrentLogins(t *testing.T, newInstances func(t *testing.T) []session.Store, logins int) {
	for _, lim := range []session.Limit{{Max: 1}, {Max: 1, ReplaceOld: true},
		{Max: 3}, {Max: 3, ReplaceOld: true}} {
		t.Run(fmt.Sprintf("%s-%d", modeName(lim), lim.Max), func(t *testing.T) {
			stores := newInstances(t)
			ms := make([]*session.Manager, len(stores))
			for i, st := range stores {
				ms[i] = newManager(t, st, session.Config{MaxSessions: lim.Max, ReplaceOld: lim.ReplaceOld})
			}
			ctx := context.Background()
			logins := logins
			if lim.Max > 1 {
				logins = max(logins/5, 10)
			}
			var (
				wg              sync.WaitGroup
				mu              sync.Mutex
				created, denied int
				maxLive         int
			)
			done := make(chan struct{})
			watched := make(chan struct{})
			go func() { // watch for a moment with too many live sessions
				defer close(watched)
				for {
					select {
					case <-done:
						return
					default:
					}
					l, err := ms[0].List(ctx, "user")
					if err != nil {
						t.Errorf("List: %v", err)
						return
					}
					maxLive = max(maxLive, len(l))
					time.Sleep(2 * time.Millisecond)
				}
			}()
			for i := range logins {
				wg.Go(func() {
					_, err := ms[i%len(ms)].Create(ctx, "user", session.Login{Factors: []string{"password"}})
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						created++
					case errors.Is(err, session.ErrLimit):
						denied++
					default:
						t.Errorf("Create: %v", err)
					}
				})
			}
			wg.Wait()
			close(done)
			<-watched
			l, err := ms[len(ms)-1].List(ctx, "user")
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if len(l) != lim.Max || maxLive > lim.Max {
				t.Fatalf("%d live sessions at the end, at most %d during the run; want exactly %d and never more", len(l), maxLive, lim.Max)
			}
			want := logins
			if !lim.ReplaceOld {
				want = lim.Max
			}
			if created != want || created+denied != logins {
				t.Fatalf("%d logins succeeded and %d were denied; want %d succeeded", created, denied, want)
			}
		})
	}
}

// BenchmarkValidate measures [session.Manager.Validate] on st when no
// refresh is due, so each call costs exactly one store read.
func BenchmarkValidate(b *testing.B, st session.Store) {
	now := time.Now()
	m := newManager(b, st, session.Config{Now: func() time.Time { return now }})
	ctx := context.Background()
	iss, err := m.Create(ctx, "bench-user", session.Login{Factors: []string{"password"}, IP: "192.0.2.1", UserAgent: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Validate(ctx, iss.Token); err != nil {
			b.Fatal(err)
		}
	}
}

// RunValidateRoundTrips checks that [session.Manager.Validate] on st costs
// one call to the server when no refresh of the idle window is due, and
// two when it is. calls reports how many calls (queries, commands) the
// store's client has made so far.
func RunValidateRoundTrips(t *testing.T, st session.Store, calls func() int64) {
	t.Helper()
	now := time.Now()
	m := newManager(t, st, session.Config{Now: func() time.Time { return now }})
	ctx := context.Background()
	iss, err := m.Create(ctx, "u1", session.Login{})
	if err != nil {
		t.Fatal(err)
	}
	// The first calls may prepare statements or load scripts (on a fresh
	// Redis, the touch script is not cached yet): warm both paths.
	if _, err := m.Validate(ctx, iss.Token); err != nil {
		t.Fatal(err)
	}
	now = now.Add(m.Config().TouchInterval)
	if _, err := m.Validate(ctx, iss.Token); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		advance time.Duration
		want    int64
	}{{0, 1}, {m.Config().TouchInterval, 2}} {
		now = now.Add(tc.advance)
		before := calls()
		if _, err := m.Validate(ctx, iss.Token); err != nil {
			t.Fatal(err)
		}
		if got := calls() - before; got != tc.want {
			t.Fatalf("Validate %v after the last write made %d calls, want %d", tc.advance, got, tc.want)
		}
	}
}

// RunConcurrentClosing checks the tab-close mark across app instances: one
// [session.Manager] per store that newInstances returns marks a session
// closing while the others validate it and poll its time left, all at
// once. Throughout, the stored expiry never passes the idle or absolute
// limit; a request within the grace clears the mark for every instance;
// and a mark that no request follows ends the session for every instance
// when the grace is over.
func RunConcurrentClosing(t *testing.T, newInstances func(t *testing.T) []session.Store, rounds int) {
	stores := newInstances(t)
	var mu sync.Mutex
	now := base
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	const grace = 10 * time.Second
	ms := make([]*session.Manager, len(stores))
	for i, st := range stores {
		ms[i] = newManager(t, st, session.Config{Now: clock, CloseGrace: grace, TouchInterval: time.Second,
			OnError: func(_ context.Context, err error) { t.Errorf("store error: %v", err) }})
	}
	ctx := context.Background()
	iss, err := ms[0].Create(ctx, "user", session.Login{})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	check := func(what string) {
		t.Helper()
		s, err := stores[0].Get(ctx, iss.Session.TokenHash, clock())
		if err != nil {
			t.Fatalf("%s: Get: %v", what, err)
		}
		limit := s.LastSeen.Add(ms[0].Config().IdleTimeout)
		if s.AbsoluteExpiry.Before(limit) {
			limit = s.AbsoluteExpiry
		}
		if s.ExpiresAt.After(limit) {
			t.Fatalf("%s: expiry %v past the limit %v", what, s.ExpiresAt, limit)
		}
	}
	for r := range rounds {
		advance(2 * time.Second)
		var wg sync.WaitGroup
		for i, m := range ms {
			wg.Go(func() {
				var err error
				switch (i + r) % 3 {
				case 0:
					err = beacon(m, iss.Token)
				case 1:
					_, err = m.Validate(ctx, iss.Token)
				default:
					err = pollTimeLeft(m, iss.Token)
				}
				if err != nil {
					t.Errorf("round %d, instance %d: %v", r, i, err)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		check(fmt.Sprintf("round %d", r))
	}
	// A request clears the mark for everyone.
	if _, err := ms[len(ms)-1].Validate(ctx, iss.Token); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	advance(grace)
	for i, m := range ms {
		if _, err := m.Validate(ctx, iss.Token); err != nil {
			t.Fatalf("instance %d after a cleared mark: %v", i, err)
		}
	}
	check("cleared")
	// A mark no request follows ends it for everyone.
	if err := beacon(ms[len(ms)-1], iss.Token); err != nil {
		t.Fatalf("beacon: %v", err)
	}
	advance(grace)
	for i, m := range ms {
		if _, err := m.Validate(ctx, iss.Token); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("instance %d after the grace: %v, want ErrNotFound", i, err)
		}
	}
}
