package sqlstore

import (
	"context"
	"database/sql"
	"io/fs"
	"reflect"
	"strings"

	"github.com/bulwarkhq/bulwark/retention"
)

// MigrateFS runs a migration with another set of files, for tests.
func MigrateFS(ctx context.Context, db *sql.DB, d Dialect, fsys fs.FS) error {
	return migrate(ctx, db, d, fsys)
}

// LeaseBackendPID returns the PostgreSQL backend pid of the connection that
// holds lease's advisory lock, so a test can kill exactly that backend.
func LeaseBackendPID(ctx context.Context, lease retention.Lease) (int, error) {
	var pid int
	err := lease.(*retentionLease).conn.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid)
	return pid, err
}

// SessionUnpack reads the packed row of a session Get, for the fuzz target.
var SessionUnpack = sessionUnpack

// DBOf returns the pool st runs on.
func DBOf(st *Store) *sql.DB { return st.db }

// RebindFor returns q as st runs it (see Store.query).
func RebindFor(st *Store, q string) string { return st.query(q) }

// EncodeTime and DecodeTime are the stored form of times (see micros).
var (
	EncodeTime = micros
	DecodeTime = fromMicros
)

// RecordQueries makes st record every query text it hands out from now on,
// so a test can prepare each one (see Store.query).
func RecordQueries(st *Store) { st.queries = &queryLog{} }

// RecordedQueries returns the texts st recorded since RecordQueries.
func RecordedQueries(st *Store) []string { return st.queries.texts() }

// QueryFields returns every string field of the component store c (a
// pointer to a struct, walked through nested structs) that holds SQL, by
// field path: the queries the component prepared when it was built.
func QueryFields(c any) map[string]string {
	out := map[string]string{}
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		for i := range v.NumField() {
			f, name := v.Field(i), path+v.Type().Field(i).Name
			switch f.Kind() {
			case reflect.String:
				if looksLikeSQL(f.String()) {
					out[name] = f.String()
				}
			case reflect.Struct:
				if f.Type().PkgPath() == "" || f.Type().PkgPath() == v.Type().PkgPath() {
					walk(name+".", f)
				}
			}
		}
	}
	walk("", reflect.ValueOf(c).Elem())
	return out
}

func looksLikeSQL(s string) bool {
	s = strings.ToUpper(strings.TrimSpace(s))
	for _, kw := range []string{"SELECT ", "INSERT ", "UPDATE ", "DELETE ", "WITH "} {
		if strings.HasPrefix(s, kw) {
			return true
		}
	}
	return false
}

// AuditBuiltQueries returns the queries audit builds per call for a batch
// of rows: the plain multi-row insert, and on PostgreSQL the one-statement
// fast path.
func AuditBuiltQueries(as AuditStore) []string {
	a := as.(*auditStore)
	qs := []string{a.insertQuery(1), a.insertQuery(3)}
	if a.s.dialect == Postgres {
		qs = append(qs, a.fastQuery(1), a.fastQuery(3))
	}
	return qs
}

// Components returns every component store st hands out, by accessor
// name: each method of *Store that takes no argument and returns a
// component (Audit, Auth, Session, ...): a pointer to a struct of this
// package, or an interface holding one, as every accessor that hands a
// store out as the interface it implements does. A component added later
// is found without a list to update.
func Components(st *Store) map[string]any {
	out := map[string]any{}
	v := reflect.ValueOf(st)
	pkg := reflect.TypeOf(Store{}).PkgPath()
	isComponent := func(t reflect.Type) bool {
		return t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct && t.Elem().PkgPath() == pkg
	}
	for i := range v.NumMethod() {
		m, name := v.Method(i), v.Type().Method(i).Name
		t := m.Type()
		if t.NumIn() != 0 || t.NumOut() != 1 {
			continue
		}
		switch out0 := t.Out(0); {
		case isComponent(out0):
			out[name] = m.Call(nil)[0].Interface()
		case out0.Kind() == reflect.Interface:
			c := m.Call(nil)[0]
			if !c.IsNil() && isComponent(c.Elem().Type()) {
				out[name] = c.Interface()
			}
		}
	}
	return out
}
