// Package export writes and reads streaming, optionally age-encrypted
// exports of a host's data modules, for backups, GDPR access and
// portability requests (articles 15 and 20) and customers leaving.
package export
