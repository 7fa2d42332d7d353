-- org: tenants with a version counter that every change to their members,
-- roles or grants increments (and whose row lock serialises those
-- changes), members, custom roles, resource grants, pending invitations
-- and API tokens. Invitations and tokens are keyed by the SHA-256 of their
-- secret; the secret itself is never stored.
CREATE TABLE IF NOT EXISTS bulwark_org_tenants (
    id      TEXT PRIMARY KEY,
    version INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS bulwark_org_members (
    tenant  TEXT NOT NULL REFERENCES bulwark_org_tenants (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    role    TEXT NOT NULL,
    joined  INTEGER NOT NULL,
    PRIMARY KEY (tenant, user_id)
) STRICT;

-- A user's tenants.
CREATE INDEX IF NOT EXISTS bulwark_org_members_user ON bulwark_org_members (user_id, tenant);

CREATE TABLE IF NOT EXISTS bulwark_org_roles (
    tenant      TEXT NOT NULL REFERENCES bulwark_org_tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    permissions TEXT NOT NULL, -- space-separated
    PRIMARY KEY (tenant, name)
) STRICT;

CREATE TABLE IF NOT EXISTS bulwark_org_grants (
    id        TEXT PRIMARY KEY,
    tenant    TEXT NOT NULL REFERENCES bulwark_org_tenants (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    role      TEXT NOT NULL,
    res_type  TEXT NOT NULL,
    res_id    TEXT NOT NULL,
    res_group TEXT NOT NULL,
    created   INTEGER NOT NULL,
    by_user   TEXT NOT NULL,
    UNIQUE (tenant, user_id, role, res_type, res_id, res_group)
) STRICT;

CREATE TABLE IF NOT EXISTS bulwark_org_invitations (
    hash    BLOB PRIMARY KEY,
    id      TEXT NOT NULL UNIQUE,
    tenant  TEXT NOT NULL REFERENCES bulwark_org_tenants (id) ON DELETE CASCADE,
    email   TEXT NOT NULL,
    role    TEXT NOT NULL,
    by_user TEXT NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL
) STRICT;

CREATE INDEX IF NOT EXISTS bulwark_org_invitations_tenant ON bulwark_org_invitations (tenant, created);

CREATE TABLE IF NOT EXISTS bulwark_org_tokens (
    hash        BLOB PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    tenant      TEXT NOT NULL REFERENCES bulwark_org_tenants (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    preview     TEXT NOT NULL, -- prefix and first characters, shown in lists
    permissions TEXT NOT NULL, -- space-separated
    created     INTEGER NOT NULL,
    expires     INTEGER NOT NULL,
    last_used   INTEGER NOT NULL DEFAULT 0,
    last_ip     TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX IF NOT EXISTS bulwark_org_tokens_tenant ON bulwark_org_tokens (tenant, user_id, created);
