import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { pino } from 'pino';
import { type Db, openPostgres } from '../../src/store/db.ts';
import { LocalSignalBus, PostgresSignalBus, type Signal, WAKE_ALL } from '../../src/store/signals.ts';
import { until } from '../helpers/poll.ts';
import { STORE_KINDS, tempPostgresDatabase } from '../helpers/store.ts';

const silent = pino({ level: 'silent' });

/** A bus with the signals its listeners heard. */
function recording<T extends LocalSignalBus>(bus: T): T & { heard: Signal[] } {
  const heard: Signal[] = [];
  bus.subscribe((signal) => heard.push(signal));
  return Object.assign(bus, { heard });
}

describe('the local signal bus', () => {
  it('hands a signal to every listener at once', () => {
    const bus = recording(new LocalSignalBus());
    const also: Signal[] = [];
    bus.subscribe((signal) => also.push(signal));
    bus.publish({ kind: 'task_cancelled', taskId: 't1' });
    assert.deepEqual(bus.heard, [{ kind: 'task_cancelled', taskId: 't1' }]);
    assert.deepEqual(also, bus.heard);
  });
});

describe('the PostgreSQL signal bus', { skip: STORE_KINDS.includes('postgres') ? false : 'no PostgreSQL (bin/test starts one)' }, () => {
  let database: { url: string; drop(): Promise<void> };
  let db: Db;
  const buses: PostgresSignalBus[] = [];
  const open = async () => {
    const bus = recording(new PostgresSignalBus(database.url, db, silent));
    buses.push(bus);
    await bus.ready();
    return bus;
  };
  const sql = async (text: string, values: unknown[] = []) => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query(text, values)).rows;
    } finally {
      await client.end();
    }
  };
  before(async () => {
    database = await tempPostgresDatabase();
    db = openPostgres(database.url);
  });
  after(async () => {
    for (const bus of buses) await bus.close();
    await db.destroy();
    await database.drop();
  });

  it('reaches the other processes through NOTIFY, and its own listeners once, at once', async () => {
    const [a, b] = [await open(), await open()];
    a.publish({ kind: 'poll_channel', channel: 'fal-eu' });
    assert.deepEqual(a.heard, [{ kind: 'poll_channel', channel: 'fal-eu' }], 'delivered here before any round trip');
    await until(() => b.heard.length === 1, 'the other bus heard it');
    assert.deepEqual(b.heard, [{ kind: 'poll_channel', channel: 'fal-eu' }]);
    await sleep(200);
    assert.equal(a.heard.length, 1, 'its own NOTIFY is not delivered twice');
  });

  it('sends a burst from one tick in one go, each distinct signal once', async () => {
    const [a, b] = [await open(), await open()];
    for (let i = 0; i < 100; i++) a.publish({ kind: 'job_due' });
    a.publish({ kind: 'task_cancelled', taskId: 'x' });
    a.publish({ kind: 'task_cancelled', taskId: 'y' });
    assert.equal(a.heard.length, 102, 'every publish reaches this process');
    await until(() => b.heard.length >= 3, 'the other bus heard the burst');
    await sleep(200);
    assert.deepEqual(b.heard, [{ kind: 'job_due' }, { kind: 'task_cancelled', taskId: 'x' }, { kind: 'task_cancelled', taskId: 'y' }]);
  });

  it('ignores payloads that are not signals', async () => {
    const b = await open();
    await sql(`select pg_notify('vidgate_signals', $1)`, ['not json']);
    await sql(`select pg_notify('vidgate_signals', $1)`, [JSON.stringify({ kind: 'drop_tables' })]);
    await sql(`select pg_notify('vidgate_signals', $1)`, [JSON.stringify({ kind: 'job_due', origin: 'elsewhere' })]);
    await until(() => b.heard.length === 1, 'the valid signal arrived');
    assert.deepEqual(b.heard, [{ kind: 'job_due' }]);
  });

  it('listens again after its connection is killed, and wakes every loop once for what it may have missed', async () => {
    const [a, b] = [await open(), await open()];
    const killed = await sql(`select pg_terminate_backend(pid) as done from pg_stat_activity where datname = current_database() and query = 'listen vidgate_signals'`);
    assert.ok(killed.length >= 2, 'the listening connections were found');
    await until(() => b.heard.length === WAKE_ALL.length, 'the bus woke every loop after reconnecting');
    assert.deepEqual(b.heard, WAKE_ALL);
    a.publish({ kind: 'capacity_freed' });
    await until(() => b.heard.length === WAKE_ALL.length + 1, 'signals flow again');
    assert.deepEqual(b.heard.at(-1), { kind: 'capacity_freed' });
  });
});
