package redisstore_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/store/redisstore"
)

// volatileOK opts a store on the shared test Redis (run with --save ""
// --appendonly no, see .ci/run) out of the persistence checks: those
// tests are about other things, and the checks have their own tests on
// private servers.
func volatileOK(st *redisstore.Store) *redisstore.Store {
	st.AllowVolatileRedis = true
	return st
}

// privateRedis is a redis-server this test started on a loopback port of
// its own, so that it may stop and restart it; the shared server is never
// touched.
type privateRedis struct {
	t    testing.TB
	port int
	dir  string
	args []string
	cmd  *exec.Cmd
}

// freePort returns a loopback TCP port nobody listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

func needRedisServer(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(testenv.EnvRedis) == "" {
			t.Skip(testenv.SkipMarker + " redis-server is not installed; private Redis tests skipped")
		}
		t.Fatalf("%s is set but redis-server is not on PATH: %v", testenv.EnvRedis, err)
	}
	return bin
}

// startPrivateRedis starts redis-server on a free loopback port with its
// data in a temporary directory and extra arguments (persistence, cluster
// mode). It is stopped at cleanup.
func startPrivateRedis(t testing.TB, port int, args ...string) *privateRedis {
	t.Helper()
	needRedisServer(t)
	if port == 0 {
		port = freePort(t)
	}
	p := &privateRedis{t: t, port: port, dir: t.TempDir(), args: args}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *privateRedis) Addr() string { return "127.0.0.1:" + strconv.Itoa(p.port) }

func (p *privateRedis) start() {
	p.t.Helper()
	args := append([]string{"--port", strconv.Itoa(p.port), "--bind", "127.0.0.1", "--dir", p.dir,
		"--daemonize", "no", "--logfile", filepath.Join(p.dir, "redis.log")}, p.args...)
	p.cmd = exec.Command("redis-server", args...)
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1})
	defer func() { _ = c.Close() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(p.dir, "redis.log"))
			p.t.Fatalf("private redis-server on %s did not come up: %v\n%s", p.Addr(), err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the server with SIGTERM (it writes its AOF or snapshot if it
// has one) and waits for it.
func (p *privateRedis) stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	p.cmd = nil
}

// signal sends sig to the server process (SIGSTOP, SIGCONT, SIGKILL); after
// SIGKILL it reaps the process.
func (p *privateRedis) signal(sig os.Signal) {
	p.t.Helper()
	if p.cmd == nil || p.cmd.Process == nil {
		p.t.Fatal("signal to a stopped server")
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
	if sig == os.Kill {
		_ = p.cmd.Wait()
		p.cmd = nil
	}
}

// restart stops the server and starts it again on the same port and data
// directory; with loseData, the directory is emptied first, as a Redis
// that kept nothing (or a replacement node) comes back.
func (p *privateRedis) restart(loseData bool) {
	p.t.Helper()
	p.stop()
	if loseData {
		entries, _ := os.ReadDir(p.dir)
		for _, e := range entries {
			if e.Name() != "redis.log" {
				if err := os.RemoveAll(filepath.Join(p.dir, e.Name())); err != nil {
					p.t.Fatal(err)
				}
			}
		}
	}
	p.start()
}

// client returns a client for the private server, closed at cleanup. It
// does not retry, so a command sent while the server is down fails.
func (p *privateRedis) client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1})
	p.t.Cleanup(func() { _ = c.Close() })
	return c
}

// waitFor polls cond until it is true, failing the test after a generous
// deadline.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(errors.New("timed out waiting for " + what))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
