// Preloaded (`node -r`) into the cordon supervisor by the benchmark: prints the process's peak RSS (KiB) on exit.
// CommonJS on purpose: preloading an ES module (`--import`) starts Node's ESM loader, which alone adds ~12 MB of RSS
// that `cordon run` itself never has.
process.on('exit', () => {
  process.stderr.write(`\ncordon-bench-maxrss-kib=${process.resourceUsage().maxRSS}\n`);
});
