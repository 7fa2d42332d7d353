package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/internal/testenv"
)

// loadClients is how many clients the load generator runs at once, as in
// the performance report (16 clients on PostgreSQL).
const loadClients = 16

// loadResult is what one phase of load measured.
type loadResult struct {
	requests int
	elapsed  time.Duration
	p50, p99 time.Duration
}

func (r loadResult) rate() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// load sends GET requests to url from loadClients clients, each with its
// own cookie and keep-alive connection, for d, and measures throughput and
// latency. Loopback only; bounded by d.
func load(tb testing.TB, url string, cookies []*http.Cookie, d time.Duration) loadResult {
	tb.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: loadClients, MaxConnsPerHost: loadClients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	lat := make([][]time.Duration, loadClients)
	errs := make([]error, loadClients)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range loadClients {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequest("GET", url, nil)
				req.AddCookie(cookies[i%len(cookies)])
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					errs[i] = err
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				if res.StatusCode != http.StatusOK {
					errs[i] = fmt.Errorf("status %d", res.StatusCode)
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, err := range errs {
		require.NoError(tb, err)
	}
	all := slices.Concat(lat...)
	require.NotEmpty(tb, all)
	slices.Sort(all)
	return loadResult{requests: len(all), elapsed: elapsed, p50: all[len(all)/2], p99: all[len(all)*99/100]}
}

// BenchmarkAuthenticatedPage is the load generator of the pool report: 16
// clients, each signed in with an account of its own, fetch /clients from
// the demo on PostgreSQL (sessions there too), and the same bytes from a
// bare net/http server, in the same run, alternating phases. It reports
// the demo's throughput as a fraction of the bare server's and the ratio of
// their p99 latencies, with the demo's pools sized as main sizes them
// ("sized") and with database/sql's defaults ("default"), for comparison.
//
//	BULWARK_TEST_POSTGRES=... go test -run '^$' -bench AuthenticatedPage -benchtime 1x ./examples/webapp
//
// Each phase runs for a fixed two seconds, so a run is bounded in time.
func BenchmarkAuthenticatedPage(b *testing.B) {
	pg := testenv.Postgres(b)
	ta := newTestApp(b, func(c *Config) { c.DB, c.Now = pg, time.Now })
	var cookies []*http.Cookie
	for i := range loadClients {
		c := browser(b)
		ta.signUpAndIn(b, c, fmt.Sprintf("user%d@example.com", i))
		u, err := http.NewRequest("GET", ta.srv.URL, nil)
		require.NoError(b, err)
		for _, ck := range c.Jar.Cookies(u.URL) {
			if ck.Name == ta.sessions.Config().CookieName {
				cookies = append(cookies, ck)
			}
		}
	}
	require.Len(b, cookies, loadClients)
	page := ta.do(b, browser(b), "GET", "/signin", nil) // warm the templates
	require.Equal(b, http.StatusOK, page.StatusCode)

	// The bare server answers with the bytes and headers of the page.
	probe := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", ta.srv.URL+"/clients", nil)
	req.AddCookie(cookies[0])
	res, err := probe.Do(req)
	require.NoError(b, err)
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	require.NoError(b, err)
	require.Equal(b, http.StatusOK, res.StatusCode)
	header := res.Header.Clone()
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		_, _ = w.Write(body)
	}))
	defer bare.Close()

	const phase = 2 * time.Second
	b.ReportAllocs()
	for b.Loop() {
		var bareR, sized, dflt []loadResult
		var sizedChurn, dfltChurn int64 // connections closed because the idle pool was full
		// Alternate, so that a burst of noise hits every phase.
		for range 2 {
			bareR = append(bareR, load(b, bare.URL, cookies, phase))
			sizePool(pg, postgresConns)
			before := pg.Stats().MaxIdleClosed
			sized = append(sized, load(b, ta.srv.URL+"/clients", cookies, phase))
			sizedChurn += pg.Stats().MaxIdleClosed - before
			pg.SetMaxIdleConns(2) // database/sql's defaults
			pg.SetMaxOpenConns(0)
			before = pg.Stats().MaxIdleClosed
			dflt = append(dflt, load(b, ta.srv.URL+"/clients", cookies, phase))
			dfltChurn += pg.Stats().MaxIdleClosed - before
		}
		b.ReportMetric(float64(sizedChurn), "sized-conns-churned")
		b.ReportMetric(float64(dfltChurn), "default-conns-churned")
		sum := func(rs []loadResult) loadResult {
			out := loadResult{}
			for _, r := range rs {
				out.requests += r.requests
				out.elapsed += r.elapsed
				out.p99 = max(out.p99, r.p99)
				out.p50 = max(out.p50, r.p50)
			}
			return out
		}
		br, sr, dr := sum(bareR), sum(sized), sum(dflt)
		b.ReportMetric(br.rate(), "bare-req/s")
		b.ReportMetric(sr.rate(), "sized-req/s")
		b.ReportMetric(sr.rate()/br.rate(), "sized/bare-rate")
		b.ReportMetric(float64(sr.p99)/float64(br.p99), "sized/bare-p99")
		b.ReportMetric(dr.rate()/br.rate(), "default/bare-rate")
		b.ReportMetric(float64(dr.p99)/float64(br.p99), "default/bare-p99")
		b.ReportMetric(float64(sr.p99.Microseconds()), "sized-p99-µs")
		b.ReportMetric(float64(br.p99.Microseconds()), "bare-p99-µs")
	}
}
