import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// The thread's whole program: its own connection, a passive checkpoint on every tick, and a
// last one before it closes. A checkpoint that fails (busy: another is running) is tried again
// on the next tick; the main connection's own automatic checkpoint stays as a backstop.
const PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.sqliteModule);
const db = new SQLite(workerData.file);
db.pragma('busy_timeout = 1000');
const checkpoint = () => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} };
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.once('message', () => { clearInterval(timer); checkpoint(); db.close(); parentPort.close(); });
`;

/**
 * Copies the WAL back into the database file from a thread of its own: a checkpoint (two fsyncs
 * and every page written since the last) then never stalls the event loop, as it does when it
 * runs inside a commit. It keeps the process alive only while it closes.
 */
export class BackgroundCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  constructor(file: string, intervalMs: number) {
    const sqliteModule = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(PROGRAM, { eval: true, workerData: { file, intervalMs, sqliteModule } });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('error', () => {}); // a dead checkpointer leaves the backstop to do the work
    this.worker.unref();
  }

  /** A last checkpoint, then the thread ends. */
  async stop(): Promise<void> {
    this.worker.ref(); // else a process with nothing else to do would exit while waiting for it
    this.worker.postMessage('stop');
    await this.exited;
  }
}
