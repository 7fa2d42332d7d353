package bulwark_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/internal/testenv"
)

// readmeBlock returns the first ```go block after the quick-start heading
// of README.md.
func readmeBlock(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("README.md")
	require.NoError(t, err)
	s := string(raw)
	i := strings.Index(s, "## Quick start")
	require.GreaterOrEqual(t, i, 0, "README.md has no quick-start section")
	s = s[i:]
	start := strings.Index(s, "```go\n")
	require.GreaterOrEqual(t, start, 0)
	s = s[start+len("```go\n"):]
	end := strings.Index(s, "```\n")
	require.GreaterOrEqual(t, end, 0)
	return s[:end]
}

// TestReadme checks that the README's host example is exactly
// testdata/readme/main.go, at most 30 lines, that it builds, and (with
// PostgreSQL) runs it and signs a user up and in with TOTP over HTTP, with
// the single-session rule refusing a second device.
func TestReadme(t *testing.T) {
	t.Parallel()
	block := readmeBlock(t)
	file, err := os.ReadFile(filepath.Join("testdata", "readme", "main.go"))
	require.NoError(t, err)
	require.Equal(t, string(file), block, "README.md's quick start and testdata/readme/main.go differ")
	require.LessOrEqual(t, strings.Count(block, "\n"), 30, "the quick start must stay within 30 lines")

	bin := filepath.Join(t.TempDir(), "readme")
	goTool, err := exec.LookPath("go")
	require.NoError(t, err)
	out, err := exec.Command(goTool, "build", "-o", bin, "./testdata/readme").CombinedOutput()
	require.NoError(t, err, "%s", out)

	dsn := testenv.PostgresDSN(t) // skips without BULWARK_TEST_POSTGRES
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn, "BULWARK_KEK="+hex.EncodeToString(kek), "ADDR="+addr)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	base := "http://" + addr
	// Wait until it serves (or exits).
	for {
		select {
		case <-exited:
			t.Fatalf("the README program exited: %s", logs.String())
		default:
		}
		resp, err := http.Get(base + "/auth/mfa")
		if err == nil {
			_ = resp.Body.Close()
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			break
		}
		time.Sleep(10 * time.Millisecond) // poll until it listens; no assertion depends on the time
	}

	laptop, phone := &httpClient{t: t, base: base, jar: map[string]string{}}, &httpClient{t: t, base: base, jar: map[string]string{}}
	status, _ := laptop.post("/auth/signup", `{"first_name":"Jan","last_name":"Kowalski","email":"jan@example.com","password":"quiet meadow lantern"}`)
	require.Equal(t, http.StatusAccepted, status)
	status, body := laptop.post("/auth/signin", `{"login":"jan@example.com","password":"quiet meadow lantern"}`)
	require.Equal(t, http.StatusOK, status, body)
	require.JSONEq(t, `{"next":"done"}`, body)
	status, body = laptop.post("/auth/reauth", `{"password":"quiet meadow lantern"}`)
	require.Equal(t, http.StatusNoContent, status, body)
	status, body = laptop.post("/auth/mfa/totp", `{}`)
	require.Equal(t, http.StatusOK, status, body)
	var en struct {
		Secret string `json:"secret"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &en))
	code := func(at time.Time) string {
		c, err := totp.GenerateCodeCustom(en.Secret, at, totp.ValidateOpts{Digits: 6})
		require.NoError(t, err)
		return c
	}
	status, body = laptop.post("/auth/mfa/totp/confirm", `{"code":"`+code(time.Now())+`"}`)
	require.Equal(t, http.StatusNoContent, status, body)
	status, body = laptop.post("/auth/mfa/recovery-codes", `{}`)
	require.Equal(t, http.StatusOK, status, body)
	var rc struct{ Codes []string }
	require.NoError(t, json.Unmarshal([]byte(body), &rc))
	status, _ = laptop.post("/auth/signout", `{}`)
	require.Equal(t, http.StatusNoContent, status)

	status, body = laptop.post("/auth/signin", `{"login":"jan@example.com","password":"quiet meadow lantern"}`)
	require.JSONEq(t, `{"next":"mfa"}`, body, "status %d", status)
	// The next time step's code: the one used to confirm is spent, and
	// mfa accepts one step of drift.
	status, body = laptop.post("/auth/signin/mfa", `{"code":"`+code(time.Now().Add(30*time.Second))+`"}`)
	require.JSONEq(t, `{"next":"done"}`, body, "status %d", status)

	status, body = phone.post("/auth/signin", `{"login":"jan@example.com","password":"quiet meadow lantern"}`)
	require.JSONEq(t, `{"next":"mfa"}`, body, "status %d", status)
	status, body = phone.post("/auth/signin/mfa", `{"code":"`+rc.Codes[0]+`"}`)
	require.Equal(t, http.StatusConflict, status, body)
	require.Contains(t, body, "session_limit")
}

// httpClient keeps cookies by hand: the program serves plain HTTP, and a
// cookie jar would not send the Secure cookies back over it.
type httpClient struct {
	t    *testing.T
	base string
	jar  map[string]string
}

func (c *httpClient) post(path, body string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, c.base+path, strings.NewReader(body))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/json")
	for n, v := range c.jar {
		req.AddCookie(&http.Cookie{Name: n, Value: v})
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.jar, ck.Name)
		} else {
			c.jar[ck.Name] = ck.Value
		}
	}
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, string(b)
}
