// Files the imitation holds for both providers' batch APIs: uploaded inputs and the result files batches write.
import { iso, type Provider } from './protocol.js';

export interface StoredFile {
  id: string;
  provider: Provider;
  filename: string;
  purpose: string;
  mimeType: string;
  bytes: Buffer;
  createdMs: number;
}

export class FileStore {
  private readonly files = new Map<string, StoredFile>();

  constructor(private readonly newId: (prefix: string) => string) {}

  store(provider: Provider, filename: string, purpose: string, mimeType: string, bytes: Buffer): StoredFile {
    const id = provider === 'openai' ? this.newId('file-') : this.newId('');
    const file = { id, provider, filename, purpose, mimeType, bytes, createdMs: Date.now() };
    this.files.set(`${provider}:${id}`, file);
    return file;
  }

  get(provider: Provider, id: string): StoredFile | undefined {
    return this.files.get(`${provider}:${id}`);
  }
}

export const openaiFileObject = (f: StoredFile) => ({
  id: f.id,
  object: 'file',
  bytes: f.bytes.length,
  created_at: Math.floor(f.createdMs / 1000),
  filename: f.filename,
  purpose: f.purpose,
  status: 'processed',
  expires_at: null,
  status_details: null,
});

export const geminiFileObject = (f: StoredFile, origin: string) => ({
  name: `files/${f.id}`,
  displayName: f.filename,
  mimeType: f.mimeType,
  sizeBytes: String(f.bytes.length),
  createTime: iso(f.createdMs),
  updateTime: iso(f.createdMs),
  expirationTime: iso(f.createdMs + 48 * 3600_000),
  uri: `${origin}/v1beta/files/${f.id}`,
  state: 'ACTIVE',
  source: 'UPLOADED',
});

export const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length > 0 ? '\n' : '');
