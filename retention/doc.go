// Package retention deletes personal data on time: lifecycle rules that
// warn, suspend, close and erase accounts; erasure on request ("Adios");
// legal holds; per-category retention periods; and a scheduler that is safe
// on many app instances. It serves GDPR art. 5(1)(e) (storage limitation)
// and art. 17 (erasure), and ASVS 5.0 14.2.7 (delete stale data
// automatically, on a schedule) and 14.1.2 / 14.2.4 (a documented, enforced
// retention per protection level).
//
// # Policy as data
//
// A [Policy] is a list of [Rule] values: a subject in State is due for
// Action (warn, suspend, close or erase) After a delay counted from an
// [Anchor] (when it entered the state, its last activity, or when this
// package suspended or closed it). Policies are plain Go values, or JSON read
// strictly by json.Unmarshal ([Policy.UnmarshalJSON]), which returns a
// *[PolicyError] listing every problem with a stable code.
// [SaaSLifecycle], the policy of a zero [Config], is the common SaaS
// lifecycle: trial +12 days, cancelled +90 days, payment
// failure suspended within 15 days, closed at 90 and erased a week after
// closure, free accounts after 60 idle days, and deletion on request at
// once. [Category] gives each kind of data (audit events, sessions,
// exports) its own retention period, enforced by the category's [Purger].
//
// The host tells the package about each subject with
// [SubjectStore.PutSubject]: its state, when it entered it, its last
// activity, and whether it has its own encryption key.
//
// # Plan
//
// [Manager.Plan] is a dry run: for the given subjects it reports each
// [Step], when it falls due and under which rule; steps that count from an
// action still to come are marked Estimated; a legal hold marks the erasure
// Blocked with its reason, and so does a missing timestamp the rule counts
// from (a zero Since), which fails closed: nothing is done on it. [SubjectPlan.NextErasure] answers "when will my
// data be deleted?"; [Manager.PlanAll] streams every subject for an admin
// report. PlanAll reuses each plan's Steps for the next subject and each
// page of records ([SubjectStore.ListSubjects] reads into the previous
// page's storage), so planning costs about what reading the subjects costs: in
// bench's BenchmarkRetentionPlanVsScan, PlanAll took 0.6 to 1.2 times a
// bare ListSubjects scan of the same 100,000 rows (PostgreSQL, SQLite,
// memory) and allocated 45 to 124 bytes a subject in all.
//
// # Erasure
//
// The host registers one idempotent [Eraser] per data category with
// [Manager.Register]. An erasure first destroys the subject's own key
// through the [Shredder] (crypto-shredding: every copy, backups included,
// becomes unreadable), then runs each eraser, then hands a [Receipt] to the
// [Recorder] (typically the audit log), then turns the subject into a
// tombstone. Every step is recorded in the store before the next begins, so
// an erasure interrupted by a crash resumes where it stopped on the next
// run; at most one erasure per subject is ever in progress, and a finished
// subject is never erased again. The receipt holds no personal data: not
// even the subject id, only the erasure id, rule, categories and times.
// Erasing a subject that has its own key without a Shredder fails closed
// ([ErrNoShredder]), and so does erasing with no erasers ([ErrNoErasers]).
//
// [Manager.Erase] erases a subject at once, for a user who asks (after
// offering an export: it is irreversible).
//
// # Legal hold
//
// [Manager.SetHold] puts a subject on hold with a reason. The store refuses
// to begin its erasure atomically ([ErrOnHold]); an erasure already under
// way stops before its next step and resumes when the hold is lifted. Plans
// show the hold. Suspension and closure still happen: they keep data.
// Per-category purges ([Purger]) receive a hold check and keep the
// records of every subject on hold; if the check fails, the purge stops.
//
// # Warnings
//
// Before every suspension and erasure the subject is warned through the
// [Notifier], [Policy.WarnBefore] (default 7 days) ahead, unless the rule is Quiet.
// Each warning is recorded so it is sent once; its [Notice.Key] is stable, so
// a Notifier can drop the duplicate that a crash between sending and
// recording could cause. A failed warning does not delay the erasure: the
// law's deadline wins.
//
// # Scheduler
//
// [Manager.Run] does one pass: it completes interrupted erasures, scans
// subjects in batches of [Config.BatchSize] (so no query holds the database
// for long), takes each due action up to [Config.MaxActions], purges
// categories past their retention period, and returns a [Report] (scanned,
// acted on, failed) that it also logs through log/slog and the Hook.
//
// A [Scheduler] calls Run every [SchedulerConfig.Interval] plus random
// jitter, under a single-runner lock from an engine built for it: sqlstore's
// PostgreSQL advisory lock or redisstore's Redis lock, each with a fencing
// token. The token is stored on every erasure and a write with a lower one
// fails with [ErrFenced], so an instance that stalled past its lock cannot
// undo the work of the next. [LocalLocker] is the default, for one process.
//
// A lock can be lost without its holder being told: an advisory lock dies
// with its connection (idle timeout, proxy, failover, an administrator), a
// Redis lock with its key. Two rules keep a stale holder from acting beside
// the new one. The scheduler records each new holder's token in the store
// ([FenceStore.AdvanceFence]), and the store refuses every write carrying
// an older token, in the same statement as the write. And before each call
// into host code (Notifier, Actor, Shredder, Eraser, Recorder, Purger) the
// run proves it still holds the lock ([Lease.Check]: on PostgreSQL one
// query on the lock's own connection, on Redis one script); a run that
// lost it stops with [ErrLockLost]. A host call already under way when the
// lock is lost runs to its end, so host code stays idempotent.
//
// # Concurrency, nil and errors
//
// [Manager] and [Scheduler] are safe for concurrent use. Optional
// collaborators in [Config] may be nil, with the behaviour documented on
// each field. Store errors fail closed: nothing is marked done that was not
// done, and the next run retries. Errors from stores are the sentinels in
// store.go (wrapped errors are system failures); errors never carry
// personal data beyond the host's own subject id, and [Event]s carry no
// error text.
//
// # Events
//
// [Config.Hook], when set, receives an [Event] for each warning,
// suspension, closure, completed erasure, failed action and finished run,
// with a [EventType] of the form "retention.<verb>" ([EventErased] is
// "retention.erased"). The hook is called synchronously: a slow hook slows
// the run.
package retention
