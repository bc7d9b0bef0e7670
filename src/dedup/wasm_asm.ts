// A small WebAssembly assembler: opcodes, LEB128, function bodies and module linking for the dedup kernels.

export const Op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  return: 0x0f,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  f32Load: 0x2a,
  i32Store: 0x36,
  f32Store: 0x38,
  i32Const: 0x41,
  f32Const: 0x43,
  i32Eqz: 0x45,
  i32LtU: 0x49,
  i32LtS: 0x48,
  i32GeU: 0x4f,
  f32Ge: 0x60,
  i32Ctz: 0x68,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32Shl: 0x74,
  i32ShrU: 0x76,
  f32Add: 0x92,
  select: 0x1b,
} as const;

export const Simd = {
  load: 0x00,
  store: 0x0b,
  shuffle: 0x0d,
  i32x4Splat: 0x11,
  f32x4Splat: 0x13,
  f32x4ExtractLane: 0x1f,
  f32x4Nearest: 0x6a,
  i16x8NarrowI32x4S: 0x85,
  i32x4GeS: 0x3f,
  f32x4Ge: 0x46,
  anyTrue: 0x53,
  i32x4Bitmask: 0xa4,
  i32x4Add: 0xae,
  i32x4DotI16x8S: 0xba,
  f32x4Abs: 0xe0,
  f32x4Add: 0xe4,
  f32x4Mul: 0xe6,
  f32x4Max: 0xe9,
  i32x4TruncSatF32x4S: 0xf8,
  f32x4ConvertI32x4S: 0xfa,
} as const;

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export const VOID = 0x40;

export function uleb(n: number): number[] {
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
export class Fn {
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

  /** `count` locals of one type, declared in order (so the module's bytes are as if declared one by one). */
  localsOf(type: number, count: number): number[] {
    return Array.from({ length: count }, () => this.local(type));
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
export function assemble(fns: { name: string; fn: Fn }[]): Uint8Array {
  const types = fns.flatMap(({ fn }) => [
    0x60,
    ...uleb(fn.params.length),
    ...fn.params,
    ...uleb(fn.results.length),
    ...fn.results,
  ]);
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [...uleb(fns.length), ...types]),
    ...section(2, [...uleb(1), ...name('env'), ...name('mem'), 0x02, 0x03, ...uleb(1), ...uleb(65536)]),
    ...section(3, [...uleb(fns.length), ...fns.flatMap((_, i) => uleb(i))]),
    ...section(7, [...uleb(fns.length), ...fns.flatMap(({ name: n }, i) => [...name(n), 0x00, ...uleb(i)])]),
    ...section(10, [...uleb(fns.length), ...fns.flatMap(({ fn }) => fn.encode())]),
  ];
  return Uint8Array.from(bytes);
}

/** Sums four f32x4 accumulators horizontally: leaves (Σa0, Σa1, Σa2, Σa3) on the stack as (l0+l2)+(l1+l3). */
export function reduce4(f: Fn, a: number[], add: number = Simd.f32x4Add): void {
  const p = [f.local(V128), f.local(V128)];
  for (let h = 0; h < 2; h++) {
    const [x, y] = [a[2 * h], a[2 * h + 1]];
    f.get(x).get(y).shuffle32(0, 1, 4, 5);
    f.get(x).get(y).shuffle32(2, 3, 6, 7);
    f.simd(add).set(p[h]);
  }
  f.get(p[0]).get(p[1]).shuffle32(0, 2, 4, 6);
  f.get(p[0]).get(p[1]).shuffle32(1, 3, 5, 7);
  f.simd(add);
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
