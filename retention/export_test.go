package retention

import "context"

// Test-only names for unexported parts of the package.
var (
	ParsePolicy   = parsePolicy
	ParseDuration = parseDuration
)

// Defaults, for tests that check a zero Config applies them.
const (
	DefaultWarnBefore = defaultWarnBefore
	DefaultJob        = defaultJob
	DefaultBatchSize  = defaultBatchSize
	DefaultMaxActions = defaultMaxActions
	DefaultInterval   = defaultInterval
	DefaultLockTTL    = defaultLockTTL
)

// HoldCheck is the type of the hold check a Purger receives.
type HoldCheck = func(ctx context.Context, subject string) (bool, error)
