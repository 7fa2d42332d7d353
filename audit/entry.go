package audit

import (
	"time"
)

// Outcome says how an audited action ended.
type Outcome string

// Outcomes. Hosts may use others (say "error", for an action that failed
// for a system reason); these are the ones the access-log report
// understands.
const (
	Success Outcome = "success" // the action was carried out
	Failure Outcome = "failure" // the action was attempted and failed (wrong password, ...)
	Denied  Outcome = "denied"  // the action was refused by policy (authorisation, lockout)
)

// ActorSystem is the ActorType of a job or the application itself, whose
// Actor names it. The default, for an Entry with an Actor, is "user": a
// person, whose Actor is the host's user id.
const ActorSystem = "system"

const actorUser = "user"

// Well-known actions read by [Log.AccessReport]. Actions are stable,
// dotted, lowercase names; hosts choose their own for everything else
// (record.updated, invoice.exported, ...).
const (
	actionLogin       = "auth.login"        // Outcome Success or Failure
	actionLoginFailed = "auth.login.failed" // a failed login, when hosts prefer a separate action
	actionLockout     = "auth.lockout"      // an account was locked after failures
	actionLogout      = "auth.logout"       // a session ended by the user
	actionMFAFailed   = "auth.mfa.failed"   // a wrong second factor
	actionPassword    = "auth.password.set" // a password was set or changed
	actionRecordEdit  = "record.updated"    // a data change, with Changes
	actionRecordNew   = "record.created"    // a new record
	actionRecordErase = "record.deleted"    // a record was deleted
	actionLogMessage  = "log.message"       // default action of the slog bridge
)

const (
	actionAuthPrefix  = "auth"            // prefix the access report reads
	actionLoginPrefix = actionLogin + "." // auth.login.*
	redactedMarker    = "[REDACTED]"      // what a redacted value becomes
	maskedCardPrefix  = "**** **** **** " // what a card number becomes, before its last four
	maxFieldBytes     = 4 << 10           // cap on any one string field, after which it is cut
	maxUserAgentBytes = 512               // user agents are attacker-chosen; 512 bytes is plenty
	maxChanges        = 1024              // changes per event
	maxDetails        = 256               // details per event
	maxRecordBytes    = 1 << 20           // cap on an encoded record (decoder and appender)
	hashSize          = 32                // SHA-256
	defaultBatch      = 256               // group commit: events per store call
	defaultCheckpoint = 1024              // records between signed checkpoints
	defaultQueryLimit = 50                // rows per page
	maxQueryLimit     = 1000              // rows per page at most
	defaultReportDays = 30                // access report period
	verifyPage        = 1000              // records read per store call by Verify and Export
	systemActor       = "system"          // actor of events the log writes itself
)

// Entry is one audited action. Hosts fill in what they know; [Log.Append]
// sets ID and Time, cleans every string (valid UTF-8, length caps) and runs
// the redactor over Changes and Details before anything is hashed or stored.
type Entry struct {
	ID         string            // UUIDv7, set by Log.Append when empty
	Time       time.Time         // UTC, microsecond precision; set by Log.Append from Config.Now
	Tenant     string            // the stream the event is chained in; "" is the global stream
	Actor      string            // user id, or the name of a system job
	ActorType  string            // "user" (default when Actor is set), ActorSystem, or the host's own
	Action     string            // stable dotted name, e.g. auth.login.failed
	TargetType string            // what was acted on, e.g. "invoice"
	TargetID   string            // its id
	Outcome    Outcome           // Success when empty
	IP         string            // client address, from clientip.Resolver
	UserAgent  string            // the client's User-Agent, cut to 512 bytes
	RequestID  string            // correlates with application logs
	Changes    []Change          // field-level diff for data changes, see Diff
	Details    map[string]string // anything else, redacted like Changes
}

// Change is one field of a data change: old value → new value. Values are
// rendered as strings; a redacted change keeps the field name and says that
// it changed, never what to.
type Change struct {
	Field    string
	Old      string
	New      string
	Redacted bool // Old and New were replaced by [REDACTED] at the source
}

// Record is an Entry as stored: linked into its stream's hash chain.
type Record struct {
	Entry
	Seq  uint64   // position in the stream, from 1, without gaps
	Prev [32]byte // Hash of record Seq-1 (or the pruned head), zero for Seq 1
	Hash [32]byte // SHA-256 of the canonical encoding (see Record.UnmarshalBinary)
}

// Head is the end of a stream's chain: the last sequence number and hash.
// The zero Head is the start of an empty stream.
type Head struct {
	Stream string
	Seq    uint64
	Hash   [32]byte
}
