// Reads a positive integer flag (`--name N`) for the bench scripts; a bad value exits with a one-line error.

export function intFlag(script: string, name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`${script}: expected --${name} to be a positive integer, got ${process.argv[i + 1]}`);
    process.exit(2);
  }
  return value;
}
