package retention_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/retention"
)

func TestPresetValid(t *testing.T) {
	t.Parallel()
	p := retention.SaaSLifecycle()
	require.NoError(t, p.Validate())
	var pe *retention.PolicyError
	require.ErrorAs(t, json.Unmarshal([]byte(`{"preset": "nope"}`), &p), &pe)
}

func TestPolicyJSONRoundTrip(t *testing.T) {
	t.Parallel()
	p := retention.SaaSLifecycle()
	p.Categories = []retention.Category{{Name: "audit", Retain: 400 * day}, {Name: "sessions", Retain: 36 * time.Hour}}
	b, err := json.Marshal(p)
	require.NoError(t, err)
	got, err := retention.ParsePolicy(b)
	require.NoError(t, err)
	require.Equal(t, p, got)
	p.WarnBefore = -1
	b, err = json.Marshal(p)
	require.NoError(t, err)
	require.Contains(t, string(b), `"no_warnings":true`)
	got, err = retention.ParsePolicy(b)
	require.NoError(t, err)
	require.Equal(t, p, got)
}

func TestParsePolicyStrict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		json  string
		codes []string // PolicyError codes; nil means a plain decoding error
	}{
		{"unknown field", `{"rulez": []}`, nil},
		{"trailing data", `{} {}`, nil},
		{"not an object", `[]`, nil},
		{"bad duration", `{"rules":[{"name":"a","state":"s","after":"ten days","action":"erase"}]}`, nil},
		{"number duration", `{"rules":[{"name":"a","state":"s","after":90,"action":"erase"}]}`, nil},
		{"negative days", `{"rules":[{"name":"a","state":"s","after":"-1d","action":"erase"}]}`, nil},
		{"too long", `{"rules":[{"name":"a","state":"s","after":"36501d","action":"erase"}]}`, nil},
		{"unknown preset", `{"preset":"gdpr-max"}`, []string{"unknown"}},
		{"both warnings", `{"warn_before":"3d","no_warnings":true}`, []string{"duplicate"}},
		{"bad rule", `{"rules":[{"name":"Bad Name","state":"","after":"1d","action":"nuke","anchor":"birthday"}]}`, []string{"syntax", "required", "unknown", "unknown"}},
		{"duplicate names", `{"rules":[{"name":"a","state":"s","after":"1d","action":"erase"},{"name":"a","state":"s","after":"2d","action":"warn"}]}`, []string{"duplicate"}},
		{"anchor without action", `{"rules":[{"name":"a","state":"s","anchor":"closed","after":"1d","action":"erase"}]}`, []string{"anchor"}},
		{"suspend after close", `{"rules":[{"name":"c","state":"s","after":"1d","action":"close"},{"name":"a","state":"s","anchor":"closed","after":"1d","action":"suspend"}]}`, []string{"anchor"}},
		{"bad category", `{"categories":[{"name":"x","retain":"0s"},{"name":"x","retain":"1d"}]}`, []string{"range", "duplicate"}},
		{"ok", `{"rules":[{"name":"a","state":"s","after":"0s","action":"erase"}],"warn_before":"14d"}`, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := retention.ParsePolicy([]byte(tc.json))
			if tc.codes != nil && len(tc.codes) == 0 {
				require.NoError(t, err)
				require.Equal(t, 14*day, p.WarnBefore)
				return
			}
			require.Error(t, err)
			var pe *retention.PolicyError
			if tc.codes == nil {
				require.False(t, errors.As(err, &pe), "%v", err)
				return
			}
			require.ErrorAs(t, err, &pe)
			var codes []string
			for _, pr := range pe.Problems {
				codes = append(codes, pr.Code)
				require.NotEmpty(t, pr.Path)
			}
			require.Equal(t, tc.codes, codes, err.Error())
		})
	}
}

func TestNewRejectsInvalidPolicy(t *testing.T) {
	t.Parallel()
	_, err := retention.New(nilSafeStore(), retention.Config{Policy: retention.Policy{Rules: []retention.Rule{{Name: "a", State: "s", Action: "explode"}}}})
	var pe *retention.PolicyError
	require.ErrorAs(t, err, &pe)
	_, err = retention.New(nil, retention.Config{})
	require.Error(t, err, "a nil Store is an error, not a panic")
}

func TestDurations(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"0d": 0, "12d": 12 * day, "36h": 36 * time.Hour, "1h30m": 90 * time.Minute, "0s": 0} {
		got, err := retention.ParseDuration(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "d", "-3d", "+3d", "03d", "1.5d", "x", "-1h", "876001h"} {
		_, err := retention.ParseDuration(in)
		require.Error(t, err, in)
	}
	require.Equal(t, "90d", retention.FormatDuration(90*day))
	require.Equal(t, "36h0m0s", retention.FormatDuration(36*time.Hour))
}

func FuzzParsePolicy(f *testing.F) {
	p := retention.SaaSLifecycle()
	b, _ := json.Marshal(p)
	f.Add(b)
	f.Add([]byte(`{"preset":"saas-lifecycle","warn_before":"3d"}`))
	f.Add([]byte(`{"rules":[{"name":"a","state":"s","anchor":"closed","after":"1d","action":"erase"}]}`))
	f.Add([]byte(`{"categories":[{"name":"x","retain":"99999d"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := retention.ParsePolicy(data)
		if err != nil {
			return
		}
		// Whatever parses is valid, and survives a round trip.
		if err := p.Validate(); err != nil {
			t.Fatalf("parsed policy invalid: %v", err)
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := retention.ParsePolicy(b)
		if err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if len(q.Rules) != len(p.Rules) || len(q.Categories) != len(p.Categories) {
			t.Fatalf("round trip changed the policy")
		}
	})
}

func TestPolicyInHostConfig(t *testing.T) {
	t.Parallel()
	var cfg struct {
		Retention retention.Policy `json:"retention"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"retention": {"preset": "saas-lifecycle", "warn_before": "3d",
		"rules": [{"name": "closed-notice", "state": "payment_failed", "anchor": "closed", "after": "1h", "action": "warn"}]}}`), &cfg))
	require.Equal(t, 3*day, cfg.Retention.WarnBefore)
	require.Len(t, cfg.Retention.Rules, 8)
	err := json.Unmarshal([]byte(`{"retention": {"rules": [{"name": "a"}]}}`), &cfg)
	var pe *retention.PolicyError
	require.ErrorAs(t, err, &pe)
}
