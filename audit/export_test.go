package audit

// Names the package keeps unexported, for its external tests (package
// audit_test) only.

const (
	EncodingVersion = encodingVersion
	ActorUser       = actorUser
	ProblemStream   = problemStream

	SlogAction     = slogAction
	SlogTenant     = slogTenant
	SlogActor      = slogActor
	SlogTargetType = slogTargetType
	SlogTargetID   = slogTargetID
	SlogOutcome    = slogOutcome
	SlogIP         = slogIP
	SlogUserAgent  = slogUserAgent
	SlogRequestID  = slogRequestID

	ActionLogin       = actionLogin
	ActionLoginFailed = actionLoginFailed
	ActionLockout     = actionLockout
	ActionLogout      = actionLogout
	ActionMFAFailed   = actionMFAFailed
	ActionPassword    = actionPassword
	ActionRecordEdit  = actionRecordEdit
	ActionRecordNew   = actionRecordNew
	ActionRecordErase = actionRecordErase
	ActionLogMessage  = actionLogMessage
)

var (
	ErrNoSigner       = errNoSigner
	ErrDiffTypes      = errDiffTypes
	ErrWeakKey        = errWeakKey
	ValidAction       = validAction
	SensitiveField    = sensitiveField
	LooksSecret       = looksSecret
	MaskCardNumbers   = maskCardNumbers
	Escape            = escape
	MatchActionPrefix = matchActionPrefix
)

func (r *Record) MarshalBinary() ([]byte, error) { return r.marshalBinary() }

func (r *Record) AppendBinary(b []byte) ([]byte, error) { return r.appendBinary(b, true) }

func (r *Record) ComputeHash() ([32]byte, error) { return r.computeHash() }

func (c *Checkpoint) SignedBytes() []byte { return c.signedBytes() }

func (c Cursor) Before(r *Record) bool { return c.before(r) }

// VerifyRecords verifies recs as the whole continuation of a stream after
// start, with checkpoints cps.
func VerifyRecords(start Head, recs []Record, cps []Checkpoint, sv SignatureVerifier) error {
	v, err := NewChainVerifier(start, cps, sv)
	if err != nil {
		return err
	}
	for i := range recs {
		if err := v.Next(&recs[i]); err != nil {
			return err
		}
	}
	_, err = v.Finish()
	return err
}

func (c Cursor) IsZero() bool { return c.isZero() }
