// The state one imitation's routes share: its options, catalogue, faults, stored files and the ids it hands out.
import { randomBytes } from 'node:crypto';
import { defaultAnswer, hashString, makeRng, type GenerateCall, type Rng } from '../fake_answers.js';
import { catalogue, PrefixCache, type Catalogue } from '../imitation_catalogue.js';
import { Faults } from './faults.js';
import { FileStore } from './files.js';
import type { ImitationOptions } from './types.js';

export class Shared {
  readonly seed: number;
  /** The GET of a batch that reports it done. */
  readonly pollsBeforeDone: number;
  readonly cat: Catalogue;
  readonly prefixes = new PrefixCache();
  readonly faults: Faults;
  readonly files: FileStore;
  /** Shuffles batch output, so callers match rows by key rather than by position. */
  readonly orderRng: Rng;
  /** `http://127.0.0.1:port`, known once the server listens (file URIs and upload URLs name it). */
  origin = '';
  private seq = 0;

  constructor(readonly opts: ImitationOptions) {
    this.seed = opts.seed ?? 1;
    this.pollsBeforeDone = opts.batchPollsBeforeDone ?? 1;
    this.cat = catalogue(opts.catalogue ?? 'today');
    this.faults = new Faults(opts.faults ?? {}, this.seed);
    this.orderRng = makeRng(hashString('order', this.seed));
    this.files = new FileStore((prefix) => this.newId(prefix));
  }

  /** A test's own answer when `respond` gives one (an object goes as JSON text), else the default fake answer. */
  answerText(call: GenerateCall, jsonMode: boolean): string {
    const custom = this.opts.respond?.(call);
    const value = custom !== undefined ? custom : defaultAnswer(call, jsonMode, this.seed);
    return typeof value === 'string' ? value : JSON.stringify(value);
  }

  newId(prefix: string): string {
    return `${prefix}${(++this.seq).toString(36)}${randomBytes(5).toString('hex')}`;
  }
}
