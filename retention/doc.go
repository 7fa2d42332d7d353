// Package retention enforces data-retention rules: lifecycle policies that
// warn, suspend, close and erase accounts on time, erasure on request,
// legal holds, and a scheduler that is safe on many app instances.
package retention
