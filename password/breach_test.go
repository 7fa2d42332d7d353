package password_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/password"
)

// fakeHIBP serves the range API for a set of breached passwords, padding
// every response with zero-count entries as the real service does.
type fakeHIBP struct {
	mu       sync.Mutex
	paths    []string
	padding  []string
	status   int
	body     string // overrides the computed body when set
	breached map[string]int
}

func (f *fakeHIBP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paths = append(f.paths, r.URL.Path)
	f.padding = append(f.padding, r.Header.Get("Add-Padding"))
	if f.status != 0 {
		w.WriteHeader(f.status)
		return
	}
	if f.body != "" {
		_, _ = fmt.Fprint(w, f.body)
		return
	}
	prefix := strings.TrimPrefix(r.URL.Path, "/range/")
	for pw, n := range f.breached {
		sum := sha1.Sum([]byte(pw))
		full := strings.ToUpper(hex.EncodeToString(sum[:]))
		if full[:5] == prefix {
			_, _ = fmt.Fprintf(w, "%s:%d\r\n", full[5:], n)
		}
	}
	for i := range 5 {
		_, _ = fmt.Fprintf(w, "%035X:0\r\n", i)
	}
}

func TestHIBP(t *testing.T) {
	t.Parallel()
	f := &fakeHIBP{breached: map[string]int{"P@ssw0rd-from-a-breach": 42, "padded only": 0}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	h := &password.HIBP{Client: srv.Client(), Endpoint: srv.URL + "/range/"}
	ctx := context.Background()

	got, err := h.Breached(ctx, "P@ssw0rd-from-a-breach")
	require.NoError(t, err)
	require.True(t, got)
	got, err = h.Breached(ctx, "never seen before")
	require.NoError(t, err)
	require.False(t, got)
	got, err = h.Breached(ctx, "padded only")
	require.NoError(t, err)
	require.False(t, got, "a zero count is padding")
	got, err = (&password.HIBP{Client: srv.Client(), Endpoint: srv.URL + "/range/", MinCount: 100}).Breached(ctx, "P@ssw0rd-from-a-breach")
	require.NoError(t, err)
	require.False(t, got, "below MinCount")

	f.mu.Lock()
	for i, p := range f.paths {
		require.Regexp(t, `^/range/[0-9A-F]{5}$`, p, "only a 5-character prefix leaves the process")
		require.Equal(t, "true", f.padding[i])
	}
	f.mu.Unlock()

	// Wired into a policy.
	err = password.Policy{Breach: h}.Check(ctx, "P@ssw0rd-from-a-breach")
	require.Equal(t, []password.Code{password.CodeBreached}, codes(err))
}

func TestHIBPFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, f := range map[string]*fakeHIBP{
		"status 503":      {status: http.StatusServiceUnavailable},
		"status 429":      {status: http.StatusTooManyRequests},
		"malformed":       {body: "not a hibp response\n"},
		"bad count":       {body: strings.Repeat("A", 35) + ":x\n"},
		"short suffix":    {body: "ABC:1\n"},
		"negative count":  {body: strings.Repeat("A", 35) + ":-1\n"},
		"oversized lines": {body: strings.Repeat("A", 70000) + "\n"},
	} {
		srv := httptest.NewServer(f)
		h := &password.HIBP{Client: srv.Client(), Endpoint: srv.URL + "/range/"}
		_, err := h.Breached(ctx, "anything")
		require.ErrorIs(t, err, password.ErrBreachCheck, name)
		srv.Close()
	}
	// Network failure: the error carries neither the URL nor the prefix.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	sum := sha1.Sum([]byte("anything"))
	prefix := strings.ToUpper(hex.EncodeToString(sum[:]))[:5]
	_, err := (&password.HIBP{Endpoint: url + "/range/"}).Breached(ctx, "anything")
	require.ErrorIs(t, err, password.ErrBreachCheck)
	require.NotContains(t, err.Error(), prefix)
	require.NotContains(t, err.Error(), url)

	// Cancellation.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer slow.Close()
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = (&password.HIBP{Client: slow.Client(), Endpoint: slow.URL + "/"}).Breached(cctx, "anything")
	require.ErrorIs(t, err, password.ErrBreachCheck)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	// Bad endpoint.
	_, err = (&password.HIBP{Endpoint: "://bad"}).Breached(ctx, "anything")
	require.ErrorIs(t, err, password.ErrBreachCheck)
}
