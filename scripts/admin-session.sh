# An administrator's session on the public API, for the procedures of docs/: `. scripts/admin-session.sh`, then
# `metro GET /admin/collections`, `metro PUT /admin/tariffs/electricity --data-binary @file.csv ...`.
# Reads METRO_URL (default http://127.0.0.1:8000), METRO_ADMIN_EMAIL and METRO_ADMIN_PASSWORD (the local
# defaults of `make run` when unset). Accepts the current terms of use for the administrator when required.
METRO_API="${METRO_URL:-http://127.0.0.1:8000}/api/v1"
METRO_JAR="$(mktemp)"

metro() {  # metro METHOD PATH [curl options...]: the answer's body on stdout; fails on an error status
  local method=$1 path=$2
  shift 2
  curl -sS --fail-with-body -X "$method" -b "$METRO_JAR" -c "$METRO_JAR" \
    -H "x-csrf-token: $(awk '$6 == "metro_csrf" {print $7}' "$METRO_JAR")" "$@" "$METRO_API$path"
}

metro_json() {  # metro_json METHOD PATH JSON
  metro "$1" "$2" -H 'content-type: application/json' -d "$3"
}

metro_json POST /auth/login "$(python3 -c 'import json, sys; print(json.dumps({"email": sys.argv[1], "password": sys.argv[2]}))' \
  "${METRO_ADMIN_EMAIL:-admin@metroenergies.example.org}" "${METRO_ADMIN_PASSWORD:-local-admin-password-change-me}")" \
  > "$METRO_JAR.login"
metro_terms=$(python3 -c 'import json, sys; t = json.load(open(sys.argv[1]))["terms"]; print(t["current_version"] if t["acceptance_required"] else "")' "$METRO_JAR.login")
if [ -n "$metro_terms" ]; then
  metro_json POST /me/terms "{\"version\": \"$metro_terms\"}" > /dev/null
fi
rm -f "$METRO_JAR.login"
