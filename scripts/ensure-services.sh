#!/usr/bin/env bash
# Makes sure PostgreSQL and RabbitMQ answer on localhost, starting them with the machine's own commands
# when they are installed but stopped. Fails with a one-line reason otherwise.
set -u

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
rabbit_up() { timeout 10 bash -c '</dev/tcp/127.0.0.1/5672' 2>/dev/null; }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >/dev/null 2>&1
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  fi
  pg_up || { echo "PostgreSQL does not answer on 127.0.0.1:5432 and could not be started"; exit 1; }
fi

if ! rabbit_up; then
  if command -v rabbitmq-server >/dev/null; then
    rabbitmq-server -detached >/dev/null 2>&1
    for _ in $(seq 1 60); do rabbit_up && break; sleep 1; done
  fi
  rabbit_up || { echo "RabbitMQ does not answer on 127.0.0.1:5672 and could not be started"; exit 1; }
fi
# The AMQP port can open before the broker accepts work; wait for the node to say it is ready.
if command -v rabbitmq-diagnostics >/dev/null; then
  for _ in $(seq 1 60); do rabbitmq-diagnostics -q check_running >/dev/null 2>&1 && break; sleep 1; done
fi
exit 0
