# Sourced by .ci/run: provisions every service the tests need, exports the variables the tests
# read (see crates/nhs-test-support), and registers a trap that stops what it started.
# Usable alone for local runs:  source .ci/services.sh   (then cargo test ...; stop_services)

NHSI_STARTED_PIDS=()
NHSI_STARTED_PG=""
NHSI_CI_DIR="${NHSI_CI_DIR:-$PWD/target/ci}"
mkdir -p "$NHSI_CI_DIR"

stop_services() {
  local pid
  for pid in "${NHSI_STARTED_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  NHSI_STARTED_PIDS=()
  if [ -n "$NHSI_STARTED_PG" ]; then
    pg_ctlcluster --skip-systemctl-redirect "$NHSI_STARTED_PG" main stop || true
    NHSI_STARTED_PG=""
  fi
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local secs="$1" what="$2"; shift 2
  local i
  for ((i = 0; i < secs * 10; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "$what did not become ready within ${secs}s" >&2
  return 1
}

# --- PostgreSQL: these machines run it at 127.0.0.1:5432 (trust, database test); start or
# install it when they do not.
start_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "PostgreSQL already running on 127.0.0.1:5432"
  else
    if ! command -v pg_ctlcluster >/dev/null 2>&1; then
      echo "PostgreSQL is not installed: installing Debian's postgresql"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    local ver
    ver="$(ls /etc/postgresql | sort -V | tail -1)"
    local hba="/etc/postgresql/$ver/main/pg_hba.conf"
    if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
      sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    fi
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start
    NHSI_STARTED_PG="$ver"
    wait_for 30 "PostgreSQL" pg_isready -q -h 127.0.0.1 -p 5432
    psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
      || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test"
  fi
  export NHSI_TEST_POSTGRES_URL="${NHSI_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
}

# --- Python venv (git-ignored) with NHS's mesh-sandbox and mesh-client, and fhir.resources.
start_python() {
  local venv="$PWD/.venv"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  if ! cmp -s .ci/requirements.txt "$venv/.nhsi-requirements" 2>/dev/null; then
    "$venv/bin/pip" install -q --disable-pip-version-check -r .ci/requirements.txt
    cp .ci/requirements.txt "$venv/.nhsi-requirements"
  fi
  export NHSI_TEST_PYTHON="$venv/bin/python"
}

# --- Two mesh-sandbox instances: plain HTTP, and TLS that checks client certificates (a
# throwaway CA made here).
start_mesh_sandbox() {
  local venv="$PWD/.venv" tls="$NHSI_CI_DIR/mesh-tls"
  local plain_port="${NHSI_MESH_PORT:-8700}" tls_port="${NHSI_MESH_TLS_PORT:-8701}"
  mkdir -p "$tls"
  if [ ! -f "$tls/client-key.pem" ]; then
    (
      cd "$tls"
      openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=nhsi throwaway test CA" \
        -keyout ca-key.pem -out ca.pem 2>/dev/null
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > server.ext
      openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server-key.pem -out server.csr 2>/dev/null
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 30 \
        -extfile server.ext -out server.pem 2>/dev/null
      openssl req -newkey rsa:2048 -nodes -subj "/CN=SERVER001.X26.api.mesh-client.nhs.uk" \
        -keyout client-key.pem -out client.csr 2>/dev/null
      openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 30 \
        -out client.pem 2>/dev/null
    )
  fi
  STORE_MODE=memory AUTH_MODE=full SHARED_KEY=TestKey "$venv/bin/uvicorn" mesh_sandbox.api:app \
    --host 127.0.0.1 --port "$plain_port" --workers 1 --log-level warning \
    >"$NHSI_CI_DIR/mesh-sandbox.log" 2>&1 &
  NHSI_STARTED_PIDS+=("$!")
  STORE_MODE=memory AUTH_MODE=full SHARED_KEY=TestKey "$venv/bin/uvicorn" mesh_sandbox.api:app \
    --host 127.0.0.1 --port "$tls_port" --workers 1 --log-level warning \
    --ssl-certfile "$tls/server.pem" --ssl-keyfile "$tls/server-key.pem" \
    --ssl-ca-certs "$tls/ca.pem" --ssl-cert-reqs 2 \
    >"$NHSI_CI_DIR/mesh-sandbox-tls.log" 2>&1 &
  NHSI_STARTED_PIDS+=("$!")
  wait_for 30 "mesh-sandbox (http)" curl -fsS "http://127.0.0.1:$plain_port/health"
  wait_for 30 "mesh-sandbox (tls)" curl -fsS --cacert "$tls/ca.pem" --cert "$tls/client.pem" \
    --key "$tls/client-key.pem" "https://localhost:$tls_port/health"
  # mesh-sandbox builds its store lazily behind an lru_cache on a thread pool: requests that
  # reach a fresh sandbox together can each build their own, and messages go missing. One
  # request alone first (see nhs_test_support::warm_up_mesh_sandbox).
  curl -fsS "http://127.0.0.1:$plain_port/admin/mailbox/X26ABC1" >/dev/null
  curl -fsS --cacert "$tls/ca.pem" --cert "$tls/client.pem" --key "$tls/client-key.pem" \
    "https://localhost:$tls_port/admin/mailbox/X26ABC1" >/dev/null
  export NHSI_TEST_MESH_URL="http://127.0.0.1:$plain_port"
  export NHSI_TEST_MESH_TLS_URL="https://localhost:$tls_port"
  export NHSI_TEST_MESH_TLS_DIR="$tls"
}

start_services() {
  start_postgres
  start_python
  start_mesh_sandbox
  echo "services: NHSI_TEST_POSTGRES_URL=$NHSI_TEST_POSTGRES_URL NHSI_TEST_MESH_URL=$NHSI_TEST_MESH_URL NHSI_TEST_MESH_TLS_URL=$NHSI_TEST_MESH_TLS_URL NHSI_TEST_PYTHON=$NHSI_TEST_PYTHON"
}
