// The batch jobs a stage has paid for, saved the moment each is created, so a re-run polls them instead of paying twice.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { z } from '../zod.js';
import { InputError } from '../errors.js';
import { formatZodIssue } from '../format.js';
import { PROVIDER_NAMES } from '../llm/providers.js';

const JobRecord = z.object({
  id: z.string(),
  provider: z.enum(PROVIDER_NAMES),
  model: z.string(),
  /** 1 for the first submission of this run's requests, 2+ for re-submissions; kept from the run that created it. */
  round: z.int().min(1),
  created_at: z.string(),
  input_file: z.string().nullable(),
  /** The resume keys of the job's requests, in submission order. */
  keys: z.array(z.string()),
  /** The provider's last reported state. */
  state: z.string(),
  /** Results have been read and the valid ones saved to the checkpoint. */
  collected: z.boolean(),
});
export type JobRecord = z.infer<typeof JobRecord>;

const BatchStateFile = z.object({ version: z.literal(1), stage: z.string(), jobs: z.array(JobRecord) });

export class BatchState {
  readonly jobs: JobRecord[];

  private constructor(
    readonly file: string,
    private readonly stage: string,
    jobs: JobRecord[],
  ) {
    this.jobs = jobs;
  }

  static load(file: string, stage: string): BatchState {
    if (!existsSync(file)) return new BatchState(file, stage, []);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new InputError(
        `${file}: not valid JSON (${(error as Error).message}); it lists batch jobs already paid for — fix it, or delete it (or use --fresh) to submit anew`,
        { cause: error },
      );
    }
    const parsed = BatchStateFile.safeParse(raw);
    if (!parsed.success)
      throw new InputError(
        `${file}: ${formatZodIssue(parsed.error.issues[0]!)} (expected the batch job list this stage writes)`,
      );
    return new BatchState(file, stage, parsed.data.jobs);
  }

  get open(): JobRecord[] {
    return this.jobs.filter((j) => !j.collected);
  }

  add(job: JobRecord): void {
    this.jobs.push(job);
    this.save();
  }

  /** Written to a temporary file and renamed, synchronously: a kill at any moment leaves the old or the new list. */
  save(): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ version: 1, stage: this.stage, jobs: this.jobs }, null, 2)}\n`);
    renameSync(tmp, this.file);
  }

  remove(): void {
    rmSync(this.file, { force: true });
  }
}
