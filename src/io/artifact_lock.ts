// One run per artifact: `<artifact>.lock` holds the pid of the run writing it, so a second run on the same output
// refuses instead of paying for every item again; a lock left by a process that is gone is taken over.
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from '../zod.js';
import { InputError } from '../errors.js';
import { processAlive } from './process_alive.js';
import { lockPath } from './sidecars.js';

const LockHolder = z.object({ pid: z.number().int().positive(), host: z.string(), started_at: z.string() });
type LockHolder = z.infer<typeof LockHolder>;

export class ArtifactLock {
  private held = false;
  // process.exit (every CLI exit path goes through it) runs 'exit' listeners: the lock goes with the process.
  private readonly onExit = () => this.release();

  private constructor(
    readonly artifact: string,
    readonly file: string,
  ) {}

  /** Takes the lock or throws one line naming the run that holds it. */
  static acquire(artifact: string): ArtifactLock {
    const lock = new ArtifactLock(artifact, lockPath(artifact));
    lock.take();
    process.on('exit', lock.onExit);
    return lock;
  }

  release(): void {
    process.off('exit', this.onExit);
    if (!this.held) return;
    this.held = false;
    // Only our own lock: a run that took over a lock we no longer hold must keep it.
    if (readHolder(this.file)?.pid === process.pid) rmSync(this.file, { force: true });
  }

  private take(): void {
    const me: LockHolder = { pid: process.pid, host: hostname(), started_at: new Date().toISOString() };
    // Written aside and linked into place: link fails if the lock exists, and a reader never sees it half-written.
    const draft = `${this.file}.${process.pid}.draft`;
    writeFileSync(draft, `${JSON.stringify(me)}\n`);
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          linkSync(draft, this.file);
          this.held = true;
          return;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
            throw new InputError(
              `${this.file}: could not take the lock (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
              { cause: error },
            );
        }
        const text = readText(this.file);
        const holder = parseHolder(text);
        if (holder && holder.pid !== process.pid && (holder.host !== me.host || processAlive(holder.pid)))
          throw new InputError(
            `${this.artifact}: another run is writing it (pid ${holder.pid}${holder.host !== me.host ? ` on ${holder.host}` : ''}, started ${holder.started_at}); wait for it to finish or stop it — if no such run exists, remove ${this.file}`,
          );
        // Stale (its process is gone), unreadable, or ours from an earlier stage of this process: take it over,
        // unless another run took it over since we read it.
        if (readText(this.file) === text) rmSync(this.file, { force: true });
      }
      throw new InputError(`${this.file}: could not take the lock (other runs keep taking it over); try again`);
    } finally {
      rmSync(draft, { force: true });
    }
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function parseHolder(text: string | undefined): LockHolder | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = LockHolder.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function readHolder(file: string): LockHolder | undefined {
  return parseHolder(readText(file));
}
