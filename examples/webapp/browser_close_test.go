package main

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// beaconLog is a slog handler that counts the tab-close beacons the app
// has handled (its "session.closing" lines), so that the browser test
// waits for a beacon instead of sleeping.
type beaconLog struct{ n atomic.Int64 }

func (b *beaconLog) Enabled(context.Context, slog.Level) bool { return true }
func (b *beaconLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "session.closing" {
		b.n.Add(1)
	}
	return nil
}
func (b *beaconLog) WithAttrs([]slog.Attr) slog.Handler { return b }
func (b *beaconLog) WithGroup(string) slog.Handler      { return b }

// checkCloseBeacon drives tab, signed in as userID on a page of the app,
// through what fires pagehide without closing the last tab (reload, Back,
// Forward, a second tab opened and closed), each time waits for the
// beacon and for a request from a page to clear the mark, moves the app's
// clock past the grace and checks the session is still live; then it
// closes tab, the last one polling, and checks the session ends when the
// grace is over. It calls closeTab.
func checkCloseBeacon(t *testing.T, ta *testApp, beacons *beaconLog, tab context.Context, closeTab context.CancelFunc, userID string) {
	t.Helper()
	grace := ta.sessions.Config().CloseGrace
	const wait, tick = 30 * time.Second, 20 * time.Millisecond
	closingAt := func() int64 {
		var n, at int64
		err := ta.db.QueryRow(`SELECT count(*), coalesce(max(closing_at), 0) FROM bulwark_session_sessions WHERE user_id = ?`, userID).Scan(&n, &at)
		require.NoError(t, err)
		require.EqualValues(t, 1, n, "one session")
		return at
	}
	live := func() int {
		ss, err := ta.sessions.List(t.Context(), userID)
		require.NoError(t, err)
		return len(ss)
	}
	page := chromedp.WaitVisible(chromedp.CSS(`body[data-poll]`))
	// stay marks the page's window, so that a page restored from the
	// back-forward cache (which sends no beacon) is recognised.
	stay := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool]("window.stayed = true")(ctx, tg)
		return err
	})
	survives := func(ctx context.Context, name string, act chromedp.Action[chromedp.Void], sameTab bool) {
		t.Helper()
		n := beacons.n.Load()
		require.NoError(t, chromedp.Do(ctx, stay, act, page), name)
		restored, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("window.stayed === true"))
		require.NoError(t, err)
		if !sameTab || !restored {
			require.Eventually(t, func() bool { return beacons.n.Load() > n }, wait, tick, "%s: the beacon arrived", name)
		}
		require.Eventually(t, func() bool { return closingAt() == 0 }, wait, tick, "%s: a request from the page cleared the mark", name)
		ta.clock.Add(grace + time.Second)
		require.Equal(t, 1, live(), "%s: still signed in after the grace", name)
	}

	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(ta.srv.URL+"/clients"), page))
	require.NoError(t, chromedp.Do(tab, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool]("leaving = true")(ctx, tg) // a link: no beacon
		return err
	}), chromedp.Navigate(ta.srv.URL+"/account"), page))
	survives(tab, "reload", chromedp.Reload(), true)
	survives(tab, "back", chromedp.NavigateBack(), true)
	survives(tab, "forward", chromedp.NavigateForward(), true)
	second, closeSecond := chromedp.NewContext(tab)
	require.NoError(t, chromedp.Do(second, chromedp.Navigate(ta.srv.URL+"/clients"), page))
	survives(tab, "a second tab closed", chromedp.Func(func(context.Context, *chromedp.Target) error {
		closeSecond()
		return nil
	}), false)

	// The last tab closed: nothing clears the mark.
	n := beacons.n.Load()
	closeTab()
	require.Eventually(t, func() bool { return beacons.n.Load() > n }, wait, tick, "the last tab's beacon arrived")
	require.NotZero(t, closingAt(), "marked closing")
	ta.clock.Add(grace - time.Second)
	require.Equal(t, 1, live(), "within the grace")
	ta.clock.Add(time.Second)
	require.Zero(t, live(), "ended when the grace is over")
}

// Two tabs of the app share one session: closing one marks it, and the
// tab left open must clear the mark within the grace even though its own
// poll is far off (30 s by default, three times the grace). The page
// polls at once when another tab of the app closes; without that,
// closing one tab signed the user out of the other.
func TestBrowserCloseOneOfTwoTabs(t *testing.T) {
	chrome := findChromium(t)
	beacons := &beaconLog{}
	ta := newTestApp(t, func(c *Config) { c.BannerPoll = time.Hour; c.Log = slog.New(beacons) })
	const email = "two.tabs@example.com"
	ta.signUpAndIn(t, browser(t), email) // the account; the browser signs in below
	userID := ta.userID(t, email)
	_, err := ta.sessions.RevokeAll(t.Context(), userID, "") // one session at a time
	require.NoError(t, err)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	page := chromedp.WaitVisible(chromedp.CSS(`body[data-poll]`))
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(ta.srv.URL+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=login]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testPassword),
		chromedp.Click(chromedp.CSS(`main form button[type=submit]`)),
		page))
	second, closeSecond := chromedp.NewContext(ctx) // same browser context: same cookies
	require.NoError(t, chromedp.Do(second, chromedp.Navigate(ta.srv.URL+"/clients"), page))

	closingAt := func() int64 {
		var at int64
		require.NoError(t, ta.db.QueryRow(`SELECT coalesce(max(closing_at), 0) FROM bulwark_session_sessions WHERE user_id = ?`, userID).Scan(&at))
		return at
	}
	n := beacons.n.Load()
	closeSecond()
	require.Eventually(t, func() bool { return beacons.n.Load() > n }, 30*time.Second, 20*time.Millisecond, "the closed tab's beacon arrived")
	require.Eventually(t, func() bool { return closingAt() == 0 }, 30*time.Second, 20*time.Millisecond,
		"the tab left open cleared the mark")
	ta.clock.Add(ta.sessions.Config().CloseGrace + time.Second)
	ss, err := ta.sessions.List(t.Context(), userID)
	require.NoError(t, err)
	require.Len(t, ss, 1, "still signed in in the tab left open")
}
