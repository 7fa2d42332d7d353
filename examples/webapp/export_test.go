package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/export"
)

// TestExportPage: the instructions name the file that is downloaded; the
// zip entries carry the export's time, not 1979; a second download says it
// was already taken instead of silently showing the form.
func TestExportPage(t *testing.T) {
	t.Parallel()
	ta, c, _ := signedInUser(t)
	key := ta.exportReady(t, c)
	name := "bulwark-export-" + ta.clock.Now().UTC().Format(time.DateOnly) + ".zip.age"
	require.Contains(t, ta.do(t, c, "GET", "/account/export", nil).Body, "age -d "+name)

	res := ta.do(t, c, "GET", "/account/export/download", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, res.Header.Get("Content-Disposition"), `filename="`+name+`"`)
	r, err := age.Decrypt(bytes.NewReader([]byte(res.Body)), key)
	require.NoError(t, err)
	plain, err := io.ReadAll(r)
	require.NoError(t, err)
	zr, err := zip.NewReader(bytes.NewReader(plain), int64(len(plain)))
	require.NoError(t, err)
	for _, f := range zr.File {
		require.WithinDuration(t, ta.clock.Now(), f.Modified, time.Minute, "%s is dated by the export", f.Name)
	}

	again := ta.do(t, c, "GET", "/account/export/download", nil)
	require.Equal(t, http.StatusGone, again.StatusCode)
	require.Contains(t, again.Body, "already been downloaded")
	require.Contains(t, again.Body, `id="export-form"`, "and a new export can be started")
	require.Contains(t, ta.do(t, c, "GET", "/account/export", nil).Body, "was downloaded")
}

// TestExportProgressFullOnlyWhenReady: the bar counts the modules and then
// the packing and encryption (scrypt alone takes seconds on a busy
// machine), so it is not full while the file is still being written.
func TestExportProgressFullOnlyWhenReady(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	n := len(ta.exporter.Modules())
	ta.exports.jobs["u"] = &exportJob{Running: true, Modules: n, Total: n + 1}
	progress := ta.exportProgress("u")
	for _, m := range ta.exporter.Modules() {
		progress(export.Progress{Module: m, Rows: 3})
		progress(export.Progress{Module: m, Rows: 3, Done: true})
	}
	job, _ := ta.exports.get("u")
	require.Equal(t, n, job.Done)
	require.Less(t, job.Done, job.Total, "the bar is not full before the archive is written")
}

// TestExportHeadDoesNotTakeTheFile: a HEAD (a link checker, a download
// manager probing the size) reaches the GET route; it must not use up the
// one download and delete the file.
func TestExportHeadDoesNotTakeTheFile(t *testing.T) {
	t.Parallel()
	ta, c, _ := signedInUser(t)
	key := ta.exportReady(t, c)
	ta.do(t, c, "HEAD", "/account/export/download", nil)
	res := ta.do(t, c, "GET", "/account/export/download", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "the HEAD took the one download")
	_, err := age.Decrypt(bytes.NewReader([]byte(res.Body)), key)
	require.NoError(t, err)
}

// exportReady starts an export of c's account to a new age key and waits
// until the file is ready; it returns the key that decrypts it.
func (ta *testApp) exportReady(t *testing.T, c *http.Client) *age.X25519Identity {
	t.Helper()
	key, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	ta.do(t, c, "POST", "/account/export", url.Values{"recipient": {key.Recipient().String()}, "password": {testPassword}})
	require.Eventually(t, func() bool {
		var job exportJob
		return json.Unmarshal([]byte(ta.do(t, c, "GET", "/account/export/status", nil).Body), &job) == nil && job.Ready && job.Done == job.Total
	}, 5*time.Minute, 20*time.Millisecond) // a guard against a hang, not a speed requirement
	return key
}
