// Preloaded into the cordon CLI by the benchmark: prints the process's peak RSS (KiB) on exit.
process.on('exit', () => {
  process.stderr.write(`\ncordon-bench-maxrss-kib=${process.resourceUsage().maxRSS}\n`);
});
