// How stage 5 keeps embeddings in its checkpoint: one base64 string of little-endian float32 per request.
import type { ResultCodec } from './checkpoint.js';

/** A checkpoint entry's result: `count` vectors of `dimensions` float32 values, row after row. */
interface StoredVectors {
  encoding: 'float32_base64';
  count: number;
  dimensions: number;
  data: string;
}

/**
 * A dense 1024-dim vector is ~20 kB as JSON numbers and 5.5 kB this way, and base64 costs a copy where
 * JSON.stringify costs a float-to-text conversion per value. Vectors are float32 either way: what OpenAI sends, and
 * what Gemini's decimals round-trip to (stage 5 rounds them, so a resumed run writes what a fresh one would).
 */
export const EMBEDDINGS_CODEC: ResultCodec<number[][]> = {
  encode(vectors) {
    const dimensions = vectors[0]?.length ?? 0;
    const flat = new Float32Array(vectors.length * dimensions);
    vectors.forEach((v, i) => {
      flat.set(v, i * dimensions);
    });
    const stored: StoredVectors = {
      encoding: 'float32_base64',
      count: vectors.length,
      dimensions,
      data: Buffer.from(flat.buffer).toString('base64'),
    };
    return stored;
  },
  decode(stored) {
    // Checkpoints written before this encoding hold the vectors as JSON arrays.
    if (Array.isArray(stored)) return stored as number[][];
    const { count, dimensions, data } = stored as StoredVectors;
    // Copied into a fresh buffer: a pooled Buffer's offset need not be a multiple of 4.
    const flat = new Float32Array(Uint8Array.from(Buffer.from(data, 'base64')).buffer);
    return Array.from({ length: count }, (_, i) => Array.from(flat.subarray(i * dimensions, (i + 1) * dimensions)));
  },
};

/** The float32 values of a vector, as plain numbers. */
export function toFloat32(vector: number[]): number[] {
  return Array.from(Float32Array.from(vector));
}
