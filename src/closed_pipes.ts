// `stage | head -1`: once the reader has gone, writes to stdout/stderr fail with EPIPE. What the stage prints is a
// courtesy; the artifact, checkpoint and manifest are the work — so a closed pipe is ignored and the stage finishes.

let installed = false;

export function ignoreClosedPipes(): void {
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
      throw error;
    });
  }
}
