package bench

// Export benchmarks (issue 8). Targets: a 1M-row CSV export at >= 1M
// rows/s per core end to end, and age encryption adding <= 15%. The raw
// age benchmarks run on the same bytes (the plaintext archive of that
// export) in the same run, so the comparison is a ratio on one machine.
//
//	go test -run '^$' -bench 'Export|AgeRaw' -benchtime 3x -cpu 1

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"iter"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/bulwarkhq/bulwark/export"
)

const exportRows = 1_000_000

// maxRSS is the process's peak resident set size in bytes.
func maxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss << 10 // kilobytes on Linux
}

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchModule yields exportRows rows of about 75 bytes from a small pool,
// so the source costs next to nothing and the exporter is measured.
type benchModule struct{ pool [][]string }

func newBenchModule() *benchModule {
	m := &benchModule{}
	for i := range 1024 {
		m.pool = append(m.pool, []string{
			fmt.Sprintf("%08d", i), "Customer Name", fmt.Sprintf("customer%d@example.com", i),
			"+1 555 0100", "a note, with a comma",
		})
	}
	return m
}

func (m *benchModule) Columns() []string { return []string{"id", "name", "email", "phone", "note"} }

func (m *benchModule) Records(context.Context, export.Scope) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		for i := range exportRows {
			if !yield(m.pool[i&1023], nil) {
				return
			}
		}
	}
}

// newExporter is export.New that fails the benchmark on error.
func newExporter(b *testing.B, cfg export.Config) *export.Exporter {
	b.Helper()
	ex, err := export.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return ex
}

func benchExporter(b *testing.B) *export.Exporter {
	ex := newExporter(b, export.Config{TempDir: b.TempDir()})
	if err := ex.Register("customers", newBenchModule()); err != nil {
		b.Fatal(err)
	}
	return ex
}

func BenchmarkExportCSV(b *testing.B) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		req  export.Request
	}{
		{"tar", export.Request{}},
		{"tar-age", export.Request{Recipients: []age.Recipient{id.Recipient()}}},
		{"plain", export.Request{Archive: export.Plain}},
		{"plain-age", export.Request{Archive: export.Plain, Recipients: []age.Recipient{id.Recipient()}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ex := benchExporter(b)
			req := c.req
			req.Tenant = "t"
			b.ReportAllocs()
			var n int64
			cpu := cpuTime()
			for b.Loop() {
				m, err := ex.Export(context.Background(), io.Discard, req)
				if err != nil {
					b.Fatal(err)
				}
				n = m.Modules[0].Bytes
			}
			cpu = cpuTime() - cpu
			b.SetBytes(n)
			b.ReportMetric(float64(exportRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			// Rows per second of CPU time (user + system, whole process):
			// the per-core figure, which a busy shared machine does not
			// distort the way it distorts wall time.
			b.ReportMetric(float64(exportRows)*float64(b.N)/cpu.Seconds(), "rows/cpu-s")
			// Peak RSS of the whole process so far (monotonic): meaningful
			// when run alone, -bench ExportCSV, before BenchmarkAgeRaw
			// holds an 84 MB archive in memory.
			b.ReportMetric(float64(maxRSS())/(1<<20), "peak-RSS-MiB")
		})
	}
}

// loopCPU runs fn b.N times and reports, besides wall time, the CPU time
// per operation (user + system), which a busy machine distorts less.
func loopCPU(b *testing.B, size int64, fn func()) {
	b.ReportAllocs()
	b.SetBytes(size)
	cpu := cpuTime()
	for b.Loop() {
		fn()
	}
	b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// archiveBytes is the plaintext tar of the 1M-row export.
func archiveBytes(b *testing.B) []byte {
	var buf bytes.Buffer
	if _, err := benchExporter(b).Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t"}}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func BenchmarkAgeRaw(b *testing.B) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		b.Fatal(err)
	}
	plain := archiveBytes(b)
	var enc bytes.Buffer
	w, err := age.Encrypt(&enc, id.Recipient())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.Write(plain); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 32<<10)
	keys := export.ReadOptions{Identities: []age.Identity{id}}

	b.Run("encrypt-age", func(b *testing.B) {
		loopCPU(b, int64(len(plain)), func() {
			w, err := age.Encrypt(io.Discard, id.Recipient())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := w.Write(plain); err != nil {
				b.Fatal(err)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("decrypt-age", func(b *testing.B) {
		loopCPU(b, int64(len(plain)), func() {
			r, err := age.Decrypt(bytes.NewReader(enc.Bytes()), id)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.CopyBuffer(io.Discard, r, buf); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("decrypt-bulwark", func(b *testing.B) {
		ex := newExporter(b, export.Config{})
		loopCPU(b, int64(len(plain)), func() {
			r, err := ex.Decrypt(context.Background(), bytes.NewReader(enc.Bytes()), keys)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.CopyBuffer(io.Discard, r, buf); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("verify-bulwark", func(b *testing.B) {
		ex := benchExporter(b)
		loopCPU(b, int64(len(plain)), func() {
			if _, err := ex.Verify(context.Background(), bytes.NewReader(enc.Bytes()), keys); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// sinkModule takes imported records and drops them.
type sinkModule struct{ benchModule }

// Records yields the pool once.
func (m *sinkModule) Records(context.Context, export.Scope) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		for _, r := range m.pool {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func (*sinkModule) Import(_ context.Context, _ export.Scope, _ []string, recs iter.Seq2[[]string, error]) error {
	for _, err := range recs {
		if err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkImportPassphrase restores a passphrase archive of 10,000 rows
// the two ways, in one run: Verify then Import (two decryptions, two
// scrypt computations) and ImportVerified (one of each, plus an encrypted
// spool). The work factor is 15 here, not the default 18, to spare the
// shared machine; the ratio of scrypt's share only grows with it.
func BenchmarkImportPassphrase(b *testing.B) {
	const pass = "correct horse battery staple"
	src := newExporter(b, export.Config{TempDir: b.TempDir(), ScryptWorkFactor: 15})
	rows := make([][]string, 0, 10_000)
	for i := range 10_000 {
		rows = append(rows, []string{fmt.Sprintf("%08d", i), "Customer Name", fmt.Sprintf("customer%d@example.com", i), "+1 555 0100", "a note, with a comma"})
	}
	if err := src.Register("customers", &sinkModule{benchModule{pool: rows}}); err != nil {
		b.Fatal(err)
	}
	var archive bytes.Buffer
	if _, err := src.Export(context.Background(), &archive, export.Request{Scope: export.Scope{Tenant: "t"}, Passphrase: pass}); err != nil {
		b.Fatal(err)
	}
	dst := newExporter(b, export.Config{TempDir: b.TempDir()})
	if err := dst.Register("customers", &sinkModule{}); err != nil {
		b.Fatal(err)
	}
	keys := export.ReadOptions{Passphrase: pass}
	scope := export.Scope{Tenant: "restored"}
	b.Run("verify-then-import", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := dst.Verify(context.Background(), bytes.NewReader(archive.Bytes()), keys); err != nil {
				b.Fatal(err)
			}
			if _, err := dst.Import(context.Background(), bytes.NewReader(archive.Bytes()), keys, scope); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("import-verified", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := dst.ImportVerified(context.Background(), bytes.NewReader(archive.Bytes()), keys, scope); err != nil {
				b.Fatal(err)
			}
		}
	})
}
