-- org: tenants with a version counter that every change to their members,
-- roles or grants increments (and whose row lock serialises those
-- changes), members, custom roles, resource grants, pending invitations
-- and API tokens. Invitations and tokens are keyed by the SHA-256 of their
-- secret; the secret itself is never stored.
CREATE TABLE IF NOT EXISTS bulwark_org_tenants (
    id      TEXT COLLATE "C" PRIMARY KEY,
    version BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS bulwark_org_members (
    tenant  TEXT COLLATE "C" NOT NULL REFERENCES bulwark_org_tenants (id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" NOT NULL,
    role    TEXT NOT NULL,
    joined  BIGINT NOT NULL,
    PRIMARY KEY (tenant, user_id)
);

-- A user's tenants.
CREATE INDEX IF NOT EXISTS bulwark_org_members_user ON bulwark_org_members (user_id, tenant);

CREATE TABLE IF NOT EXISTS bulwark_org_roles (
    tenant      TEXT COLLATE "C" NOT NULL REFERENCES bulwark_org_tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    permissions TEXT NOT NULL, -- space-separated
    PRIMARY KEY (tenant, name)
);

CREATE TABLE IF NOT EXISTS bulwark_org_grants (
    id        TEXT COLLATE "C" PRIMARY KEY,
    tenant    TEXT COLLATE "C" NOT NULL REFERENCES bulwark_org_tenants (id) ON DELETE CASCADE,
    user_id   TEXT COLLATE "C" NOT NULL,
    role      TEXT NOT NULL,
    res_type  TEXT NOT NULL,
    res_id    TEXT NOT NULL,
    res_group TEXT NOT NULL,
    created   BIGINT NOT NULL,
    by_user   TEXT NOT NULL,
    UNIQUE (tenant, user_id, role, res_type, res_id, res_group)
);

CREATE TABLE IF NOT EXISTS bulwark_org_invitations (
    hash    BYTEA PRIMARY KEY,
    id      TEXT COLLATE "C" NOT NULL UNIQUE,
    tenant  TEXT COLLATE "C" NOT NULL REFERENCES bulwark_org_tenants (id) ON DELETE CASCADE,
    email   TEXT NOT NULL,
    role    TEXT NOT NULL,
    by_user TEXT NOT NULL,
    created BIGINT NOT NULL,
    expires BIGINT NOT NULL
);

CREATE INDEX IF NOT EXISTS bulwark_org_invitations_tenant ON bulwark_org_invitations (tenant, created);

CREATE TABLE IF NOT EXISTS bulwark_org_tokens (
    hash        BYTEA PRIMARY KEY,
    id          TEXT COLLATE "C" NOT NULL UNIQUE,
    tenant      TEXT COLLATE "C" NOT NULL REFERENCES bulwark_org_tenants (id) ON DELETE CASCADE,
    user_id     TEXT COLLATE "C" NOT NULL,
    name        TEXT NOT NULL,
    preview     TEXT NOT NULL, -- prefix and first characters, shown in lists
    permissions TEXT NOT NULL, -- space-separated
    created     BIGINT NOT NULL,
    expires     BIGINT NOT NULL,
    last_used   BIGINT NOT NULL DEFAULT 0,
    last_ip     TEXT NOT NULL DEFAULT ''
);

CREATE INDEX IF NOT EXISTS bulwark_org_tokens_tenant ON bulwark_org_tokens (tenant, user_id, created);
