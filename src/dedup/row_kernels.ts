// Element-wise WebAssembly kernels over stored rows: the largest magnitude, and int16 quantisation for brute force.
import { F32, Fn, I32, Op, Simd, V128, VOID } from './wasm_asm.js';

/** maxAbs(p, count) → the largest |v| of `count` f32 values at p (count a multiple of 4; NaN-free input). */
export function buildMaxAbs(): Fn {
  const f = new Fn([I32, I32], [F32]);
  const [p, count] = [0, 1];
  const [i, end] = f.localsOf(I32, 2);
  const m = f.local(V128);
  f.f32(0).simd(Simd.f32x4Splat).set(m);
  f.get(p).get(count).i32(2).op(Op.i32Shl).op(Op.i32Add).set(end);
  f.get(p).set(i);
  f.get(i).get(end).op(Op.i32LtU).op(Op.if, VOID).op(Op.loop, VOID);
  f.get(m).get(i).v128Load().simd(Simd.f32x4Abs).simd(Simd.f32x4Max).set(m);
  f.get(i).i32(16).op(Op.i32Add).tee(i).get(end).op(Op.i32LtU).op(Op.brIf, 0);
  f.op(Op.end).op(Op.end);
  for (let lane = 1; lane < 4; lane++) {
    f.get(m).get(m).get(m).shuffle32(lane, lane, lane, lane).simd(Simd.f32x4Max).set(m);
  }
  f.get(m).simd(Simd.f32x4ExtractLane, 0);
  return f;
}

/**
 * quantise16(src, dst, count, scale): dst[i] = nearest(src[i]·scale) as int16, for `count` f32 values (a multiple
 * of 8). The product is rounded to f32 first; the caller's scale keeps every |src·scale| below 32,767.
 */
export function buildQuantise16(): Fn {
  const f = new Fn([I32, I32, I32, F32], []);
  const [src, dst, count, scale] = [0, 1, 2, 3];
  const [i, o, end] = f.localsOf(I32, 3);
  const sv = f.local(V128);
  f.get(scale).simd(Simd.f32x4Splat).set(sv);
  f.get(src).get(count).i32(2).op(Op.i32Shl).op(Op.i32Add).set(end);
  f.get(src).set(i);
  f.get(dst).set(o);
  f.get(i).get(end).op(Op.i32LtU).op(Op.if, VOID).op(Op.loop, VOID);
  f.get(o);
  for (let h = 0; h < 2; h++) {
    f.get(i)
      .v128Load(h * 16)
      .get(sv)
      .simd(Simd.f32x4Mul)
      .simd(Simd.f32x4Nearest)
      .simd(Simd.i32x4TruncSatF32x4S);
  }
  f.simd(Simd.i16x8NarrowI32x4S).v128Store();
  f.get(o).i32(16).op(Op.i32Add).set(o);
  f.get(i).i32(32).op(Op.i32Add).tee(i).get(end).op(Op.i32LtU).op(Op.brIf, 0);
  f.op(Op.end).op(Op.end);
  return f;
}
