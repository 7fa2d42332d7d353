package main

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestScan(t *testing.T) {
	t.Parallel()
	in := strings.Join([]string{
		`{"Action":"run","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"    x_test.go:1: bulwark-integration-skip: BULWARK_TEST_POSTGRES is not set\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"    x_test.go:2: short mode\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestB"}`,
		`{"Action":"pass","Package":"p","Test":"TestC"}`,
		`{"Action":"fail","Package":"p","Test":"TestD"}`,
		`{"Action":"pass","Package":"p"}`,
		`# build error in plain text`,
	}, "\n")
	res, err := scan(strings.NewReader(in), io.Discard)
	require.NoError(t, err)
	require.Equal(t, 1, res.passed)
	require.Equal(t, 1, res.failed)
	require.Equal(t, 2, res.skipped)
	require.Equal(t, []string{"p TestA"}, res.integrationSkips)
}

func TestScanShowsOnlyFailures(t *testing.T) {
	t.Parallel()
	in := strings.Join([]string{
		`{"Action":"output","Package":"p","Test":"TestOK","Output":"quiet\n"}`,
		`{"Action":"pass","Package":"p","Test":"TestOK"}`,
		`{"Action":"output","Package":"p","Test":"TestBad","Output":"loud\n"}`,
		`{"Action":"fail","Package":"p","Test":"TestBad"}`,
		`{"Action":"output","Package":"p","Output":"FAIL\tp\t0.1s\n"}`,
	}, "\n")
	var out strings.Builder
	_, err := scan(strings.NewReader(in), &out)
	require.NoError(t, err)
	require.Equal(t, "loud\nFAIL\tp\t0.1s\n", out.String())
}
