// WebAssembly SIMD kernels for the dedup hot loops, assembled in code (no toolchain, no native dependency).

/*
 * Why hand-assembled WASM: the pair scan touches ~5·10⁹ pairs at 100k rows; plain JS manages ~1 multiply-add per
 * cycle, while `i32x4.dot_i16x8_s` does 8 per instruction. Every kernel is specialised for one layout (sizes and
 * addresses baked in as constants) and compiled once per dedup call, which costs a few milliseconds.
 *
 * Memory layout (all offsets 16-byte aligned, see `KernelLayout`):
 *   x      f32 [n][dp]           L2-normalised vectors, zero padded to dp (a multiple of 16)
 *   s1     i16 [groups][k1/2][8] quantised PCA coordinates 0..k1, interleaved by groups of 4 rows:
 *                                one v128 = dims (2c, 2c+1) of rows 4g..4g+3, so a splat query pair gives 4 dots at once
 *   s2     i16 [groups][(k2-k1)/2][8]  dims k1..k2, same interleaving
 *   t1,t2  f32 [groups*4]        residual-norm upper bounds after k1 / k2 dims, divided by the quantisation step
 */

const enum Op {
  block = 0x02,
  loop = 0x03,
  if = 0x04,
  end = 0x0b,
  br = 0x0c,
  brIf = 0x0d,
  return = 0x0f,
  localGet = 0x20,
  localSet = 0x21,
  localTee = 0x22,
  i32Load = 0x28,
  f32Load = 0x2a,
  i32Store = 0x36,
  f32Store = 0x38,
  i32Const = 0x41,
  f32Const = 0x43,
  i32Eqz = 0x45,
  i32LtU = 0x49,
  i32LtS = 0x48,
  i32GeU = 0x4f,
  f32Ge = 0x60,
  i32Ctz = 0x68,
  i32Add = 0x6a,
  i32Sub = 0x6b,
  i32Mul = 0x6c,
  i32And = 0x71,
  i32Shl = 0x74,
  i32ShrU = 0x76,
  f32Add = 0x92,
  select = 0x1b,
}

const enum Simd {
  load = 0x00,
  store = 0x0b,
  shuffle = 0x0d,
  i32x4Splat = 0x11,
  f32x4Splat = 0x13,
  f32x4ExtractLane = 0x1f,
  f32x4Ge = 0x46,
  anyTrue = 0x53,
  i32x4Bitmask = 0xa4,
  i32x4Add = 0xae,
  i32x4DotI16x8S = 0xba,
  f32x4Add = 0xe4,
  f32x4Mul = 0xe6,
  f32x4ConvertI32x4S = 0xfa,
}

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const VOID = 0x40;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function name(s: string): number[] {
  const b = [...Buffer.from(s, 'utf8')];
  return [...uleb(b.length), ...b];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

/** A function body under construction; locals are declared up front by type. */
class Fn {
  readonly code: number[] = [];
  private readonly locals: number[] = [];
  constructor(
    readonly params: number[],
    readonly results: number[],
  ) {}

  local(type: number): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }

  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  get(i: number): this {
    return this.op(Op.localGet, ...uleb(i));
  }
  set(i: number): this {
    return this.op(Op.localSet, ...uleb(i));
  }
  tee(i: number): this {
    return this.op(Op.localTee, ...uleb(i));
  }
  i32(v: number): this {
    return this.op(Op.i32Const, ...sleb(v | 0));
  }
  f32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    return this.op(Op.f32Const, ...b);
  }
  mem(opcode: number, align: number, offset = 0): this {
    return this.op(opcode, ...uleb(align), ...uleb(offset));
  }
  simd(opcode: number, ...imm: number[]): this {
    return this.op(0xfd, ...uleb(opcode), ...imm);
  }
  v128Load(offset = 0): this {
    return this.simd(Simd.load, ...uleb(4), ...uleb(offset));
  }
  v128Store(offset = 0): this {
    return this.simd(Simd.store, ...uleb(4), ...uleb(offset));
  }
  /** Byte shuffle picking four 32-bit lanes from (a, b): lane indices 0–3 are a, 4–7 are b. */
  shuffle32(l0: number, l1: number, l2: number, l3: number): this {
    const bytes: number[] = [];
    for (const l of [l0, l1, l2, l3]) for (let k = 0; k < 4; k++) bytes.push(l * 4 + k);
    return this.simd(Simd.shuffle, ...bytes);
  }

  encode(): number[] {
    const groups: number[] = [];
    let count = 0;
    for (let i = 0; i < this.locals.length; ) {
      let j = i;
      while (j < this.locals.length && this.locals[j] === this.locals[i]) j++;
      groups.push(...uleb(j - i), this.locals[i]);
      count++;
      i = j;
    }
    const body = [...uleb(count), ...groups, ...this.code, Op.end];
    return [...uleb(body.length), ...body];
  }
}

/** Links functions into a module that imports a shared memory as env.mem. */
function assemble(fns: { name: string; fn: Fn }[]): Uint8Array {
  const types = fns.flatMap(({ fn }) => [0x60, ...uleb(fn.params.length), ...fn.params, ...uleb(fn.results.length), ...fn.results]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [...uleb(fns.length), ...types]),
    ...section(2, [...uleb(1), ...name('env'), ...name('mem'), 0x02, 0x03, ...uleb(1), ...uleb(65536)]),
    ...section(3, [...uleb(fns.length), ...fns.flatMap((_, i) => uleb(i))]),
    ...section(7, [...uleb(fns.length), ...fns.flatMap(({ name: n }, i) => [...name(n), 0x00, ...uleb(i)])]),
    ...section(10, [...uleb(fns.length), ...fns.flatMap(({ fn }) => fn.encode())]),
  ];
  return Uint8Array.from(bytes);
}

/** Sums four f32x4 accumulators horizontally: leaves (Σa0, Σa1, Σa2, Σa3) on the stack as (l0+l2)+(l1+l3). */
function reduce4(f: Fn, a: number[]): void {
  const p = [f.local(V128), f.local(V128)];
  for (let h = 0; h < 2; h++) {
    const [x, y] = [a[2 * h], a[2 * h + 1]];
    f.get(x).get(y).shuffle32(0, 1, 4, 5);
    f.get(x).get(y).shuffle32(2, 3, 6, 7);
    f.simd(Simd.f32x4Add).set(p[h]);
  }
  f.get(p[0]).get(p[1]).shuffle32(0, 2, 4, 6);
  f.get(p[0]).get(p[1]).shuffle32(1, 3, 5, 7);
  f.simd(Simd.f32x4Add);
}

/**
 * gemmNT(a, rows, b, cols, len, out): out[r][c] = Σ_l a[r][l]·b[c][l] in f32, 4 columns at a time.
 * Each output lane sums len/4 products sequentially, then two levels of pairwise adds (error bound: γ_{len/4+3}).
 * len must be a multiple of 4, cols a multiple of 4; out is row-major rows×cols.
 */
function buildGemmNT(): Fn {
  const f = new Fn([I32, I32, I32, I32, I32, I32], []);
  const [a, rows, b, cols, len, out] = [0, 1, 2, 3, 4, 5];
  const r = f.local(I32);
  const c = f.local(I32);
  const l = f.local(I32);
  const rowPtr = f.local(I32);
  const colPtr = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const rowBytes = f.local(I32);
  const x = f.local(V128);
  const acc = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  f.get(len).i32(2).op(Op.i32Shl).set(rowBytes);
  f.get(rows).op(Op.i32Eqz).op(Op.if, VOID).op(Op.return).op(Op.end);
  f.get(cols).op(Op.i32Eqz).op(Op.if, VOID).op(Op.return).op(Op.end);
  f.i32(0).set(r);
  f.op(Op.loop, VOID); // rows
  {
    f.i32(0).set(c);
    f.op(Op.loop, VOID); // column blocks of 4
    {
      for (const q of acc) f.f32(0).simd(Simd.f32x4Splat).set(q);
      f.get(a).get(r).get(rowBytes).op(Op.i32Mul).op(Op.i32Add).set(rowPtr);
      for (let k = 0; k < 4; k++) {
        f.get(b).get(c).i32(k).op(Op.i32Add).get(rowBytes).op(Op.i32Mul).op(Op.i32Add).set(colPtr[k]);
      }
      f.i32(0).set(l);
      f.op(Op.loop, VOID);
      {
        f.get(rowPtr).get(l).op(Op.i32Add).v128Load().set(x);
        for (let k = 0; k < 4; k++) {
          f.get(acc[k]).get(x);
          f.get(colPtr[k]).get(l).op(Op.i32Add).v128Load();
          f.simd(Simd.f32x4Mul).simd(Simd.f32x4Add).set(acc[k]);
        }
        f.get(l).i32(16).op(Op.i32Add).tee(l).get(rowBytes).op(Op.i32LtU).op(Op.brIf, 0);
      }
      f.op(Op.end);
      f.get(out).get(r).get(cols).op(Op.i32Mul).get(c).op(Op.i32Add).i32(2).op(Op.i32Shl).op(Op.i32Add);
      reduce4(f, acc);
      f.v128Store();
      f.get(c).i32(4).op(Op.i32Add).tee(c).get(cols).op(Op.i32LtU).op(Op.brIf, 0);
    }
    f.op(Op.end);
    f.get(r).i32(1).op(Op.i32Add).tee(r).get(rows).op(Op.i32LtU).op(Op.brIf, 0);
  }
  f.op(Op.end);
  return f;
}

export interface KernelLayout {
  /** Padded dimension (multiple of 16) and prefix sizes (multiples of 8, k1 ≤ k2). */
  dp: number;
  k1: number;
  k2: number;
  x: number;
  s1: number;
  s2: number;
  t1: number;
  t2: number;
  /** Stage thresholds, already lowered by their error margins: integer-dot domain for 1–2, cosine for 3. */
  limit1: number;
  limit2: number;
  limit3: number;
}

/**
 * scan(q, g0, g1, out, stats) → emitted: for row q against rows j < q in groups [g0, g1), emits every pair whose
 * three-stage test passes, as (q, j) u32 pairs at `out`. Stage 1: quantised dot over dims 0..k1 plus the
 * residual bound; stage 2: continues to k2; stage 3: full f32 dot ≥ limit3. stats[0] += stage-2 groups,
 * stats[1] += stage-3 dots. At most 4·(g1−g0) pairs are emitted per call.
 */
function buildScan(L: KernelLayout): Fn {
  const f = new Fn([I32, I32, I32, I32, I32], [I32]);
  const [q, g0, g1, out, stats] = [0, 1, 2, 3, 4];
  const g = f.local(I32);
  const gEnd = f.local(I32);
  const qb1 = f.local(I32);
  const qb2 = f.local(I32);
  const base = f.local(I32);
  const mask = f.local(I32);
  const j = f.local(I32);
  const count = f.local(I32);
  const n2 = f.local(I32);
  const n3 = f.local(I32);
  const pa = f.local(I32);
  const pb = f.local(I32);
  const l = f.local(I32);
  const acc = f.local(V128);
  const tq1 = f.local(V128);
  const tq2 = f.local(V128);
  const lim1 = f.local(V128);
  const lim2 = f.local(V128);
  const dacc = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const dsum = f.local(V128);
  const c1 = L.k1 / 2;
  const c2 = (L.k2 - L.k1) / 2;
  const splats: number[] = [];
  for (let c = 0; c < c1; c++) splats.push(f.local(V128));
  const rowBytes = L.dp * 4;

  // gEnd = min(g1, ceil(q / 4)): groups holding some j < q.
  f.get(q).i32(3).op(Op.i32Add).i32(2).op(Op.i32ShrU).set(gEnd);
  f.get(g1).get(gEnd).get(g1).get(gEnd).op(Op.i32LtU).op(Op.select).set(gEnd);
  f.i32(0).set(count).i32(0).set(n2).i32(0).set(n3);
  f.get(g0).get(gEnd).op(Op.i32GeU).op(Op.if, VOID).i32(0).op(Op.return).op(Op.end);

  // Query row q sits in group q>>2, lane q&3: its dim pair c is the i32 at s1 + group*(k1*8) + c*16 + lane*4.
  f.get(q).i32(2).op(Op.i32ShrU).i32(L.k1 * 8).op(Op.i32Mul).i32(L.s1).op(Op.i32Add);
  f.get(q).i32(3).op(Op.i32And).i32(2).op(Op.i32Shl).op(Op.i32Add).set(qb1);
  f.get(q).i32(2).op(Op.i32ShrU).i32((L.k2 - L.k1) * 8).op(Op.i32Mul).i32(L.s2).op(Op.i32Add);
  f.get(q).i32(3).op(Op.i32And).i32(2).op(Op.i32Shl).op(Op.i32Add).set(qb2);
  for (let c = 0; c < c1; c++) f.get(qb1).mem(Op.i32Load, 2, c * 16).simd(Simd.i32x4Splat).set(splats[c]);
  f.get(q).i32(2).op(Op.i32Shl).mem(Op.f32Load, 2, L.t1).simd(Simd.f32x4Splat).set(tq1);
  f.get(q).i32(2).op(Op.i32Shl).mem(Op.f32Load, 2, L.t2).simd(Simd.f32x4Splat).set(tq2);
  f.f32(L.limit1).simd(Simd.f32x4Splat).set(lim1);
  f.f32(L.limit2).simd(Simd.f32x4Splat).set(lim2);

  f.get(g0).set(g);
  f.op(Op.loop, VOID);
  {
    // Stage 1.
    f.get(g).i32(L.k1 * 8).op(Op.i32Mul).i32(L.s1).op(Op.i32Add).set(base);
    for (let c = 0; c < c1; c++) {
      f.get(splats[c]).get(base).v128Load(c * 16).simd(Simd.i32x4DotI16x8S);
      if (c > 0) f.simd(Simd.i32x4Add);
    }
    f.tee(acc).simd(Simd.f32x4ConvertI32x4S);
    f.get(tq1).get(g).i32(4).op(Op.i32Shl).v128Load(L.t1).simd(Simd.f32x4Mul).simd(Simd.f32x4Add);
    f.get(lim1).simd(Simd.f32x4Ge);
    f.simd(Simd.anyTrue).op(Op.if, VOID);
    {
      if (c2 > 0) {
        // Stage 2: continue the same integer dot over dims k1..k2, with the tighter residual bound.
        f.get(n2).i32(1).op(Op.i32Add).set(n2);
        f.get(g).i32((L.k2 - L.k1) * 8).op(Op.i32Mul).i32(L.s2).op(Op.i32Add).set(base);
        f.get(acc);
        for (let c = 0; c < c2; c++) {
          f.get(qb2).mem(Op.i32Load, 2, c * 16).simd(Simd.i32x4Splat);
          f.get(base).v128Load(c * 16).simd(Simd.i32x4DotI16x8S).simd(Simd.i32x4Add);
        }
        f.simd(Simd.f32x4ConvertI32x4S);
        f.get(tq2).get(g).i32(4).op(Op.i32Shl).v128Load(L.t2).simd(Simd.f32x4Mul).simd(Simd.f32x4Add);
        f.get(lim2).simd(Simd.f32x4Ge).simd(Simd.i32x4Bitmask).set(mask);
      } else {
        f.get(acc).simd(Simd.f32x4ConvertI32x4S);
        f.get(tq1).get(g).i32(4).op(Op.i32Shl).v128Load(L.t1).simd(Simd.f32x4Mul).simd(Simd.f32x4Add);
        f.get(lim1).simd(Simd.f32x4Ge).simd(Simd.i32x4Bitmask).set(mask);
      }
      f.op(Op.block, VOID).op(Op.loop, VOID);
      {
        f.get(mask).op(Op.i32Eqz).op(Op.brIf, 1);
        f.get(g).i32(2).op(Op.i32Shl).get(mask).op(Op.i32Ctz).op(Op.i32Add).set(j);
        f.get(mask).get(mask).i32(1).op(Op.i32Sub).op(Op.i32And).set(mask);
        f.get(j).get(q).op(Op.i32LtU).op(Op.if, VOID);
        {
          // Stage 3: full f32 dot with 4 accumulators (each lane sums dp/16 products; error bound γ_{dp/16+5}).
          f.get(n3).i32(1).op(Op.i32Add).set(n3);
          f.get(q).i32(rowBytes).op(Op.i32Mul).i32(L.x).op(Op.i32Add).set(pa);
          f.get(j).i32(rowBytes).op(Op.i32Mul).i32(L.x).op(Op.i32Add).set(pb);
          for (const d of dacc) f.f32(0).simd(Simd.f32x4Splat).set(d);
          f.i32(0).set(l);
          f.op(Op.loop, VOID);
          for (let k = 0; k < 4; k++) {
            f.get(dacc[k]);
            f.get(pa).get(l).op(Op.i32Add).v128Load(k * 16);
            f.get(pb).get(l).op(Op.i32Add).v128Load(k * 16);
            f.simd(Simd.f32x4Mul).simd(Simd.f32x4Add).set(dacc[k]);
          }
          f.get(l).i32(64).op(Op.i32Add).tee(l).i32(rowBytes).op(Op.i32LtU).op(Op.brIf, 0);
          f.op(Op.end);
          f.get(dacc[0]).get(dacc[1]).simd(Simd.f32x4Add);
          f.get(dacc[2]).get(dacc[3]).simd(Simd.f32x4Add);
          f.simd(Simd.f32x4Add).set(dsum);
          f.get(dsum).simd(Simd.f32x4ExtractLane, 0).get(dsum).simd(Simd.f32x4ExtractLane, 1).op(Op.f32Add);
          f.get(dsum).simd(Simd.f32x4ExtractLane, 2).get(dsum).simd(Simd.f32x4ExtractLane, 3).op(Op.f32Add);
          f.op(Op.f32Add).f32(L.limit3).op(Op.f32Ge);
          f.op(Op.if, VOID);
          {
            f.get(out).get(count).i32(3).op(Op.i32Shl).op(Op.i32Add).get(q).mem(Op.i32Store, 2, 0);
            f.get(out).get(count).i32(3).op(Op.i32Shl).op(Op.i32Add).get(j).mem(Op.i32Store, 2, 4);
            f.get(count).i32(1).op(Op.i32Add).set(count);
          }
          f.op(Op.end);
        }
        f.op(Op.end);
        f.op(Op.br, 0);
      }
      f.op(Op.end).op(Op.end);
    }
    f.op(Op.end);
    f.get(g).i32(1).op(Op.i32Add).tee(g).get(gEnd).op(Op.i32LtU).op(Op.brIf, 0);
  }
  f.op(Op.end);
  f.get(stats).get(stats).mem(Op.i32Load, 2, 0).get(n2).op(Op.i32Add).mem(Op.i32Store, 2, 0);
  f.get(stats).get(stats).mem(Op.i32Load, 2, 4).get(n3).op(Op.i32Add).mem(Op.i32Store, 2, 4);
  f.get(count);
  return f;
}

// The project compiles without the DOM lib, whose types are the only WebAssembly typings; this is the slice used here.
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
}
export interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: unknown };
}
export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export interface DedupKernels {
  gemmNT(a: number, rows: number, b: number, cols: number, len: number, out: number): void;
  scan(q: number, g0: number, g1: number, out: number, stats: number): number;
}

/** Compiles the kernels for one layout; the Module can be posted to workers and instantiated there on the same memory. */
export function compileKernels(layout: KernelLayout): WasmModule {
  const bytes = assemble([
    { name: 'gemmNT', fn: buildGemmNT() },
    { name: 'scan', fn: buildScan(layout) },
  ]);
  return new wasm.Module(bytes);
}

export function instantiateKernels(module: WasmModule, memory: WasmMemory): DedupKernels {
  const instance = new wasm.Instance(module, { env: { mem: memory } });
  return instance.exports as unknown as DedupKernels;
}

/** Unit roundoff of f32 and the classic γ_m = m·u/(1−m·u) bound for m roundings in a sum of products. */
export function gammaF32(m: number): number {
  const u = 2 ** -24;
  return (m * u) / (1 - m * u);
}
