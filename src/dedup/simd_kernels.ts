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

import { buildMaxAbs, buildQuantise16 } from './row_kernels.js';
import {
  assemble,
  F32,
  Fn,
  I32,
  Op,
  reduce4,
  Simd,
  V128,
  VOID,
  wasm,
  type WasmMemory,
  type WasmModule,
} from './wasm_asm.js';

export type { WasmMemory, WasmModule } from './wasm_asm.js';
export { wasm } from './wasm_asm.js';

/**
 * gemmNT(a, rows, b, cols, len, out): out[r][c] = Σ_l a[r][l]·b[c][l] in f32, 4 columns at a time.
 * Each output lane sums len/4 products sequentially, then two levels of pairwise adds (error bound: γ_{len/4+3}).
 * len must be a multiple of 4, cols a multiple of 4; out is row-major rows×cols.
 */
function buildGemmNT(): Fn {
  const f = new Fn([I32, I32, I32, I32, I32, I32], []);
  const [a, rows, b, cols, len, out] = [0, 1, 2, 3, 4, 5];
  const [r, c, l, rowPtr] = f.localsOf(I32, 4);
  const colPtr = f.localsOf(I32, 4);
  const rowBytes = f.local(I32);
  const x = f.local(V128);
  const acc = f.localsOf(V128, 4);
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
  const [g, gEnd, qb1, qb2, base, mask, j, count, n2, n3, pa, pb, l] = f.localsOf(I32, 13);
  const [acc, tq1, tq2, lim1, lim2] = f.localsOf(V128, 5);
  const dacc = f.localsOf(V128, 4);
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
  f.get(q)
    .i32(2)
    .op(Op.i32ShrU)
    .i32(L.k1 * 8)
    .op(Op.i32Mul)
    .i32(L.s1)
    .op(Op.i32Add);
  f.get(q).i32(3).op(Op.i32And).i32(2).op(Op.i32Shl).op(Op.i32Add).set(qb1);
  f.get(q)
    .i32(2)
    .op(Op.i32ShrU)
    .i32((L.k2 - L.k1) * 8)
    .op(Op.i32Mul)
    .i32(L.s2)
    .op(Op.i32Add);
  f.get(q).i32(3).op(Op.i32And).i32(2).op(Op.i32Shl).op(Op.i32Add).set(qb2);
  for (let c = 0; c < c1; c++)
    f.get(qb1)
      .mem(Op.i32Load, 2, c * 16)
      .simd(Simd.i32x4Splat)
      .set(splats[c]);
  f.get(q).i32(2).op(Op.i32Shl).mem(Op.f32Load, 2, L.t1).simd(Simd.f32x4Splat).set(tq1);
  f.get(q).i32(2).op(Op.i32Shl).mem(Op.f32Load, 2, L.t2).simd(Simd.f32x4Splat).set(tq2);
  f.f32(L.limit1).simd(Simd.f32x4Splat).set(lim1);
  f.f32(L.limit2).simd(Simd.f32x4Splat).set(lim2);

  f.get(g0).set(g);
  f.op(Op.loop, VOID);
  {
    // Stage 1.
    f.get(g)
      .i32(L.k1 * 8)
      .op(Op.i32Mul)
      .i32(L.s1)
      .op(Op.i32Add)
      .set(base);
    for (let c = 0; c < c1; c++) {
      f.get(splats[c])
        .get(base)
        .v128Load(c * 16)
        .simd(Simd.i32x4DotI16x8S);
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
        f.get(g)
          .i32((L.k2 - L.k1) * 8)
          .op(Op.i32Mul)
          .i32(L.s2)
          .op(Op.i32Add)
          .set(base);
        f.get(acc);
        for (let c = 0; c < c2; c++) {
          f.get(qb2)
            .mem(Op.i32Load, 2, c * 16)
            .simd(Simd.i32x4Splat);
          f.get(base)
            .v128Load(c * 16)
            .simd(Simd.i32x4DotI16x8S)
            .simd(Simd.i32x4Add);
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
            f.get(pa)
              .get(l)
              .op(Op.i32Add)
              .v128Load(k * 16);
            f.get(pb)
              .get(l)
              .op(Op.i32Add)
              .v128Load(k * 16);
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

/**
 * bruteTile(a, b, nb, out, limit) → emitted: the f32 dots of the 4 rows at `a` with the nb rows from `b` (nb even),
 * in 4×2 register tiles (8 accumulators, 4 + 1 loaded rows: it fits the 16 vector registers, and each loaded
 * 16-byte slice feeds 2 or 4 multiply-adds). Emits (i, j) u32 pairs, i < 4 and j < nb, whose dot ≥ limit; at most
 * 4·nb pairs. Each lane sums dp/4 products in order, then reduce4's two levels: error bound γ_{dp/4+3}, as gemmNT.
 *
 * bruteTile16 is the same on int16 rows (dp values, 2·dp bytes a row), the dots exact in i32:
 * `i32x4.dot_i16x8_s` does 8 multiply-adds where f32x4 does 4 in two instructions, on half the bytes. The caller's
 * quantisation keeps every row's ‖q‖₂ ≤ 46,339, so no partial sum can leave i32 (Cauchy–Schwarz on any subset of
 * dims); `limit` is in the same integer units.
 */
function buildBruteTile(L: { dp: number }, kind: 'f32' | 'int16'): Fn {
  const f32 = kind === 'f32';
  const f = new Fn([I32, I32, I32, I32, f32 ? F32 : I32], [I32]);
  const [a, b, nb, out, limit] = [0, 1, 2, 3, 4];
  const rowBytes = L.dp * (f32 ? 4 : 2);
  const splat = f32 ? Simd.f32x4Splat : Simd.i32x4Splat;
  const [j, l, pa] = f.localsOf(I32, 3);
  const pb = f.localsOf(I32, 2);
  const [count, mask] = f.localsOf(I32, 2);
  const lim = f.local(V128);
  const av = f.localsOf(V128, 4);
  const bv = f.local(V128);
  const acc = f.localsOf(V128, 8); // acc[i * 2 + jj]
  f.i32(0).set(count);
  f.get(nb).op(Op.i32Eqz).op(Op.if, VOID).i32(0).op(Op.return).op(Op.end);
  f.get(limit).simd(splat).set(lim);
  f.i32(0).set(j);
  f.op(Op.loop, VOID);
  {
    f.get(b).get(j).i32(rowBytes).op(Op.i32Mul).op(Op.i32Add).tee(pb[0]).i32(rowBytes).op(Op.i32Add).set(pb[1]);
    for (const q of acc) (f32 ? f.f32(0) : f.i32(0)).simd(splat).set(q);
    f.i32(0).set(l);
    f.op(Op.loop, VOID);
    {
      f.get(a).get(l).op(Op.i32Add).set(pa);
      for (let i = 0; i < 4; i++)
        f.get(pa)
          .v128Load(i * rowBytes)
          .set(av[i]);
      for (let jj = 0; jj < 2; jj++) {
        f.get(pb[jj]).get(l).op(Op.i32Add).v128Load().set(bv);
        for (let i = 0; i < 4; i++) {
          f.get(acc[i * 2 + jj])
            .get(av[i])
            .get(bv)
            .simd(f32 ? Simd.f32x4Mul : Simd.i32x4DotI16x8S)
            .simd(f32 ? Simd.f32x4Add : Simd.i32x4Add)
            .set(acc[i * 2 + jj]);
        }
      }
      f.get(l).i32(16).op(Op.i32Add).tee(l).i32(rowBytes).op(Op.i32LtU).op(Op.brIf, 0);
    }
    f.op(Op.end);
    for (let jj = 0; jj < 2; jj++) {
      reduce4(f, [acc[jj], acc[2 + jj], acc[4 + jj], acc[6 + jj]], f32 ? Simd.f32x4Add : Simd.i32x4Add);
      f.get(lim)
        .simd(f32 ? Simd.f32x4Ge : Simd.i32x4GeS)
        .simd(Simd.i32x4Bitmask)
        .set(mask);
      f.op(Op.block, VOID).op(Op.loop, VOID);
      {
        f.get(mask).op(Op.i32Eqz).op(Op.brIf, 1);
        f.get(out).get(count).i32(3).op(Op.i32Shl).op(Op.i32Add).get(mask).op(Op.i32Ctz).mem(Op.i32Store, 2, 0);
        f.get(out).get(count).i32(3).op(Op.i32Shl).op(Op.i32Add).get(j).i32(jj).op(Op.i32Add).mem(Op.i32Store, 2, 4);
        f.get(count).i32(1).op(Op.i32Add).set(count);
        f.get(mask).get(mask).i32(1).op(Op.i32Sub).op(Op.i32And).set(mask);
        f.op(Op.br, 0);
      }
      f.op(Op.end).op(Op.end);
    }
    f.get(j).i32(2).op(Op.i32Add).tee(j).get(nb).op(Op.i32LtU).op(Op.brIf, 0);
  }
  f.op(Op.end);
  f.get(count);
  return f;
}

export interface DedupKernels {
  gemmNT(a: number, rows: number, b: number, cols: number, len: number, out: number): void;
  scan(q: number, g0: number, g1: number, out: number, stats: number): number;
  bruteTile(a: number, b: number, nb: number, out: number, limit: number): number;
  bruteTile16(a: number, b: number, nb: number, out: number, limit: number): number;
  maxAbs(p: number, count: number): number;
  quantise16(src: number, dst: number, count: number, scale: number): void;
}

/** Compiles the kernels for one layout; the Module can be posted to workers and instantiated there on the same memory. */
export function compileKernels(layout: KernelLayout): WasmModule {
  const bytes = assemble([
    { name: 'gemmNT', fn: buildGemmNT() },
    { name: 'scan', fn: buildScan(layout) },
    { name: 'bruteTile', fn: buildBruteTile(layout, 'f32') },
    { name: 'bruteTile16', fn: buildBruteTile(layout, 'int16') },
    { name: 'maxAbs', fn: buildMaxAbs() },
    { name: 'quantise16', fn: buildQuantise16() },
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
