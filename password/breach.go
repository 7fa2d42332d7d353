package password

import (
	"bufio"
	"context"
	"crypto/sha1" // #nosec G505 -- SHA-1 is what the HIBP range API indexes by; not used for security.
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// BreachChecker reports whether a password appears in a corpus of breached
// passwords (ASVS 5.0 6.2.12). It receives the NFKC-normalised password.
// An error means "unknown", never "not breached"; [Policy] decides what it
// means for the check. Implementations must be safe for concurrent use.
type BreachChecker interface {
	Breached(ctx context.Context, password string) (bool, error)
}

// defaultHIBPEndpoint is the Have I Been Pwned Pwned Passwords range API.
const defaultHIBPEndpoint = "https://api.pwnedpasswords.com/range/"

// hibpMaxBody bounds the response read: a real padded response is 800-1,000
// lines of 36-40 bytes (about 40 KiB).
const hibpMaxBody = 1 << 20

// HIBP checks passwords against the Have I Been Pwned k-anonymity range API:
// only the first 5 hex characters of the password's SHA-1 leave the process,
// and response padding is requested (Add-Padding: true) so the response size
// does not reveal the prefix either. Its zero value is ready to use; it is
// safe for concurrent use.
type HIBP struct {
	// Client makes the requests. Nil means a client with a 10 s timeout
	// (never http.DefaultClient, which has none).
	Client *http.Client
	// Endpoint is the range API base URL, ending in "/". Empty means
	// "https://api.pwnedpasswords.com/range/", the Have I Been Pwned Pwned
	// Passwords range API; tests point it at an httptest server.
	Endpoint string
	// MinCount is how many sightings make a password breached. Zero means 1.
	MinCount int
	// UserAgent is sent with each request, as HIBP asks. Empty means
	// "bulwark-password".
	UserAgent string
}

var hibpDefaultClient = &http.Client{Timeout: 10 * time.Second}

// Breached implements [BreachChecker]. Errors wrap [ErrBreachCheck] and
// never include the hash prefix or the URL.
func (h *HIBP) Breached(ctx context.Context, password string) (bool, error) {
	sum := sha1.Sum([]byte(password)) // #nosec G401 -- required by the HIBP API
	full := strings.ToUpper(hex.EncodeToString(sum[:]))
	prefix, suffix := full[:5], full[5:]
	endpoint := h.Endpoint
	if endpoint == "" {
		endpoint = defaultHIBPEndpoint
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+prefix, nil)
	if err != nil {
		return false, fmt.Errorf("%w: bad endpoint", ErrBreachCheck)
	}
	req.Header.Set("Add-Padding", "true")
	ua := h.UserAgent
	if ua == "" {
		ua = "bulwark-password"
	}
	req.Header.Set("User-Agent", ua)
	client := h.Client
	if client == nil {
		client = hibpDefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // drop the URL, which carries the prefix
		}
		return false, fmt.Errorf("%w: %w", ErrBreachCheck, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("%w: status %d", ErrBreachCheck, resp.StatusCode)
	}
	minCount := max(h.MinCount, 1)
	found := false
	sc := bufio.NewScanner(io.LimitReader(resp.Body, hibpMaxBody))
	lines := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		lines++
		suf, cnt, ok := strings.Cut(line, ":")
		n, err := strconv.Atoi(cnt)
		if !ok || err != nil || len(suf) != 35 || n < 0 {
			return false, fmt.Errorf("%w: malformed response line %d", ErrBreachCheck, lines)
		}
		// Padding entries have a count of 0. Compare every line without an
		// early exit, so timing does not depend on where a match sits.
		if subtle.ConstantTimeCompare([]byte(strings.ToUpper(suf)), []byte(suffix)) == 1 && n >= minCount {
			found = true
		}
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("%w: reading response: %w", ErrBreachCheck, err)
	}
	return found, nil
}
