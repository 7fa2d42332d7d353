package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/org"
)

// orgStore is the store [Store.Org] returns.
type orgStore struct {
	db *sql.DB
	q  orgQueries
}

var _ org.Store = (*orgStore)(nil)

type orgQueries struct {
	bump, newTenant, version, roleExists, memberRole, owners, upsertMember, insertMember                     string
	delMember, delMemberGrants, delMemberTks, memberships, putRole, delRole, roleUsed, grantExists, addGrant string
	delGrant, members, roles, grants, addInvitation, bumpByInvitation, invitation, delInvitation             string
	revokeInvitation, invitations, addTk, useTk, touchTk, revokeTk, tks                                      string
}

// Org returns the org store over s's pool.
//
// The store is the [org.Store] on PostgreSQL or SQLite.
//
// Every change to a tenant's members, roles or grants runs in one
// transaction that starts by incrementing the tenant's version: on
// PostgreSQL that row lock serialises the tenant's changes, so the
// last-owner check and the demotion it guards are atomic even across
// instances; SQLite runs one writer at a time.
func (s *Store) Org() org.Store {
	lock, blob := "", "BLOB"
	if s.Dialect() == Postgres {
		blob = "BYTEA"
		// Hold the creator's membership row while the token is inserted,
		// so a concurrent RemoveMember either sees the token or waits.
		lock = " FOR SHARE"
	}
	const tkCols = `id, tenant, user_id, name, preview, hash, permissions, created, expires, last_used, last_ip`
	const invCols = `id, tenant, email, role, by_user, hash, created, expires`
	const grantCols = `id, tenant, user_id, role, res_type, res_id, res_group, created, by_user`
	q := orgQueries{
		bump:             `UPDATE bulwark_org_tenants SET version = version + 1 WHERE id = $1`,
		newTenant:        `INSERT INTO bulwark_org_tenants (id, version) VALUES ($1, 1) ON CONFLICT DO NOTHING`,
		version:          `SELECT version FROM bulwark_org_tenants WHERE id = $1`,
		roleExists:       `SELECT COUNT(*) FROM bulwark_org_roles WHERE tenant = $1 AND name = $2`,
		memberRole:       `SELECT role FROM bulwark_org_members WHERE tenant = $1 AND user_id = $2`,
		owners:           `SELECT COUNT(*) FROM bulwark_org_members WHERE tenant = $1 AND role = 'owner'`,
		upsertMember:     `INSERT INTO bulwark_org_members (tenant, user_id, role, joined) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant, user_id) DO UPDATE SET role = excluded.role`,
		insertMember:     `INSERT INTO bulwark_org_members (tenant, user_id, role, joined) VALUES ($1, $2, $3, $4)`,
		delMember:        `DELETE FROM bulwark_org_members WHERE tenant = $1 AND user_id = $2`,
		delMemberGrants:  `DELETE FROM bulwark_org_grants WHERE tenant = $1 AND user_id = $2`,
		delMemberTks:     `DELETE FROM bulwark_org_tokens WHERE tenant = $1 AND user_id = $2`,
		memberships:      `SELECT tenant, user_id, role, joined FROM bulwark_org_members WHERE user_id = $1 ORDER BY tenant`,
		putRole:          `INSERT INTO bulwark_org_roles (tenant, name, permissions) VALUES ($1, $2, $3) ON CONFLICT (tenant, name) DO UPDATE SET permissions = excluded.permissions`,
		delRole:          `DELETE FROM bulwark_org_roles WHERE tenant = $1 AND name = $2`,
		roleUsed:         `SELECT (SELECT COUNT(*) FROM bulwark_org_members WHERE tenant = $1 AND role = $2) + (SELECT COUNT(*) FROM bulwark_org_grants WHERE tenant = $1 AND role = $2)`,
		grantExists:      `SELECT COUNT(*) FROM bulwark_org_grants WHERE id = $1 OR (tenant = $2 AND user_id = $3 AND role = $4 AND res_type = $5 AND res_id = $6 AND res_group = $7)`,
		addGrant:         `INSERT INTO bulwark_org_grants (` + grantCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		delGrant:         `DELETE FROM bulwark_org_grants WHERE tenant = $1 AND id = $2`,
		members:          `SELECT tenant, user_id, role, joined FROM bulwark_org_members WHERE tenant = $1 ORDER BY user_id`,
		roles:            `SELECT name, permissions FROM bulwark_org_roles WHERE tenant = $1 ORDER BY name`,
		grants:           `SELECT ` + grantCols + ` FROM bulwark_org_grants WHERE tenant = $1 ORDER BY id`,
		addInvitation:    `INSERT INTO bulwark_org_invitations (` + invCols + `) SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT), CAST($4 AS TEXT), CAST($5 AS TEXT), CAST($6 AS ` + blob + `), CAST($7 AS BIGINT), CAST($8 AS BIGINT) WHERE EXISTS (SELECT 1 FROM bulwark_org_tenants WHERE id = $2)`,
		bumpByInvitation: `UPDATE bulwark_org_tenants SET version = version + 1 WHERE id = (SELECT tenant FROM bulwark_org_invitations WHERE hash = $1)`,
		invitation:       `SELECT ` + invCols + ` FROM bulwark_org_invitations WHERE hash = $1`,
		delInvitation:    `DELETE FROM bulwark_org_invitations WHERE hash = $1`,
		revokeInvitation: `DELETE FROM bulwark_org_invitations WHERE tenant = $1 AND id = $2`,
		invitations:      `SELECT ` + invCols + ` FROM bulwark_org_invitations WHERE tenant = $1 ORDER BY created, id`,
		addTk:            `INSERT INTO bulwark_org_tokens (` + tkCols + `) SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT), CAST($4 AS TEXT), CAST($5 AS TEXT), CAST($6 AS ` + blob + `), CAST($7 AS TEXT), CAST($8 AS BIGINT), CAST($9 AS BIGINT), 0, '' FROM bulwark_org_members WHERE tenant = $2 AND user_id = $3` + lock,
		useTk:            `SELECT ` + tkCols + ` FROM bulwark_org_tokens WHERE hash = $1`,
		touchTk:          `UPDATE bulwark_org_tokens SET last_used = $2, last_ip = $3 WHERE hash = $1 AND last_used < $4`,
		revokeTk:         `DELETE FROM bulwark_org_tokens WHERE tenant = $1 AND id = $2`,
		tks:              `SELECT ` + tkCols + ` FROM bulwark_org_tokens WHERE tenant = $1 AND (CAST($2 AS TEXT) = '' OR user_id = $2) ORDER BY created, id`,
	}
	for _, p := range []*string{&q.bump, &q.newTenant, &q.version, &q.roleExists, &q.memberRole, &q.owners, &q.upsertMember,
		&q.insertMember, &q.delMember, &q.delMemberGrants, &q.delMemberTks, &q.memberships, &q.putRole, &q.delRole,
		&q.roleUsed, &q.grantExists, &q.addGrant, &q.delGrant, &q.members, &q.roles, &q.grants, &q.addInvitation,
		&q.bumpByInvitation, &q.invitation, &q.delInvitation, &q.revokeInvitation, &q.invitations, &q.addTk,
		&q.useTk, &q.touchTk, &q.revokeTk, &q.tks} {
		*p = s.query(*p)
	}
	return &orgStore{db: s.db, q: q}
}

func orgMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func orgTime(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func orgJoin(ps []org.Permission) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(string(p))
	}
	return b.String()
}

func orgSplit(s string) []org.Permission {
	if s == "" {
		return nil
	}
	f := strings.Fields(s)
	out := make([]org.Permission, len(f))
	for i, p := range f {
		out[i] = org.Permission(p)
	}
	return out
}

func orgBuiltIn(role string) bool {
	return role == org.RoleOwner || role == org.RoleAdministrator || role == org.RoleMember || role == org.RoleReadOnly
}

func orgErr(op string, err error) error {
	for _, s := range []error{org.ErrNotFound, org.ErrDuplicate, org.ErrLastOwner, org.ErrRoleInUse, org.ErrWrongAddress} {
		if errors.Is(err, s) {
			return err
		}
	}
	return fmt.Errorf("sqlstore: org %s: %w", op, err)
}

// inTx runs f in a transaction, committed if f returns nil.
func (s *orgStore) inTx(ctx context.Context, op string, f func(tx *sql.Tx) error) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return orgErr(op, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = f(tx); err != nil {
		return orgErr(op, err)
	}
	if err = tx.Commit(); err != nil {
		return orgErr(op, err)
	}
	return nil
}

// bump increments tenant's version, taking its row lock, or returns
// org.ErrNotFound.
func (s *orgStore) bump(ctx context.Context, tx *sql.Tx, tenant string) error {
	res, err := tx.ExecContext(ctx, s.q.bump, tenant)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		if err != nil {
			return err
		}
		return org.ErrNotFound
	}
	return nil
}

func (s *orgStore) roleOK(ctx context.Context, tx *sql.Tx, tenant, role string) error {
	if orgBuiltIn(role) {
		return nil
	}
	var n int64
	if err := tx.QueryRowContext(ctx, s.q.roleExists, tenant, role).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return org.ErrNotFound
	}
	return nil
}

// memberRole returns user's role in tenant, or "" for a non-member.
func (s *orgStore) memberRole(ctx context.Context, tx *sql.Tx, tenant, user string) (string, error) {
	var role string
	err := tx.QueryRowContext(ctx, s.q.memberRole, tenant, user).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return role, err
}

// lastOwner reports whether tenant has exactly one owner.
func (s *orgStore) lastOwner(ctx context.Context, tx *sql.Tx, tenant string) (bool, error) {
	var n int64
	err := tx.QueryRowContext(ctx, s.q.owners, tenant).Scan(&n)
	return n <= 1, err
}

// CreateTenant implements [org.MemberStore].
func (s *orgStore) CreateTenant(ctx context.Context, owner org.Member) error {
	return s.inTx(ctx, "create tenant", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q.newTenant, owner.Tenant)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			if err != nil {
				return err
			}
			return org.ErrDuplicate
		}
		_, err = tx.ExecContext(ctx, s.q.insertMember, owner.Tenant, owner.User, owner.Role, orgMicros(owner.Joined))
		return err
	})
}

// PutMember implements [org.MemberStore].
func (s *orgStore) PutMember(ctx context.Context, m org.Member) error {
	return s.inTx(ctx, "put member", func(tx *sql.Tx) error {
		if err := s.bump(ctx, tx, m.Tenant); err != nil {
			return err
		}
		if err := s.roleOK(ctx, tx, m.Tenant, m.Role); err != nil {
			return err
		}
		old, err := s.memberRole(ctx, tx, m.Tenant, m.User)
		if err != nil {
			return err
		}
		if old == org.RoleOwner && m.Role != org.RoleOwner {
			// Read after the tenant's row lock: a concurrent demotion
			// has committed or not started.
			last, err := s.lastOwner(ctx, tx, m.Tenant)
			if err != nil {
				return err
			}
			if last {
				return org.ErrLastOwner
			}
		}
		_, err = tx.ExecContext(ctx, s.q.upsertMember, m.Tenant, m.User, m.Role, orgMicros(m.Joined))
		return err
	})
}

// RemoveMember implements [org.MemberStore].
func (s *orgStore) RemoveMember(ctx context.Context, tenant, user string) error {
	return s.inTx(ctx, "remove member", func(tx *sql.Tx) error {
		if err := s.bump(ctx, tx, tenant); err != nil {
			return err
		}
		role, err := s.memberRole(ctx, tx, tenant, user)
		if err != nil {
			return err
		}
		if role == "" {
			return org.ErrNotFound
		}
		if role == org.RoleOwner {
			last, err := s.lastOwner(ctx, tx, tenant)
			if err != nil {
				return err
			}
			if last {
				return org.ErrLastOwner
			}
		}
		for _, q := range []string{s.q.delMember, s.q.delMemberGrants, s.q.delMemberTks} {
			if _, err := tx.ExecContext(ctx, q, tenant, user); err != nil {
				return err
			}
		}
		return nil
	})
}

func orgScanMembers(rows *sql.Rows) ([]org.Member, error) {
	defer func() { _ = rows.Close() }()
	var out []org.Member
	for rows.Next() {
		var m org.Member
		var joined int64
		if err := rows.Scan(&m.Tenant, &m.User, &m.Role, &joined); err != nil {
			return nil, err
		}
		m.Joined = orgTime(joined)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Memberships implements [org.MemberStore].
func (s *orgStore) Memberships(ctx context.Context, user string) ([]org.Member, error) {
	rows, err := s.db.QueryContext(ctx, s.q.memberships, user)
	if err != nil {
		return nil, orgErr("memberships", err)
	}
	out, err := orgScanMembers(rows)
	if err != nil {
		return nil, orgErr("memberships", err)
	}
	return out, nil
}

// PutRole implements [org.RoleStore].
func (s *orgStore) PutRole(ctx context.Context, tenant string, r org.Role) error {
	return s.inTx(ctx, "put role", func(tx *sql.Tx) error {
		if err := s.bump(ctx, tx, tenant); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q.putRole, tenant, r.Name, orgJoin(r.Permissions))
		return err
	})
}

// DeleteRole implements [org.RoleStore].
func (s *orgStore) DeleteRole(ctx context.Context, tenant, name string) error {
	return s.inTx(ctx, "delete role", func(tx *sql.Tx) error {
		if err := s.bump(ctx, tx, tenant); err != nil {
			return err
		}
		var used int64
		if err := tx.QueryRowContext(ctx, s.q.roleUsed, tenant, name).Scan(&used); err != nil {
			return err
		}
		if used > 0 {
			return org.ErrRoleInUse
		}
		res, err := tx.ExecContext(ctx, s.q.delRole, tenant, name)
		return orgOne(res, err)
	})
}

// orgOne turns "no row affected" into org.ErrNotFound.
func orgOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return org.ErrNotFound
	}
	return nil
}

// PutGrant implements [org.RoleStore].
func (s *orgStore) PutGrant(ctx context.Context, g org.Grant) error {
	return s.inTx(ctx, "put grant", func(tx *sql.Tx) error {
		if err := s.bump(ctx, tx, g.Tenant); err != nil {
			return err
		}
		role, err := s.memberRole(ctx, tx, g.Tenant, g.User)
		if err != nil {
			return err
		}
		if role == "" {
			return org.ErrNotFound
		}
		if err := s.roleOK(ctx, tx, g.Tenant, g.Role); err != nil {
			return err
		}
		var n int64
		r := g.Resource
		if err := tx.QueryRowContext(ctx, s.q.grantExists, g.ID, g.Tenant, g.User, g.Role, r.Type, r.ID, r.Group).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return org.ErrDuplicate
		}
		_, err = tx.ExecContext(ctx, s.q.addGrant, g.ID, g.Tenant, g.User, g.Role, r.Type, r.ID, r.Group, orgMicros(g.Created), g.By)
		return err
	})
}

// DeleteGrant implements [org.RoleStore].
func (s *orgStore) DeleteGrant(ctx context.Context, tenant, id string) error {
	return s.inTx(ctx, "delete grant", func(tx *sql.Tx) error {
		if err := s.bump(ctx, tx, tenant); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q.delGrant, tenant, id)
		return orgOne(res, err)
	})
}

// Version implements [org.AccessStore].
func (s *orgStore) Version(ctx context.Context, tenant string) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, s.q.version, tenant).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, org.ErrNotFound
	}
	if err != nil {
		return 0, orgErr("version", err)
	}
	return v, nil
}

// Snapshot implements [org.AccessStore]. The version is read first, so
// the rest is at least as new as it; a change committed in between only
// makes the next version check reload.
func (s *orgStore) Snapshot(ctx context.Context, tenant string) (org.Snapshot, error) {
	v, err := s.Version(ctx, tenant)
	if err != nil {
		return org.Snapshot{}, err
	}
	snap := org.Snapshot{Version: v}
	rows, err := s.db.QueryContext(ctx, s.q.members, tenant)
	if err != nil {
		return org.Snapshot{}, orgErr("snapshot", err)
	}
	if snap.Members, err = orgScanMembers(rows); err != nil {
		return org.Snapshot{}, orgErr("snapshot", err)
	}
	if snap.Roles, err = s.scanRoles(ctx, tenant); err != nil {
		return org.Snapshot{}, orgErr("snapshot", err)
	}
	if snap.Grants, err = s.scanGrants(ctx, tenant); err != nil {
		return org.Snapshot{}, orgErr("snapshot", err)
	}
	return snap, nil
}

func (s *orgStore) scanRoles(ctx context.Context, tenant string) ([]org.Role, error) {
	rows, err := s.db.QueryContext(ctx, s.q.roles, tenant)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []org.Role
	for rows.Next() {
		var r org.Role
		var perms string
		if err := rows.Scan(&r.Name, &perms); err != nil {
			return nil, err
		}
		r.Permissions = orgSplit(perms)
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *orgStore) scanGrants(ctx context.Context, tenant string) ([]org.Grant, error) {
	rows, err := s.db.QueryContext(ctx, s.q.grants, tenant)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []org.Grant
	for rows.Next() {
		var g org.Grant
		var created int64
		if err := rows.Scan(&g.ID, &g.Tenant, &g.User, &g.Role, &g.Resource.Type, &g.Resource.ID, &g.Resource.Group, &created, &g.By); err != nil {
			return nil, err
		}
		g.Created = orgTime(created)
		out = append(out, g)
	}
	return out, rows.Err()
}

// CreateInvitation implements [org.InvitationStore].
func (s *orgStore) CreateInvitation(ctx context.Context, inv org.Invitation) error {
	res, err := s.db.ExecContext(ctx, s.q.addInvitation, inv.ID, inv.Tenant, inv.Email, inv.Role, inv.By, inv.Hash[:],
		orgMicros(inv.Created), orgMicros(inv.Expires))
	if err := orgOne(res, err); err != nil {
		return orgErr("create invitation", err)
	}
	return nil
}

type orgScanner interface{ Scan(dest ...any) error }

func orgScanInvitation(row orgScanner) (org.Invitation, error) {
	var inv org.Invitation
	var hash []byte
	var created, expires int64
	if err := row.Scan(&inv.ID, &inv.Tenant, &inv.Email, &inv.Role, &inv.By, &hash, &created, &expires); err != nil {
		return org.Invitation{}, err
	}
	if len(hash) != len(inv.Hash) {
		return org.Invitation{}, errors.New("stored hash has the wrong length")
	}
	copy(inv.Hash[:], hash)
	inv.Created, inv.Expires = orgTime(created), orgTime(expires)
	return inv, nil
}

// AcceptInvitation implements [org.InvitationStore]. Its transaction
// starts with a write (the tenant's version), so on SQLite it never has to
// upgrade a read lock, and on PostgreSQL concurrent accepts of one
// invitation queue on the tenant's row and only the first finds it.
func (s *orgStore) AcceptInvitation(ctx context.Context, hash [32]byte, email, user string, now time.Time) (org.Invitation, error) {
	var inv org.Invitation
	err := s.inTx(ctx, "accept invitation", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q.bumpByInvitation, hash[:])
		if err := orgOne(res, err); err != nil {
			return err
		}
		if inv, err = orgScanInvitation(tx.QueryRowContext(ctx, s.q.invitation, hash[:])); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return org.ErrNotFound
			}
			return err
		}
		if !now.Before(inv.Expires) {
			return org.ErrNotFound
		}
		if email != inv.Email {
			return org.ErrWrongAddress
		}
		if err := s.roleOK(ctx, tx, inv.Tenant, inv.Role); err != nil {
			return err
		}
		role, err := s.memberRole(ctx, tx, inv.Tenant, user)
		if err != nil {
			return err
		}
		if role != "" {
			return org.ErrDuplicate
		}
		res, err = tx.ExecContext(ctx, s.q.delInvitation, hash[:])
		if err := orgOne(res, err); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q.insertMember, inv.Tenant, user, inv.Role, orgMicros(now))
		return err
	})
	if err != nil {
		return org.Invitation{}, err
	}
	return inv, nil
}

// RevokeInvitation implements [org.InvitationStore].
func (s *orgStore) RevokeInvitation(ctx context.Context, tenant, id string) error {
	res, err := s.db.ExecContext(ctx, s.q.revokeInvitation, tenant, id)
	if err := orgOne(res, err); err != nil {
		return orgErr("revoke invitation", err)
	}
	return nil
}

// Invitations implements [org.InvitationStore].
func (s *orgStore) Invitations(ctx context.Context, tenant string) ([]org.Invitation, error) {
	rows, err := s.db.QueryContext(ctx, s.q.invitations, tenant)
	if err != nil {
		return nil, orgErr("invitations", err)
	}
	defer func() { _ = rows.Close() }()
	var out []org.Invitation
	for rows.Next() {
		inv, err := orgScanInvitation(rows)
		if err != nil {
			return nil, orgErr("invitations", err)
		}
		out = append(out, inv)
	}
	if err := rows.Err(); err != nil {
		return nil, orgErr("invitations", err)
	}
	return out, nil
}

// CreateToken implements [org.TokenStore].
func (s *orgStore) CreateToken(ctx context.Context, t org.Token) error {
	res, err := s.db.ExecContext(ctx, s.q.addTk, t.ID, t.Tenant, t.User, t.Name, t.Hint, t.Hash[:], orgJoin(t.Permissions),
		orgMicros(t.Created), orgMicros(t.Expires))
	if err := orgOne(res, err); err != nil {
		return orgErr("create token", err)
	}
	return nil
}

func orgScanToken(row orgScanner) (org.Token, error) {
	var t org.Token
	var hash []byte
	var perms string
	var created, expires, used int64
	if err := row.Scan(&t.ID, &t.Tenant, &t.User, &t.Name, &t.Hint, &hash, &perms, &created, &expires, &used, &t.LastIP); err != nil {
		return org.Token{}, err
	}
	if len(hash) != len(t.Hash) {
		return org.Token{}, errors.New("stored hash has the wrong length")
	}
	copy(t.Hash[:], hash)
	t.Permissions = orgSplit(perms)
	t.Created, t.Expires, t.LastUsed = orgTime(created), orgTime(expires), orgTime(used)
	return t, nil
}

// UseToken implements [org.TokenStore]. The last use is written by a
// conditional UPDATE, so concurrent uses write it at most once per
// interval.
func (s *orgStore) UseToken(ctx context.Context, hash [32]byte, at time.Time, ip string, touchBefore time.Time) (org.Token, error) {
	t, err := orgScanToken(s.db.QueryRowContext(ctx, s.q.useTk, hash[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return org.Token{}, org.ErrNotFound
	}
	if err != nil {
		return org.Token{}, orgErr("use token", err)
	}
	if t.LastUsed.Before(touchBefore) {
		if _, err := s.db.ExecContext(ctx, s.q.touchTk, hash[:], orgMicros(at), ip, orgMicros(touchBefore)); err != nil {
			return org.Token{}, orgErr("use token", err)
		}
	}
	return t, nil
}

// RevokeToken implements [org.TokenStore].
func (s *orgStore) RevokeToken(ctx context.Context, tenant, id string) error {
	res, err := s.db.ExecContext(ctx, s.q.revokeTk, tenant, id)
	if err := orgOne(res, err); err != nil {
		return orgErr("revoke token", err)
	}
	return nil
}

// Tokens implements [org.TokenStore].
func (s *orgStore) Tokens(ctx context.Context, tenant, user string) ([]org.Token, error) {
	rows, err := s.db.QueryContext(ctx, s.q.tks, tenant, user)
	if err != nil {
		return nil, orgErr("tokens", err)
	}
	defer func() { _ = rows.Close() }()
	var out []org.Token
	for rows.Next() {
		t, err := orgScanToken(rows)
		if err != nil {
			return nil, orgErr("tokens", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, orgErr("tokens", err)
	}
	return out, nil
}
