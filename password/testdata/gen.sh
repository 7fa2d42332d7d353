#!/usr/bin/env bash
# Regenerates vectors.txt from other implementations. Not run by tests or CI:
# the output is committed so tests need none of these tools.
#   apt-get install -y argon2 apache2-utils whois   (reference argon2 CLI, htpasswd, mkpasswd/libxcrypt; versions in tool-versions.txt)
# Format: source<TAB>password as hex<TAB>encoded hash. Every line is a match.
set -euo pipefail
hex() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }
a2() { # password salt argon2-args...
  local pw=$1 salt=$2; shift 2
  printf 'argon2-cli %s\t%s\t%s\n' "$(echo "$*" | tr ' ' '_')" "$(hex "$pw")" "$(printf '%s' "$pw" | argon2 "$salt" -id "$@" -e)"
}
bc() { # source password hash
  printf '%s\t%s\t%s\n' "$1" "$(hex "$2")" "$3"
}
{
  # The issue's example, at RFC 9106's second recommended parameters (our defaults).
  a2 password somesalt -t 3 -k 65536 -p 4
  a2 password somesalt -t 2 -k 256 -p 1
  a2 'pässwörd 🔐' saltsaltsalt -t 1 -k 64 -p 2 -l 16
  a2 "$(printf 'x%.0s' $(seq 100))" 0123456789abcdef -t 2 -k 128 -p 1 -l 64
  a2 'correct horse battery staple' somesaltsomesalt -t 2 -k 1024 -p 2
  pw='hunter2hunter2'
  bc 'htpasswd -nbBC 10' "$pw" "$(htpasswd -nbBC 10 user "$pw" | cut -d: -f2-)"
  pw='p@ss word!'
  bc 'htpasswd -nbBC 4' "$pw" "$(htpasswd -nbBC 4 user "$pw" | cut -d: -f2-)"
  pw='Ünïcödé-pw'
  bc 'mkpasswd -m bcrypt -R 5' "$pw" "$(mkpasswd -m bcrypt -R 5 "$pw")"
  pw='legacy-2a-hash'
  bc 'mkpasswd -m bcrypt-a -R 5' "$pw" "$(mkpasswd -m bcrypt-a -R 5 "$pw")"
  # 80 bytes: bcrypt implementations use only the first 72.
  pw=$(printf 'a%.0s' $(seq 80))
  bc 'mkpasswd -m bcrypt -R 5 (80 bytes)' "$pw" "$(mkpasswd -m bcrypt -R 5 "$pw")"
  # scrypt via Python's hashlib (OpenSSL), in passlib's PHC-style format.
  for args in 'scrypt-pw 4 8 1' 'another pass 10 8 2'; do
    python3 - "$args" <<'PY'
import base64, hashlib, sys
*words, ln, r, p = sys.argv[1].split(' ')
pw = ' '.join(words).encode()
salt = hashlib.sha256(pw).digest()[:16]
dk = hashlib.scrypt(pw, salt=salt, n=1 << int(ln), r=int(r), p=int(p), dklen=32)
b = lambda x: base64.b64encode(x).decode().rstrip('=')
print(f"python3 hashlib.scrypt\t{pw.hex()}\t$scrypt$ln={ln},r={r},p={p}${b(salt)}${b(dk)}")
PY
  done
} > vectors.txt

# RFC 9106 §5.3 inputs without the secret K and associated data X, which
# x/crypto/argon2 does not expose: password 32 × 0x01, salt 16 × 0x02,
# t=3, m=32 KiB, p=4, 32-byte tag. Raw tag from the reference CLI.
printf '\001%.0s' $(seq 32) | argon2 "$(printf '\002%.0s' $(seq 16))" -id -t 3 -k 32 -p 4 -r > rfc9106-nosecret.hex
: > tool-versions.txt
dpkg-query -W argon2 apache2-utils whois >> tool-versions.txt
